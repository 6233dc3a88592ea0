package store

import (
	"context"
	"time"

	"github.com/memberkit/memberkit/membership"
)

// ErrLeaseLost is returned by [Feed.AdvanceFeed] when the caller no longer
// holds the lease of the (subscriber, org) cursor it tries to move: it
// expired and another relay may have taken it.
var ErrLeaseLost = membership.NewSentinel("lease_lost", 409, "memberkit: the relay's lease on this feed was lost")

// Feed is an optional ability of a [Store]: the durable, ordered event
// log that package relay delivers from. A store that has it numbers each
// org's events as it appends them ([membership.Event.Seq]: 1, 2, 3…, no
// gap, in commit order, since appends happen inside Update under the
// org's lock), and keeps, per subscriber and org, a cursor (the last Seq
// delivered) and a lease (which relay is delivering, until when), and per
// subscriber a state ([SubscriberState]).
//
// Leases are what let several relays, in several processes, share one
// subscriber without two of them delivering the same org's events at
// once: a relay claims an org's cursor until a time, delivers, and moves
// the cursor only while it still holds the lease. Times are the relay's
// clock; relays sharing a store must have clocks closer than their
// lease's margin.
type Feed interface {
	// FeedOrgs lists up to limit orgs that have events after the
	// subscriber's cursor (0 for an org it never saw), whose cursor is
	// not leased at now and not waiting out a backoff (NextAttempt after
	// now), with the cursor's position; those released longest ago
	// first, so that every org comes up in turn.
	FeedOrgs(ctx context.Context, subscriber string, now time.Time, limit int) ([]FeedPosition, error)
	// ClaimFeed leases the (subscriber, org) cursor to owner until until,
	// when it is free at now (never leased, expired, or already owner's),
	// and returns the cursor; ok is false when another owner holds it.
	ClaimFeed(ctx context.Context, subscriber, orgID, owner string, now, until time.Time) (c FeedCursor, ok bool, err error)
	// AdvanceFeed moves the cursor to seq, clears its failures and sets
	// its lease to until, when owner still holds the lease at now (its
	// until is after now); otherwise ErrLeaseLost and nothing changes.
	// An until at or before now releases the lease, recording now as the
	// time it was released.
	AdvanceFeed(ctx context.Context, subscriber, orgID, owner string, seq int64, now, until time.Time) error
	// FailFeed records a failed delivery on the cursor owner holds: its
	// failures in a row become failures, the next attempt waits until
	// next, and the lease is released at now; the cursor does not move.
	// ErrLeaseLost when owner no longer holds the lease.
	FailFeed(ctx context.Context, subscriber, orgID, owner string, failures int, now, next time.Time) error
	// RetryFeed clears the failures and backoff of every cursor of the
	// subscriber, keeping their positions and leases: they come up at
	// once.
	RetryFeed(ctx context.Context, subscriber string) error
	// EventsAfter returns up to limit events of the org whose Seq is
	// greater than after, by ascending Seq.
	EventsAfter(ctx context.Context, orgID string, after int64, limit int) ([]membership.Event, error)
	// SetFeedCursor moves the subscriber's cursor of an org to seq (0:
	// before the first event), clears its failures and takes its lease
	// away, whoever held it: a replay, which the relay delivering that
	// org at the time cannot undo (its next AdvanceFeed fails). orgID ""
	// does so to every cursor the subscriber has, replaying every org
	// from its first event; seq must then be 0.
	SetFeedCursor(ctx context.Context, subscriber, orgID string, seq int64) error
	// Subscriber returns a subscriber's state, or the zero state (Name
	// set) when none is stored.
	Subscriber(ctx context.Context, name string) (SubscriberState, error)
	// UpdateSubscriber runs fn on a subscriber's state (the zero state,
	// Name set, when none is stored) and stores what fn leaves,
	// atomically with respect to every other UpdateSubscriber of that
	// name, in every process. fn's error stores nothing and is returned
	// as it is. fn may run more than once.
	UpdateSubscriber(ctx context.Context, name string, fn func(s *SubscriberState) error) error
}

// FeedCursor is a (subscriber, org) cursor as [Feed.ClaimFeed] returns it.
type FeedCursor struct {
	After    int64 // the last Seq delivered
	Failures int   // deliveries of this org failed in a row
}

// FeedPosition is an org with events a subscriber has not had, as
// [Feed.FeedOrgs] returns it.
type FeedPosition struct {
	OrgID string
	After int64 // the cursor: the last Seq delivered
	Last  int64 // the org's last Seq
}

// SubscriberState is what a store keeps of a subscriber of the event feed.
type SubscriberState struct {
	Name string
	// Paused stops delivery until resumed; cursors stay where they are.
	Paused bool
	// Failures is how many deliveries in a row failed for the org that
	// failed last, and LastError why; failures are counted per org, on
	// its cursor.
	Failures  int
	LastError string
	// DisabledAt is when an org's failures in a row reached the relay's
	// limit and disabled the subscriber (zero while enabled).
	DisabledAt time.Time
	// Created is when the subscriber was first seen, once its cursors
	// were set (at each org's last event for one that starts from now).
	Created time.Time
}
