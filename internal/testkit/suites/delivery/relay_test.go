package delivery

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/relay"
	"github.com/memberkit/memberkit/store"
)

// received keeps what a subscriber got, in arrival order, and checks the
// relay's promises: each org's events arrive for the first time in Seq
// order (1, 2, 3…), only committed events arrive.
type received struct {
	mu     sync.Mutex
	next   map[string]int64 // org → the next Seq expected for the first time
	ids    map[string]string
	total  int
	dups   int
	errors []string
}

func newReceived() *received {
	return &received{next: map[string]int64{}, ids: map[string]string{}}
}

func (r *received) deliver(_ context.Context, b relay.Batch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range b.Events {
		if e.OrgID != b.OrgID {
			r.errors = append(r.errors, fmt.Sprintf("event %s of org %s in a batch of %s", e.ID, e.OrgID, b.OrgID))
		}
		if r.next[b.OrgID] == 0 {
			r.next[b.OrgID] = 1
		}
		switch {
		case e.Seq < r.next[b.OrgID]:
			r.dups++
			if r.ids[fmt.Sprint(b.OrgID, e.Seq)] != e.ID {
				r.errors = append(r.errors, fmt.Sprintf("org %s seq %d came back with another ID", b.OrgID, e.Seq))
			}
		case e.Seq == r.next[b.OrgID]:
			r.next[b.OrgID]++
			r.ids[fmt.Sprint(b.OrgID, e.Seq)] = e.ID
			r.total++
		default:
			r.errors = append(r.errors, fmt.Sprintf("org %s: seq %d before %d", b.OrgID, e.Seq, r.next[b.OrgID]))
		}
	}
	return nil
}

func (r *received) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// Several relays, each on its own connection pool as separate processes
// would be, serve one subscriber while writers commit (and roll back)
// events in several orgs: every committed event arrives, each org's in
// commit order, and no rolled-back one. On every store (SQLite and
// memstore: in one process, as documented).
func TestManyRelaysOneSubscriber(t *testing.T) {
	for _, k := range testdb.Kinds() {
		t.Run(k.Name, func(t *testing.T) {
			const relays, orgs, writes = 3, 4, 60
			pools := testdb.Pools(t, k, relays)
			ctx := context.Background()
			ids := make([]string, orgs)
			for i := range ids {
				ids[i] = fmt.Sprintf("org-%d", i)
				require.NoError(t, pools[0].CreateOrg(ctx, membership.Org{ID: ids[i], Name: ids[i]}))
			}
			got := newReceived()
			rctx, cancel := context.WithCancel(ctx)
			var wg sync.WaitGroup
			for i := range relays {
				r, err := relay.New(pools[i], &relay.Options{Owner: fmt.Sprint("relay-", i), Poll: 5 * time.Millisecond, BatchSize: 7,
					Lease: 2 * time.Second, Timeout: 500 * time.Millisecond})
				require.NoError(t, err)
				wg.Add(1)
				go func() {
					defer wg.Done()
					_ = r.Run(rctx, relay.Subscriber{Name: "hooks", Deliver: got.deliver})
				}()
			}
			var committed, rolledBack sync.Map
			var wwg sync.WaitGroup
			for w := range orgs {
				wwg.Add(1)
				go func() {
					defer wwg.Done()
					st := pools[w%relays]
					for i := range writes {
						org := ids[(w+i)%orgs]
						fail := i%5 == 4
						var evs []membership.Event
						err := st.Update(ctx, org, func(tx store.Tx) error {
							evs = []membership.Event{{ID: membership.NewID(), Type: membership.EventMemberUpdated, At: time.Now()}, {ID: membership.NewID(), Type: membership.EventMemberAdded, At: time.Now()}}
							if err := tx.AppendEvents(ctx, evs); err != nil {
								return err
							}
							if fail {
								return fmt.Errorf("rolled back on purpose")
							}
							return nil
						})
						for _, e := range evs {
							if fail {
								rolledBack.Store(e.ID, true)
							} else if assert.NoError(t, err) {
								committed.Store(e.ID, org)
							}
						}
					}
				}()
			}
			wwg.Wait()
			want := 0
			committed.Range(func(any, any) bool { want++; return true })
			deadline := time.Now().Add(60 * time.Second)
			for got.count() < want && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			wg.Wait()
			got.mu.Lock()
			defer got.mu.Unlock()
			assert.Empty(t, got.errors)
			assert.Equal(t, want, got.total, "every committed event arrives")
			for key, id := range got.ids {
				_, bad := rolledBack.Load(id)
				assert.False(t, bad, "a rolled-back event arrived: %s", key)
				_, ok := committed.Load(id)
				assert.True(t, ok, "an event nobody committed arrived: %s", key)
			}
			t.Logf("%d events, %d delivered twice", got.total, got.dups)
		})
	}
}
