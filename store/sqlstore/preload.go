package sqlstore

// A single operation on PostgreSQL pays a network round trip per
// statement, and holds the org's lock through all of them. So an Update
// reads the org and the members it names (store.Preload) in the statement
// that locks them, answers later reads of them from what it read, and
// defers its writes that can fail only by a bug (the events, the org's
// row, and member rows whose unique keys do not change) to one statement
// before COMMIT: BEGIN, one read, one write, COMMIT.
//
// A deferred write is sent before any other statement of the transaction
// (through flushing, the querier every method uses), so that every read
// sees it and writes keep their order.

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// pending are a transaction's deferred writes.
type pending struct {
	members     []membership.Member // each with the Version it had
	events      []membership.Event  // numbered from firstSeq
	firstSeq    int64
	org         bool // write tx.org
	rosterBumps int  // an edit's moves of the roster version
}

func (p *pending) empty() bool {
	return len(p.members) == 0 && len(p.events) == 0 && !p.org && p.rosterBumps == 0
}

// flushing is the querier of a tx: it writes what the transaction
// deferred before sending anything else.
type flushing struct{ t *tx }

func (f flushing) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := f.t.flush(ctx, false); err != nil {
		return nil, err
	}
	return f.t.raw.ExecContext(ctx, query, args...)
}

func (f flushing) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := f.t.flush(ctx, false); err != nil {
		return nil, err
	}
	return f.t.raw.QueryContext(ctx, query, args...)
}

// QueryRowContext cannot return the error of a deferred write: the
// transaction keeps it (tx.broken), every later call returns it, and
// Update returns it whatever fn does.
func (f flushing) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	_ = f.t.flush(ctx, false)
	return f.t.raw.QueryRowContext(ctx, query, args...)
}

func (f flushing) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	if err := f.t.flush(ctx, false); err != nil {
		return nil, err
	}
	return f.t.raw.PrepareContext(ctx, query)
}

// flush writes the deferred writes; at the end of an Update (final), also
// the org's last event Seq when events moved it. A failure is kept in
// t.broken.
func (t *tx) flush(ctx context.Context, final bool) error {
	if t.broken != nil {
		return t.broken
	}
	if t.pend.empty() && !(final && t.seq != t.seqStored) {
		return nil
	}
	w := t.pend
	t.pend = pending{}
	if t.unlocked {
		// An edit writes once, at the end, when it takes the org's row.
		t.broken = store.ErrNeedsLock
		if final {
			t.broken = flushEdit(ctx, t, &w)
		}
		return t.broken
	}
	var org *membership.Org // nil: the org's row changes only by its Seq, if at all
	if w.org {
		org = t.org
	}
	seq := t.seqStored
	if w.org || final {
		seq = t.seq
	}
	if err := t.s.d.flush(ctx, t, &w, org, seq); err != nil {
		t.broken = err
		return err
	}
	t.seqStored = seq
	return nil
}

// flushEach writes deferred writes statement by statement: the way of
// SQLite, where a statement costs no round trip, and of MySQL.
func flushEach(ctx context.Context, t *tx, w *pending, org *membership.Org, seq int64) error {
	if len(w.members) > 0 {
		if err := t.s.d.updateMembers(ctx, t, w.members); err != nil {
			return err
		}
	}
	if len(w.events) > 0 {
		if err := t.insertEvents(ctx, w.events, w.firstSeq); err != nil {
			return err
		}
	}
	if org == nil && seq == t.seqStored {
		return nil
	}
	q, args := orgWrite(t.orgID, org, seq)
	if _, err := t.raw.ExecContext(ctx, t.s.d.rebind(q), args...); err != nil {
		return t.fail(ctx, "update org", err)
	}
	return nil
}

// orgWrite is the UPDATE of the org's row: the whole org, or only its
// last event Seq when org is nil.
func orgWrite(orgID string, org *membership.Org, seq int64) (string, []any) {
	if org == nil {
		return `UPDATE memberkit_orgs SET event_seq = ? WHERE id = ?`, []any{seq, orgID}
	}
	return `UPDATE memberkit_orgs SET name = ?, plan_name = ?, member_limit = ?, features = ?, roster_version = ?, active_members = ?, active_admins = ?, invite_verified_domains_only = ?, updated_at = ?, event_seq = ? WHERE id = ?`,
		[]any{org.Name, org.Plan.Name, org.Plan.MemberLimit, joinFeatures(org.Features), org.RosterVersion, org.ActiveMembers, org.ActiveAdmins, org.InviteVerifiedDomainsOnly, micros(org.UpdatedAt), seq, orgID}
}

