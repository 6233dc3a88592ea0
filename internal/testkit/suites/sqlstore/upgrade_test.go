package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// A database filled by version 4 of the schema — members linked to host
// accounts, two of one org sharing an account as version 4 allowed, and
// audit events — is migrated to version 5: the oldest member of each
// shared account keeps the link, every row still reads, and the new
// uniqueness holds from then on.
func TestMigration5FromVersion4(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres, sqlstore.MySQL} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := testdb.Empty(t, d)
			st, err := sqlstore.New(db, d, nil)
			require.NoError(t, err)
			require.NoError(t, st.MigrateTo(ctx, 4))
			exec := func(q string, args ...any) {
				t.Helper()
				if d == sqlstore.Postgres {
					for i := 1; strings.Contains(q, "?"); i++ {
						q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
					}
				}
				_, err := db.ExecContext(ctx, q, args...)
				require.NoError(t, err)
			}
			for _, org := range []string{"o1", "o2"} {
				exec(`INSERT INTO memberkit_orgs (id, name, plan_name, member_limit, features, roster_version, active_members, active_admins, created_at, updated_at) VALUES (?, ?, 'premium', 0, '', 1, 2, 1, 1, 1)`, org, "Org "+org)
			}
			member := func(org, id, user, login, status string) {
				exec(`INSERT INTO memberkit_members (org_id, id, user_id, login, login_key, email, email_key, first_name, last_name, role_id, status, groups_text, search_text, last_login_at, password_hash, must_change_password, created_at, updated_at, version, security_stamp) `+
					`VALUES (?, ?, ?, ?, ?, '', NULL, 'Jean', 'Dupont', 'admin', ?, '', 'jean dupont', NULL, '', ?, 1, 1, 1, 'stamp')`, org, id, user, login, login, status, false)
			}
			member("o1", "m-a", "u1", "jean.a", "active") // the oldest of two active ones: keeps the link
			member("o1", "m-b", "u1", "jean.b", "active")
			member("o1", "m-c", "", "jean.c", "active")
			member("o2", "m-d", "u1", "jean.d", "active")
			member("o1", "m-e", "u2", "jean.e", "removed") // older, but removed
			member("o1", "m-f", "u2", "jean.f", "deactivated")
			member("o1", "m-g", "Zoé Martin", "jean.g", "active") // legacy IDs of any shape
			member("o1", "m-h", "u3 ", "jean.h", "active")        // but not with a space at an end
			member("o2", "m-i", "u3", "jean.i", "active")
			exec(`INSERT INTO memberkit_events (org_id, id, at, type, actor, subject_id, role_before, role_after, status_before, status_after, detail) VALUES ('o1', 'e1', 1, 'member.added', 'system:test', 'm-a', '', 'admin', '', 'active', '')`)

			if d == sqlstore.MySQL {
				// MySQL commits DDL at once: a run cut short after its first
				// statement is finished by the next one.
				exec(`ALTER TABLE memberkit_members ADD COLUMN user_key VARCHAR(128) NULL`)
			}
			require.NoError(t, st.Migrate(ctx))
			applied, err := st.MigrationsApplied(ctx)
			require.NoError(t, err)
			assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7}, applied)

			require.NoError(t, st.View(ctx, "o1", func(tx store.Tx) error {
				m, err := tx.MemberByUserID(ctx, "u1")
				require.NoError(t, err)
				assert.Equal(t, "m-a", m.ID, "the oldest member of the account keeps the link")
				b, err := tx.Member(ctx, "m-b")
				require.NoError(t, err)
				assert.Empty(t, b.UserID, "the later one is unlinked")
				assert.Nil(t, b.Attributes)
				m, err = tx.MemberByUserID(ctx, "u2")
				require.NoError(t, err)
				assert.Equal(t, "m-f", m.ID, "a member who may come back to work wins over a removed one")
				m, err = tx.MemberByUserID(ctx, "Zoé Martin")
				require.NoError(t, err)
				assert.Equal(t, "m-g", m.ID)
				h, err := tx.Member(ctx, "m-h")
				require.NoError(t, err)
				assert.Empty(t, h.UserID, "an ID with a space at an end is not linked")
				evs, err := store.Collect(tx.Events(ctx, store.EventQuery{}))
				require.NoError(t, err)
				require.Len(t, evs, 1)
				assert.Nil(t, evs[0].Attributes)
				assert.Equal(t, int64(1), evs[0].Seq, "version 6 numbers the events already stored")
				ds, err := tx.Domains(ctx)
				require.NoError(t, err)
				assert.Empty(t, ds)
				return nil
			}))
			org, err := st.Org(ctx, "o1")
			require.NoError(t, err)
			assert.False(t, org.InviteVerifiedDomainsOnly)
			assert.Equal(t, 2, org.ActiveMembers)

			ms, err := st.Memberships(ctx, "u1")
			require.NoError(t, err)
			var got []string
			for _, m := range ms {
				got = append(got, m.Org.ID+"/"+m.Member.ID)
			}
			assert.Equal(t, []string{"o1/m-a", "o2/m-d"}, got)
			ms, err = st.Memberships(ctx, "u3")
			require.NoError(t, err)
			require.Len(t, ms, 1)
			assert.Equal(t, "m-i", ms[0].Member.ID)

			// From now on an account has one member per org.
			err = st.Update(ctx, "o1", func(tx store.Tx) error {
				c, err := tx.Member(ctx, "m-c")
				if err != nil {
					return err
				}
				c.UserID = "u1"
				return tx.UpdateMembers(ctx, []membership.Member{c})
			})
			var dup *membership.DuplicateError
			require.True(t, errors.As(err, &dup), "%v", err)
			assert.Equal(t, "user_id", dup.Key)
		})
	}
}

