// Package sqlstore is the database/sql [store.Store]: one adapter for
// SQLite, PostgreSQL and MySQL/MariaDB. The host opens the *sql.DB with the
// driver of its choice and names the [Dialect]; this package imports no
// driver.
//
//	db, err := sql.Open("sqlite", "file:members.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
//	s, err := sqlstore.New(db, sqlstore.SQLite, nil)
//	err = s.Migrate(ctx)
//
// # Transactions and locking
//
// [Store.Update] serialises the writers of one org across processes: on
// PostgreSQL and MySQL it locks the org's row (SELECT … FOR UPDATE) in a
// READ COMMITTED transaction; on SQLite, which has one writer per database,
// it opens an IMMEDIATE transaction. Serialization failures, deadlocks and
// busy databases are retried with backoff a bounded number of times
// ([Options.MaxRetries]). [Store.View] reads a snapshot (REPEATABLE READ on
// PostgreSQL and MySQL; a deferred transaction in WAL mode on SQLite).
//
// A single operation costs few round trips: [Store.UpdatePreloaded]
// ([store.Preloader]) reads the org and the members the operation names
// (the actor, the member acted on) in the statement that locks them; the
// transaction answers later reads of them from what it read, and defers
// the writes that can fail only by a bug (events, the org's row, member
// rows whose unique keys do not change) to one statement before COMMIT
// (data-modifying CTEs on PostgreSQL), sending them first whenever it
// sends another statement. Deactivate, ChangeRole and Edit thus take
// BEGIN, one read, one write and COMMIT.
//
// [Store.EditMembers] ([store.MemberEditor]) runs, on PostgreSQL, a change
// that can break no rule (names, attributes) without the org's lock while
// it reads and checks: its one write statement takes the org's row first,
// to number its events, and writes nothing if a member it read changed
// meanwhile, in which case it runs again (then asks for the lock, with
// [store.ErrNeedsLock]). On SQLite and MySQL it is UpdatePreloaded.
//
// Within one process, the Updates of one org wait their turn in Go before
// they wait for the org's row, so fn must not run another Update: two
// nested Updates that cross would wait for each other until their
// contexts end.
//
// # Schema
//
// [Store.Migrate] applies the embedded, versioned migrations, one
// transaction per version with its bookkeeping row, under a lock
// (pg_advisory_lock, GET_LOCK, BEGIN IMMEDIATE) so that several
// processes may run it at once. Teams that run their own migration tool
// read the same files from [Migrations]. Tables are prefixed memberkit_;
// times are stored as microseconds since the Unix epoch (UTC).
//
// # SQLite
//
// Use a file database in WAL mode, with busy_timeout set before
// journal_mode in the DSN (switching to WAL takes a lock that other
// connections opening at the same moment must wait for); an in-memory SQLite
// database is private to one connection and needs db.SetMaxOpenConns(1).
// Writers wait for each other inside the process and retry BEGIN IMMEDIATE
// while another process writes, until the context ends. The writer keeps
// its connection, and the statements it prepared on it, from one
// transaction to the next while writes keep coming (SQLite parses every
// statement sent unprepared). The connection goes back to the pool after
// two seconds without a write, as soon as a reader had to wait for a
// connection, and when the *sql.DB is closed; from a pool of fewer than
// four connections it keeps none.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

var (
	_ store.Store     = (*Store)(nil)
	_ store.Preloader = (*Store)(nil)
)

// Options tune a Store. The zero value (or nil) is a good default.
type Options struct {
	// MaxRetries bounds how often Update runs again after a serialization
	// failure, a deadlock or a busy database. Default 8.
	MaxRetries int
	// Logger receives retries at debug level. Default: silent.
	Logger *slog.Logger
	// Copier, on PostgreSQL, writes large batches by COPY (see [Copier];
	// store/sqlstore/pgxcopy is one for pgx). Default: none.
	Copier Copier
	// CopyThreshold is the fewest rows of a batch the Copier writes.
	// Default 250.
	CopyThreshold int
}

