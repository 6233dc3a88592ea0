// Command scale measures memberkit at the size of a large org and prints
// the figures recorded in BENCHMARKS.md. It generates a realistic org
// (French and international names, groups, roles) on memstore, SQLite and
// PostgreSQL and reports, per store and size:
//
//   - reconcile: parse + plan + apply of a file with 10% of rows changed,
//     2% new and 2% absent, beside the raw lower bound measured in the same
//     run (parse the file, read every member, bulk-write only the changed
//     rows with the bare driver, commit) on a twin org generated the same;
//
//   - naive: the same reconcile written the naive way (per row: select by
//     login, then insert or update), PostgreSQL only (-naive), on a third
//     twin;
//
//   - memory: the peak live heap of the reconcile against the size of the
//     in-memory login index;
//
//   - page: a roster page (50 members filtered by group) in this org
//     against the same page in a 1,000-member org;
//
//   - hashing: an import of -hashrows rows with clear passwords, hashed
//     with argon2id (OWASP) on one worker and on every core.
//
//     MEMBERKIT_POSTGRES_DSN=… go run ./internal/cmd/scale -sizes 100000,1000000 -stores memstore,sqlite,postgres
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/internal/testkit/gen"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/memstore"
	"github.com/memberkit/memberkit/store/sqlstore"
)

var (
	sizesFlag  = flag.String("sizes", "100000", "org sizes, comma separated")
	storesFlag = flag.String("stores", "memstore,sqlite,postgres", "stores: memstore, sqlite, postgres")
	naiveFlag  = flag.Int("naive", 0, "run the naive reconcile on PostgreSQL for orgs up to this size (0: never)")
	hashRows   = flag.Int("hashrows", 0, "rows of the clear-password import (0: skip)")
	dirFlag    = flag.String("dir", "", "directory for SQLite files (default: a temporary one)")
	repsFlag   = flag.Int("reps", 1, "runs per store and size, each on a fresh store (report the median: single runs of a few seconds move with WAL checkpoints)")
)

var sys = membership.SystemActor("scale")

func main() {
	log.SetFlags(0)
	flag.Parse()
	ctx := context.Background()
	fmt.Printf("machine: %d CPU, %s, %s/%s\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if *hashRows > 0 {
		hashing(ctx, *hashRows)
	}
	for _, sz := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(sz))
		if err != nil {
			log.Fatal(err)
		}
		for _, kind := range strings.Split(*storesFlag, ",") {
			for range *repsFlag {
				run(ctx, strings.TrimSpace(kind), n)
			}
		}
	}
}

type target struct {
	st   store.Store
	db   *sql.DB // nil for memstore
	d    sqlstore.Dialect
	done func()
}

func open(ctx context.Context, kind string) target {
	switch kind {
	case "memstore":
		return target{st: memstore.New(), done: func() {}}
	case "sqlite":
		dir := *dirFlag
		if dir == "" {
			var err error
			if dir, err = os.MkdirTemp("", "memberkit-scale-"); err != nil {
				log.Fatal(err)
			}
		}
		path := filepath.Join(dir, fmt.Sprintf("scale-%d.db", time.Now().UnixNano()))
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=cache_size(-262144)")
		if err != nil {
			log.Fatal(err)
		}
		st, err := sqlstore.New(db, sqlstore.SQLite, nil)
		if err != nil {
			log.Fatal(err)
		}
		if err := st.Migrate(ctx); err != nil {
			log.Fatal(err)
		}
		return target{st: st, db: db, d: sqlstore.SQLite, done: func() { db.Close(); os.Remove(path); os.Remove(path + "-wal"); os.Remove(path + "-shm") }}
	case "postgres":
		dsn := os.Getenv("MEMBERKIT_POSTGRES_DSN")
		if dsn == "" {
			log.Fatal("postgres: set MEMBERKIT_POSTGRES_DSN")
		}
		admin, err := sql.Open("pgx", dsn)
		if err != nil {
			log.Fatal(err)
		}
		schema := fmt.Sprintf("mk_scale_%d", time.Now().UnixNano())
		if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
			log.Fatal(err)
		}
		u, _ := url.Parse(dsn)
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		db, err := sql.Open("pgx", u.String())
		if err != nil {
			log.Fatal(err)
		}
		st, err := sqlstore.New(db, sqlstore.Postgres, nil)
		if err != nil {
			log.Fatal(err)
		}
		if err := st.Migrate(ctx); err != nil {
			log.Fatal(err)
		}
		return target{st: st, db: db, d: sqlstore.Postgres, done: func() {
			db.Close()
			_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
			admin.Close()
		}}
	}
	log.Fatalf("unknown store %q", kind)
	return target{}
}

