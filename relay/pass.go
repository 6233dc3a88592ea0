package relay

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/memberkit/memberkit/store"
)

// maxBatchesPerOrg bounds the batches one org gets in a pass, so that a
// busy org does not hold the others back.
const maxBatchesPerOrg = 16

// Pass delivers to s what is pending now, org by org, and returns how many
// events it delivered. It does nothing while s is paused, disabled or
// waiting out a backoff. When a Deliver fails it records the failure
// (backing off, or disabling s after MaxFailures in a row) and returns a
// [*DeliveryError]. Run calls Pass in a loop; a host that schedules its
// own work may call it instead.
func (r *Relay) Pass(ctx context.Context, s Subscriber) (int, error) {
	if err := check(s); err != nil {
		return 0, err
	}
	state, err := r.state(ctx, s)
	if err != nil {
		return 0, err
	}
	now := r.clock.Now()
	if state.Paused || !state.DisabledAt.IsZero() || now.Before(state.NextAttempt) {
		return 0, nil
	}
	orgs, err := r.feed.FeedOrgs(ctx, s.Name, now, r.o.OrgsPerPass)
	if err != nil {
		return 0, err
	}
	delivered := 0
	for _, p := range orgs {
		n, err := r.org(ctx, s, state, p.OrgID)
		delivered += n
		if err != nil {
			return delivered, err
		}
		if n > 0 && state.Failures > 0 {
			if err := r.feed.UpdateSubscriber(ctx, s.Name, func(st *store.SubscriberState) error {
				st.Failures, st.NextAttempt, st.LastError = 0, time.Time{}, ""
				return nil
			}); err != nil {
				return delivered, err
			}
			state.Failures = 0
		}
	}
	return delivered, nil
}

// state reads s's stored state, storing it first when s is new.
func (r *Relay) state(ctx context.Context, s Subscriber) (store.SubscriberState, error) {
	st, err := r.feed.Subscriber(ctx, s.Name)
	if err != nil || !st.Created.IsZero() {
		return st, err
	}
	err = r.feed.UpdateSubscriber(ctx, s.Name, func(cur *store.SubscriberState) error {
		if cur.Created.IsZero() {
			cur.Created = r.clock.Now()
			if s.FromNow {
				cur.Since = cur.Created
			}
		}
		st = *cur
		return nil
	})
	return st, err
}

// org delivers one org's pending events under a lease.
func (r *Relay) org(ctx context.Context, s Subscriber, state store.SubscriberState, orgID string) (int, error) {
	now := r.clock.Now()
	after, ok, err := r.feed.ClaimFeed(ctx, s.Name, orgID, r.o.Owner, now, now.Add(r.o.Lease))
	if err != nil || !ok {
		return 0, err
	}
	release := func(seq int64) error {
		now := r.clock.Now()
		err := r.feed.AdvanceFeed(context.WithoutCancel(ctx), s.Name, orgID, r.o.Owner, seq, now, now)
		if errors.Is(err, store.ErrLeaseLost) {
			return nil // another relay has it: it will carry on from the cursor
		}
		return err
	}
	size := r.o.BatchSize
	if s.BatchSize > 0 {
		size = s.BatchSize
	}
	delivered := 0
	// advance records progress to seq, keeping the lease.
	advance := func(seq int64) (lost bool, err error) {
		now := r.clock.Now()
		err = r.feed.AdvanceFeed(ctx, s.Name, orgID, r.o.Owner, seq, now, now.Add(r.o.Lease))
		if errors.Is(err, store.ErrLeaseLost) {
			r.log.WarnContext(ctx, "memberkit: relay lease lost; the batch may be delivered twice", "subscriber", s.Name, "org", orgID)
			return true, nil
		}
		return false, err
	}
	for range maxBatchesPerOrg {
		evs, err := r.feed.EventsAfter(ctx, orgID, after, r.o.BatchSize)
		if err != nil || len(evs) == 0 {
			return delivered, errors.Join(err, release(after))
		}
		last := evs[len(evs)-1].Seq
		kept := evs[:0]
		for _, e := range evs {
			if !e.At.Before(state.Since) && (len(s.Types) == 0 || slices.Contains(s.Types, e.Type)) {
				kept = append(kept, e)
			}
		}
		for chunk := range slices.Chunk(kept, size) {
			dctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
			err = s.Deliver(dctx, Batch{OrgID: orgID, Events: chunk})
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return delivered, errors.Join(ctx.Err(), release(after))
				}
				return delivered, errors.Join(r.failed(ctx, s, orgID, err), release(after))
			}
			delivered += len(chunk)
			after = chunk[len(chunk)-1].Seq
			if len(kept) > size { // progress within the batch
				if lost, err := advance(after); lost || err != nil {
					return delivered, err
				}
			}
		}
		if lost, err := advance(last); lost || err != nil {
			return delivered, err
		}
		after = last
	}
	return delivered, release(after)
}

