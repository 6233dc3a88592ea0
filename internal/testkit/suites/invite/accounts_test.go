package invite_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/domains"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// An existing host account accepts without a password: it joins with the
// invited role, its removed membership comes back, and an account that is
// a member already (active or deactivated) is refused.
func TestAcceptAsUser(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		sys := membership.SystemActor("test")
		role, err := f.roster.CreateRole(f.ctx, f.admin, f.org.ID, "Commercial")
		require.NoError(t, err)

		inv, err := f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "ada@example.com", RoleID: role.ID})
		require.NoError(t, err)
		m, err := f.inv.AcceptAsUser(f.ctx, f.sender.TokenFor("ada@example.com"), "u-ada", invite.Details{FirstName: "Ada", LastName: "Lovelace"})
		require.NoError(t, err)
		assert.Equal(t, "u-ada", m.UserID)
		assert.Equal(t, role.ID, m.RoleID, "the invited role")
		assert.Empty(t, m.PasswordHash)
		assert.Equal(t, inv.Email, m.Email)
		ms, err := f.roster.Memberships(f.ctx, "u-ada")
		require.NoError(t, err)
		require.Len(t, ms, 1)
		assert.Equal(t, f.org.ID, ms[0].Org.ID)

		// Already a member: by account, whatever the address invited.
		_, err = f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "ada.other@example.com"})
		require.NoError(t, err)
		tok := f.sender.TokenFor("ada.other@example.com")
		_, err = f.inv.AcceptAsUser(f.ctx, tok, "u-ada", invite.Details{FirstName: "Ada", LastName: "Lovelace"})
		assert.ErrorIs(t, err, membership.ErrAlreadyMember)
		_, err = f.roster.Deactivate(f.ctx, f.admin, f.org.ID, m.ID)
		require.NoError(t, err)
		_, err = f.inv.AcceptAsUser(f.ctx, tok, "u-ada", invite.Details{FirstName: "Ada", LastName: "Lovelace"})
		assert.ErrorIs(t, err, membership.ErrAlreadyMember, "a deactivated member does not let themselves back in")

		// Removed: the same record comes back, with the new address.
		_, err = f.roster.Remove(f.ctx, f.admin, f.org.ID, m.ID)
		require.NoError(t, err)
		back, err := f.inv.AcceptAsUser(f.ctx, tok, "u-ada", invite.Details{FirstName: "Ada", LastName: "Lovelace"})
		require.NoError(t, err)
		assert.Equal(t, m.ID, back.ID)
		assert.Equal(t, "ada.other@example.com", back.Email)
		assert.Equal(t, membership.RoleUser, back.RoleID)
		evs, err := f.roster.Events(f.ctx, sys, f.org.ID, store.EventQuery{SubjectID: m.ID, Types: []membership.EventType{membership.EventMemberRestored}})
		require.NoError(t, err)
		require.Len(t, evs, 1)
		assert.Equal(t, "user:u-ada", evs[0].Actor)

		_, err = f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "bob@example.com"})
		require.NoError(t, err)
		_, err = f.inv.AcceptAsUser(f.ctx, f.sender.TokenFor("bob@example.com"), "u-bob", invite.Details{FirstName: "Bob", LastName: "M", Password: "bob-password"})
		assert.ErrorIs(t, err, membership.ErrInvalid, "an account that signs in through the host gets no password")
		_, err = f.inv.AcceptAsUser(f.ctx, f.sender.TokenFor("bob@example.com"), "", invite.Details{FirstName: "Bob", LastName: "M"})
		assert.ErrorIs(t, err, membership.ErrInvalid)
	})
}

// An account's member sends an invitation; the invitation rests on that
// member's power, as any other.
func TestSendAsUserRecordsTheMember(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		a, err := f.roster.Add(f.ctx, membership.SystemActor("test"), f.org.ID, roster.NewMember{FirstName: "Ina", LastName: "Viter", RoleID: membership.RoleAdmin, UserID: "u-ina", Password: "ina-password"})
		require.NoError(t, err)
		inv, err := f.inv.Send(f.ctx, membership.ActorUser("u-ina"), f.org.ID, invite.To{Email: "new@example.com"})
		require.NoError(t, err)
		assert.Equal(t, "member:"+a.Member.ID, inv.InvitedBy, "the sender is recorded as the member it resolved to")
		_, err = f.roster.Deactivate(f.ctx, f.admin, f.org.ID, a.Member.ID)
		require.NoError(t, err)
		_, err = f.inv.Accept(f.ctx, f.sender.TokenFor("new@example.com"), details("New", "Comer"))
		assert.ErrorIs(t, err, membership.ErrInvitationInvalid, "the sender lost its power: the invitation cannot be accepted")
	})
}

// An org may invite only at its verified domains.
func TestInvitationsRestrictedToVerifiedDomains(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		sys := membership.SystemActor("test")
		ds, err := domains.New(f.st, &domains.Options{Clock: f.clock})
		require.NoError(t, err)
		_, err = ds.Claim(f.ctx, f.admin, f.org.ID, "conance.fr")
		require.NoError(t, err)
		_, err = ds.Claim(f.ctx, f.admin, f.org.ID, "unproven.fr")
		require.NoError(t, err)
		_, err = ds.MarkVerified(f.ctx, sys, f.org.ID, "conance.fr")
		require.NoError(t, err)
		require.NoError(t, ds.RestrictInvitations(f.ctx, f.admin, f.org.ID, true))

		_, err = f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "jean@conance.fr"})
		require.NoError(t, err)
		_, err = f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "jean@gmail.com"})
		assert.ErrorIs(t, err, membership.ErrDomainRestricted)
		_, err = f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "jean@unproven.fr"})
		assert.ErrorIs(t, err, membership.ErrDomainRestricted, "a claim that is not verified does not count")
		_, err = f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "jean@sub.conance.fr"})
		assert.ErrorIs(t, err, membership.ErrDomainRestricted, "the exact domain only")

		require.NoError(t, ds.RestrictInvitations(f.ctx, f.admin, f.org.ID, false))
		_, err = f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "jean@gmail.com"})
		require.NoError(t, err)
	})
}

// An invitation accepted with a password over a removed member who was
// linked to an account does not give that account access again; an
// invitation sent before the org restricted its domains is refused.
func TestAcceptDoesNotRevive(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		old, err := f.roster.Add(f.ctx, membership.SystemActor("test"), f.org.ID, roster.NewMember{FirstName: "Jean", LastName: "Old", Email: "jean@corp.fr", UserID: "u-old", Password: "old-password"})
		require.NoError(t, err)
		_, err = f.roster.Remove(f.ctx, f.admin, f.org.ID, old.Member.ID)
		require.NoError(t, err)
		_, tok := f.send("jean@corp.fr")
		m, err := f.inv.Accept(f.ctx, tok, details("Jean", "New"))
		require.NoError(t, err)
		assert.Equal(t, old.Member.ID, m.ID, "the record comes back")
		assert.Empty(t, m.UserID, "without the old account's link")
		ok, err := f.roster.Can(f.ctx, f.org.ID, membership.ActorUser("u-old"), membership.PermMembersRead)
		require.NoError(t, err)
		assert.False(t, ok)

		_, tok = f.send("paul@gmail.com")
		ds, err := domains.New(f.st, nil)
		require.NoError(t, err)
		require.NoError(t, ds.RestrictInvitations(f.ctx, f.admin, f.org.ID, true))
		_, err = f.inv.Accept(f.ctx, tok, details("Paul", "Gmail"))
		assert.ErrorIs(t, err, membership.ErrDomainRestricted)
	})
}
