// Package testdb gives tests a fresh store of every kind: memstore,
// SQLite in a temporary file, and PostgreSQL and MariaDB/MySQL when
// MEMBERKIT_POSTGRES_DSN and MEMBERKIT_MYSQL_DSN are set. It is the one
// place test code imports SQL drivers, so that every service test runs on
// every store through one matrix.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	_ "modernc.org/sqlite"             // SQLite driver "sqlite"

	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/memstore"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// Environment variables naming the test servers.
const (
	PostgresEnv = "MEMBERKIT_POSTGRES_DSN" // e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable
	MySQLEnv    = "MEMBERKIT_MYSQL_DSN"    // e.g. root@tcp(127.0.0.1:3306)/test
	// PgBouncerEnv names a PgBouncer in transaction mode in front of the
	// server of PostgresEnv, e.g.
	// postgres://postgres@127.0.0.1:6432/test?sslmode=disable&default_query_exec_mode=exec
	PgBouncerEnv = "MEMBERKIT_PGBOUNCER_DSN"
)

// Kind is one store implementation under test.
type Kind struct {
	Name string
	// New returns a fresh, empty store; it skips the test when the
	// server is not configured.
	New func(t testing.TB) store.Store
	// SQL is true for the database/sql stores.
	SQL bool
}

// Kinds lists every store kind. Kinds needing a server skip the test with
// a message naming the variable when it is unset.
func Kinds() []Kind {
	return []Kind{
		{Name: "memstore", New: func(t testing.TB) store.Store { return memstore.New() }},
		{Name: "sqlite", New: func(t testing.TB) store.Store { return SQLite(t) }, SQL: true},
		{Name: "postgres", New: func(t testing.TB) store.Store { return Postgres(t) }, SQL: true},
		{Name: "mysql", New: func(t testing.TB) store.Store { return MySQL(t) }, SQL: true},
		{Name: "pgbouncer", New: func(t testing.TB) store.Store { return PgBouncer(t) }, SQL: true},
		{Name: "galera", New: func(t testing.TB) store.Store { return Galera(t) }, SQL: true},
	}
}

// Each runs f once per store kind and variant ([Kinds], [Variants]), as
// subtests named after them.
func Each(t *testing.T, f func(t *testing.T, newStore func(t testing.TB) store.Store)) {
	for _, k := range append(Kinds(), Variants()...) {
		t.Run(k.Name, func(t *testing.T) { f(t, k.New) })
	}
}

func randomName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "mk_" + hex.EncodeToString(b)
}

func migrate(t testing.TB, db *sql.DB, d sqlstore.Dialect) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.New(db, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return s
}

// SQLiteDSN returns the DSN memberkit recommends for a SQLite file: WAL,
// a busy timeout, foreign keys on.
func SQLiteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
}