// settle flushes the database's log before a measured phase, so that the
// raw bound and memberkit each start from a checkpointed database instead
// of paying, by chance, for the checkpoint of the data generated before.
func settle(ctx context.Context, tg target) {
	switch tg.d {
	case sqlstore.Postgres:
		_, _ = tg.db.ExecContext(ctx, "CHECKPOINT")
	case sqlstore.SQLite:
		_, _ = tg.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
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

func run(ctx context.Context, kind string, n int) {
	fmt.Printf("\n== %s, %d members\n", kind, n)
	tg := open(ctx, kind)
	defer tg.done()
	if cpu := os.Getenv("MEMBERKIT_SCALE_CPUPROFILE"); cpu != "" {
		f, err := os.Create(cpu + "." + kind)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		profileFile = f
	}
	hasher := membership.NewArgon2Hasher(nil)
	hash, _ := hasher.Hash("shared-password")
	t0 := time.Now()
	org, err := gen.Org(ctx, tg.st, n, hash)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("generate: %.1fs\n", time.Since(t0).Seconds())
	if tg.db != nil && tg.d == sqlstore.Postgres {
		_, _ = tg.db.ExecContext(ctx, "ANALYZE")
	}
	files := must(csvsync.New(tg.st, &csvsync.Options{Hasher: hasher}))
	var exp bytes.Buffer
	if _, err := files.Export(ctx, sys, org.ID, &exp, nil); err != nil {
		log.Fatal(err)
	}
	var edited bytes.Buffer
	changed, added, dropped, err := gen.Edit(&edited, exp.String(), 10, 2, 2)
	if err != nil {
		log.Fatal(err)
	}
	data := edited.Bytes()
	exp = bytes.Buffer{}
	fmt.Printf("file: %.1f MiB, %d rows changed, %d new, %d absent\n", mib(uint64(len(data))), changed, added, dropped)

	// Raw lower bound first, on a twin org: the same members, logins and
	// emails, so the same file applies to it; it commits, as memberkit must.
	rawRatio = 0
	if tg.db != nil {
		twin, err := gen.Org(ctx, tg.st, n, hash)
		if err != nil {
			log.Fatal(err)
		}
		if tg.d == sqlstore.Postgres {
			_, _ = tg.db.ExecContext(ctx, "ANALYZE")
		}
		settle(ctx, tg)
		raw := rawReconcile(ctx, tg, twin.ID, data, false)
		fmt.Printf("raw lower bound: %.2fs (parse + read all + bulk write of %d changed rows + commit, on a twin org)\n", raw.Seconds(), changed+added+dropped)
		rawRatio = raw
	}

	// The index a reconcile needs, alone.
	runtime.GC()
	base := liveHeap()
	idx := loginIndex(ctx, tg.st, org.ID)
	runtime.GC()
	indexSize := liveHeap() - min(base, liveHeap())
	runtime.KeepAlive(idx)
	idx = nil
	runtime.GC()

	settle(ctx, tg)
	base = liveHeap()
	if profileFile != nil {
		_ = pprof.StartCPUProfile(profileFile)
	}
	peak := watchPeak()
	t0 = time.Now()
	file, err := csvsync.Parse(bytes.NewReader(data), nil)
	if err != nil {
		log.Fatal(err)
	}
	tParse := time.Since(t0)
	plan, err := files.Plan(ctx, sys, org.ID, file, &csvsync.PlanOptions{TemporaryPassword: "bienvenue-2026"})
	if err != nil {
		log.Fatal(err)
	}
	tPlan := time.Since(t0) - tParse
	res, err := files.Apply(ctx, sys, org.ID, plan, nil)
	if err != nil {
		log.Fatal(err)
	}
	total := time.Since(t0)
	p := peak()
	if profileFile != nil {
		pprof.StopCPUProfile()
		profileFile = nil
	}
	fmt.Printf("memberkit reconcile: %.2fs (parse %.2fs, plan %.2fs, apply %.2fs): %d added, %d updated, %d reactivated, %d deactivated, %d unchanged\n",
		total.Seconds(), tParse.Seconds(), tPlan.Seconds(), (total - tParse - tPlan).Seconds(), res.Added, res.Updated, res.Reactivated, res.Deactivated, res.Unchanged)
	fmt.Printf("memory: peak live heap %.0f MiB above the start; login index alone %.0f MiB; ratio %.2f\n", mib(p-min(base, p)), mib(indexSize), float64(p-min(base, p))/float64(max(indexSize, 1)))
	if rawRatio > 0 {
		fmt.Printf("ratio memberkit / raw: %.2f\n", total.Seconds()/rawRatio.Seconds())
	}

	// Naive reconcile on PostgreSQL.
	if tg.d == sqlstore.Postgres && n <= *naiveFlag {
		twin, err := gen.Org(ctx, tg.st, n, hash)
		if err != nil {
			log.Fatal(err)
		}
		_, _ = tg.db.ExecContext(ctx, "ANALYZE")
		d := rawReconcile(ctx, tg, twin.ID, data, true)
		fmt.Printf("naive reconcile (per row: select by login, then update or insert; autocommit): %.1fs, memberkit is %.1fx faster\n", d.Seconds(), d.Seconds()/total.Seconds())
	}

	// A roster page in this org against a 1,000-member org.
	small, err := gen.Org(ctx, tg.st, 1000, hash)
	if err != nil {
		log.Fatal(err)
	}
	if tg.d == sqlstore.Postgres {
		_, _ = tg.db.ExecContext(ctx, "ANALYZE")
	}
	big := pageTime(ctx, tg.st, org.ID)
	little := pageTime(ctx, tg.st, small.ID)
	fmt.Printf("roster page (50, group filter; best of 5 batches of 50): %.3fms in this org, %.3fms in a 1,000-member org, ratio %.2f\n",
		float64(big.Nanoseconds())/1e6, float64(little.Nanoseconds())/1e6, big.Seconds()/little.Seconds())
	rawRatio = 0
}

var (
	rawRatio    time.Duration
	profileFile *os.File
)

// pageTime is the time of the first page (50 members, group filter): the
// best of 5 batches of 50 pages, each batch after a collection, so that
// both orgs are measured alike whatever garbage the reconcile left.
func pageTime(ctx context.Context, st store.Store, orgID string) time.Duration {
	svc := must(roster.New(st, nil))
	q := roster.ListQuery{Group: "Lyon", Limit: 50}
	if _, err := svc.List(ctx, sys, orgID, q); err != nil { // warm up
		log.Fatal(err)
	}
	const rounds = 50
	best := time.Duration(1<<63 - 1)
	for range 5 {
		runtime.GC()
		t0 := time.Now()
		for range rounds {
			p, err := svc.List(ctx, sys, orgID, q)
			if err != nil || len(p.Members) != 50 {
				log.Fatalf("page: %v (%d members)", err, len(p.Members))
			}
		}
		best = min(best, time.Since(t0)/rounds)
	}
	return best
}

// loginIndex builds the compact index a reconcile keeps: login → member.
func loginIndex(ctx context.Context, st store.Store, orgID string) map[string]membership.Member {
	idx := map[string]membership.Member{}
	_ = st.View(ctx, orgID, func(tx store.Tx) error {
		for m, err := range tx.Members(ctx, store.MemberQuery{}) {
			if err != nil {
				return err
			}
			idx[m.Login] = membership.Member{ID: m.ID, Login: m.Login, Email: m.Email, FirstName: m.FirstName, LastName: m.LastName, Status: m.Status, Version: m.Version}
		}
		return nil
	})
	return idx
}

type rawMember struct {
	id, last, first, email, status string
}

// rawReconcile is the bare-driver reconcile. naive=false: the lower
// bound — parse, read every member once, bulk-write only what changed, in
// one committed transaction; it keeps the email's unique key in step, as
// any correct writer must, and nothing else (no audit, no search text, no
// version check). naive=true: per row, select by login, then update or insert,
// each statement committed on its own (and deactivations of the absent at
// the end), as a first version written by hand would.
func rawReconcile(ctx context.Context, tg target, orgID string, data []byte, naive bool) time.Duration {
	t0 := time.Now()
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))))
	r.Comma = ';'
	r.ReuseRecord = false
	rows, err := r.ReadAll()
	if err != nil {
		log.Fatal(err)
	}
	rows = rows[1:]
	ph := func(i int) string {
		if tg.d == sqlstore.Postgres {
			return "$" + strconv.Itoa(i)
		}
		return "?"
	}
	if naive {
		seen := map[string]bool{}
		sel := fmt.Sprintf("SELECT id, last_name, first_name, email, status FROM memberkit_members WHERE org_id = %s AND login_key = %s", ph(1), ph(2))
		upd := fmt.Sprintf("UPDATE memberkit_members SET last_name = %s, first_name = %s, email = %s, email_key = %s, status = %s WHERE id = %s AND org_id = %s", ph(1), ph(2), ph(3), ph(4), ph(5), ph(6), ph(7))
		ins := fmt.Sprintf("INSERT INTO memberkit_members (org_id, id, user_id, login, login_key, email, email_key, first_name, last_name, role_id, status, groups_text, search_text, password_hash, must_change_password, created_at, updated_at, version) VALUES (%s, %s, '', %s, %s, %s, %s, %s, %s, 'user', %s, '', '', '', true, 0, 0, 1)",
			ph(1), ph(2), ph(3), ph(4), ph(5), ph(6), ph(7), ph(8), ph(9))
		for _, rec := range rows {
			login := rec[0]
			seen[login] = true
			var m rawMember
			status := "active"
			if strings.HasPrefix(rec[5], "D") {
				status = "deactivated"
			}
			err := tg.db.QueryRowContext(ctx, sel, orgID, login).Scan(&m.id, &m.last, &m.first, &m.email, &m.status)
			switch {
			case err == sql.ErrNoRows:
				if _, err := tg.db.ExecContext(ctx, ins, orgID, membership.NewID(), login, login, rec[3], rec[3], rec[2], rec[1], status); err != nil {
					log.Fatal(err)
				}
			case err != nil:
				log.Fatal(err)
			default:
				if _, err := tg.db.ExecContext(ctx, upd, rec[1], rec[2], rec[3], strings.ToLower(rec[3]), status, m.id, orgID); err != nil {
					log.Fatal(err)
				}
			}
		}
		all, err := tg.db.QueryContext(ctx, fmt.Sprintf("SELECT login FROM memberkit_members WHERE org_id = %s", ph(1)), orgID)
		if err != nil {
			log.Fatal(err)
		}
		var absent []string
		for all.Next() {
			var l string
			_ = all.Scan(&l)
			if !seen[l] {
				absent = append(absent, l)
			}
		}
		all.Close()
		for _, l := range absent {
			if _, err := tg.db.ExecContext(ctx, fmt.Sprintf("UPDATE memberkit_members SET status = 'deactivated' WHERE org_id = %s AND login_key = %s", ph(1), ph(2)), orgID, l); err != nil {
				log.Fatal(err)
			}
		}
		return time.Since(t0)
	}
	tx, err := tg.db.BeginTx(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback()
	tRead := time.Now()
	members := map[string]rawMember{}
	// The fastest bare read we found per database: PostgreSQL scans the
	// table (bitmap heap scan); SQLite reads in ID order, which is the
	// order rows were stored in (a plain WHERE walks an index and jumps
	// around the table: 8.0 s against 7.1 s for read and match at 1,000,000).
	read := "SELECT login, id, last_name, first_name, email, status FROM memberkit_members WHERE org_id = %s"
	if tg.d == sqlstore.SQLite {
		read += " ORDER BY id"
	}
	q, err := tx.QueryContext(ctx, fmt.Sprintf(read, ph(1)), orgID)
	if err != nil {
		log.Fatal(err)
	}
	for q.Next() {
		var login string
		var m rawMember
		if err := q.Scan(&login, &m.id, &m.last, &m.first, &m.email, &m.status); err != nil {
			log.Fatal(err)
		}
		members[login] = m
	}
	q.Close()
	type upd struct{ id, last, first, email, status string }
	var updates []upd
	var inserts [][]string
	seen := make(map[string]bool, len(rows))
	for _, rec := range rows {
		status := "active"
		if strings.HasPrefix(rec[5], "D") {
			status = "deactivated"
		}
		seen[rec[0]] = true
		m, ok := members[rec[0]]
		if !ok {
			inserts = append(inserts, rec)
			continue
		}
		if m.last != rec[1] || m.first != rec[2] || m.email != rec[3] || m.status != status {
			updates = append(updates, upd{m.id, rec[1], rec[2], rec[3], status})
		}
	}
	for login, m := range members {
		if !seen[login] && m.status == "active" {
			updates = append(updates, upd{m.id, m.last, m.first, m.email, "deactivated"})
		}
	}
	tWrite := time.Now()
	if tg.d == sqlstore.Postgres {
		for start := 0; start < len(updates); start += 1000 {
			part := updates[start:min(start+1000, len(updates))]
			var b strings.Builder
			b.WriteString("UPDATE memberkit_members AS m SET last_name = v.l, first_name = v.f, email = v.e, email_key = lower(v.e), status = v.s, version = m.version + 1 FROM (VALUES ")
			args := []any{}
			for i, u := range part {
				if i > 0 {
					b.WriteString(",")
				}
				n := len(args)
				fmt.Fprintf(&b, "($%d::varchar,$%d::text,$%d::text,$%d::varchar,$%d::varchar)", n+1, n+2, n+3, n+4, n+5)
				args = append(args, u.id, u.last, u.first, u.email, u.status)
			}
			fmt.Fprintf(&b, ") AS v(id, l, f, e, s) WHERE m.org_id = $%d AND m.id = v.id", len(args)+1)
			args = append(args, orgID)
			if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
				log.Fatal(err)
			}
		}
		for start := 0; start < len(inserts); start += 1000 {
			part := inserts[start:min(start+1000, len(inserts))]
			var b strings.Builder
			b.WriteString("INSERT INTO memberkit_members (org_id, id, user_id, login, login_key, email, email_key, first_name, last_name, role_id, status, groups_text, search_text, password_hash, must_change_password, created_at, updated_at, version) VALUES ")
			args := []any{}
			for i, rec := range part {
				if i > 0 {
					b.WriteString(",")
				}
				n := len(args)
				fmt.Fprintf(&b, "($%d,$%d,'',$%d,$%d,$%d,$%d,$%d,$%d,'user','active','','','',true,0,0,1)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8)
				args = append(args, orgID, membership.NewID(), rec[0], rec[0], rec[3], rec[3], rec[2], rec[1])
			}
			if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
				log.Fatal(err)
			}
		}
	} else {
		st, err := tx.PrepareContext(ctx, "UPDATE memberkit_members SET last_name = ?, first_name = ?, email = ?, email_key = ?, status = ?, version = version + 1 WHERE org_id = ? AND id = ?")
		if err != nil {
			log.Fatal(err)
		}
		for _, u := range updates {
			if _, err := st.ExecContext(ctx, u.last, u.first, u.email, strings.ToLower(u.email), u.status, orgID, u.id); err != nil {
				log.Fatal(err)
			}
		}
		ins, err := tx.PrepareContext(ctx, "INSERT INTO memberkit_members (org_id, id, user_id, login, login_key, email, email_key, first_name, last_name, role_id, status, groups_text, search_text, password_hash, must_change_password, created_at, updated_at, version) VALUES (?, ?, '', ?, ?, ?, ?, ?, ?, 'user', 'active', '', '', '', 1, 0, 0, 1)")
		if err != nil {
			log.Fatal(err)
		}
		for _, rec := range inserts {
			if _, err := ins.ExecContext(ctx, orgID, membership.NewID(), rec[0], rec[0], rec[3], rec[3], rec[2], rec[1]); err != nil {
				log.Fatal(err)
			}
		}
	}
	tCommit := time.Now()
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("raw: parse %.2fs, read+match %.2fs, write %.2fs, commit %.2fs\n", tRead.Sub(t0).Seconds(), tWrite.Sub(tRead).Seconds(), tCommit.Sub(tWrite).Seconds(), time.Since(tCommit).Seconds())
	return time.Since(t0)
}

