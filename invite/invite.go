package invite

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strings"
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
}

// Service manages invitations. It is safe for concurrent use.
type Service struct {
	st     store.Store
	sender Sender
	clock  membership.Clock
	ttl    time.Duration
	hasher membership.Hasher
	log    *slog.Logger
	hook   svc.Hook
}

// New returns a service on st that delivers invitations through sender.
func New(st store.Store, sender Sender, opts *Options) (*Service, error) {
	if st == nil || sender == nil {
		return nil, errors.New("invite: store and sender are required")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.TTL == 0 {
		o.TTL = membership.DefaultInvitationTTL
	}
	if o.TTL < MinTTL || o.TTL > MaxTTL {
		return nil, &membership.ValidationError{Field: "ttl", Reason: fmt.Sprintf("%v is outside [%v, %v]", o.TTL, MinTTL, MaxTTL)}
	}
	if o.Hasher == nil {
		o.Hasher = membership.NewArgon2Hasher(nil)
	}
	return &Service{st: st, sender: sender, clock: membership.ClockOrSystem(o.Clock), ttl: o.TTL,
		hasher: o.Hasher, log: svc.Logger(o.Logger), hook: o.AfterCommit}, nil
}

// TTL returns how long invitations stay valid.
func (s *Service) TTL() time.Duration { return s.ttl }

func (s *Service) update(ctx context.Context, orgID string, fn func(tx store.Tx, emit func(...membership.Event)) error) error {
	return svc.Update(ctx, s.st, orgID, s.hook, fn)
}

func public(inv membership.Invitation) membership.Invitation {
	inv.TokenHash = nil
	return inv
}

// deliver hands the token to the sender after commit.
func (s *Service) deliver(ctx context.Context, inv membership.Invitation, token string) error {
	if err := s.sender.SendInvitation(ctx, inv, token); err != nil {
		s.log.WarnContext(ctx, "memberkit: invitation not sent", "org", inv.OrgID, "invitation", inv.ID, "err", err)
		return &SendError{Invitation: inv, Err: err}
	}
	return nil
}

// Send invites email to join the org with a role (permission
// invitations.manage). It refuses an email that belongs to a member who is
// not removed ([membership.ErrAlreadyMember]), a second pending invitation
// for the same email ([membership.ErrInvitationPending]: resend it
// instead), and a send past the seat limit ([membership.ErrMemberLimit]).
// An expired invitation for the same email is replaced. When the sender
// fails, the invitation is returned with a [*SendError]: it stays pending
// and can be resent.
func (s *Service) Send(ctx context.Context, actor membership.Actor, orgID, email, roleID string) (membership.Invitation, error) {
	email, err := membership.ValidateEmail(email)
	if err != nil {
		return membership.Invitation{}, err
	}
	if roleID == "" {
		roleID = membership.RoleUser
	}
	token, hash, err := newToken()
	if err != nil {
		return membership.Invitation{}, err
	}
	var inv membership.Invitation
	err = s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		if _, err := svc.Authorize(ctx, tx, actor, membership.PermInvitationsManage); err != nil {
			return err
		}
		if _, err := svc.Role(ctx, tx, roleID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return &membership.ValidationError{Field: "role", Reason: fmt.Sprintf("no role %q in this org", roleID)}
			}
			return err
		}
		m, err := tx.MemberByEmail(ctx, email)
		switch {
		case err == nil && m.Status != membership.StatusRemoved:
			return fmt.Errorf("%s is a member (%s): %w", email, m.Status, membership.ErrAlreadyMember)
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
		now := svc.Now(s.clock)
		for old, err := range tx.Invitations(ctx, store.InvitationQuery{Email: email, States: []membership.InvitationState{membership.InvitationPending}}) {
			if err != nil {
				return err
			}
			if old.Open(now) {
				return fmt.Errorf("invitation %s to %s: %w", old.ID, email, membership.ErrInvitationPending)
			}
			// Expired: replaced by the new one.
			old.State, old.TokenHash, old.UpdatedAt = membership.InvitationCanceled, nil, now
			if err := tx.UpdateInvitation(ctx, old); err != nil {
				return err
			}
			e := svc.Event(now, membership.EventInvitationCanceled, actor, old.ID)
			e.Detail = "expired, replaced by a new invitation"
			emit(e)
		}
		if err := svc.CheckSeats(ctx, tx, now, 1); err != nil {
			return err
		}
		inv = membership.Invitation{ID: membership.NewID(), OrgID: orgID, Email: email, RoleID: roleID, TokenHash: hash,
			State: membership.InvitationPending, InvitedBy: actor.String(), SendCount: 1,
			CreatedAt: now, SentAt: now, ExpiresAt: store.Time(now.Add(s.ttl)), UpdatedAt: now}
		if err := tx.InsertInvitation(ctx, inv); err != nil {
			return err
		}
		e := svc.Event(now, membership.EventInvitationSent, actor, inv.ID)
		e.RoleAfter, e.Detail = roleID, "to "+email
		emit(e)
		return nil
	})
	if err != nil {
		return membership.Invitation{}, err
	}
	inv = public(inv)
	return inv, s.deliver(ctx, inv, token)
}

