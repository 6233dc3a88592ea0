package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/internal/testdb"
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

func fastHasher() membership.Hasher {
	return membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1})
}

// Two pools race on one org: the seat limit and the last-admin rule hold.
func TestTwoProcessesKeepInvariants(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			a, b := twoPools(t, kind)
			ra := roster.New(a, &roster.Options{Hasher: fastHasher()})
			rb := roster.New(b, &roster.Options{Hasher: fastHasher()})
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
				var c membership.Counts
				require.NoError(t, a.View(ctx, org.ID, func(tx store.Tx) error {
					c, err = tx.Counts(ctx, membership.SystemClock{}.Now())
					return err
				}))
				require.Equal(t, 1, c.ActiveAdmins, "round %d: %v", round, errs)
				for _, id := range []string{admin1.Member.ID, admin2.Member.ID} {
					_, err := ra.ChangeRole(ctx, sys, org.ID, id, membership.RoleAdmin)
					require.NoError(t, err)
				}
			}
		})
	}
}

// Several processes migrate at once: one applies, the others find
// nothing to do, and everyone ends with the same schema.
func TestConcurrentMigrate(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			var stores []*sqlstore.Store
			switch kind {
			case "postgres":
				db, dsn := testdb.PostgresDB(t)
				s0, _ := sqlstore.New(db, sqlstore.Postgres, nil)
				stores = append(stores, s0)
				for range 3 {
					stores = append(stores, testdb.Open(t, sqlstore.Postgres, dsn))
				}
			case "mysql":
				db, dsn := testdb.MySQLDB(t)
				s0, _ := sqlstore.New(db, sqlstore.MySQL, nil)
				stores = append(stores, s0)
				for range 3 {
					stores = append(stores, testdb.Open(t, sqlstore.MySQL, dsn))
				}
			default:
				dsn := testdb.SQLiteDSN(filepath.Join(t.TempDir(), "m.db"))
				for range 4 {
					stores = append(stores, testdb.Open(t, sqlstore.SQLite, dsn))
				}
			}
			var wg sync.WaitGroup
			errs := make([]error, len(stores))
			for i, s := range stores {
				wg.Add(1)
				go func() { defer wg.Done(); errs[i] = s.Migrate(ctx) }()
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			v, err := stores[0].MigrationsApplied(ctx)
			require.NoError(t, err)
			assert.Equal(t, []int{1, 2, 3, 4}, v, "every embedded migration, once")
			require.NoError(t, stores[1].Migrate(ctx), "migrating again is a no-op")
			require.NoError(t, stores[2].CreateOrg(ctx, membership.Org{ID: "o1", Name: "Works"}))
		})
	}
}

func TestMigrationsReadableAsFiles(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres, sqlstore.MySQL} {
		fsys, err := sqlstore.Migrations(d)
		require.NoError(t, err)
		b, err := fsys.Open("0001_init.sql")
		require.NoError(t, err)
		b.Close()
	}
	_, err := sqlstore.Migrations("oracle")
	assert.Error(t, err)
	_, err = sqlstore.New(nil, sqlstore.SQLite, nil)
	assert.Error(t, err)
}
