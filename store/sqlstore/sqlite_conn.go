package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// SQLite parses every statement it is sent unprepared, and memberkit's
// statements are long (every column of a member, an org joined to its
// members): parsing was a quarter of the CPU of a single Deactivate. So
// the process's writer keeps its connection between transactions, with
// the statements it has prepared on it, while writes keep coming; a
// connection idle for heldIdle goes back to the pool, and its statements
// with it. A pool of one connection (an in-memory database) lends it for
// each transaction instead, since a held one would leave none to read.
const (
	heldIdle  = 2 * time.Second
	heldStmts = 96 // statements kept per connection; more run unprepared
)

// heldConn is the writer's connection and what it prepared on it. The
// writer token (sqliteDialect.writer) guards it.
type heldConn struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
	bad   bool // an error that may have broken it: close it after the transaction
}

// held is the state of the kept connection.
type held struct {
	mu    sync.Mutex // guards last and timer against the idle release
	c     *heldConn  // guarded by the writer token
	last  time.Time
	timer *time.Timer
}

// writerConn returns the connection for the next write transaction and a
// func that gives it back, keeping it when it may be kept. The caller
// holds the writer token.
func (d *sqliteDialect) writerConn(ctx context.Context, s *Store) (*heldConn, func(), error) {
	if s.db.Stats().MaxOpenConnections == 1 {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return nil, nil, err
		}
		return &heldConn{conn: conn}, func() { _ = conn.Close() }, nil
	}
	h := &d.held
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

func (c *heldConn) close() {
	for _, st := range c.stmts {
		_ = st.Close()
	}
	c.stmts = nil
	_ = c.conn.Close()
}

// stmt returns the statement for query prepared on the connection, or nil
// when it keeps no more (the caller then sends query unprepared).
func (c *heldConn) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	if c.stmts == nil || len(c.stmts) >= heldStmts {
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
