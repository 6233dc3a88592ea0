// Package directory keeps what an org's identity provider needs to keep
// the roster in step (SCIM, served by package scim): the org's directory
// tokens, and the groups the provider manages by name.
//
// A directory token is a bearer credential: issued by someone who may
// manage the org (permission org.manage), shown once, kept as the SHA-256
// of its secret, listed with its last use, revocable. Every change made
// with it is recorded under the system actor named after it
// ("system:directory:Okta").
//
// A [membership.Group] is a durable identity for a label the org's
// members carry: its members are the members whose Groups hold its name.
// Creating, renaming and deleting a group, and putting members in it or
// taking them out, go through this service, in one transaction each,
// under the same rules as every other change of a member (permission
// members.manage, acting only on members the actor may act on), each
// change an audit event.
//
// The store must have the [store.Directory] ability (memstore and
// sqlstore do); [New] says so when it has not.
package directory

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// ErrInvalidToken: the bearer secret names no token, or a revoked one.
// The two are not told apart, so that a caller learns nothing from it.
var ErrInvalidToken = membership.NewSentinel("invalid_token", 401, "memberkit: invalid or revoked directory token")

// Options configure a Service. A nil *Options means the defaults.
type Options struct {
	// Clock tells the time; default the system clock.
	Clock membership.Clock
	// Logger receives operational messages; default silent. Secrets are
	// never logged.
	Logger *slog.Logger
	// AfterCommit is called after each committed change with the audit
	// events it wrote, in the caller's goroutine.
	AfterCommit func(ctx context.Context, events []membership.Event)
	// Catalog declares the host's own permissions ([membership.NewCatalog]);
	// give every service of a deployment the same one.
	Catalog *membership.Catalog
	// TouchEvery is how often at most a token's last use is written:
	// a provider's burst of requests writes it once; default a minute.
	TouchEvery time.Duration
	// MinImportedSecret is the shortest secret [Service.ImportToken]
	// takes, in bytes; default 32. Lower it for a demo only.
	MinImportedSecret int
}

// Service issues directory tokens and manages directory groups. It is
// safe for concurrent use.
type Service struct {
	st         store.Store
	dir        store.Directory
	cat        *membership.Catalog
	clock      membership.Clock
	log        *slog.Logger
	hook       svc.Hook
	touchEvery time.Duration
	minImport  int
}

// New returns a Service on st, or [store.ErrNoDirectory] when st does
// not have the [store.Directory] ability.
func New(st store.Store, opts *Options) (*Service, error) {
	if svc.IsNil(st) {
		return nil, errors.New("directory: nil store")
	}
	dir, ok := store.DirectoryOf(st)
	if !ok {
		return nil, store.ErrNoDirectory
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.TouchEvery <= 0 {
		o.TouchEvery = time.Minute
	}
	if o.MinImportedSecret <= 0 {
		o.MinImportedSecret = 32
	}
	return &Service{st: st, dir: dir, cat: o.Catalog, clock: membership.ClockOrSystem(o.Clock), log: svc.Logger(o.Logger),
		hook: o.AfterCommit, touchEvery: o.TouchEvery, minImport: o.MinImportedSecret}, nil
}

func (s *Service) update(ctx context.Context, orgID string, fn func(tx store.DirectoryTx, tx0 store.Tx, emit func(...membership.Event)) error) error {
	return svc.Update(ctx, s.st, orgID, s.hook, func(tx store.Tx, emit func(...membership.Event)) error {
		dtx, ok := tx.(store.DirectoryTx)
		if !ok {
			return store.ErrNoDirectory
		}
		return fn(dtx, tx, emit)
	})
}

func (s *Service) view(ctx context.Context, orgID string, fn func(tx store.DirectoryTx, tx0 store.Tx) error) error {
	return s.st.View(ctx, orgID, func(tx store.Tx) error {
		dtx, ok := tx.(store.DirectoryTx)
		if !ok {
			return store.ErrNoDirectory
		}
		return fn(dtx, tx)
	})
}
