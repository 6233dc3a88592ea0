package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Dialect names the SQL database behind the *sql.DB.
type Dialect string

// Supported dialects.
const (
	// SQLite, through any database/sql driver (modernc.org/sqlite is the
	// embedded default). Use a file database in WAL mode; writers are
	// serialised with BEGIN IMMEDIATE.
	SQLite Dialect = "sqlite"
	// Postgres: PostgreSQL 12 or later, through any database/sql driver
	// (github.com/jackc/pgx/v5/stdlib is the tested one).
	Postgres Dialect = "postgres"
	// MySQL: MySQL 8 or MariaDB 10.5 or later, through
	// github.com/go-sql-driver/mysql.
	MySQL Dialect = "mysql"
)

// dialect is everything that differs between the databases; each has its
// own file (sqlite.go, postgres.go, mysql.go), and nothing else in the
// package asks which database it talks to.
type dialect interface {
	// name is the public name.
	name() Dialect
	// rebind turns the package's ? placeholders into the database's.
	rebind(q string) string
	// writeTx runs fn in a read-write transaction, committing when fn
	// returns nil.
	writeTx(ctx context.Context, s *Store, fn func(q querier) error) error
	// viewOptions are the options of a read-only snapshot.
	viewOptions() *sql.TxOptions
	// lockRow is the suffix of a SELECT that locks the rows it reads for
	// the rest of a write transaction ("" where writeTx already excludes
	// every other writer).
	lockRow() string
	// ensureRow is a statement inserting one row of cols (each bound to a
	// ?) unless a row with the same key exists, which it then locks for
	// the transaction; key is the first column.
	ensureRow(table, cols string, ncols int) string
	// insertRows writes n rows of ncols columns into table.
	insertRows(ctx context.Context, t *tx, table, cols string, ncols, n int, row func(i int) []any) error
	// updateMembers writes whole members whose versions were checked.
	updateMembers(ctx context.Context, t *tx, ms []membership.Member) error
	// patchMembers writes patches, checking version and login.
	patchMembers(ctx context.Context, t *tx, ps []store.MemberPatch) error
	// flush writes a transaction's deferred writes (see preload.go) and
	// the org's row: the whole org, or only its last event Seq when org
	// is nil and seq moved.
	flush(ctx context.Context, t *tx, w *pending, org *membership.Org, seq int64) error
	// preloadUsers reports whether the statement that locks the org may
	// also find members by user ID (an OR of two indexes), not only by ID.
	preloadUsers() bool
	// edits reports whether EditMembers does without the org's lock
	// (edits.go), rather than run as UpdatePreloaded.
	edits() bool
	// migrationLock serialises Migrate across processes on conn; the
	// returned func releases it (committing on SQLite when ok).
	migrationLock(ctx context.Context, s *Store, conn *sql.Conn) (func(ok bool), error)
	// applyMigration runs one migration and records it.
	applyMigration(ctx context.Context, s *Store, conn *sql.Conn, m Migration) error
	// poolPrepare reports whether hot reads outside transactions gain by
	// statements prepared once on the pool: not on PostgreSQL, whose
	// driver caches its own, and where a named statement outliving its
	// transaction breaks behind a pooler in transaction mode.
	poolPrepare() bool
	// lockOrg runs before the org's row is read and locked at the start
	// of an Update: on a Galera cluster, where row locks stay on their
	// node, it writes the row, so that two Updates of one org on two
	// nodes conflict at certification and one runs again.
	// It returns a token that owned then checks.
	lockOrg(ctx context.Context, s *Store, q querier, orgID string) (string, error)
	// owned, at the end of an Update, checks that the transaction still
	// holds what lockOrg wrote (token): on a Galera node, a transaction the
	// cluster aborted may not be told, and would go on outside it; a
	// retryable error then. nil elsewhere.
	owned(ctx context.Context, s *Store, q querier, orgID, token string) error
	// nowMicros is an SQL expression of the database's clock, in
	// microseconds since the Unix epoch: leases shared by processes read
	// one clock.
	nowMicros() string
	// tableOptions ends a CREATE TABLE made outside the migration files:
	// on MySQL, the engine and character set, stated rather than taken
	// from the database's default (on a Galera cluster, a default that
	// differs between nodes makes their tables differ, and a node that
	// cannot apply a row leaves the cluster).
	tableOptions() string
	// matchedRows reports whether an UPDATE's RowsAffected counts the rows
	// its WHERE matched, even those it left unchanged (not so on MySQL,
	// which counts the rows changed).
	matchedRows() bool
	// isUnique reports a unique-constraint violation.
	isUnique(err error) bool
	// isRetryable reports errors after which the whole transaction may run
	// again: serialization failures, deadlocks, busy databases.
	isRetryable(err error) bool
}

