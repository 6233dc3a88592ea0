// Package memstoremem measures what memstore keeps per member: one
// generated org (internal/testkit/gen, as the scale program loads it),
// the live heap after a collection, less the heap before the load.
//
//	go test ./internal/testkit/suites/memstoremem -run '^$' -bench . -benchtime 1x                          # 100,000 members
//	MEMBERKIT_MEMSTORE_1M=1 go test ./internal/testkit/suites/memstoremem -run '^$' -bench . -benchtime 1x # 1,000,000
//	MEMBERKIT_MEMSTORE_1M=1 go test ./internal/testkit/suites/memstoremem -run TestMemberBytes1M -v        # the bound
//
// MEMBERKIT_MEMSTORE_HEAPPROFILE=file writes a heap profile while the
// store is alive (go tool pprof -sample_index=inuse_space file).
package memstoremem_test

import (
	"context"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/memberkit/memberkit/internal/testkit/gen"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/memstore"
)

// bound is the most a member may cost at 1,000,000 members (issue 16).
const bound = 400

func size() int {
	if os.Getenv("MEMBERKIT_MEMSTORE_1M") != "" {
		return 1_000_000
	}
	return 100_000
}

// liveHeap collects and returns the live heap.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// result is what one load measured, in bytes per member.
type result struct {
	loaded float64 // right after the load
	served float64 // after a listing and a group-filtered page built the lazy indexes
}

// loadWithEvents loads n generated members as gen.Org does, each with
// the event a service writes when it adds a member.
func loadWithEvents(ctx context.Context, st store.Store, n int, hash membership.PasswordHash) (membership.Org, error) {
	now := time.Now().UTC()
	org := membership.Org{ID: membership.NewID(), Name: "Generated", Plan: membership.PremiumPlan(0), CreatedAt: now, UpdatedAt: now}
	if err := st.CreateOrg(ctx, org); err != nil {
		return org, err
	}
	actor := membership.SystemActor("import").String()
	for start := 0; start < n; start += 5000 {
		var ms []membership.Member
		var evs []membership.Event
		for i := start; i < min(start+5000, n); i++ {
			m := gen.Member(org.ID, i, now, hash)
			ms = append(ms, m)
			evs = append(evs, membership.Event{ID: membership.NewID(), At: now, Type: membership.EventMemberAdded, Actor: actor,
				SubjectID: m.ID, RoleAfter: m.RoleID, StatusAfter: m.Status})
		}
		err := st.Update(ctx, org.ID, func(tx store.Tx) error {
			if err := tx.InsertMembers(ctx, ms); err != nil {
				return err
			}
			return tx.AppendEvents(ctx, evs)
		})
		if err != nil {
			return org, err
		}
	}
	return org, nil
}

// measure loads n generated members into a new memstore and returns the
// live heap they cost. The generated input is garbage by the time the
// heap is read: gen.Org builds each batch of 5,000, inserts it and drops it.
func measure(tb testing.TB, n int, events bool) result {
	tb.Helper()
	ctx := context.Background()
	hash, err := membership.NewArgon2Hasher(nil).Hash("shared-password") // one hash for all, as the scale program
	if err != nil {
		tb.Fatal(err)
	}
	load := gen.Org
	if events {
		load = loadWithEvents
	}
	before := liveHeap()
	st := memstore.New()
	org, err := load(ctx, st, n, hash)
	if err != nil {
		tb.Fatal(err)
	}
	loaded := liveHeap()
	// A served org has its sorted indexes: one page of the whole roster
	// and one of a group build them.
	err = st.View(ctx, org.ID, func(tx store.Tx) error {
		for _, q := range []store.MemberQuery{{Limit: 50}, {MemberFilter: store.MemberFilter{Group: gen.Groups()[0]}, Limit: 50}} {
			seen := 0
			for _, err := range tx.Members(ctx, q) {
				if err != nil {
					return err
				}
				seen++
			}
			if seen != 50 {
				tb.Fatalf("a page of %d members, want 50", seen)
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	served := liveHeap()
	if path := os.Getenv("MEMBERKIT_MEMSTORE_HEAPPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			tb.Fatal(err)
		}
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			tb.Fatal(err)
		}
		if err := f.Close(); err != nil {
			tb.Fatal(err)
		}
	}
	runtime.KeepAlive(st)
	return result{loaded: float64(loaded-before) / float64(n), served: float64(served-before) / float64(n)}
}

// BenchmarkMemberBytes reports the live heap per member of a generated
// org of 100,000 members (1,000,000 with MEMBERKIT_MEMSTORE_1M=1):
// "members" as gen.Org loads them, "with-events" each also with the
// member.added event a service writes (the event costs apart).
func BenchmarkMemberBytes(b *testing.B) {
	n := size()
	for _, events := range []bool{false, true} {
		name := "members"
		if events {
			name = "with-events"
		}
		b.Run(name, func(b *testing.B) {
			var r result
			for b.Loop() {
				r = measure(b, n, events)
			}
			b.ReportMetric(r.served, "B/member")
			b.ReportMetric(r.loaded, "loaded-B/member")
			b.ReportMetric(float64(n), "members")
		})
	}
}

// TestMemberBytes1M checks the bound at 1,000,000 members; it runs only
// with MEMBERKIT_MEMSTORE_1M=1.
func TestMemberBytes1M(t *testing.T) {
	if os.Getenv("MEMBERKIT_MEMSTORE_1M") == "" {
		t.Skip("MEMBERKIT_MEMSTORE_1M=1 runs the 1,000,000-member measurement")
	}
	r := measure(t, 1_000_000, false)
	t.Logf("1,000,000 members: %.0f B/member served, %.0f B/member loaded", r.served, r.loaded)
	if r.served >= bound {
		t.Errorf("%.0f B/member, want under %d", r.served, bound)
	}
}
