package domains

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Resolver looks up DNS TXT records; *net.Resolver is one.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// Options configure a [Service]. A nil *Options means the defaults.
type Options struct {
	// Clock tells the time; default the system clock.
	Clock membership.Clock
	// Resolver checks verification records; default net.DefaultResolver.
	Resolver Resolver
	// Logger receives operational messages; default silent.
	Logger *slog.Logger
	// AfterCommit is called after each committed change with its audit
	// events.
	AfterCommit func(ctx context.Context, events []membership.Event)
	// Catalog declares the host's own permissions ([membership.NewCatalog]);
	// nil knows memberkit's only. Give every service the same one.
	Catalog *membership.Catalog
}

// Service manages the email domains orgs claim. It is safe for concurrent
// use.
type Service struct {
	st       store.Store
	cat      *membership.Catalog
	clock    membership.Clock
	resolver Resolver
	log      *slog.Logger
	hook     svc.Hook
}

// New returns a service on st; opts may be nil. It refuses a nil store.
func New(st store.Store, opts *Options) (*Service, error) {
	if svc.IsNil(st) {
		return nil, errors.New("domains: nil store")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if svc.IsNil(o.Resolver) {
		o.Resolver = net.DefaultResolver
	}
	return &Service{st: st, cat: o.Catalog, clock: membership.ClockOrSystem(o.Clock), resolver: o.Resolver,
		log: svc.Logger(o.Logger), hook: o.AfterCommit}, nil
}

func (s *Service) update(ctx context.Context, orgID string, fn func(tx store.Tx, emit func(...membership.Event)) error) error {
	return svc.Update(ctx, s.st, orgID, s.hook, fn)
}

// find returns the org's claim of a domain, or ErrNotFound.
func find(ctx context.Context, tx store.Tx, name string) (membership.Domain, error) {
	ds, err := tx.Domains(ctx)
	if err != nil {
		return membership.Domain{}, err
	}
	for _, d := range ds {
		if d.Name == name {
			return d, nil
		}
	}
	return membership.Domain{}, fmt.Errorf("domain %q: %w", name, store.ErrNotFound)
}

// List returns the org's domain claims by name (permission members.read).
func (s *Service) List(ctx context.Context, actor membership.Actor, orgID string) ([]membership.Domain, error) {
	var out []membership.Domain
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersRead); err != nil {
			return err
		}
		var err error
		out, err = tx.Domains(ctx)
		return err
	})
	return out, err
}

// Claim records that the org claims an email domain (permission
// org.manage) and returns the claim with its verification token: publish
// [membership.Domain.VerificationRecord] in DNS and call
// [Service.Verify], or prove it your own way and call
// [Service.MarkVerified]. Claiming a domain the org already claims
// returns that claim; a domain another org has verified gives a
// *membership.DuplicateError with Key "domain". A claim does nothing
// until it is verified.
func (s *Service) Claim(ctx context.Context, actor membership.Actor, orgID, name string) (membership.Domain, error) {
	name, err := membership.ValidateDomainName(name)
	if err != nil {
		return membership.Domain{}, err
	}
	// A domain another org verified cannot be claimed. Checked before the
	// transaction (a read of the pool inside it would need a second
	// connection); a claim is unverified, so a race here verifies nothing.
	owner, err := s.st.DomainOwner(ctx, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return membership.Domain{}, err
	}
	var out membership.Domain
	err = s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermOrgManage); err != nil {
			return err
		}
		if d, err := find(ctx, tx, name); err == nil {
			out = d
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if owner.Verified() && owner.OrgID != orgID {
			return &membership.DuplicateError{Key: "domain", Value: name}
		}
		now := svc.Now(s.clock)
		d := membership.Domain{OrgID: orgID, Name: name, Token: membership.NewDomainToken(), Policy: membership.DomainPolicyNone, CreatedAt: now, UpdatedAt: now}
		if err := tx.PutDomain(ctx, d); err != nil {
			return err
		}
		emit(domainEvent(membership.EventDomainClaimed, actor, d))
		out = d
		return nil
	})
	return out, err
}

