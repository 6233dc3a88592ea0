package pgxcopy_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"

	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
	"github.com/memberkit/memberkit/store/sqlstore/pgxcopy"
	"github.com/memberkit/memberkit/store/storetest"
)

const dsnEnv = "MEMBERKIT_POSTGRES_DSN"

// postgres opens a pool on a new schema of the server of
// MEMBERKIT_POSTGRES_DSN, dropped at cleanup, and skips tb when the
// variable is unset.
func postgres(tb testing.TB) *sql.DB {
	tb.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		tb.Skipf("PostgreSQL tests skipped: set %s (for example postgres://postgres@127.0.0.1:5432/test?sslmode=disable); .ci/run sets it", dsnEnv)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "mk_copy_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		tb.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(20)
	tb.Cleanup(func() {
		db.Close()
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	return db
}

// newStore returns a migrated store on a new schema.
func newStore(tb testing.TB, opts *sqlstore.Options) *sqlstore.Store {
	tb.Helper()
	s, err := sqlstore.New(postgres(tb), sqlstore.Postgres, opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return s
}

// counting counts the batches a Copier wrote.
type counting struct {
	sqlstore.Copier
	batches, rows atomic.Int64
}

func (c *counting) CopyFrom(ctx context.Context, dc any, table string, columns []string, n int, row func(int) []any) (int64, error) {
	got, err := c.Copier.CopyFrom(ctx, dc, table, columns, n, row)
	if err == nil {
		c.batches.Add(1)
		c.rows.Add(got)
	}
	return got, err
}

// The store contract with every batch written by COPY (a threshold of
// one row): inserts, updates and patches, with their errors
// (duplicates, conflicts, members not found) as on the unnest path.
func TestContract(t *testing.T) {
	c := &counting{Copier: pgxcopy.New()}
	storetest.Run(t, func(t *testing.T) store.Store {
		return newStore(t, &sqlstore.Options{Copier: c, CopyThreshold: 1})
	})
	if c.batches.Load() == 0 {
		t.Fatal("the contract ran without a batch by COPY")
	}
	t.Logf("%d batches, %d rows by COPY", c.batches.Load(), c.rows.Load())
}

// unsupported is a Copier that cannot use any connection.
type unsupported struct{ calls atomic.Int64 }

func (u *unsupported) CopyFrom(context.Context, any, string, []string, int, func(int) []any) (int64, error) {
	u.calls.Add(1)
	return 0, errors.ErrUnsupported
}

// A Copier that cannot use the connection leaves the store on its
// unnest path: the contract holds.
func TestContractUnsupported(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole contract once more")
	}
	u := &unsupported{}
	storetest.Run(t, func(t *testing.T) store.Store {
		return newStore(t, &sqlstore.Options{Copier: u, CopyThreshold: 1})
	})
	if u.calls.Load() == 0 {
		t.Fatal("the Copier was never asked")
	}
}

// Another driver's connection is refused before anything is written.
func TestOtherConnection(t *testing.T) {
	_, err := pgxcopy.New().CopyFrom(context.Background(), struct{}{}, "t", []string{"a"}, 1, func(int) []any { return []any{"x"} })
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("got %v, want errors.ErrUnsupported", err)
	}
}
