package relay

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/memberkit/memberkit/store"
)

// maxBatchesPerOrg bounds the batches one org gets in a pass, so that a
// busy org does not hold the others back.
const maxBatchesPerOrg = 16

// bookkeeping bounds a progress record or a release made after the
// pass's context ended: they still run, so that a delivered batch is not
// delivered again and the org's lease is freed, but never hang.
const bookkeeping = 5 * time.Second

// Pass delivers to s what is pending now, org by org, and returns how many
// events it delivered. It does nothing while s is paused or disabled, and
// skips the orgs waiting out a backoff. When a Deliver fails it records
// the failure on that org (backing it off, or disabling s after
// MaxFailures in a row) and returns a [*DeliveryError] once the other
// orgs had their turn. Run calls Pass in a loop; a host that schedules
// its own work may call it instead, from any goroutine.
func (r *Relay) Pass(ctx context.Context, s Subscriber) (int, error) {
	if err := check(s); err != nil {
		return 0, err
	}
	state, err := r.state(ctx, s)
	if err != nil {
		return 0, err
	}
	if state.Paused || !state.DisabledAt.IsZero() {
		return 0, nil
	}
	orgs, err := r.feed.FeedOrgs(ctx, s.Name, r.clock.Now(), r.o.OrgsPerPass)
	if err != nil {
		return 0, err
	}
	delivered := 0
	var failed error
	for _, p := range orgs {
		n, err := r.org(ctx, s, p.OrgID)
		delivered += n
		var de *DeliveryError
		switch {
		case errors.As(err, &de) && !de.Disabled:
			failed = errors.Join(failed, err) // the other orgs go on
		case err != nil:
			return delivered, errors.Join(failed, err)
		}
	}
	return delivered, failed
}

// state reads s's stored state; a subscriber seen for the first time is
// set up first: its cursors at each org's last event when it starts from
// now.
func (r *Relay) state(ctx context.Context, s Subscriber) (store.SubscriberState, error) {
	st, err := r.feed.Subscriber(ctx, s.Name)
	if err != nil || !st.Created.IsZero() {
		return st, err
	}
	if s.FromNow {
		for {
			// Orgs already at their last event, or leased (by a relay
			// setting up the same subscriber), are not listed again.
			ps, err := r.feed.FeedOrgs(ctx, s.Name, r.clock.Now(), 1000)
			if err != nil {
				return st, err
			}
			if len(ps) == 0 {
				break
			}
			for _, p := range ps {
				if err := r.feed.SetFeedCursor(ctx, s.Name, p.OrgID, p.Last); err != nil {
					return st, err
				}
			}
		}
	}
	err = r.feed.UpdateSubscriber(ctx, s.Name, func(cur *store.SubscriberState) error {
		if cur.Created.IsZero() {
			cur.Created = r.clock.Now()
		}
		st = *cur
		return nil
	})
	return st, err
}

