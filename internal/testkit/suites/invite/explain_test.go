package invite_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// The errors Accept really returns read as the invitee should read them:
// an expired link as expired, a sender who lost their power as any
// invalid link (never "your role does not allow"), a failed delivery as
// a failed delivery whatever the sender said.
func TestAcceptErrorsExplain(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		_, tok := f.send("late@example.com")
		f.clock.Set(t0.Add(8 * 24 * time.Hour))
		_, err := f.inv.Accept(f.ctx, tok, details("Late", "Comer"))
		p := membership.Explain(err, membership.French)
		assert.Equal(t, "invitation_expired", p.Code)
		assert.Equal(t, 410, p.Status)
		f.clock.Set(t0)

		sender, err := f.roster.Add(f.ctx, membership.SystemActor("t"), f.org.ID, roster.NewMember{FirstName: "Sam", LastName: "Sender", RoleID: membership.RoleAdmin, Password: "sam-password"})
		require.NoError(t, err)
		_, err = f.inv.Send(f.ctx, membership.ActorMember(sender.Member.ID), f.org.ID, invite.To{Email: "orphan@example.com"})
		require.NoError(t, err)
		_, err = f.roster.Deactivate(f.ctx, f.admin, f.org.ID, sender.Member.ID)
		require.NoError(t, err)
		_, err = f.inv.Accept(f.ctx, f.sender.TokenFor("orphan@example.com"), details("Or", "Phan"))
		p = membership.Explain(err, membership.French)
		assert.Equal(t, "invitation_invalid", p.Code)
		assert.Equal(t, 404, p.Status)
		assert.Equal(t, "ce lien d'invitation n'est pas valable", p.Message)

		f.sender.Fail = membership.Invalid("email", "required") // a host sender failing with a memberkit error
		_, err = f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "x@example.com"})
		p = membership.Explain(err, membership.English)
		assert.Equal(t, "send_failed", p.Code, "the outermost meaning wins")
		assert.Equal(t, 502, p.Status)
	})
}
