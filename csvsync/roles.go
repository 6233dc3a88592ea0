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

// resolveRole returns the ID of the role a Rôle cell names: by its ID or
// one of its names. A cell that names two roles (a custom role named
// like another's ID or name, stored before such names were refused) is
// ambiguous: found is true, ambiguous too, and no role is guessed. Names
// are read in pw's labels (the plan's file's).
func (pw *power) resolveRole(cell string) (id string, found, ambiguous bool) {
	if r, ok := pw.resolved[cell]; ok { // a file repeats a few cells
		return r.id, r.found, r.ambiguous
	}
	defer func() {
		if pw.resolved == nil {
			pw.resolved = map[string]resolvedRole{}
		}
		if len(pw.resolved) < maxResolved {
			pw.resolved[cell] = resolvedRole{id, found, ambiguous}
		}
	}()
	labels := pw.labels
	k := membership.Fold(cell)
	for rid, r := range pw.roles {
		match := rid == cell
		for _, name := range []string{r.Name, labels.RoleName(r, membership.French), labels.RoleName(r, membership.English)} {
			match = match || name != "" && membership.Fold(name) == k
		}
		if !match {
			continue
		}
		if found && id != rid {
			return "", true, true
		}
		id, found = rid, true
	}
	return id, found, false
}

// maxResolved bounds the Rôle cells a power remembers: a file names a
// few roles, a hostile one may write a different cell on every row.
const maxResolved = 256

// roleCell plans a Rôle cell: the role's ID, or false with a problem.
func (pw *power) roleCell(f *File, r *Row, probs *problems) (string, bool) {
	id, found, ambiguous := pw.resolveRole(r.Role)
	switch {
	case ambiguous:
		probs.add(r.Line, f.columnName(colRole), "role_ambiguous", r.Role)
		return "", false
	case !found:
		probs.add(r.Line, f.columnName(colRole), "role_unknown", r.Role)
		return "", false
	}
	return id, true
}

// permName is how a permission is named in a problem.
func (pw *power) permName(p membership.Permission, lang membership.Lang) string {
	return pw.cat.Label(p, lang)
}

// roleName is how a role is shown in a plan's changes and problems.
func (pw *power) roleName(id string, lang membership.Lang, labels membership.Labels) string {
	if r, ok := pw.roles[id]; ok {
		return labels.RoleName(r, lang)
	}
	return id
}

// sameGroups reports whether two lists hold the same labels, without
// regard to order or case.
func sameGroups(a, b []string) bool {
	if slices.Equal(a, b) { // the common case: the cell as exported
		return true
	}
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
		id, ok := pw.roleCell(f, r, probs)
		if !ok {
			return false
		}
		if id != mem.roleID {
			if pw.a.Is(mem.id) {
				probs.add(r.Line, f.columnName(colRole), "role_self")
				return false
			}
			if p, ok := pw.a.Holds(pw.roles[id].Permissions); !ok {
				probs.add(r.Line, f.columnName(colRole), "role_beyond", pw.roleName(id, f.lang, f.labels), pw.permName(p, f.lang))
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