// A store used before Migrate says so, on each database.
func TestUnmigratedStoreSaysSo(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres, sqlstore.MySQL} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			st, err := sqlstore.New(testdb.Empty(t, d), d, nil)
			require.NoError(t, err)
			err = st.CreateOrg(ctx, membership.Org{ID: "o1", Name: "Acme"})
			assert.ErrorIs(t, err, sqlstore.ErrNotMigrated)
			_, err = st.Org(ctx, "o1")
			assert.ErrorIs(t, err, sqlstore.ErrNotMigrated)
			err = st.Update(ctx, "o1", func(store.Tx) error { return nil })
			assert.ErrorIs(t, err, sqlstore.ErrNotMigrated)
			err = st.View(ctx, "o1", func(store.Tx) error { return nil })
			assert.ErrorIs(t, err, sqlstore.ErrNotMigrated)
			_, err = st.Memberships(ctx, "u1")
			assert.ErrorIs(t, err, sqlstore.ErrNotMigrated)
			assert.Contains(t, err.Error(), "Migrate")
		})
	}
}

// Version 6 numbers the events a version 5 database holds, per org in ID
// order, and the org's next event continues from there: a relay started
// after the upgrade delivers the history, then what follows, in order.
func TestMigration6NumbersEvents(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres, sqlstore.MySQL} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := testdb.Empty(t, d)
			st, err := sqlstore.New(db, d, nil)
			require.NoError(t, err)
			require.NoError(t, st.MigrateTo(ctx, 5))
			require.NoError(t, st.CreateOrg(ctx, membership.Org{ID: "o1", Name: "Acme"}))
			require.NoError(t, st.CreateOrg(ctx, membership.Org{ID: "o2", Name: "Globex"}))
			require.NoError(t, st.CreateOrg(ctx, membership.Org{ID: "o3", Name: "Initech"}))
			ev := func(org, id string) {
				q := `INSERT INTO memberkit_events (org_id, id, at, type, actor, subject_id, role_before, role_after, status_before, status_after, detail) VALUES (?, ?, 1, 'member.added', 'system', 's', '', '', '', '', '')`
				if d == sqlstore.Postgres {
					q = strings.NewReplacer("(?, ?,", "($1, $2,").Replace(q)
				}
				_, err := db.ExecContext(ctx, q, org, id)
				require.NoError(t, err)
			}
			ev("o1", "e3")
			ev("o1", "e1")
			ev("o2", "e2")
			ev("o1", "e2")
			require.NoError(t, st.Migrate(ctx))
			seqs := func(org string) map[string]int64 {
				evs, err := st.EventsAfter(ctx, org, 0, 100)
				require.NoError(t, err)
				out := map[string]int64{}
				for _, e := range evs {
					out[e.ID] = e.Seq
				}
				return out
			}
			assert.Equal(t, map[string]int64{"e1": 1, "e2": 2, "e3": 3}, seqs("o1"))
			assert.Equal(t, map[string]int64{"e2": 1}, seqs("o2"))
			assert.Empty(t, seqs("o3"))
			require.NoError(t, st.Update(ctx, "o1", func(tx store.Tx) error {
				return tx.AppendEvents(ctx, []membership.Event{{ID: "e0", Type: membership.EventMemberUpdated}})
			}))
			assert.Equal(t, int64(4), seqs("o1")["e0"], "the next event follows the history")
			ps, err := st.FeedOrgs(ctx, "hooks", time.Now(), 10)
			require.NoError(t, err)
			assert.ElementsMatch(t, []store.FeedPosition{{OrgID: "o1", Last: 4}, {OrgID: "o2", Last: 1}}, ps)
		})
	}
}
