package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// A streaming read fetches rows by keyset chunks: the first of firstChunk
// rows, each next one twice as large up to maxChunk. Each chunk is read
// whole before it is yielded, so callers may use the Tx while iterating,
// on every driver; growing chunks keep the number of queries of a long
// stream small (17 for 200,000 rows) and a short one cheap.
const (
	firstChunk = 1000
	maxChunk   = 16000
)

var (
	_ store.Tx                = (*tx)(nil)
	_ store.MemberCounter     = (*tx)(nil)
	_ store.InvitationCounter = (*tx)(nil)
	_ store.SummaryReader     = (*tx)(nil)
	_ store.DetailReader      = (*tx)(nil)
	_ store.MemberPatcher     = (*tx)(nil)
)

type tx struct {
	s *Store
	// q is what the methods send statements through: it writes what the
	// transaction deferred first (see preload.go); raw is the
	// transaction itself.
	q, raw   querier
	orgID    string
	readOnly bool
	done     bool
	// seq is the Seq of the org's last event, moved by AppendEvents;
	// seqStored what the org's row holds.
	seq, seqStored int64
	stmts          map[string]*sql.Stmt

	// org is the org as read when the transaction began (under its lock
	// in an Update) and as PutOrg left it.
	org *membership.Org
	// known are the members read with the org's lock, as this
	// transaction left them, by ID; byUser maps their user IDs.
	known  map[string]membership.Member
	byUser map[string]string
	// pend are the writes deferred to the next statement or the commit.
	pend pending
	// broken is the error of a deferred write: the transaction's outcome.
	broken error
	// unlocked: an edit (edits.go), which holds no lock while it reads;
	// editAttrs the attribute rows it rewrites after its write.
	unlocked  bool
	editAttrs struct {
		ids  []string
		rows [][4]string
	}
}

func newTx(s *Store, q querier, orgID string, readOnly bool) *tx {
	t := &tx{s: s, raw: q, orgID: orgID, readOnly: readOnly}
	t.q = flushing{t}
	return t
}

func (t *tx) close() {
	if t.done {
		return
	}
	t.done = true
	for _, st := range t.stmts {
		_ = st.Close()
	}
	t.stmts = nil
}

func (t *tx) check(ctx context.Context, write bool) error {
	if t.done {
		return errors.New("sqlstore: transaction used after it ended")
	}
	if t.broken != nil {
		return t.broken
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if write && t.readOnly {
		return errors.New("sqlstore: write in a View")
	}
	if write && t.unlocked {
		return store.ErrNeedsLock
	}
	return nil
}

// stmt returns a statement prepared once per transaction, after writing
// what the transaction deferred.
func (t *tx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if err := t.flush(ctx, false); err != nil {
		return nil, err
	}
	if st, ok := t.stmts[query]; ok {
		return st, nil
	}
	if c, ok := t.raw.(*heldConn); ok { // kept beyond the transaction
		if st, err := c.stmt(ctx, t.s.d.rebind(query)); err != nil || st != nil {
			return st, err
		}
	}
	st, err := t.q.PrepareContext(ctx, t.s.d.rebind(query))
	if err != nil {
		return nil, err
	}
	if t.stmts == nil {
		t.stmts = make(map[string]*sql.Stmt)
	}
	t.stmts[query] = st
	return st, nil
}

func (t *tx) fail(ctx context.Context, what string, err error) error {
	return ctxErr(ctx, fmt.Errorf("sqlstore: %s: %w", what, err))
}

func (t *tx) OrgID() string { return t.orgID }

func (t *tx) Org(ctx context.Context) (membership.Org, error) {
	if err := t.check(ctx, false); err != nil {
		return membership.Org{}, err
	}
	if t.org != nil {
		o := *t.org
		o.Features = slices.Clone(o.Features)
		return o, nil
	}
	return readOrg(ctx, t.s.d, t.q, t.orgID, "")
}

// PutOrg checks org and defers its write to the next statement or the
// commit, where it goes with the org's last event Seq.
func (t *tx) PutOrg(ctx context.Context, org membership.Org) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if org.ID != t.orgID {
		return fmt.Errorf("org %q: %w", org.ID, store.ErrNotFound)
	}
	if err := membership.ValidateOrg(&org); err != nil {
		return err
	}
	org.Features = slices.Clone(org.Features)
	t.org = &org
	t.pend.org = true
	return nil
}

// pages streams rows by keyset chunks. fetch reads at most size rows after
// the key after and returns them with the key of the last one. Each chunk
// is read whole before it is yielded.
func pages[T any](ctx context.Context, t *tx, after string, limit, first int, fetch func(after string, size int) ([]T, string, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		n, next := 0, first
		for {
			if err := t.check(ctx, false); err != nil {
				yield(zero, err)
				return
			}
			size := next
			next = min(2*next, maxChunk)
			if limit > 0 {
				size = min(size, limit-n)
			}
			chunk, last, err := fetch(after, size)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, v := range chunk {
				if !yield(v, nil) {
					return
				}
			}
			n += len(chunk)
			if len(chunk) < size || (limit > 0 && n >= limit) {
				return
			}
			after = last
		}
	}
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