// Store is a database/sql store. It is safe for concurrent use.
type Store struct {
	db         *sql.DB
	d          dialect
	maxRetries int
	log        *slog.Logger

	pmu      sync.Mutex
	prepared map[string]*sql.Stmt // the hot reads outside transactions, prepared once

	cluster atomic.Int32 // 0: not asked yet; 1: a single server; 2: a Galera node

	turns orgQueue // one Update per org at a time waits for its lock (orglock.go)

	cp copying // COPY of large batches (copier.go)
}

// galera reports whether the MySQL server is a node of a Galera cluster
// (wsrep_on), asking once.
func (s *Store) galera(ctx context.Context) bool {
	switch s.cluster.Load() {
	case 1:
		return false
	case 2:
		return true
	}
	var on sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT @@wsrep_on`).Scan(&on)
	switch {
	case err == nil && (on.String == "1" || strings.EqualFold(on.String, "ON")):
		s.cluster.Store(2)
		return true
	case err == nil || mysqlCode(err) == 1193: // 1193: unknown system variable (MySQL)
		s.cluster.Store(1)
		return false
	}
	return false // ask again at the next write
}

// queryRow runs a hot read outside any transaction: through a statement
// prepared once on the pool where the dialect gains by it (see prepare),
// as a plain query otherwise.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	if !s.d.poolPrepare() {
		return s.db.QueryRowContext(ctx, s.d.rebind(query), args...), nil
	}
	st, err := s.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryRowContext(ctx, args...), nil
}

// prepare returns the statement for query (in ? form), prepared once on
// the pool: database/sql prepares it again on each connection that runs
// it. The few queries prepared this way live as long as the *sql.DB.
func (s *Store) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if st, ok := s.prepared[query]; ok {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, s.d.rebind(query))
	if err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("sqlstore: prepare: %w", err))
	}
	if s.prepared == nil {
		s.prepared = make(map[string]*sql.Stmt)
	}
	s.prepared[query] = st
	return st, nil
}

// New returns a store on db. Call [Store.Migrate] once before use (or apply
// the files of [Migrations] with your own tool).
func New(db *sql.DB, d Dialect, opts *Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: nil *sql.DB")
	}
	dl := newDialect(d)
	if dl == nil {
		return nil, fmt.Errorf("sqlstore: unknown dialect %q (want sqlite, postgres or mysql)", d)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 8
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Store{db: db, d: dl, maxRetries: o.MaxRetries, log: o.Logger, cp: newCopying(d, o.Copier, o.CopyThreshold)}, nil
}

// DB returns the database the store works on.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.d.name() }

// ctxErr prefers the context's error: a query interrupted by a canceled
// context surfaces as context.Canceled, not as a driver message.
func ctxErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	if missingTable(err) && !errors.Is(err, ErrNotMigrated) {
		return fmt.Errorf("%w (%w)", ErrNotMigrated, err)
	}
	if unavailable(err) && !errors.Is(err, store.ErrUnavailable) {
		return fmt.Errorf("%w (%w)", store.ErrUnavailable, err)
	}
	return err
}

// unavailable recognises, by shape, a database that did not answer: a
// connection lost or refused (database/sql's ErrBadConn, a network
// error, PostgreSQL's SQLSTATE class 08 and 57P01–57P03: the backend was
// terminated or the server is shutting down) or a statement cancelled by
// the server's statement timeout (57014).
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // the caller's own deadline: ctxErr says so
	}
	var ne net.Error
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) {
		return true
	}
	var st sqlStater
	if errors.As(err, &st) {
		code := st.SQLState()
		return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03" || code == "57014"
	}
	switch mysqlCode(err) {
	case 1047, 1053, 1927, 1969, 3024: // node not ready (Galera), shutdown, connection killed, statement timeouts
		return true
	}
	return strings.Contains(err.Error(), "invalid connection") // go-sql-driver's ErrInvalidConn
}

// commitErr reads an error of COMMIT: a connection lost then leaves the
// outcome unknown (the commit may have been applied), so it is not the
// "nothing changed" of store.ErrUnavailable.
func commitErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (sqlstore: commit, its outcome unknown: %v)", cerr, err)
	}
	return fmt.Errorf("sqlstore: commit, its outcome unknown: %w", err)
}

// ErrNotMigrated is returned when a memberkit table does not exist: the
// store was used before [Store.Migrate] (or the files of [Migrations])
// created its schema.
var ErrNotMigrated = membership.NewSentinel("not_migrated", 503, "sqlstore: the database has no memberkit tables: call Store.Migrate first")

// missingTable recognises "no such table" on each database, by shape:
// SQLite's message, PostgreSQL's SQLSTATE 42P01, MySQL's error 1146.
func missingTable(err error) bool {
	var st sqlStater
	if errors.As(err, &st) && st.SQLState() == "42P01" {
		return true
	}
	msg := err.Error()
	return mysqlCode(err) == 1146 || strings.Contains(msg, "no such table: memberkit_")
}

// CreateOrg stores a new org.
func (s *Store) CreateOrg(ctx context.Context, org membership.Org) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := membership.ValidateOrg(&org); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, s.d.rebind(`INSERT INTO memberkit_orgs (id, name, plan_name, member_limit, features, roster_version, active_members, active_admins, invite_verified_domains_only, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		org.ID, org.Name, org.Plan.Name, org.Plan.MemberLimit, joinFeatures(org.Features), org.RosterVersion, org.ActiveMembers, org.ActiveAdmins, org.InviteVerifiedDomainsOnly, micros(org.CreatedAt), micros(org.UpdatedAt))
	if err != nil {
		if s.d.isUnique(err) {
			return duplicate(err, "org", org.ID)
		}
		return ctxErr(ctx, fmt.Errorf("sqlstore: create org: %w", err))
	}
	return nil
}

