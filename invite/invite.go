package invite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Limits of Options.TTL.
const (
	MinTTL = time.Hour
	MaxTTL = 30 * 24 * time.Hour
)

// Options configure a [Service]. A nil *Options means the defaults.
type Options struct {
	// Clock tells the time; default the system clock.
	Clock membership.Clock
	// TTL is how long an invitation stays valid: default 7 days, between
	// MinTTL and MaxTTL.
	TTL time.Duration
	// Hasher hashes the password chosen at acceptance; default argon2id
	// with OWASP parameters.
	Hasher membership.Hasher
	// Logger receives operational messages; default silent. Tokens are
	// never logged.
	Logger *slog.Logger
	// AfterCommit is called after each committed change with its audit
	// events.
	AfterCommit func(ctx context.Context, events []membership.Event)
	// MaxConcurrentHashes bounds the passwords hashed at once by Accept;
	// default runtime.GOMAXPROCS(0). Ignored when Hasher is a
	// *membership.LimitedHasher.
	MaxConcurrentHashes int
	// TokenThrottle slows and locks a client (membership.WithClient) that
	// presents invalid tokens to Accept and Lookup; zero fields take
	// membership.DefaultClientThrottle's.
	TokenThrottle membership.ThrottlePolicy
	// Catalog declares the host's own permissions and those of the
	// built-in user role ([membership.NewCatalog]); nil knows memberkit's
	// permissions only. Give every service of a deployment the same one.
	Catalog *membership.Catalog
	// TokenKey, at least 32 random bytes kept secret by the host (not in
	// the database), lets invitations be mailed after commit by the
	// relay (package invitemail) rather than by a Sender: each token is
	// derived from the key and the ID of the invitation.sent or
	// invitation.resent event that issued it, so [Service.ToMail] can
	// give it again from the event, and nothing but its SHA-256 is
	// stored. A Service has a Sender or a TokenKey, not both.
	TokenKey []byte
}

// Service manages invitations. It is safe for concurrent use.
type Service struct {
	st       store.Store
	cat      *membership.Catalog
	sender   Sender
	clock    membership.Clock
	ttl      time.Duration
	hasher   *membership.LimitedHasher
	log      *slog.Logger
	hook     svc.Hook
	throttle membership.ThrottlePolicy
	key      []byte
}

// ErrNoSender is returned by Send and Resend of a service made without a
// Sender nor a TokenKey, before anything is written: it can accept and
// look up invitations, not deliver them.
var ErrNoSender = membership.NewSentinel("no_sender", 503, "invite: no Sender to deliver invitations: give one to New")

