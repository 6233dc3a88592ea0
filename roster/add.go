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

// NewMember describes a member to add.
type NewMember struct {
	// Login: blank means the first free of prenom.nom, prenom.nom2, …
	Login     string
	Email     string // optional
	FirstName string // required
	LastName  string // required
	RoleID    string // default membership.RoleUser
	Groups    []string
	// Password: blank means a temporary password from
	// Options.TemporaryPassword, which the member must change at first
	// login, unless NoPassword.
	Password string
	// NoPassword adds the member without a password of memberkit's: they
	// sign in through the host (its single sign-on, a linked account),
	// Authenticate refuses them, and no temporary password is made or
	// hashed. What a directory (SCIM) provisions. Ignored when Password
	// is set.
	NoPassword bool
	// Deactivated adds the member deactivated: listed, taking no seat,
	// unable to sign in until activated.
	Deactivated bool
	// UserID links the member to the host's own user account (optional,
	// the system actor's to set): one member per account in an org.
	UserID string
	// Attributes are the host's key=value facts about the member
	// (optional, see [membership.Attributes]).
	Attributes membership.Attributes
}

// Added is the result of [Service.Add].
type Added struct {
	Member membership.Member
	// Restored is true when a removed member with the same login or email
	// was brought back instead of a new record being created.
	Restored bool
	// TemporaryPassword is set, once, when the member was added without a
	// password. Hand it to the member; it is not stored in clear.
	// It prints and marshals as "[redacted]": use string(a.TemporaryPassword).
	TemporaryPassword membership.Secret
}

// Add adds a member (permission members.manage). A removed member with the
// same host account, login or email is brought back with the new details;
// an active or deactivated one gives a *membership.DuplicateError. The seat limit is
// checked: [membership.ErrMemberLimit]. A member actor may only give a
// role whose every permission it holds, and only bring back a removed
// member it could act on; linking a host account (NewMember.UserID) is
// the system actor's alone.
func (s *Service) Add(ctx context.Context, actor membership.Actor, orgID string, n NewMember) (Added, error) {
	cand := membership.Member{Login: n.Login, Email: n.Email, FirstName: n.FirstName, LastName: n.LastName,
		RoleID: n.RoleID, Groups: n.Groups, UserID: n.UserID, Attributes: n.Attributes, Status: membership.StatusActive}
	if n.Deactivated {
		cand.Status = membership.StatusDeactivated
	}
	if cand.RoleID == "" {
		cand.RoleID = membership.RoleUser
	}
	explicitLogin := strings.TrimSpace(n.Login) != ""
	if !explicitLogin {
		cand.Login = membership.DefaultLogin(n.FirstName, n.LastName)
		if cand.Login == "" {
			if _, err := membership.ValidateName("first_name", n.FirstName); err != nil {
				return Added{}, err
			}
			if _, err := membership.ValidateName("last_name", n.LastName); err != nil {
				return Added{}, err
			}
			return Added{}, membership.Invalid("login", "login_underivable")
		}
	}
	if err := membership.ValidateMember(&cand); err != nil {
		return Added{}, err
	}
	var res Added
	pw := n.Password
	switch {
	case pw == "" && n.NoPassword:
	case pw == "":
		t, err := s.tempPw()
		if err != nil {
			return Added{}, fmt.Errorf("roster: temporary password: %w", err)
		}
		pw, res.TemporaryPassword = t, membership.Secret(t)
		cand.MustChangePassword = true
	default:
		if err := membership.ValidatePassword(pw); err != nil {
			return Added{}, err
		}
	}
	if pw != "" {
		// Check the actor before spending a hash on its behalf, then hash
		// before taking the org's lock (the check is made again under it).
		if err := s.mayGrant(ctx, orgID, actor, cand.RoleID); err != nil {
			return Added{}, err
		}
		hash, err := s.hasher.HashContext(ctx, pw)
		if err != nil {
			return Added{}, err
		}
		cand.PasswordHash = hash
	}
	cand.SecurityStamp = membership.NewSecurityStamp()

	pre := store.Preload{MemberIDs: []string{actor.MemberID}, UserIDs: []string{actor.UserID}}
	err := svc.UpdatePreloaded(ctx, s.st, orgID, pre, s.hook, func(tx store.Tx, emit func(...membership.Event)) error {
		a, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersManage)
		if err != nil {
			return err
		}
		if cand.UserID != "" && !a.IsSystem() {
			return &membership.ForbiddenError{ActorID: actor.String(), Reason: "only the system actor links a member to a host account (user_id)"}
		}
		roles := svc.NewRoles(tx, s.cat)
		role, err := roles.Get(ctx, cand.RoleID)
		if err != nil {
			return err
		}
		if err := a.CanGrant(role); err != nil {
			return err
		}
		now := svc.Now(s.clock)
		m, restored, err := s.placeMember(ctx, tx, cand, explicitLogin)
		if err != nil {
			return err
		}
		if restored != nil {
			old, err := roles.Get(ctx, restored.RoleID)
			if err != nil {
				return err
			}
			if err := a.CanActOn(*restored, old); err != nil {
				return err
			}
		}
		if err := svc.CheckIdentifiers(ctx, tx, m); err != nil {
			return err
		}
		if m.Status == membership.StatusActive {
			if err := svc.CheckSeats(ctx, tx, now, 1); err != nil {
				return err
			}
		}
		m.UpdatedAt = now
		if restored != nil {
			if err := tx.UpdateMembers(ctx, []membership.Member{m}); err != nil {
				return err
			}
			emit(svc.MemberEvent(now, membership.EventMemberRestored, actor, *restored, m))
			m.Version++
		} else {
			m.ID, m.OrgID, m.CreatedAt = membership.NewID(), orgID, now
			if err := tx.InsertMembers(ctx, []membership.Member{m}); err != nil {
				return err
			}
			emit(svc.MemberEvent(now, membership.EventMemberAdded, actor, membership.Member{}, m))
			m.Version = 1
		}
		res.Member, res.Restored = svc.Public(m), restored != nil
		return nil
	})
	if err != nil {
		return Added{}, err
	}
	return res, nil
}

