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

// dummyHash is verified when the login does not exist, so that an unknown
// login costs the same hashing work as a known one.
func (s *Service) dummyHash() membership.PasswordHash {
	s.dummyOnce.Do(func() {
		h, err := s.hasher.Hash("memberkit-dummy-password-for-constant-work")
		if err == nil {
			s.dummy = h
		}
	})
	return s.dummy
}

// Authenticate checks a login (or email) and password in an org. It
// returns the member, whose MustChangePassword says whether they must
// pick a new password now. Unknown logins, wrong passwords, deactivated
// and removed members all get [membership.ErrInvalidCredentials], after
// the same hashing work. On success the last login time is recorded and a
// hash with outdated parameters (or from bcrypt) is replaced.
func (s *Service) Authenticate(ctx context.Context, orgID, login, password string) (membership.Member, error) {
	var m membership.Member
	found := false
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		var err error
		m, err = tx.MemberByLogin(ctx, login)
		if errors.Is(err, store.ErrNotFound) && strings.Contains(login, "@") {
			m, err = tx.MemberByEmail(ctx, login)
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		return membership.Member{}, err
	}
	hash := m.PasswordHash
	if !found || hash == "" {
		_, _, _ = s.hasher.Verify(s.dummyHash(), password)
		return membership.Member{}, membership.ErrInvalidCredentials
	}
	ok, rehash, err := s.hasher.Verify(hash, password)
	if err != nil {
		s.log.WarnContext(ctx, "memberkit: stored password hash cannot be verified", "org", orgID, "member", m.ID, "err", err)
		return membership.Member{}, membership.ErrInvalidCredentials
	}
	if !ok || m.Status != membership.StatusActive {
		return membership.Member{}, membership.ErrInvalidCredentials
	}
	var newHash membership.PasswordHash
	if rehash {
		if h, err := s.hasher.Hash(password); err == nil {
			newHash = h
		}
	}
	err = s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		cur, err := tx.Member(ctx, m.ID)
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
	return svc.Public(m), nil
}

// ChangePassword lets a member replace their password. The current
// password must match; the new one must have at least
// membership.MinPasswordLen characters and differ from the current one (so
// a temporary password cannot be kept). It clears MustChangePassword.
func (s *Service) ChangePassword(ctx context.Context, orgID, memberID, current, next string) error {
	if err := membership.ValidatePassword(next); err != nil {
		return err
	}
	if current == next {
		return &membership.ValidationError{Field: "password", Reason: "the new password must differ from the current one"}
	}
	var m membership.Member
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		var err error
		m, err = tx.Member(ctx, memberID)
		return err
	})
	if err != nil {
		return err
	}
	ok, _, err := s.hasher.Verify(m.PasswordHash, current)
	if err != nil || !ok || m.Status != membership.StatusActive {
		return membership.ErrInvalidCredentials
	}
	hash, err := s.hasher.Hash(next)
	if err != nil {
		return err
	}
	return s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		cur, err := tx.Member(ctx, memberID)
		if err != nil {
			return err
		}
		if cur.PasswordHash != m.PasswordHash || cur.Status != membership.StatusActive {
			return membership.ErrInvalidCredentials
		}
		now := svc.Now(s.clock)
		cur.PasswordHash, cur.MustChangePassword, cur.UpdatedAt = hash, false, now
		if err := tx.UpdateMembers(ctx, []membership.Member{cur}); err != nil {
			return err
		}
		emit(svc.Event(now, membership.EventMemberPasswordChanged, membership.ActorMember(memberID), memberID))
		return nil
	})
}

// ResetPassword gives a member a new temporary password (permission
// members.manage), which they must change at first login. It returns the
// temporary password, once.
func (s *Service) ResetPassword(ctx context.Context, actor membership.Actor, orgID, memberID string) (string, error) {
	pw, err := s.tempPw()
	if err != nil {
		return "", fmt.Errorf("roster: temporary password: %w", err)
	}
	hash, err := s.hasher.Hash(pw)
	if err != nil {
		return "", err
	}
	err = s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		if _, err := svc.Authorize(ctx, tx, actor, membership.PermMembersManage); err != nil {
			return err
		}
		cur, err := tx.Member(ctx, memberID)
		if err != nil {
			return err
		}
		if cur.Status == membership.StatusRemoved {
			return removedErr(&cur)
		}
		now := svc.Now(s.clock)
		cur.PasswordHash, cur.MustChangePassword, cur.UpdatedAt = hash, true, now
		if err := tx.UpdateMembers(ctx, []membership.Member{cur}); err != nil {
			return err
		}
		e := svc.Event(now, membership.EventMemberPasswordChanged, actor, memberID)
		e.Detail = "reset to a temporary password"
		emit(e)
		return nil
	})
	if err != nil {
		return "", err
	}
	return pw, nil
}
