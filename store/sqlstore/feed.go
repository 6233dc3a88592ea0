package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

var _ store.Feed = (*Store)(nil)

// FeedOrgs lists orgs whose last event is past the subscriber's cursor and
// whose cursor is not leased, those released longest ago first: one index
// scan of the orgs (event_seq is in the org's row) joined to the
// subscriber's cursors.
func (s *Store) FeedOrgs(ctx context.Context, subscriber string, now time.Time, limit int) ([]store.FeedPosition, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT o.id, COALESCE(c.seq, 0), o.event_seq FROM memberkit_orgs o
		LEFT JOIN memberkit_feed_cursors c ON c.subscriber = ? AND c.org_id = o.id
		WHERE o.event_seq > COALESCE(c.seq, 0) AND COALESCE(c.lease_until, 0) <= ? AND COALESCE(c.next_attempt, 0) <= ?
		ORDER BY COALESCE(c.lease_until, 0), o.id LIMIT `+fmt.Sprint(limit)), subscriber, micros(now), micros(now))
	if err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("sqlstore: feed orgs: %w", err))
	}
	defer rows.Close()
	var out []store.FeedPosition
	for rows.Next() {
		var p store.FeedPosition
		if err := rows.Scan(&p.OrgID, &p.After, &p.Last); err != nil {
			return nil, ctxErr(ctx, fmt.Errorf("sqlstore: feed orgs: %w", err))
		}
		out = append(out, p)
	}
	return out, ctxErr(ctx, rows.Err())
}

// cursor is the stored (subscriber, org) cursor, read under its row lock.
type cursor struct {
	seq      int64
	owner    string
	until    int64
	failures int
	next     int64
}

// withCursor runs fn on the (subscriber, org) cursor, created at 0 when
// missing, under its row lock (the write lock on SQLite), and stores what
// fn returns when it returns true.
func (s *Store) withCursor(ctx context.Context, subscriber, orgID string, fn func(c *cursor) (bool, error)) error {
	ensure := s.d.ensureRow("memberkit_feed_cursors", "subscriber, org_id, seq, owner, lease_until, failures, next_attempt", 7)
	return s.lockedRow(ctx, "feed cursor", subscriber+"/"+orgID, ensure, []any{subscriber, orgID, 0, "", 0, 0, 0}, func(q querier) error {
		var c cursor
		err := q.QueryRowContext(ctx, s.d.rebind(`SELECT seq, owner, lease_until, failures, next_attempt FROM memberkit_feed_cursors WHERE subscriber = ? AND org_id = ?`+s.d.lockRow()), subscriber, orgID).
			Scan(&c.seq, &c.owner, &c.until, &c.failures, &c.next)
		if err != nil {
			return ctxErr(ctx, fmt.Errorf("sqlstore: feed cursor: %w", err))
		}
		write, err := fn(&c)
		if err != nil || !write {
			return err
		}
		if _, err := q.ExecContext(ctx, s.d.rebind(`UPDATE memberkit_feed_cursors SET seq = ?, owner = ?, lease_until = ?, failures = ?, next_attempt = ? WHERE subscriber = ? AND org_id = ?`),
			c.seq, c.owner, c.until, c.failures, c.next, subscriber, orgID); err != nil {
			return ctxErr(ctx, fmt.Errorf("sqlstore: feed cursor: %w", err))
		}
		return nil
	})
}

// ClaimFeed leases a cursor to owner when it is free.
func (s *Store) ClaimFeed(ctx context.Context, subscriber, orgID, owner string, now, until time.Time) (store.FeedCursor, bool, error) {
	var fc store.FeedCursor
	var ok bool
	err := s.withCursor(ctx, subscriber, orgID, func(c *cursor) (bool, error) {
		fc, ok = store.FeedCursor{After: c.seq, Failures: c.failures}, c.owner == owner || c.until <= micros(now)
		if !ok {
			return false, nil
		}
		c.owner, c.until = owner, micros(until)
		return true, nil
	})
	return fc, ok, err
}

// AdvanceFeed moves a cursor its owner still holds: one conditional
// UPDATE where the database counts matched rows, a locked read and a
// write otherwise.
func (s *Store) AdvanceFeed(ctx context.Context, subscriber, orgID, owner string, seq int64, now, until time.Time) error {
	newOwner, newUntil := owner, micros(until)
	if !until.After(now) {
		newOwner, newUntil = "", micros(now) // released now: served last
	}
	lost := fmt.Errorf("feed %s of org %s: %w", subscriber, orgID, store.ErrLeaseLost)
	if s.d.matchedRows() {
		res, err := s.db.ExecContext(ctx, s.d.rebind(`UPDATE memberkit_feed_cursors SET seq = ?, owner = ?, lease_until = ?, failures = 0, next_attempt = 0
			WHERE subscriber = ? AND org_id = ? AND owner = ? AND lease_until > ?`),
			seq, newOwner, newUntil, subscriber, orgID, owner, micros(now))
		if err != nil {
			return ctxErr(ctx, fmt.Errorf("sqlstore: feed cursor: %w", err))
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return lost
		}
		return nil
	}
	return s.withCursor(ctx, subscriber, orgID, func(c *cursor) (bool, error) {
		if c.owner != owner || c.until <= micros(now) {
			return false, lost
		}
		c.seq, c.owner, c.until, c.failures, c.next = seq, newOwner, newUntil, 0, 0
		return true, nil
	})
}

// FailFeed records a failed delivery and releases the lease.
func (s *Store) FailFeed(ctx context.Context, subscriber, orgID, owner string, failures int, now, next time.Time) error {
	return s.withCursor(ctx, subscriber, orgID, func(c *cursor) (bool, error) {
		if c.owner != owner || c.until <= micros(now) {
			return false, fmt.Errorf("feed %s of org %s: %w", subscriber, orgID, store.ErrLeaseLost)
		}
		c.owner, c.until, c.failures, c.next = "", micros(now), failures, micros(next)
		return true, nil
	})
}

// EventsAfter reads an org's events after a Seq, in Seq order.
func (s *Store) EventsAfter(ctx context.Context, orgID string, after int64, limit int) ([]membership.Event, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT `+eventCols+` FROM memberkit_events WHERE org_id = ? AND seq > ? ORDER BY seq LIMIT `+fmt.Sprint(limit)), orgID, after)
	if err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("sqlstore: events after: %w", err))
	}
	evs, err := scanEvents(rows)
	return evs, ctxErr(ctx, err)
}

