package roster_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// Two admins demote each other at the same time, a thousand times: the
// org never ends up without an admin.
func TestConcurrentMutualDemotion(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		b := f.add("Bob", "Boss", withRole(membership.RoleAdmin))
		a := f.admin
		rounds := 1000
		if testing.Short() {
			rounds = 100
		}
		for i := range rounds {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for j, pair := range [][2]string{{a.ID, b.ID}, {b.ID, a.ID}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[j] = f.svc.ChangeRole(f.ctx, membership.SystemActor("race"), f.org.ID, pair[1], membership.RoleUser)
				}()
			}
			wg.Wait()
			failed := 0
			for _, err := range errs {
				if err != nil {
					require.ErrorIs(t, err, membership.ErrLastAdmin)
					failed++
				}
			}
			require.Equal(t, 1, failed, "round %d: exactly one demotion wins", i)
			require.Equal(t, 1, f.counts().ActiveAdmins, "round %d", i)
			// Restore both admins for the next round.
			for _, id := range []string{a.ID, b.ID} {
				_, err := f.svc.ChangeRole(f.ctx, membership.SystemActor("race"), f.org.ID, id, membership.RoleAdmin)
				require.NoError(t, err)
			}
		}
	})
}

// Fifty goroutines add members to a 3-seat org: exactly 3 members.
func TestConcurrentAddsRespectSeats(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.FreePlan()) // the admin takes one seat
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, limited := 0, 0
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.Add(f.ctx, f.actor, f.org.ID, roster.NewMember{FirstName: "Racer", LastName: string(rune('A' + i%26)), Password: "racer-password", Login: ""})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, membership.ErrMemberLimit):
					limited++
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, 2, ok)
		assert.Equal(t, 48, limited)
		assert.Len(t, f.snapshot(), 3, "exactly 3 members")
		assert.Equal(t, 3, f.counts().ActiveMembers)
	})
}

// Bulk deactivations race with single deactivations of admins.
func TestConcurrentBulkAndSingleKeepAnAdmin(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		var admins []string
		admins = append(admins, f.admin.ID)
		for _, n := range []string{"B", "C", "D"} {
			admins = append(admins, f.add("Admin", n, withRole(membership.RoleAdmin)).ID)
		}
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sys := membership.SystemActor("race")
				if i%2 == 0 {
					_, errs[i] = f.svc.DeactivateMany(f.ctx, sys, f.org.ID, admins[i%4:])
				} else {
					_, errs[i] = f.svc.Deactivate(f.ctx, sys, f.org.ID, admins[i%4])
				}
			}()
		}
		wg.Wait()
		refused := 0
		for i, err := range errs {
			if err != nil {
				require.ErrorIs(t, err, membership.ErrLastAdmin, "call %d may only be refused for the last admin", i)
				refused++
			}
		}
		assert.GreaterOrEqual(t, refused, 1, "deactivating every admin at once is always refused")
		// A recount of the members, not the counters under test.
		active := 0
		for _, m := range f.snapshot() {
			if m.IsActiveAdmin() {
				active++
			}
		}
		assert.GreaterOrEqual(t, active, 1, "an active admin is left")
		assert.Equal(t, active, f.counts().ActiveAdmins, "the org's counter equals the recount")
	})
}
