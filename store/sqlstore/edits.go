package sqlstore

// EditMembers (store.MemberEditor): on PostgreSQL, a change that can
// break no invariant reads without the org's lock and writes in one
// statement that takes the org's row first (to number its events and
// move the roster version), checks that every member it read is still
// at the version read (the ones it writes by their UPDATE, the others,
// such as the actor, by a FOR SHARE), and writes the members and events.
// A member changed meanwhile makes the statement write nothing: the
// transaction rolls back and fn runs again. The org's row is thus held
// for one statement and the COMMIT, not for the reads and checks.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

var _ store.MemberEditor = (*Store)(nil)

// errRaced: a member read by an edit changed before it wrote.
var errRaced = errors.New("sqlstore: a member read changed before the write")

// editRuns bounds how often EditMembers runs fn again after a race
// before it asks for the org's lock (store.ErrNeedsLock).
const editRuns = 2

// EditMembers runs fn without holding the org's lock for its reads (see
// [store.MemberEditor]); on SQLite and MySQL it is UpdatePreloaded.
func (s *Store) EditMembers(ctx context.Context, orgID string, p store.Preload, fn func(tx store.Tx) error) error {
	if !s.d.edits() || p.IsZero() {
		return s.UpdatePreloaded(ctx, orgID, p, fn)
	}
	for range editRuns {
		err := s.retry(ctx, "org", orgID, func() error { return s.edit(ctx, orgID, p, fn) })
		if !errors.Is(err, errRaced) {
			return err
		}
	}
	return store.ErrNeedsLock
}

func (s *Store) edit(ctx context.Context, orgID string, p store.Preload, fn func(tx store.Tx) error) error {
	return s.d.writeTx(ctx, s, func(q querier) error {
		t := newTx(s, q, orgID, false)
		t.unlocked = true
		defer t.close()
		if err := t.preload(ctx, p, ""); err != nil {
			return err
		}
		if t.known == nil {
			return store.ErrNeedsLock // none found: the locked path says why
		}
		if err := fn(t); err != nil {
			return err
		}
		if t.broken != nil {
			return t.broken
		}
		if err := t.flush(ctx, true); err != nil {
			return err
		}
		// Attribute rows once the org's and the member's rows are held
		// (the order of every writer): before, two edits of one member
		// would rewrite them at once, and an edit would hold them while
		// it waits for the org's row that a locked Update holds.
		if len(t.editAttrs.ids) > 0 {
			if err := t.rewriteAttributes(ctx, t.editAttrs.ids, t.editAttrs.rows); err != nil {
				return err
			}
		}
		t.close()
		return ctx.Err()
	})
}

// batchOnce refuses a batch naming a member twice: a bug of the caller.
func batchOnce(ms []membership.Member) error {
	for i := range ms {
		for j := range i {
			if ms[i].ID == ms[j].ID {
				return fmt.Errorf("sqlstore: member %q twice in one batch", ms[i].ID)
			}
		}
	}
	return nil
}

// checkEdit is check for the writes an edit may make.
func (t *tx) checkEdit(ctx context.Context) error {
	if err := t.check(ctx, false); err != nil {
		return err
	}
	if t.readOnly {
		return errors.New("sqlstore: write in a View")
	}
	return nil
}

// BumpRoster moves the org's RosterVersion by one at commit.
func (t *tx) BumpRoster(ctx context.Context) error {
	if err := t.checkEdit(ctx); err != nil {
		return err
	}
	if t.unlocked {
		t.pend.rosterBumps++
		return nil
	}
	org, err := t.Org(ctx)
	if err != nil {
		return err
	}
	org.RosterVersion++
	t.org = &org
	t.pend.org = true
	return nil
}

// editMembers is UpdateMembers in an edit: members read by it, at the
// version read, keeping every key and rule-bearing field; attribute rows
// are rewritten at once, the member rows at commit.
func (t *tx) editMembers(ctx context.Context, ms []membership.Member) error {
	if err := batchOnce(ms); err != nil {
		return err
	}
	for i := range ms {
		c, ok := t.keepsKeys(&ms[i])
		if !ok || ms[i].OrgID != t.orgID || c.RoleID != ms[i].RoleID || c.Status != ms[i].Status {
			return store.ErrNeedsLock
		}
	}
	for i := range ms {
		m := &ms[i]
		if c := t.known[m.ID]; !c.Attributes.Equal(m.Attributes) {
			t.editAttrs.ids = append(t.editAttrs.ids, m.ID)
			t.editAttrs.rows = appendAttributeRows(t.editAttrs.rows, m)
		}
	}
	for _, m := range ms {
		t.pend.members = append(t.pend.members, m.Clone())
		m.Version++
		t.remember(m)
	}
	return nil
}

// flushEdit writes an edit's members, events and roster moves in one
// statement; errRaced when a member it read changed meanwhile.
func flushEdit(ctx context.Context, t *tx, w *pending) error {
	args := []any{len(w.events), w.rosterBumps, t.orgID}
	ctes := []string{`o AS (UPDATE memberkit_orgs SET event_seq = event_seq + ?, roster_version = roster_version + ? WHERE id = ? RETURNING event_seq)`}
	counts := []string{`(SELECT count(*) FROM o)`}
	want := []int64{1}
	written := map[string]bool{}
	if len(w.members) > 0 {
		unnest, a, err := pgUnnest(writeCols, len(w.members), func(i int) []any { return writeRow(&w.members[i]) })
		if err != nil {
			return err
		}
		ctes = append(ctes, `wm AS (`+pgUpdateMembersFrom(`o, `+unnest+` AS v(`+writeCols+`)`)+` RETURNING 1)`)
		counts = append(counts, `(SELECT count(*) FROM wm)`)
		want = append(want, int64(len(w.members)))
		args = append(append(args, a...), t.orgID)
		for _, m := range w.members {
			written[m.ID] = true
		}
	}
	// The members read and not written (the actor) are still as read.
	var ids, versions pgArray
	n := 0
	for id, m := range t.known {
		if !written[id] {
			ids.add(id)
			versions.addInt(m.Version)
			n++
		}
	}
	if n > 0 {
		ctes = append(ctes, `wa AS (SELECT m.id FROM memberkit_members m, o WHERE m.org_id = ? AND (m.id, m.version) IN (SELECT * FROM unnest(?::text[], ?::bigint[])) FOR SHARE OF m)`)
		counts = append(counts, `(SELECT count(*) FROM wa)`)
		want = append(want, int64(n))
		args = append(args, t.orgID, ids.String(), versions.String())
	}
	if len(w.events) > 0 {
		unnest, a, err := pgUnnest(eventInsertCols, len(w.events), func(i int) []any { return eventArgs(t.orgID, &w.events[i], 0) })
		if err != nil {
			return err
		}
		cols := strings.Split(eventInsertCols, ", ")
		sel := make([]string, len(cols))
		for i, c := range cols {
			sel[i] = "v." + c
		}
		sel[len(sel)-1] = "o.event_seq - " + strconv.Itoa(len(w.events)) + " + v.n"
		ctes = append(ctes, `we AS (INSERT INTO memberkit_events (`+eventInsertCols+`) SELECT `+strings.Join(sel, ", ")+` FROM o, `+unnest+` WITH ORDINALITY AS v(`+eventInsertCols+`, n))`)
		args = append(args, a...)
	}
	got, err := t.runCounts(ctx, ctes, counts, args)
	if err != nil {
		return err
	}
	if got[0] != 1 {
		return fmt.Errorf("org %q: %w", t.orgID, store.ErrNotFound)
	}
	if !slices.Equal(got, want) {
		return errRaced
	}
	return nil
}
