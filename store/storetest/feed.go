package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

func feedOf(t *testing.T, s store.Store) store.Feed {
	f, ok := s.(store.Feed)
	if !ok {
		t.Skip("the store does not implement store.Feed; package relay cannot deliver from it")
	}
	return f
}

func appendEvents(ctx context.Context, s store.Store, orgID string, n int, fail bool) error {
	return s.Update(ctx, orgID, func(tx store.Tx) error {
		evs := make([]membership.Event, n)
		for i := range evs {
			evs[i] = membership.Event{ID: membership.NewID(), At: t0, Type: membership.EventMemberUpdated, Actor: "system", SubjectID: membership.NewID()}
		}
		if err := tx.AppendEvents(ctx, evs); err != nil {
			return err
		}
		if fail {
			return errFn("rolled back")
		}
		return nil
	})
}

// Each org's events are numbered 1, 2, 3… with no gap and no repeat, in
// the order their transactions committed, even when many goroutines
// append at once; a rolled-back transaction takes no number.
func testFeedSeq(t *testing.T, s store.Store) {
	f := feedOf(t, s)
	ctx := context.Background()
	a, b := newOrg(t, s, "Acme"), newOrg(t, s, "Globex")
	var wg sync.WaitGroup
	var committed [2]atomic.Int64
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				k := (g + i) % 2
				org := []string{a.ID, b.ID}[k]
				n, fail := 1+(g+i)%3, i%4 == 3
				err := appendEvents(ctx, s, org, n, fail)
				if !fail && assert.NoError(t, err) {
					committed[k].Add(int64(n))
				}
			}
		}()
	}
	wg.Wait()
	for k, org := range []string{a.ID, b.ID} {
		evs, err := f.EventsAfter(ctx, org, 0, 10_000)
		require.NoError(t, err)
		require.Len(t, evs, int(committed[k].Load()))
		for i, e := range evs {
			require.Equal(t, int64(i+1), e.Seq, "org %d event %d", k, i)
			require.Equal(t, org, e.OrgID)
		}
		tail, err := f.EventsAfter(ctx, org, int64(len(evs)-3), 2)
		require.NoError(t, err)
		require.Len(t, tail, 2)
		assert.Equal(t, evs[len(evs)-3].ID, tail[0].ID, "after Seq n comes Seq n+1")
		require.NoError(t, s.View(ctx, org, func(tx store.Tx) error {
			listed, err := store.Collect(tx.Events(ctx, store.EventQuery{}))
			require.NoError(t, err)
			seqs := map[string]int64{}
			for _, e := range evs {
				seqs[e.ID] = e.Seq
			}
			for _, e := range listed {
				assert.Equal(t, seqs[e.ID], e.Seq, "Events carries the Seq")
			}
			return nil
		}))
	}
}

