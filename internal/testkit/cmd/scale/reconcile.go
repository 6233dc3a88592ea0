package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/internal/testkit/gen"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// tempPassword is the shared temporary password of the new members: the
// plan hashes it once, and so does the raw bound.
const tempPassword = "bienvenue-2026"

type recKey struct {
	kind string
	n    int
}

type recStats struct {
	mk, raw, ratio []float64
}

var (
	recResults = map[recKey]*recStats{}
	recOrder   []recKey
)

// reconcile runs one rep of the reconcile mode on a fresh store: two twin
// orgs, memberkit on one and the raw bound on the other, in the order and
// on the org the rep's rotation says.
func reconcile(ctx context.Context, kind string, n, rep int) {
	fmt.Printf("\n== reconcile: %s, %d members, rep %d\n", kind, n, rep+1)
	tg := open(ctx, kind)
	defer tg.done()
	hasher := membership.NewArgon2Hasher(nil)
	hash := must(hasher.Hash("shared-password"))
	t0 := time.Now()
	orgs := []membership.Org{must(gen.Org(ctx, tg.st, n, hash))}
	if tg.db != nil {
		orgs = append(orgs, must(gen.Org(ctx, tg.st, n, hash)))
	}
	fmt.Printf("generate: %.1fs (%d org(s) of %d)\n", time.Since(t0).Seconds(), len(orgs), n)
	analyze(ctx, tg)
	files := must(csvsync.New(tg.st, &csvsync.Options{Hasher: hasher}))
	var exp bytes.Buffer
	if _, err := files.Export(ctx, sys, orgs[0].ID, &exp, nil); err != nil {
		fatal(err)
	}
	var edited bytes.Buffer
	changed, added, dropped, err := gen.Edit(&edited, exp.String(), 10, 2, 2)
	if err != nil {
		fatal(err)
	}
	exp = bytes.Buffer{}
	data := edited.Bytes()
	regrouped := 0
	if *regroupFlag > 0 {
		data, regrouped = regroup(data, *regroupFlag)
	}
	fmt.Printf("file: %.1f MiB, %d rows changed (%d of them also in their groups), %d new, %d absent\n", mib(uint64(len(data))), changed, regrouped, added, dropped)

	// The rotation: rep 1 raw first on the first org, rep 2 memberkit
	// first with the raw bound on the second org, rep 3 raw first on the
	// second org, rep 4 memberkit first with the raw bound on the first.
	rawFirst := rep%2 == 0
	mkOrg, rawOrg := orgs[0], membership.Org{}
	if tg.db != nil {
		r := (rep + rep/2) % 2
		rawOrg, mkOrg = orgs[r], orgs[1-r]
		fmt.Printf("rotation: %s first; memberkit on org %d, raw on org %d (in order of generation)\n", map[bool]string{true: "raw", false: "memberkit"}[rawFirst], 2-r, r+1)
	}

	// The index a reconcile needs, alone.
	runtime.GC()
	base := liveHeap()
	idx := loginIndex(ctx, tg.st, mkOrg.ID)
	runtime.GC()
	indexSize := liveHeap() - min(base, liveHeap())
	runtime.KeepAlive(idx)
	idx = nil
	runtime.GC()

	var mk mkResult
	var raw rawResult
	runMK := func() {
		settle(ctx, tg)
		mk = mkReconcile(ctx, tg, files, mkOrg.ID, data)
	}
	runRaw := func() {
		settle(ctx, tg)
		raw = rawReconcile(ctx, tg, rawOrg.ID, data, hasher)
	}
	switch {
	case tg.db == nil:
		runMK()
	case rawFirst:
		runRaw()
		runMK()
	default:
		runMK()
		runRaw()
	}
	fmt.Printf("memberkit reconcile: %.2fs (parse %.2fs, plan %.2fs, apply %.2fs): %d added, %d updated, %d reactivated, %d deactivated, %d unchanged\n",
		mk.total.Seconds(), mk.parse.Seconds(), mk.plan.Seconds(), mk.apply.Seconds(), mk.res.Added, mk.res.Updated, mk.res.Reactivated, mk.res.Deactivated, mk.res.Unchanged)
	fmt.Printf("memory: peak live heap %.0f MiB above the start; login index alone %.0f MiB; ratio %.2f\n", mib(mk.peak), mib(indexSize), float64(mk.peak)/float64(max(indexSize, 1)))
	k := recKey{kind, n}
	if recResults[k] == nil {
		recResults[k] = &recStats{}
		recOrder = append(recOrder, k)
	}
	s := recResults[k]
	s.mk = append(s.mk, mk.total.Seconds())
	if tg.db != nil {
		fmt.Printf("raw lower bound: %.2fs (parse %.2fs, read+match %.2fs, write %.2fs, commit %.2fs): %d rows updated, %d deactivated, %d inserted, %d group rows written for %d changed and the new, %d events\n",
			raw.total.Seconds(), raw.parse.Seconds(), raw.read.Seconds(), raw.write.Seconds(), raw.commit.Seconds(),
			raw.updated, raw.deactivated, raw.inserted, raw.groupRows, raw.regrouped, raw.events)
		fmt.Printf("raw write: %s; %s\n", raw.technique, strings.Join(raw.steps, ", "))
		ratio := mk.total.Seconds() / raw.total.Seconds()
		fmt.Printf("rep %d: memberkit %.2fs, raw %.2fs, ratio memberkit / raw %.2f\n", rep+1, mk.total.Seconds(), raw.total.Seconds(), ratio)
		s.raw = append(s.raw, raw.total.Seconds())
		s.ratio = append(s.ratio, ratio)
		if *verifyFlag {
			verifyTwins(ctx, tg, mkOrg.ID, rawOrg.ID)
		}
	}

	// Naive reconcile on PostgreSQL.
	if tg.kind == "postgres" && n <= *naiveFlag {
		twin := must(gen.Org(ctx, tg.st, n, hash))
		analyze(ctx, tg)
		settle(ctx, tg)
		d := naiveReconcile(ctx, tg, twin.ID, data)
		fmt.Printf("naive reconcile (per row: select by login, then update or insert; autocommit): %.1fs, memberkit is %.1fx faster\n", d.Seconds(), d.Seconds()/mk.total.Seconds())
	}

	// A roster page in this org against a 1,000-member org.
	small := must(gen.Org(ctx, tg.st, 1000, hash))
	analyze(ctx, tg)
	big := pageTime(ctx, tg.st, mkOrg.ID)
	little := pageTime(ctx, tg.st, small.ID)
	fmt.Printf("roster page (50, group filter; best of 5 batches of 50): %.3fms in this org, %.3fms in a 1,000-member org, ratio %.2f\n",
		ms(big), ms(little), big.Seconds()/little.Seconds())
}

