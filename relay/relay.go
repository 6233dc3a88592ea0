package relay

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Subscriber receives the events of every org: each org's in Seq order,
// at least once, in batches.
type Subscriber struct {
	// Name is the subscriber's stable name: its cursors and state are
	// kept under it, so a renamed subscriber starts over.
	Name string
	// Deliver hands a batch over. A nil error means it is delivered for
	// good: the cursor moves past it. An error keeps the cursor where it
	// is; the batch (or a longer one) comes again after a backoff. Deliver
	// must return within its context's deadline (Options.Timeout).
	Deliver func(ctx context.Context, b Batch) error
	// FromNow makes a subscriber seen for the first time start after
	// each org's last event at that moment (its cursors are set there);
	// by default it starts with each org's first event.
	FromNow bool
	// BatchSize, when not zero, overrides Options.BatchSize for this
	// subscriber: 1 for one whose deliveries have effects that must not
	// repeat when a later event of the batch fails (an email).
	BatchSize int
	// Types, when not empty, are the only event types delivered; the
	// others are passed over (the cursor moves past them).
	Types []membership.EventType
}

// Batch is events of one org, by ascending Seq: consecutive but for the
// events a subscriber's Types pass over.
type Batch struct {
	OrgID  string
	Events []membership.Event
}

// Options configure a [Relay]. A nil *Options means the defaults.
type Options struct {
	// Owner names this relay in the leases it takes (at most 100
	// bytes); default the host name, the process ID and a random suffix.
	// Each lease adds a suffix of its own, so that two passes of one
	// relay never hold the same org at once.
	Owner string
	// Clock tells the time; default the system clock. Relays sharing a
	// store must have clocks closer than Lease − 2×Timeout.
	Clock membership.Clock
	// Lease is how long a relay holds an org's cursor between two
	// progress records; default 30 s or 3×Timeout, whichever is longer.
	// It must be more than 2×Timeout.
	Lease time.Duration
	// Timeout bounds each Deliver call; default 10 s.
	Timeout time.Duration
	// BatchSize is the most events per batch; default 100.
	BatchSize int
	// OrgsPerPass is the most orgs a pass takes in turn; default 32.
	OrgsPerPass int
	// Poll is how long Run waits when nothing is pending before it
	// looks again (a Notify wakes it at once); default 1 s.
	Poll time.Duration
	// MaxFailures is how many failed deliveries in a row, for one org,
	// disable a subscriber; default 12 (about 68 min of backoff with the
	// defaults).
	MaxFailures int
	// Backoff is an org's wait after its first failure, doubled after
	// each next one up to MaxBackoff, each ±20 % at random; defaults 1 s
	// and 30 min. The subscriber's other orgs go on meanwhile.
	Backoff, MaxBackoff time.Duration
	// Logger receives delivery failures and disablings; default silent.
	Logger *slog.Logger
}

// ErrNoFeed is returned by [New] for a store that does not implement
// [store.Feed].
var ErrNoFeed = errors.New("relay: the store keeps no event feed (store.Feed)")

// Relay delivers the events of a store's feed to subscribers. It is safe
// for concurrent use; several relays, in several processes, may serve
// the same subscribers on one PostgreSQL or MySQL database (on SQLite and
// memstore, run them in one process).
type Relay struct {
	feed   store.Feed
	o      Options
	clock  membership.Clock
	log    *slog.Logger
	wake   chan struct{}
	mu     sync.Mutex
	jitter func() float64 // in [0.8, 1.2)
}

