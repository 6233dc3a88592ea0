package roster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Refusal says why one member of a bulk action was refused.
type Refusal struct {
	MemberID string
	Err      error
}

// BulkError reports a bulk action refused as a whole: nothing changed.
// Refused lists each refused ID with its reason; errors.Is matches any of
// the reasons (membership.ErrLastAdmin, store.ErrNotFound, …).
type BulkError struct {
	Refused []Refusal
}

func (e *BulkError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "roster: bulk action refused, nothing changed: %d member(s) refused", len(e.Refused))
	for i, r := range e.Refused {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(e.Refused)-5)
			break
		}
		fmt.Fprintf(&b, "; %s: %v", r.MemberID, r.Err)
	}
	return b.String()
}

// Explain reads the refusal as a membership.Problem: code bulk_refused,
// status 409, one detail per refused member with its own code and message
// and the member's ID.
func (e *BulkError) Explain(lang membership.Lang) membership.Problem {
	p := membership.Problem{Code: "bulk_refused", Status: http.StatusConflict, Message: membership.Message(lang, "bulk_refused_detail", len(e.Refused))}
	for _, r := range e.Refused {
		d := membership.Explain(r.Err, lang)
		d.MemberID = r.MemberID
		p.Details = append(p.Details, d)
	}
	return p
}

// Unwrap returns the reasons, so errors.Is and errors.As see them.
func (e *BulkError) Unwrap() []error {
	out := make([]error, len(e.Refused))
	for i, r := range e.Refused {
		out[i] = r.Err
	}
	return out
}

// BulkResult reports a bulk action that was applied.
type BulkResult struct {
	Changed   []string  // IDs of the members changed
	Unchanged []string  // IDs already in the wanted state
	Skipped   []Refusal // members a filter matched but that were left alone (the actor)
}

// bulkBatch is how many members a bulk action writes per store call.
const bulkBatch = 1000

// bulkChange is one of the two status changes a bulk action makes.
type bulkChange struct {
	to    membership.Status
	event membership.EventType
	verb  string // in refusals: "cannot deactivate themselves…"
}

var (
	bulkDeactivate = bulkChange{membership.StatusDeactivated, membership.EventMemberDeactivated, "deactivate"}
	bulkActivate   = bulkChange{membership.StatusActive, membership.EventMemberActivated, "activate"}
)

// DeactivateMany deactivates the members with the given IDs (permission
// members.manage), all or nothing: if any ID is unknown, removed, the
// actor themselves, a member whose role holds a permission the actor
// lacks, or if the change would leave no active admin, nothing changes and
// the error is a [*BulkError] with the reason for each refused ID. Members
// already deactivated are reported as unchanged.
func (s *Service) DeactivateMany(ctx context.Context, actor membership.Actor, orgID string, ids []string) (BulkResult, error) {
	return s.changeMany(ctx, actor, orgID, ids, bulkDeactivate)
}

// ActivateMany activates the deactivated members with the given IDs
// (permission members.manage), all or nothing: if any ID is unknown,
// removed, the actor themselves, a member whose role holds a permission
// the actor lacks, or if the plan's seats cannot take them all
// ([membership.ErrMemberLimit], given for each member that would be
// activated), nothing changes and the error is a [*BulkError]. Members
// already active are reported as unchanged.
func (s *Service) ActivateMany(ctx context.Context, actor membership.Actor, orgID string, ids []string) (BulkResult, error) {
	return s.changeMany(ctx, actor, orgID, ids, bulkActivate)
}

func (s *Service) changeMany(ctx context.Context, actor membership.Actor, orgID string, ids []string, c bulkChange) (BulkResult, error) {
	var res BulkResult
	err := s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		res = BulkResult{}
		a, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersManage)
		if err != nil {
			return err
		}
		roles := svc.NewRoles(tx, s.cat)
		found := make(map[string]membership.Member, len(ids))
		for m, err := range tx.Members(ctx, store.MemberQuery{MemberFilter: store.MemberFilter{IDs: ids}}) {
			if err != nil {
				return err
			}
			found[m.ID] = m
		}
		var refused []Refusal
		var targets []membership.Member
		seen := make(map[string]bool, len(ids))
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			m, ok := found[id]
			var beyond error
			if ok {
				role, err := roles.Get(ctx, m.RoleID)
				if err != nil {
					return err
				}
				beyond = a.CanActOn(m, role)
			}
			switch {
			case !ok:
				refused = append(refused, Refusal{id, fmt.Errorf("member %s: %w", id, store.ErrNotFound)})
			case m.Status == membership.StatusRemoved:
				refused = append(refused, Refusal{id, removedErr(&m)})
			case beyond != nil:
				refused = append(refused, Refusal{id, beyond})
			case m.Status == c.to:
				res.Unchanged = append(res.Unchanged, id)
			case a.Is(id):
				refused = append(refused, Refusal{id, c.self(actor)})
			default:
				targets = append(targets, m)
			}
		}
		if len(refused) == 0 {
			if err := s.checkBulk(ctx, tx, targets, c, &refused); err != nil {
				return err
			}
		}
		if len(refused) > 0 {
			return &BulkError{Refused: refused}
		}
		return s.writeBulk(ctx, tx, actor, targets, c, &res, emit, "bulk")
	})
	if err != nil {
		return BulkResult{}, err
	}
	return res, nil
}

func (c bulkChange) self(actor membership.Actor) error {
	return &membership.ForbiddenError{ActorID: actor.String(), Reason: "cannot " + c.verb + " themselves in a bulk action"}
}

