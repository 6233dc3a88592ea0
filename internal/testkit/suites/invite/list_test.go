package invite_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// The product page's member list is one call: flat filters, and pending
// invitations as rows when asked.
func TestListAsTheProductShowsIt(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		for _, n := range []string{"Paul", "Pia"} {
			_, err := f.roster.Add(f.ctx, f.admin, f.org.ID, roster.NewMember{FirstName: n, LastName: "Dupont", Groups: []string{"Paris"}, Password: "member-password"})
			require.NoError(t, err)
		}
		_, err := f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "jean.dupont@example.com"})
		require.NoError(t, err)
		_, err = f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "other@example.com"})
		require.NoError(t, err)

		names := func(q roster.ListQuery) []string {
			t.Helper()
			page, err := f.roster.List(f.ctx, f.admin, f.org.ID, q)
			require.NoError(t, err)
			var out []string
			for _, r := range page.Rows() {
				if r.InvitationID != "" {
					out = append(out, "invitation "+r.Email)
				} else {
					out = append(out, r.Name)
				}
			}
			return out
		}
		assert.Equal(t, []string{"invitation jean.dupont@example.com", "invitation other@example.com", "Alice Admin", "Paul Dupont", "Pia Dupont"},
			names(roster.ListQuery{IncludePending: true}), "invitations first, then members by login")
		assert.Equal(t, []string{"invitation jean.dupont@example.com", "Paul Dupont", "Pia Dupont"},
			names(roster.ListQuery{Text: "dupont", IncludePending: true}), "the text filter applies to invitations too")
		assert.Equal(t, []string{"Paul Dupont", "Pia Dupont"}, names(roster.ListQuery{Group: "paris", IncludePending: true}), "invitations have no group")
		assert.Equal(t, []string{"Alice Admin", "Paul Dupont", "Pia Dupont"}, names(roster.ListQuery{}), "no invitations unless asked")
		assert.Equal(t, []string{"invitation jean.dupont@example.com", "invitation other@example.com"}, names(roster.ListQuery{Status: membership.StatusPending}))
		_, err = f.roster.DeactivateWhere(f.ctx, f.admin, f.org.ID, store.MemberFilter{Group: "Paris"})
		require.NoError(t, err)
		assert.Equal(t, []string{"Paul Dupont", "Pia Dupont"}, names(roster.ListQuery{Status: membership.StatusDeactivated, IncludePending: true}),
			"a status other than pending lists members of that status only")
	})
}
