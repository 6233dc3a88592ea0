// Package pgxcopy is the [sqlstore.Copier] of pgx: memberkit's
// PostgreSQL store writes its large batches (a CSV reconcile's new and
// changed members, their events) with COPY through pgx's database/sql
// driver, github.com/jackc/pgx/v5/stdlib.
//
// It is a module of its own, so that an application importing memberkit
// downloads no driver; a host that opens its *sql.DB with pgx adds it:
//
//	import (
//		_ "github.com/jackc/pgx/v5/stdlib"
//		"github.com/memberkit/memberkit/store/sqlstore"
//		"github.com/memberkit/memberkit/store/sqlstore/pgxcopy"
//	)
//
//	db, err := sql.Open("pgx", dsn)
//	st, err := sqlstore.New(db, sqlstore.Postgres, &sqlstore.Options{Copier: pgxcopy.New()})
//
// COPY runs on the connection and inside the transaction of the store's
// write, so it works through PgBouncer in transaction mode as the rest of
// the store does. On another driver's connection (or a wrapped one) the
// Copier says so (errors.ErrUnsupported) and the store writes without it.
package pgxcopy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/memberkit/memberkit/store/sqlstore"
)

var _ sqlstore.Copier = (*Copier)(nil)

// Copier sends rows by COPY on pgx's stdlib connections. The zero value
// is ready to use, and it is safe for concurrent use.
type Copier struct{}

// New returns a Copier.
func New() *Copier { return &Copier{} }

// CopyFrom writes n rows of columns into table by COPY … FROM STDIN
// (binary) on driverConn, a *stdlib.Conn, and returns how many rows it
// wrote. On any other connection it returns an error matching
// errors.ErrUnsupported, having written nothing.
func (*Copier) CopyFrom(ctx context.Context, driverConn any, table string, columns []string, n int, row func(i int) []any) (int64, error) {
	c, ok := driverConn.(*stdlib.Conn)
	if !ok {
		return 0, fmt.Errorf("pgxcopy: the connection is a %T, not pgx's *stdlib.Conn: %w", driverConn, errors.ErrUnsupported)
	}
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		vs := row(i)
		i++
		for j, v := range vs {
			vs[j] = value(v)
		}
		return vs, nil
	})
	return c.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, src)
}

// value is v as pgx encodes it without reflection: the sql.Null types as
// their value or nil.
func value(v any) any {
	switch v := v.(type) {
	case sql.NullString:
		if !v.Valid {
			return nil
		}
		return v.String
	case sql.NullInt64:
		if !v.Valid {
			return nil
		}
		return v.Int64
	}
	return v
}
