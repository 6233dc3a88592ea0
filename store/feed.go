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
	// subscriber's cursor (0 for an org it never saw) and whose cursor
	// is not leased at now, with the cursor's position; in no particular
	// order, but one that lets every org come up in turn.
	FeedOrgs(ctx context.Context, subscriber string, now time.Time, limit int) ([]FeedPosition, error)
	// ClaimFeed leases the (subscriber, org) cursor to owner until until,
	// when it is free at now (never leased, expired, or already owner's),
	// and returns its position; ok is false when another owner holds it.
	ClaimFeed(ctx context.Context, subscriber, orgID, owner string, now, until time.Time) (after int64, ok bool, err error)
	// AdvanceFeed moves the cursor to seq and sets its lease to until,
	// when owner still holds the lease at now; otherwise ErrLeaseLost and
	// nothing changes. An until at or before now releases the lease,
	// recording now as the time it was released.
	AdvanceFeed(ctx context.Context, subscriber, orgID, owner string, seq int64, now, until time.Time) error
	// EventsAfter returns up to limit events of the org whose Seq is
	// greater than after, by ascending Seq.
	EventsAfter(ctx context.Context, orgID string, after int64, limit int) ([]membership.Event, error)
	// SetFeedCursor moves the subscriber's cursor of an org to seq (0:
	// before the first event), whatever its lease: a replay. orgID ""
	// moves every cursor the subscriber has to 0, replaying every org
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
	// Since, when not zero, skips events recorded (Event.At) before it:
	// a subscriber made "from now" starts there.
	Since time.Time
	// Paused stops delivery until resumed; cursors stay where they are.
	Paused bool
	// Failures counts the deliveries failed in a row; NextAttempt is
	// when the next may be tried.
	Failures    int
	NextAttempt time.Time
	// DisabledAt is when too many failures in a row disabled the
	// subscriber (zero while enabled); LastError says why.
	DisabledAt time.Time
	LastError  string
	// Created is when the state was first stored.
	Created time.Time
}
