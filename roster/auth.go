package roster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// PasswordChangeRequiredError is what [Service.Authenticate] returns for
// right credentials that are a temporary password: the member must choose
// a new password ([Service.ChangePassword]) before anything else, and no
// session should be opened yet. It matches
// [membership.ErrPasswordChangeRequired].
type PasswordChangeRequiredError struct {
	Member membership.Member // the member, without their hash
}

func (e *PasswordChangeRequiredError) Error() string {
	return membership.ErrPasswordChangeRequired.Error()
}

// Is reports whether target is membership.ErrPasswordChangeRequired.
func (e *PasswordChangeRequiredError) Is(target error) bool {
	return target == membership.ErrPasswordChangeRequired
}

// dummyHash is verified when the login does not exist, so that an unknown
// login costs the same hashing work as a known one.
func (s *Service) dummyHash() membership.PasswordHash {
	s.dummyOnce.Do(func() {
		h, err := s.hasher.Unlimited().Hash("memberkit-dummy-password-for-constant-work")
		if err == nil {
			s.dummy = h
		}
	})
	return s.dummy
}

// findLogin reads the member a login (or email) names in an org. An org
// that does not exist reads like a login that does not.
func (s *Service) findLogin(ctx context.Context, orgID, login string) (m membership.Member, found, orgFound bool, err error) {
	err = s.st.View(ctx, orgID, func(tx store.Tx) error {
		orgFound = true
		if len(login) > membership.MaxEmailLen {
			return nil
		}
		var err error
		m, err = tx.MemberByLogin(ctx, login)
		if errors.Is(err, store.ErrNotFound) && strings.Contains(login, "@") {
			if email, verr := membership.ValidateEmail(login); verr == nil {
				m, err = tx.MemberByEmail(ctx, email)
			}
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		found = err == nil
		return err
	})
	if errors.Is(err, store.ErrNotFound) && !orgFound {
		return membership.Member{}, false, false, nil
	}
	return m, found, orgFound, err
}

// Authenticate checks a login (or email) and password in an org.
//
// Every way to fail gives [membership.ErrInvalidCredentials] after the
// same hashing work: an unknown org, an unknown login, a wrong password,
// a deactivated or removed member. Failures are counted per org and login,
// and per client when the context names one ([membership.WithClient]),
// in the store, so that every process sees them: after a few, the next
// attempt must wait an exponentially growing delay, and after more the
// login is locked for a while (Options.LoginThrottle, ClientThrottle);
// such attempts get a [*membership.ThrottleError] without any hashing.
// Unknown logins are throttled exactly like known ones. A failure is
// recorded as a member.login_failed audit event, a lockout as
// member.locked_out; a success forgets the login's failures.
//
// Password hashes are computed a bounded number at a time
// (Options.MaxConcurrentHashes): excess attempts wait for a slot under
// ctx, so a burst of attempts cannot exhaust memory.
//
// On success the last login time is recorded and a hash with outdated
// parameters (or from bcrypt) is replaced. The member returned carries
// the SecurityStamp to record in the session (see [Service.CheckSession]).
// A member whose password is temporary gets a
// [*PasswordChangeRequiredError] instead: they must change it
// ([Service.ChangePassword]) before anything else.
func (s *Service) Authenticate(ctx context.Context, orgID, login, password string) (membership.Member, error) {
	at, err := s.begin(ctx, "login", orgID, login)
	if err != nil {
		return membership.Member{}, err
	}
	bg := context.WithoutCancel(ctx) // the attempt's count is settled even if ctx ends
	release, err := s.hasher.Slot(ctx)
	if err != nil {
		_ = at.refund(bg) // never checked
		return membership.Member{}, err
	}
	m, found, orgFound, err := s.findLogin(ctx, orgID, login)
	if err != nil {
		release()
		_ = at.refund(bg)
		return membership.Member{}, err
	}
	hash := m.PasswordHash
	if !found || hash == "" {
		_, _, _ = s.hasher.Unlimited().Verify(s.dummyHash(), password)
		release()
		return membership.Member{}, at.failed(bg, orgID, orgFound, "", "unknown login", membership.SystemActor("login"))
	}
	ok, rehash, err := s.hasher.Unlimited().Verify(hash, password)
	if err != nil {
		s.log.WarnContext(ctx, "memberkit: stored password hash cannot be verified", "org", orgID, "member", m.ID, "err", err)
	}
	if err != nil || !ok || m.Status != membership.StatusActive {
		release()
		detail := "wrong password"
		if ok {
			detail = "member is " + string(m.Status)
		}
		return membership.Member{}, at.failed(bg, orgID, true, m.ID, detail, membership.SystemActor("login"))
	}
	var newHash membership.PasswordHash
	if rehash {
		if h, err := s.hasher.Unlimited().Hash(password); err == nil {
			newHash = h
		}
	}
	release()
	if err := at.succeeded(bg); err != nil {
		return membership.Member{}, err
	}
	err = s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		cur, err := tx.Member(ctx, m.ID)
		if errors.Is(err, store.ErrNotFound) {
			return membership.ErrInvalidCredentials
		}
		if err != nil {
			return err
		}
		if cur.Status != membership.StatusActive || cur.PasswordHash != hash {
			// Deactivated or password changed while we were hashing.
			return membership.ErrInvalidCredentials
		}
		now := svc.Now(s.clock)
		cur.LastLoginAt, cur.UpdatedAt = now, now
		if newHash != "" {
			cur.PasswordHash = newHash
		}
		if err := tx.UpdateMembers(ctx, []membership.Member{cur}); err != nil {
			return err
		}
		emit(svc.Event(now, membership.EventMemberLoggedIn, membership.ActorMember(cur.ID), cur.ID))
		cur.Version++
		m = cur
		return nil
	})
	if err != nil {
		return membership.Member{}, err
	}
	if m.MustChangePassword {
		return membership.Member{}, &PasswordChangeRequiredError{Member: svc.Public(m)}
	}
	return withStamp(m), nil
}

