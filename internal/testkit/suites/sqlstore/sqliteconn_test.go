package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
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
	st, err := sqlstore.New(db, sqlstore.SQLite, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := roster.New(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	sys := membership.SystemActor("test")
	org, err := r.CreateOrg(ctx, roster.NewOrg{Name: "Held", Plan: membership.PremiumPlan(100)})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := r.Add(ctx, sys, org.ID, roster.NewMember{Login: "admin", FirstName: "A", LastName: "Admin", RoleID: membership.RoleAdmin, NoPassword: true})
	if err != nil {
		t.Fatal(err)
	}
	target, err := r.Add(ctx, sys, org.ID, roster.NewMember{Login: "target", FirstName: "T", LastName: "Target", NoPassword: true})
	if err != nil {
		t.Fatal(err)
	}
	actor, id := membership.ActorMember(admin.Member.ID), target.Member.ID
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
