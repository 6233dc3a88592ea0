package csvsync

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

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
	// AllowWeakHashes accepts password hashes from the file outside the
	// strength bounds (membership.CheckHashStrength: bcrypt cost 10 to 12,
	// argon2id from OWASP's parameters to 64 MiB), to migrate from a
	// legacy system; they are replaced at each member's next login. By
	// default such rows are refused.
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

// String prints the change as `field: before → after`. A value that is
// empty, has spaces at its ends, or holds a quote, a separator or a
// character that does not print is shown quoted (Go syntax), so that every
// change reads unambiguously: `email: "" → bob@example.com`.
func (c Change) String() string {
	return c.Field + ": " + showValue(c.Before) + " → " + showValue(c.After)
}

func showValue(v string) string {
	if v == "" || strings.TrimSpace(v) != v || strings.ContainsAny(v, "\"→;") || strings.ContainsFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return strconv.Quote(v)
	}
	return v
}

// Changes are the changes of one row; they print joined by "; ".
type Changes []Change

// String prints the changes, each as [Change.String] prints it.
func (cs Changes) String() string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
	}
	return strings.Join(parts, "; ")
}

// Text says the change for people, in lang: the field's name
// ("Nom : Martin → Martin-Durand") and statuses in the host's words
// (labels) or memberkit's.
func (c Change) Text(lang membership.Lang, labels membership.Labels) string {
	before, after := c.Before, c.After
	if c.Field == "status" {
		before, after = labels.StatusLabel(membership.Status(before), lang), labels.StatusLabel(membership.Status(after), lang)
	}
	return membership.Message(lang, "csv.change", membership.FieldName(lang, c.Field), showValue(before), showValue(after))
}

// Text says the changes for people, joined by "; " (see [Change.Text]).
func (cs Changes) Text(lang membership.Lang, labels membership.Labels) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Text(lang, labels)
	}
	return strings.Join(parts, "; ")
}

// Text says the kind of action for people ("Ajout", "Modification"…).
func (k Kind) Text(lang membership.Lang) string {
	return membership.Message(lang, "csv.kind."+string(k))
}

// HashOperations is how many password hashes and verifications the plan
// cost: a file with blank passwords or the export placeholder costs none
// but the shared temporary password, hashed once. Hashes are the costly
// part of a plan (argon2id takes 19 MiB and tens of milliseconds each).
func (p *Plan) HashOperations() int { return p.hashes }

// roleAfter is the member's role once the action is applied.
func (a *Action) roleAfter() string {
	if a.newRole != "" {
		return a.newRole
	}
	return a.role
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
	Changes  Changes

	version    int64             // the member's version when planned
	before     membership.Status // the member's status when planned
	role       string            // the member's role when planned
	first      string
	last       string
	setHash    bool
	mustChange bool
	verify     bool // compare with the stored hash first
	creds      bool // sets another member's password or email
	setAttrs   bool // writes attrs, the member's attributes after the import
	attrs      membership.Attributes
	newRole    string // the role after the import, when the Rôle cell changes it; a new member's when given
	setGroups  bool   // writes groups, the member's groups after the import
	groups     []string
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

const passwordMask = "•••"

// Plan matches a parsed file against the org's roster and says what
// applying it would do (permission csv.import and the org's CSV feature).
// Nothing is written. An ambiguous or inconsistent file gives a
// [*FileError] naming the lines; the seat limit, the last-admin rule and
// the mass-deactivation guard give [membership.ErrMemberLimit],
// [membership.ErrLastAdmin] and [ErrMassDeactivation].
func (s *Service) Plan(ctx context.Context, actor membership.Actor, orgID string, f *File, opts *PlanOptions) (*Plan, error) {
	if f == nil {
		return nil, membership.Invalid("file", "no_file")
	}
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
			temp.hash, temp.err = s.hasher.HashContext(ctx, o.TemporaryPassword)
		}()
		defer func() { <-temp.done }() // never outlive Plan
	}

	// 1. Read the roster into one compact index, and the actor's power.
	var ix *rosterIndex
	var extra []memberExtra // by index in the roster, when the file has attribute or Groupes columns
	var limit, pending int
	var pw *power
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		a, err := s.authorize(ctx, tx, actor, membership.PermCSVImport)
		if err != nil {
			return err
		}
		if pw, err = s.loadPower(ctx, tx, a); err != nil {
			return err
		}
		pw.labels = f.labels
		if _, ok := pw.roles[o.RoleID]; !ok {
			return svc.RoleErr(o.RoleID, store.ErrNotFound)
		}
		org, c, err := svc.OrgCounts(ctx, tx, s.clock.Now())
		if err != nil {
			return err
		}
		limit, pending, p.active, p.admins, p.version = org.Plan.MemberLimit, c.PendingInvitations, c.ActiveMembers, c.ActiveAdmins, org.RosterVersion
		seq := store.Summaries(ctx, tx)
		if len(f.Attributes) > 0 || f.HasGroups {
			extra = make([]memberExtra, 0, len(f.Rows)+len(f.Rows)/8)
			seq = summariesWithDetails(ctx, tx, &extra)
		}
		ix, err = indexRoster(seq, len(f.Rows))
		return err
	})
	if err != nil {
		return nil, err
	}
	p.total = len(ix.members)
	probs := &problems{max: 100, lang: lang}

	// 2–5. Match, check, classify, find the absent: pure steps.
	m := matchRows(f, ix, probs)
	checkIdentifiers(f, ix, m, probs)
	if !o.AllowWeakHashes {
		checkHashes(f, probs)
	}
	c := classify(f, ix, m, actor, pw, extra, probs)
	absent := findAbsent(ix, m, pw, probs)
	p.Actions, p.Adds, p.Unchanged = append(c.actions, absent.actions...), c.adds, c.unchanged
	tally := c.tally
	tally.Active += absent.tally.Active
	tally.Admins += absent.tally.Admins
	deactivations := c.deactivations + absent.deactivations
	if err := probs.err(); err != nil {
		return nil, err
	}

	// Rules on the plan as a whole: new members get the default role,
	// which the actor must be able to grant; seats, the last admin, and
	// the guard against a truncated file.
	if c.defaultRole {
		if err := pw.grant(o.RoleID); err != nil {
			return nil, err
		}
	}
	p.SeatLimit, p.SeatsBefore, p.SeatsAfter = limit, p.active+pending, p.active+pending+tally.Active
	if err := membership.CheckSeats(membership.Plan{MemberLimit: limit}, p.SeatsBefore, tally.Active); err != nil {
		return nil, fmt.Errorf("csvsync: the import would use %d seats of %d: %w", p.SeatsAfter, limit, err)
	}
	if tally.Admins < 0 {
		if err := membership.CheckAdmins(p.admins + tally.Admins); err != nil {
			return nil, fmt.Errorf("csvsync: the import would deactivate every active admin: %w", err)
		}
	}
	if !o.AllowMassDeactivation && p.active > 0 && float64(deactivations) > o.MaxDeactivateRatio*float64(p.active) {
		s.log.WarnContext(ctx, "memberkit: import refused: mass deactivation", "org", orgID, "deactivations", deactivations, "active", p.active)
		return nil, &MassDeactivationError{Deactivations: deactivations, Active: p.active, Ratio: o.MaxDeactivateRatio}
	}
	if p.admins+tally.Admins == 1 {
		p.Warnings = append(p.Warnings, msg(lang, "warn_one_admin"))
	}
	p.Warnings = append(p.Warnings, unknownColumnWarnings(f.Unknown, lang)...)

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