// A cursor is leased to one owner at a time; only its owner moves it,
// and only while the lease lasts; FeedOrgs lists what is behind and free.
func testFeedLeases(t *testing.T, s store.Store) {
	f := feedOf(t, s)
	ctx := context.Background()
	a, b := newOrg(t, s, "Acme"), newOrg(t, s, "Globex")
	require.NoError(t, appendEvents(ctx, s, a.ID, 3, false))
	require.NoError(t, appendEvents(ctx, s, b.ID, 1, false))
	now := t0
	orgs := func(sub string) map[string]store.FeedPosition {
		ps, err := f.FeedOrgs(ctx, sub, now, 10)
		require.NoError(t, err)
		out := map[string]store.FeedPosition{}
		for _, p := range ps {
			out[p.OrgID] = p
		}
		return out
	}
	assert.Equal(t, map[string]store.FeedPosition{a.ID: {OrgID: a.ID, After: 0, Last: 3}, b.ID: {OrgID: b.ID, After: 0, Last: 1}}, orgs("hooks"))

	c, ok, err := f.ClaimFeed(ctx, "hooks", a.ID, "r1", now, now.Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, store.FeedCursor{}, c)
	_, ok, err = f.ClaimFeed(ctx, "hooks", a.ID, "r2", now, now.Add(time.Minute))
	require.NoError(t, err)
	assert.False(t, ok, "a leased cursor is not claimed by another")
	assert.NotContains(t, orgs("hooks"), a.ID, "a leased cursor is not listed")
	assert.Contains(t, orgs("mail"), a.ID, "each subscriber has its own cursors")

	assert.ErrorIs(t, f.AdvanceFeed(ctx, "hooks", a.ID, "r2", 3, now, now), store.ErrLeaseLost)
	require.NoError(t, f.AdvanceFeed(ctx, "hooks", a.ID, "r1", 2, now, now.Add(time.Minute)))
	require.NoError(t, f.AdvanceFeed(ctx, "hooks", a.ID, "r1", 2, now, now)) // released
	assert.Equal(t, store.FeedPosition{OrgID: a.ID, After: 2, Last: 3}, orgs("hooks")[a.ID])
	assert.ErrorIs(t, f.AdvanceFeed(ctx, "hooks", a.ID, "r1", 3, now, now), store.ErrLeaseLost, "a released lease is not held")

	// A failure releases the lease, keeps the cursor, and hides the org
	// until its next attempt; the count comes back with the next claim,
	// and a success clears it.
	_, ok, err = f.ClaimFeed(ctx, "hooks", a.ID, "r1", now, now.Add(time.Minute))
	require.NoError(t, err)
	require.True(t, ok)
	assert.ErrorIs(t, f.FailFeed(ctx, "hooks", a.ID, "r2", 1, now, now.Add(time.Second)), store.ErrLeaseLost)
	require.NoError(t, f.FailFeed(ctx, "hooks", a.ID, "r1", 1, now, now.Add(time.Second)))
	assert.NotContains(t, orgs("hooks"), a.ID, "an org waiting out its backoff is not listed")
	assert.Contains(t, orgs("hooks"), b.ID, "the other orgs are")
	now = now.Add(time.Second)
	assert.Contains(t, orgs("hooks"), a.ID)
	c, ok, err = f.ClaimFeed(ctx, "hooks", a.ID, "r2", now, now.Add(time.Minute))
	require.NoError(t, err)
	require.True(t, ok, "a failure released the lease")
	assert.Equal(t, store.FeedCursor{After: 2, Failures: 1}, c)
	require.NoError(t, f.FailFeed(ctx, "hooks", a.ID, "r2", 2, now, now))
	c, _, err = f.ClaimFeed(ctx, "hooks", a.ID, "r2", now, now.Add(time.Second))
	require.NoError(t, err)
	assert.Equal(t, 2, c.Failures)
	require.NoError(t, f.FailFeed(ctx, "hooks", a.ID, "r2", 3, now, now.Add(time.Hour)))
	assert.NotContains(t, orgs("hooks"), a.ID)
	require.NoError(t, f.RetryFeed(ctx, "hooks"))
	assert.Equal(t, store.FeedPosition{OrgID: a.ID, After: 2, Last: 3}, orgs("hooks")[a.ID], "a retry ends the backoff, not the position")
	c, _, err = f.ClaimFeed(ctx, "hooks", a.ID, "r2", now, now.Add(time.Second))
	require.NoError(t, err)
	assert.Equal(t, store.FeedCursor{After: 2}, c)
	require.NoError(t, f.AdvanceFeed(ctx, "hooks", a.ID, "r2", 2, now, now.Add(time.Second)))

	// An expired lease is taken over; its old owner can no longer move it.
	now = now.Add(2 * time.Second)
	c, ok, err = f.ClaimFeed(ctx, "hooks", a.ID, "r3", now, now.Add(time.Minute))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, store.FeedCursor{After: 2}, c, "the success cleared the failures")
	assert.ErrorIs(t, f.AdvanceFeed(ctx, "hooks", a.ID, "r2", 3, now, now), store.ErrLeaseLost)
	require.NoError(t, f.AdvanceFeed(ctx, "hooks", a.ID, "r3", 3, now, now))
	assert.NotContains(t, orgs("hooks"), a.ID, "a cursor at the last event is not listed")

	// Replays move cursors back and take their lease away: the relay
	// holding it cannot write its own position over the replay.
	_, ok, err = f.ClaimFeed(ctx, "hooks", b.ID, "r1", now, now.Add(time.Minute))
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, f.SetFeedCursor(ctx, "hooks", a.ID, 1))
	assert.Equal(t, int64(1), orgs("hooks")[a.ID].After)
	require.NoError(t, f.SetFeedCursor(ctx, "hooks", b.ID, 0))
	assert.ErrorIs(t, f.AdvanceFeed(ctx, "hooks", b.ID, "r1", 1, now, now), store.ErrLeaseLost)
	assert.Equal(t, int64(0), orgs("hooks")[b.ID].After)
	require.NoError(t, f.SetFeedCursor(ctx, "hooks", a.ID, 3))
	require.NoError(t, f.SetFeedCursor(ctx, "hooks", "", 0))
	assert.Equal(t, int64(0), orgs("hooks")[a.ID].After)
	assert.Error(t, f.SetFeedCursor(ctx, "hooks", "", 2))
}

// Of many relays claiming one cursor at once, one wins.
func testFeedConcurrentClaims(t *testing.T, s store.Store) {
	f := feedOf(t, s)
	ctx := context.Background()
	a := newOrg(t, s, "Acme")
	require.NoError(t, appendEvents(ctx, s, a.ID, 1, false))
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := f.ClaimFeed(ctx, "hooks", a.ID, fmt.Sprint("relay-", i), t0, t0.Add(time.Minute))
			if assert.NoError(t, err) && ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load())
}

// A subscriber's state round-trips, and updates from many goroutines at
// once are all applied.
func testFeedSubscribers(t *testing.T, s store.Store) {
	f := feedOf(t, s)
	ctx := context.Background()
	st, err := f.Subscriber(ctx, "hooks")
	require.NoError(t, err)
	assert.Equal(t, store.SubscriberState{Name: "hooks"}, st)
	want := store.SubscriberState{Name: "hooks", Paused: true, Failures: 2,
		DisabledAt: t0.Add(time.Hour), LastError: "503 — « indisponible »", Created: t0}
	require.NoError(t, f.UpdateSubscriber(ctx, "hooks", func(s *store.SubscriberState) error { *s = want; return nil }))
	st, err = f.Subscriber(ctx, "hooks")
	require.NoError(t, err)
	want.DisabledAt, want.Created = store.Time(want.DisabledAt), store.Time(want.Created)
	assert.Equal(t, want, st)
	boom := errors.New("no")
	assert.ErrorIs(t, f.UpdateSubscriber(ctx, "hooks", func(s *store.SubscriberState) error { s.Failures = 99; return boom }), boom)

	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, f.UpdateSubscriber(ctx, "mail", func(s *store.SubscriberState) error { s.Failures++; return nil }))
		}()
	}
	wg.Wait()
	st, err = f.Subscriber(ctx, "mail")
	require.NoError(t, err)
	assert.Equal(t, 20, st.Failures)
	st, err = f.Subscriber(ctx, "hooks")
	require.NoError(t, err)
	assert.Equal(t, 2, st.Failures)
}
