package sqlstore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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
			assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7}, v, "every embedded migration, once")
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

// The migration lock is a row with a lease, not a session lock: a
// process that died holding it holds it no longer once its lease ends,
// and the lock leaves nothing held on any connection (a pooler in
// transaction mode may hand each statement to another one).
func TestMigrationLockIsALeasedRow(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.Postgres, sqlstore.MySQL} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			var db *sql.DB
			if d == sqlstore.Postgres {
				db, _ = testdb.PostgresDB(t)
			} else {
				db, _ = testdb.MySQLDB(t)
			}
			st, err := sqlstore.New(db, d, nil)
			require.NoError(t, err)
			require.NoError(t, st.MigrateTo(ctx, 5))
			q := `UPDATE memberkit_migration_lock SET owner = 'dead-process', locked_until = ? WHERE id = 1`
			if d == sqlstore.Postgres {
				q = strings.Replace(q, "?", "$1", 1)
			}
			_, err = db.ExecContext(ctx, q, time.Now().Add(1500*time.Millisecond).UnixMicro())
			require.NoError(t, err)
			require.NoError(t, st.Migrate(ctx), "waits out the dead holder's lease")
			var owner string
			require.NoError(t, db.QueryRowContext(ctx, `SELECT owner FROM memberkit_migration_lock WHERE id = 1`).Scan(&owner))
			assert.Empty(t, owner, "released")
			if d == sqlstore.Postgres {
				var n int
				require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory'`).Scan(&n))
				assert.Zero(t, n, "no advisory lock is used")
			}
		})
	}
}
