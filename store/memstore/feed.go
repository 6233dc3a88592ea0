package memstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

var _ store.Feed = (*Store)(nil)

type cursorKey struct{ subscriber, orgID string }

type cursor struct {
	seq      int64
	owner    string
	until    time.Time
	failures int
	next     time.Time
}

// FeedOrgs lists the orgs with events past the subscriber's cursor whose
// cursor is free, released longest ago first.
func (s *Store) FeedOrgs(ctx context.Context, subscriber string, now time.Time, limit int) ([]store.FeedPosition, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	s.mu.RLock()
	last := make(map[string]int64, len(s.orgs))
	for id, st := range s.orgs {
		st.mu.RLock()
		last[id] = st.seq
		st.mu.RUnlock()
	}
	s.mu.RUnlock()
	type candidate struct {
		p     store.FeedPosition
		until time.Time
	}
	var cs []candidate
	s.fmu.Lock()
	for id, seq := range last {
		c := s.cursors[cursorKey{subscriber, id}]
		if seq > c.seq && !c.until.After(now) && !c.next.After(now) {
			cs = append(cs, candidate{store.FeedPosition{OrgID: id, After: c.seq, Last: seq}, c.until})
		}
	}
	s.fmu.Unlock()
	slices.SortFunc(cs, func(a, b candidate) int {
		return cmp.Or(a.until.Compare(b.until), cmp.Compare(a.p.OrgID, b.p.OrgID))
	})
	out := make([]store.FeedPosition, 0, min(limit, len(cs)))
	for _, c := range cs[:min(limit, len(cs))] {
		out = append(out, c.p)
	}
	return out, nil
}

// ClaimFeed leases a cursor to owner when it is free.
func (s *Store) ClaimFeed(ctx context.Context, subscriber, orgID, owner string, now, until time.Time) (store.FeedCursor, bool, error) {
	if err := ctx.Err(); err != nil {
		return store.FeedCursor{}, false, err
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	k := cursorKey{subscriber, orgID}
	c := s.cursors[k]
	fc := store.FeedCursor{After: c.seq, Failures: c.failures}
	if c.owner != owner && c.until.After(now) {
		return fc, false, nil
	}
	c.owner, c.until = owner, until
	s.cursors[k] = c
	return fc, true, nil
}

// held returns the cursor owner holds at now, or ErrLeaseLost.
func (s *Store) held(subscriber, orgID, owner string, now time.Time) (cursor, error) {
	c := s.cursors[cursorKey{subscriber, orgID}]
	if c.owner != owner || !c.until.After(now) {
		return c, fmt.Errorf("feed %s of org %s: %w", subscriber, orgID, store.ErrLeaseLost)
	}
	return c, nil
}

// AdvanceFeed moves a cursor its owner still holds.
func (s *Store) AdvanceFeed(ctx context.Context, subscriber, orgID, owner string, seq int64, now, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	c, err := s.held(subscriber, orgID, owner, now)
	if err != nil {
		return err
	}
	c.seq, c.failures, c.next = seq, 0, time.Time{}
	if !until.After(now) {
		c.owner, c.until = "", now
	} else {
		c.until = until
	}
	s.cursors[cursorKey{subscriber, orgID}] = c
	return nil
}

// FailFeed records a failed delivery and releases the lease.
func (s *Store) FailFeed(ctx context.Context, subscriber, orgID, owner string, failures int, now, next time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	c, err := s.held(subscriber, orgID, owner, now)
	if err != nil {
		return err
	}
	c.owner, c.until, c.failures, c.next = "", now, failures, next
	s.cursors[cursorKey{subscriber, orgID}] = c
	return nil
}

// EventsAfter returns an org's events after a Seq, in Seq order.
func (s *Store) EventsAfter(ctx context.Context, orgID string, after int64, limit int) ([]membership.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, err := s.state(orgID)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	if after < 0 {
		after = 0
	}
	if after >= int64(len(st.log)) {
		return nil, nil
	}
	out := slices.Clone(st.log[after:min(int64(len(st.log)), after+int64(limit))])
	for i := range out {
		out[i].Attributes = out[i].Attributes.Clone()
	}
	return out, nil
}

// RetryFeed clears the backoff of every cursor of a subscriber.
func (s *Store) RetryFeed(ctx context.Context, subscriber string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	for k, c := range s.cursors {
		if k.subscriber == subscriber {
			c.failures, c.next = 0, time.Time{}
			s.cursors[k] = c
		}
	}
	return nil
}

// SetFeedCursor moves a cursor whatever its lease, and takes the lease away.
func (s *Store) SetFeedCursor(ctx context.Context, subscriber, orgID string, seq int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if orgID == "" {
		if seq != 0 {
			return errors.New("memstore: a cursor of every org can only go back to 0")
		}
		for k := range s.cursors {
			if k.subscriber == subscriber {
				s.cursors[k] = cursor{}
			}
		}
		return nil
	}
	s.cursors[cursorKey{subscriber, orgID}] = cursor{seq: seq}
	return nil
}

// Subscriber returns a subscriber's state.
func (s *Store) Subscriber(ctx context.Context, name string) (store.SubscriberState, error) {
	if err := ctx.Err(); err != nil {
		return store.SubscriberState{}, err
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	st, ok := s.subs[name]
	if !ok {
		st.Name = name
	}
	return st, nil
}

// UpdateSubscriber runs fn on a subscriber's state under the feed's lock.
func (s *Store) UpdateSubscriber(ctx context.Context, name string, fn func(st *store.SubscriberState) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	st, ok := s.subs[name]
	if !ok {
		st.Name = name
	}
	if err := fn(&st); err != nil {
		return err
	}
	st.Name = name
	st.DisabledAt, st.Created = store.Time(st.DisabledAt), store.Time(st.Created)
	s.subs[name] = st
	return nil
}

// orderEvents keeps the events by ID after log[n:] was appended: each
// event is kept once, in log, and byID orders it by ID (stably, so that
// equal IDs stay in commit order) only once IDs stop coming in order.
// The caller holds st.mu.
func (st *orgState) orderEvents(n int) {
	if st.byID == nil {
		inOrder := true
		for i := max(n, 1); i < len(st.log) && inOrder; i++ {
			inOrder = st.log[i-1].ID <= st.log[i].ID
		}
		if inOrder {
			return
		}
		st.byID = make([]uint32, n, len(st.log))
		for i := range st.byID {
			st.byID[i] = uint32(i)
		}
	}
	for i := n; i < len(st.log); i++ {
		st.byID = append(st.byID, uint32(i))
	}
	inOrder := true
	for i := max(n, 1); i < len(st.byID) && inOrder; i++ {
		inOrder = st.log[st.byID[i-1]].ID <= st.log[st.byID[i]].ID
	}
	if !inOrder {
		slices.SortStableFunc(st.byID, func(a, b uint32) int { return cmp.Compare(st.log[a].ID, st.log[b].ID) })
	}
}

// eventByID returns the i-th committed event in ID order.
func (st *orgState) eventByID(i int) membership.Event {
	if st.byID == nil {
		return st.log[i]
	}
	return st.log[st.byID[i]]
}
