package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// mysqlDialect: MySQL 8 and MariaDB 10.5+. Writers lock rows in READ
// COMMITTED transactions; batches are multi-row INSERTs within the
// 65,535-parameter limit; DDL is not transactional.
type mysqlDialect struct{ questionMarks }

func (mysqlDialect) name() Dialect { return MySQL }

func (mysqlDialect) writeTx(ctx context.Context, s *Store, fn func(q querier) error) error {
	if s.galera(ctx) {
		return galeraTx(ctx, s, fn)
	}
	return readCommitted(ctx, s, fn)
}

// galeraTx runs fn in a READ COMMITTED transaction on one connection with
// autocommit off: should the node abort the transaction without telling
// (see owned), the statements that follow are not committed one by one
// but gathered in a transaction that the failed check rolls back. The
// connection is given back with autocommit on, or closed.
func galeraTx(ctx context.Context, s *Store, fn func(q querier) error) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return ctxErr(ctx, fmt.Errorf("sqlstore: connection: %w", err))
	}
	defer conn.Close()
	bg := context.WithoutCancel(ctx)
	defer func() {
		_, rerr := conn.ExecContext(bg, "ROLLBACK")
		if _, aerr := conn.ExecContext(bg, "SET autocommit = 1"); rerr != nil || aerr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // not back to the pool
		}
	}()
	for _, st := range []string{"SET autocommit = 0", "SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "START TRANSACTION"} {
		if _, err := conn.ExecContext(ctx, st); err != nil {
			return ctxErr(ctx, fmt.Errorf("sqlstore: begin: %w", err))
		}
	}
	if err := fn(conn); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return commitErr(ctx, err)
	}
	return nil
}

func (mysqlDialect) viewOptions() *sql.TxOptions {
	return &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
}

func (mysqlDialect) lockRow() string { return " FOR UPDATE" }

// mysqlBatch is the most rows per multi-row INSERT.
const mysqlBatch = 1000

func (mysqlDialect) insertRows(ctx context.Context, t *tx, table, cols string, ncols, n int, row func(i int) []any) error {
	one := "(" + placeholders(ncols) + ")"
	per := min(60000/ncols, mysqlBatch) // within the 65,535 parameters of a statement
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		args := make([]any, 0, (end-start)*ncols)
		for i := start; i < end; i++ {
			args = append(args, row(i)...)
		}
		q := "INSERT INTO " + table + " (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", end-start), ", ")
		var err error
		if end-start == per { // full batches reuse one prepared statement
			var st *sql.Stmt
			if st, err = t.stmt(ctx, q); err == nil {
				_, err = st.ExecContext(ctx, args...)
			}
		} else {
			_, err = t.q.ExecContext(ctx, q, args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (mysqlDialect) updateMembers(ctx context.Context, t *tx, ms []membership.Member) error {
	return updateMembersMySQL(ctx, t, ms)
}

func (mysqlDialect) flush(ctx context.Context, t *tx, w *pending, org *membership.Org, seq int64) error {
	return flushEach(ctx, t, w, org, seq)
}

// preloadUsers: an OR of the primary key and the user index may make
// InnoDB lock more rows than it reads.
func (mysqlDialect) preloadUsers() bool { return false }

// edits: EditMembers is UpdatePreloaded (the write path of edits.go is
// PostgreSQL's).
func (mysqlDialect) edits() bool { return false }

func (mysqlDialect) patchMembers(ctx context.Context, t *tx, ps []store.MemberPatch) error {
	return patchMembersMySQL(ctx, t, ps)
}

// migrationLock takes the lock row (see migratelock.go): Galera has no
// GET_LOCK, and a pooler may not keep a session.
func (mysqlDialect) migrationLock(ctx context.Context, s *Store, conn *sql.Conn) (func(ok bool), error) {
	return s.leaseLock(ctx, conn)
}

// applyMigration runs the statements one by one: MySQL commits DDL at
// once, so a later Migrate runs again the migration a failure cut short.
// A statement that finds its column, index or table already there (error
// 1060, 1061 or 1050: applied by the run that was cut short) is taken as
// applied; the others are written to be run twice.
func (mysqlDialect) applyMigration(ctx context.Context, s *Store, conn *sql.Conn, m Migration) error {
	for i, st := range statements(m.SQL) {
		if _, err := conn.ExecContext(ctx, st); err != nil {
			switch mysqlCode(err) {
			case 1060, 1061, 1050: // duplicate column, duplicate key name, table exists
				continue
			}
			return ctxErr(ctx, fmt.Errorf("sqlstore: migration %s, statement %d: %w (statements before it are applied; fix the cause and run Migrate again)", m.Name, i+1, err))
		}
	}
	if err := recordMigration(ctx, s, conn, m, time.Now().UnixMicro()); err != nil {
		return ctxErr(ctx, fmt.Errorf("sqlstore: migration %s: record: %w", m.Name, err))
	}
	return nil
}

func (mysqlDialect) isUnique(err error) bool { return mysqlCode(err) == 1062 }

func (mysqlDialect) isRetryable(err error) bool {
	if errors.Is(err, errClusterAbort) {
		return true
	}
	switch mysqlCode(err) {
	case 1213, 1205: // deadlock, lock wait timeout
		return true
	}
	return false
}

// ensureRow takes an exclusive lock at once: INSERT IGNORE would take a
// shared one on an existing row, and two transactions upgrading theirs
// deadlock.
func (mysqlDialect) ensureRow(table, cols string, ncols int) string {
	first, _, _ := strings.Cut(cols, ",")
	return `INSERT INTO ` + table + ` (` + cols + `) VALUES (` + placeholders(ncols) + `) ON DUPLICATE KEY UPDATE ` + first + ` = ` + first
}

func (mysqlDialect) matchedRows() bool { return false }

func (mysqlDialect) poolPrepare() bool { return true }

// lockOrg, on a Galera cluster, writes the org's row (see dialect): a
// tick and a token of this transaction, which owned checks at the end.
func (mysqlDialect) lockOrg(ctx context.Context, s *Store, q querier, orgID string) (string, error) {
	if s.cluster.Load() != 2 { // as writeTx found it: no second connection asked for
		return "", nil
	}
	token := rand.Text()[:16]
	if _, err := q.ExecContext(ctx, `UPDATE memberkit_orgs SET lock_ticks = lock_ticks + 1, lock_token = ? WHERE id = ?`, token, orgID); err != nil {
		return "", ctxErr(ctx, fmt.Errorf("sqlstore: lock org: %w", err))
	}
	return token, nil
}

// owned reads the org's lock token back: a Galera node may abort a local
// transaction (its applier needing a lock it holds) without telling the
// client, whose next statements then run outside it. writeTx runs the
// Update with autocommit off, so those statements are in a transaction of
// their own, which this error rolls back; the Update runs again.
func (mysqlDialect) owned(ctx context.Context, s *Store, q querier, orgID, token string) error {
	if token == "" {
		return nil
	}
	var got string
	if err := q.QueryRowContext(ctx, `SELECT lock_token FROM memberkit_orgs WHERE id = ?`, orgID).Scan(&got); err != nil {
		return ctxErr(ctx, fmt.Errorf("sqlstore: lock org: %w", err))
	}
	if got != token {
		return errClusterAbort
	}
	return nil
}

// errClusterAbort is a transaction a Galera node aborted without saying:
// retryable.
var errClusterAbort = errors.New("sqlstore: the cluster aborted the transaction (a conflicting write on another node); running it again")

func (mysqlDialect) tableOptions() string {
	return " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
}

func (mysqlDialect) nowMicros() string { return "CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED)" }