func domainEvent(typ membership.EventType, actor membership.Actor, d membership.Domain) membership.Event {
	e := svc.Event(d.UpdatedAt, typ, actor, d.Name)
	e.Detail = fmt.Sprintf("domain %s, policy %s", d.Name, d.Policy)
	if d.RoleID != "" {
		e.Detail += ", role " + d.RoleID
	}
	return e
}

// Verify looks up the claim's verification record in DNS (permission
// org.manage) and marks the domain verified when one of the TXT values at
// [membership.Domain.VerificationRecord]'s name is its value. A record
// that is missing or carries another token gives
// [membership.ErrDomainNotProven]; a domain another org verified first
// gives a *membership.DuplicateError with Key "domain". The lookup runs
// outside the org's transaction.
func (s *Service) Verify(ctx context.Context, actor membership.Actor, orgID, name string) (membership.Domain, error) {
	name, err := membership.ValidateDomainName(name)
	if err != nil {
		return membership.Domain{}, err
	}
	var claim membership.Domain
	err = s.st.View(ctx, orgID, func(tx store.Tx) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermOrgManage); err != nil {
			return err
		}
		claim, err = find(ctx, tx, name)
		return err
	})
	if err != nil {
		return membership.Domain{}, err
	}
	if claim.Verified() {
		return claim, nil
	}
	record, want := claim.VerificationRecord()
	values, err := s.resolver.LookupTXT(ctx, record)
	var dnsErr *net.DNSError
	if err != nil && !(errors.As(err, &dnsErr) && dnsErr.IsNotFound) {
		return membership.Domain{}, fmt.Errorf("domains: looking up %s: %w", record, err)
	}
	if !slices.ContainsFunc(values, func(v string) bool { return strings.TrimSpace(v) == want }) {
		return membership.Domain{}, fmt.Errorf("no TXT record %q at %s: %w", want, record, membership.ErrDomainNotProven)
	}
	return s.markVerified(ctx, actor, orgID, name, claim.Token, membership.PermOrgManage)
}

// MarkVerified marks a claim verified when the host proved it its own
// way (an email to the domain's postmaster, a file on its web site): the
// system actor's alone. A domain another org verified first gives a
// *membership.DuplicateError with Key "domain".
func (s *Service) MarkVerified(ctx context.Context, actor membership.Actor, orgID, name string) (membership.Domain, error) {
	if !actor.IsSystem() {
		return membership.Domain{}, &membership.ForbiddenError{ActorID: actor.String(), Reason: "only the system actor marks a domain verified without its DNS record"}
	}
	name, err := membership.ValidateDomainName(name)
	if err != nil {
		return membership.Domain{}, err
	}
	return s.markVerified(ctx, actor, orgID, name, "", membership.PermOrgManage)
}

// markVerified verifies the claim, whose token must still be token when
// one is given (the claim was not removed and made again meanwhile).
func (s *Service) markVerified(ctx context.Context, actor membership.Actor, orgID, name, token string, p membership.Permission) (membership.Domain, error) {
	var out membership.Domain
	err := s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, p); err != nil {
			return err
		}
		d, err := find(ctx, tx, name)
		if err != nil {
			return err
		}
		if token != "" && d.Token != token {
			return fmt.Errorf("the claim of %s changed during its verification: %w", name, membership.ErrDomainNotProven)
		}
		if d.Verified() {
			out = d
			return nil
		}
		now := svc.Now(s.clock)
		d.VerifiedAt, d.UpdatedAt = now, now
		if err := tx.PutDomain(ctx, d); err != nil {
			return err
		}
		emit(domainEvent(membership.EventDomainVerified, actor, d))
		out = d
		return nil
	})
	if err == nil {
		s.log.InfoContext(ctx, "memberkit: domain verified", "org", orgID, "domain", name)
	}
	return out, err
}