// RetryFeed clears the backoff of every cursor of a subscriber.
func (s *Store) RetryFeed(ctx context.Context, subscriber string) error {
	_, err := s.db.ExecContext(ctx, s.d.rebind(`UPDATE memberkit_feed_cursors SET failures = 0, next_attempt = 0 WHERE subscriber = ?`), subscriber)
	return ctxErr(ctx, err)
}

// SetFeedCursor moves a cursor whatever its lease, and takes the lease away.
func (s *Store) SetFeedCursor(ctx context.Context, subscriber, orgID string, seq int64) error {
	if orgID == "" {
		if seq != 0 {
			return errors.New("sqlstore: a cursor of every org can only go back to 0")
		}
		_, err := s.db.ExecContext(ctx, s.d.rebind(`UPDATE memberkit_feed_cursors SET seq = 0, owner = '', lease_until = 0, failures = 0, next_attempt = 0 WHERE subscriber = ?`), subscriber)
		return ctxErr(ctx, err)
	}
	return s.withCursor(ctx, subscriber, orgID, func(c *cursor) (bool, error) {
		c.seq, c.owner, c.until, c.failures, c.next = seq, "", 0, 0, 0
		return true, nil
	})
}

const subscriberCols = `name, paused, failures, disabled_at, last_error, created_at`

func readSubscriber(ctx context.Context, d dialect, q querier, name, suffix string) (store.SubscriberState, error) {
	st := store.SubscriberState{Name: name}
	var disabled, created int64
	var got string
	err := q.QueryRowContext(ctx, d.rebind(`SELECT `+subscriberCols+` FROM memberkit_subscribers WHERE name = ?`+suffix), name).
		Scan(&got, &st.Paused, &st.Failures, &disabled, &st.LastError, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, ctxErr(ctx, fmt.Errorf("sqlstore: subscriber: %w", err))
	}
	st.DisabledAt, st.Created = fromMicros(disabled), fromMicros(created)
	return st, nil
}

// Subscriber reads a subscriber's state.
func (s *Store) Subscriber(ctx context.Context, name string) (store.SubscriberState, error) {
	if err := ctx.Err(); err != nil {
		return store.SubscriberState{}, err
	}
	return readSubscriber(ctx, s.d, s.db, name, "")
}

// UpdateSubscriber runs fn on a subscriber's state under its row lock.
func (s *Store) UpdateSubscriber(ctx context.Context, name string, fn func(st *store.SubscriberState) error) error {
	ensure := s.d.ensureRow("memberkit_subscribers", subscriberCols, 6)
	return s.lockedRow(ctx, "subscriber", name, ensure, []any{name, false, 0, 0, "", 0}, func(q querier) error {
		st, err := readSubscriber(ctx, s.d, q, name, s.d.lockRow())
		if err != nil {
			return err
		}
		if err := fn(&st); err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, s.d.rebind(`UPDATE memberkit_subscribers SET paused = ?, failures = ?, disabled_at = ?, last_error = ?, created_at = ? WHERE name = ?`),
			st.Paused, st.Failures, micros(st.DisabledAt), st.LastError, micros(st.Created), name)
		if err != nil {
			return ctxErr(ctx, fmt.Errorf("sqlstore: subscriber: %w", err))
		}
		return nil
	})
}