// SQLite returns a migrated store on a new SQLite file in t's temp dir.
func SQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	db, err := sql.Open("sqlite", SQLiteDSN(filepath.Join(t.TempDir(), "memberkit.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return migrate(t, db, sqlstore.SQLite)
}

// PostgresDB opens a new schema on the server of MEMBERKIT_POSTGRES_DSN and
// returns a pool whose search_path is that schema, and the schema's DSN
// for opening more pools ("processes"). The schema is dropped at cleanup.
func PostgresDB(t testing.TB) (*sql.DB, string) {
	t.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		t.Skipf("PostgreSQL tests skipped: set %s (for example postgres://postgres@127.0.0.1:5432/test?sslmode=disable); .ci/run sets it", PostgresEnv)
	}
	schema := randomName()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	sdsn := u.String()
	return scratch(t, "pgx", dsn, "CREATE SCHEMA "+schema, "DROP SCHEMA "+schema+" CASCADE", sdsn), sdsn
}

// Postgres returns a migrated store in a new schema.
func Postgres(t testing.TB) *sqlstore.Store {
	t.Helper()
	db, _ := PostgresDB(t)
	return migrate(t, db, sqlstore.Postgres)
}

// PgBouncerDB creates a new database on the server of
// MEMBERKIT_POSTGRES_DSN and returns a pool on it through the PgBouncer of
// MEMBERKIT_PGBOUNCER_DSN, and that DSN. A database rather than a schema:
// PgBouncer 1.18 passes no search_path, and in transaction mode a SET
// would not last. The database is dropped at cleanup.
func PgBouncerDB(t testing.TB) (*sql.DB, string) {
	t.Helper()
	bouncer, direct := os.Getenv(PgBouncerEnv), os.Getenv(PostgresEnv)
	if bouncer == "" || direct == "" {
		t.Skipf("PgBouncer tests skipped: set %s and %s (.ci/pgbouncer starts one; .ci/run sets them)", PgBouncerEnv, PostgresEnv)
	}
	name := randomName()
	u, err := url.Parse(bouncer)
	if err != nil {
		t.Fatalf("%s: %v", PgBouncerEnv, err)
	}
	u.Path = "/" + name
	sdsn := u.String()
	db := scratch(t, "pgx", direct, "CREATE DATABASE "+name, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)", sdsn)
	// Cleanups run last in, first out: this one runs before scratch's.
	t.Cleanup(func() { dropPaused(t, u, direct, name) })
	return db, sdsn
}

// dropPaused asks the PgBouncer of u, on its console, to close its server
// connections to the database name (PAUSE waits for their transactions
// and cancel requests to end), drops the database, and resumes it. A DROP
// … WITH (FORCE) alone ends those connections from the server's side, and
// PgBouncer 1.18 exits when such an end reaches a server connection that
// a cancel request still holds (pgbouncer/pgbouncer#822, fixed in 1.20.1
// by #927); pgx sends one whenever a context ends mid-query. Where the
// console is closed to the test's user, scratch's DROP does it alone.
func dropPaused(t testing.TB, u *url.URL, direct, name string) {
	c := *u
	c.Path = "/pgbouncer"
	q := c.Query()
	q.Set("default_query_exec_mode", "simple_protocol")
	c.RawQuery = q.Encode()
	console, err := sql.Open("pgx", c.String())
	if err != nil {
		return
	}
	defer console.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := console.ExecContext(ctx, "PAUSE "+name); err != nil {
		t.Logf("testdb: PgBouncer console: PAUSE %s: %v (the DROP ends its connections)", name, err)
		_, _ = console.ExecContext(context.Background(), "RESUME "+name) // a PAUSE that timed out still holds
		return
	}
	if admin, err := sql.Open("pgx", direct); err == nil {
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("testdb: DROP DATABASE %s: %v", name, err)
		}
		admin.Close()
	}
	if _, err := console.ExecContext(ctx, "RESUME "+name); err != nil {
		t.Logf("testdb: PgBouncer console: RESUME %s: %v", name, err)
	}
}

// PgBouncer returns a store, migrated through PgBouncer, in a new
// database.
func PgBouncer(t testing.TB) *sqlstore.Store {
	t.Helper()
	db, _ := PgBouncerDB(t)
	return migrate(t, db, sqlstore.Postgres)
}

