package csvsync

import (
	"iter"
	"slices"
	"strconv"
	"strings"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// The steps of a plan, each a pure function of the file, the roster index
// and what the steps before found: index the roster, match rows to
// members, check identifiers and hashes, classify the rows, find the
// absent members. Problems go to one list, which Plan turns into a
// FileError.

// rosterIndex is the roster as a plan sees it: one compact summary per
// member, and its login and email keys.
type rosterIndex struct {
	members []store.MemberSummary
	byLogin map[string]int32
	byEmail map[string]int32
}

// indexRoster reads summaries into an index sized for a file that lists
// about the whole roster (rows).
func indexRoster(seq iter.Seq2[store.MemberSummary, error], rows int) (*rosterIndex, error) {
	ix := &rosterIndex{
		members: make([]store.MemberSummary, 0, rows+rows/8),
		byLogin: make(map[string]int32, rows),
		byEmail: make(map[string]int32, rows),
	}
	for m, err := range seq {
		if err != nil {
			return nil, err
		}
		i := int32(len(ix.members))
		ix.members = append(ix.members, m)
		ix.byLogin[membership.LoginKey(m.Login)] = i
		if k := membership.EmailKey(m.Email); k != "" {
			ix.byEmail[k] = i
		}
	}
	return ix, nil
}

// matching is what matchRows found.
type matching struct {
	member    []int32        // per row: the index of its member, or -1 for a new one
	claimedBy []int32        // per member: the line that matched it, 0 for none
	newLogins map[string]int // the login of each new row → its line
}

// rowLogin is the login a row names, or its default login.
func rowLogin(r *Row) string {
	if r.Login != "" {
		return r.Login
	}
	return membership.DefaultLogin(r.FirstName, r.LastName)
}

// matchRows matches each row to a member: by login, else by email, else
// by the default login. A row that matches two members, or two rows that
// match one, is a problem naming both.
func matchRows(f *File, ix *rosterIndex, probs *problems) matching {
	m := matching{member: make([]int32, len(f.Rows)), claimedBy: make([]int32, len(ix.members)), newLogins: map[string]int{}}
	colLogin, colEmail := f.columnName(colLogin), f.columnName(colEmail)
	for i := range f.Rows {
		r := &f.Rows[i]
		idx := int32(-1)
		if r.Login == "" && r.Email != "" {
			if e, ok := ix.byEmail[r.Email]; ok {
				idx = e
			}
		}
		login := rowLogin(r)
		if idx < 0 {
			if l, ok := ix.byLogin[login]; ok {
				idx = l
			}
		}
		m.member[i] = idx
		if r.Login != "" && r.Email != "" && idx >= 0 {
			if e, ok := ix.byEmail[r.Email]; ok && e != idx {
				probs.add(r.Line, colEmail, "two_members", ix.members[idx].Login, ix.members[e].Login)
				m.member[i] = -1
				continue
			}
		}
		if idx >= 0 {
			if prev := m.claimedBy[idx]; prev != 0 {
				probs.add(r.Line, colLogin, "same_member", int(prev), ix.members[idx].Login)
				continue
			}
			m.claimedBy[idx] = int32(r.Line)
		} else {
			if prev, dup := m.newLogins[login]; dup {
				probs.add(r.Line, colLogin, "same_member", prev, login)
				continue
			}
			m.newLogins[login] = r.Line
		}
	}
	return m
}

// checkIdentifiers checks that the emails the import leaves stay unique,
// that no email is another member's login, and that no login has the
// form of another member's email.
func checkIdentifiers(f *File, ix *rosterIndex, m matching, probs *problems) {
	colLogin, colEmail := f.columnName(colLogin), f.columnName(colEmail)
	emailLine := make(map[string]int, len(f.Rows))
	for i := range f.Rows {
		r, idx := &f.Rows[i], m.member[i]
		if r.Email == "" || (idx >= 0 && !f.HasEmail) {
			continue // no email, or emails left as they are
		}
		if prev, dup := emailLine[r.Email]; dup {
			probs.add(r.Line, colEmail, "email_dup_row", r.Email, prev)
			continue
		}
		emailLine[r.Email] = r.Line
		if owner, ok := ix.byEmail[r.Email]; ok && owner != idx {
			probs.add(r.Line, colEmail, "email_taken", r.Email, ix.members[owner].Login)
		}
		if owner, ok := ix.byLogin[r.Email]; ok && owner != idx {
			probs.add(r.Line, colEmail, "email_is_login", r.Email, ix.members[owner].Login)
		} else if prev, ok := m.newLogins[r.Email]; ok && prev != r.Line {
			probs.add(r.Line, colEmail, "email_is_login", r.Email, strconv.Itoa(prev))
		}
	}
	for i := range f.Rows {
		r := &f.Rows[i]
		if !strings.Contains(r.Login, "@") {
			continue
		}
		if owner, ok := ix.byEmail[r.Login]; ok && owner != m.member[i] {
			probs.add(r.Line, colLogin, "login_is_email", r.Login, ix.members[owner].Login)
		} else if prev, ok := emailLine[r.Login]; ok && prev != r.Line {
			probs.add(r.Line, colLogin, "login_is_email", r.Login, strconv.Itoa(prev))
		}
	}
}

// checkHashes refuses password hashes below the minimum strength.
func checkHashes(f *File, probs *problems) {
	for i := range f.Rows {
		r := &f.Rows[i]
		if r.PassKind == PasswordHashed && membership.CheckHashStrength(string(r.Password)) != nil {
			probs.add(r.Line, f.columnName(colPassword), "weak_hash")
		}
	}
}

// classified is what classify found.
type classified struct {
	actions       []Action // rows that may change something, in file order
	tally         membership.Tally
	adds          int
	deactivations int
	unchanged     int  // rows that change nothing, not kept
	defaultRole   bool // some new member takes the plan's role
}

// classify turns each row into an action: an add (its role is the plan's),
// a change to its member (update, reactivate, deactivate), or nothing. A row that would
// change a member the actor may not act on, or deactivate the actor, is a
// problem.
func classify(f *File, ix *rosterIndex, m matching, actor membership.Actor, pw *power, extra []memberExtra, probs *problems) classified {
	var c classified
	for i := range f.Rows {
		r, idx := &f.Rows[i], m.member[i]
		if idx < 0 {
			a := Action{Kind: KindAdd, Line: r.Line, Login: rowLogin(r), Name: r.FirstName + " " + r.LastName, Email: r.Email,
				Status: r.Status, first: r.FirstName, last: r.LastName, setHash: true, secret: &actionSecret{}, attrs: membership.Attributes(nil).Merge(r.Attributes)}
			switch r.PassKind {
			case PasswordHashed:
				a.secret.hash = membership.PasswordHash(string(r.Password))
			case PasswordPlain:
				a.secret.plain = string(r.Password)
			default:
				a.mustChange = true
			}
			if f.HasRole && r.Role != "" {
				id, ok := pw.roleCell(f, r, probs)
				if !ok {
					continue
				}
				if p, ok := pw.a.Holds(pw.roles[id].Permissions); !ok {
					probs.add(r.Line, f.columnName(colRole), "role_beyond", pw.roleName(id, f.lang, f.labels), pw.permName(p, f.lang))
					continue
				}
				a.newRole = id
			} else {
				c.defaultRole = true
			}
			if f.HasGroups {
				a.groups = r.Groups
			}
			// An added member takes a seat but does not count as an
			// admin: someone who has never signed in (her temporary
			// password is in the importer's hands) cannot stand in for
			// the last admin the file would deactivate.
			c.tally.Change(membership.Member{}, membership.Member{Status: r.Status})
			c.actions = append(c.actions, a)
			c.adds++
			continue
		}
		mem := &ix.members[idx]
		a := Action{Line: r.Line, MemberID: mem.ID, Login: mem.Login, Name: r.FirstName + " " + r.LastName, Email: mem.Email,
			Status: mem.Status, version: mem.Version, before: mem.Status, role: mem.RoleID, first: r.FirstName, last: r.LastName}
		if r.LastName != mem.LastName {
			a.Changes = append(a.Changes, Change{"last_name", mem.LastName, r.LastName})
		}
		if r.FirstName != mem.FirstName {
			a.Changes = append(a.Changes, Change{"first_name", mem.FirstName, r.FirstName})
		}
		if f.HasEmail && r.Email != mem.Email {
			a.Changes = append(a.Changes, Change{"email", mem.Email, r.Email})
			a.Email = r.Email
		}
		if r.Status != mem.Status {
			a.Changes = append(a.Changes, Change{"status", string(mem.Status), string(r.Status)})
			a.Status = r.Status
		}
		var x memberExtra
		if extra != nil {
			x = extra[idx]
		}
		if len(f.Attributes) > 0 && !attributeChanges(&a, x.attrs, r.Attributes) {
			probs.add(r.Line, "", "too_many_attributes", mem.Login, membership.MaxAttributes)
			continue
		}
		if !roleAndGroups(f, r, &a, &memberRef{id: mem.ID, roleID: mem.RoleID, groups: x.groups}, pw, probs) {
			continue
		}
		password := r.PassKind == PasswordHashed || r.PassKind == PasswordPlain
		if len(a.Changes) == 0 && !password {
			c.unchanged++ // the bulk of a reconcile: counted, not kept
			continue
		}
		// A hash from the file is compared with the stored one as text; a
		// clear password is verified against it only for the system actor,
		// so that a plan cannot tell a member whether a guess is right.
		a.verify = r.PassKind == PasswordHashed || (r.PassKind == PasswordPlain && actor.IsSystem())
		if lack := pw.lacks(mem.RoleID); lack != "" {
			probs.add(r.Line, f.columnName(colLogin), "beyond_power", mem.Login, pw.roleName(mem.RoleID, f.lang, f.labels), pw.permName(lack, f.lang))
			continue
		}
		// A password or an email is how an account is entered or
		// recovered: setting another member's needs an actor that outranks
		// them, and one's own goes through ChangePassword.
		self := pw.a.Is(mem.ID)
		a.creds = password || (f.HasEmail && r.Email != mem.Email && !self)
		if a.creds && pw.a.CanSetCredentials(membership.Member{ID: mem.ID}, pw.roles[mem.RoleID]) != nil {
			probs.add(r.Line, f.columnName(colPassword), "credentials", mem.Login, pw.roleName(mem.RoleID, f.lang, f.labels))
			continue
		}
		a.secret = &actionSecret{}
		switch r.PassKind {
		case PasswordHashed:
			a.secret.hash = membership.PasswordHash(string(r.Password))
		case PasswordPlain:
			a.secret.plain = string(r.Password)
		}
		c.tally.Change(membership.Member{Status: mem.Status, RoleID: mem.RoleID}, membership.Member{Status: a.Status, RoleID: a.roleAfter()})
		switch {
		case a.Status == membership.StatusActive && mem.Status != membership.StatusActive:
			a.Kind = KindReactivate
		case a.Status == membership.StatusDeactivated && mem.Status == membership.StatusActive:
			a.Kind = KindDeactivate
			c.deactivations++
			if pw.a.Is(mem.ID) {
				probs.add(r.Line, f.columnName(colStatus), "self")
			}
		case len(a.Changes) > 0:
			a.Kind = KindUpdate
		default:
			a.Kind = KindUnchanged
		}
		c.actions = append(c.actions, a)
	}
	return c
}

// findAbsent deactivates the active members no row matched, listed by
// login whatever order the store streamed them in.
func findAbsent(ix *rosterIndex, m matching, pw *power, probs *problems) classified {
	var c classified
	for i := range ix.members {
		mem := &ix.members[i]
		if m.claimedBy[i] != 0 || mem.Status != membership.StatusActive {
			continue
		}
		if pw.a.Is(mem.ID) {
			probs.add(0, "", "self")
		}
		if lack := pw.lacks(mem.RoleID); lack != "" {
			probs.add(0, "", "beyond_power", mem.Login, pw.roleName(mem.RoleID, probs.lang, pw.labels), pw.permName(lack, probs.lang))
		}
		c.actions = append(c.actions, Action{Kind: KindDeactivate, MemberID: mem.ID, Login: mem.Login, Name: mem.FirstName + " " + mem.LastName,
			Email: mem.Email, Status: membership.StatusDeactivated, version: mem.Version, before: mem.Status, role: mem.RoleID,
			first: mem.FirstName, last: mem.LastName, secret: &actionSecret{},
			Changes: []Change{{"status", string(membership.StatusActive), string(membership.StatusDeactivated)}}})
		c.tally.Change(membership.Member{Status: mem.Status, RoleID: mem.RoleID}, membership.Member{Status: membership.StatusDeactivated, RoleID: mem.RoleID})
		c.deactivations++
	}
	slices.SortFunc(c.actions, func(a, b Action) int {
		return strings.Compare(membership.LoginKey(a.Login), membership.LoginKey(b.Login))
	})
	return c
}

// maxUnknownWarnings caps the columns a plan lists as ignored.
const maxUnknownWarnings = 10

// unknownColumnWarnings lists the ignored columns, at most
// maxUnknownWarnings of them, each as an excerpt.
func unknownColumnWarnings(unknown []string, lang membership.Lang) []string {
	var out []string
	for i, u := range unknown {
		if i == maxUnknownWarnings {
			out = append(out, msg(lang, "columns_ignored_more", len(unknown)-i))
			break
		}
		out = append(out, msg(lang, "column_ignored", membership.Excerpt(u, excerptLen)))
	}
	return out
}
