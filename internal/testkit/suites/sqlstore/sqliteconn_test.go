package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"modernc.org/sqlite"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// dsnConnector opens modernc SQLite connections on one DSN.
type dsnConnector struct{ dsn string }

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) {
	return (&sqlite.Driver{}).Open(c.dsn)
}

func (c dsnConnector) Driver() driver.Driver { return &sqlite.Driver{} }

// sqliteOps opens a migrated SQLite store on db and returns the single
// operations of the latency benchmark on one member, each run once.
func sqliteOps(t *testing.T, db *sql.DB) []func() error {
	t.Helper()
	ctx := context.Background()
	st := migrated(t, db, sqlstore.SQLite)
	r, orgID, actor, id := orgWithTarget(t, st)
	org := membership.Org{ID: orgID}
	name := 0
	return []func() error{
		func() error { _, err := r.Deactivate(ctx, actor, org.ID, id); return err },
		func() error { _, err := r.Activate(ctx, actor, org.ID, id); return err },
		func() error { _, err := r.ChangeRole(ctx, actor, org.ID, id, membership.RoleAdmin); return err },
		func() error { _, err := r.ChangeRole(ctx, actor, org.ID, id, membership.RoleUser); return err },
		func() error {
			name++
			n := []string{"Renamed", "Again"}[name%2]
			_, err := r.Edit(ctx, actor, org.ID, id, roster.Patch{FirstName: &n})
			return err
		},
		func() error { _, err := r.List(ctx, actor, org.ID, roster.ListQuery{}); return err },
	}
}

// On SQLite the writer keeps its connection, and the statements it
// prepared there, from one transaction to the next: once each operation
// has run, running them again prepares nothing (SQLite parses every
// statement it is sent unprepared, and memberkit's are long). A
// connection no write used for a while goes back to the pool.
func TestSQLiteWriterKeepsItsStatements(t *testing.T) {
	var n, prepares atomic.Int64
	var log statementLog
	db := sql.OpenDB(countingConnector{dsnConnector{testdb.SQLiteDSN(filepath.Join(t.TempDir(), "held.db"))}, &n, &log, &prepares})
	t.Cleanup(func() { db.Close() })
	db.SetMaxIdleConns(1) // reads outside a transaction keep to one connection too
	ops := sqliteOps(t, db)
	for _, op := range ops { // every statement prepared once
		if err := op(); err != nil {
			t.Fatal(err)
		}
	}
	before := prepares.Load()
	log.reset()
	for range 10 {
		for _, op := range ops {
			if err := op(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := prepares.Load() - before; got != 0 {
		t.Errorf("60 operations after the first round prepared %d statements again:\n%s", got, log.String())
	}
	deadline := time.Now().Add(10 * time.Second)
	for db.Stats().InUse != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the writer still holds its connection 10 s after the last write (in use: %d)", db.Stats().InUse)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A pool of one connection (an in-memory SQLite database needs one) is
// not kept by the writer: reads and writes take turns on it.
func TestSQLitePoolOfOneConnection(t *testing.T) {
	db, err := sql.Open("sqlite", testdb.SQLiteDSN(filepath.Join(t.TempDir(), "one.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	ops := sqliteOps(t, db)
	done := make(chan error, 1)
	go func() {
		for range 3 {
			for _, op := range ops {
				if err := op(); err != nil {
					done <- err
					return
				}
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("reads and writes on a pool of one connection wait for each other")
	}
}

// sqliteStore opens a migrated SQLite store on a new file and an org in it.
func sqliteStore(t *testing.T, path string, maxOpen int) (*sql.DB, *sqlstore.Store, string) {
	t.Helper()
	db, err := sql.Open("sqlite", testdb.SQLiteDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(maxOpen)
	st, err := sqlstore.New(db, sqlstore.SQLite, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	org := membership.Org{ID: membership.NewID(), Name: "Kept", Plan: membership.PremiumPlan(10), CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := st.CreateOrg(ctx, org); err != nil && !errors.Is(err, store.ErrConflict) {
		t.Fatal(err)
	}
	return db, st, org.ID
}

func rename(ctx context.Context, st store.Store, orgID, name string) error {
	return st.Update(ctx, orgID, func(tx store.Tx) error {
		o, err := tx.Org(ctx)
		if err != nil {
			return err
		}
		o.Name = name
		return tx.PutOrg(ctx, o)
	})
}

// A write whose fn panics leaves no transaction open on the connection
// the writer keeps: the next write of the process, and a write of another
// process, go through.
func TestSQLiteWriterAfterPanic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "panic.db")
	_, st, orgID := sqliteStore(t, path, 0)
	ctx := context.Background()
	require.NoError(t, rename(ctx, st, orgID, "Before"))
	func() {
		defer func() { _ = recover() }()
		_ = st.Update(ctx, orgID, func(tx store.Tx) error {
			o, _ := tx.Org(ctx)
			o.Name = "Never"
			_ = tx.PutOrg(ctx, o)
			panic("fn panics")
		})
	}()
	require.NoError(t, rename(ctx, st, orgID, "After"), "the next write of the process")
	other, err := sqlstore.New(func() *sql.DB {
		db, err := sql.Open("sqlite", testdb.SQLiteDSN(path))
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		return db
	}(), sqlstore.SQLite, nil)
	require.NoError(t, err)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, rename(cctx, other, orgID, "Other"), "a write of another process")
	o, err := st.Org(ctx, orgID)
	require.NoError(t, err)
	assert.Equal(t, "Other", o.Name)
}

// Once the host closes its *sql.DB, writes fail: the connection the
// writer kept does not outlive it.
func TestSQLiteWriterAfterClose(t *testing.T) {
	db, st, orgID := sqliteStore(t, filepath.Join(t.TempDir(), "closed.db"), 0)
	ctx := context.Background()
	require.NoError(t, rename(ctx, st, orgID, "Open"))
	require.NoError(t, db.Close())
	assert.Error(t, rename(ctx, st, orgID, "Closed"))
	assert.Equal(t, 0, db.Stats().OpenConnections, "a connection outlived the DB")
}

// In a small pool the writer keeps no connection: a read that needs a
// second connection while writes keep coming gets one.
func TestSQLiteSmallPoolReadsWhileWriting(t *testing.T) {
	_, st, orgID := sqliteStore(t, filepath.Join(t.TempDir(), "small.db"), 2)
	ctx := context.Background()
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if err := rename(ctx, st, orgID, fmt.Sprintf("W%d", i)); err != nil {
				done <- err
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	time.Sleep(50 * time.Millisecond)
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := st.View(cctx, orgID, func(tx store.Tx) error {
		_, err := st.Org(cctx, orgID) // a second connection, inside the View
		return err
	})
	close(stop)
	require.NoError(t, <-done)
	require.NoError(t, err, "a read waited for a connection the writer kept")
}