// lockAndPreload locks the org's row, reads it, and reads the members p
// names in the same statement, locking their rows too (on PostgreSQL a
// row locked after waiting is read as last committed, so what the
// statement returns is current). A member not found is left to a later
// lookup.
func (t *tx) lockAndPreload(ctx context.Context, p store.Preload) error {
	if err := t.preload(ctx, p, t.s.d.lockRow()); err != nil {
		return err
	}
	if t.org != nil {
		return nil
	}
	// None of them found (or none named): lock the org alone.
	org, seq, err := readOrgSeq(ctx, t.s.d, t.raw, t.orgID, t.s.d.lockRow())
	if err != nil {
		return err
	}
	t.setOrg(org, seq)
	return nil
}

// preload reads the org and the members p names in one statement ending
// with suffix; it sets nothing when it finds none of them.
func (t *tx) preload(ctx context.Context, p store.Preload, suffix string) error {
	ids := nonEmpty(p.MemberIDs)
	users := nonEmpty(p.UserIDs)
	if !t.s.d.preloadUsers() {
		users = nil
	}
	if len(ids) == 0 && len(users) == 0 {
		return nil
	}
	var cond []string
	args := []any{t.orgID}
	if len(ids) > 0 {
		cond = append(cond, `m.id IN (`+placeholders(len(ids))+`)`)
		for _, id := range ids {
			args = append(args, id)
		}
	}
	if len(users) > 0 {
		cond = append(cond, `m.user_key IN (`+placeholders(len(users))+`)`)
		for _, u := range users {
			args = append(args, u)
		}
	}
	rows, err := t.raw.QueryContext(ctx, t.s.d.rebind(`SELECT `+orgCols+`, `+memberCols+` FROM memberkit_orgs o JOIN memberkit_members m ON m.org_id = o.id WHERE o.id = ? AND (`+strings.Join(cond, " OR ")+`)`+suffix), args...)
	if err != nil {
		return t.fail(ctx, "lock org", err)
	}
	var r orgRow
	ms, err := scanMembersAfter(rows, r.dest()...)
	if err != nil {
		return ctxErr(ctx, err)
	}
	if len(ms) == 0 {
		return nil
	}
	org, seq, err := r.org(t.orgID)
	if err != nil {
		return err
	}
	t.setOrg(org, seq)
	t.known = make(map[string]membership.Member, len(ms))
	t.byUser = make(map[string]string, len(ms))
	for _, m := range ms {
		t.remember(m)
	}
	return nil
}

func (t *tx) setOrg(org membership.Org, seq int64) {
	t.org = &org
	t.seq, t.seqStored = seq, seq
}

// remember keeps m, read or written under the org's lock, as the member's
// current state.
func (t *tx) remember(m membership.Member) {
	if old, ok := t.known[m.ID]; ok && old.UserID != "" {
		delete(t.byUser, old.UserID)
	}
	t.known[m.ID] = m.Clone()
	if m.UserID != "" {
		t.byUser[m.UserID] = m.ID
	}
}

// forget drops what the transaction knew of members about to be written
// some other way.
func (t *tx) forget(ids ...string) {
	for _, id := range ids {
		if old, ok := t.known[id]; ok {
			delete(t.byUser, old.UserID)
			delete(t.known, id)
		}
	}
}

// cached returns a preloaded member by ID, or by user ID when byUser.
func (t *tx) cached(key string, byUser bool) (membership.Member, bool) {
	id := key
	if byUser {
		var ok bool
		if id, ok = t.byUser[key]; !ok {
			return membership.Member{}, false
		}
	}
	m, ok := t.known[id]
	if !ok || (byUser && m.UserID != key) {
		return membership.Member{}, false
	}
	return m.Clone(), true
}

// deferUpdate defers the write of ms when every one of them was read
// under the lock at the Version it carries and keeps its unique keys,
// groups and attributes: the write can then fail only by a bug.
func (t *tx) deferUpdate(ms []membership.Member) bool {
	if t.known == nil || len(ms) > 8 || batchOnce(ms) != nil {
		return false // many members, or a bug the immediate path names
	}
	for i := range ms {
		c, ok := t.keepsKeys(&ms[i])
		if !ok || !c.Attributes.Equal(ms[i].Attributes) {
			return false
		}
	}
	for _, m := range ms {
		t.pend.members = append(t.pend.members, m.Clone())
		m.Version++
		t.remember(m)
	}
	return true
}