// New returns a service on st that delivers invitations through sender.
// A nil sender makes a service that accepts and looks up invitations but
// refuses to send them ([ErrNoSender]). It refuses a nil store.
func New(st store.Store, sender Sender, opts *Options) (*Service, error) {
	if svc.IsNil(st) {
		return nil, errors.New("invite: nil store")
	}
	if svc.IsNil(sender) {
		sender = nil
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.TTL == 0 {
		o.TTL = membership.DefaultInvitationTTL
	}
	if o.TTL < MinTTL || o.TTL > MaxTTL {
		return nil, membership.Invalid("ttl", "ttl_range", o.TTL.String(), MinTTL.String(), MaxTTL.String())
	}
	if o.Hasher == nil {
		o.Hasher = membership.NewArgon2Hasher(nil)
	}
	if o.TokenKey != nil && len(o.TokenKey) < MinTokenKey {
		return nil, fmt.Errorf("invite: TokenKey has %d bytes, fewer than %d", len(o.TokenKey), MinTokenKey)
	}
	if o.TokenKey != nil && sender != nil {
		return nil, errors.New("invite: give a Sender (mail at once) or a TokenKey (mail by the relay), not both: each invitation would be mailed twice")
	}
	return &Service{key: bytes.Clone(o.TokenKey), st: st, cat: o.Catalog, sender: sender, clock: membership.ClockOrSystem(o.Clock), ttl: o.TTL,
		hasher: membership.LimitHasher(o.Hasher, o.MaxConcurrentHashes), log: svc.Logger(o.Logger), hook: o.AfterCommit,
		throttle: o.TokenThrottle.Or(membership.DefaultClientThrottle())}, nil
}

// HasTokenKey reports whether the service derives its tokens from a
// TokenKey, so that the relay can mail invitations ([Service.ToMail]).
func (s *Service) HasTokenKey() bool { return s.key != nil }

// TTL returns how long invitations stay valid.
func (s *Service) TTL() time.Duration { return s.ttl }

func (s *Service) update(ctx context.Context, orgID string, fn func(tx store.Tx, emit func(...membership.Event)) error) error {
	return svc.Update(ctx, s.st, orgID, s.hook, fn)
}

func public(inv membership.Invitation) membership.Invitation {
	inv.TokenHash = nil
	return inv
}

// deliver hands the token to the sender after commit, when there is one.
func (s *Service) deliver(ctx context.Context, inv membership.Invitation, token string) error {
	if s.sender == nil {
		return nil // mailed by the relay (TokenKey)
	}
	if err := s.sender.SendInvitation(ctx, inv, token); err != nil {
		s.log.WarnContext(ctx, "memberkit: invitation not sent", "org", inv.OrgID, "invitation", inv.ID, "err", err)
		return &SendError{Invitation: inv, Err: err}
	}
	return nil
}

// To is who an invitation goes to, and with which role: a struct, so that
// an email and a role ID cannot be swapped by mistake.
type To struct {
	Email  string // required
	RoleID string // default membership.RoleUser
}

// Send invites to.Email to join the org with to.RoleID (permission
// invitations.manage). It refuses an email that belongs to a member who is
// not removed ([membership.ErrAlreadyMember]), a second pending invitation
// for the same email ([membership.ErrInvitationPending]: resend it
// instead), a send past the seat limit ([membership.ErrMemberLimit]),
// and, when the org invites only at its verified domains, an address
// elsewhere ([membership.ErrDomainRestricted]).
// An expired invitation for the same email is replaced. A member actor
// may only invite with a role whose every permission it holds, and only
// an email whose removed member it could act on. When the sender fails,
// the invitation is returned with a [*SendError]: it stays pending and
// can be resent.
func (s *Service) Send(ctx context.Context, actor membership.Actor, orgID string, to To) (membership.Invitation, error) {
	email, err := membership.ValidateEmail(to.Email)
	if err != nil {
		return membership.Invitation{}, err
	}
	roleID := to.RoleID
	if roleID == "" {
		roleID = membership.RoleUser
	}
	return s.issue(ctx, actor, orgID, func(w issuing) (membership.Invitation, error) {
		if err := s.mayInvite(ctx, w.tx, w.a, email, roleID); err != nil {
			return membership.Invitation{}, err
		}
		for old, err := range w.tx.Invitations(ctx, store.InvitationQuery{Email: email, States: []membership.InvitationState{membership.InvitationPending}}) {
			if err != nil {
				return membership.Invitation{}, err
			}
			if old.Open(w.now) {
				return membership.Invitation{}, fmt.Errorf("invitation %s to %s: %w", old.ID, email, membership.ErrInvitationPending)
			}
			// Expired: replaced by the new one.
			old.State, old.TokenHash, old.UpdatedAt = membership.InvitationCanceled, nil, w.now
			if err := w.tx.UpdateInvitation(ctx, old); err != nil {
				return membership.Invitation{}, err
			}
			e := svc.Event(w.now, membership.EventInvitationCanceled, actor, old.ID)
			e.Detail = "expired, replaced by a new invitation"
			w.emit(e)
		}
		if err := svc.CheckSeats(ctx, w.tx, w.now, 1); err != nil {
			return membership.Invitation{}, err
		}
		inv := membership.Invitation{ID: membership.NewID(), OrgID: orgID, Email: email, RoleID: roleID, TokenHash: w.hash,
			State: membership.InvitationPending, InvitedBy: w.a.Acting().String(), SendCount: 1,
			CreatedAt: w.now, SentAt: w.now, ExpiresAt: store.Time(w.now.Add(s.ttl)), UpdatedAt: w.now}
		if err := w.tx.InsertInvitation(ctx, inv); err != nil {
			return membership.Invitation{}, err
		}
		e := svc.Event(w.now, membership.EventInvitationSent, actor, inv.ID)
		e.ID, e.RoleAfter, e.Detail = w.eventID, roleID, "to "+email
		w.emit(e)
		return inv, nil
	})
}

// issuing is what issue hands its write: the transaction, the actor's
// authority, the new token's hash, the ID its sent or resent event must
// carry, the time, and the event sink.
type issuing struct {
	tx      store.Tx
	a       membership.Authority
	hash    []byte
	eventID string
	now     time.Time
	emit    func(...membership.Event)
}

// issue makes a new token and runs write, which stores an invitation
// under the token's hash, in an Update of the org by an actor with
// invitations.manage; once committed, it hands the token to the Sender.
func (s *Service) issue(ctx context.Context, actor membership.Actor, orgID string, write func(w issuing) (membership.Invitation, error)) (membership.Invitation, error) {
	if s.sender == nil && s.key == nil {
		return membership.Invitation{}, ErrNoSender
	}
	var inv membership.Invitation
	var token string
	err := s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		a, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermInvitationsManage)
		if err != nil {
			return err
		}
		// The event's ID is made inside the transaction, as every other
		// event's, so that IDs keep following time.
		eventID := membership.NewID()
		var hash []byte
		if token, hash, err = s.token(eventID); err != nil {
			return err
		}
		inv, err = write(issuing{tx: tx, a: a, hash: hash, eventID: eventID, now: svc.Now(s.clock), emit: emit})
		return err
	})
	if err != nil {
		return membership.Invitation{}, err
	}
	inv = public(inv)
	return inv, s.deliver(ctx, inv, token)
}

