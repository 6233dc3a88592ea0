package svc

import (
	"context"
	"errors"
	"fmt"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// How a person joins an org other than by Add: accepting an invitation or
// joining by a verified domain. Both bring back a removed member of the
// same account or email, and refuse one who is not removed.

// Returning finds the member a newcomer brings back: the removed member
// of the same host account, else the removed member with the invited
// email. A member of either that is not removed (active or deactivated)
// gives [membership.ErrAlreadyMember].
func Returning(ctx context.Context, tx store.Tx, email, userID string) (*membership.Member, error) {
	var before *membership.Member
	if userID != "" {
		old, err := tx.MemberByUserID(ctx, userID)
		switch {
		case err == nil && old.Status != membership.StatusRemoved:
			return nil, fmt.Errorf("the account %s is already a member (%s): %w", userID, old.Status, membership.ErrAlreadyMember)
		case err == nil:
			before = &old
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	old, err := tx.MemberByEmail(ctx, email)
	switch {
	case err == nil && old.Status != membership.StatusRemoved:
		return nil, fmt.Errorf("%s is already a member: %w", email, membership.ErrAlreadyMember)
	case err == nil && before != nil && old.ID != before.ID:
		// The account's removed member comes back with the invited
		// email, which another removed member still holds.
		return nil, &membership.DuplicateError{Key: "email", Value: email}
	case err == nil:
		return &old, nil
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	return before, nil
}

// Admit stores m, a newcomer (names, email, role, account, status,
// stamp and UpdatedAt set), inside tx: over before when it comes back
// (keeping its groups and attributes, but linked to m's account only),
// as a new member otherwise. login is the one asked for ("" for before's, or
// the default rule's). It returns the member as stored.
func Admit(ctx context.Context, tx store.Tx, m membership.Member, before *membership.Member, login string) (membership.Member, error) {
	switch {
	case login != "":
		other, err := tx.MemberByLogin(ctx, login)
		if err == nil && (before == nil || other.ID != before.ID) {
			return m, &membership.DuplicateError{Key: "login", Value: login}
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return m, err
		}
		m.Login = login
	case before != nil:
		m.Login = before.Login
	default:
		base := membership.DefaultLogin(m.FirstName, m.LastName)
		if base == "" {
			return m, membership.Invalid("login", "login_underivable")
		}
		var err error
		if m.Login, _, err = FreeLogin(ctx, tx, base, nil); err != nil {
			return m, err
		}
	}
	if err := membership.ValidateMember(&m); err != nil {
		return m, err
	}
	if before != nil {
		m.ID = before.ID
	}
	if err := CheckIdentifiers(ctx, tx, m); err != nil {
		return m, err
	}
	if before == nil {
		m.ID, m.CreatedAt = membership.NewID(), m.UpdatedAt
		if err := tx.InsertMembers(ctx, []membership.Member{m}); err != nil {
			return m, err
		}
		m.Version = 1
		return m, nil
	}
	// The record comes back linked to the account that is joining, or to
	// none: a removed member's old account must not regain access through
	// someone else reusing the address.
	m.CreatedAt, m.Version, m.Groups, m.LastLoginAt = before.CreatedAt, before.Version, before.Groups, before.LastLoginAt
	if m.Attributes == nil {
		m.Attributes = before.Attributes
	}
	if err := tx.UpdateMembers(ctx, []membership.Member{m}); err != nil {
		return m, err
	}
	m.Version++
	return m, nil
}
