package proof

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/memberkit/memberkit/internal/testkit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// twoPools returns two stores on one database through separate *sql.DB
// pools: two "processes".
func twoPools(t *testing.T, kind string) (store.Store, store.Store) {
	switch kind {
	case "postgres":
		db, dsn := testdb.PostgresDB(t)
		a, err := sqlstore.New(db, sqlstore.Postgres, nil)
		require.NoError(t, err)
		require.NoError(t, a.Migrate(context.Background()))
		return a, testdb.Open(t, sqlstore.Postgres, dsn)
	case "mysql":
		db, dsn := testdb.MySQLDB(t)
		a, err := sqlstore.New(db, sqlstore.MySQL, nil)
		require.NoError(t, err)
		require.NoError(t, a.Migrate(context.Background()))
		return a, testdb.Open(t, sqlstore.MySQL, dsn)
	default:
		dsn := testdb.SQLiteDSN(filepath.Join(t.TempDir(), "shared.db"))
		a := testdb.Open(t, sqlstore.SQLite, dsn)
		require.NoError(t, a.Migrate(context.Background()))
		return a, testdb.Open(t, sqlstore.SQLite, dsn)
	}
}

// Two pools race on one org: the seat limit and the last-admin rule hold.
func TestTwoProcessesKeepInvariants(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			a, b := twoPools(t, kind)
			ra := testkit.Roster(t, a, &roster.Options{Hasher: fastHasher()})
			rb := testkit.Roster(t, b, &roster.Options{Hasher: fastHasher()})
			org, err := ra.CreateOrg(ctx, roster.NewOrg{Name: "Shared", Plan: membership.PremiumPlan(10)})
			require.NoError(t, err)
			sys := membership.SystemActor("race")
			admin1, err := ra.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Admin", LastName: "One", RoleID: membership.RoleAdmin, Password: "password-1"})
			require.NoError(t, err)
			admin2, err := rb.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Admin", LastName: "Two", RoleID: membership.RoleAdmin, Password: "password-2"})
			require.NoError(t, err)

			// Seats: 40 adds through both pools into 8 free seats.
			var wg sync.WaitGroup
			var mu sync.Mutex
			added := 0
			for i := range 40 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					svc := ra
					if i%2 == 1 {
						svc = rb
					}
					_, err := svc.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "P", LastName: fmt.Sprintf("N%02d", i), Password: "password-x"})
					if err == nil {
						mu.Lock()
						added++
						mu.Unlock()
					} else if !errors.Is(err, membership.ErrMemberLimit) {
						t.Errorf("add: %v", err)
					}
				}()
			}
			wg.Wait()
			assert.Equal(t, 8, added)
			used, _, err := ra.Seats(ctx, sys, org.ID)
			require.NoError(t, err)
			assert.Equal(t, 10, used)

			// Last admin: each pool demotes the other admin, many times.
			for round := range 50 {
				var errs [2]error
				wg.Add(2)
				go func() {
					defer wg.Done()
					_, errs[0] = ra.ChangeRole(ctx, sys, org.ID, admin1.Member.ID, membership.RoleUser)
				}()
				go func() {
					defer wg.Done()
					_, errs[1] = rb.ChangeRole(ctx, sys, org.ID, admin2.Member.ID, membership.RoleUser)
				}()
				wg.Wait()
				snap, err := Take(ctx, a, org.ID)
				require.NoError(t, err)
				require.NoError(t, snap.Check(), "round %d: %v", round, errs)
				require.Equal(t, 1, snap.Org.ActiveAdmins, "round %d: %v", round, errs)
				for _, id := range []string{admin1.Member.ID, admin2.Member.ID} {
					_, err := ra.ChangeRole(ctx, sys, org.ID, id, membership.RoleAdmin)
					require.NoError(t, err)
				}
			}
		})
	}
}

// A database that had members before migration 0003 gets its counts of
// active members and admins filled in by the migration's backfill.
func TestMigrationBackfillsCounts(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres, sqlstore.MySQL} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := testdb.Empty(t, d)
			st, err := sqlstore.New(db, d, nil)
			require.NoError(t, err)
			require.NoError(t, st.Migrate(ctx))
			svc := testkit.Roster(t, st, nil)
			org, err := svc.CreateOrg(ctx, roster.NewOrg{Name: "Acme", Plan: membership.PremiumPlan(0)})
			require.NoError(t, err)
			sys := membership.SystemActor("test")
			for i, role := range []string{membership.RoleAdmin, membership.RoleAdmin, membership.RoleUser, membership.RoleUser, membership.RoleUser} {
				r, err := svc.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Jean", LastName: "Dupont", RoleID: role})
				require.NoError(t, err)
				if i == 1 || i == 4 {
					_, err = svc.Deactivate(ctx, sys, org.ID, r.Member.ID)
					require.NoError(t, err)
				}
			}
			want := counts(t, st, org.ID)
			require.Equal(t, membership.Counts{ActiveMembers: 3, ActiveAdmins: 1}, want)

			// As the columns were right after ALTER TABLE: zero.
			_, err = db.ExecContext(ctx, "UPDATE memberkit_orgs SET active_members = 0, active_admins = 0")
			require.NoError(t, err)
			migrations, err := sqlstore.Migrations(d)
			require.NoError(t, err)
			src, err := fs.ReadFile(migrations, "0003_org_member_counts.sql")
			require.NoError(t, err)
			backfill := src[strings.Index(string(src), "UPDATE"):]
			_, err = db.ExecContext(ctx, strings.TrimSuffix(strings.TrimSpace(string(backfill)), ";"))
			require.NoError(t, err)
			assert.Equal(t, want, counts(t, st, org.ID))
		})
	}
}

func counts(t *testing.T, st store.Store, orgID string) membership.Counts {
	t.Helper()
	org, err := st.Org(context.Background(), orgID)
	require.NoError(t, err)
	return membership.Counts{ActiveMembers: org.ActiveMembers, ActiveAdmins: org.ActiveAdmins}
}
