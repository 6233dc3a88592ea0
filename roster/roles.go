package roster

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Roles lists the built-in roles, then the org's custom roles (permission
// members.read), each with the permissions it grants: a permission a
// stored role names but the catalog no longer declares is left out (and
// listed by [Service.Review]).
func (s *Service) Roles(ctx context.Context, actor membership.Actor, orgID string) ([]membership.Role, error) {
	var out []membership.Role
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersRead); err != nil {
			return err
		}
		var err error
		out, err = svc.NewRoles(tx, s.cat).All(ctx)
		return err
	})
	return out, err
}

// CreateRole creates a custom role with no permission — least privilege —
// (permission roles.manage). Grant permissions with [Service.UpdateRole].
func (s *Service) CreateRole(ctx context.Context, actor membership.Actor, orgID, name string) (membership.Role, error) {
	var out membership.Role
	err := s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermRolesManage); err != nil {
			return err
		}
		now := svc.Now(s.clock)
		r := membership.Role{ID: membership.NewID(), OrgID: orgID, Name: name, CreatedAt: now, UpdatedAt: now}
		if err := s.cat.ValidateRole(&r); err != nil {
			return err
		}
		if err := s.uniqueRoleName(ctx, tx, r); err != nil {
			return err
		}
		if err := tx.PutRole(ctx, r); err != nil {
			return err
		}
		e := svc.Event(now, membership.EventRoleCreated, actor, r.ID)
		e.Detail = "name: " + r.Name
		emit(e)
		out = r
		return nil
	})
	return out, err
}

func (s *Service) uniqueRoleName(ctx context.Context, tx store.Tx, r membership.Role) error {
	roles, err := tx.Roles(ctx)
	if err != nil {
		return err
	}
	// The built-in roles' IDs and names in either language are reserved:
	// a custom role named "admin" or "Administrator" could be taken for
	// the built-in one in a file or on a screen.
	k := membership.Fold(r.Name)
	for _, b := range s.cat.BuiltinRoles() {
		for _, name := range []string{b.ID, b.Name, (membership.Labels{}).RoleName(b, membership.French), (membership.Labels{}).RoleName(b, membership.English)} {
			if membership.Fold(name) == k {
				return &membership.DuplicateError{Key: "role", Value: r.Name}
			}
		}
	}
	for _, o := range roles {
		if o.ID != r.ID && membership.Fold(o.Name) == k {
			return &membership.DuplicateError{Key: "role", Value: r.Name}
		}
	}
	return nil
}

// UpdateRole renames a custom role and sets its permissions (permission
// roles.manage). The actor must hold every permission the role has and
// will have, since the change reaches every member who holds it: a role
// cannot be used to escalate privileges, nor can a role above the actor
// be edited. Built-in roles cannot be changed: [membership.ErrBuiltinRole].
func (s *Service) UpdateRole(ctx context.Context, actor membership.Actor, orgID, roleID, name string, perms []membership.Permission) (membership.Role, error) {
	var out membership.Role
	err := s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		a, r, err := s.customRole(ctx, tx, actor, roleID)
		if err != nil {
			return err
		}
		old := r
		before := strings.Join(permStrings(r.Permissions), ",")
		unknown, err := svc.NewRoles(tx, s.cat).Unknown(ctx)
		if err != nil {
			return err
		}
		r.Name, r.Permissions, r.UpdatedAt = name, slices.Clone(perms), svc.Now(s.clock)
		if err := s.cat.ValidateRole(&r); err != nil {
			return err
		}
		if err := a.CanEditRole(old, r); err != nil {
			return err
		}
		if err := s.uniqueRoleName(ctx, tx, r); err != nil {
			return err
		}
		// Permissions the catalog no longer declares stay stored (and
		// ungranted), so that declaring them again restores them.
		stored := r
		stored.Permissions = slices.Concat(r.Permissions, unknown[r.ID])
		slices.Sort(stored.Permissions)
		if err := tx.PutRole(ctx, stored); err != nil {
			return err
		}
		e := svc.Event(r.UpdatedAt, membership.EventRoleUpdated, actor, r.ID)
		e.Detail = fmt.Sprintf("name: %s; permissions: [%s] → [%s]", r.Name, before, strings.Join(permStrings(r.Permissions), ","))
		emit(e)
		out = r
		return nil
	})
	return out, err
}

func permStrings(ps []membership.Permission) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

// DeleteRole deletes a custom role (permission roles.manage) whose every
// permission the actor holds. A role still held by any member (removed
// ones included, since they can come back), offered by a pending
// invitation, or given by joining with a domain is refused with
// [membership.ErrRoleInUse].
func (s *Service) DeleteRole(ctx context.Context, actor membership.Actor, orgID, roleID string) error {
	return s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		a, r, err := s.customRole(ctx, tx, actor, roleID)
		if err != nil {
			return err
		}
		if err := a.CanEditRole(r, membership.Role{}); err != nil {
			return err
		}
		n, err := store.CountMembers(ctx, tx, store.MemberFilter{RoleID: roleID})
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("role %s is held by %d member(s): %w", roleID, n, membership.ErrRoleInUse)
		}
		for inv, err := range tx.Invitations(ctx, store.InvitationQuery{States: []membership.InvitationState{membership.InvitationPending}}) {
			if err != nil {
				return err
			}
			if inv.RoleID == roleID {
				return fmt.Errorf("role %s is offered by a pending invitation: %w", roleID, membership.ErrRoleInUse)
			}
		}
		ds, err := tx.Domains(ctx)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if d.RoleID == roleID {
				return fmt.Errorf("role %s is given by joining with domain %s: %w", roleID, d.Name, membership.ErrRoleInUse)
			}
		}
		if err := tx.DeleteRole(ctx, roleID); err != nil {
			return err
		}
		emit(svc.Event(svc.Now(s.clock), membership.EventRoleDeleted, actor, roleID))
		return nil
	})
}

// customRole opens a role edit: the actor may manage roles, and roleID is
// a custom role of the org (built-in roles cannot change).
func (s *Service) customRole(ctx context.Context, tx store.Tx, actor membership.Actor, roleID string) (membership.Authority, membership.Role, error) {
	a, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermRolesManage)
	if err != nil {
		return a, membership.Role{}, err
	}
	if membership.IsBuiltinRole(roleID) {
		return a, membership.Role{}, membership.ErrBuiltinRole
	}
	r, err := svc.Role(ctx, tx, s.cat, roleID)
	return a, r, err
}
