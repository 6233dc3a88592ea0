package directory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// relabeling is one change of who carries a group's label.
type relabeling struct {
	from   string    // the label carried now; "" when nobody carries it yet
	name   string    // the label after the change (from, or its new name)
	drop   bool      // take the label off every carrier
	set    *[]string // the whole membership after, before add and remove
	add    []string
	remove []string
}

func (s *Service) relabel(ctx context.Context, tx store.Tx, a membership.Authority, actor membership.Actor, now time.Time, emit func(...membership.Event), r relabeling) error {
	_, err := s.relabelCount(ctx, tx, a, actor, now, emit, r)
	return err
}

// relabelCount applies r to the org's members under the rules of any
// change of a member (the actor must be able to act on each member it
// changes, the labels stay valid), writes them in batches with one
// member.updated event each, and returns how many members entered or
// left the group.
func (s *Service) relabelCount(ctx context.Context, tx store.Tx, a membership.Authority, actor membership.Actor, now time.Time, emit func(...membership.Event), r relabeling) (int, error) {
	lookup := r.from
	if lookup == "" {
		lookup = r.name
	}
	holders, err := carriers(ctx, tx, lookup, true)
	if err != nil {
		return 0, err
	}
	held := make(map[string]int, len(holders)) // member ID → index in holders
	in := make(map[string]bool, len(holders))  // the membership after the change
	for i, m := range holders {
		held[m.ID] = i
		if m.Status != membership.StatusRemoved && !r.drop {
			in[m.ID] = true
		}
	}
	if r.set != nil {
		in = make(map[string]bool, len(*r.set))
		for _, id := range *r.set {
			in[id] = true
		}
	}
	for _, id := range r.add {
		in[id] = true
	}
	for _, id := range r.remove {
		delete(in, id)
	}
	if r.drop {
		clear(in)
	}

	// The members to bring in, read in one query.
	var newIDs []string
	for id := range in {
		if i, ok := held[id]; !ok || holders[i].Status == membership.StatusRemoved {
			newIDs = append(newIDs, id)
		}
	}
	entering := make(map[string]membership.Member, len(newIDs))
	if len(newIDs) > 0 {
		for m, err := range tx.Members(ctx, store.MemberQuery{MemberFilter: store.MemberFilter{IDs: newIDs}}) {
			if err != nil {
				return 0, err
			}
			entering[m.ID] = m
		}
		for _, id := range newIDs {
			if m, ok := entering[id]; !ok || m.Status == membership.StatusRemoved {
				return 0, &UnknownMemberError{MemberID: id}
			}
		}
	}

	key := membership.GroupKey(lookup)
	roles := svc.NewRoles(tx, s.cat)
	var batch []store.MemberPatch
	moved := 0
	write := func(before membership.Member, groups []string) error {
		role, err := roles.Get(ctx, before.RoleID)
		if err != nil {
			return err
		}
		if err := a.CanActOn(before, role); err != nil {
			return fmt.Errorf("member %q: %w", before.ID, err)
		}
		after := before.Clone()
		if after.Groups, err = membership.ValidateGroups(groups); err != nil {
			return fmt.Errorf("member %q: %w", before.ID, err)
		}
		after.UpdatedAt = now
		// Only the groups change: written as a patch, which a store may
		// apply in bulk (store.MemberPatcher).
		batch = append(batch, store.MemberPatch{ID: before.ID, Version: before.Version, Login: before.Login,
			FirstName: before.FirstName, LastName: before.LastName, Email: before.Email, Status: before.Status,
			SetGroups: true, Groups: after.Groups, UpdatedAt: now})
		e := svc.MemberEvent(now, membership.EventMemberUpdated, actor, before, after)
		e.Detail = "changed: groups"
		emit(e)
		if len(batch) == memberBatch {
			err = store.Patch(ctx, tx, batch)
			batch = batch[:0]
		}
		return err
	}
	renamed := r.from != "" && r.name != r.from
	for _, m := range holders {
		keep := in[m.ID] || m.Status == membership.StatusRemoved && !r.drop
		if keep && !renamed {
			continue
		}
		var groups []string
		if keep { // renamed in place
			groups = make([]string, len(m.Groups))
			for i, g := range m.Groups {
				if membership.GroupKey(g) == key {
					g = r.name
				}
				groups[i] = g
			}
		} else {
			if m.Status != membership.StatusRemoved {
				moved++
			}
			for _, g := range m.Groups {
				if membership.GroupKey(g) != key {
					groups = append(groups, g)
				}
			}
		}
		if err := write(m, groups); err != nil {
			return 0, err
		}
	}
	for _, id := range newIDs {
		m := entering[id]
		moved++
		if err := write(m, append(slices.Clone(m.Groups), r.name)); err != nil {
			return 0, err
		}
	}
	if len(batch) > 0 {
		if err := store.Patch(ctx, tx, batch); err != nil {
			return 0, err
		}
	}
	return moved, nil
}

// UnknownMemberError is returned when a group change would put in a
// member the org does not have, or a removed one. It matches
// store.ErrNotFound.
type UnknownMemberError struct{ MemberID string }

func (e *UnknownMemberError) Error() string {
	return fmt.Sprintf("directory: no member %q to put in the group", e.MemberID)
}

// Is reports whether target is store.ErrNotFound.
func (e *UnknownMemberError) Is(target error) bool { return target == store.ErrNotFound }