// newDialect returns a fresh dialect value for one Store, or nil for an
// unknown name.
func newDialect(d Dialect) dialect {
	switch d {
	case SQLite:
		return &sqliteDialect{writer: make(chan struct{}, 1)}
	case Postgres:
		return postgresDialect{}
	case MySQL:
		return mysqlDialect{}
	}
	return nil
}

// questionMarks is the placeholder style of SQLite and MySQL.
type questionMarks struct{}

func (questionMarks) rebind(q string) string { return q }

// Driver errors are recognised by shape, never by importing a driver.
type sqlStater interface{ SQLState() string } // pgx (*pgconn.PgError)
type coder interface{ Code() int }            // modernc.org/sqlite (*sqlite.Error)

// readCommitted runs fn in a READ COMMITTED transaction: the write
// transaction of PostgreSQL and MySQL, whose writers lock the rows they
// change.
func readCommitted(ctx context.Context, s *Store, fn func(q querier) error) error {
	sqlTx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return ctxErr(ctx, fmt.Errorf("sqlstore: begin: %w", err))
	}
	if err := fn(sqlTx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return commitErr(ctx, err)
	}
	return nil
}

// recordMigration writes a migration's bookkeeping row.
func recordMigration(ctx context.Context, s *Store, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, m Migration, now int64) error {
	_, err := q.ExecContext(ctx, s.d.rebind(`INSERT INTO memberkit_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`), m.Version, m.Name, now)
	return err
}

// execMigration runs a migration's statements on q, naming the one that
// fails.
func execMigration(ctx context.Context, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, m Migration, hint string) error {
	for i, st := range statements(m.SQL) {
		if _, err := q.ExecContext(ctx, st); err != nil {
			return ctxErr(ctx, fmt.Errorf("sqlstore: migration %s, statement %d: %w%s", m.Name, i+1, err, hint))
		}
	}
	return nil
}

// duplicate turns a unique violation into a *membership.DuplicateError
// that names the key and still unwraps to the driver's error. The key is
// read from the constraint or column the database names; defKey is used
// when it names none (MariaDB's "for key 'PRIMARY'").
func duplicate(err error, defKey, value string) error {
	msg := err.Error()
	key := defKey
	switch {
	case strings.Contains(msg, "_login_uq") || strings.Contains(msg, ".login_key"):
		key = "login"
	case strings.Contains(msg, "_email_uq") || strings.Contains(msg, ".email_key"):
		key = "email"
	case strings.Contains(msg, "_token_uq") || strings.Contains(msg, ".token_hash"):
		key = "token"
	case strings.Contains(msg, "_user_uq") || strings.Contains(msg, ".user_key"):
		key = "user_id"
	case strings.Contains(msg, "_verified_uq") || strings.Contains(msg, ".verified_name"):
		key = "domain"
	case strings.Contains(msg, "_groups_name_uq") || strings.Contains(msg, ".name_key"):
		key = "group"
	}
	if key != "login" && key != "email" && key != "user_id" && key != "domain" && key != "group" {
		value = ""
	}
	return fmt.Errorf("%w (%w)", &membership.DuplicateError{Key: key, Value: value}, err)
}

var mysqlErrRe = regexp.MustCompile(`^Error (\d+)`)

func mysqlCode(err error) int {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if m := mysqlErrRe.FindStringSubmatch(e.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
	}
	return 0
}
