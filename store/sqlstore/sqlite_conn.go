package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"
	"sync"
	"time"
)

// SQLite parses every statement it is sent unprepared, and memberkit's
// statements are long (every column of a member, an org joined to its
// members): parsing was a quarter of the CPU of a single Deactivate. So
// the process's writer keeps its connection between transactions, with
// the statements it has prepared on it, while writes keep coming. It gives
// the connection back to the pool after heldIdle without a write, as soon
// as a reader had to wait for a connection, and when the *sql.DB is
// closed. A pool of fewer than heldMinPool connections lends it for each
// transaction instead, since a kept one would leave too few to read.
const (
	heldIdle    = 2 * time.Second
	heldStmts   = 96 // statements kept per connection; more run unprepared
	heldArgs    = 32 // a statement with more placeholders (a long IN list) is not kept
	heldMinPool = 4
)

// heldConn is the writer's connection and what it prepared on it. The
// writer token (sqliteDialect.writer) guards it.
type heldConn struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
	bad   bool // an error that may have broken it: drop it after the transaction
}

// held is the state of the kept connection.
type held struct {
	mu    sync.Mutex // guards last and timer against the idle release
	c     *heldConn  // guarded by the writer token
	waits int64      // the pool's WaitCount when c was last given back
	last  time.Time
	timer *time.Timer
}

// closedCtx is a context already canceled: (*sql.DB).Conn with it fails
// at once, with "database is closed" when the DB is.
var closedCtx = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// writerConn returns the connection for the next write transaction and a
// func that gives it back, keeping it when it may be kept. The caller
// holds the writer token.
func (d *sqliteDialect) writerConn(ctx context.Context, s *Store) (*heldConn, func(), error) {
	h := &d.held
	stats := s.db.Stats()
	keep := stats.MaxOpenConnections == 0 || stats.MaxOpenConnections >= heldMinPool
	if h.c != nil {
		// A closed DB, a pool made smaller, or a reader that waited for a
		// connection since the last write: give the kept one back.
		if _, err := s.db.Conn(closedCtx); !errors.Is(err, context.Canceled) || !keep || stats.WaitCount > h.waits {
			h.c.close()
			h.c = nil
		}
	}
	if !keep {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return nil, nil, err
		}
		c := &heldConn{conn: conn}
		return c, func() { c.close() }, nil
	}
	if h.c == nil {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return nil, nil, err
		}
		h.c = &heldConn{conn: conn, stmts: make(map[string]*sql.Stmt)}
	}
	c := h.c
	return c, func() {
		if c.bad {
			c.close()
			h.c = nil
			return
		}
		h.waits = s.db.Stats().WaitCount
		h.mu.Lock()
		h.last = time.Now()
		if h.timer == nil {
			h.timer = time.AfterFunc(heldIdle, func() { d.releaseIdle() })
		} else {
			h.timer.Reset(heldIdle)
		}
		h.mu.Unlock()
	}, nil
}

// releaseIdle gives the kept connection back to the pool when no write
// used it for heldIdle; a write under way keeps it (and resets the timer).
func (d *sqliteDialect) releaseIdle() {
	select {
	case d.writer <- struct{}{}:
	default:
		return
	}
	defer func() { <-d.writer }()
	h := &d.held
	h.mu.Lock()
	idle := time.Since(h.last) >= heldIdle
	h.mu.Unlock()
	if idle && h.c != nil {
		h.c.close()
		h.c = nil
	}
}

// close closes the statements and gives the connection back to the pool,
// or has the pool discard it when bad.
func (c *heldConn) close() {
	for _, st := range c.stmts {
		_ = st.Close()
	}
	c.stmts = nil
	if c.bad {
		_ = c.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = c.conn.Close()
}

// stmt returns the statement for query prepared on the connection, or nil
// when it keeps no more (the caller then sends query unprepared).
func (c *heldConn) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	if c.stmts == nil || len(c.stmts) >= heldStmts || strings.Count(query, "?") > heldArgs {
		return nil, nil
	}
	st, err := c.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

// A heldConn is the querier of the transaction: statements with arguments
// run prepared.

func (c *heldConn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if len(args) > 0 {
		if st, err := c.stmt(ctx, query); err != nil {
			return nil, err
		} else if st != nil {
			return st.ExecContext(ctx, args...)
		}
	}
	return c.conn.ExecContext(ctx, query, args...)
}

func (c *heldConn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if len(args) > 0 {
		if st, err := c.stmt(ctx, query); err != nil {
			return nil, err
		} else if st != nil {
			return st.QueryContext(ctx, args...)
		}
	}
	return c.conn.QueryContext(ctx, query, args...)
}

func (c *heldConn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if len(args) > 0 {
		if st, err := c.stmt(ctx, query); err == nil && st != nil {
			return st.QueryRowContext(ctx, args...)
		}
		// Unprepared, the query meets the same error, which the Row carries.
	}
	return c.conn.QueryRowContext(ctx, query, args...)
}

// PrepareContext prepares query for a transaction that closes it after.
func (c *heldConn) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return c.conn.PrepareContext(ctx, query)
}
