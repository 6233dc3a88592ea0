package relay_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/relay"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/memstore"
)

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// inbox records what a subscriber received.
type inbox struct {
	mu      sync.Mutex
	batches []relay.Batch
	fail    error
}

func (b *inbox) deliver(_ context.Context, batch relay.Batch) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return b.fail
	}
	b.batches = append(b.batches, batch)
	return nil
}

func (b *inbox) seqs(orgID string) []int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []int64
	for _, batch := range b.batches {
		if batch.OrgID == orgID {
			for _, e := range batch.Events {
				out = append(out, e.Seq)
			}
		}
	}
	return out
}

func setup(t *testing.T, orgs ...string) (*memstore.Store, *membership.FakeClock) {
	st := memstore.New()
	for _, id := range orgs {
		require.NoError(t, st.CreateOrg(t.Context(), membership.Org{ID: id, Name: id}))
	}
	return st, membership.NewFakeClock(t0)
}

func commit(t *testing.T, st store.Store, clock membership.Clock, orgID string, n int) {
	t.Helper()
	require.NoError(t, st.Update(t.Context(), orgID, func(tx store.Tx) error {
		evs := make([]membership.Event, n)
		for i := range evs {
			evs[i] = membership.Event{ID: membership.NewID(), At: clock.Now(), Type: membership.EventMemberUpdated, Actor: "system"}
		}
		return tx.AppendEvents(t.Context(), evs)
	}))
}

func upTo(n int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

// Each org's events reach the subscriber once, in Seq order, in batches
// no larger than BatchSize; what comes later is delivered by the next pass.
func TestDeliversEachOrgInOrder(t *testing.T) {
	st, clock := setup(t, "acme", "globex")
	r, err := relay.New(st, &relay.Options{Clock: clock, BatchSize: 4})
	require.NoError(t, err)
	commit(t, st, clock, "acme", 7)
	commit(t, st, clock, "globex", 2)
	commit(t, st, clock, "acme", 3)
	box := &inbox{}
	sub := relay.Subscriber{Name: "billing", Deliver: box.deliver}
	n, err := r.Pass(t.Context(), sub)
	require.NoError(t, err)
	assert.Equal(t, 12, n)
	assert.Equal(t, upTo(10), box.seqs("acme"))
	assert.Equal(t, upTo(2), box.seqs("globex"))
	for _, b := range box.batches {
		assert.LessOrEqual(t, len(b.Events), 4)
	}

	n, err = r.Pass(t.Context(), sub)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing is delivered twice")
	commit(t, st, clock, "globex", 1)
	_, err = r.Pass(t.Context(), sub)
	require.NoError(t, err)
	assert.Equal(t, upTo(3), box.seqs("globex"))

	other := &inbox{}
	_, err = r.Pass(t.Context(), relay.Subscriber{Name: "audit", Deliver: other.deliver})
	require.NoError(t, err)
	assert.Equal(t, upTo(10), other.seqs("acme"), "each subscriber has its own cursor")
}

// listed reports whether the org comes up for the subscriber at t: not
// when it waits out a backoff.
func listed(t *testing.T, st *memstore.Store, sub, org string, at time.Time) bool {
	ps, err := st.FeedOrgs(t.Context(), sub, at, 100)
	require.NoError(t, err)
	for _, p := range ps {
		if p.OrgID == org {
			return true
		}
	}
	return false
}

// A failing org waits a growing, jittered backoff, keeps its cursor, and
// disables the subscriber after MaxFailures failures in a row; resumed,
// the subscriber gets the same events.
func TestFailuresBackOffThenDisable(t *testing.T) {
	st, clock := setup(t, "acme")
	r, err := relay.New(st, &relay.Options{Clock: clock, MaxFailures: 3, Backoff: time.Second, MaxBackoff: 3 * time.Second})
	require.NoError(t, err)
	commit(t, st, clock, "acme", 2)
	box := &inbox{fail: errors.New("503 Service Unavailable")}
	sub := relay.Subscriber{Name: "hooks", Deliver: box.deliver}

	_, err = r.Pass(t.Context(), sub)
	var de *relay.DeliveryError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 1, de.Failures)
	assert.False(t, de.Disabled)
	state, err := r.State(t.Context(), "hooks")
	require.NoError(t, err)
	assert.Contains(t, state.LastError, "503")
	assert.False(t, listed(t, st, "hooks", "acme", t0.Add(799*time.Millisecond)), "first backoff: at least 0.8 s")
	assert.True(t, listed(t, st, "hooks", "acme", t0.Add(1200*time.Millisecond)), "first backoff: at most 1.2 s")

	n, err := r.Pass(t.Context(), sub)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing is tried during the backoff")

	clock.Set(t0.Add(1200 * time.Millisecond))
	_, err = r.Pass(t.Context(), sub)
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 2, de.Failures)
	assert.False(t, listed(t, st, "hooks", "acme", clock.Now().Add(1599*time.Millisecond)), "second backoff: at least 1.6 s")
	assert.True(t, listed(t, st, "hooks", "acme", clock.Now().Add(2400*time.Millisecond)), "second backoff: at most 2.4 s")

	clock.Set(clock.Now().Add(2400 * time.Millisecond))
	_, err = r.Pass(t.Context(), sub)
	require.ErrorAs(t, err, &de)
	assert.True(t, de.Disabled)
	state, _ = r.State(t.Context(), "hooks")
	assert.False(t, state.DisabledAt.IsZero())
	assert.Equal(t, 3, state.Failures)

	clock.Set(clock.Now().Add(time.Hour))
	box.fail = nil
	n, err = r.Pass(t.Context(), sub)
	require.NoError(t, err)
	assert.Zero(t, n, "a disabled subscriber gets nothing")

	clock.Set(clock.Now().Add(-time.Hour + time.Millisecond)) // within the org's backoff
	require.NoError(t, r.Resume(t.Context(), "hooks"))
	_, err = r.Pass(t.Context(), sub)
	require.NoError(t, err)
	assert.Equal(t, upTo(2), box.seqs("acme"), "resumed at once, the failed events come again, in order")
	state, _ = r.State(t.Context(), "hooks")
	assert.Zero(t, state.Failures)
}

