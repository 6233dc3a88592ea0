package csvsync

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Options configure a [Service]. A nil *Options means the defaults.
type Options struct {
	// Clock tells the time; default the system clock.
	Clock membership.Clock
	// Hasher hashes the passwords a file carries in clear, and the
	// temporary passwords of new members; default argon2id with OWASP
	// parameters.
	Hasher membership.Hasher
	// HashWorkers is how many goroutines hash passwords, and how many
	// hashes the service computes at once across all its plans; default
	// runtime.GOMAXPROCS(0). A *membership.LimitedHasher given as Hasher
	// keeps its own bound, shared with whoever else uses it.
	HashWorkers int
	// Logger receives operational messages (an import applied, at info; a
	// mass deactivation refused, at warn); default silent. Passwords and
	// hashes are never logged.
	Logger *slog.Logger
	// AfterCommit is called after an import is applied, with its audit
	// events.
	AfterCommit func(ctx context.Context, events []membership.Event)
	// Parse bounds and language for files read by Service.Parse.
	Parse ParseOptions
	// Catalog declares the host's own permissions and those of the
	// built-in user role ([membership.NewCatalog]); nil knows memberkit's
	// permissions only. Give every service of a deployment the same one.
	Catalog *membership.Catalog
}

// Service exports and imports rosters. It is safe for concurrent use.
type Service struct {
	st      store.Store
	cat     *membership.Catalog
	clock   membership.Clock
	hasher  *membership.LimitedHasher
	workers int
	log     *slog.Logger
	hook    svc.Hook
	parse   ParseOptions
}

// New returns a service on st; opts may be nil. It refuses a nil store, including a nil
// pointer in a store interface.
func New(st store.Store, opts *Options) (*Service, error) {
	if svc.IsNil(st) {
		return nil, errors.New("csvsync: nil store")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Hasher == nil {
		o.Hasher = membership.NewArgon2Hasher(nil)
	}
	if o.HashWorkers <= 0 {
		o.HashWorkers = runtime.GOMAXPROCS(0)
	}
	return &Service{st: st, cat: o.Catalog, clock: membership.ClockOrSystem(o.Clock), hasher: membership.LimitHasher(o.Hasher, o.HashWorkers), workers: o.HashWorkers,
		log: svc.Logger(o.Logger), hook: o.AfterCommit, parse: o.Parse}, nil
}

// authorize checks the permission and the org's CSV feature inside tx.
func (s *Service) authorize(ctx context.Context, tx store.Tx, actor membership.Actor, p membership.Permission) (membership.Authority, error) {
	a, err := svc.Authorize(ctx, tx, s.cat, actor, p)
	if err != nil {
		return a, err
	}
	org, err := tx.Org(ctx)
	if err != nil {
		return a, err
	}
	if !org.Has(membership.FeatureCSV) {
		return a, membership.ErrFeatureDisabled
	}
	return a, nil
}

// power tells, for each role of the org, whether the actor may act on its
// members, and whether it may grant the default role of new members.
type power struct {
	a      membership.Authority
	roles  map[string]membership.Role
	beyond map[string]membership.Permission // role ID → a permission of it the actor lacks ("" for none)
	cat    *membership.Catalog              // to name permissions in problems
	labels membership.Labels                // to name roles in problems (the file's)
	// resolved remembers resolveRole's answer for the Rôle cells seen
	// (in labels, which are set once for a plan).
	resolved map[string]resolvedRole
}

// resolvedRole is what resolveRole said of a Rôle cell.
type resolvedRole struct {
	id               string
	found, ambiguous bool
}

// loadPower reads the org's roles inside tx.
func (s *Service) loadPower(ctx context.Context, tx store.Tx, a membership.Authority) (*power, error) {
	all, err := svc.NewRoles(tx, s.cat).All(ctx)
	if err != nil {
		return nil, err
	}
	pw := &power{a: a, roles: map[string]membership.Role{}, beyond: map[string]membership.Permission{}, cat: s.cat}
	for _, r := range all {
		pw.roles[r.ID] = r
	}
	return pw, nil
}

// lacks returns a permission of the role roleID that the actor lacks, so
// that it may not act on the role's members; "" when it may.
func (pw *power) lacks(roleID string) membership.Permission {
	if p, ok := pw.beyond[roleID]; ok {
		return p
	}
	p, _ := pw.a.Holds(pw.roles[roleID].Permissions)
	pw.beyond[roleID] = p
	return p
}

// grant checks that the actor may give new members roleID.
func (pw *power) grant(roleID string) error {
	r, ok := pw.roles[roleID]
	if !ok {
		return svc.RoleErr(roleID, store.ErrNotFound)
	}
	return pw.a.CanGrant(r)
}

// Parse reads an import file for the org (permission csv.import and the
// org's CSV feature), with the service's ParseOptions. See [Parse].
func (s *Service) Parse(ctx context.Context, actor membership.Actor, orgID string, r io.Reader) (*File, error) {
	return s.ParseIn(ctx, actor, orgID, s.parse.Lang, r)
}

// ParseIn is [Service.Parse] with the file's problems, and the warnings of
// the plans made from it, in lang rather than in the service's
// ParseOptions.Lang: what a screen or an API answering each user in
// their own language needs.
func (s *Service) ParseIn(ctx context.Context, actor membership.Actor, orgID string, lang membership.Lang, r io.Reader) (*File, error) {
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		_, err := s.authorize(ctx, tx, actor, membership.PermCSVImport)
		return err
	})
	if err != nil {
		return nil, err
	}
	opts := s.parse
	opts.Lang = lang
	return Parse(r, &opts)
}