// withStamp is the member as returned to the caller who opens a session:
// without the hash, with the security stamp to record.
func withStamp(m membership.Member) membership.Member {
	stamp := m.SecurityStamp
	m = svc.Public(m)
	m.SecurityStamp = stamp
	return m
}

// ChangePassword lets a member replace their password, proving the
// current one — the one act a member with a temporary password may do.
// The new password must have at least membership.MinPasswordLen
// characters and differ from the current one. It clears
// MustChangePassword and gives the member a new SecurityStamp, which the
// returned member carries: sessions opened before end, and the caller
// records the new stamp in the current one. Wrong current passwords are
// throttled like logins and give [membership.ErrInvalidCredentials].
func (s *Service) ChangePassword(ctx context.Context, orgID, memberID, current, next string) (membership.Member, error) {
	if err := membership.ValidatePassword(next); err != nil {
		return membership.Member{}, err
	}
	if current == next {
		return membership.Member{}, membership.Invalid("password", "password_same")
	}
	at, err := s.begin(ctx, "password", orgID, memberID)
	if err != nil {
		return membership.Member{}, err
	}
	bg := context.WithoutCancel(ctx)
	var m membership.Member
	found, orgFound := false, false
	err = s.st.View(ctx, orgID, func(tx store.Tx) error {
		orgFound = true
		var err error
		m, err = tx.Member(ctx, memberID)
		found = err == nil
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil && !(errors.Is(err, store.ErrNotFound) && !orgFound) {
		_ = at.refund(bg)
		return membership.Member{}, err
	}
	release, err := s.hasher.Slot(ctx)
	if err != nil {
		_ = at.refund(bg)
		return membership.Member{}, err
	}
	ok := false
	if found && m.PasswordHash != "" {
		ok, _, err = s.hasher.Unlimited().Verify(m.PasswordHash, current)
		ok = ok && err == nil
	} else {
		_, _, _ = s.hasher.Unlimited().Verify(s.dummyHash(), current)
	}
	var hash membership.PasswordHash
	if ok && m.Status == membership.StatusActive {
		hash, err = s.hasher.Unlimited().Hash(next)
	}
	release()
	if err != nil {
		_ = at.refund(bg)
		return membership.Member{}, err
	}
	if hash == "" {
		return membership.Member{}, at.failed(bg, orgID, orgFound && found, m.ID, "wrong current password", membership.SystemActor("password"))
	}
	if err := at.succeeded(bg); err != nil {
		return membership.Member{}, err
	}
	var out membership.Member
	err = s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		cur, err := tx.Member(ctx, memberID)
		if err != nil {
			return err
		}
		if cur.PasswordHash != m.PasswordHash || cur.Status != membership.StatusActive {
			return membership.ErrInvalidCredentials
		}
		now := svc.Now(s.clock)
		before := cur
		cur.PasswordHash, cur.MustChangePassword, cur.UpdatedAt = hash, false, now
		svc.Restamp(before, &cur, true)
		if err := tx.UpdateMembers(ctx, []membership.Member{cur}); err != nil {
			return err
		}
		emit(svc.Event(now, membership.EventMemberPasswordChanged, membership.ActorMember(memberID), memberID))
		cur.Version++
		out = cur
		return nil
	})
	if err != nil {
		return membership.Member{}, err
	}
	return withStamp(out), nil
}

