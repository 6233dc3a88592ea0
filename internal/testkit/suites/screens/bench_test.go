// Package screens measures memberhttp's pages against the service calls
// they make.
package screens

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/internal/testkit/gen"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/memberhttp"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// BenchmarkMemberListPage renders the member list page (GET /, 50 rows,
// pending invitations included, as an admin) of a 100,000-member org,
// and, alternating with it in the same loop, the roster.Service.List call
// the page makes with the same query. It reports both times and their
// ratio (target ≤ 1.5): the rest of the page is the frame's reads (org,
// seats, permissions, roles, the cached group labels) and the template.
// It also times reading the group labels the filter offers.
//
//	MEMBERKIT_POSTGRES_DSN=… go test ./internal/testkit/suites/screens -run '^$' -bench MemberListPage -count 3
func BenchmarkMemberListPage(b *testing.B) {
	dbs := map[string]func(testing.TB) *sqlstore.Store{"sqlite": testdb.SQLite, "postgres": testdb.Postgres}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			st := dbs[name](b)
			const n = 100_000
			org, err := gen.Org(ctx, st, n, membership.PasswordHash("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = st.DB().ExecContext(ctx, "ANALYZE") // what autoanalyze does after a load
			kit, err := memberkit.New(st, nil)
			if err != nil {
				b.Fatal(err)
			}
			sys := membership.SystemActor("bench")
			admins, err := kit.Members.List(ctx, sys, org.ID, roster.ListQuery{RoleID: membership.RoleAdmin, Status: membership.StatusActive, Limit: 1})
			if err != nil || len(admins.Members) == 0 {
				b.Fatal("no admin", err)
			}
			actor := membership.ActorMember(admins.Members[0].ID)
			h, err := memberhttp.New(kit, memberhttp.Options{Identify: func(*http.Request) (memberhttp.Identity, error) {
				return memberhttp.Identity{OrgID: org.ID, Actor: actor, Lang: membership.French}, nil
			}})
			if err != nil {
				b.Fatal(err)
			}
			for _, tc := range []struct {
				name, query string
				q           roster.ListQuery
			}{
				{"all", "", roster.ListQuery{IncludePending: true, Limit: 50}},
				{"group", "?group=Lyon", roster.ListQuery{Group: "Lyon", Limit: 50}},
			} {
				b.Run(tc.name, func(b *testing.B) {
					// A browser's second visit: it sends the form-token
					// cookie the first one set.
					first := httptest.NewRecorder()
					h.ServeHTTP(first, httptest.NewRequest("GET", "/"+tc.query, nil))
					cookies := first.Result().Cookies()
					var page, list time.Duration
					for b.Loop() {
						t0 := time.Now()
						rec := httptest.NewRecorder()
						req := httptest.NewRequest("GET", "/"+tc.query, nil)
						for _, c := range cookies {
							req.AddCookie(c)
						}
						h.ServeHTTP(rec, req)
						t1 := time.Now()
						if rec.Code != http.StatusOK {
							b.Fatal(rec.Code, rec.Body.String()[:200])
						}
						p, err := kit.Members.List(ctx, actor, org.ID, tc.q)
						t2 := time.Now()
						if err != nil || len(p.Members) != 50 {
							b.Fatal(err, len(p.Members))
						}
						page += t1.Sub(t0)
						list += t2.Sub(t1)
					}
					b.ReportMetric(float64(page.Microseconds())/float64(b.N), "page-µs/op")
					b.ReportMetric(float64(list.Microseconds())/float64(b.N), "list-µs/op")
					b.ReportMetric(float64(page)/float64(list), "page/list")
					b.ReportMetric(0, "ns/op")
				})
			}
			// The group filter's choices, read at most every 30 s per org
			// and process: every distinct group key, one member's spelling.
			b.Run("group-labels", func(b *testing.B) {
				for b.Loop() {
					gs, err := kit.Members.Groups(ctx, actor, org.ID)
					if err != nil || len(gs) != len(gen.Groups()) {
						b.Fatal(err, gs)
					}
				}
			})
		})
	}
}