// MySQLDB creates a new database on the server of MEMBERKIT_MYSQL_DSN and
// returns a pool on it and its DSN. The database is dropped at cleanup.
func MySQLDB(t testing.TB) (*sql.DB, string) {
	t.Helper()
	dsn := os.Getenv(MySQLEnv)
	if dsn == "" {
		t.Skipf("MySQL/MariaDB tests skipped: set %s (for example root@tcp(127.0.0.1:3306)/test); .ci/run sets it", MySQLEnv)
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("%s: %v", MySQLEnv, err)
	}
	admin := cfg.FormatDSN()
	name := randomName()
	cfg.DBName = name
	sdsn := cfg.FormatDSN()
	return scratch(t, "mysql", admin, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", "DROP DATABASE IF EXISTS "+name, sdsn), sdsn
}

// scratch runs create on a pool of driver at adminDSN, opens a pool of
// driver at dsn (the scratch database or schema), and at cleanup closes
// it and runs drop.
func scratch(t testing.TB, driver, adminDSN, create, drop, dsn string) *sql.DB {
	t.Helper()
	admin, err := sql.Open(driver, adminDSN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(create); err != nil {
		admin.Close()
		t.Fatalf("%s: %s: %v", driver, create, err)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		admin.Close()
		t.Fatal(err)
	}
	db.SetMaxOpenConns(20)
	t.Cleanup(func() {
		db.Close()
		_, _ = admin.Exec(drop)
		admin.Close()
	})
	return db
}

// GaleraDBs creates a new database on a Galera cluster through its first
// node (the cluster replicates it) and returns a DSN of it on each node
// (nodes: one DSN per node, as MEMBERKIT_GALERA_DSNS lists them). The
// database is dropped at cleanup.
func GaleraDBs(t testing.TB, nodes []string) []string {
	t.Helper()
	first, err := mysql.ParseDSN(nodes[0])
	if err != nil {
		t.Fatalf("galera: %v", err)
	}
	admin, err := sql.Open("mysql", first.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	name := randomName()
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		admin.Close()
		t.Fatalf("galera: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name)
		admin.Close()
	})
	out := make([]string, len(nodes))
	for i, n := range nodes {
		cfg, err := mysql.ParseDSN(n)
		if err != nil {
			t.Fatalf("galera node %d: %v", i, err)
		}
		// The other nodes apply the CREATE DATABASE a moment later: a
		// connection naming it before then is refused.
		node, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		for try := 0; ; try++ {
			var got string
			err := node.QueryRow("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", name).Scan(&got)
			if err == nil {
				break
			}
			if try > 200 {
				node.Close()
				t.Fatalf("galera node %d never saw database %s: %v", i, name, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		node.Close()
		cfg.DBName = name
		out[i] = cfg.FormatDSN()
	}
	return out
}

// MySQL returns a migrated store in a new database.
func MySQL(t testing.TB) *sqlstore.Store {
	t.Helper()
	db, _ := MySQLDB(t)
	return migrate(t, db, sqlstore.MySQL)
}

// Open opens a second pool on the same database ("another process").
func Open(t testing.TB, d sqlstore.Dialect, dsn string) *sqlstore.Store {
	t.Helper()
	return OpenWith(t, d, dsn, nil)
}

// OpenWith is Open with the store's options.
func OpenWith(t testing.TB, d sqlstore.Dialect, dsn string, opts *sqlstore.Options) *sqlstore.Store {
	t.Helper()
	driver := map[sqlstore.Dialect]string{sqlstore.Postgres: "pgx", sqlstore.MySQL: "mysql", sqlstore.SQLite: "sqlite"}[d]
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := sqlstore.New(db, d, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Pools returns n stores on one fresh, migrated database of the kind, each
// with its own connection pool, as n processes would have; for memstore,
// the same store n times.
func Pools(t testing.TB, k Kind, n int) []store.Store {
	t.Helper()
	var d sqlstore.Dialect
	var dsn string
	var first store.Store
	switch k.Name {
	case "memstore":
		first = memstore.New()
	case "sqlite":
		d, dsn = sqlstore.SQLite, SQLiteDSN(filepath.Join(t.TempDir(), "memberkit.db"))
		first = Open(t, d, dsn)
	case "postgres":
		var db *sql.DB
		db, dsn = PostgresDB(t)
		d, first = sqlstore.Postgres, migrate(t, db, sqlstore.Postgres)
	case "mysql":
		var db *sql.DB
		db, dsn = MySQLDB(t)
		d, first = sqlstore.MySQL, migrate(t, db, sqlstore.MySQL)
	case "pgbouncer":
		var db *sql.DB
		db, dsn = PgBouncerDB(t)
		d, first = sqlstore.Postgres, migrate(t, db, sqlstore.Postgres)
	case "galera": // each pool spreads its connections over the nodes
		first = Galera(t)
		db := first.(*sqlstore.Store).DB()
		out := []store.Store{first}
		for len(out) < n {
			s, err := sqlstore.New(db, sqlstore.MySQL, &sqlstore.Options{MaxRetries: GaleraRetries})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	default:
		t.Fatalf("testdb: unknown kind %q", k.Name)
	}
	if s, ok := first.(*sqlstore.Store); ok && k.Name == "sqlite" {
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	out := []store.Store{first}
	for len(out) < n {
		if dsn == "" {
			out = append(out, first)
		} else {
			out = append(out, Open(t, d, dsn))
		}
	}
	return out
}

// Empty returns a fresh database of dialect d with no table at all, for
// tests that build an older schema themselves; servers not configured
// skip the test.
func Empty(t testing.TB, d sqlstore.Dialect) *sql.DB {
	t.Helper()
	switch d {
	case sqlstore.Postgres:
		db, _ := PostgresDB(t)
		return db
	case sqlstore.MySQL:
		db, _ := MySQLDB(t)
		return db
	}
	db, err := sql.Open("sqlite", SQLiteDSN(filepath.Join(t.TempDir(), "empty.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