// org delivers one org's pending events under a lease of its own.
func (r *Relay) org(ctx context.Context, s Subscriber, orgID string) (int, error) {
	owner := r.o.Owner + "/" + rand.Text()[:8] // this claim's: no other pass shares it
	now := r.clock.Now()
	c, ok, err := r.feed.ClaimFeed(ctx, s.Name, orgID, owner, now, now.Add(r.o.Lease))
	if err != nil || !ok {
		return 0, err
	}
	// Progress is recorded even when ctx ends right after a delivery.
	book := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(ctx), bookkeeping)
	}
	lost := func(err error) error {
		if errors.Is(err, store.ErrLeaseLost) {
			// Expired, or taken away by a replay: whoever has the org now
			// carries on from its cursor.
			r.log.WarnContext(ctx, "memberkit: relay lease lost; a batch may be delivered twice", "subscriber", s.Name, "org", orgID)
			return nil
		}
		return err
	}
	advance := func(seq int64, keep bool) error {
		bctx, cancel := book()
		defer cancel()
		now := r.clock.Now()
		until := now
		if keep {
			until = now.Add(r.o.Lease)
		}
		return r.feed.AdvanceFeed(bctx, s.Name, orgID, owner, seq, now, until)
	}
	size := r.o.BatchSize
	if s.BatchSize > 0 {
		size = s.BatchSize
	}
	after, delivered := c.After, 0
	for range maxBatchesPerOrg {
		evs, err := r.feed.EventsAfter(ctx, orgID, after, max(size, r.o.BatchSize))
		if err != nil || len(evs) == 0 {
			return delivered, errors.Join(err, lost(advance(after, false)))
		}
		last := evs[len(evs)-1].Seq
		kept := evs[:0]
		for _, e := range evs {
			if len(s.Types) == 0 || slices.Contains(s.Types, e.Type) {
				kept = append(kept, e)
			}
		}
		for chunk := range slices.Chunk(kept, size) {
			dctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
			err = s.Deliver(dctx, Batch{OrgID: orgID, Events: chunk})
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return delivered, errors.Join(ctx.Err(), lost(advance(after, false)))
				}
				return delivered, r.failed(ctx, s, orgID, owner, c.Failures+1, err)
			}
			delivered += len(chunk)
			after = chunk[len(chunk)-1].Seq
			if after != last { // progress within the batch
				if err := advance(after, true); err != nil {
					return delivered, lost(err)
				}
			}
		}
		if err := advance(last, true); err != nil {
			return delivered, lost(err)
		}
		if c.Failures > 0 { // this org recovered: the subscriber's last failure, if it was this org's, is over
			if err := r.feed.UpdateSubscriber(ctx, s.Name, func(st *store.SubscriberState) error {
				if strings.HasPrefix(st.LastError, orgID+": ") {
					st.Failures, st.LastError = 0, ""
				}
				return nil
			}); err != nil {
				return delivered, errors.Join(err, lost(advance(last, false)))
			}
		}
		after, c.Failures = last, 0
		if ctx.Err() != nil {
			break
		}
	}
	return delivered, lost(advance(after, false))
}

// failed records a failed delivery on the org's cursor (its backoff) and
// on the subscriber (its last error; disabled after MaxFailures in a row).
func (r *Relay) failed(ctx context.Context, s Subscriber, orgID, owner string, failures int, cause error) error {
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeeping)
	defer cancel()
	de := &DeliveryError{Subscriber: s.Name, OrgID: orgID, Failures: failures, Err: cause}
	now := r.clock.Now()
	if err := r.feed.FailFeed(bctx, s.Name, orgID, owner, failures, now, now.Add(r.backoff(failures))); err != nil && !errors.Is(err, store.ErrLeaseLost) {
		return errors.Join(de, err)
	}
	err := r.feed.UpdateSubscriber(bctx, s.Name, func(st *store.SubscriberState) error {
		st.Failures, st.LastError = failures, truncate(orgID+": "+cause.Error(), 500)
		if failures >= r.o.MaxFailures && st.DisabledAt.IsZero() {
			st.DisabledAt = now
		}
		de.Disabled = !st.DisabledAt.IsZero()
		return nil
	})
	if err != nil {
		return errors.Join(de, err)
	}
	if de.Disabled {
		r.log.ErrorContext(ctx, "memberkit: relay subscriber disabled after failures in a row", "subscriber", s.Name, "org", orgID, "failures", failures, "err", cause)
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

// Resume resumes delivery to a paused or disabled subscriber at once:
// the orgs that were failing are tried again at the next pass, their
// failures forgotten.
func (r *Relay) Resume(ctx context.Context, name string) error {
	if err := r.feed.RetryFeed(ctx, name); err != nil {
		return err
	}
	return r.feed.UpdateSubscriber(ctx, name, func(st *store.SubscriberState) error {
		st.Paused, st.DisabledAt, st.Failures, st.LastError = false, time.Time{}, 0, ""
		return nil
	})
}

// Replay makes the subscriber receive again an org's events after Seq
// after (0: from its first event), at once, whatever that org's backoff;
// orgID "" replays every org from its first event (after must then be
// 0). A relay delivering that org at the time loses its lease and stops
// after its current batch. An after beyond the org's last event skips
// the events up to it.
func (r *Relay) Replay(ctx context.Context, name, orgID string, after int64) error {
	if after < 0 {
		return errors.New("relay: replay after a negative Seq")
	}
	return r.feed.SetFeedCursor(ctx, name, orgID, after)
}

// State returns what the store keeps of a subscriber: paused, disabled,
// the last failure.
func (r *Relay) State(ctx context.Context, name string) (store.SubscriberState, error) {
	return r.feed.Subscriber(ctx, name)
}
