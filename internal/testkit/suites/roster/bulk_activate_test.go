package roster_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// Activation in bulk, by IDs or by filter: all or nothing, within seats,
// with a reason per refused member, like deactivation.
func TestActivateManyAndWhere(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(5)) // the admin holds one seat
		var paris []membership.Member
		for _, n := range []string{"Paul", "Pia", "Pierre"} {
			paris = append(paris, f.add(n, "Paris", withGroups("Paris")))
		}
		lyon := f.add("Léa", "Lyon", withGroups("Lyon"))
		res, err := f.svc.DeactivateWhere(f.ctx, f.actor, f.org.ID, store.MemberFilter{Group: "Paris",
			Statuses: []membership.Status{membership.StatusDeactivated}})
		require.NoError(t, err)
		assert.Empty(t, res.Changed, "a filter for the deactivated matches nobody to deactivate")
		res, err = f.svc.DeactivateWhere(f.ctx, f.actor, f.org.ID, store.MemberFilter{Group: "Paris"})
		require.NoError(t, err)
		require.Len(t, res.Changed, 3)
		_, err = f.svc.Deactivate(f.ctx, f.actor, f.org.ID, lyon.ID)
		require.NoError(t, err)
		// With two newcomers, 3 of the 5 seats are taken: the three of
		// Paris do not fit.
		f.add("Nina", "New")
		f.add("Noé", "New")

		before := f.snapshot()
		_, err = f.svc.ActivateWhere(f.ctx, f.actor, f.org.ID, store.MemberFilter{Group: "Paris"})
		var be *roster.BulkError
		require.True(t, errors.As(err, &be), "%v", err)
		assert.Len(t, be.Refused, 3, "each member that would take a seat is named")
		assert.ErrorIs(t, err, membership.ErrMemberLimit)
		assert.Equal(t, before, f.snapshot(), "nothing changed")

		// By IDs: an unknown ID and a removed member refuse the whole batch.
		removed := f.add("Rémi", "Removed")
		_, err = f.svc.Remove(f.ctx, f.actor, f.org.ID, removed.ID)
		require.NoError(t, err)
		_, err = f.svc.ActivateMany(f.ctx, f.actor, f.org.ID, []string{paris[0].ID, "no-such-member", removed.ID})
		require.True(t, errors.As(err, &be))
		assert.Len(t, be.Refused, 2)
		assert.ErrorIs(t, err, membership.ErrNotFound)

		// Within seats it goes through; active members are unchanged.
		res, err = f.svc.ActivateMany(f.ctx, f.actor, f.org.ID, []string{paris[0].ID, paris[1].ID, f.admin.ID})
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{paris[0].ID, paris[1].ID}, res.Changed)
		assert.Equal(t, []string{f.admin.ID}, res.Unchanged, "the actor, already active, is unchanged, not refused")
		assert.Equal(t, membership.StatusActive, f.get(paris[1].ID).Status)
		assert.Equal(t, 5, f.counts().ActiveMembers)
		evs, err := f.svc.Events(f.ctx, f.actor, f.org.ID, store.EventQuery{SubjectID: paris[0].ID, Types: []membership.EventType{membership.EventMemberActivated}})
		require.NoError(t, err)
		assert.Len(t, evs, 1)

		// A manager cannot bring back a member above it: skipped by a
		// filter, refused by ID.
		require.NoError(t, f.svc.SetPlan(f.ctx, f.actor, f.org.ID, membership.PremiumPlan(0)))
		mgrRole, err := f.svc.CreateRole(f.ctx, f.actor, f.org.ID, "Managers")
		require.NoError(t, err)
		_, err = f.svc.UpdateRole(f.ctx, f.actor, f.org.ID, mgrRole.ID, "Managers", []membership.Permission{membership.PermMembersRead, membership.PermMembersManage})
		require.NoError(t, err)
		mgr := f.add("Max", "Manager", withRole(mgrRole.ID))
		boss := f.add("Bea", "Boss", withRole(membership.RoleAdmin), withGroups("Paris"))
		_, err = f.svc.Deactivate(f.ctx, f.actor, f.org.ID, boss.ID)
		require.NoError(t, err)
		asMgr := membership.ActorMember(mgr.ID)
		res, err = f.svc.ActivateWhere(f.ctx, asMgr, f.org.ID, store.MemberFilter{Group: "Paris"})
		require.NoError(t, err)
		assert.Equal(t, []string{paris[2].ID}, res.Changed)
		require.Len(t, res.Skipped, 1)
		assert.Equal(t, boss.ID, res.Skipped[0].MemberID)
		assert.ErrorIs(t, res.Skipped[0].Err, membership.ErrForbidden)
		_, err = f.svc.ActivateMany(f.ctx, asMgr, f.org.ID, []string{boss.ID})
		assert.ErrorIs(t, err, membership.ErrForbidden)
		assert.Equal(t, membership.StatusDeactivated, f.get(boss.ID).Status)
	})
}
