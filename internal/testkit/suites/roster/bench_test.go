package roster_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memberkit/memberkit/internal/testkit"

	"github.com/memberkit/memberkit/internal/testkit/gen"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/memstore"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// BenchmarkCheckSession checks a session against a 100,000-member org,
// through the service and through one raw indexed select of the stamp on
// the same *sql.DB: the service's fast path is that select plus the
// comparison.
//
//	MEMBERKIT_POSTGRES_DSN=… go test ./roster -run '^$' -bench CheckSession -count 3
func BenchmarkCheckSession(b *testing.B) {
	dbs := map[string]func(testing.TB) *sqlstore.Store{"sqlite": testdb.SQLite, "postgres": testdb.Postgres}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			st := dbs[name](b)
			const n = 100_000
			ids := make([]string, n)
			stamps := make([]string, n)
			org := benchOrg(b, st, n, nil, func(i int, m *membership.Member) {
				m.SecurityStamp = membership.NewSecurityStamp()
				ids[i], stamps[i] = m.ID, m.SecurityStamp
			})
			svc := testkit.Roster(b, st, nil)
			q := `SELECT security_stamp FROM memberkit_members WHERE org_id = ? AND id = ?`
			if name == "postgres" {
				q = `SELECT security_stamp FROM memberkit_members WHERE org_id = $1 AND id = $2`
			}
			b.Run("memberkit", func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				for b.Loop() {
					i := r.IntN(n)
					if err := svc.CheckSession(ctx, org.ID, ids[i], stamps[i]); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("raw", func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				db := st.DB()
				for b.Loop() {
					i := r.IntN(n)
					var s string
					if err := db.QueryRowContext(ctx, q, org.ID, ids[i]).Scan(&s); err != nil && err != sql.ErrNoRows {
						b.Fatal(err)
					}
					if s != stamps[i] {
						b.Fatal("stamp differs")
					}
				}
			})
		})
	}
}

// benchOrg loads an org of n active members into st, each shaped by
// member before it is stored, with the custom roles given, and analyzes
// the database.
func benchOrg(b *testing.B, st *sqlstore.Store, n int, roles []membership.Role, member func(i int, m *membership.Member)) membership.Org {
	b.Helper()
	ctx := context.Background()
	org := membership.Org{ID: membership.NewID(), Name: "Bench", Plan: membership.PremiumPlan(0)}
	if err := st.CreateOrg(ctx, org); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	if err := st.Update(ctx, org.ID, func(tx store.Tx) error {
		for _, r := range roles {
			r.OrgID = org.ID
			if err := tx.PutRole(ctx, r); err != nil {
				return err
			}
		}
		batch := make([]membership.Member, 0, 5000)
		for i := range n {
			m := gen.Member(org.ID, i, now, "")
			m.Status = membership.StatusActive
			member(i, &m)
			if batch = append(batch, m); len(batch) == cap(batch) || i == n-1 {
				if err := tx.InsertMembers(ctx, batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	_, _ = st.DB().ExecContext(ctx, "ANALYZE")
	return org
}

// rss returns the process's resident set size in bytes.
func rss() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkLoginBurst sends 1,000 concurrent wrong-password attempts with
// the default argon2id parameters (19 MiB per hash) at a memstore org,
// while a legitimate member logs in, and reports the peak resident memory
// during the burst and the legitimate login's latency. Shapes: "one
// client" (one address, many logins: its throttle drains the queue),
// "botnet" (1,000 addresses and logins: every attempt is hashed); limits:
// the default bound (GOMAXPROCS) and, with MEMBERKIT_BENCH_UNBOUNDED=1, a
// service whose bound is the burst's size (19 MiB per attempt: use a
// smaller burst, MEMBERKIT_BENCH_BURST=200, on a small machine).
//
//	go test ./roster -run '^$' -bench LoginBurst -benchtime 1x -count 3
func BenchmarkLoginBurst(b *testing.B) {
	burst := 1000
	if n, err := strconv.Atoi(os.Getenv("MEMBERKIT_BENCH_BURST")); err == nil && n > 0 {
		burst = n
	}
	limits := []int{0}
	if os.Getenv("MEMBERKIT_BENCH_UNBOUNDED") != "" {
		limits = append(limits, burst)
	}
	for _, shape := range []string{"one-client", "botnet"} {
		for _, limit := range limits {
			name := fmt.Sprintf("%s/limit=%d", shape, limit)
			if limit == 0 {
				name = shape + "/limit=GOMAXPROCS"
			}
			b.Run(name, func(b *testing.B) {
				ctx := context.Background()
				st := memstore.New()
				svc := testkit.Roster(b, st, &roster.Options{MaxConcurrentHashes: limit})
				org, err := svc.CreateOrg(ctx, roster.NewOrg{Name: "Burst", Plan: membership.PremiumPlan(0)})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := svc.Add(ctx, membership.SystemActor("bench"), org.ID, roster.NewMember{FirstName: "Legit", LastName: "User", Password: "legit-password"}); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					base := rss()
					var peak atomic.Uint64
					stop := make(chan struct{})
					go func() {
						for {
							if v := rss(); v > peak.Load() {
								peak.Store(v)
							}
							select {
							case <-stop:
								return
							case <-time.After(5 * time.Millisecond):
							}
						}
					}()
					start := time.Now()
					var wg sync.WaitGroup
					for i := range burst {
						wg.Add(1)
						go func() {
							defer wg.Done()
							c := "198.51.100.7"
							if shape == "botnet" {
								c = fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255)
							}
							_, _ = svc.Authenticate(membership.WithClient(ctx, c), org.ID, fmt.Sprintf("user%d", i), "wrong-password")
						}()
					}
					time.Sleep(20 * time.Millisecond) // the burst is queued
					t0 := time.Now()
					if _, err := svc.Authenticate(ctx, org.ID, "legit.user", "legit-password"); err != nil {
						b.Fatal(err)
					}
					legit := time.Since(t0)
					wg.Wait()
					burst := time.Since(start)
					close(stop)
					b.ReportMetric(float64(peak.Load())/(1<<20), "peak-RSS-MiB")
					b.ReportMetric(float64(peak.Load()-min(peak.Load(), base))/(1<<20), "RSS-growth-MiB")
					b.ReportMetric(float64(legit.Milliseconds()), "legit-login-ms")
					b.ReportMetric(burst.Seconds(), "burst-s")
				}
			})
		}
	}
}