// failed records a failed delivery: the next attempt waits a backoff, and
// MaxFailures in a row disable the subscriber.
func (r *Relay) failed(ctx context.Context, s Subscriber, orgID string, cause error) error {
	de := &DeliveryError{Subscriber: s.Name, OrgID: orgID, Err: cause}
	err := r.feed.UpdateSubscriber(context.WithoutCancel(ctx), s.Name, func(st *store.SubscriberState) error {
		now := r.clock.Now()
		st.Failures++
		st.LastError = truncate(cause.Error(), 500)
		st.NextAttempt = now.Add(r.backoff(st.Failures))
		if st.Failures >= r.o.MaxFailures {
			st.DisabledAt = now
		}
		de.Failures, de.Disabled = st.Failures, !st.DisabledAt.IsZero()
		return nil
	})
	if err != nil {
		return errors.Join(de, err)
	}
	if de.Disabled {
		r.log.ErrorContext(ctx, "memberkit: relay subscriber disabled after failures in a row", "subscriber", s.Name, "failures", de.Failures, "err", cause)
	}
	return de
}

// backoff is the wait after n failures in a row: Backoff×2^(n−1), at
// most MaxBackoff, ±20 %.
func (r *Relay) backoff(n int) time.Duration {
	d := r.o.Backoff
	for i := 1; i < n && d < r.o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.o.MaxBackoff)
	r.mu.Lock()
	j := r.jitter()
	r.mu.Unlock()
	return time.Duration(float64(d) * j)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// Pause stops delivery to the subscriber named name until Resume; its
// cursors stay where they are.
func (r *Relay) Pause(ctx context.Context, name string) error {
	return r.feed.UpdateSubscriber(ctx, name, func(st *store.SubscriberState) error {
		st.Paused = true
		return nil
	})
}

// Resume resumes delivery to a paused or disabled subscriber at once,
// forgetting its failures.
func (r *Relay) Resume(ctx context.Context, name string) error {
	return r.feed.UpdateSubscriber(ctx, name, func(st *store.SubscriberState) error {
		st.Paused, st.DisabledAt, st.Failures, st.NextAttempt, st.LastError = false, time.Time{}, 0, time.Time{}, ""
		return nil
	})
}

// Replay makes the subscriber receive again an org's events after Seq
// after (0: from its first event); orgID "" replays every org from its
// first event (after must then be 0).
func (r *Relay) Replay(ctx context.Context, name, orgID string, after int64) error {
	if after < 0 {
		return errors.New("relay: replay after a negative Seq")
	}
	return r.feed.SetFeedCursor(ctx, name, orgID, after)
}

// State returns what the store keeps of a subscriber: paused, failures,
// disabled, last error.
func (r *Relay) State(ctx context.Context, name string) (store.SubscriberState, error) {
	return r.feed.Subscriber(ctx, name)
}