// mayInvite checks what sending or resending an invitation needs: the
// actor may grant its role, the email is no member's (but a removed one's,
// whom the actor must be able to act on, since accepting brings them
// back).
func (s *Service) mayInvite(ctx context.Context, tx store.Tx, a membership.Authority, email, roleID string) error {
	if err := domainAllowed(ctx, tx, email); err != nil {
		return err
	}
	roles := svc.NewRoles(tx, s.cat)
	role, err := roles.Get(ctx, roleID)
	if err != nil {
		return err
	}
	if err := a.CanGrant(role); err != nil {
		return err
	}
	m, err := tx.MemberByEmail(ctx, email)
	switch {
	case err == nil && m.Status != membership.StatusRemoved:
		return fmt.Errorf("%s is a member (%s): %w", email, m.Status, membership.ErrAlreadyMember)
	case err == nil:
		old, err := roles.Get(ctx, m.RoleID)
		if err != nil {
			return err
		}
		return a.CanActOn(m, old)
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	return nil
}

// domainAllowed checks an address against the org's restriction of
// invitations to its verified domains, when it has one.
func domainAllowed(ctx context.Context, tx store.Tx, email string) error {
	org, err := tx.Org(ctx)
	if err != nil || !org.InviteVerifiedDomainsOnly {
		return err
	}
	ds, err := tx.Domains(ctx)
	if err != nil {
		return err
	}
	at := membership.EmailDomain(email)
	for _, d := range ds {
		if d.Verified() && d.Name == at {
			return nil
		}
	}
	return fmt.Errorf("%s is not at a verified domain of the org: %w", email, membership.ErrDomainRestricted)
}

// Resend issues a new token and a new expiry for a pending (or expired)
// invitation and sends it again (permission invitations.manage). The old
// token stops working at once. Resending grants the invitation's role
// again, so a member actor must hold every permission of it, and the
// invitation then rests on the resender's power. Resending an expired
// invitation takes a seat again, within the plan's limit.
func (s *Service) Resend(ctx context.Context, actor membership.Actor, orgID, invitationID string) (membership.Invitation, error) {
	return s.issue(ctx, actor, orgID, func(w issuing) (membership.Invitation, error) {
		inv, err := w.tx.Invitation(ctx, invitationID)
		if err != nil {
			return inv, err
		}
		if inv.State != membership.InvitationPending {
			return inv, fmt.Errorf("invitation %s is %s: %w", inv.ID, inv.State, membership.ErrNotPending)
		}
		if err := s.mayInvite(ctx, w.tx, w.a, inv.Email, inv.RoleID); err != nil {
			return inv, err
		}
		if !inv.Open(w.now) {
			if err := svc.CheckSeats(ctx, w.tx, w.now, 1); err != nil {
				return inv, err
			}
		}
		inv.InvitedBy = w.a.Acting().String()
		inv.TokenHash, inv.SentAt, inv.ExpiresAt, inv.UpdatedAt = w.hash, w.now, store.Time(w.now.Add(s.ttl)), w.now
		inv.SendCount++
		if err := w.tx.UpdateInvitation(ctx, inv); err != nil {
			return inv, err
		}
		e := svc.Event(w.now, membership.EventInvitationResent, actor, inv.ID)
		e.ID = w.eventID
		e.Detail = fmt.Sprintf("to %s, send #%d", inv.Email, inv.SendCount)
		w.emit(e)
		return inv, nil
	})
}

// Cancel cancels a pending invitation (permission invitations.manage); its
// token dies. Accepted or already canceled invitations give
// [membership.ErrNotPending].
func (s *Service) Cancel(ctx context.Context, actor membership.Actor, orgID, invitationID string) error {
	return s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermInvitationsManage); err != nil {
			return err
		}
		inv, err := tx.Invitation(ctx, invitationID)
		if err != nil {
			return err
		}
		if inv.State != membership.InvitationPending {
			return fmt.Errorf("invitation %s is %s: %w", inv.ID, inv.State, membership.ErrNotPending)
		}
		now := svc.Now(s.clock)
		inv.State, inv.TokenHash, inv.UpdatedAt = membership.InvitationCanceled, nil, now
		if err := tx.UpdateInvitation(ctx, inv); err != nil {
			return err
		}
		e := svc.Event(now, membership.EventInvitationCanceled, actor, inv.ID)
		e.Detail = "to " + inv.Email
		emit(e)
		return nil
	})
}

// View is an invitation as listed: pending or expired.
type View struct {
	membership.Invitation
	Status string // "pending" or "expired"
}

// List returns the org's pending and expired invitations, oldest first
// (permission members.read).
func (s *Service) List(ctx context.Context, actor membership.Actor, orgID string) ([]View, error) {
	var out []View
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersRead); err != nil {
			return err
		}
		now := s.clock.Now()
		for inv, err := range tx.Invitations(ctx, store.InvitationQuery{States: []membership.InvitationState{membership.InvitationPending}}) {
			if err != nil {
				return err
			}
			out = append(out, View{Invitation: public(inv), Status: inv.DisplayStatus(now)})
		}
		return nil
	})
	return out, err
}
