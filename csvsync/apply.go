package csvsync

import (
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// ApplyOptions shape an apply. A nil *ApplyOptions is fine.
type ApplyOptions struct {
	// Progress, when set, is told how the writes advance.
	Progress func(done, total int)
}

// Outcome is what happened to one row or absent member.
type Outcome struct {
	Line     int // 0 for an absent member
	Kind     Kind
	MemberID string
	Login    string
	Changes  Changes
}

// Result reports an applied import.
type Result struct {
	Added, Updated, Reactivated, Deactivated, Unchanged int
	// Outcomes lists every row that changed something, then the absent
	// members deactivated; rows not listed were unchanged.
	Outcomes []Outcome
	// TemporaryPasswords maps the login of each new member given a random
	// temporary password to that password. It is the only copy: hand the
	// passwords over, then drop them.
	// Each prints and marshals as "[redacted]": use string(pw).
	TemporaryPasswords map[string]membership.Secret
}

// applyBatch is how many members Apply writes per store call (and per
// Progress report): the size of one PostgreSQL array statement.
const applyBatch = 1000

// Apply writes a plan, all or nothing, in one store transaction
// (permission csv.import and the org's CSV feature). A plan made stale by
// changes to the roster since it was planned gives [ErrStalePlan] and
// changes nothing; so does a plan applied twice.
func (s *Service) Apply(ctx context.Context, actor membership.Actor, orgID string, p *Plan, opts *ApplyOptions) (*Result, error) {
	if p == nil || p.OrgID != orgID {
		return nil, fmt.Errorf("csvsync: plan of org %q applied to org %q: %w", planOrg(p), orgID, membership.ErrInvalid)
	}
	if actor != p.actor {
		return nil, &membership.ForbiddenError{ActorID: actor.String(), Reason: "the plan was made by another actor"}
	}
	if p.applied {
		return nil, ErrStalePlan
	}
	var o ApplyOptions
	if opts != nil {
		o = *opts
	}
	res := &Result{Unchanged: p.Unchanged}
	total := len(p.Actions)
	err := svc.Update(ctx, s.st, orgID, s.hook, func(tx store.Tx, emit func(...membership.Event)) error {
		*res = Result{Unchanged: p.Unchanged}
		a, err := s.authorize(ctx, tx, actor, membership.PermCSVImport)
		if err != nil {
			return err
		}
		// The actor's power, once more inside the lock: the default role
		// of new members, and every role of the members the plan touches.
		pw, err := s.loadPower(ctx, tx, a)
		if err != nil {
			return err
		}
		for i := range p.Actions {
			act := &p.Actions[i]
			// Every role the plan gives, checked again: a new member's
			// (the one its row names, or the plan's) and a changed one.
			if act.Kind == KindAdd || act.newRole != "" {
				if err := pw.grant(cmp.Or(act.newRole, p.roleID)); err != nil {
					return err
				}
			}
			if act.Kind == KindAdd {
				continue
			}
			if pw.lacks(act.role) != "" {
				return pw.a.CanActOn(membership.Member{ID: act.MemberID}, pw.roles[act.role])
			}
			if act.creds {
				if err := pw.a.CanSetCredentials(membership.Member{ID: act.MemberID}, pw.roles[act.role]); err != nil {
					return err
				}
			}
		}
		now := svc.Now(s.clock)
		// The roster must be as it was planned: any change made since,
		// through any service and any process, moved its version.
		org, c, err := svc.OrgCounts(ctx, tx, now)
		if err != nil {
			return err
		}
		if org.RosterVersion != p.version || c.ActiveMembers != p.active || c.ActiveAdmins != p.admins {
			return fmt.Errorf("%w (roster version %d→%d)", ErrStalePlan, p.version, org.RosterVersion)
		}
		var tally membership.Tally
		done := 0
		progress := func(n int) {
			done += n
			if o.Progress != nil {
				o.Progress(done, total)
			}
		}
		var adds, changes []*Action
		for i := range p.Actions {
			if p.Actions[i].Kind == KindAdd {
				adds = append(adds, &p.Actions[i])
			} else {
				changes = append(changes, &p.Actions[i])
			}
		}
		// Each change is written as a patch on the member as planned: the
		// store refuses it if the member moved since (version or login),
		// so the plan's reading stands (a store without the patch fast
		// path reads the members back inside store.Patch).
		for batch := range slices.Chunk(changes, applyBatch) {
			patches := make([]store.MemberPatch, len(batch))
			for i, a := range batch {
				before := membership.Member{ID: a.MemberID, Status: a.before, RoleID: a.role}
				after := membership.Member{ID: a.MemberID, Status: a.Status, RoleID: a.roleAfter()}
				patches[i] = store.MemberPatch{ID: a.MemberID, Version: a.version, Login: a.Login,
					FirstName: a.first, LastName: a.last, Email: a.Email, Status: a.Status, UpdatedAt: now,
					SetAttributes: a.setAttrs, Attributes: a.attrs, RoleID: a.newRole, SetGroups: a.setGroups, Groups: a.groups}
				if a.setAttrs {
					after.Attributes = a.attrs
				}
				if a.setHash {
					patches[i].PasswordHash = a.secret.hash
				}
				if a.setHash || membership.RotatesStamp(before, after) {
					patches[i].SecurityStamp = membership.NewSecurityStamp()
				}
				tally.Change(before, after)
				e := svc.MemberEvent(now, a.eventType(), actor, before, after)
				e.Detail = changeDetail(a)
				emit(e)
				res.Outcomes = append(res.Outcomes, Outcome{Line: a.Line, Kind: a.Kind, MemberID: a.MemberID, Login: a.Login, Changes: a.Changes})
				res.count(a.Kind)
			}
			if err := store.Patch(ctx, tx, patches); err != nil {
				if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrDuplicate) || errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("%w (%v)", ErrStalePlan, err)
				}
				return err
			}
			progress(len(batch))
		}
		for batch := range slices.Chunk(adds, applyBatch) {
			out := make([]membership.Member, len(batch))
			for i, a := range batch {
				m := membership.Member{ID: membership.NewID(), OrgID: orgID, Login: a.Login, Email: a.Email, FirstName: a.first, LastName: a.last,
					RoleID: cmp.Or(a.newRole, p.roleID), Groups: a.groups, Status: a.Status, PasswordHash: a.secret.hash, MustChangePassword: a.mustChange, CreatedAt: now, UpdatedAt: now,
					SecurityStamp: membership.NewSecurityStamp(), Attributes: a.attrs}
				a.MemberID = m.ID
				out[i] = m
				tally.Change(membership.Member{}, membership.Member{Status: m.Status}) // seats only, as in Plan
				e := svc.MemberEvent(now, membership.EventMemberAdded, actor, membership.Member{}, m)
				e.Detail = fmt.Sprintf("csv line %d", a.Line)
				emit(e)
				res.Outcomes = append(res.Outcomes, Outcome{Line: a.Line, Kind: KindAdd, MemberID: m.ID, Login: m.Login})
				res.Added++
				if a.secret.tempPw != "" {
					if res.TemporaryPasswords == nil {
						res.TemporaryPasswords = map[string]membership.Secret{}
					}
					res.TemporaryPasswords[m.Login] = membership.Secret(a.secret.tempPw)
				}
			}
			if err := tx.InsertMembers(ctx, out); err != nil {
				if errors.Is(err, store.ErrDuplicate) {
					return fmt.Errorf("%w (%v)", ErrStalePlan, err)
				}
				return err
			}
			progress(len(batch))
		}
		// The rules once more, on the state inside the lock.
		if err := tally.Check(org.Plan, c); err != nil {
			return err
		}
		if len(p.Actions) > 0 {
			e := svc.Event(now, membership.EventCSVImported, actor, orgID)
			e.Detail = fmt.Sprintf("added %d, updated %d, reactivated %d, deactivated %d, unchanged %d",
				res.Added, res.Updated, res.Reactivated, res.Deactivated, res.Unchanged)
			emit(e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.applied = true
	s.log.InfoContext(ctx, "memberkit: import applied", "org", orgID, "actor", actor.String(),
		"added", res.Added, "updated", res.Updated, "reactivated", res.Reactivated, "deactivated", res.Deactivated, "unchanged", res.Unchanged)
	return res, nil
}

// eventType is the audit event of a planned change to a member.
// eventType is the audit event of the action. A change of role alone (or
// with other fields) is member.role_changed; a reactivation or
// deactivation that also changes the role is the status event, whose
// RoleBefore and RoleAfter say it.
func (a *Action) eventType() membership.EventType {
	switch a.Kind {
	case KindReactivate:
		if a.before == membership.StatusRemoved {
			return membership.EventMemberRestored
		}
		return membership.EventMemberActivated
	case KindDeactivate:
		return membership.EventMemberDeactivated
	}
	if a.newRole != "" {
		// One event per member, so that the counters count the change
		// once: a role change is said as such; with a status change, the
		// status event carries the roles before and after.
		return membership.EventMemberRoleChanged
	}
	return membership.EventMemberUpdated
}

// count adds one outcome of kind k to the result's figures.
func (r *Result) count(k Kind) {
	switch k {
	case KindUpdate:
		r.Updated++
	case KindReactivate:
		r.Reactivated++
	case KindDeactivate:
		r.Deactivated++
	}
}

func planOrg(p *Plan) string {
	if p == nil {
		return ""
	}
	return p.OrgID
}

func changeDetail(a *Action) string {
	if a.Line == 0 {
		return "csv: absent from the file"
	}
	fields := make([]string, len(a.Changes))
	for i, c := range a.Changes {
		fields[i] = c.Field
	}
	return fmt.Sprintf("csv line %d: %s", a.Line, strings.Join(fields, ", "))
}

// WriteReport writes the outcome of an import as CSV, one line per row
// that changed something and per absent member deactivated, in the
// export's format (French, ";", BOM unless opts say otherwise).
// Temporary passwords are not included.
func (r *Result) WriteReport(w io.Writer, opts *ExportOptions) error {
	var o ExportOptions
	if opts != nil {
		o = *opts
	}
	if o.Comma == 0 {
		o.Comma = ';'
	}
	if !o.NoBOM {
		if _, err := io.WriteString(w, "\uFEFF"); err != nil {
			return err
		}
	}
	cw := csv.NewWriter(w)
	cw.Comma = o.Comma
	cw.UseCRLF = !o.LF
	head := strings.Split(msg(o.Lang, "report_header"), ";")
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, out := range r.Outcomes {
		line := ""
		if out.Line > 0 {
			line = strconv.Itoa(out.Line)
		}
		if err := cw.Write([]string{line, out.Kind.Text(o.Lang), neutralize(out.Login), neutralize(out.Changes.Text(o.Lang, o.Labels))}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