// poison fails one org's deliveries, and keeps the others'.
type poison struct {
	inbox
	org string
}

func (p *poison) deliver(ctx context.Context, b relay.Batch) error {
	if b.OrgID == p.org {
		return errors.New("413 Payload Too Large")
	}
	return p.inbox.deliver(ctx, b)
}

// An org whose deliveries keep failing backs off on its own while the
// others are delivered; it disables the subscriber after MaxFailures in a
// row however well the others go.
func TestAFailingOrgDoesNotHoldOthersBack(t *testing.T) {
	st, clock := setup(t, "good", "bad")
	r, err := relay.New(st, &relay.Options{Clock: clock, MaxFailures: 4, Backoff: time.Second})
	require.NoError(t, err)
	box := &poison{org: "bad"}
	sub := relay.Subscriber{Name: "hooks", Deliver: box.deliver}
	commit(t, st, clock, "bad", 1)
	attempts := 0
	for i := range 40 {
		commit(t, st, clock, "good", 1)
		_, err := r.Pass(t.Context(), sub)
		var de *relay.DeliveryError
		if errors.As(err, &de) {
			attempts++
			assert.Equal(t, "bad", de.OrgID)
			assert.Equal(t, attempts, de.Failures, "the good org's successes do not reset the bad one's count")
		}
		if de == nil || !de.Disabled {
			assert.Len(t, box.seqs("good"), i+1, "the good org is delivered at each pass")
		}
		clock.Set(clock.Now().Add(500 * time.Millisecond))
		if attempts == 4 {
			break
		}
	}
	assert.Equal(t, 4, attempts, "tried 4 times in a growing backoff, not at each pass")
	state, _ := r.State(t.Context(), "hooks")
	assert.False(t, state.DisabledAt.IsZero())
	assert.Contains(t, state.LastError, "bad: 413")
}

