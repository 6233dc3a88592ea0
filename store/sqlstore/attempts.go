package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

var (
	_ store.SessionReader = (*Store)(nil)
	_ store.AttemptPurger = (*Store)(nil)
)

// SessionState reads what a session check needs of a member: one row by
// primary key, outside any transaction.
func (s *Store) SessionState(ctx context.Context, orgID, memberID string) (membership.SessionState, error) {
	var st membership.SessionState
	var status string
	var gotOrg, gotID string
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT org_id, id, security_stamp, status, must_change_password FROM memberkit_members WHERE org_id = ? AND id = ?`), orgID, memberID).
		Scan(&gotOrg, &gotID, &st.SecurityStamp, &status, &st.MustChangePassword)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (gotOrg != orgID || gotID != memberID)) {
		return st, fmt.Errorf("member %q: %w", memberID, store.ErrNotFound)
	}
	if err != nil {
		return st, ctxErr(ctx, fmt.Errorf("sqlstore: session state: %w", err))
	}
	st.Status = membership.Status(status)
	return st, nil
}

func readAttempts(ctx context.Context, d dialect, q querier, key, suffix string) (membership.Attempts, error) {
	var a membership.Attempts
	var last, locked int64
	err := q.QueryRowContext(ctx, d.rebind(`SELECT failures, last_failure, locked_until FROM memberkit_attempts WHERE key_hash = ?`+suffix), key).
		Scan(&a.Failures, &last, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		return membership.Attempts{}, nil
	}
	if err != nil {
		return a, ctxErr(ctx, fmt.Errorf("sqlstore: read attempts: %w", err))
	}
	a.LastFailure, a.LockedUntil = fromMicros(last), fromMicros(locked)
	return a, nil
}

// Attempts returns the throttle record under key.
func (s *Store) Attempts(ctx context.Context, key string) (membership.Attempts, error) {
	if err := ctx.Err(); err != nil {
		return membership.Attempts{}, err
	}
	return readAttempts(ctx, s.d, s.db, key, "")
}

// UpdateAttempts runs fn on the throttle record under key, holding the
// record's row lock (the database's write lock on SQLite).
func (s *Store) UpdateAttempts(ctx context.Context, key string, fn func(a *membership.Attempts) error) error {
	return s.lockedRow(ctx, "attempts", key, s.d.ensureRow("memberkit_attempts", "key_hash, failures, last_failure, locked_until", 4), []any{key, 0, 0, 0}, func(q querier) error {
		a, err := readAttempts(ctx, s.d, q, key, s.d.lockRow())
		if err != nil {
			return err
		}
		if err := fn(&a); err != nil {
			return err
		}
		if a.IsZero() {
			_, err = q.ExecContext(ctx, s.d.rebind(`DELETE FROM memberkit_attempts WHERE key_hash = ?`), key)
		} else {
			_, err = q.ExecContext(ctx, s.d.rebind(`UPDATE memberkit_attempts SET failures = ?, last_failure = ?, locked_until = ? WHERE key_hash = ?`),
				a.Failures, micros(a.LastFailure), micros(a.LockedUntil), key)
		}
		if err != nil {
			return ctxErr(ctx, fmt.Errorf("sqlstore: attempts: %w", err))
		}
		return nil
	})
}

// lockedRow runs fn in a write transaction, retried as Update is, after
// ensure (a statement with args) has made the row fn works on exist, so
// that fn can read it under its lock whether or not it existed.
func (s *Store) lockedRow(ctx context.Context, what, key, ensure string, args []any, fn func(q querier) error) error {
	return s.retry(ctx, what, key, func() error {
		return s.d.writeTx(ctx, s, func(q querier) error {
			if _, err := q.ExecContext(ctx, s.d.rebind(ensure), args...); err != nil {
				return ctxErr(ctx, fmt.Errorf("sqlstore: %s: %w", what, err))
			}
			return fn(q)
		})
	})
}

// PurgeAttempts deletes the throttle records older than t.
func (s *Store) PurgeAttempts(ctx context.Context, t time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, s.d.rebind(`DELETE FROM memberkit_attempts WHERE last_failure < ? AND locked_until <= ?`), micros(t), micros(t))
	if err != nil {
		return 0, ctxErr(ctx, fmt.Errorf("sqlstore: purge attempts: %w", err))
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