// Org returns an org.
func (s *Store) Org(ctx context.Context, orgID string) (membership.Org, error) {
	if err := ctx.Err(); err != nil {
		return membership.Org{}, err
	}
	return readOrg(ctx, s.d, s.db, orgID, "")
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

func readOrg(ctx context.Context, d dialect, q querier, orgID, suffix string) (membership.Org, error) {
	o, _, err := readOrgSeq(ctx, d, q, orgID, suffix)
	return o, err
}

// readOrgSeq reads an org and the Seq of its last event.
func readOrgSeq(ctx context.Context, d dialect, q querier, orgID, suffix string) (membership.Org, int64, error) {
	var r orgRow
	err := q.QueryRowContext(ctx, d.rebind(`SELECT `+orgCols+` FROM memberkit_orgs o WHERE o.id = ?`+suffix), orgID).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return membership.Org{}, 0, fmt.Errorf("org %q: %w", orgID, store.ErrNotFound)
	}
	if err != nil {
		return membership.Org{}, 0, ctxErr(ctx, fmt.Errorf("sqlstore: read org: %w", err))
	}
	return r.org(orgID)
}

// orgCols are the columns an orgRow scans, of the org aliased o.
const orgCols = `o.id, o.name, o.plan_name, o.member_limit, o.features, o.roster_version, o.active_members, o.active_admins, o.invite_verified_domains_only, o.created_at, o.updated_at, o.event_seq`

// orgRow receives the columns of orgCols.
type orgRow struct {
	o                     membership.Org
	features              string
	created, updated, seq int64
}

func (r *orgRow) dest() []any {
	o := &r.o
	return []any{&o.ID, &o.Name, &o.Plan.Name, &o.Plan.MemberLimit, &r.features, &o.RosterVersion, &o.ActiveMembers, &o.ActiveAdmins, &o.InviteVerifiedDomainsOnly, &r.created, &r.updated, &r.seq}
}

// org returns the org scanned and the Seq of its last event; ErrNotFound
// when its ID is not orgID exactly.
func (r *orgRow) org(orgID string) (membership.Org, int64, error) {
	if r.o.ID != orgID {
		// A collation that ignores trailing spaces (MySQL's PAD SPACE)
		// matched another spelling: IDs compare exactly.
		return membership.Org{}, 0, fmt.Errorf("org %q: %w", orgID, store.ErrNotFound)
	}
	o := r.o
	o.Features = splitFeatures(r.features)
	o.CreatedAt, o.UpdatedAt = fromMicros(r.created), fromMicros(r.updated)
	return o, r.seq, nil
}

// Update runs fn in a transaction holding the org's lock; see the package
// documentation.
func (s *Store) Update(ctx context.Context, orgID string, fn func(tx store.Tx) error) error {
	return s.retry(ctx, "org", orgID, func() error { return s.update(ctx, orgID, store.Preload{}, fn) })
}

