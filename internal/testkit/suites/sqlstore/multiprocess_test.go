package sqlstore_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store/sqlstore"
)

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
			assert.Equal(t, []int{1, 2, 3, 4, 5, 6}, v, "every embedded migration, once")
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
