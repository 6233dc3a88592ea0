package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Copier writes rows with PostgreSQL's COPY protocol on the connection of
// a write transaction: an optional fast path for large batch writes, set
// in [Options.Copier], that a database/sql driver cannot offer (the
// package store/sqlstore/pgxcopy, a module of its own, implements it for
// pgx's stdlib driver, so that this package imports no driver).
//
// With a Copier on PostgreSQL, each write transaction runs on a
// connection the store holds (*sql.DB.Conn, then BeginTx, READ COMMITTED
// as without one), and a batch of at least [Options.CopyThreshold] rows
// is sent by CopyFrom on that connection, inside the transaction: new
// rows (members, their group and attribute rows, events) straight into
// their table, updates of members into a temporary table dropped at
// commit, from which one UPDATE … FROM writes them with the same version
// checks as the batch path without a Copier. Errors read the same on both
// paths: a unique violation is a *membership.DuplicateError, a member
// moved meanwhile store.ErrConflict.
type Copier interface {
	// CopyFrom writes n rows of columns into table (its name as the
	// store spells it, unqualified: resolved through the search_path,
	// where temporary tables come first) by COPY … FROM STDIN, and
	// returns how many rows it wrote. driverConn is the driver's
	// connection, as (*sql.Conn).Raw gives it, in an open transaction.
	// row(i) returns row i, 0 ≤ i < n, as a fresh slice the Copier may
	// keep or change; its values are of the types string, int64, int,
	// bool, sql.NullString and sql.NullInt64.
	//
	// A Copier that cannot use driverConn (another driver's, or one
	// wrapped) returns an error matching errors.ErrUnsupported before
	// writing anything: the store then writes the batch, and the rest of
	// the transaction, without it.
	CopyFrom(ctx context.Context, driverConn any, table string, columns []string, n int, row func(i int) []any) (int64, error)
}

// defaultCopyThreshold is the fewest rows a batch sends through the
// Copier when Options.CopyThreshold is not set. COPY's time over
// unnest's in two runs of pgxcopy's BenchmarkBatches (PostgreSQL 15, a
// shared 2-CPU machine): in batches of 100 rows, inserts 0.83–0.88,
// patches 1.08–1.18, updates 1.02–1.10; of 250, 0.72–0.81, 0.85–0.91,
// 0.86–0.89; of 1,000, 0.76–0.80, 0.93–1.04, 0.89–0.90.
const defaultCopyThreshold = 250

// copying is a Store's COPY settings.
type copying struct {
	c   Copier // nil: no COPY
	min int    // the fewest rows a batch sends by COPY
}

// newCopying returns the COPY settings of a store of dialect d: none but
// on PostgreSQL.
func newCopying(d Dialect, c Copier, threshold int) copying {
	if d != Postgres || c == nil {
		return copying{}
	}
	if threshold <= 0 {
		threshold = defaultCopyThreshold
	}
	return copying{c: c, min: threshold}
}

// connTx is the querier of a write transaction run with a Copier: the
// transaction, and the connection it runs on, which COPY is sent
// through.
type connTx struct {
	*sql.Tx
	conn *sql.Conn
	// temps are the temporary tables made in this transaction (dropped
	// at its commit), by name.
	temps map[string]bool
	// unsupported: the Copier cannot use this connection.
	unsupported bool
}

// copyTx runs fn in a READ COMMITTED transaction on a connection the store
// holds, committing when fn returns nil: readCommitted, with the
// connection at hand for COPY.
func copyTx(ctx context.Context, s *Store, fn func(q querier) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return ctxErr(ctx, fmt.Errorf("sqlstore: begin: %w", err))
	}
	defer conn.Close()
	sqlTx, err := conn.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return ctxErr(ctx, fmt.Errorf("sqlstore: begin: %w", err))
	}
	if err := fn(&connTx{Tx: sqlTx, conn: conn}); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return commitErr(ctx, err)
	}
	return nil
}

// copier returns the transaction's connection when a batch of n rows goes
// through COPY; nil when it does not.
func (t *tx) copier(n int) *connTx {
	if t.s.cp.c == nil || n < t.s.cp.min {
		return nil
	}
	ct, _ := t.raw.(*connTx)
	if ct == nil || ct.unsupported {
		return nil
	}
	return ct
}

// copyRows writes n rows into table by COPY on ct, after what the
// transaction deferred. ok is false, with nothing written, when the
// Copier cannot use the connection.
func (t *tx) copyRows(ctx context.Context, ct *connTx, table, cols string, n int, row func(i int) []any) (ok bool, err error) {
	if err := t.flush(ctx, false); err != nil {
		return true, err
	}
	columns := strings.Split(cols, ", ")
	var wrote int64
	err = ct.conn.Raw(func(dc any) error {
		var err error
		wrote, err = t.s.cp.c.CopyFrom(ctx, dc, table, columns, n, row)
		return err
	})
	if errors.Is(err, errors.ErrUnsupported) {
		ct.unsupported = true
		return false, nil
	}
	if err != nil {
		return true, err
	}
	if wrote != int64(n) {
		return true, fmt.Errorf("sqlstore: copy into %s wrote %d rows of %d", table, wrote, n)
	}
	return true, nil
}

// copyTemp writes n rows into the temporary table name (made at its first
// use in the transaction, dropped at commit; emptied at the next), its
// columns typed after the values of the first row. ok is false, with
// nothing written, when the Copier cannot use the connection.
func (t *tx) copyTemp(ctx context.Context, ct *connTx, name, cols string, n int, row func(i int) []any) (ok bool, err error) {
	if ct.temps[name] {
		if _, err := t.q.ExecContext(ctx, `TRUNCATE `+name); err != nil {
			return true, fmt.Errorf("truncate %s: %w", name, err)
		}
	} else {
		first := row(0)
		defs := strings.Split(cols, ", ")
		for i, v := range first {
			typ, err := pgType(v)
			if err != nil {
				return true, fmt.Errorf("%s: column %s: %w", name, defs[i], err)
			}
			defs[i] += " " + typ
		}
		if _, err := t.q.ExecContext(ctx, `CREATE TEMPORARY TABLE `+name+` (`+strings.Join(defs, ", ")+`) ON COMMIT DROP`); err != nil {
			return true, fmt.Errorf("create %s: %w", name, err)
		}
		if ct.temps == nil {
			ct.temps = make(map[string]bool)
		}
		ct.temps[name] = true
	}
	return t.copyRows(ctx, ct, name, cols, n, row)
}