// DeactivateWhere deactivates every active member matching the filter
// (permission members.manage) — the seed's "filter by group, select all,
// deactivate". The actor, and members whose role holds a permission the
// actor lacks, are skipped, not refused: BulkResult.Skipped says why. If
// the change would leave no active admin, nothing changes: a [*BulkError]
// names the admins. Statuses in f narrow the filter like its other fields:
// a filter for deactivated members only matches nobody to deactivate.
func (s *Service) DeactivateWhere(ctx context.Context, actor membership.Actor, orgID string, f store.MemberFilter) (BulkResult, error) {
	return s.changeWhere(ctx, actor, orgID, f, bulkDeactivate)
}

// ActivateWhere activates every deactivated member matching the filter
// (permission members.manage), the way back from DeactivateWhere. Members
// whose role holds a permission the actor lacks are skipped, not refused.
// If the plan's seats cannot take them all, nothing changes: a
// [*BulkError] gives [membership.ErrMemberLimit] for each of them.
func (s *Service) ActivateWhere(ctx context.Context, actor membership.Actor, orgID string, f store.MemberFilter) (BulkResult, error) {
	return s.changeWhere(ctx, actor, orgID, f, bulkActivate)
}

func (s *Service) changeWhere(ctx context.Context, actor membership.Actor, orgID string, f store.MemberFilter, c bulkChange) (BulkResult, error) {
	var res BulkResult
	from := membership.StatusActive
	if c.to == membership.StatusActive {
		from = membership.StatusDeactivated
	}
	if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, from) {
		// The filter asks for statuses the change does not start from
		// (deactivate the deactivated): it matches nobody to change.
		return res, nil
	}
	f.Statuses = []membership.Status{from}
	f.Attributes = f.Attributes.Normalized()
	err := s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		res = BulkResult{}
		a, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersManage)
		if err != nil {
			return err
		}
		roles := svc.NewRoles(tx, s.cat)
		var targets []membership.Member
		for m, err := range tx.Members(ctx, store.MemberQuery{MemberFilter: f}) {
			if err != nil {
				return err
			}
			if a.Is(m.ID) {
				res.Skipped = append(res.Skipped, Refusal{m.ID, c.self(actor)})
				continue
			}
			role, err := roles.Get(ctx, m.RoleID)
			if err != nil {
				return err
			}
			if err := a.CanActOn(m, role); err != nil {
				res.Skipped = append(res.Skipped, Refusal{m.ID, err})
				continue
			}
			targets = append(targets, m)
		}
		var refused []Refusal
		if err := s.checkBulk(ctx, tx, targets, c, &refused); err != nil {
			return err
		}
		if len(refused) > 0 {
			return &BulkError{Refused: refused}
		}
		detail := "filter"
		if f.Group != "" {
			detail = fmt.Sprintf("filter: group %q", f.Group)
		}
		return s.writeBulk(ctx, tx, actor, targets, c, &res, emit, detail)
	})
	if err != nil {
		return BulkResult{}, err
	}
	return res, nil
}

// checkBulk applies the org's rules to the whole change: deactivating
// refuses every active admin of targets when none would be left;
// activating refuses every target when the seats cannot take them all.
func (s *Service) checkBulk(ctx context.Context, tx store.Tx, targets []membership.Member, c bulkChange, refused *[]Refusal) error {
	if c.to == membership.StatusActive {
		if len(targets) == 0 {
			return nil
		}
		err := svc.CheckSeats(ctx, tx, svc.Now(s.clock), len(targets))
		if errors.Is(err, membership.ErrMemberLimit) {
			for _, m := range targets {
				*refused = append(*refused, Refusal{m.ID, fmt.Errorf("activating %d member(s): %w", len(targets), err)})
			}
			return nil
		}
		return err
	}
	var admins []string
	for _, m := range targets {
		if m.IsActiveAdmin() {
			admins = append(admins, m.ID)
		}
	}
	if len(admins) == 0 {
		return nil
	}
	org, err := tx.Org(ctx)
	if err != nil {
		return err
	}
	if err := membership.CheckAdmins(org.ActiveAdmins - len(admins)); err != nil {
		for _, id := range admins {
			*refused = append(*refused, Refusal{id, fmt.Errorf("member %s is an active admin: %w", id, err)})
		}
	}
	return nil
}

func (s *Service) writeBulk(ctx context.Context, tx store.Tx, actor membership.Actor, targets []membership.Member, c bulkChange, res *BulkResult, emit func(...membership.Event), detail string) error {
	now := svc.Now(s.clock)
	for start := 0; start < len(targets); start += bulkBatch {
		batch := targets[start:min(start+bulkBatch, len(targets))]
		after := make([]membership.Member, len(batch))
		events := make([]membership.Event, len(batch))
		for i, m := range batch {
			a := m
			a.Status = c.to
			a.UpdatedAt = now
			svc.Restamp(m, &a, false)
			after[i] = a
			events[i] = svc.MemberEvent(now, c.event, actor, m, a)
			events[i].Detail = detail
			res.Changed = append(res.Changed, m.ID)
		}
		if err := tx.UpdateMembers(ctx, after); err != nil {
			return err
		}
		emit(events...)
	}
	return nil
}

// IsBulkRefusal reports whether err is a [*BulkError].
func IsBulkRefusal(err error) bool {
	var be *BulkError
	return errors.As(err, &be)
}
