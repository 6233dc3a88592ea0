package csvsync

import (
	"slices"
	"strings"

	"github.com/memberkit/memberkit/membership"
)

// The Rôle and Groupes columns in a plan: a role is named by its ID or
// its name (a built-in role's in French or English, or the host's word
// for it); changing a member's role takes the same power as anywhere
// else: acting on the member, granting the new role, and never one's own.

// resolveRole returns the ID of the role a Rôle cell names.
func (pw *power) resolveRole(cell string, labels membership.Labels) (string, bool) {
	if _, ok := pw.roles[cell]; ok {
		return cell, true
	}
	k := membership.Fold(cell)
	for id, r := range pw.roles {
		for _, name := range []string{r.Name, labels.RoleName(r, membership.French), labels.RoleName(r, membership.English)} {
			if name != "" && membership.Fold(name) == k {
				return id, true
			}
		}
	}
	return "", false
}

// roleName is how a role is shown in a plan's changes.
func (pw *power) roleName(id string, lang membership.Lang, labels membership.Labels) string {
	if r, ok := pw.roles[id]; ok {
		return labels.RoleName(r, lang)
	}
	return id
}

// sameGroups reports whether two lists hold the same labels, without
// regard to order or case.
func sameGroups(a, b []string) bool {
	key := func(gs []string) []string {
		out := make([]string, len(gs))
		for i, g := range gs {
			out[i] = membership.GroupKey(g)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(key(a), key(b))
}

// roleAndGroups plans the Rôle and Groupes cells of a row matched to an
// existing member; it returns false, with a problem, when the row may
// not change them.
func roleAndGroups(f *File, r *Row, a *Action, mem *memberRef, pw *power, probs *problems) bool {
	if f.HasRole && r.Role != "" {
		id, ok := pw.resolveRole(r.Role, f.labels)
		if !ok {
			probs.add(r.Line, f.columnName(colRole), "role_unknown", r.Role)
			return false
		}
		if id != mem.roleID {
			if pw.a.Is(mem.id) {
				probs.add(r.Line, f.columnName(colRole), "role_self")
				return false
			}
			if p, ok := pw.a.Holds(pw.roles[id].Permissions); !ok {
				probs.add(r.Line, f.columnName(colRole), "role_beyond", pw.roleName(id, f.lang, f.labels), string(p))
				return false
			}
			a.newRole = id
			a.Changes = append(a.Changes, Change{"role", pw.roleName(mem.roleID, f.lang, f.labels), pw.roleName(id, f.lang, f.labels)})
		}
	}
	if f.HasGroups && !sameGroups(mem.groups, r.Groups) {
		a.setGroups, a.groups = true, r.Groups
		a.Changes = append(a.Changes, Change{"groups", strings.Join(mem.groups, ", "), strings.Join(r.Groups, ", ")})
	}
	return true
}

// memberRef is what roleAndGroups reads of a member.
type memberRef struct {
	id, roleID string
	groups     []string
}