// Two passes of one relay at once never hold one org together: each
// event is delivered once.
func TestConcurrentPassesOfOneRelay(t *testing.T) {
	st, clock := setup(t, "acme", "globex")
	r, err := relay.New(st, &relay.Options{Clock: clock, BatchSize: 2})
	require.NoError(t, err)
	commit(t, st, clock, "acme", 20)
	commit(t, st, clock, "globex", 20)
	box := &inbox{}
	sub := relay.Subscriber{Name: "hooks", Deliver: box.deliver}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := r.Pass(t.Context(), sub)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	for {
		n, err := r.Pass(t.Context(), sub)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	assert.Equal(t, upTo(20), box.seqs("acme"))
	assert.Equal(t, upTo(20), box.seqs("globex"))
	assert.ErrorContains(t, r.Run(t.Context(), sub, sub), "two subscribers")
}

// A replay asked while the org is being delivered is not undone by the
// relay that was delivering it.
func TestReplayDuringDelivery(t *testing.T) {
	st, clock := setup(t, "acme")
	r, err := relay.New(st, &relay.Options{Clock: clock, BatchSize: 2})
	require.NoError(t, err)
	commit(t, st, clock, "acme", 5)
	box := &inbox{}
	replayed := false
	sub := relay.Subscriber{Name: "hooks", Deliver: func(ctx context.Context, b relay.Batch) error {
		if !replayed && b.Events[0].Seq == 3 {
			replayed = true
			require.NoError(t, r.Replay(ctx, "hooks", "acme", 0))
		}
		return box.deliver(ctx, b)
	}}
	_, err = r.Pass(t.Context(), sub)
	require.NoError(t, err)
	_, err = r.Pass(t.Context(), sub)
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 2, 3, 4, 1, 2, 3, 4, 5}, box.seqs("acme"))
}

// A success after failures forgets them.
func TestSuccessResetsFailures(t *testing.T) {
	st, clock := setup(t, "acme")
	r, err := relay.New(st, &relay.Options{Clock: clock})
	require.NoError(t, err)
	commit(t, st, clock, "acme", 1)
	box := &inbox{fail: errors.New("timeout")}
	sub := relay.Subscriber{Name: "hooks", Deliver: box.deliver}
	_, err = r.Pass(t.Context(), sub)
	require.Error(t, err)
	box.fail = nil
	clock.Set(clock.Now().Add(time.Minute))
	_, err = r.Pass(t.Context(), sub)
	require.NoError(t, err)
	state, _ := r.State(t.Context(), "hooks")
	assert.Zero(t, state.Failures)
	assert.Empty(t, state.LastError)
}

// Paused, a subscriber gets nothing and keeps its place; a replay sends
// an org's events again from a Seq, or every org's from the start.
func TestPauseAndReplay(t *testing.T) {
	st, clock := setup(t, "acme", "globex")
	r, err := relay.New(st, &relay.Options{Clock: clock})
	require.NoError(t, err)
	box := &inbox{}
	sub := relay.Subscriber{Name: "hooks", Deliver: box.deliver}
	require.NoError(t, r.Pause(t.Context(), "hooks"))
	commit(t, st, clock, "acme", 5)
	commit(t, st, clock, "globex", 1)
	n, err := r.Pass(t.Context(), sub)
	require.NoError(t, err)
	assert.Zero(t, n)
	require.NoError(t, r.Resume(t.Context(), "hooks"))
	_, err = r.Pass(t.Context(), sub)
	require.NoError(t, err)
	assert.Equal(t, upTo(5), box.seqs("acme"))

	require.NoError(t, r.Replay(t.Context(), "hooks", "acme", 3))
	_, err = r.Pass(t.Context(), sub)
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 2, 3, 4, 5, 4, 5}, box.seqs("acme"))

	require.NoError(t, r.Replay(t.Context(), "hooks", "", 0))
	_, err = r.Pass(t.Context(), sub)
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 1}, box.seqs("globex"))
	assert.Error(t, r.Replay(t.Context(), "hooks", "acme", -1))
}

// A FromNow subscriber starts after each org's last event when it first
// runs, whatever the events' times.
func TestFromNow(t *testing.T) {
	st, clock := setup(t, "acme")
	r, err := relay.New(st, &relay.Options{Clock: clock})
	require.NoError(t, err)
	commit(t, st, clock, "acme", 3)
	box := &inbox{}
	sub := relay.Subscriber{Name: "mail", Deliver: box.deliver, FromNow: true}
	n, err := r.Pass(t.Context(), sub)
	require.NoError(t, err)
	assert.Zero(t, n)
	commit(t, st, clock, "acme", 2)
	_, err = r.Pass(t.Context(), sub)
	require.NoError(t, err)
	assert.Equal(t, []int64{4, 5}, box.seqs("acme"))
}

