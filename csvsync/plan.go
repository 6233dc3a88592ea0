package csvsync

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// PlanOptions shape a plan. Zero fields take the defaults.
type PlanOptions struct {
	// TemporaryPassword is given to new members whose row has no
	// password (the product page's shared default); it is hashed once per
	// import, while the roster is read. Empty means a random password per
	// new member, returned once in Result.TemporaryPasswords. Either way
	// the member must change it at first login.
	TemporaryPassword string
	// RoleID of new members; default membership.RoleUser.
	RoleID string
	// MaxDeactivateRatio refuses a plan that would deactivate more than
	// this share of the active members; default 0.5.
	MaxDeactivateRatio float64
	// AllowMassDeactivation lifts that guard.
	AllowMassDeactivation bool
	// Progress, when set, is told how the password hashing advances.
	Progress func(done, total int)
	// AllowWeakHashes accepts password hashes from the file below the
	// minimum strength (bcrypt cost under 10, argon2id under OWASP's
	// parameters), to migrate from a legacy system; they are replaced at
	// each member's next login. By default such rows are refused.
	AllowWeakHashes bool
}

// Kind classifies what the plan does with a row or an absent member.
type Kind string

// Kinds of actions.
const (
	KindAdd        Kind = "add"        // a new member
	KindUpdate     Kind = "update"     // fields change, status does not
	KindReactivate Kind = "reactivate" // a deactivated or removed member becomes active
	KindDeactivate Kind = "deactivate" // the row says Désactivé, or the member is absent from the file
	KindUnchanged  Kind = "unchanged"
)

// Change is one field's change. Passwords never show: their Before and
// After read "•••".
type Change struct {
	Field  string // "last_name", "first_name", "email", "status", "password"
	Before string
	After  string
}

// Action is what the plan does with one row, or with one active member
// absent from the file (Line 0).
type Action struct {
	Kind     Kind
	Line     int    // the row's line; 0 for an absent member
	MemberID string // "" for an add
	Login    string
	Name     string // "Prénom Nom"
	Email    string
	Status   membership.Status // after the import
	Changes  []Change

	version    int64             // the member's version when planned
	before     membership.Status // the member's status when planned
	role       string            // the member's role when planned
	first      string
	last       string
	setHash    bool
	mustChange bool
	verify     bool // compare with the stored hash first
	// secret holds the passwords and hashes behind a pointer, so that
	// printing an Action (even with %+v) shows an address, never them.
	secret *actionSecret
}

type actionSecret struct {
	hash   membership.PasswordHash
	tempPw string
	plain  string // cleared once hashed
}

// Plan is a preview of an import: show it, then [Service.Apply] it.
type Plan struct {
	OrgID string
	// Actions lists every row that changes something, in file order, then
	// the absent members to deactivate. Unchanged rows are only counted.
	Actions []Action
	// Counts.
	Adds, Updates, Reactivations, Deactivations, Unchanged int
	// SeatsBefore and SeatsAfter are the seats used; SeatLimit 0 is
	// unlimited.
	SeatsBefore, SeatsAfter, SeatLimit int
	// Warnings in the language of the parse: ignored columns, a single
	// admin left…
	Warnings []string
	// PlannedAt is when the plan was made.
	PlannedAt time.Time

	actor   membership.Actor
	roleID  string
	version int64 // the org's RosterVersion when planned
	total   int
	active  int
	admins  int
	hashes  int // password hash operations spent
	lang    membership.Lang
	applied bool
}

// Changes reports whether applying the plan would change anything.
func (p *Plan) Changes() bool { return len(p.Actions) > 0 }

// HashOperations is how many password hashes (or verifications) the plan
// cost. A file with blank passwords or the export placeholder costs none
// but the shared temporary password, hashed once.
func (p *Plan) HashOperations() int { return p.hashes }

const passwordMask = "•••"

