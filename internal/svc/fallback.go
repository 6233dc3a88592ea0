package svc

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// The optional fast paths of store.Tx, each with the same work done on the
// required methods when the store does not offer it.

// CountMembers counts the members matching f.
func CountMembers(ctx context.Context, tx store.Tx, f store.MemberFilter) (int, error) {
	if c, ok := tx.(store.MemberCounter); ok {
		return c.CountMembers(ctx, f)
	}
	n := 0
	for _, err := range tx.Members(ctx, store.MemberQuery{MemberFilter: f}) {
		if err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// OpenInvitations counts the pending invitations unexpired at now: those
// that hold a seat.
func OpenInvitations(ctx context.Context, tx store.Tx, now time.Time) (int, error) {
	if c, ok := tx.(store.InvitationCounter); ok {
		return c.CountOpenInvitations(ctx, now)
	}
	n := 0
	for inv, err := range tx.Invitations(ctx, store.InvitationQuery{States: []membership.InvitationState{membership.InvitationPending}}) {
		if err != nil {
			return 0, err
		}
		if inv.Open(now) {
			n++
		}
	}
	return n, nil
}

// MemberSummaries streams every member of the org as a summary.
func MemberSummaries(ctx context.Context, tx store.Tx) iter.Seq2[store.MemberSummary, error] {
	if r, ok := tx.(store.SummaryReader); ok {
		return r.MemberSummaries(ctx)
	}
	return func(yield func(store.MemberSummary, error) bool) {
		for m, err := range tx.Members(ctx, store.MemberQuery{}) {
			if !yield(store.Summary(m), err) || err != nil {
				return
			}
		}
	}
}

// patchChunk is how many members the fallback of PatchMembers reads at once.
const patchChunk = 1000

// PatchMembers writes patches, as store.MemberPatcher says: with the
// store's fast path, or by reading the members, checking the version and
// login each patch carries, and writing them back with UpdateMembers.
func PatchMembers(ctx context.Context, tx store.Tx, ps []store.MemberPatch) error {
	if p, ok := tx.(store.MemberPatcher); ok {
		return p.PatchMembers(ctx, ps)
	}
	for part := range slices.Chunk(ps, patchChunk) {
		ids := make([]string, len(part))
		for i, p := range part {
			ids[i] = p.ID
		}
		found := make(map[string]membership.Member, len(part))
		for m, err := range tx.Members(ctx, store.MemberQuery{MemberFilter: store.MemberFilter{IDs: ids}}) {
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
				return fmt.Errorf("member %q: %w", p.ID, store.ErrNotFound)
			case m.Version != p.Version || membership.LoginKey(m.Login) != membership.LoginKey(p.Login):
				return fmt.Errorf("member %q changed since version %d: %w", p.ID, p.Version, store.ErrConflict)
			}
			ms[i] = p.Apply(m)
		}
		if err := tx.UpdateMembers(ctx, ms); err != nil {
			return err
		}
	}
	return nil
}