// A relay that died holding an org's lease holds nothing once the lease
// expires: another relay carries on from the cursor.
func TestLeaseOfADeadRelayExpires(t *testing.T) {
	st, clock := setup(t, "acme")
	commit(t, st, clock, "acme", 2)
	_, ok, err := st.ClaimFeed(t.Context(), "hooks", "acme", "dead-relay", clock.Now(), clock.Now().Add(30*time.Second))
	require.NoError(t, err)
	require.True(t, ok)
	r, err := relay.New(st, &relay.Options{Clock: clock, Owner: "alive"})
	require.NoError(t, err)
	box := &inbox{}
	sub := relay.Subscriber{Name: "hooks", Deliver: box.deliver}
	n, err := r.Pass(t.Context(), sub)
	require.NoError(t, err)
	assert.Zero(t, n, "the lease holds")
	clock.Set(clock.Now().Add(31 * time.Second))
	_, err = r.Pass(t.Context(), sub)
	require.NoError(t, err)
	assert.Equal(t, upTo(2), box.seqs("acme"))
}

// Run delivers as events are committed; Notify wakes it before its poll.
func TestRunAndNotify(t *testing.T) {
	st := memstore.New()
	require.NoError(t, st.CreateOrg(t.Context(), membership.Org{ID: "acme", Name: "Acme"}))
	r, err := relay.New(st, &relay.Options{Poll: time.Hour})
	require.NoError(t, err)
	got := make(chan relay.Batch, 10)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		done <- r.Run(ctx, relay.Subscriber{Name: "hooks", Deliver: func(_ context.Context, b relay.Batch) error { got <- b; return nil }})
	}()
	for i := range 3 {
		commit(t, st, membership.SystemClock{}, "acme", 1)
		r.Notify(t.Context(), nil)
		select {
		case b := <-got:
			assert.Equal(t, int64(i+1), b.Events[0].Seq)
		case <-time.After(10 * time.Second):
			t.Fatal("Notify did not wake the relay")
		}
	}
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
}

// Options are checked; a store without a feed is refused.
func TestNewChecks(t *testing.T) {
	_, err := relay.New(nil, nil)
	assert.Error(t, err)
	_, err = relay.New(memstore.New(), &relay.Options{Lease: time.Second, Timeout: time.Second})
	assert.ErrorContains(t, err, "Lease")
	_, err = relay.New(memstore.New(), &relay.Options{Timeout: 20 * time.Second})
	assert.NoError(t, err, "the lease follows a long timeout")
	_, err = relay.New(memstore.New(), &relay.Options{Owner: strings.Repeat("x", 101)})
	assert.Error(t, err)
	_, err = relay.New(struct{ store.Store }{memstore.New()}, nil)
	assert.ErrorIs(t, err, relay.ErrNoFeed)
	r, err := relay.New(memstore.New(), nil)
	require.NoError(t, err)
	_, err = r.Pass(t.Context(), relay.Subscriber{Name: "x"})
	assert.ErrorContains(t, err, "Deliver")
	assert.ErrorContains(t, r.Run(t.Context(), relay.Subscriber{Deliver: (&inbox{}).deliver}), "name")
	assert.NotEmpty(t, r.Owner())
	assert.Equal(t, "relay: hooks: delivering events of org acme failed (3 in a row): boom; subscriber disabled",
		(&relay.DeliveryError{Subscriber: "hooks", OrgID: "acme", Failures: 3, Disabled: true, Err: fmt.Errorf("boom")}).Error())
}

// A subscriber given Types gets only those; with BatchSize 1, a failure
// does not bring back what was already delivered.
func TestTypesAndBatchSize(t *testing.T) {
	st, clock := setup(t, "acme")
	r, err := relay.New(st, &relay.Options{Clock: clock})
	require.NoError(t, err)
	require.NoError(t, st.Update(t.Context(), "acme", func(tx store.Tx) error {
		var evs []membership.Event
		for i := range 6 {
			typ := membership.EventMemberUpdated
			if i%2 == 1 {
				typ = membership.EventInvitationSent
			}
			evs = append(evs, membership.Event{ID: membership.NewID(), Type: typ, At: t0})
		}
		return tx.AppendEvents(t.Context(), evs)
	}))
	var got []int64
	calls := 0
	sub := relay.Subscriber{Name: "mail", BatchSize: 1, Types: []membership.EventType{membership.EventInvitationSent},
		Deliver: func(_ context.Context, b relay.Batch) error {
			calls++
			if calls == 2 {
				return errors.New("smtp: 451 try later")
			}
			require.Len(t, b.Events, 1)
			got = append(got, b.Events[0].Seq)
			return nil
		}}
	_, err = r.Pass(t.Context(), sub)
	require.Error(t, err)
	clock.Set(t0.Add(time.Hour))
	_, err = r.Pass(t.Context(), sub)
	require.NoError(t, err)
	assert.Equal(t, []int64{2, 4, 6}, got, "seq 2 is not mailed twice")
}