// reconcileSummary prints the medians of the reps per store and size.
func reconcileSummary() {
	if len(recOrder) == 0 {
		return
	}
	fmt.Printf("\n== reconcile summary (medians over the reps)\n")
	for _, k := range recOrder {
		s := recResults[k]
		if len(s.ratio) == 0 {
			fmt.Printf("%-9s %9d members: memberkit %.2fs (%d reps)\n", k.kind, k.n, median(s.mk), len(s.mk))
			continue
		}
		runs := make([]string, len(s.ratio))
		for i, r := range s.ratio {
			runs[i] = fmt.Sprintf("%.2f", r)
		}
		fmt.Printf("%-9s %9d members: memberkit %.2fs, raw %.2fs, median ratio %.2f (runs: %s)\n",
			k.kind, k.n, median(s.mk), median(s.raw), median(append([]float64(nil), s.ratio...)), strings.Join(runs, ", "))
	}
}

type mkResult struct {
	total, parse, plan, apply time.Duration
	peak                      uint64
	res                       *csvsync.Result
}

// mkReconcile parses, plans and applies the file through csvsync, as a
// host would, watching the live heap.
func mkReconcile(ctx context.Context, tg target, files *csvsync.Service, orgID string, data []byte) mkResult {
	var profile *os.File
	if cpu := os.Getenv("MEMBERKIT_SCALE_CPUPROFILE"); cpu != "" {
		profile = must(os.Create(cpu + "." + tg.kind))
		defer profile.Close()
	}
	runtime.GC()
	base := liveHeap()
	if profile != nil {
		_ = pprof.StartCPUProfile(profile)
	}
	peak := watchPeak()
	t0 := time.Now()
	file, err := csvsync.Parse(bytes.NewReader(data), nil)
	if err != nil {
		fatal(err)
	}
	tParse := time.Since(t0)
	plan, err := files.Plan(ctx, sys, orgID, file, &csvsync.PlanOptions{TemporaryPassword: tempPassword})
	if err != nil {
		fatal(err)
	}
	tPlan := time.Since(t0) - tParse
	res, err := files.Apply(ctx, sys, orgID, plan, nil)
	if err != nil {
		fatal(err)
	}
	total := time.Since(t0)
	p := peak()
	if profile != nil {
		pprof.StopCPUProfile()
	}
	return mkResult{total: total, parse: tParse, plan: tPlan, apply: total - tParse - tPlan, peak: p - min(base, p), res: res}
}

// regroup changes the Groupes cell of pct% of the changed rows (those
// gen.Edit gave a "-Modifié" last name) and gives every new row a group,
// so that the reconcile rewrites group rows too.
func regroup(data []byte, pct int) ([]byte, int) {
	lines := strings.Split(strings.TrimRight(string(data), "\r\n"), "\r\n")
	every := max(100/pct, 1)
	changed, n := 0, 0
	for i := 1; i < len(lines); i++ {
		cells := strings.Split(lines[i], ";")
		switch {
		case len(cells) == 6: // a new row: no Rôle nor Groupes cell
			lines[i] += ";;Support"
		case len(cells) >= 8 && strings.HasSuffix(cells[1], "-Modifié"):
			if changed%every == 0 {
				if cells[7] == "Support" {
					cells[7] = "Ventes"
				} else {
					cells[7] = "Support"
				}
				lines[i] = strings.Join(cells, ";")
				n++
			}
			changed++
		}
	}
	return []byte(strings.Join(lines, "\r\n") + "\r\n"), n
}

// pageTime is the time of the first page (50 members, group filter): the
// best of 5 batches of 50 pages, each batch after a collection, so that
// both orgs are measured alike whatever garbage the reconcile left.
func pageTime(ctx context.Context, st store.Store, orgID string) time.Duration {
	svc := must(roster.New(st, nil))
	q := roster.ListQuery{Group: "Lyon", Limit: 50}
	if _, err := svc.List(ctx, sys, orgID, q); err != nil { // warm up
		fatal(err)
	}
	const rounds = 50
	best := time.Duration(1<<63 - 1)
	for range 5 {
		runtime.GC()
		t0 := time.Now()
		for range rounds {
			p, err := svc.List(ctx, sys, orgID, q)
			if err != nil || len(p.Members) != 50 {
				fatalf("page: %v (%d members)", err, len(p.Members))
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