// keepsKeys returns the member m was read as, and whether m is a write of
// it at the version read that keeps its unique keys and groups, not
// already pending: a write that can fail only by a bug.
func (t *tx) keepsKeys(m *membership.Member) (membership.Member, bool) {
	c, ok := t.known[m.ID]
	return c, ok && c.Version == m.Version && membership.LoginKey(c.Login) == membership.LoginKey(m.Login) &&
		membership.EmailKey(c.Email) == membership.EmailKey(m.Email) && c.UserID == m.UserID &&
		joinGroups(c.Groups) == joinGroups(m.Groups) &&
		!slices.ContainsFunc(t.pend.members, func(p membership.Member) bool { return p.ID == m.ID })
}

// runCounts runs ctes and returns the counts it selects (one row).
func (t *tx) runCounts(ctx context.Context, ctes, counts []string, args []any) ([]int64, error) {
	got := make([]int64, len(counts))
	dest := make([]any, len(counts))
	for i := range got {
		dest[i] = &got[i]
	}
	err := t.raw.QueryRowContext(ctx, t.s.d.rebind(`WITH `+strings.Join(ctes, ", ")+` SELECT `+strings.Join(counts, ", ")), args...).Scan(dest...)
	if err != nil {
		if t.s.d.isUnique(err) {
			return nil, duplicate(err, "id", "")
		}
		return nil, t.fail(ctx, "write", err)
	}
	return got, nil
}

// known returns, for members all read under the lock, what UpdateMembers
// checks; nil when one is not.
func (t *tx) knownVersions(ids []string) map[string]current {
	if t.known == nil {
		return nil
	}
	out := make(map[string]current, len(ids))
	for _, id := range ids {
		m, ok := t.known[id]
		if !ok {
			return nil
		}
		out[id] = current{version: m.Version, loginKey: membership.LoginKey(m.Login), groups: joinGroups(m.Groups), attributes: encodeAttributes(m.Attributes)}
	}
	return out
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// flushPostgres writes deferred writes in one statement of data-modifying
// CTEs (events beyond one batch go first, in their own statements).
func flushPostgres(ctx context.Context, t *tx, w *pending, org *membership.Org, seq int64) error {
	evs, first := w.events, w.firstSeq
	for len(evs) > pgArrayBatch {
		if err := t.insertEvents(ctx, evs[:pgArrayBatch], first); err != nil {
			return err
		}
		evs, first = evs[pgArrayBatch:], first+pgArrayBatch
	}
	var ctes, counts []string
	var args []any
	if len(w.members) > 0 {
		q, a, err := pgUpdateMembers(t.orgID, w.members)
		if err != nil {
			return err
		}
		ctes = append(ctes, `wm AS (`+q+` RETURNING 1)`)
		counts = append(counts, `(SELECT count(*) FROM wm)`)
		args = append(args, a...)
	}
	if len(evs) > 0 {
		unnest, a, err := pgUnnest(eventInsertCols, len(evs), func(i int) []any { return eventArgs(t.orgID, &evs[i], first+int64(i)) })
		if err != nil {
			return err
		}
		ctes = append(ctes, `we AS (INSERT INTO memberkit_events (`+eventInsertCols+`) SELECT * FROM `+unnest+` RETURNING 1)`)
		counts = append(counts, `(SELECT count(*) FROM we)`)
		args = append(args, a...)
	}
	if org != nil || seq != t.seqStored {
		q, a := orgWrite(t.orgID, org, seq)
		ctes = append(ctes, `wo AS (`+q+` RETURNING 1)`)
		counts = append(counts, `(SELECT count(*) FROM wo)`)
		args = append(args, a...)
	}
	if len(ctes) == 0 {
		return nil
	}
	got, err := t.runCounts(ctx, ctes, counts, args)
	if err != nil {
		return err
	}
	if len(w.members) > 0 && got[0] != int64(len(w.members)) {
		return fmt.Errorf("%d of %d members changed meanwhile: %w", int64(len(w.members))-got[0], len(w.members), store.ErrConflict)
	}
	return nil
}
