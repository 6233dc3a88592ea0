// Command scale measures memberkit at the size of a large org, each figure
// beside a raw lower bound measured in the same run on the same database
// and driver, and prints the figures recorded in BENCHMARKS.md. It
// generates realistic orgs (internal/testkit/gen: French and international
// names, groups, 1% admins, 8% deactivated) on memstore, SQLite,
// PostgreSQL and MariaDB/MySQL. It uses only the library's public API, so
// that the same source builds against an earlier commit for "before"
// figures.
//
// -mode reconcile (the default), per store, size and rep:
//
//   - reconcile: parse + plan + apply of the org's own export with 10% of
//     rows changed, 2% new and 2% absent (gen.Edit), against a raw lower
//     bound that writes the same data on a twin org generated alike: the
//     changed, new and absent member rows with every column memberkit
//     writes (names, email and its key, status, search text, groups text,
//     updated_at, version+1, a new security stamp where memberkit rotates
//     it), the group rows of changed groups, one event per changed member
//     plus the import's own event, numbered from the org's event_seq, and
//     the org's counters, roster version and event_seq — with each
//     database's best technique (raw_postgres.go, raw_sqlite.go,
//     raw_mysql.go; on PostgreSQL inserts by COPY, which wrote 14,000
//     events and 2,000 members in a median 0.34 s against 0.45 s for
//     INSERT … SELECT FROM unnest, -pginsert). The twin orgs are treated
//     alike: which org each side uses and which side runs first rotate
//     over the reps (rep 1 raw first, rep 2 memberkit first, …; over four
//     reps every combination), and the database is checkpointed before
//     each measured phase. After both, the
//     two orgs are compared (-verify): rows, group rows, events and
//     counters must be the same. -regroup changes groups too, so that
//     group rows are rewritten. Each rep prints memberkit's time, the
//     raw time and their ratio; the end prints the median ratio per store
//     and size;
//
//   - naive: the reconcile written the naive way (per row: select by
//     login, then insert or update), PostgreSQL only (-naive), on a third
//     twin;
//
//   - memory: the peak live heap of the reconcile against the size of the
//     in-memory login index;
//
//   - page: a roster page (50 members filtered by group) in this org
//     against the same page in a 1,000-member org;
//
//   - hashing (-hashrows): an import of clear passwords, hashed with
//     argon2id (OWASP) on one worker and on every core.
//
// -mode latency (latency.go): p50 and p99 of single operations through
// roster.Service — Deactivate, Activate, ChangeRole (to a custom
// "Manager" role and back), Edit (a first name), Add (a new member, no
// password to hash) — -ops times each on distinct random non-admin
// members with an admin as actor, interleaved per iteration with one raw
// transaction on the same *sql.DB that writes the same data (the member
// row, one event, the org's counters, roster version and event_seq:
// PostgreSQL one statement of data-modifying CTEs between BEGIN and
// COMMIT; SQLite and MariaDB prepared statements) and with a "raw row
// only" transaction (BEGIN, the member row, COMMIT). After the runs, the
// events must be numbered without a gap, and the members each side
// touched and their events must be alike.
//
// -mode mixed (mixed.go): -workers goroutines for -duration doing 40%
// Edit, 20% Deactivate, 20% Activate, 10% ChangeRole, 10% Add, (a) all on
// one org of -sizes members, (b) each on its own org of -sizes/-workers
// members; each goroutine acts on non-admin members of its own, with the
// org's admin as actor. It prints operations/s, p50, p99, failures
// (conflicts, retries exhausted…) and refusals by the rules by kind, and
// checks each org's counters and event numbers after.
//
// Stores: memstore, sqlite (a file in -dir or a temporary one, WAL,
// synchronous=FULL, 256 MiB cache), postgres (a schema per run on
// MEMBERKIT_POSTGRES_DSN, pgx), mysql (MariaDB or MySQL: a database per
// run on MEMBERKIT_MYSQL_DSN, go-sql-driver/mysql). Schemas and databases
// are dropped at the end. Examples:
//
//	go build -o /tmp/scale ./internal/testkit/cmd/scale
//	export MEMBERKIT_POSTGRES_DSN='postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//	export MEMBERKIT_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test'
//	/tmp/scale -sizes 100000,1000000 -stores memstore,sqlite,postgres,mysql -reps 4
//	/tmp/scale -sizes 100000 -stores postgres -naive 100000
//	/tmp/scale -sizes 0 -stores memstore -hashrows 1000
//	/tmp/scale -mode latency -sizes 100000 -stores sqlite,postgres,mysql -ops 300
//	/tmp/scale -mode mixed -sizes 100000 -stores postgres -workers 16 -duration 10s
//	MEMBERKIT_SCALE_CPUPROFILE=/tmp/prof /tmp/scale …   # CPU profile of each reconcile, latency run and mixed case (a)
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/memstore"
	"github.com/memberkit/memberkit/store/sqlstore"
	"github.com/memberkit/memberkit/store/sqlstore/pgxcopy"
)

