package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// Statements per single operation on PostgreSQL, counted by a
// database/sql driver wrapper: every BEGIN, statement, COMMIT and
// ROLLBACK the store sends, so that a change that adds a round trip
// fails here (see statementBounds).
func TestStatementsPerOperation(t *testing.T) {
	_, dsn := testdb.PostgresDB(t)
	connector, err := stdlib.GetDefaultDriver().(driver.DriverContext).OpenConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	var log statementLog
	db := sql.OpenDB(countingConnector{connector, &n, &log, nil})
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	r, orgID, actor, id := orgWithTarget(t, migrated(t, db, sqlstore.Postgres))
	org := membership.Org{ID: orgID}
	name := "Renamed"
	ops := []struct {
		name string
		run  func() error
	}{
		{"Deactivate", func() error { _, err := r.Deactivate(ctx, actor, org.ID, id); return err }},
		{"Activate", func() error { _, err := r.Activate(ctx, actor, org.ID, id); return err }},
		{"ChangeRole", func() error { _, err := r.ChangeRole(ctx, actor, org.ID, id, membership.RoleAdmin); return err }},
		{"Demote", func() error { _, err := r.ChangeRole(ctx, actor, org.ID, id, membership.RoleUser); return err }},
		{"Edit", func() error { _, err := r.Edit(ctx, actor, org.ID, id, roster.Patch{FirstName: &name}); return err }},
		{"Add", func() error {
			_, err := r.Add(ctx, actor, org.ID, roster.NewMember{FirstName: "New", LastName: "Member", NoPassword: true})
			return err
		}},
		{"AddWithPassword", func() error {
			_, err := r.Add(ctx, actor, org.ID, roster.NewMember{FirstName: "Other", LastName: "Member", Password: "correct horse battery staple"})
			return err
		}},
	}
	for _, op := range ops {
		before := n.Load()
		log.reset()
		if err := op.run(); err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		got := n.Load() - before
		t.Logf("%s: %d statements, BEGIN and COMMIT included", op.name, got)
		if bound := statementBounds[op.name]; got > bound {
			t.Errorf("%s takes %d statements, more than the bound of %d:\n%s", op.name, got, bound, log.String())
		}
		if op.name == "Edit" && log.locks != 0 {
			t.Errorf("an edit of names locks rows with FOR UPDATE:\n%s", log.String())
		}
	}
}

// migrated returns a migrated store on db.
func migrated(t *testing.T, db *sql.DB, d sqlstore.Dialect) *sqlstore.Store {
	t.Helper()
	st, err := sqlstore.New(db, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// orgWithTarget makes, through the roster service on st, an org with an
// admin (the actor) and a user (the target, id).
func orgWithTarget(t *testing.T, st store.Store) (r *roster.Service, orgID string, actor membership.Actor, id string) {
	t.Helper()
	ctx := context.Background()
	r, err := roster.New(st, &roster.Options{Hasher: membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 16})})
	if err != nil {
		t.Fatal(err)
	}
	sys := membership.SystemActor("test")
	org, err := r.CreateOrg(ctx, roster.NewOrg{Name: "Count", Plan: membership.PremiumPlan(100)})
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
	return r, org.ID, membership.ActorMember(admin.Member.ID), target.Member.ID
}

// statementBounds: Deactivate, ChangeRole (either way) and Edit take
// BEGIN, the statement that locks the org and reads the actor and the
// target, the one that writes the member, its event and the org, and
// COMMIT. Activate also counts the open invitations (they hold seats).
// Add reads the org and the actor, looks for the login, counts the open
// invitations and inserts the member before that write; with a password
// to hash, it first checks the actor in one read outside the transaction.
// Before issue 16 they took 11, 13, 11, 11 and 16. An edit of names takes
// no FOR UPDATE: it reads without the org's lock (store.MemberEditor).
var statementBounds = map[string]int64{"Deactivate": 4, "Activate": 5, "ChangeRole": 4, "Demote": 4, "Edit": 4, "Add": 7, "AddWithPassword": 8}

// statementLog keeps the start of each statement sent, to show which
// ones an operation made when it makes too many.
type statementLog struct {
	mu    sync.Mutex
	qs    []string
	locks int // statements with FOR UPDATE
}

func (l *statementLog) add(q string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if strings.Contains(q, "FOR UPDATE") {
		l.locks++
	}
	if len(q) > 100 {
		q = q[:100] + "…"
	}
	l.qs = append(l.qs, q)
}

func (l *statementLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.qs, l.locks = nil, 0
}

func (l *statementLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return "\t" + strings.Join(l.qs, "\n\t")
}

// countingConnector counts what a connection sends, and the statements
// it prepares when prepares is set.
type countingConnector struct {
	driver.Connector
	n        *atomic.Int64
	log      *statementLog
	prepares *atomic.Int64
}

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{conn, c.n, c.log, c.prepares}, nil
}

type countingConn struct {
	driver.Conn
	n        *atomic.Int64
	log      *statementLog
	prepares *atomic.Int64
}

func (c *countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.n.Add(1)
	c.log.add(q)
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (c *countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.n.Add(1)
	c.log.add(q)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (c *countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	if c.prepares != nil {
		c.prepares.Add(1)
		c.log.add("PREPARE " + q)
	}
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.n.Add(1)
	c.log.add("BEGIN")
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return countingTx{tx, c.n, c.log}, nil
}

func (c *countingConn) CheckNamedValue(v *driver.NamedValue) error {
	if nc, ok := c.Conn.(driver.NamedValueChecker); ok {
		return nc.CheckNamedValue(v)
	}
	return driver.ErrSkip
}

func (c *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *countingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

type countingTx struct {
	driver.Tx
	n   *atomic.Int64
	log *statementLog
}

func (t countingTx) Commit() error   { t.n.Add(1); t.log.add("COMMIT"); return t.Tx.Commit() }
func (t countingTx) Rollback() error { t.n.Add(1); t.log.add("ROLLBACK"); return t.Tx.Rollback() }
