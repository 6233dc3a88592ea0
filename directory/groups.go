package directory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// NewGroup describes a group to create.
type NewGroup struct {
	Name       string   // the label its members carry; unique in the org without regard to case
	ExternalID string   // the directory's own ID of the group, kept as is (optional)
	Members    []string // IDs of the members to put in it (optional)
}

// GroupChange changes a group; zero fields change nothing.
type GroupChange struct {
	// Name renames the group: the label is renamed on every member
	// carrying it, in the same transaction.
	Name *string
	// ExternalID replaces the directory's ID of the group ("" clears it).
	ExternalID *string
	// Members, when not nil, is the whole new membership: members not in
	// it lose the label, members in it gain it. Add and Remove are then
	// applied to it.
	Members *[]string
	Add     []string // member IDs to put in the group
	Remove  []string // member IDs to take out of it (absent ones are ignored)
	// IfMatch, when not nil, lists the tags ([Tag]) the change was made
	// against: a group whose tag is none of them (its fields or its
	// members changed since; an empty list matches nothing) gives
	// membership.ErrConflict and changes nothing (SCIM's If-Match).
	IfMatch []string
}

// memberBatch is how many members a group change writes per store call.
const memberBatch = 1000

// Groups lists the org's directory groups by ID (permission members.read).
func (s *Service) Groups(ctx context.Context, actor membership.Actor, orgID string) ([]membership.Group, error) {
	var out []membership.Group
	err := s.view(ctx, orgID, func(dtx store.DirectoryTx, tx store.Tx) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersRead); err != nil {
			return err
		}
		var err error
		out, err = dtx.Groups(ctx)
		return err
	})
	return out, err
}

// Group returns one of the org's directory groups with the IDs of its
// members (not removed, by login), permission members.read.
func (s *Service) Group(ctx context.Context, actor membership.Actor, orgID, groupID string) (membership.Group, []membership.Member, error) {
	var g membership.Group
	var ms []membership.Member
	err := s.view(ctx, orgID, func(dtx store.DirectoryTx, tx store.Tx) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersRead); err != nil {
			return err
		}
		var err error
		if g, err = findGroup(ctx, dtx, groupID); err != nil {
			return err
		}
		ms, err = carriers(ctx, tx, g.Name, false)
		return err
	})
	for i := range ms {
		ms[i] = svc.Public(ms[i])
	}
	return g, ms, err
}

func findGroup(ctx context.Context, dtx store.DirectoryTx, id string) (membership.Group, error) {
	gs, err := dtx.Groups(ctx)
	if err != nil {
		return membership.Group{}, err
	}
	for _, g := range gs {
		if g.ID == id {
			return g, nil
		}
	}
	return membership.Group{}, fmt.Errorf("group %q: %w", id, store.ErrNotFound)
}

// carriers returns the members carrying a label, removed ones too when
// asked. Removed members are left out here rather than by a status filter:
// on PostgreSQL, a status filter next to the group's lets the planner,
// when its statistics lag behind a bulk import, scan the org's members by
// status for each group row (925 ms for 800 rows measured, against 2 ms
// by the member's key).
func carriers(ctx context.Context, tx store.Tx, name string, removed bool) ([]membership.Member, error) {
	var out []membership.Member
	for m, err := range tx.Members(ctx, store.MemberQuery{MemberFilter: store.MemberFilter{Group: name}}) {
		if err != nil {
			return nil, err
		}
		if removed || m.Status != membership.StatusRemoved {
			out = append(out, m)
		}
	}
	return out, nil
}

// CreateGroup creates a directory group (permission members.manage) and
// puts the given members in it, in one transaction. A name the org's
// groups already have gives a *membership.DuplicateError (Key "group").
// Members who already carry the label (set by a CSV import, say) are in
// the group from the start.
func (s *Service) CreateGroup(ctx context.Context, actor membership.Actor, orgID string, n NewGroup) (membership.Group, error) {
	name, err := membership.ValidateGroupName(n.Name)
	if err != nil {
		return membership.Group{}, err
	}
	if err := validExternalID(n.ExternalID); err != nil {
		return membership.Group{}, err
	}
	var out membership.Group
	err = s.update(ctx, orgID, func(dtx store.DirectoryTx, tx store.Tx, emit func(...membership.Event)) error {
		a, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersManage)
		if err != nil {
			return err
		}
		now := svc.Now(s.clock)
		g := membership.Group{ID: membership.NewID(), OrgID: orgID, Name: name, ExternalID: strings.TrimSpace(n.ExternalID), CreatedAt: now, UpdatedAt: now, Version: 1}
		if err := dtx.PutGroup(ctx, g); err != nil {
			return err
		}
		e := svc.Event(now, membership.EventGroupCreated, actor, g.ID)
		e.Detail = "name: " + name
		emit(e)
		if len(n.Members) > 0 {
			if err := s.relabel(ctx, tx, a, actor, now, emit, relabeling{name: name, add: n.Members}); err != nil {
				return err
			}
		}
		out = g
		return nil
	})
	return out, err
}

