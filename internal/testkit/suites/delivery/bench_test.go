package delivery

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/relay"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// benchStore returns a migrated store of a kind and its database.
func benchStore(b *testing.B, kind string) (store.Store, *sql.DB, sqlstore.Dialect) {
	switch kind {
	case "sqlite":
		dsn := testdb.SQLiteDSN(b.TempDir() + "/bench.db")
		s := testdb.Open(b, sqlstore.SQLite, dsn)
		if err := s.Migrate(context.Background()); err != nil {
			b.Fatal(err)
		}
		return s, s.DB(), sqlstore.SQLite
	default:
		db, _ := testdb.PostgresDB(b)
		s, err := sqlstore.New(db, sqlstore.Postgres, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Migrate(context.Background()); err != nil {
			b.Fatal(err)
		}
		return s, db, sqlstore.Postgres
	}
}

// fill commits n events spread over orgs orgs, 50 per transaction.
func fill(b *testing.B, st store.Store, orgs, n int) {
	ctx := context.Background()
	for i := range orgs {
		if err := st.CreateOrg(ctx, membership.Org{ID: fmt.Sprint("o", i), Name: "Org"}); err != nil {
			b.Fatal(err)
		}
	}
	for done := 0; done < n; {
		org := fmt.Sprint("o", (done/50)%orgs)
		err := st.Update(ctx, org, func(tx store.Tx) error {
			evs := make([]membership.Event, min(50, n-done))
			for i := range evs {
				evs[i] = membership.Event{ID: membership.NewID(), Type: membership.EventMemberUpdated, At: time.Now(), Actor: "system:bench", SubjectID: membership.NewID(), Detail: "first_name"}
			}
			done += len(evs)
			return tx.AppendEvents(ctx, evs)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRelayThroughput delivers 20,000 stored events (10 orgs) to a
// subscriber that keeps nothing, against the raw rate of reading the
// same rows in one ordered query. The gap is the cursor's progress
// records (one write transaction per batch) and the leases.
//
//	MEMBERKIT_POSTGRES_DSN=… go test ./internal/testkit/suites/delivery -run '^$' -bench RelayThroughput -benchtime 3x -count 3
func BenchmarkRelayThroughput(b *testing.B) {
	const events, orgs = 20_000, 10
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			st, db, d := benchStore(b, kind)
			fill(b, st, orgs, events)
			ctx := context.Background()
			for _, batch := range []int{100, 1000} {
				b.Run(fmt.Sprint("relay-batch-", batch), func(b *testing.B) {
					r, err := relay.New(st, &relay.Options{BatchSize: batch, OrgsPerPass: orgs})
					if err != nil {
						b.Fatal(err)
					}
					var n atomic.Int64
					sub := relay.Subscriber{Name: fmt.Sprint("bench-", batch), Deliver: func(_ context.Context, bt relay.Batch) error {
						n.Add(int64(len(bt.Events)))
						return nil
					}}
					for b.Loop() {
						if err := r.Replay(ctx, sub.Name, "", 0); err != nil {
							b.Fatal(err)
						}
						n.Store(0)
						for n.Load() < events {
							if _, err := r.Pass(ctx, sub); err != nil {
								b.Fatal(err)
							}
						}
					}
					b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
				})
			}
			b.Run("raw-read", func(b *testing.B) {
				q := `SELECT id, org_id, at, type, actor, subject_id, role_before, role_after, status_before, status_after, detail, attributes, seq FROM memberkit_events ORDER BY org_id, seq`
				for b.Loop() {
					rows, err := db.QueryContext(ctx, q)
					if err != nil {
						b.Fatal(err)
					}
					count := 0
					for rows.Next() {
						var e membership.Event
						var at int64
						var typ, sb, sa, attrs string
						if err := rows.Scan(&e.ID, &e.OrgID, &at, &typ, &e.Actor, &e.SubjectID, &e.RoleBefore, &e.RoleAfter, &sb, &sa, &e.Detail, &attrs, &e.Seq); err != nil {
							b.Fatal(err)
						}
						count++
					}
					if err := rows.Err(); err != nil || count != events {
						b.Fatal(err, count)
					}
					rows.Close()
				}
				b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
				_ = d
			})
		})
	}
}

// BenchmarkRelayLatency measures commit-to-delivery latency under a
// steady load on PostgreSQL: 4 writers commit one event each every 5 ms
// (about 800 events/s over 8 orgs) for 3 s while a relay delivers,
// woken by Notify as the services' AfterCommit hook would; and the same
// with polling only (Poll 100 ms), as a relay in another process sees it.
//
//	MEMBERKIT_POSTGRES_DSN=… go test ./internal/testkit/suites/delivery -run '^$' -bench RelayLatency -benchtime 1x -count 3
func BenchmarkRelayLatency(b *testing.B) {
	for _, notify := range []bool{true, false} {
		name := "notify"
		if !notify {
			name = "poll-100ms"
		}
		b.Run(name, func(b *testing.B) {
			st, _, _ := benchStore(b, "postgres")
			ctx := context.Background()
			const orgs = 8
			for i := range orgs {
				if err := st.CreateOrg(ctx, membership.Org{ID: fmt.Sprint("o", i), Name: "Org"}); err != nil {
					b.Fatal(err)
				}
			}
			var lat []time.Duration
			for b.Loop() {
				var committed sync.Map // event ID → commit time
				var mu sync.Mutex
				lat = lat[:0]
				r, err := relay.New(st, &relay.Options{Poll: 100 * time.Millisecond})
				if err != nil {
					b.Fatal(err)
				}
				rctx, cancel := context.WithCancel(ctx)
				done := make(chan struct{})
				go func() {
					_ = r.Run(rctx, relay.Subscriber{Name: fmt.Sprint("lat-", time.Now().UnixNano()), FromNow: true, Deliver: func(_ context.Context, bt relay.Batch) error {
						now := time.Now()
						mu.Lock()
						for _, e := range bt.Events {
							if at, ok := committed.Load(e.ID); ok {
								lat = append(lat, now.Sub(at.(time.Time)))
							}
						}
						mu.Unlock()
						return nil
					}})
					close(done)
				}()
				time.Sleep(50 * time.Millisecond) // the subscriber is registered
				var wg sync.WaitGroup
				stop := time.Now().Add(3 * time.Second)
				for w := range 4 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := 0; time.Now().Before(stop); i++ {
							id := membership.NewID()
							err := st.Update(ctx, fmt.Sprint("o", (w+i)%orgs), func(tx store.Tx) error {
								return tx.AppendEvents(ctx, []membership.Event{{ID: id, Type: membership.EventMemberUpdated, At: time.Now(), Actor: "system:bench"}})
							})
							if err != nil {
								b.Error(err)
								return
							}
							committed.Store(id, time.Now())
							if notify {
								r.Notify(ctx, nil)
							}
							time.Sleep(5 * time.Millisecond)
						}
					}()
				}
				wg.Wait()
				time.Sleep(300 * time.Millisecond) // the last ones arrive
				cancel()
				<-done
			}
			mu := slices.Clone(lat)
			slices.Sort(mu)
			if len(mu) == 0 {
				b.Fatal("nothing delivered")
			}
			b.ReportMetric(float64(mu[len(mu)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(mu[len(mu)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(len(mu))/3, "events/s")
		})
	}
}
