package proof

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/memberkit/memberkit/internal/testkit"

	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// The services keep the org's counters of active members and admins in
// step with every kind of write — one and many, by every service, a
// refused one and a rolled-back one included — on every store: after each
// step they equal a recount.
func TestCountersFollowEveryWrite(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		ctx := context.Background()
		st := newStore(t)
		r := testkit.Roster(t, st, &roster.Options{Hasher: fastHasher(), Notifier: roster.NotifierFunc(func(context.Context, membership.Member, string) error { return nil })})
		sender := &invite.RecordingSender{}
		inv, err := invite.New(st, sender, &invite.Options{Hasher: fastHasher()})
		require.NoError(t, err)
		files := testkit.CSV(t, st, &csvsync.Options{Hasher: fastHasher()})
		org := seedOrg(t, ctx, st, 0)
		id := func(login string) string { return idOfPlain(t, ctx, st, org.ID, login) }
		check := func(step string) {
			t.Helper()
			snap, err := Take(ctx, st, org.ID)
			require.NoError(t, err)
			require.NoError(t, snap.Check(), step)
		}
		check("seeded")
		steps := []struct {
			name string
			do   func() error
		}{
			{"add", func() error {
				_, err := r.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "New", LastName: "Admin", RoleID: membership.RoleAdmin, Password: "proof-password"})
				return err
			}},
			{"demote", func() error {
				_, err := r.ChangeRole(ctx, sys, org.ID, id("new.admin"), membership.RoleUser)
				return err
			}},
			{"promote", func() error {
				_, err := r.ChangeRole(ctx, sys, org.ID, id("new.admin"), membership.RoleAdmin)
				return err
			}},
			{"deactivate", func() error { _, err := r.Deactivate(ctx, sys, org.ID, id("new.admin")); return err }},
			{"activate", func() error { _, err := r.Activate(ctx, sys, org.ID, id("new.admin")); return err }},
			{"remove", func() error { _, err := r.Remove(ctx, sys, org.ID, id("new.admin")); return err }},
			{"restore", func() error {
				_, err := r.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "New", LastName: "Admin", RoleID: membership.RoleAdmin, Password: "proof-password"})
				return err
			}},
			{"bulk", func() error {
				_, err := r.DeactivateMany(ctx, sys, org.ID, []string{id("cleo.user"), id("new.admin")})
				return err
			}},
			{"group", func() error {
				_, err := r.DeactivateWhere(ctx, sys, org.ID, store.MemberFilter{Group: "Paris"})
				return err
			}},
			{"refused: last admins", func() error {
				_, err := r.DeactivateMany(ctx, sys, org.ID, []string{id("ada.admin"), id("ben.boss")})
				if errors.Is(err, membership.ErrLastAdmin) {
					return nil
				}
				return err
			}},
			{"invite and accept", func() error {
				if _, err := inv.Send(ctx, sys, org.ID, invite.To{Email: "newcomer@proof.example", RoleID: membership.RoleAdmin}); err != nil {
					return err
				}
				_, err := inv.Accept(ctx, sender.TokenFor("newcomer@proof.example"), invite.Details{FirstName: "New", LastName: "Comer", Password: "proof-password"})
				return err
			}},
			{"import", func() error { return importWithout(t, ctx, files, org.ID, "eve.user") }},
			{"login and password", func() error {
				if _, err := r.Authenticate(ctx, org.ID, "ada.admin", "proof-password"); err != nil {
					return err
				}
				return r.ResetPassword(ctx, sys, org.ID, id("ben.boss"))
			}},
			{"rolled back", func() error {
				boom := errors.New("boom")
				err := st.Update(ctx, org.ID, func(tx store.Tx) error {
					o, err := tx.Org(ctx)
					if err != nil {
						return err
					}
					o.ActiveMembers += 10
					if err := tx.PutOrg(ctx, o); err != nil {
						return err
					}
					return boom
				})
				if !strings.Contains(err.Error(), "boom") {
					return err
				}
				return nil
			}},
		}
		for _, s := range steps {
			require.NoError(t, s.do(), s.name)
			check(s.name)
		}
	})
}