// UpdateGroup changes a directory group (permission members.manage): its
// name (renamed on every member carrying it), its external ID, its
// members; all in one transaction, all or nothing. Putting in a member
// who is unknown or removed gives an error wrapping store.ErrNotFound and
// naming the member; a member the actor may not act on, its
// *membership.ForbiddenError.
func (s *Service) UpdateGroup(ctx context.Context, actor membership.Actor, orgID, groupID string, c GroupChange) (membership.Group, error) {
	if c.ExternalID != nil {
		if err := validExternalID(*c.ExternalID); err != nil {
			return membership.Group{}, err
		}
	}
	var newName string
	if c.Name != nil {
		var err error
		if newName, err = membership.ValidateGroupName(*c.Name); err != nil {
			return membership.Group{}, err
		}
	}
	var out membership.Group
	err := s.update(ctx, orgID, func(dtx store.DirectoryTx, tx store.Tx, emit func(...membership.Event)) error {
		a, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersManage)
		if err != nil {
			return err
		}
		g, err := findGroup(ctx, dtx, groupID)
		if err != nil {
			return err
		}
		if err := checkTag(ctx, tx, g, c.IfMatch); err != nil {
			return err
		}
		now := svc.Now(s.clock)
		r := relabeling{from: g.Name, name: g.Name, add: c.Add, remove: c.Remove, set: c.Members}
		var changed []string
		if c.Name != nil && newName != g.Name {
			r.name, g.Name = newName, newName
			changed = append(changed, "name")
		}
		if c.ExternalID != nil && strings.TrimSpace(*c.ExternalID) != g.ExternalID {
			g.ExternalID = strings.TrimSpace(*c.ExternalID)
			changed = append(changed, "external_id")
		}
		moved, err := s.relabelCount(ctx, tx, a, actor, now, emit, r)
		if err != nil {
			return err
		}
		if moved > 0 {
			changed = append(changed, "members")
		}
		if len(changed) == 0 {
			out = g
			return nil
		}
		g.UpdatedAt = now
		g.Version++
		if err := dtx.PutGroup(ctx, g); err != nil {
			return err
		}
		e := svc.Event(now, membership.EventGroupUpdated, actor, g.ID)
		e.Detail = "changed: " + strings.Join(changed, ", ")
		emit(e)
		out = g
		return nil
	})
	return out, err
}

// DeleteGroup deletes a directory group (permission members.manage) and
// takes its label off every member carrying it, in one transaction.
// ifMatch, when not empty, lists the tags ([Tag]) the deletion was asked
// against, as in [GroupChange].
func (s *Service) DeleteGroup(ctx context.Context, actor membership.Actor, orgID, groupID string, ifMatch ...string) error {
	return s.update(ctx, orgID, func(dtx store.DirectoryTx, tx store.Tx, emit func(...membership.Event)) error {
		a, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersManage)
		if err != nil {
			return err
		}
		g, err := findGroup(ctx, dtx, groupID)
		if err != nil {
			return err
		}
		if err := checkTag(ctx, tx, g, ifMatch); err != nil {
			return err
		}
		now := svc.Now(s.clock)
		if err := s.relabel(ctx, tx, a, actor, now, emit, relabeling{from: g.Name, drop: true}); err != nil {
			return err
		}
		if err := dtx.DeleteGroup(ctx, g.ID); err != nil {
			return err
		}
		e := svc.Event(now, membership.EventGroupDeleted, actor, g.ID)
		e.Detail = "name: " + g.Name
		emit(e)
		return nil
	})
}

// Tag is a group's entity tag, given its members (not removed, as
// [Service.Group] returns them): it changes when what the group shows
// changes, its own fields or its members (who they are, their names),
// whoever changed them (a CSV import, an admin's edit), since a group's
// members are the members carrying its label; not when a member signs in.
// SCIM shows it as the group's ETag.
func Tag(g membership.Group, members []membership.Member) string {
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.ID + ":" + m.FullName() // what the group shows of each member
	}
	slices.Sort(ids)
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%d\n", g.ID, g.Name, g.ExternalID, g.Version)
	for _, id := range ids {
		io.WriteString(h, id+"\n")
	}
	return strconv.FormatInt(g.Version, 10) + "-" + hex.EncodeToString(h.Sum(nil)[:8])
}

// checkTag refuses a change asked against tags the group no longer has.
func checkTag(ctx context.Context, tx store.Tx, g membership.Group, tags []string) error {
	if tags == nil {
		return nil
	}
	ms, err := carriers(ctx, tx, g.Name, false)
	if err != nil {
		return err
	}
	if tag := Tag(g, ms); !slices.Contains(tags, tag) {
		return fmt.Errorf("group %q is at %s: %w", g.ID, tag, membership.ErrConflict)
	}
	return nil
}

// MaxExternalIDLen bounds a group's external ID, in characters.
const MaxExternalIDLen = 256

func validExternalID(id string) error {
	if utf8.RuneCountInString(strings.TrimSpace(id)) > MaxExternalIDLen {
		return membership.Invalid("external_id", "max_chars", MaxExternalIDLen)
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return membership.Invalid("external_id", "control_char")
		}
	}
	return nil
}
