package roster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Membership is one org a host account belongs to, as an org switcher
// shows it.
type Membership struct {
	Org    membership.Org
	Member membership.Member // without password hash or security stamp
	// Role is the member's role as the catalog grants it.
	Role membership.Role
}

// Active reports whether the account may act in this org now: its member
// is active. A deactivated membership is listed, but its member may do
// nothing until reactivated.
func (m Membership) Active() bool { return m.Member.Status == membership.StatusActive }

// Memberships lists the orgs a host account belongs to, by org name:
// active and deactivated memberships (see [Membership.Active]); removed
// ones are not listed. It is the host's call for its signed-in account
// (no actor: the account is the one asking), and reads each org's
// custom roles to name the member's role.
func (s *Service) Memberships(ctx context.Context, userID string) ([]Membership, error) {
	if userID == "" {
		return nil, nil
	}
	found, err := s.st.Memberships(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]Membership, 0, len(found))
	for _, f := range found {
		if f.Member.Status == membership.StatusRemoved || f.Member.UserID != userID {
			continue
		}
		role, ok := s.cat.BuiltinRole(f.Member.RoleID)
		if !ok {
			err := s.st.View(ctx, f.Org.ID, func(tx store.Tx) error {
				var err error
				role, err = svc.NewRoles(tx, s.cat).Get(ctx, f.Member.RoleID)
				return err
			})
			if errors.Is(err, store.ErrNotFound) {
				continue // the org went away meanwhile
			}
			if err != nil && !errors.Is(err, membership.ErrInvalid) {
				return nil, err
			}
			if err != nil { // a role deleted meanwhile: no permission
				role = membership.Role{ID: f.Member.RoleID, Name: f.Member.RoleID}
			}
		}
		out = append(out, Membership{Org: f.Org, Member: svc.Public(f.Member), Role: role})
	}
	slices.SortFunc(out, func(a, b Membership) int {
		return cmp.Or(cmp.Compare(membership.Fold(a.Org.Name), membership.Fold(b.Org.Name)), cmp.Compare(a.Org.ID, b.Org.ID))
	})
	return out, nil
}

// MemberOfUser returns the member of a host account in one org
// (permission members.read, or the account itself), or an error matching
// [membership.ErrNotFound].
func (s *Service) MemberOfUser(ctx context.Context, actor membership.Actor, orgID, userID string) (membership.Member, error) {
	var m membership.Member
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		a, err := svc.Authority(ctx, tx, s.cat, actor)
		if err != nil {
			return err
		}
		readErr := a.Require(membership.PermMembersRead)
		self := a.Member != nil && userID != "" && a.Member.UserID == userID && a.Active() == nil
		if readErr != nil && !self {
			return readErr
		}
		if userID == "" {
			return fmt.Errorf("member of no user: %w", store.ErrNotFound)
		}
		if m, err = tx.MemberByUserID(ctx, userID); err != nil {
			return err
		}
		m = svc.Public(m)
		return nil
	})
	return m, err
}

// Can reports whether actor may use permission p in the org: a
// memberkit permission or one the host declared in its catalog. It is the
// question a host asks before each of its own features ("may this user
// create a commission here?"). The actor is a member, a host account
// ([membership.ActorUser]) or the system (always allowed); an actor with
// no active member in the org, or one who must first change a temporary
// password, may do nothing. An org or actor that does not exist gives
// false (the system actor, never read, gives true). A permission the catalog does not declare is an error matching
// [membership.ErrInvalid], so that a typo fails loudly rather than
// denying quietly.
//
// With a store that offers [store.AccessReader] (memstore and sqlstore
// do), the answer takes one indexed read; otherwise one View.
func (s *Service) Can(ctx context.Context, orgID string, actor membership.Actor, p membership.Permission) (bool, error) {
	if !s.cat.Known(p) {
		return false, membership.Invalid("permission", "permission_undeclared", membership.Excerpt(string(p), 64))
	}
	if actor.IsSystem() {
		return true, nil
	}
	a, err := s.access(ctx, orgID, actor)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return a.Require(p) == nil, nil
}

// Permissions returns every permission the actor may use in the org,
// memberkit's and the host's, from the same one read as [Service.Can]:
// what a screen needs to decide which controls to show (the services
// still check each call). An account or member that is not an active
// member of the org gets none; the system actor gets all.
func (s *Service) Permissions(ctx context.Context, orgID string, actor membership.Actor) ([]membership.Permission, error) {
	all := s.cat.Permissions()
	if actor.IsSystem() {
		return all, nil
	}
	a, err := s.access(ctx, orgID, actor)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []membership.Permission
	for _, p := range all {
		if a.Require(p) == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// access resolves an actor's authority outside any write: through the
// store's one-read fast path when it has one, else in a View.
func (s *Service) access(ctx context.Context, orgID string, actor membership.Actor) (membership.Authority, error) {
	ar, ok := s.st.(store.AccessReader)
	if !ok {
		var a membership.Authority
		err := s.st.View(ctx, orgID, func(tx store.Tx) error {
			var err error
			a, err = svc.Authority(ctx, tx, s.cat, actor)
			return err
		})
		return a, err
	}
	acc, err := ar.Access(ctx, orgID, actor)
	if err != nil {
		return membership.Authority{Actor: actor}, err
	}
	m := membership.Member{ID: acc.MemberID, OrgID: orgID, UserID: acc.UserID, RoleID: acc.RoleID, Status: acc.Status, MustChangePassword: acc.MustChangePassword}
	a := membership.Authority{Actor: actor, Member: &m}
	if role, ok := s.cat.BuiltinRole(acc.RoleID); ok {
		a.Role = &role
	} else if acc.Role != nil {
		role, _ := s.cat.Effective(*acc.Role)
		a.Role = &role
	}
	return a, nil
}

// Find returns the org's member with a login or an email (compared
// without regard to case, by the store's indexes), of any status,
// permission members.read; an error matching [membership.ErrNotFound]
// when there is none. by is "login" or "email".
func (s *Service) Find(ctx context.Context, actor membership.Actor, orgID, by, value string) (membership.Member, error) {
	var m membership.Member
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersRead); err != nil {
			return err
		}
		var err error
		switch by {
		case "login":
			m, err = tx.MemberByLogin(ctx, value)
		case "email":
			m, err = tx.MemberByEmail(ctx, value)
		default:
			return fmt.Errorf("roster: Find by %q: not login or email", by)
		}
		if err != nil {
			return err
		}
		m = svc.Public(m)
		return nil
	})
	return m, err
}