// Resend issues a new token and a new expiry for a pending (or expired)
// invitation and sends it again (permission invitations.manage). The old
// token stops working at once. Resending an expired invitation takes a
// seat again, within the plan's limit.
func (s *Service) Resend(ctx context.Context, actor membership.Actor, orgID, invitationID string) (membership.Invitation, error) {
	token, hash, err := newToken()
	if err != nil {
		return membership.Invitation{}, err
	}
	var inv membership.Invitation
	err = s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		if _, err := svc.Authorize(ctx, tx, actor, membership.PermInvitationsManage); err != nil {
			return err
		}
		var err error
		inv, err = tx.Invitation(ctx, invitationID)
		if err != nil {
			return err
		}
		if inv.State != membership.InvitationPending {
			return fmt.Errorf("invitation %s is %s: %w", inv.ID, inv.State, membership.ErrNotPending)
		}
		now := svc.Now(s.clock)
		if !inv.Open(now) {
			if err := svc.CheckSeats(ctx, tx, now, 1); err != nil {
				return err
			}
		}
		inv.TokenHash, inv.SentAt, inv.ExpiresAt, inv.UpdatedAt = hash, now, store.Time(now.Add(s.ttl)), now
		inv.SendCount++
		if err := tx.UpdateInvitation(ctx, inv); err != nil {
			return err
		}
		e := svc.Event(now, membership.EventInvitationResent, actor, inv.ID)
		e.Detail = fmt.Sprintf("to %s, send #%d", inv.Email, inv.SendCount)
		emit(e)
		return nil
	})
	if err != nil {
		return membership.Invitation{}, err
	}
	inv = public(inv)
	return inv, s.deliver(ctx, inv, token)
}

