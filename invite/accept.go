package invite

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

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

// Explain reads it as an expired link (invitation_expired, 410): the
// invitee may ask for it again.
func (expiredError) Explain(lang membership.Lang) membership.Problem {
	return membership.Problem{Code: "invitation_expired", Status: http.StatusGone, Message: membership.Message(lang, "invitation_expired")}
}

var errExpired error = expiredError{}

// refusedError is returned for an invitation whose sender may no longer
// grant its role. It reads like any invalid invitation to the invitee;
// errors.Is matches ErrInvitationInvalid and ErrForbidden, and errors.As
// finds the *membership.ForbiddenError that says why.
type refusedError struct{ cause error }

func (e *refusedError) Error() string { return membership.ErrInvitationInvalid.Error() }

func (e *refusedError) Is(target error) bool { return target == membership.ErrInvitationInvalid }

func (e *refusedError) Unwrap() error { return e.cause }

// Explain reads it as any invalid link (invitation_invalid, 404): the
// invitee, not signed in, learns nothing of the sender's power.
func (e *refusedError) Explain(lang membership.Lang) membership.Problem {
	return membership.Problem{Code: "invitation_invalid", Status: http.StatusNotFound, Message: membership.Message(lang, "invitation_invalid")}
}

// tokenKeys returns the throttle key of the client the context names, if
// any: invalid tokens are counted per client.
func (s *Service) tokenKey(ctx context.Context) string {
	if c := membership.ClientFrom(ctx); c != "" {
		return membership.ThrottleKey("invitation-client", c)
	}
	return ""
}

// checkTokenThrottle refuses a client that presented too many invalid
// tokens lately.
func (s *Service) checkTokenThrottle(ctx context.Context, key string) error {
	if key == "" {
		return nil
	}
	a, err := s.st.Attempts(ctx, key)
	if err != nil {
		return err
	}
	return s.throttle.Check(s.clock.Now(), a)
}

// badToken counts an invalid token against the client and returns err.
func (s *Service) badToken(ctx context.Context, key string, err error) error {
	if key == "" || !errors.Is(err, membership.ErrInvitationInvalid) || errors.Is(err, membership.ErrInvitationExpired) {
		return err
	}
	now := s.clock.Now()
	if uerr := s.st.UpdateAttempts(ctx, key, func(a *membership.Attempts) error {
		s.throttle.Fail(now, a)
		return nil
	}); uerr != nil {
		return uerr
	}
	return err
}

// find resolves a token to its invitation, or ErrInvitationInvalid.
func (s *Service) find(ctx context.Context, token string) (membership.Invitation, []byte, error) {
	hash, err := HashToken(token)
	if err != nil {
		return membership.Invitation{}, nil, err
	}
	inv, err := s.st.InvitationByTokenHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (subtle.ConstantTimeCompare(inv.TokenHash, hash) != 1 || inv.State != membership.InvitationPending)) {
		return membership.Invitation{}, nil, membership.ErrInvitationInvalid
	}
	return inv, hash, err
}

