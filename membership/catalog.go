package membership

import (
	"fmt"
	"slices"
)

// PermissionDef declares one of the host's own permissions: what its
// custom roles may grant for the host's features ("commissions.create").
type PermissionDef struct {
	Name    Permission
	French  string // label shown to French speakers
	English string // label shown to English speakers
}

// Catalog is every permission a deployment knows: memberkit's own
// (members, invitations, roles, imports…) and the host's, declared once at
// setup with [NewCatalog] and handed to every service. Custom roles hold
// any known permission; the built-in admin role holds them all; the
// built-in user role holds what the host chooses. A nil *Catalog knows
// memberkit's permissions only, and gives the user role members.read.
// A Catalog is read-only once made and safe for concurrent use.
type Catalog struct {
	host  []PermissionDef
	user  []Permission
	known map[Permission]bool
}

// NewCatalog declares the host's permissions and those of the built-in
// user role (nil: members.read). Names are 1 to 64 characters of a-z,
// 0-9 and . _ : -, start with a letter, and may not repeat or take one of
// memberkit's.
func NewCatalog(host []PermissionDef, userRole []Permission) (*Catalog, error) {
	c := &Catalog{known: make(map[Permission]bool)}
	for _, p := range AllPermissions() {
		c.known[p] = true
	}
	for i, d := range host {
		if !validPermissionName(string(d.Name)) {
			return nil, invalid("permissions", "permission_name", i+1, Excerpt(string(d.Name), 64))
		}
		if c.known[d.Name] {
			return nil, invalid("permissions", "permission_twice", d.Name)
		}
		c.known[d.Name] = true
		c.host = append(c.host, d)
	}
	if userRole == nil {
		userRole = []Permission{PermMembersRead}
	}
	for _, p := range userRole {
		if !c.known[p] {
			return nil, invalid("permissions", "permission_undeclared", p)
		}
	}
	c.user = slices.Clone(userRole)
	slices.Sort(c.user)
	c.user = slices.Compact(c.user)
	return c, nil
}

func validPermissionName(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// Permissions returns every known permission: memberkit's, then the
// host's in the order declared.
func (c *Catalog) Permissions() []Permission {
	out := AllPermissions()
	if c != nil {
		for _, d := range c.host {
			out = append(out, d.Name)
		}
	}
	return out
}

// HostPermissions returns the host's declarations.
func (c *Catalog) HostPermissions() []PermissionDef {
	if c == nil {
		return nil
	}
	return slices.Clone(c.host)
}

// Known reports whether p is a permission of the catalog.
func (c *Catalog) Known(p Permission) bool {
	if c == nil {
		return p.Valid()
	}
	return c.known[p]
}

// Label returns how a permission is shown to people: the host's label in
// the language asked, or memberkit's own.
func (c *Catalog) Label(p Permission, lang Lang) string {
	if c != nil {
		for _, d := range c.host {
			if d.Name == p {
				if l := pick(lang != English, d.French, d.English); l != "" {
					return l
				}
				return string(p)
			}
		}
	}
	return p.Label(lang)
}

// BuiltinRoles returns the built-in roles as the catalog makes them: admin
// with every known permission, user with the host's choice.
func (c *Catalog) BuiltinRoles() []Role {
	user := []Permission{PermMembersRead}
	if c != nil {
		user = slices.Clone(c.user)
	}
	return []Role{
		{ID: RoleAdmin, Name: "Administrateur", Permissions: c.Permissions()},
		{ID: RoleUser, Name: "Utilisateur", Permissions: user},
	}
}

// BuiltinRole returns the built-in role with that ID.
func (c *Catalog) BuiltinRole(id string) (Role, bool) {
	for _, r := range c.BuiltinRoles() {
		if r.ID == id {
			return r, true
		}
	}
	return Role{}, false
}

// Effective returns a stored custom role as it grants: without the
// permissions the catalog no longer knows (the host stopped declaring
// them), which it returns apart so that a review can list them. An unknown
// permission is never granted.
func (c *Catalog) Effective(r Role) (Role, []Permission) {
	var unknown []Permission
	kept := make([]Permission, 0, len(r.Permissions))
	for _, p := range r.Permissions {
		if c.Known(p) {
			kept = append(kept, p)
		} else {
			unknown = append(unknown, p)
		}
	}
	r.Permissions = kept
	return r, unknown
}

// ValidateRole checks a custom role against the catalog and normalises
// its permissions (sorted, no duplicates).
func (c *Catalog) ValidateRole(r *Role) error {
	if r.ID == "" {
		return invalid("role_id", "required")
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
		if !c.Known(p) {
			return invalid("permissions", "permission_undeclared", Excerpt(string(p), 64))
		}
	}
	r.Permissions = slices.Clone(r.Permissions)
	slices.Sort(r.Permissions)
	r.Permissions = slices.Compact(r.Permissions)
	return nil
}

// Label returns how memberkit's own permission is shown to people.
func (p Permission) Label(lang Lang) string {
	labels := map[Permission][2]string{
		PermMembersRead:       {"Voir les membres", "See members"},
		PermMembersManage:     {"Gérer les membres", "Manage members"},
		PermInvitationsManage: {"Inviter", "Invite"},
		PermRolesManage:       {"Gérer les rôles", "Manage roles"},
		PermOrgManage:         {"Gérer l'entreprise", "Manage the company"},
		PermCSVImport:         {"Importer", "Import"},
		PermCSVExport:         {"Exporter", "Export"},
		PermAuditRead:         {"Voir le journal", "See the audit trail"},
	}
	if l, ok := labels[p]; ok {
		return pick(lang != English, l[0], l[1])
	}
	return fmt.Sprint(string(p))
}