// mayGrant checks, outside any write, that the actor may add a member
// with that role: by the store's one-read fast path for a built-in role,
// in a View otherwise. The system actor may; the write checks again.
func (s *Service) mayGrant(ctx context.Context, orgID string, actor membership.Actor, roleID string) error {
	if actor.IsSystem() {
		return nil
	}
	if role, ok := s.cat.BuiltinRole(roleID); ok {
		a, err := s.access(ctx, orgID, actor)
		if err == nil {
			if err := a.Require(membership.PermMembersManage); err != nil {
				return err
			}
			return a.CanGrant(role)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		// No such org or actor: the View says which.
	}
	return s.st.View(ctx, orgID, func(tx store.Tx) error {
		a, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersManage)
		if err != nil {
			return err
		}
		role, err := svc.NewRoles(tx, s.cat).Get(ctx, roleID)
		if err != nil {
			return err
		}
		return a.CanGrant(role)
	})
}

// placeMember finds where a new member goes: a removed record to bring
// back (same email, same explicit login, or same derived login and names),
// or a free login. It returns the member to write and, when restoring,
// the record before.
func (s *Service) placeMember(ctx context.Context, tx store.Tx, cand membership.Member, explicitLogin bool) (membership.Member, *membership.Member, error) {
	restore := func(old membership.Member) (membership.Member, *membership.Member, error) {
		m := old
		m.FirstName, m.LastName, m.RoleID, m.Groups, m.Attributes = cand.FirstName, cand.LastName, cand.RoleID, cand.Groups, cand.Attributes
		if cand.Email != "" {
			m.Email = cand.Email
		}
		// Linked to the account given (only the system actor gives one),
		// or to none: whoever reuses a removed member's address or login
		// must not inherit the old account's link.
		m.UserID = cand.UserID
		m.Status = cand.Status
		m.PasswordHash, m.MustChangePassword, m.SecurityStamp = cand.PasswordHash, cand.MustChangePassword, cand.SecurityStamp
		if explicitLogin && !strings.EqualFold(old.Login, cand.Login) {
			if other, err := tx.MemberByLogin(ctx, cand.Login); err == nil && other.ID != old.ID {
				return membership.Member{}, nil, &membership.DuplicateError{Key: "login", Value: cand.Login}
			}
			m.Login = cand.Login
		}
		return m, &old, nil
	}
	if cand.UserID != "" {
		old, err := tx.MemberByUserID(ctx, cand.UserID)
		switch {
		case err == nil && old.Status == membership.StatusRemoved:
			return restore(old)
		case err == nil:
			return membership.Member{}, nil, &membership.DuplicateError{Key: "user_id", Value: cand.UserID}
		case !errors.Is(err, store.ErrNotFound):
			return membership.Member{}, nil, err
		}
	}
	if cand.Email != "" {
		old, err := tx.MemberByEmail(ctx, cand.Email)
		switch {
		case err == nil && old.Status == membership.StatusRemoved:
			return restore(old)
		case err == nil:
			return membership.Member{}, nil, &membership.DuplicateError{Key: "email", Value: cand.Email}
		case !errors.Is(err, store.ErrNotFound):
			return membership.Member{}, nil, err
		}
	}
	if explicitLogin {
		old, err := tx.MemberByLogin(ctx, cand.Login)
		switch {
		case err == nil && old.Status == membership.StatusRemoved && (cand.Email == "" || old.Email == "" || strings.EqualFold(old.Email, cand.Email)):
			return restore(old)
		case err == nil:
			return membership.Member{}, nil, &membership.DuplicateError{Key: "login", Value: cand.Login}
		case !errors.Is(err, store.ErrNotFound):
			return membership.Member{}, nil, err
		}
		return cand, nil, nil
	}
	login, old, err := svc.FreeLogin(ctx, tx, cand.Login, func(old membership.Member) bool {
		return old.Status == membership.StatusRemoved && old.Email == "" && cand.Email == "" &&
			membership.Fold(old.FirstName) == membership.Fold(cand.FirstName) && membership.Fold(old.LastName) == membership.Fold(cand.LastName)
	})
	if err != nil {
		return membership.Member{}, nil, err
	}
	if old != nil {
		return restore(*old)
	}
	cand.Login = login
	return cand, nil, nil
}
