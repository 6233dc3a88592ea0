// Package memberkit is the one entry point: [New] wires every service on
// one store, sharing one clock, one password hasher (and its bound on
// concurrent hashes), one logger, one after-commit hook, one invitation
// sender and one declaration of the host's permissions, so that each is
// set once.
//
//	kit, err := memberkit.New(st, &memberkit.Options{Sender: mailer, AfterCommit: revokeSessions})
//	added, err := kit.Members.Add(ctx, actor, orgID, roster.NewMember{FirstName: "Zoé", LastName: "Lefèvre"})
//	inv, err := kit.Invitations.Send(ctx, actor, orgID, invite.To{Email: "zoe@example.com"})
//	plan, err := kit.CSV.Plan(ctx, actor, orgID, file, nil)
//
// The services stay usable one by one (roster.New, invite.New,
// csvsync.New, domains.New) for a host that wants only one.
package memberkit

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/directory"
	"github.com/memberkit/memberkit/domains"
	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// Options configure every service of a [Kit]. A nil *Options means the
// defaults.
type Options struct {
	// Clock tells the time; default the system clock.
	Clock membership.Clock
	// Hasher hashes and verifies passwords; default argon2id with OWASP
	// parameters. All services share it, with one bound on the hashes
	// computed at once (MaxConcurrentHashes), so that logins, invitations
	// accepted and imports together cannot exhaust memory.
	Hasher membership.Hasher
	// MaxConcurrentHashes bounds the hashes computed at once by the whole
	// kit; default runtime.GOMAXPROCS(0).
	MaxConcurrentHashes int
	// Logger receives operational messages; default silent. Passwords,
	// hashes and tokens are never logged.
	Logger *slog.Logger
	// AfterCommit is called after every committed change of every service
	// (roster, invitations, imports, domains) with its audit events, in
	// the caller's goroutine: the one place to revoke the sessions of
	// members deactivated or removed, however it happened.
	AfterCommit func(ctx context.Context, events []membership.Event)
	// Sender delivers invitations as they are sent, in the caller's
	// goroutine; without one nor an InvitationTokenKey, Invitations.Send
	// and Resend give invite.ErrNoSender.
	Sender invite.Sender
	// InvitationTokenKey (32+ secret bytes, kept out of the database)
	// lets the relay mail invitations after commit (package invitemail),
	// which survives a crash between commit and mail; see
	// invite.Options.TokenKey.
	InvitationTokenKey []byte
	// Notifier delivers the temporary passwords of Members.ResetPassword.
	Notifier roster.Notifier
	// Catalog declares the host's own permissions and those of the
	// built-in user role ([membership.NewCatalog]); nil: memberkit's only.
	Catalog *membership.Catalog
	// InvitationTTL is how long an invitation stays valid; default 7 days.
	InvitationTTL time.Duration
	// TemporaryPassword makes the passwords of members added without one;
	// default a random 16-character password.
	TemporaryPassword func() (string, error)
	// IdleAfter is how long without a login makes a member idle in
	// Members.Review; default 90 days.
	IdleAfter time.Duration
	// HashWorkers is how many goroutines hash the passwords of a CSV
	// plan; default runtime.GOMAXPROCS(0). The hashes computed at once
	// stay bounded by MaxConcurrentHashes.
	HashWorkers int
	// Resolver looks up the DNS records that prove a domain; default
	// net.DefaultResolver.
	Resolver domains.Resolver
	// Parse bounds and language for the CSV files Kit.CSV reads.
	Parse csvsync.ParseOptions
	// Labels are the host's words for statuses and built-in roles
	// ("Actif" where memberkit says "Activé"); the CSV files read them
	// (Parse.Labels, unless set) and Kit.Labels gives them to screens.
	Labels membership.Labels
	// LoginThrottle, ClientThrottle and TokenThrottle slow and lock
	// repeated failures (see roster.Options and invite.Options); zero
	// fields take memberkit's defaults.
	LoginThrottle, ClientThrottle, TokenThrottle membership.ThrottlePolicy
}

// Kit is every service of memberkit on one store. Its fields are safe
// for concurrent use.
type Kit struct {
	Members     *roster.Service  // members, roles, authentication, sessions, listing, review
	Invitations *invite.Service  // invitations by email
	CSV         *csvsync.Service // export and import of the roster
	Domains     *domains.Service // email domains orgs claim
	// Directory issues the tokens identity providers sync the roster
	// with and keeps their groups (package scim serves them); nil when
	// the store lacks the store.Directory ability.
	Directory *directory.Service
	Store     store.Store
	Catalog   *membership.Catalog
	Labels    membership.Labels
}

// New returns the services on st, wired once with opts (nil for the
// defaults). It refuses a nil store.
func New(st store.Store, opts *Options) (*Kit, error) {
	if svc.IsNil(st) {
		return nil, errors.New("memberkit: nil store")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	clock := membership.ClockOrSystem(o.Clock)
	if o.Hasher == nil {
		o.Hasher = membership.NewArgon2Hasher(nil)
	}
	hasher := membership.LimitHasher(o.Hasher, o.MaxConcurrentHashes) // one bound for the kit
	k := &Kit{Store: st, Catalog: o.Catalog, Labels: o.Labels}
	if o.Parse.Labels.Status == nil && o.Parse.Labels.Roles == nil {
		o.Parse.Labels = o.Labels
	}
	var err error
	if k.Members, err = roster.New(st, &roster.Options{Clock: clock, Hasher: hasher, Logger: o.Logger, AfterCommit: o.AfterCommit,
		TemporaryPassword: o.TemporaryPassword, Notifier: o.Notifier, Catalog: o.Catalog, IdleAfter: o.IdleAfter,
		LoginThrottle: o.LoginThrottle, ClientThrottle: o.ClientThrottle}); err != nil {
		return nil, err
	}
	if k.Invitations, err = invite.New(st, o.Sender, &invite.Options{Clock: clock, Hasher: hasher, Logger: o.Logger, AfterCommit: o.AfterCommit,
		TTL: o.InvitationTTL, Catalog: o.Catalog, TokenThrottle: o.TokenThrottle, TokenKey: o.InvitationTokenKey}); err != nil {
		return nil, err
	}
	if k.CSV, err = csvsync.New(st, &csvsync.Options{Clock: clock, Hasher: hasher, Logger: o.Logger, AfterCommit: o.AfterCommit,
		Parse: o.Parse, Catalog: o.Catalog, HashWorkers: o.HashWorkers}); err != nil {
		return nil, err
	}
	if k.Domains, err = domains.New(st, &domains.Options{Clock: clock, Resolver: o.Resolver, Logger: o.Logger, AfterCommit: o.AfterCommit,
		Catalog: o.Catalog}); err != nil {
		return nil, err
	}
	if _, ok := store.DirectoryOf(st); ok {
		if k.Directory, err = directory.New(st, &directory.Options{Clock: clock, Logger: o.Logger, AfterCommit: o.AfterCommit, Catalog: o.Catalog}); err != nil {
			return nil, err
		}
	}
	return k, nil
}
