package sqlstore

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/memberkit/memberkit/membership"
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

func (d Dialect) valid() bool { return d == SQLite || d == Postgres || d == MySQL }

// rebind turns ? placeholders into $1, $2… for PostgreSQL. Queries built
// by this package never contain a literal question mark.
func (d Dialect) rebind(q string) string {
	if d != Postgres || !strings.Contains(q, "?") {
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

// maxBatch is the rows per multi-row statement, within every driver's
// parameter limit (65,535 on PostgreSQL and MySQL).
func (d Dialect) maxBatch(cols int) int {
	n := 60000 / cols
	return min(n, 1000)
}

// Driver errors are recognised by shape, never by importing a driver.
type sqlStater interface{ SQLState() string } // pgx (*pgconn.PgError)
type coder interface{ Code() int }            // modernc.org/sqlite (*sqlite.Error)

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

// isUnique reports a unique-constraint violation.
func (d Dialect) isUnique(err error) bool {
	switch d {
	case Postgres:
		var s sqlStater
		return errors.As(err, &s) && s.SQLState() == "23505"
	case MySQL:
		return mysqlCode(err) == 1062
	default:
		var c coder
		if errors.As(err, &c) {
			code := c.Code()
			return code == 2067 || code == 1555 || (code&0xff == 19 && strings.Contains(err.Error(), "UNIQUE"))
		}
		return strings.Contains(err.Error(), "UNIQUE constraint failed")
	}
}

// isRetryable reports errors after which the whole transaction may be
// run again: serialization failures, deadlocks, busy databases.
func (d Dialect) isRetryable(err error) bool {
	switch d {
	case Postgres:
		var s sqlStater
		if errors.As(err, &s) {
			switch s.SQLState() {
			case "40001", "40P01":
				return true
			}
		}
	case MySQL:
		switch mysqlCode(err) {
		case 1213, 1205: // deadlock, lock wait timeout
			return true
		}
	default:
		var c coder
		if errors.As(err, &c) {
			code := c.Code() & 0xff
			return code == 5 || code == 6 // SQLITE_BUSY, SQLITE_LOCKED
		}
		msg := err.Error()
		return strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY")
	}
	return false
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
	}
	if key != "login" && key != "email" {
		value = ""
	}
	return fmt.Errorf("%w (%w)", &membership.DuplicateError{Key: key, Value: value}, err)
}