// CheckSession tells whether a session the host opened for a member may
// go on: nil when stamp is the member's current [membership.Member.SecurityStamp]
// and the member is active with no temporary password to change;
// [membership.ErrSessionInvalid] otherwise (deactivated, removed, role or
// password changed since, or unknown). It reads one row by primary key
// on stores that offer it ([store.SessionReader]), so a host can call it
// on every request: access ends at once, even if no AfterCommit hook ran.
func (s *Service) CheckSession(ctx context.Context, orgID, memberID, stamp string) error {
	var st membership.SessionState
	var err error
	if r, ok := s.st.(store.SessionReader); ok {
		st, err = r.SessionState(ctx, orgID, memberID)
	} else {
		err = s.st.View(ctx, orgID, func(tx store.Tx) error {
			m, err := tx.Member(ctx, memberID)
			st = membership.SessionState{SecurityStamp: m.SecurityStamp, Status: m.Status, MustChangePassword: m.MustChangePassword}
			return err
		})
	}
	if errors.Is(err, store.ErrNotFound) {
		return membership.ErrSessionInvalid
	}
	if err != nil {
		return err
	}
	return membership.CheckSession(st, stamp)
}

// Notifier delivers a temporary password to the member it was made for
// (by email, SMS…); the host implements it. It is called after the reset
// is committed. password is the only copy: send it, never log it.
type Notifier interface {
	SendTemporaryPassword(ctx context.Context, m membership.Member, password string) error
}

// NotifierFunc adapts a function to [Notifier].
type NotifierFunc func(ctx context.Context, m membership.Member, password string) error

// SendTemporaryPassword calls f.
func (f NotifierFunc) SendTemporaryPassword(ctx context.Context, m membership.Member, password string) error {
	return f(ctx, m, password)
}

// ErrNotDelivered matches the error [Service.ResetPassword] returns when
// the reset was committed but the Notifier failed: reset again.
var ErrNotDelivered = membership.NewSentinel("not_delivered", 502, "memberkit: temporary password set but not delivered")

// ErrNoNotifier: [Service.ResetPassword] needs Options.Notifier.
var ErrNoNotifier = membership.NewSentinel("no_notifier", 503, "memberkit: no notifier configured for temporary passwords")

