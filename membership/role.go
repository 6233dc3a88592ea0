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

// Valid reports whether p is one of memberkit's own permissions (a
// host's are known to its [Catalog]).
func (p Permission) Valid() bool { return slices.Contains(AllPermissions(), p) }

// IDs of the built-in roles, present in every org.
const (
	// RoleAdmin: every permission. Every org keeps at least one active
	// member with this role.
	RoleAdmin = "admin"
	// RoleUser: read-only on members, unless the host's [Catalog] gives
	// it other permissions.
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

// BuiltinRoles returns the built-in roles as they are without a host
// catalog: admin with memberkit's permissions, user with members.read.
// Services built with a [Catalog] use [Catalog.BuiltinRoles].
func BuiltinRoles() []Role { return (*Catalog)(nil).BuiltinRoles() }

// BuiltinRole returns the built-in role with that ID, without a host
// catalog (see [Catalog.BuiltinRole]).
func BuiltinRole(id string) (Role, bool) { return (*Catalog)(nil).BuiltinRole(id) }

// IsBuiltinRole reports whether id names a built-in role.
func IsBuiltinRole(id string) bool { return id == RoleAdmin || id == RoleUser }

// Has reports whether the role grants p.
func (r Role) Has(p Permission) bool { return slices.Contains(r.Permissions, p) }

// ValidateRole checks a custom role against memberkit's own permissions
// and normalises them (see [Catalog.ValidateRole] for a host's).
func ValidateRole(r *Role) error { return (*Catalog)(nil).ValidateRole(r) }
