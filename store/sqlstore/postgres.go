package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// postgresDialect: PostgreSQL 12+. Writers lock rows in READ COMMITTED
// transactions; every batch write (insert, update, patch) sends one array
// per column and unnests it (postgres_bulk.go), or, with a Copier, sends
// a large one by COPY (copier.go).
type postgresDialect struct{}

func (postgresDialect) name() Dialect { return Postgres }

// rebind turns ? placeholders into $1, $2…. Queries built by this package
// never contain a literal question mark.
func (postgresDialect) rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// writeTx runs on a connection the store holds when a Copier may send
// batches through it (see copier.go).
func (postgresDialect) writeTx(ctx context.Context, s *Store, fn func(q querier) error) error {
	if s.cp.c != nil {
		return copyTx(ctx, s, fn)
	}
	return readCommitted(ctx, s, fn)
}

func (postgresDialect) viewOptions() *sql.TxOptions {
	return &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
}

func (postgresDialect) lockRow() string { return " FOR UPDATE" }

func (postgresDialect) insertRows(ctx context.Context, t *tx, table, cols string, _, n int, row func(i int) []any) error {
	return insertRowsPostgres(ctx, t, table, cols, n, row)
}

func (postgresDialect) updateMembers(ctx context.Context, t *tx, ms []membership.Member) error {
	return updateMembersPostgres(ctx, t, ms)
}

// flush sends, when the Copier takes them, the events beyond the last
// batch by COPY first, and the rest in one statement (flushPostgres).
func (postgresDialect) flush(ctx context.Context, t *tx, w *pending, org *membership.Org, seq int64) error {
	if n := len(w.events) - pgArrayBatch; n > 0 && t.copier(n) != nil {
		if err := t.insertEvents(ctx, w.events[:n], w.firstSeq); err != nil {
			return err
		}
		rest := *w
		rest.events, rest.firstSeq = w.events[n:], w.firstSeq+int64(n)
		w = &rest
	}
	return flushPostgres(ctx, t, w, org, seq)
}

func (postgresDialect) preloadUsers() bool { return true }

func (postgresDialect) edits() bool { return true }

func (postgresDialect) patchMembers(ctx context.Context, t *tx, ps []store.MemberPatch) error {
	return patchMembersPostgres(ctx, t, ps)
}

// migrationLock takes the lock row (see migratelock.go): no session
// state, so Migrate works through a pooler in transaction mode.
func (postgresDialect) migrationLock(ctx context.Context, s *Store, conn *sql.Conn) (func(ok bool), error) {
	return s.leaseLock(ctx, conn)
}

// applyMigration runs a migration and its bookkeeping row in one
// transaction.
func (postgresDialect) applyMigration(ctx context.Context, s *Store, conn *sql.Conn, m Migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return ctxErr(ctx, fmt.Errorf("sqlstore: migration %s: %w", m.Name, err))
	}
	if err := execMigration(ctx, tx, m, " (rolled back)"); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := recordMigration(ctx, s, tx, m, time.Now().UnixMicro()); err != nil {
		_ = tx.Rollback()
		return ctxErr(ctx, fmt.Errorf("sqlstore: migration %s: record: %w", m.Name, err))
	}
	if err := tx.Commit(); err != nil {
		return ctxErr(ctx, fmt.Errorf("sqlstore: migration %s: commit: %w", m.Name, err))
	}
	return nil
}

func (postgresDialect) isUnique(err error) bool {
	var s sqlStater
	return errors.As(err, &s) && s.SQLState() == "23505"
}

func (postgresDialect) isRetryable(err error) bool {
	var s sqlStater
	if errors.As(err, &s) {
		switch s.SQLState() {
		case "40001", "40P01": // serialization failure, deadlock
			return true
		}
	}
	return false
}

func (postgresDialect) ensureRow(table, cols string, ncols int) string {
	return `INSERT INTO ` + table + ` (` + cols + `) VALUES (` + placeholders(ncols) + `) ON CONFLICT DO NOTHING`
}

func (postgresDialect) matchedRows() bool { return true }

func (postgresDialect) poolPrepare() bool { return false }

func (postgresDialect) lockOrg(context.Context, *Store, querier, string) (string, error) {
	return "", nil
}

func (postgresDialect) owned(context.Context, *Store, querier, string, string) error { return nil }

func (postgresDialect) tableOptions() string { return "" }

func (postgresDialect) nowMicros() string {
	return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)"
}
