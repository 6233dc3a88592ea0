package sqlstore

import (
	"context"
	"database/sql"
	"embed"
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
	if newDialect(d) == nil {
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
	fsys, err := Migrations(s.d.name())
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
func (s *Store) Migrate(ctx context.Context) error { return s.migrate(ctx, 0) }

// MigrateTo applies the migrations up to version v only, as Migrate does
// for all of them: for a release rolled out in stages, or a test that
// needs a database as an older release left it.
func (s *Store) MigrateTo(ctx context.Context, v int) error {
	if v <= 0 {
		return fmt.Errorf("sqlstore: migrate to version %d: versions start at 1", v)
	}
	return s.migrate(ctx, v)
}

// migrate applies the migrations up to version upTo (0: all).
func (s *Store) migrate(ctx context.Context, upTo int) (err error) {
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	if upTo > 0 {
		ms = slices.DeleteFunc(ms, func(m Migration) bool { return m.Version > upTo })
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

	unlock, err := s.d.migrationLock(ctx, s, conn)
	if err != nil {
		return err
	}
	defer func() { unlock(err == nil) }()

	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS memberkit_schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at BIGINT NOT NULL)`+s.d.tableOptions()); err != nil {
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
		if err := s.d.applyMigration(ctx, s, conn, m); err != nil {
			return err
		}
		s.log.InfoContext(ctx, "memberkit: migration applied", "version", m.Version, "name", m.Name)
	}
	return nil
}
