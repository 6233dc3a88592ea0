package sqlstore_test

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/internal/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// A database that had members before migration 0003 gets its counts of
// active members and admins filled in by the migration's backfill.
func TestMigrationBackfillsCounts(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres, sqlstore.MySQL} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			var db *sql.DB
			switch d {
			case sqlstore.Postgres:
				db, _ = testdb.PostgresDB(t)
			case sqlstore.MySQL:
				db, _ = testdb.MySQLDB(t)
			default:
				var err error
				db, err = sql.Open("sqlite", testdb.SQLiteDSN(filepath.Join(t.TempDir(), "b.db")))
				require.NoError(t, err)
				t.Cleanup(func() { db.Close() })
			}
			st, err := sqlstore.New(db, d, nil)
			require.NoError(t, err)
			require.NoError(t, st.Migrate(ctx))
			svc := roster.New(st, nil)
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
	var c membership.Counts
	require.NoError(t, st.View(context.Background(), orgID, func(tx store.Tx) error {
		var err error
		c, err = tx.Counts(context.Background(), membership.SystemClock{}.Now())
		return err
	}))
	return c
}