var (
	modeFlag     = flag.String("mode", "reconcile", "reconcile, latency or mixed")
	sizesFlag    = flag.String("sizes", "100000", "org sizes, comma separated")
	storesFlag   = flag.String("stores", "", "stores, comma separated: memstore, sqlite, postgres, mysql (default: all four for reconcile, the SQL ones for latency and mixed)")
	naiveFlag    = flag.Int("naive", 0, "run the naive reconcile on PostgreSQL for orgs up to this size (0: never)")
	hashRows     = flag.Int("hashrows", 0, "rows of the clear-password import (0: skip)")
	dirFlag      = flag.String("dir", "", "directory for SQLite files (default: a temporary one)")
	repsFlag     = flag.Int("reps", 4, "reconcile runs per store and size, each on a fresh store; an even number balances the twin orgs' rotation")
	verifyFlag   = flag.Bool("verify", true, "reconcile: compare the twin orgs after memberkit and the raw bound wrote them")
	regroupFlag  = flag.Int("regroup", 0, "reconcile: percent of the changed rows whose Groupes cell also changes (new rows then get a group too); 0 keeps gen.Edit's file")
	pgInsertFlag = flag.String("pginsert", "copy", "reconcile: the raw bound's PostgreSQL inserts: copy (pgx CopyFrom, measured the faster) or unnest (INSERT … SELECT FROM unnest)")
	pgChunkFlag  = flag.Int("pgchunk", 1000, "reconcile: rows per array statement of the raw bound on PostgreSQL (1,000 measured no slower than 5,000 and faster than 10,000)")
	opsFlag      = flag.Int("ops", 300, "latency: operations of each kind, for memberkit and for each raw transaction")
	workersFlag  = flag.Int("workers", 16, "mixed: goroutines (and orgs in the many-orgs case)")
	durationFlag = flag.Duration("duration", 10*time.Second, "mixed: how long each case runs")
	connsFlag    = flag.Int("conns", 32, "SQL stores: db.SetMaxOpenConns and SetMaxIdleConns")
	copierFlag   = flag.Bool("copier", false, "postgres: give the store pgxcopy's Copier (COPY for large batches), as a host on pgx may")
	seedFlag     = flag.Uint64("seed", 1, "seed of the random choices of targets and operations")
)

var sys = membership.SystemActor("scale")

func main() {
	log.SetFlags(0)
	flag.Parse()
	ctx := context.Background()
	fmt.Printf("machine: %d CPU, %s, %s/%s; mode %s\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, *modeFlag)
	stores := *storesFlag
	if stores == "" {
		stores = "sqlite,postgres,mysql"
		if *modeFlag == "reconcile" {
			stores = "memstore," + stores
		}
	}
	var sizes []int
	for _, sz := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(sz))
		if err != nil {
			fatal(err)
		}
		sizes = append(sizes, n)
	}
	kinds := strings.Split(stores, ",")
	switch *modeFlag {
	case "reconcile":
		if *hashRows > 0 {
			hashing(ctx, *hashRows)
		}
		for _, n := range sizes {
			if n == 0 {
				continue // -sizes 0: the hashing alone
			}
			for _, kind := range kinds {
				for rep := range *repsFlag {
					reconcile(ctx, strings.TrimSpace(kind), n, rep)
				}
			}
		}
		reconcileSummary()
	case "latency":
		for _, n := range sizes {
			for _, kind := range kinds {
				latency(ctx, strings.TrimSpace(kind), n)
			}
		}
	case "mixed":
		for _, n := range sizes {
			for _, kind := range kinds {
				mixed(ctx, strings.TrimSpace(kind), n)
			}
		}
	default:
		fatalf("unknown mode %q (want reconcile, latency or mixed)", *modeFlag)
	}
}

// target is one fresh store: a memstore, or a migrated SQL store in a
// database (SQLite file, PostgreSQL schema, MySQL database) of its own.
type target struct {
	kind string
	st   store.Store
	db   *sql.DB // nil for memstore
	d    sqlstore.Dialect
	done func()
}

