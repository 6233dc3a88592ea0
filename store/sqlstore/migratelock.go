package sqlstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// The migration lock of PostgreSQL and MySQL is a row, not a session
// lock (pg_advisory_lock, GET_LOCK): a connection pooler in transaction
// mode (PgBouncer) hands each transaction to any server connection, so a
// session lock would be taken on one and released on another; and a
// multi-primary cluster (Galera) has no GET_LOCK. The row holds a lease:
// its owner and the time it ends, written by a conditional UPDATE that
// commits at once, which a Galera cluster certifies like any write, so
// one process in the whole cluster holds it. The holder renews it while it
// works; a holder that died frees it when the lease ends.
const (
	migrationLease   = 2 * time.Minute
	migrationWaitMax = 5 * time.Minute
)

// createLockTable makes the lock table and its one row exist. Processes
// doing so at once may collide on PostgreSQL's catalog (a CREATE TABLE IF
// NOT EXISTS racing another): errors are tried again, a few times.
func (s *Store) createLockTable(ctx context.Context, q querier) error {
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS memberkit_migration_lock (id INTEGER NOT NULL PRIMARY KEY, owner VARCHAR(64) NOT NULL, locked_until BIGINT NOT NULL)` + s.d.tableOptions(),
		s.d.ensureRow("memberkit_migration_lock", "id, owner, locked_until", 3),
	}
	for attempt := 0; ; attempt++ {
		var err error
		for i, st := range stmts {
			args := []any{}
			if i == 1 {
				args = []any{1, "", 0}
			}
			if _, err = q.ExecContext(ctx, s.d.rebind(st), args...); err != nil {
				break
			}
		}
		if err == nil {
			return nil
		}
		// Racing another process's CREATE TABLE IF NOT EXISTS, PostgreSQL
		// may answer 23505 or 42710 (its catalog's row or type already
		// there): whatever the error, the next try finds the table.
		if attempt >= 5 || ctx.Err() != nil {
			return ctxErr(ctx, fmt.Errorf("sqlstore: migrate: lock table: %w", err))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
	}
}

// leaseLock takes the migration lock row, waiting for another holder
// (at most migrationWaitMax), and renews it until the returned func
// releases it. Lease times are the database's clock (nowMicros), not the
// processes'. A renewal that finds the lease gone (it expired: the
// database stopped answering longer than the lease) makes the release
// report it, so that Migrate fails rather than claim it ran alone.
func (s *Store) leaseLock(ctx context.Context, q querier) (func(ok bool), error) {
	if err := s.createLockTable(ctx, q); err != nil {
		return nil, err
	}
	owner := rand.Text()[:16]
	now := s.d.nowMicros()
	lease := migrationLease.Microseconds()
	take := func(ctx context.Context) (bool, error) {
		res, err := q.ExecContext(ctx, s.d.rebind(`UPDATE memberkit_migration_lock SET owner = ?, locked_until = `+now+` + ? WHERE id = 1 AND (locked_until < `+now+` OR owner = ?)`),
			owner, lease, owner)
		if err != nil {
			if s.d.isRetryable(err) { // a certification conflict with another taker
				return false, nil
			}
			return false, ctxErr(ctx, fmt.Errorf("sqlstore: migrate: lock: %w", err))
		}
		n, err := res.RowsAffected()
		return n == 1, err
	}
	deadline := time.Now().Add(migrationWaitMax)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		ok, err := take(ctx)
		if err != nil {
			return nil, err
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			return nil, errors.New("sqlstore: migrate: timed out waiting for another process's migration")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
	// Renew the lease while the migrations run, on the pool (the
	// migration's own connection is busy with them), each renewal bounded.
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	var lost atomic.Bool
	go func() {
		defer close(done)
		t := time.NewTicker(migrationLease / 4)
		defer t.Stop()
		for {
			select {
			case <-rctx.Done():
				return
			case <-t.C:
				c, cancel := context.WithTimeout(rctx, migrationLease/4)
				res, err := s.db.ExecContext(c, s.d.rebind(`UPDATE memberkit_migration_lock SET locked_until = `+now+` + ? WHERE id = 1 AND owner = ?`), lease, owner)
				cancel()
				if err == nil {
					if n, _ := res.RowsAffected(); n == 0 && s.d.matchedRows() {
						lost.Store(true)
					}
				}
			}
		}
	}()
	return func(bool) {
		stop()
		<-done
		// Released through the pool, bounded: the migration's connection
		// may be gone with its context.
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = s.db.ExecContext(c, s.d.rebind(`UPDATE memberkit_migration_lock SET owner = '', locked_until = 0 WHERE id = 1 AND owner = ?`), owner)
		if lost.Load() {
			s.log.ErrorContext(ctx, "memberkit: the migration lock's lease was lost while migrating; another process may have migrated at the same time")
		}
	}, nil
}