// Cancel cancels a pending invitation (permission invitations.manage); its
// token dies. Accepted or already canceled invitations give
// [membership.ErrNotPending].
func (s *Service) Cancel(ctx context.Context, actor membership.Actor, orgID, invitationID string) error {
	return s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		if _, err := svc.Authorize(ctx, tx, actor, membership.PermInvitationsManage); err != nil {
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

// Details are what the invitee gives when accepting.
type Details struct {
	FirstName string // required
	LastName  string // required
	// Login: blank means the default rule (prenom.nom, prenom.nom2, …).
	Login string
	// Password for a member who logs in through memberkit. Leave it blank
	// and set UserID when the host manages its own user accounts.
	Password string
	// UserID links the member to the host's user account.
	UserID string
}

// expiredError is returned for an expired token. Its text is exactly
// ErrInvitationInvalid's, so that a caller who shows err.Error() reveals
// nothing; errors.Is matches both ErrInvitationInvalid and
// ErrInvitationExpired, so a host can offer to resend the link.
type expiredError struct{}

func (expiredError) Error() string { return membership.ErrInvitationInvalid.Error() }

func (expiredError) Is(target error) bool {
	return target == membership.ErrInvitationInvalid || target == membership.ErrInvitationExpired
}

var errExpired error = expiredError{}

// Accept uses a token: it creates the member with the invited role,
// active, or brings back the removed member with that email. It is single
// use; the seat limit is checked again in the same transaction. Unknown,
// tampered, canceled and used tokens give [membership.ErrInvitationInvalid].
func (s *Service) Accept(ctx context.Context, token string, d Details) (membership.Member, error) {
	hash, err := HashToken(token)
	if err != nil {
		return membership.Member{}, err
	}
	first, err := membership.ValidateName("first_name", d.FirstName)
	if err != nil {
		return membership.Member{}, err
	}
	last, err := membership.ValidateName("last_name", d.LastName)
	if err != nil {
		return membership.Member{}, err
	}
	login := strings.TrimSpace(d.Login)
	if login != "" {
		if login, err = membership.ValidateLogin(login); err != nil {
			return membership.Member{}, err
		}
	}
	if d.Password == "" && d.UserID == "" {
		return membership.Member{}, &membership.ValidationError{Field: "password", Reason: "required unless a host user ID is given"}
	}
	found, err := s.st.InvitationByTokenHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return membership.Member{}, membership.ErrInvitationInvalid
	}
	if err != nil {
		return membership.Member{}, err
	}
	// Hash the password before taking the org's lock.
	var pwHash membership.PasswordHash
	if d.Password != "" {
		if err := membership.ValidatePassword(d.Password); err != nil {
			return membership.Member{}, err
		}
		if pwHash, err = s.hasher.Hash(d.Password); err != nil {
			return membership.Member{}, err
		}
	}
	var out membership.Member
	expired := false
	err = s.update(ctx, found.OrgID, func(tx store.Tx, emit func(...membership.Event)) error {
		out, expired = membership.Member{}, false
		inv, err := tx.Invitation(ctx, found.ID)
		if errors.Is(err, store.ErrNotFound) {
			return membership.ErrInvitationInvalid
		}
		if err != nil {
			return err
		}
		if len(inv.TokenHash) != len(hash) || subtle.ConstantTimeCompare(inv.TokenHash, hash) != 1 || inv.State != membership.InvitationPending {
			return membership.ErrInvitationInvalid
		}
		now := svc.Now(s.clock)
		actor := membership.SystemActor("invitation")
		if inv.Expired(now) {
			expired = true
			e := svc.Event(now, membership.EventInvitationExpired, actor, inv.ID)
			e.Detail = "accept refused: expired at " + inv.ExpiresAt.Format(time.RFC3339)
			emit(e)
			return nil
		}
		if _, err := svc.Role(ctx, tx, inv.RoleID); err != nil {
			return err
		}
		org, c, err := svc.OrgCounts(ctx, tx, now)
		if err != nil {
			return err
		}
		// The invitation's own seat becomes the member's.
		if err := membership.CheckSeats(org.Plan, c.SeatsUsed()-1, 1); err != nil {
			return err
		}
		m := membership.Member{OrgID: inv.OrgID, Email: inv.Email, FirstName: first, LastName: last, RoleID: inv.RoleID,
			Status: membership.StatusActive, PasswordHash: pwHash, UserID: d.UserID, UpdatedAt: now}
		var before *membership.Member
		old, err := tx.MemberByEmail(ctx, inv.Email)
		switch {
		case err == nil && old.Status != membership.StatusRemoved:
			return fmt.Errorf("%s is already a member: %w", inv.Email, membership.ErrAlreadyMember)
		case err == nil:
			before = &old
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if login != "" {
			other, err := tx.MemberByLogin(ctx, login)
			if err == nil && (before == nil || other.ID != before.ID) {
				return &membership.DuplicateError{Key: "login", Value: login}
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			m.Login = login
		} else if before != nil {
			m.Login = before.Login
		} else {
			base := membership.DefaultLogin(first, last)
			if base == "" {
				return &membership.ValidationError{Field: "login", Reason: "cannot be derived from the names; choose one"}
			}
			if m.Login, _, err = svc.FreeLogin(ctx, tx, base, nil); err != nil {
				return err
			}
		}
		if err := membership.ValidateMember(&m); err != nil {
			return err
		}
		if before != nil {
			m.ID, m.CreatedAt, m.Version, m.Groups, m.LastLoginAt = before.ID, before.CreatedAt, before.Version, before.Groups, before.LastLoginAt
			if m.UserID == "" {
				m.UserID = before.UserID
			}
			if err := tx.UpdateMembers(ctx, []membership.Member{m}); err != nil {
				return err
			}
			m.Version++
			emit(svc.MemberEvent(now, membership.EventMemberRestored, actor, *before, m))
		} else {
			m.ID, m.CreatedAt = membership.NewID(), now
			if err := tx.InsertMembers(ctx, []membership.Member{m}); err != nil {
				return err
			}
			m.Version = 1
			emit(svc.MemberEvent(now, membership.EventMemberAdded, actor, membership.Member{}, m))
		}
		inv.State, inv.TokenHash, inv.AcceptedAt, inv.MemberID, inv.UpdatedAt = membership.InvitationAccepted, nil, now, m.ID, now
		if err := tx.UpdateInvitation(ctx, inv); err != nil {
			return err
		}
		e := svc.Event(now, membership.EventInvitationAccepted, actor, inv.ID)
		e.RoleAfter, e.Detail = inv.RoleID, "member "+m.ID
		emit(e)
		out = m
		return nil
	})
	if err != nil {
		return membership.Member{}, err
	}
	if expired {
		return membership.Member{}, errExpired
	}
	return svc.Public(out), nil
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
		if _, err := svc.Authorize(ctx, tx, actor, membership.PermMembersRead); err != nil {
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

// Lookup returns the invitation a token belongs to, for the page that
// asks the invitee for their details: the org and the email it was sent
// to. It gives the same errors as Accept and changes nothing.
func (s *Service) Lookup(ctx context.Context, token string) (membership.Invitation, error) {
	hash, err := HashToken(token)
	if err != nil {
		return membership.Invitation{}, err
	}
	inv, err := s.st.InvitationByTokenHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (subtle.ConstantTimeCompare(inv.TokenHash, hash) != 1 || inv.State != membership.InvitationPending)) {
		return membership.Invitation{}, membership.ErrInvitationInvalid
	}
	if err != nil {
		return membership.Invitation{}, err
	}
	if inv.Expired(s.clock.Now()) {
		return membership.Invitation{}, errExpired
	}
	return public(inv), nil
}