func open(ctx context.Context, kind string) target {
	var db *sql.DB
	var d sqlstore.Dialect
	var done func()
	switch kind {
	case "memstore":
		return target{kind: kind, st: memstore.New(), done: func() {}}
	case "sqlite":
		dir := *dirFlag
		if dir == "" {
			var err error
			if dir, err = os.MkdirTemp("", "memberkit-scale-"); err != nil {
				fatal(err)
			}
		}
		path := filepath.Join(dir, fmt.Sprintf("scale-%d.db", time.Now().UnixNano()))
		db = must(sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=cache_size(-262144)"))
		d = sqlstore.SQLite
		done = func() {
			db.Close()
			os.Remove(path)
			os.Remove(path + "-wal")
			os.Remove(path + "-shm")
			if *dirFlag == "" {
				os.Remove(dir)
			}
		}
	case "postgres":
		dsn := os.Getenv("MEMBERKIT_POSTGRES_DSN")
		if dsn == "" {
			fatal("postgres: set MEMBERKIT_POSTGRES_DSN")
		}
		admin := must(sql.Open("pgx", dsn))
		schema := fmt.Sprintf("mk_scale_%d", time.Now().UnixNano())
		if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
			fatal(err)
		}
		u := must(url.Parse(dsn))
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		db = must(sql.Open("pgx", u.String()))
		d = sqlstore.Postgres
		done = func() {
			db.Close()
			_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
			admin.Close()
		}
	case "mysql":
		dsn := os.Getenv("MEMBERKIT_MYSQL_DSN")
		if dsn == "" {
			fatal("mysql: set MEMBERKIT_MYSQL_DSN")
		}
		cfg := must(mysql.ParseDSN(dsn))
		admin := must(sql.Open("mysql", cfg.FormatDSN()))
		name := fmt.Sprintf("mk_scale_%d", time.Now().UnixNano())
		if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
			fatal(err)
		}
		cfg.DBName = name
		db = must(sql.Open("mysql", cfg.FormatDSN()))
		d = sqlstore.MySQL
		done = func() {
			db.Close()
			_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name)
			admin.Close()
		}
	default:
		fatalf("unknown store %q (want memstore, sqlite, postgres or mysql)", kind)
	}
	unregister := atExit(done)
	db.SetMaxOpenConns(*connsFlag)
	db.SetMaxIdleConns(*connsFlag)
	var opts *sqlstore.Options
	if *copierFlag && d == sqlstore.Postgres {
		opts = &sqlstore.Options{Copier: pgxcopy.New()}
	}
	st := must(sqlstore.New(db, d, opts))
	if err := st.Migrate(ctx); err != nil {
		fatal(err)
	}
	return target{kind: kind, st: st, db: db, d: d, done: func() { unregister(); done() }}
}

// analyze refreshes the planner's statistics after a bulk load, as
// autoanalyze would (PostgreSQL, MySQL).
func analyze(ctx context.Context, tg target) {
	switch tg.d {
	case sqlstore.Postgres:
		_, _ = tg.db.ExecContext(ctx, "ANALYZE")
	case sqlstore.MySQL:
		_, _ = tg.db.ExecContext(ctx, "ANALYZE TABLE memberkit_members, memberkit_member_groups, memberkit_events, memberkit_orgs")
	}
}

// settle flushes the database's log before a measured phase, so that the
// raw bound and memberkit each start from a checkpointed database instead
// of paying, by chance, for the checkpoint of the data written before.
// On MySQL, InnoDB writes the run's tables' dirty pages (FLUSH TABLES …
// FOR EXPORT).
func settle(ctx context.Context, tg target) {
	switch tg.d {
	case sqlstore.Postgres:
		_, _ = tg.db.ExecContext(ctx, "CHECKPOINT")
	case sqlstore.SQLite:
		_, _ = tg.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	case sqlstore.MySQL:
		// FOR EXPORT writes the tables' dirty pages to disk (and holds a
		// read lock until UNLOCK TABLES): a checkpoint of this run's
		// tables, with no server setting touched.
		c, err := tg.db.Conn(ctx)
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := c.ExecContext(ctx, "FLUSH TABLES memberkit_members, memberkit_member_groups, memberkit_events, memberkit_orgs FOR EXPORT"); err == nil {
			_, _ = c.ExecContext(ctx, "UNLOCK TABLES")
		}
	}
}

func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// watchPeak samples the live heap until the returned func is called.
func watchPeak() func() uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			if v := liveHeap(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(stop); <-done; return peak.Load() }
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// median of xs (xs is sorted in place).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	if n := len(xs); n%2 == 0 {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return xs[len(xs)/2]
}

// percentile is the q-quantile (0 < q ≤ 1) of sorted ds, nearest rank.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(q*float64(len(ds))+0.999999) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// cleanups are the stores to drop if the program ends on an error: a
// PostgreSQL schema or a MySQL database left behind would stay on a
// shared server.
var cleanups = map[int]func(){}

// atExit registers fn to run if the program ends on an error, and
// returns the func that unregisters it.
func atExit(fn func()) func() {
	k := len(cleanups)
	for cleanups[k] != nil {
		k++
	}
	cleanups[k] = fn
	return func() { delete(cleanups, k) }
}

// fatal runs the cleanups and ends the program, as log.Fatal.
func fatal(v ...any) {
	for k, fn := range cleanups {
		delete(cleanups, k)
		fn()
	}
	log.Fatal(v...)
}

// fatalf runs the cleanups and ends the program, as log.Fatalf.
func fatalf(format string, v ...any) { fatal(fmt.Sprintf(format, v...)) }

// must returns v, or ends the program on err.
func must[T any](v T, err error) T {
	if err != nil {
		fatal(err)
	}
	return v
}
