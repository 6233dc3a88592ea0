package membership

import (
	"slices"
	"time"
)

// Permission is one thing a role allows.
type Permission string

// The permissions memberkit checks.
const (
	PermMembersRead       Permission = "members.read"       // list and view members
	PermMembersManage     Permission = "members.manage"     // add, activate, deactivate, remove, change role
	PermInvitationsManage Permission = "invitations.manage" // send, resend, cancel invitations
	PermRolesManage       Permission = "roles.manage"       // create, change, delete custom roles
	PermOrgManage         Permission = "org.manage"         // change the org itself
	PermCSVImport         Permission = "csv.import"         // import a roster file
	PermCSVExport         Permission = "csv.export"         // export the roster
	PermAuditRead         Permission = "audit.read"         // read audit events and the review report
)

// AllPermissions returns every permission, in a stable order.
func AllPermissions() []Permission {
	return []Permission{PermMembersRead, PermMembersManage, PermInvitationsManage,
		PermRolesManage, PermOrgManage, PermCSVImport, PermCSVExport, PermAuditRead}
}

// Valid reports whether p is a permission memberkit knows.
func (p Permission) Valid() bool { return slices.Contains(AllPermissions(), p) }

// IDs of the built-in roles, present in every org.
const (
	// RoleAdmin: every permission. Every org keeps at least one active
	// member with this role.
	RoleAdmin = "admin"
	// RoleUser: read-only on members.
	RoleUser = "user"
)

// Role is a named set of permissions. The built-in roles [RoleAdmin] and
// [RoleUser] exist in every org and cannot be changed; custom roles belong
// to one org and start with no permission (least privilege).
type Role struct {
	ID          string
	OrgID       string // empty for built-in roles
	Name        string
	Permissions []Permission // sorted, no duplicates
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// BuiltinRoles returns the built-in roles: admin and user.
func BuiltinRoles() []Role {
	return []Role{
		{ID: RoleAdmin, Name: "Administrateur", Permissions: AllPermissions()},
		{ID: RoleUser, Name: "Utilisateur", Permissions: []Permission{PermMembersRead}},
	}
}

// BuiltinRole returns the built-in role with that ID.
func BuiltinRole(id string) (Role, bool) {
	for _, r := range BuiltinRoles() {
		if r.ID == id {
			return r, true
		}
	}
	return Role{}, false
}

// IsBuiltinRole reports whether id names a built-in role.
func IsBuiltinRole(id string) bool { return id == RoleAdmin || id == RoleUser }

// Has reports whether the role grants p.
func (r Role) Has(p Permission) bool { return slices.Contains(r.Permissions, p) }

// ValidateRole checks a custom role and normalises its permissions.
func ValidateRole(r *Role) error {
	if r.ID == "" {
		return invalid("role_id", "must not be empty")
	}
	if IsBuiltinRole(r.ID) {
		return ErrBuiltinRole
	}
	name, err := ValidateName("role_name", r.Name)
	if err != nil {
		return err
	}
	r.Name = name
	for _, p := range r.Permissions {
		if !p.Valid() {
			return invalid("permissions", "unknown permission %q", p)
		}
	}
	slices.Sort(r.Permissions)
	r.Permissions = slices.Compact(r.Permissions)
	return nil
}