// senderMayGrant checks that the invitation's sender may still grant its
// role: active in the org, with a role that holds every permission of
// the invitation's. It returns a *refusedError when not.
func (s *Service) senderMayGrant(ctx context.Context, tx store.Tx, inv membership.Invitation) error {
	roles := svc.NewRoles(tx, s.cat)
	role, err := roles.Get(ctx, inv.RoleID)
	if err != nil {
		return err
	}
	var sender *membership.Member
	var senderRole *membership.Role
	if by := membership.ParseActor(inv.InvitedBy); by.MemberID != "" {
		m, err := tx.Member(ctx, by.MemberID)
		switch {
		case err == nil:
			sender = &m
			if r, err := roles.Get(ctx, m.RoleID); err == nil {
				senderRole = &r
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	if err := membership.CanGrantInvitation(inv, sender, senderRole, role); err != nil {
		return &refusedError{cause: err}
	}
	return nil
}

// Accept uses a token: it creates the member with the invited role,
// active, or brings back the removed member of the same host account
// (Details.UserID, see [Service.AcceptAsUser]) or with that email. It is single
// use; the seat limit is checked again in the same transaction, and so is
// the sender's power: an invitation whose sender was deactivated, removed
// or demoted below its role can no longer be accepted. Unknown, tampered,
// canceled and used tokens give [membership.ErrInvitationInvalid]; so does
// a refused sender (errors.Is also matches [membership.ErrForbidden]).
// Invalid tokens are counted per client (membership.WithClient) and a
// client that presents too many is throttled ([*membership.ThrottleError]).
func (s *Service) Accept(ctx context.Context, token string, d Details) (membership.Member, error) {
	key := s.tokenKey(ctx)
	if err := s.checkTokenThrottle(ctx, key); err != nil {
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
	if err := membership.ValidateUserID(d.UserID); err != nil {
		return membership.Member{}, err
	}
	if d.Password == "" && d.UserID == "" {
		return membership.Member{}, membership.Invalid("password", "password_or_account")
	}
	if d.Password != "" {
		if err := membership.ValidatePassword(d.Password); err != nil {
			return membership.Member{}, err
		}
	}
	found, hash, err := s.find(ctx, token)
	if err != nil {
		return membership.Member{}, s.badToken(ctx, key, err)
	}
	// Hash the password before taking the org's lock.
	var pwHash membership.PasswordHash
	if d.Password != "" {
		if pwHash, err = s.hasher.HashContext(ctx, d.Password); err != nil {
			return membership.Member{}, err
		}
	}
	var out membership.Member
	var refused error
	// The sender and the account joining are read with the org's lock.
	pre := store.Preload{MemberIDs: []string{membership.ParseActor(found.InvitedBy).MemberID}, UserIDs: []string{d.UserID}}
	err = svc.UpdatePreloaded(ctx, s.st, found.OrgID, pre, s.hook, func(tx store.Tx, emit func(...membership.Event)) error {
		out, refused = membership.Member{}, nil
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
		if d.UserID != "" {
			actor = membership.ActorUser(d.UserID)
		}
		if inv.Expired(now) {
			refused = errExpired
			e := svc.Event(now, membership.EventInvitationExpired, actor, inv.ID)
			e.Detail = "accept refused: expired at " + inv.ExpiresAt.Format(time.RFC3339)
			emit(e)
			return nil
		}
		if err := s.senderMayGrant(ctx, tx, inv); err != nil {
			var re *refusedError
			if !errors.As(err, &re) {
				return err
			}
			refused = err
			e := svc.Event(now, membership.EventInvitationRefused, actor, inv.ID)
			e.Detail = "accept refused: " + re.cause.Error()
			emit(e)
			return nil
		}
		// The org may have restricted its invitations since this one left.
		if err := domainAllowed(ctx, tx, inv.Email); err != nil {
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
			Status: membership.StatusActive, PasswordHash: pwHash, UserID: d.UserID, UpdatedAt: now, SecurityStamp: membership.NewSecurityStamp()}
		before, err := svc.Returning(ctx, tx, inv.Email, d.UserID)
		if err != nil {
			return err
		}
		if m, err = svc.Admit(ctx, tx, m, before, login); err != nil {
			return err
		}
		if before != nil {
			emit(svc.MemberEvent(now, membership.EventMemberRestored, actor, *before, m))
		} else {
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
		return membership.Member{}, s.badToken(ctx, key, err)
	}
	if refused != nil {
		return membership.Member{}, refused
	}
	return svc.Public(out), nil
}

// AcceptAsUser accepts an invitation for an existing host account, which
// signs in through the host and so gets no memberkit password: the
// account joins with the invited role, its removed membership of the org
// (or the removed member with the invited email) comes back, and an
// account or email with a membership that is not removed gives
// [membership.ErrAlreadyMember]. d gives the names (and optionally the
// login); d.Password must be empty and d.UserID is set to userID. The
// host must have signed the account in: memberkit trusts userID. Errors
// and throttling are Accept's.
func (s *Service) AcceptAsUser(ctx context.Context, token, userID string, d Details) (membership.Member, error) {
	if userID == "" {
		return membership.Member{}, membership.Invalid("user_id", "required")
	}
	if d.Password != "" {
		return membership.Member{}, membership.Invalid("password", "password_with_account")
	}
	d.UserID = userID
	return s.Accept(ctx, token, d)
}

// Lookup returns the invitation a token belongs to, for the page that
// asks the invitee for their details: the org and the email it was sent
// to. It gives the same errors as Accept, is throttled the same way, and
// changes nothing.
func (s *Service) Lookup(ctx context.Context, token string) (membership.Invitation, error) {
	key := s.tokenKey(ctx)
	if err := s.checkTokenThrottle(ctx, key); err != nil {
		return membership.Invitation{}, err
	}
	inv, _, err := s.find(ctx, token)
	if err != nil {
		return membership.Invitation{}, s.badToken(ctx, key, err)
	}
	if inv.Expired(s.clock.Now()) {
		return membership.Invitation{}, errExpired
	}
	err = s.st.View(ctx, inv.OrgID, func(tx store.Tx) error { return s.senderMayGrant(ctx, tx, inv) })
	if err != nil {
		return membership.Invitation{}, err
	}
	return public(inv), nil
}