// Plan matches a parsed file against the org's roster and says what
// applying it would do (permission csv.import and the org's CSV feature).
// Nothing is written. An ambiguous or inconsistent file gives a
// [*FileError] naming the lines; the seat limit, the last-admin rule and
// the mass-deactivation guard give [membership.ErrMemberLimit],
// [membership.ErrLastAdmin] and [ErrMassDeactivation].
func (s *Service) Plan(ctx context.Context, actor membership.Actor, orgID string, f *File, opts *PlanOptions) (*Plan, error) {
	var o PlanOptions
	if opts != nil {
		o = *opts
	}
	if o.RoleID == "" {
		o.RoleID = membership.RoleUser
	}
	if o.MaxDeactivateRatio <= 0 {
		o.MaxDeactivateRatio = 0.5
	}
	lang := f.lang
	if lang == "" {
		lang = membership.French
	}
	p := &Plan{OrgID: orgID, PlannedAt: s.clock.Now(), actor: actor, roleID: o.RoleID, lang: lang}

	// The shared temporary password is hashed while the roster is read:
	// the hash is CPU, the read mostly waiting on the database.
	var temp *tempHash
	if o.TemporaryPassword != "" && len(f.Rows) > 0 {
		temp = &tempHash{done: make(chan struct{})}
		go func() {
			defer close(temp.done)
			temp.hash, temp.err = s.hasher.Hash(o.TemporaryPassword)
		}()
		defer func() { <-temp.done }() // never outlive Plan
	}

	// 1. Snapshot the roster: one compact index of summaries, sized for
	// a file that lists about the whole roster.
	members := make([]store.MemberSummary, 0, len(f.Rows)+len(f.Rows)/8)
	byLogin := make(map[string]int32, len(f.Rows))
	byEmail := make(map[string]int32, len(f.Rows))
	var limit, pending int
	var pw *power
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		a, err := authorize(ctx, tx, actor, membership.PermCSVImport)
		if err != nil {
			return err
		}
		if pw, err = loadPower(ctx, tx, a); err != nil {
			return err
		}
		if _, ok := pw.roles[o.RoleID]; !ok {
			return &membership.ValidationError{Field: "role", Reason: fmt.Sprintf("no role %q in this org", o.RoleID)}
		}
		org, c, err := svc.OrgCounts(ctx, tx, s.clock.Now())
		if err != nil {
			return err
		}
		limit, pending, p.active, p.admins, p.version = org.Plan.MemberLimit, c.PendingInvitations, c.ActiveMembers, c.ActiveAdmins, org.RosterVersion
		for m, err := range tx.MemberSummaries(ctx) {
			if err != nil {
				return err
			}
			i := int32(len(members))
			members = append(members, m)
			byLogin[membership.LoginKey(m.Login)] = i
			if k := membership.EmailKey(m.Email); k != "" {
				byEmail[k] = i
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.total = len(members)
	probs := &problems{max: 100, lang: lang}
	colLoginName, colEmailName := f.columnName(colLogin), f.columnName(colEmail)
	// beyond reports a member the actor may not act on.
	beyond := func(line int, col string, m *store.MemberSummary) bool {
		if p := pw.lacks(m.RoleID); p != "" {
			probs.add(line, col, "beyond_power", m.Login, m.RoleID, p)
			return true
		}
		return false
	}

	// 2. Match rows to members.
	matched := make([]int32, len(f.Rows))    // member index or -1
	claimedBy := make([]int32, len(members)) // the line that matched each member; 0 for none
	newLogins := map[string]int{}
	for i := range f.Rows {
		r := &f.Rows[i]
		idx := int32(-1)
		login := r.Login
		if login == "" {
			if r.Email != "" {
				if m, ok := byEmail[r.Email]; ok {
					idx = m
				}
			}
			if idx < 0 {
				login = membership.DefaultLogin(r.FirstName, r.LastName)
			}
		}
		if idx < 0 {
			if m, ok := byLogin[login]; ok {
				idx = m
			}
		}
		if r.Login != "" && r.Email != "" {
			if e, ok := byEmail[r.Email]; ok && idx >= 0 && e != idx {
				probs.add(r.Line, colEmailName, "two_members", members[idx].Login, members[e].Login)
				matched[i] = -1
				continue
			}
		}
		matched[i] = idx
		if idx >= 0 {
			if prev := claimedBy[idx]; prev != 0 {
				probs.add(r.Line, colLoginName, "same_member", int(prev), members[idx].Login)
				continue
			}
			claimedBy[idx] = int32(r.Line)
		} else {
			if prev, dup := newLogins[login]; dup {
				probs.add(r.Line, colLoginName, "same_member", prev, login)
				continue
			}
			newLogins[login] = r.Line
		}
	}

	// 3. Final emails must stay unique.
	emailLine := map[string]int{}
	for i := range f.Rows {
		r := &f.Rows[i]
		idx := matched[i]
		email := r.Email
		if idx >= 0 && !f.HasEmail {
			continue // emails untouched
		}
		if email == "" {
			continue
		}
		if prev, dup := emailLine[email]; dup {
			probs.add(r.Line, colEmailName, "email_dup_row", email, prev)
			continue
		}
		emailLine[email] = r.Line
		if owner, ok := byEmail[email]; ok && owner != idx {
			probs.add(r.Line, colEmailName, "email_taken", email, members[owner].Login)
		}
		if owner, ok := byLogin[email]; ok && owner != idx {
			probs.add(r.Line, colEmailName, "email_is_login", email, members[owner].Login)
		} else if prev, ok := newLogins[email]; ok && prev != r.Line {
			probs.add(r.Line, colEmailName, "email_is_login", email, email)
		}
	}
	// A login may not take the form of another member's email.
	for i := range f.Rows {
		r := &f.Rows[i]
		if r.Login == "" || !strings.Contains(r.Login, "@") {
			continue
		}
		if owner, ok := byEmail[r.Login]; ok && owner != matched[i] {
			probs.add(r.Line, colLoginName, "login_is_email", r.Login, members[owner].Login)
		} else if prev, ok := emailLine[r.Login]; ok && prev != r.Line {
			probs.add(r.Line, colLoginName, "login_is_email", r.Login, fmt.Sprintf("%d", prev))
		}
	}
	// Imported hashes must be strong enough.
	if !o.AllowWeakHashes {
		for i := range f.Rows {
			r := &f.Rows[i]
			if r.PassKind == PasswordHashed {
				if err := membership.CheckHashStrength(string(r.Password)); err != nil {
					probs.add(r.Line, f.columnName(colPassword), "weak_hash")
				}
			}
		}
	}

	// 4. Classify.
	var seatDelta, adminDelta, deactivations int
	for i := range f.Rows {
		r := &f.Rows[i]
		idx := matched[i]
		if idx < 0 {
			login := r.Login
			if login == "" {
				login = membership.DefaultLogin(r.FirstName, r.LastName)
			}
			a := Action{Kind: KindAdd, Line: r.Line, Login: login, Name: r.FirstName + " " + r.LastName, Email: r.Email,
				Status: r.Status, first: r.FirstName, last: r.LastName, setHash: true, secret: &actionSecret{}}
			switch r.PassKind {
			case PasswordHashed:
				a.secret.hash = membership.PasswordHash(string(r.Password))
			case PasswordPlain:
				a.secret.plain = string(r.Password)
			default:
				a.mustChange = true
			}
			if r.Status == membership.StatusActive {
				seatDelta++
			}
			p.Actions = append(p.Actions, a)
			p.Adds++
			continue
		}
		m := &members[idx]
		a := Action{Line: r.Line, MemberID: m.ID, Login: m.Login, Name: r.FirstName + " " + r.LastName, Email: m.Email,
			Status: m.Status, version: m.Version, before: m.Status, role: m.RoleID, first: r.FirstName, last: r.LastName}
		if r.LastName != m.LastName {
			a.Changes = append(a.Changes, Change{"last_name", m.LastName, r.LastName})
		}
		if r.FirstName != m.FirstName {
			a.Changes = append(a.Changes, Change{"first_name", m.FirstName, r.FirstName})
		}
		if f.HasEmail && r.Email != m.Email {
			a.Changes = append(a.Changes, Change{"email", m.Email, r.Email})
			a.Email = r.Email
		}
		if r.Status != m.Status {
			a.Changes = append(a.Changes, Change{"status", string(m.Status), string(r.Status)})
			a.Status = r.Status
		}
		a.verify = r.PassKind == PasswordHashed || r.PassKind == PasswordPlain // compared with the stored hash below
		if len(a.Changes) == 0 && !a.verify {
			p.Unchanged++ // the bulk of a reconcile: counted, not kept
			continue
		}
		if beyond(r.Line, colLoginName, m) {
			continue
		}
		a.secret = &actionSecret{}
		switch r.PassKind {
		case PasswordHashed:
			a.secret.hash = membership.PasswordHash(string(r.Password))
		case PasswordPlain:
			a.secret.plain = string(r.Password)
		}
		before := membership.Member{Status: m.Status, RoleID: m.RoleID}
		after := membership.Member{Status: a.Status, RoleID: m.RoleID}
		seatDelta += membership.SeatDelta(before, after)
		adminDelta += membership.AdminDelta(before, after)
		switch {
		case a.Status == membership.StatusActive && m.Status != membership.StatusActive:
			a.Kind = KindReactivate
		case a.Status == membership.StatusDeactivated && m.Status == membership.StatusActive:
			a.Kind = KindDeactivate
			deactivations++
			if !actor.IsSystem() && actor.MemberID == m.ID {
				probs.add(r.Line, f.columnName(colStatus), "self")
			}
		case len(a.Changes) > 0:
			a.Kind = KindUpdate
		default:
			a.Kind = KindUnchanged
		}
		p.Actions = append(p.Actions, a)
	}
	// Absent active members are deactivated, listed by login whatever
	// order the store streamed them in.
	firstAbsent := len(p.Actions)
	for i := range members {
		m := &members[i]
		if claimedBy[i] != 0 || m.Status != membership.StatusActive {
			continue
		}
		if !actor.IsSystem() && actor.MemberID == m.ID {
			probs.add(0, "", "self")
		}
		beyond(0, "", m)
		p.Actions = append(p.Actions, Action{Kind: KindDeactivate, MemberID: m.ID, Login: m.Login, Name: m.FirstName + " " + m.LastName,
			Email: m.Email, Status: membership.StatusDeactivated, version: m.Version, before: m.Status, role: m.RoleID,
			first: m.FirstName, last: m.LastName, secret: &actionSecret{},
			Changes: []Change{{"status", string(membership.StatusActive), string(membership.StatusDeactivated)}}})
		seatDelta--
		if m.RoleID == membership.RoleAdmin {
			adminDelta--
		}
		deactivations++
	}
	slices.SortFunc(p.Actions[firstAbsent:], func(a, b Action) int {
		return strings.Compare(membership.LoginKey(a.Login), membership.LoginKey(b.Login))
	})
	if err := probs.err(); err != nil {
		return nil, err
	}

	// 5. Rules on the plan as a whole: new members get the default role,
	// which the actor must be able to grant.
	if p.Adds > 0 {
		if err := pw.grant(o.RoleID); err != nil {
			return nil, err
		}
	}
	p.SeatLimit, p.SeatsBefore, p.SeatsAfter = limit, p.active+pending, p.active+pending+seatDelta
	if seatDelta > 0 {
		if err := membership.CheckSeats(membership.Plan{MemberLimit: limit}, p.SeatsBefore, seatDelta); err != nil {
			return nil, fmt.Errorf("csvsync: the import would use %d seats of %d: %w", p.SeatsAfter, limit, err)
		}
	}
	if adminDelta < 0 {
		if err := membership.CheckAdmins(p.admins + adminDelta); err != nil {
			return nil, fmt.Errorf("csvsync: the import would deactivate every active admin: %w", err)
		}
	}
	if !o.AllowMassDeactivation && p.active > 0 && float64(deactivations) > o.MaxDeactivateRatio*float64(p.active) {
		return nil, fmt.Errorf("%w: %d of %d active members (more than %.0f%%); allow it explicitly if the file is complete",
			ErrMassDeactivation, deactivations, p.active, 100*o.MaxDeactivateRatio)
	}
	if p.admins+adminDelta == 1 {
		p.Warnings = append(p.Warnings, word(lang, "un seul administrateur actif restera : il est conseillé d'en avoir deux", "only one active admin will be left: two are advised"))
	}
	const maxUnknownWarnings = 10
	for i, u := range f.Unknown {
		if i == maxUnknownWarnings {
			p.Warnings = append(p.Warnings, fmt.Sprintf(word(lang, "et %d autre(s) colonne(s) ignorée(s)", "and %d more column(s) ignored"), len(f.Unknown)-i))
			break
		}
		p.Warnings = append(p.Warnings, fmt.Sprintf(word(lang, "colonne ignorée : %q", "column ignored: %q"), membership.Excerpt(u, excerptLen)))
	}

	// 6. Passwords, hashed outside any transaction, on every core.
	if err := s.hashPasswords(ctx, p, o, temp); err != nil {
		return nil, err
	}

	// 7. Drop what does not change and count.
	kept := p.Actions[:0]
	for _, a := range p.Actions {
		if a.Kind == KindUnchanged {
			p.Unchanged++
			continue
		}
		switch a.Kind {
		case KindUpdate:
			p.Updates++
		case KindReactivate:
			p.Reactivations++
		case KindDeactivate:
			p.Deactivations++
		}
		kept = append(kept, a)
	}
	p.Actions = kept
	return p, nil
}

// hashPasswords resolves every password of the plan: stored hashes are
// compared, clear passwords verified against the stored hash (unchanged
// when they match) or hashed, temporary passwords made.
func (s *Service) hashPasswords(ctx context.Context, p *Plan, o PlanOptions, temp *tempHash) error {
	// Stored hashes of the members whose row carries a password.
	var ids []string
	for i := range p.Actions {
		if p.Actions[i].verify {
			ids = append(ids, p.Actions[i].MemberID)
		}
	}
	stored := make(map[string]membership.PasswordHash, len(ids))
	if len(ids) > 0 {
		err := s.st.View(ctx, p.OrgID, func(tx store.Tx) error {
			for start := 0; start < len(ids); start += 1000 {
				for m, err := range tx.Members(ctx, store.MemberQuery{MemberFilter: store.MemberFilter{IDs: ids[start:min(start+1000, len(ids))]}}) {
					if err != nil {
						return err
					}
					stored[m.ID] = m.PasswordHash
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	var shared membership.PasswordHash
	var jobs []int
	for i := range p.Actions {
		a := &p.Actions[i]
		switch {
		case a.verify && a.secret.plain == "": // a PHC string from the file
			if a.secret.hash != stored[a.MemberID] {
				a.setHash = true
			}
		case a.secret.plain != "":
			jobs = append(jobs, i)
		case a.Kind == KindAdd && a.mustChange && o.TemporaryPassword != "":
			if shared == "" {
				<-temp.done
				if temp.err != nil {
					return temp.err
				}
				shared = temp.hash
			}
			a.secret.hash = shared
		case a.Kind == KindAdd && a.mustChange:
			jobs = append(jobs, i)
		}
	}
	if temp != nil {
		p.hashes++ // spent, used or not
	}
	total := len(jobs)
	var mu sync.Mutex
	var firstErr error
	done := 0
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(s.workers, max(total, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				a := &p.Actions[i]
				ops, err := s.resolvePassword(a, stored[a.MemberID])
				mu.Lock()
				p.hashes += ops
				if err != nil && firstErr == nil {
					firstErr = err
				}
				done++
				d := done
				mu.Unlock()
				if o.Progress != nil && (d%64 == 0 || d == total) {
					o.Progress(d, total)
				}
			}
		}()
	}
feed:
	for _, i := range jobs {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if firstErr != nil {
		return firstErr
	}
	for i := range p.Actions {
		a := &p.Actions[i]
		if a.setHash && a.Kind != KindAdd {
			a.Changes = append(a.Changes, Change{"password", passwordMask, passwordMask})
			if a.Kind == KindUnchanged {
				a.Kind = KindUpdate
			}
		}
	}
	sort.SliceStable(p.Actions, func(i, j int) bool {
		li, lj := p.Actions[i].Line, p.Actions[j].Line
		if li == 0 || lj == 0 {
			return li != 0 && lj == 0
		}
		return li < lj
	})
	return nil
}

// tempHash is the shared temporary password's hash, computed beside the
// roster read.
type tempHash struct {
	done chan struct{}
	hash membership.PasswordHash
	err  error
}

// resolvePassword does the hashing work of one action and returns how
// many hash operations it spent.
func (s *Service) resolvePassword(a *Action, stored membership.PasswordHash) (int, error) {
	ops := 0
	if a.secret.plain != "" {
		if a.verify && stored != "" {
			ops++
			if ok, rehash, err := s.hasher.Verify(stored, a.secret.plain); err == nil && ok && !rehash {
				a.secret.plain = ""
				return ops, nil // same password: unchanged
			}
		}
		h, err := s.hasher.Hash(a.secret.plain)
		ops++
		if err != nil {
			return ops, err
		}
		a.secret.hash, a.setHash, a.secret.plain = h, true, ""
		return ops, nil
	}
	// A random temporary password for a new member.
	pw, err := membership.RandomPassword(16)
	if err != nil {
		return ops, err
	}
	h, err := s.hasher.Hash(pw)
	ops++
	if err != nil {
		return ops, err
	}
	a.secret.hash, a.secret.tempPw = h, pw
	return ops, nil
}