// UpdatePreloaded is Update with the members p names read in the
// statement that locks the org (see [store.Preloader]).
func (s *Store) UpdatePreloaded(ctx context.Context, orgID string, p store.Preload, fn func(tx store.Tx) error) error {
	return s.retry(ctx, "org", orgID, func() error { return s.update(ctx, orgID, p, fn) })
}

// retry runs write until it succeeds, fails for good, or has been retried
// MaxRetries times after serialization failures, deadlocks or a busy
// database, waiting a growing, jittered delay between runs.
func (s *Store) retry(ctx context.Context, what, id string, write func() error) error {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := write()
		if err == nil || attempt >= s.maxRetries || ctx.Err() != nil || !s.d.isRetryable(err) {
			return err
		}
		wait := time.Duration(1<<min(attempt, 8))*2*time.Millisecond + rand.N(5*time.Millisecond)
		s.log.DebugContext(ctx, "memberkit: retrying transaction", what, id, "attempt", attempt+1, "wait", wait, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

func (s *Store) update(ctx context.Context, orgID string, p store.Preload, fn func(tx store.Tx) error) error {
	release, err := s.turns.wait(ctx, orgID)
	if err != nil {
		return err
	}
	defer release()
	return s.d.writeTx(ctx, s, func(q querier) error {
		t := newTx(s, q, orgID, false)
		defer t.close()
		token, err := s.d.lockOrg(ctx, s, q, orgID)
		if err != nil {
			return err
		}
		if err := t.lockAndPreload(ctx, p); err != nil {
			return err
		}
		err = fn(t)
		if err == nil {
			// What the transaction deferred (see preload.go), with the
			// org's last event Seq.
			err = t.flush(ctx, true)
		}
		if t.broken != nil {
			err = t.broken
		}
		if err != nil {
			// What fn met may come from a transaction the cluster already
			// aborted (see owned): run it again rather than return that.
			if lost := s.d.owned(ctx, s, q, orgID, token); lost != nil && s.d.isRetryable(lost) {
				return lost
			}
			return err
		}
		if err := s.d.owned(ctx, s, q, orgID, token); err != nil {
			return err
		}
		t.close()
		return ctx.Err()
	})
}

// View runs fn in a read-only snapshot of the org.
func (s *Store) View(ctx context.Context, orgID string, fn func(tx store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sqlTx, err := s.db.BeginTx(ctx, s.d.viewOptions())
	if err != nil {
		return ctxErr(ctx, fmt.Errorf("sqlstore: begin: %w", err))
	}
	defer func() { _ = sqlTx.Rollback() }()
	t := newTx(s, sqlTx, orgID, true)
	defer t.close()
	org, _, err := readOrgSeq(ctx, s.d, sqlTx, orgID, "")
	if err != nil {
		return err
	}
	t.org = &org
	return fn(t)
}

// InvitationByTokenHash finds an invitation of any org by its token hash.
func (s *Store) InvitationByTokenHash(ctx context.Context, tokenHash []byte) (membership.Invitation, error) {
	if err := ctx.Err(); err != nil {
		return membership.Invitation{}, err
	}
	if len(tokenHash) == 0 {
		return membership.Invitation{}, fmt.Errorf("invitation: %w", store.ErrNotFound)
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT `+invCols+` FROM memberkit_invitations WHERE token_hash = ?`), hexHash(tokenHash))
	if err != nil {
		return membership.Invitation{}, ctxErr(ctx, fmt.Errorf("sqlstore: invitation by token: %w", err))
	}
	invs, err := scanInvitations(rows)
	if err != nil {
		return membership.Invitation{}, ctxErr(ctx, err)
	}
	if len(invs) == 0 {
		return membership.Invitation{}, fmt.Errorf("invitation: %w", store.ErrNotFound)
	}
	return invs[0], nil
}

func joinFeatures(fs []membership.Feature) string {
	ss := make([]string, len(fs))
	for i, f := range fs {
		ss[i] = string(f)
	}
	return strings.Join(ss, ",")
}

func splitFeatures(s string) []membership.Feature {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	out := make([]membership.Feature, len(parts))
	for i, p := range parts {
		out[i] = membership.Feature(p)
	}
	return out
}