// hashing measures an import of n rows with clear passwords on one worker
// and on every core, with the default argon2id parameters.
func hashing(ctx context.Context, n int) {
	var b strings.Builder
	b.WriteString("Nom;Prénom;Etat;Mot de passe\n")
	for i := range n {
		fmt.Fprintf(&b, "Nom%d;Prénom;Activé;mot-de-passe-%d\n", i, i)
	}
	data := b.String()
	var results []float64
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		st := memstore.New()
		svc := must(roster.New(st, nil))
		org, err := svc.CreateOrg(ctx, roster.NewOrg{Name: "Hash", Plan: membership.PremiumPlan(0), Features: []membership.Feature{membership.FeatureCSV}})
		if err != nil {
			log.Fatal(err)
		}
		hasher := &countingHasher{Hasher: membership.NewArgon2Hasher(nil)}
		files := must(csvsync.New(st, &csvsync.Options{HashWorkers: workers, Hasher: hasher}))
		f, err := csvsync.Parse(strings.NewReader(data), nil)
		if err != nil {
			log.Fatal(err)
		}
		t0 := time.Now()
		p, err := files.Plan(ctx, sys, org.ID, f, nil)
		if err != nil {
			log.Fatal(err)
		}
		d := time.Since(t0)
		_ = p
		rate := float64(hasher.ops.Load()) / d.Seconds()
		results = append(results, rate)
		fmt.Printf("hashing: %d clear passwords, %d worker(s): %.1fs, %.1f hashes/s\n", n, workers, d.Seconds(), rate)
	}
	fmt.Printf("hashing speed-up on %d cores: %.2fx\n", runtime.GOMAXPROCS(0), results[1]/results[0])
	_ = io.Discard
}

// countingHasher counts the hashes and verifications it makes.
type countingHasher struct {
	membership.Hasher
	ops atomic.Int64
}

func (h *countingHasher) Hash(pw string) (membership.PasswordHash, error) {
	h.ops.Add(1)
	return h.Hasher.Hash(pw)
}

func (h *countingHasher) Verify(hash membership.PasswordHash, pw string) (bool, bool, error) {
	h.ops.Add(1)
	return h.Hasher.Verify(hash, pw)
}

// must returns v, or ends the program on err.
func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}