// New returns a relay on st.
func New(st store.Store, opts *Options) (*Relay, error) {
	if svc.IsNil(st) {
		return nil, errors.New("relay: nil store")
	}
	feed, ok := st.(store.Feed)
	if !ok {
		return nil, ErrNoFeed
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Owner == "" {
		host, _ := os.Hostname()
		o.Owner = fmt.Sprintf("%.60s-%d-%s", host, os.Getpid(), rand.Text()[:8])
	}
	if len(o.Owner) > 100 {
		return nil, errors.New("relay: Owner is longer than 100 bytes")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Timeout, 10*time.Second)
	def(&o.Lease, max(30*time.Second, 3*o.Timeout))
	def(&o.Poll, time.Second)
	def(&o.Backoff, time.Second)
	def(&o.MaxBackoff, 30*time.Minute)
	if o.Lease <= 2*o.Timeout {
		return nil, fmt.Errorf("relay: Lease (%v) must be more than twice Timeout (%v)", o.Lease, o.Timeout)
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 100
	}
	if o.OrgsPerPass <= 0 {
		o.OrgsPerPass = 32
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = 12
	}
	return &Relay{feed: feed, o: o, clock: membership.ClockOrSystem(o.Clock), log: svc.Logger(o.Logger),
		wake: make(chan struct{}, 1), jitter: func() float64 { return 0.8 + 0.4*mrand.Float64() }}, nil
}

// Owner returns the name this relay takes leases under.
func (r *Relay) Owner() string { return r.o.Owner }

// Notify wakes Run at once instead of at its next poll: give it as the
// services' AfterCommit hook (or call it from yours) and events go out as
// soon as they are committed. It never blocks.
func (r *Relay) Notify(context.Context, []membership.Event) {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run delivers to subs until ctx ends, one goroutine per subscriber, and
// returns ctx's error. A failing delivery or store is logged and tried
// again later; it never ends Run.
func (r *Relay) Run(ctx context.Context, subs ...Subscriber) error {
	names := map[string]bool{}
	for _, s := range subs {
		if err := check(s); err != nil {
			return err
		}
		if names[s.Name] {
			return fmt.Errorf("relay: two subscribers named %q", s.Name)
		}
		names[s.Name] = true
	}
	var wg sync.WaitGroup
	wakes := make([]chan struct{}, len(subs))
	for i, s := range subs {
		wakes[i] = make(chan struct{}, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.loop(ctx, s, wakes[i])
		}()
	}
	// Fan Notify out to every subscriber's loop.
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-r.wake:
				for _, w := range wakes {
					select {
					case w <- struct{}{}:
					default:
					}
				}
			}
		}
	}()
	wg.Wait()
	return ctx.Err()
}

func (r *Relay) loop(ctx context.Context, s Subscriber, wake chan struct{}) {
	for ctx.Err() == nil {
		n, err := r.Pass(ctx, s)
		if err != nil && ctx.Err() == nil {
			r.log.WarnContext(ctx, "memberkit: relay pass failed", "subscriber", s.Name, "err", err)
		}
		if n > 0 && err == nil {
			continue // more may be pending
		}
		t := time.NewTimer(r.o.Poll)
		select {
		case <-ctx.Done():
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

func check(s Subscriber) error {
	if s.Name == "" || len(s.Name) > 128 {
		return errors.New("relay: a subscriber needs a name of 1 to 128 bytes")
	}
	if s.Deliver == nil {
		return fmt.Errorf("relay: subscriber %q has no Deliver", s.Name)
	}
	return nil
}

// DeliveryError is what [Relay.Pass] returns when a subscriber's Deliver
// failed: the batch stays to be delivered after the org's backoff.
type DeliveryError struct {
	Subscriber string
	OrgID      string
	Failures   int  // in a row for this org, this one included
	Disabled   bool // this failure disabled the subscriber
	Err        error
}

func (e *DeliveryError) Error() string {
	s := fmt.Sprintf("relay: %s: delivering events of org %s failed (%d in a row): %v", e.Subscriber, e.OrgID, e.Failures, e.Err)
	if e.Disabled {
		s += "; subscriber disabled"
	}
	return s
}

// Unwrap returns the Deliver error.
func (e *DeliveryError) Unwrap() error { return e.Err }
