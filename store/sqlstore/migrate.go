package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations returns the dialect's migration files: NNNN_name.sql, applied
// in order. Teams that run goose, golang-migrate or their own tool can read
// them from here instead of calling [Store.Migrate]; the bookkeeping table
// memberkit_schema_migrations is then theirs to skip.
func Migrations(d Dialect) (fs.FS, error) {
	if !d.valid() {
		return nil, fmt.Errorf("sqlstore: unknown dialect %q", d)
	}
	return fs.Sub(migrationFiles, path.Join("migrations", string(d)))
}

// Migration is one versioned schema step.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

func (s *Store) migrations() ([]Migration, error) {
	fsys, err := Migrations(s.d)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		v, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("sqlstore: migration %s: no version number", name)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(b)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	return out, nil
}

// statements splits a migration into statements: they end with a
// semicolon at the end of a line; comment lines are dropped.
func statements(src string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(src, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

// MigrationsApplied returns the versions recorded as applied.
func (s *Store) MigrationsApplied(ctx context.Context) ([]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version FROM memberkit_schema_migrations ORDER BY version`)
	if err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("sqlstore: read applied migrations: %w", err))
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Migrate applies the migrations not applied yet, each in its own
// transaction together with its row in memberkit_schema_migrations (on
// MySQL, whose DDL is not transactional, each statement is idempotent
// instead, so a failed run is finished by the next). It holds a lock while
// it works, so several processes may call it at once: one applies, the
// others wait and find nothing left to do.
func (s *Store) Migrate(ctx context.Context) (err error) {
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	// Opening a connection can meet a busy database (another process
	// switching a new SQLite file to WAL): wait and try again.
	var conn *sql.Conn
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		conn, err = s.db.Conn(ctx)
		if err == nil {
			break
		}
		if !s.d.isRetryable(err) || ctx.Err() != nil {
			return ctxErr(ctx, fmt.Errorf("sqlstore: migrate: %w", err))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	defer conn.Close()

	unlock, err := s.migrationLock(ctx, conn)
	if err != nil {
		return err
	}
	defer func() { unlock(err == nil) }()

	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS memberkit_schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return ctxErr(ctx, fmt.Errorf("sqlstore: migrate: create bookkeeping table: %w", err))
	}
	for _, m := range ms {
		var n int
		if err := conn.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM memberkit_schema_migrations WHERE version = ?`), m.Version).Scan(&n); err != nil {
			return ctxErr(ctx, fmt.Errorf("sqlstore: migrate: %w", err))
		}
		if n > 0 {
			continue
		}
		if err := s.apply(ctx, conn, m); err != nil {
			return err
		}
		s.log.InfoContext(ctx, "memberkit: migration applied", "version", m.Version, "name", m.Name)
	}
	return nil
}

func (s *Store) apply(ctx context.Context, conn *sql.Conn, m Migration) error {
	record := func(q interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}) error {
		_, err := q.ExecContext(ctx, s.d.rebind(`INSERT INTO memberkit_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`), m.Version, m.Name, time.Now().UnixMicro())
		return err
	}
	if s.d == MySQL {
		for i, st := range statements(m.SQL) {
			if _, err := conn.ExecContext(ctx, st); err != nil {
				return ctxErr(ctx, fmt.Errorf("sqlstore: migration %s, statement %d: %w (statements before it are applied; fix the cause and run Migrate again)", m.Name, i+1, err))
			}
		}
		if err := record(conn); err != nil {
			return ctxErr(ctx, fmt.Errorf("sqlstore: migration %s: record: %w", m.Name, err))
		}
		return nil
	}
	if s.d == SQLite {
		// The caller holds an IMMEDIATE transaction on conn.
		for i, st := range statements(m.SQL) {
			if _, err := conn.ExecContext(ctx, st); err != nil {
				return ctxErr(ctx, fmt.Errorf("sqlstore: migration %s, statement %d: %w", m.Name, i+1, err))
			}
		}
		if err := record(conn); err != nil {
			return ctxErr(ctx, fmt.Errorf("sqlstore: migration %s: record: %w", m.Name, err))
		}
		return nil
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return ctxErr(ctx, fmt.Errorf("sqlstore: migration %s: %w", m.Name, err))
	}
	for i, st := range statements(m.SQL) {
		if _, err := tx.ExecContext(ctx, st); err != nil {
			_ = tx.Rollback()
			return ctxErr(ctx, fmt.Errorf("sqlstore: migration %s, statement %d: %w (rolled back)", m.Name, i+1, err))
		}
	}
	if err := record(tx); err != nil {
		_ = tx.Rollback()
		return ctxErr(ctx, fmt.Errorf("sqlstore: migration %s: record: %w", m.Name, err))
	}
	if err := tx.Commit(); err != nil {
		return ctxErr(ctx, fmt.Errorf("sqlstore: migration %s: commit: %w", m.Name, err))
	}
	return nil
}

// migrationLock serialises Migrate across processes. The returned func
// releases the lock; on SQLite it commits when ok and rolls back otherwise.
func (s *Store) migrationLock(ctx context.Context, conn *sql.Conn) (func(ok bool), error) {
	bg := context.WithoutCancel(ctx)
	switch s.d {
	case Postgres:
		const key = 7_351_884_120 // arbitrary, memberkit's own
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
			return nil, ctxErr(ctx, fmt.Errorf("sqlstore: migrate: lock: %w", err))
		}
		return func(bool) { _, _ = conn.ExecContext(bg, `SELECT pg_advisory_unlock($1)`, key) }, nil
	case MySQL:
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK('memberkit_migrate', 300)`).Scan(&got); err != nil {
			return nil, ctxErr(ctx, fmt.Errorf("sqlstore: migrate: lock: %w", err))
		}
		if got.Int64 != 1 {
			return nil, errors.New("sqlstore: migrate: timed out waiting for another process's migration")
		}
		return func(bool) { _, _ = conn.ExecContext(bg, `SELECT RELEASE_LOCK('memberkit_migrate')`) }, nil
	default:
		for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
			_, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE")
			if err == nil {
				break
			}
			if !s.d.isRetryable(err) || ctx.Err() != nil {
				return nil, ctxErr(ctx, fmt.Errorf("sqlstore: migrate: begin immediate: %w", err))
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(wait):
			}
		}
		return func(ok bool) {
			if ok {
				if _, err := conn.ExecContext(bg, "COMMIT"); err == nil {
					return
				}
			}
			_, _ = conn.ExecContext(bg, "ROLLBACK")
		}, nil
	}
}
