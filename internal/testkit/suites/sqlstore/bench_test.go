package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/memberkit/memberkit/internal/testkit/gen"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// benchRows is the roster size of the SQL benchmarks; MEMBERKIT_BENCH_ROWS
// overrides it.
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("MEMBERKIT_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

type benchDB struct {
	name string
	open func(b *testing.B) (*sqlstore.Store, *sql.DB)
}

func benchDBs() []benchDB {
	return []benchDB{
		{"sqlite", func(b *testing.B) (*sqlstore.Store, *sql.DB) { s := testdb.SQLite(b); return s, s.DB() }},
		{"postgres", func(b *testing.B) (*sqlstore.Store, *sql.DB) { s := testdb.Postgres(b); return s, s.DB() }},
		{"mysql", func(b *testing.B) (*sqlstore.Store, *sql.DB) { s := testdb.MySQL(b); return s, s.DB() }},
	}
}

func benchMembers(orgID string, n int) []membership.Member {
	now := time.Now().UTC()
	ms := make([]membership.Member, n)
	for i := range ms {
		ms[i] = gen.Member(orgID, i, now, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U")
	}
	return ms
}

// rawInsert is the lower bound: the bare driver, one prepared single-row
// INSERT per member (and per group label) in one transaction.
func rawInsert(ctx context.Context, db *sql.DB, d sqlstore.Dialect, ms []membership.Member) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ph := func(n int) string {
		var p []string
		for i := 1; i <= n; i++ {
			if d == sqlstore.Postgres {
				p = append(p, "$"+strconv.Itoa(i))
			} else {
				p = append(p, "?")
			}
		}
		return strings.Join(p, ", ")
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO memberkit_members (org_id, id, user_id, login, login_key, email, email_key, first_name, last_name, role_id, status, groups_text, search_text, last_login_at, password_hash, must_change_password, created_at, updated_at, version) VALUES (`+ph(19)+`)`)
	if err != nil {
		return err
	}
	gst, err := tx.PrepareContext(ctx, `INSERT INTO memberkit_member_groups (org_id, group_key, login_key, member_id) VALUES (`+ph(4)+`)`)
	if err != nil {
		return err
	}
	for i := range ms {
		m := &ms[i]
		if _, err := st.ExecContext(ctx, m.OrgID, m.ID, m.UserID, m.Login, strings.ToLower(m.Login), m.Email, strings.ToLower(m.Email),
			m.FirstName, m.LastName, m.RoleID, string(m.Status), strings.Join(m.Groups, "\n"), membership.SearchText(*m),
			nil, string(m.PasswordHash), false, m.CreatedAt.UnixMicro(), m.UpdatedAt.UnixMicro(), 1); err != nil {
			return err
		}
		for _, g := range m.Groups {
			if _, err := gst.ExecContext(ctx, m.OrgID, strings.ToLower(g), strings.ToLower(m.Login), m.ID); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// BenchmarkBulkInsert writes a roster in one transaction, through the
// store's batch write and through the bare driver.
//
//	MEMBERKIT_POSTGRES_DSN=… MEMBERKIT_MYSQL_DSN=… go test ./store/sqlstore -run '^$' -bench 'BulkInsert|Stream' -benchtime 3x
func BenchmarkBulkInsert(b *testing.B) {
	n := benchRows()
	for _, kind := range benchDBs() {
		for _, how := range []string{"memberkit", "raw"} {
			b.Run(kind.name+"/"+how, func(b *testing.B) {
				ctx := context.Background()
				for b.Loop() {
					b.StopTimer()
					s, db := kind.open(b)
					org := membership.Org{ID: membership.NewID(), Name: "Bench", Plan: membership.PremiumPlan(0)}
					if err := s.CreateOrg(ctx, org); err != nil {
						b.Fatal(err)
					}
					ms := benchMembers(org.ID, n)
					b.StartTimer()
					var err error
					if how == "raw" {
						err = rawInsert(ctx, db, s.Dialect(), ms)
					} else {
						err = s.Update(ctx, org.ID, func(tx store.Tx) error {
							for start := 0; start < len(ms); start += 5000 {
								if err := tx.InsertMembers(ctx, ms[start:min(start+5000, len(ms))]); err != nil {
									return err
								}
							}
							return nil
						})
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}

// BenchmarkStream reads a whole roster back: the store's streaming read
// against a bare SELECT of the same columns.
func BenchmarkStream(b *testing.B) {
	n := benchRows()
	for _, kind := range benchDBs() {
		b.Run(kind.name, func(b *testing.B) {
			ctx := context.Background()
			s, db := kind.open(b)
			org := membership.Org{ID: membership.NewID(), Name: "Bench", Plan: membership.PremiumPlan(0)}
			if err := s.CreateOrg(ctx, org); err != nil {
				b.Fatal(err)
			}
			if err := rawInsert(ctx, db, s.Dialect(), benchMembers(org.ID, n)); err != nil {
				b.Fatal(err)
			}
			// Fresh statistics, as autovacuum/autoanalyze would have after a load.
			if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil && s.Dialect() != sqlstore.MySQL {
				b.Fatal(err)
			}
			for _, how := range []string{"memberkit", "raw"} {
				b.Run(how, func(b *testing.B) {
					for b.Loop() {
						got := 0
						if how == "raw" {
							q := `SELECT id, org_id, user_id, login, email, first_name, last_name, role_id, status, groups_text, last_login_at, password_hash, must_change_password, created_at, updated_at, version FROM memberkit_members WHERE org_id = ` + map[bool]string{true: "$1", false: "?"}[s.Dialect() == sqlstore.Postgres] + ` ORDER BY login_key`
							rows, err := db.QueryContext(ctx, q, org.ID)
							if err != nil {
								b.Fatal(err)
							}
							for rows.Next() {
								var id, o, u, l, e, f, la, r, st, g, h string
								var ll sql.NullInt64
								var must bool
								var c, up, v int64
								if err := rows.Scan(&id, &o, &u, &l, &e, &f, &la, &r, &st, &g, &ll, &h, &must, &c, &up, &v); err != nil {
									b.Fatal(err)
								}
								got++
							}
							rows.Close()
						} else {
							err := s.View(ctx, org.ID, func(tx store.Tx) error {
								for _, err := range tx.Members(ctx, store.MemberQuery{}) {
									if err != nil {
										return err
									}
									got++
								}
								return nil
							})
							if err != nil {
								b.Fatal(err)
							}
						}
						if got != n {
							b.Fatal(fmt.Sprintf("read %d of %d", got, n))
						}
					}
					b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
				})
			}
		})
	}
}