// ResetPassword gives another member a new temporary password, which they
// must change at first login, and delivers it to them through
// Options.Notifier — never to the caller. The actor needs members.manage
// and must outrank the member: hold every permission of their role. A
// member resets their own password with [Service.ChangePassword]. The
// member's sessions end (new SecurityStamp).
func (s *Service) ResetPassword(ctx context.Context, actor membership.Actor, orgID, memberID string) error {
	if s.notifier == nil {
		return ErrNoNotifier
	}
	pw, m, err := s.resetPassword(ctx, actor, orgID, memberID)
	if err != nil {
		return err
	}
	if err := s.notifier.SendTemporaryPassword(ctx, m, pw); err != nil {
		s.log.WarnContext(ctx, "memberkit: temporary password not delivered", "org", orgID, "member", memberID, "err", err)
		return fmt.Errorf("%w: %w", ErrNotDelivered, err)
	}
	return nil
}

// IssueTemporaryPassword is [Service.ResetPassword] for host automation
// that hands the password over itself (a support console, a migration):
// only the system actor may call it, and the temporary password is
// returned, once.
func (s *Service) IssueTemporaryPassword(ctx context.Context, actor membership.Actor, orgID, memberID string) (string, error) {
	if !actor.IsSystem() {
		return "", &membership.ForbiddenError{ActorID: actor.String(), Reason: "only the system actor receives a temporary password; members use ResetPassword, which delivers it to the member"}
	}
	pw, _, err := s.resetPassword(ctx, actor, orgID, memberID)
	return pw, err
}

func (s *Service) resetPassword(ctx context.Context, actor membership.Actor, orgID, memberID string) (string, membership.Member, error) {
	check := func(tx store.Tx) (membership.Member, error) {
		a, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersManage)
		if err != nil {
			return membership.Member{}, err
		}
		cur, err := tx.Member(ctx, memberID)
		if err != nil {
			return membership.Member{}, err
		}
		if cur.Status == membership.StatusRemoved {
			return membership.Member{}, removedErr(&cur)
		}
		role, err := svc.NewRoles(tx, s.cat).Get(ctx, cur.RoleID)
		if err != nil {
			return membership.Member{}, err
		}
		return cur, a.CanResetPassword(cur, role)
	}
	// Check before spending a hash, and again under the org's lock.
	if err := s.st.View(ctx, orgID, func(tx store.Tx) error { _, err := check(tx); return err }); err != nil {
		return "", membership.Member{}, err
	}
	pw, err := s.tempPw()
	if err != nil {
		return "", membership.Member{}, fmt.Errorf("roster: temporary password: %w", err)
	}
	hash, err := s.hasher.HashContext(ctx, pw)
	if err != nil {
		return "", membership.Member{}, err
	}
	var out membership.Member
	err = s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		cur, err := check(tx)
		if err != nil {
			return err
		}
		now := svc.Now(s.clock)
		before := cur
		cur.PasswordHash, cur.MustChangePassword, cur.UpdatedAt = hash, true, now
		svc.Restamp(before, &cur, true)
		if err := tx.UpdateMembers(ctx, []membership.Member{cur}); err != nil {
			return err
		}
		e := svc.Event(now, membership.EventMemberPasswordChanged, actor, memberID)
		e.Detail = "reset to a temporary password"
		emit(e)
		cur.Version++
		out = svc.Public(cur)
		return nil
	})
	if err != nil {
		return "", membership.Member{}, err
	}
	return pw, out, nil
}

// PurgeAttempts drops the failure records of logins and clients idle for
// longer than the throttle windows, on stores that can
// ([store.AttemptPurger]); call it now and then (a daily job). It returns
// how many records went.
func (s *Service) PurgeAttempts(ctx context.Context) (int, error) {
	p, ok := s.st.(store.AttemptPurger)
	if !ok {
		return 0, nil
	}
	window := max(s.loginThrottle.Window, s.clientThrottle.Window)
	if window <= 0 {
		window = membership.DefaultLoginThrottle().Window
	}
	return p.PurgeAttempts(ctx, s.clock.Now().Add(-window))
}
