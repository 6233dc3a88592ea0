package store

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"maps"
	"slices"
	"time"

	"github.com/memberkit/memberkit/membership"
)

// Helpers that use a Tx's optional fast paths when it has them, and do the
// same work with the required methods when it does not — the way io.Copy
// uses a WriterTo. Services call these, never the optional methods
// directly.

// CountMembers counts the members matching f, through [MemberCounter]
// when tx has it.
func CountMembers(ctx context.Context, tx Tx, f MemberFilter) (int, error) {
	if c, ok := tx.(MemberCounter); ok {
		return c.CountMembers(ctx, f)
	}
	n := 0
	for _, err := range tx.Members(ctx, MemberQuery{MemberFilter: f}) {
		if err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// CountOpenInvitations counts the pending invitations unexpired at now —
// those that hold a seat — through [InvitationCounter] when tx has it.
func CountOpenInvitations(ctx context.Context, tx Tx, now time.Time) (int, error) {
	if c, ok := tx.(InvitationCounter); ok {
		return c.CountOpenInvitations(ctx, now)
	}
	n := 0
	for inv, err := range tx.Invitations(ctx, InvitationQuery{States: []membership.InvitationState{membership.InvitationPending}}) {
		if err != nil {
			return 0, err
		}
		if inv.Open(now) {
			n++
		}
	}
	return n, nil
}

// Summaries streams every member of the org as a summary, through
// [SummaryReader] when tx has it.
func Summaries(ctx context.Context, tx Tx) iter.Seq2[MemberSummary, error] {
	if r, ok := tx.(SummaryReader); ok {
		return r.MemberSummaries(ctx)
	}
	return func(yield func(MemberSummary, error) bool) {
		for m, err := range tx.Members(ctx, MemberQuery{}) {
			if !yield(Summary(m), err) || err != nil {
				return
			}
		}
	}
}

// DetailReader is an optional fast path of a [Tx]: streaming a whole
// roster with the fields of a [MemberDetail] (a summary, the groups and
// the attributes) without the rest of each member, for a reader that
// compares the whole roster with another list of it.
type DetailReader interface {
	// MemberDetails streams every member of the org (any status), in an
	// order of the store's choosing. The Groups and Attributes of each
	// detail are the caller's: changing them changes nothing stored.
	MemberDetails(ctx context.Context) iter.Seq2[MemberDetail, error]
}

// MemberDetail is the part of a member that [DetailReader] streams.
type MemberDetail struct {
	MemberSummary
	Groups     []string              // nil for none
	Attributes membership.Attributes // nil for none
}

// Detail returns the detail of m, which shares m's Groups and
// Attributes.
func Detail(m membership.Member) MemberDetail {
	d := MemberDetail{MemberSummary: Summary(m)}
	if len(m.Groups) > 0 {
		d.Groups = m.Groups
	}
	if len(m.Attributes) > 0 {
		d.Attributes = m.Attributes
	}
	return d
}

// Details streams the org's whole roster as [MemberDetail]s: through
// [DetailReader] when tx has it, else from its members.
func Details(ctx context.Context, tx Tx) iter.Seq2[MemberDetail, error] {
	if r, ok := tx.(DetailReader); ok {
		return r.MemberDetails(ctx)
	}
	return func(yield func(MemberDetail, error) bool) {
		for m, err := range tx.Members(ctx, MemberQuery{}) {
			if !yield(Detail(m), err) || err != nil {
				return
			}
		}
	}
}

// patchChunk is how many members Patch reads at once without a MemberPatcher.
const patchChunk = 1000

// Patch writes patches as [MemberPatcher] says: through it when tx has
// it, else by reading the members, checking the version and login each
// patch carries, and writing them back with UpdateMembers.
func Patch(ctx context.Context, tx Tx, ps []MemberPatch) error {
	if p, ok := tx.(MemberPatcher); ok {
		return p.PatchMembers(ctx, ps)
	}
	for part := range slices.Chunk(ps, patchChunk) {
		ids := make([]string, len(part))
		for i, p := range part {
			ids[i] = p.ID
		}
		found := make(map[string]membership.Member, len(part))
		for m, err := range tx.Members(ctx, MemberQuery{MemberFilter: MemberFilter{IDs: ids}}) {
			if err != nil {
				return err
			}
			found[m.ID] = m
		}
		ms := make([]membership.Member, len(part))
		for i, p := range part {
			m, ok := found[p.ID]
			switch {
			case !ok:
				return fmt.Errorf("member %q: %w", p.ID, ErrNotFound)
			case m.Version != p.Version || membership.LoginKey(m.Login) != membership.LoginKey(p.Login):
				return fmt.Errorf("member %q changed since version %d: %w", p.ID, p.Version, ErrConflict)
			}
			ms[i] = p.Apply(m)
		}
		if err := tx.UpdateMembers(ctx, ms); err != nil {
			return err
		}
	}
	return nil
}

// GroupLister is a Tx that lists the group labels its org's members
// carry without reading every member.
type GroupLister interface {
	// GroupLabels returns each group label carried by a member of the
	// org (removed members aside or not, at the store's choice), once
	// per membership.GroupKey, in the spelling of one member carrying it.
	GroupLabels(ctx context.Context) ([]string, error)
}

// GroupLabels returns the group labels the org's members carry, once per
// membership.GroupKey (case aside), sorted as people read them (accents
// and case aside), through [GroupLister] when tx has it: what a screen
// offers to filter by.
func GroupLabels(ctx context.Context, tx Tx) ([]string, error) {
	var labels []string
	if l, ok := tx.(GroupLister); ok {
		var err error
		if labels, err = l.GroupLabels(ctx); err != nil {
			return nil, err
		}
	} else {
		for m, err := range tx.Members(ctx, MemberQuery{}) {
			if err != nil {
				return nil, err
			}
			labels = append(labels, m.Groups...)
		}
	}
	byKey := make(map[string]string, len(labels))
	for _, g := range labels {
		if k := membership.GroupKey(g); k != "" {
			if _, ok := byKey[k]; !ok {
				byKey[k] = g
			}
		}
	}
	out := slices.Collect(maps.Values(byKey))
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(cmp.Compare(membership.Fold(a), membership.Fold(b)), cmp.Compare(membership.GroupKey(a), membership.GroupKey(b)))
	})
	return out, nil
}
