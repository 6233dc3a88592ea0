package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// sqliteDialect: one writer per database. A process's writers wait for
// each other in Go (writer), so that a context ends the wait, then take
// the database with BEGIN IMMEDIATE, retried while another process
// writes. Single-row prepared statements reused in one transaction are
// SQLite's fastest batch write; the writer's connection keeps the
// statements it prepared while writes keep coming (sqlite_conn.go).
type sqliteDialect struct {
	questionMarks
	writer chan struct{}
	held   held // the writer's connection, kept while writes come (sqlite_conn.go)
}

func (*sqliteDialect) name() Dialect { return SQLite }

func (d *sqliteDialect) writeTx(ctx context.Context, s *Store, fn func(q querier) error) error {
	select {
	case d.writer <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-d.writer }()
	c, giveBack, err := d.writerConn(ctx, s)
	if err != nil {
		return ctxErr(ctx, fmt.Errorf("sqlstore: connection: %w", err))
	}
	defer giveBack()
	if err := d.beginImmediate(ctx, c.conn); err != nil {
		c.bad = true
		return err
	}
	// Roll back even when ctx is done, or fn panicked: the connection is
	// kept or returns to the pool, and must not keep an open transaction.
	ended := false
	rollback := func() {
		ended = true
		if _, err := c.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); err != nil {
			c.bad = true
		}
	}
	defer func() {
		if !ended {
			rollback()
		}
	}()
	if err := fn(c); err != nil {
		rollback()
		return err
	}
	if _, err := c.conn.ExecContext(ctx, "COMMIT"); err != nil {
		rollback()
		return commitErr(ctx, err)
	}
	ended = true
	return nil
}

// beginImmediate takes the database's write lock, retrying while another
// process holds it, until ctx ends.
func (d *sqliteDialect) beginImmediate(ctx context.Context, conn *sql.Conn) error {
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		_, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE")
		if err == nil {
			return nil
		}
		if !d.isRetryable(err) || ctx.Err() != nil {
			return ctxErr(ctx, fmt.Errorf("sqlstore: begin immediate: %w", err))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

func (*sqliteDialect) viewOptions() *sql.TxOptions { return nil } // a deferred transaction: a snapshot in WAL mode

func (*sqliteDialect) lockRow() string { return "" }

func (*sqliteDialect) insertRows(ctx context.Context, t *tx, table, cols string, ncols, n int, row func(i int) []any) error {
	st, err := t.stmt(ctx, "INSERT INTO "+table+" ("+cols+") VALUES ("+placeholders(ncols)+")")
	if err != nil {
		return err
	}
	for i := range n {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if _, err := st.ExecContext(ctx, row(i)...); err != nil {
			return err
		}
	}
	return nil
}

func (*sqliteDialect) updateMembers(ctx context.Context, t *tx, ms []membership.Member) error {
	return updateMembersEach(ctx, t, ms)
}

// flush writes the deferred members without their key columns
// (updateKeptEach), then the rest statement by statement.
func (*sqliteDialect) flush(ctx context.Context, t *tx, w *pending, org *membership.Org, seq int64) error {
	if len(w.members) > 0 {
		if err := updateKeptEach(ctx, t, w.members); err != nil {
			return err
		}
		rest := *w
		rest.members = nil
		w = &rest
	}
	return flushEach(ctx, t, w, org, seq)
}

func (*sqliteDialect) preloadUsers() bool { return true }

// edits: one writer at a time whatever the locks; EditMembers is
// UpdatePreloaded.
func (*sqliteDialect) edits() bool { return false }

func (*sqliteDialect) patchMembers(ctx context.Context, t *tx, ps []store.MemberPatch) error {
	return patchMembersEach(ctx, t, ps)
}

// migrationLock holds an IMMEDIATE transaction on conn for the whole
// migration: each migration runs inside it.
func (d *sqliteDialect) migrationLock(ctx context.Context, _ *Store, conn *sql.Conn) (func(ok bool), error) {
	if err := d.beginImmediate(ctx, conn); err != nil {
		return nil, fmt.Errorf("sqlstore: migrate: %w", err)
	}
	bg := context.WithoutCancel(ctx)
	return func(ok bool) {
		if ok {
			if _, err := conn.ExecContext(bg, "COMMIT"); err == nil {
				return
			}
		}
		_, _ = conn.ExecContext(bg, "ROLLBACK")
	}, nil
}

func (*sqliteDialect) applyMigration(ctx context.Context, s *Store, conn *sql.Conn, m Migration) error {
	if err := execMigration(ctx, conn, m, ""); err != nil {
		return err
	}
	if err := recordMigration(ctx, s, conn, m, time.Now().UnixMicro()); err != nil {
		return ctxErr(ctx, fmt.Errorf("sqlstore: migration %s: record: %w", m.Name, err))
	}
	return nil
}

func (*sqliteDialect) isUnique(err error) bool {
	var c coder
	if errors.As(err, &c) {
		code := c.Code()
		return code == 2067 || code == 1555 || (code&0xff == 19 && strings.Contains(err.Error(), "UNIQUE"))
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

func (*sqliteDialect) isRetryable(err error) bool {
	var c coder
	if errors.As(err, &c) {
		code := c.Code() & 0xff
		return code == 5 || code == 6 // SQLITE_BUSY, SQLITE_LOCKED
	}
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY")
}

func (*sqliteDialect) ensureRow(table, cols string, ncols int) string {
	return `INSERT INTO ` + table + ` (` + cols + `) VALUES (` + placeholders(ncols) + `) ON CONFLICT DO NOTHING`
}

func (*sqliteDialect) matchedRows() bool { return true }

func (*sqliteDialect) poolPrepare() bool { return true }

func (*sqliteDialect) lockOrg(context.Context, *Store, querier, string) (string, error) {
	return "", nil
}

func (*sqliteDialect) owned(context.Context, *Store, querier, string, string) error { return nil }

func (*sqliteDialect) tableOptions() string { return "" }

func (*sqliteDialect) nowMicros() string {
	return "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"
}
