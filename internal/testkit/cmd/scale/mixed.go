package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/memberkit/memberkit/internal/testkit/gen"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// The mix of operations of -mode mixed, in percent.
var mix = []struct {
	name string
	pct  int
}{{"Edit", 40}, {"Deactivate", 20}, {"Activate", 20}, {"ChangeRole", 10}, {"Add", 10}}

// mixWorker is one goroutine's share: an org, its admin as actor, the
// org's Manager role, and the members no other goroutine touches (none
// of them an admin, so that no deactivation or role change is refused
// for leaving the org without one).
type mixWorker struct {
	orgID   string
	actor   membership.Actor
	manager string
	members []*member
	prefix  string // of the logins it adds
}

// mixStats is what the goroutines of one case measured.
type mixStats struct {
	mu      sync.Mutex
	times   map[string][]time.Duration // successes, per operation
	all     []time.Duration
	refused map[string]int // refusals by the rules: not failures
	failed  map[string]int // failures, by kind
}

func mixed(ctx context.Context, kind string, n int) {
	workers := *workersFlag
	fmt.Printf("\n== mixed: %s, %d goroutines, %s per case\n", kind, workers, *durationFlag)
	tg := open(ctx, kind)
	defer tg.done()
	hash := must(membership.NewArgon2Hasher(nil).Hash("shared-password"))
	svc := must(roster.New(tg.st, nil))
	t0 := time.Now()
	one := must(gen.Org(ctx, tg.st, n, hash))
	per := max(n/workers, 1)
	many := make([]membership.Org, workers)
	for w := range many {
		many[w] = must(gen.Org(ctx, tg.st, per, hash))
	}
	analyze(ctx, tg)
	pool := "memstore: no pool"
	if tg.db != nil {
		pool = fmt.Sprintf("pool: SetMaxOpenConns(%d), SetMaxIdleConns(%d); sqlstore's default retries (8)", *connsFlag, *connsFlag)
	}
	fmt.Printf("generate: %.1fs (one org of %d, %d orgs of %d); %s\n", time.Since(t0).Seconds(), n, workers, per, pool)

	// (a) every goroutine on the one org, each on its own members.
	admin, others := orgMembers(ctx, tg.st, one.ID)
	actor := membership.ActorMember(admin.id)
	manager := createManagerRole(ctx, svc, actor, one.ID)
	ws := make([]mixWorker, workers)
	for w := range ws {
		ws[w] = mixWorker{orgID: one.ID, actor: actor, manager: manager, prefix: fmt.Sprintf("mixa.%d", w)}
	}
	for i := range others {
		if m := &others[i]; m.role == membership.RoleUser {
			ws[i%workers].members = append(ws[i%workers].members, m)
		}
	}
	settle(ctx, tg)
	if cpu := os.Getenv("MEMBERKIT_SCALE_CPUPROFILE"); cpu != "" { // case (a) only
		profile := must(os.Create(cpu + ".mixed." + kind))
		_ = pprof.StartCPUProfile(profile)
		defer profile.Close()
	}
	st, el := runMixed(ctx, svc, ws)
	pprof.StopCPUProfile()
	report(fmt.Sprintf("(a) one org of %d members, %d goroutines", n, workers), st, el)
	checkOrgs(ctx, tg, one)

	// (b) each goroutine on an org of its own.
	for w := range ws {
		admin, others := orgMembers(ctx, tg.st, many[w].ID)
		actor := membership.ActorMember(admin.id)
		ws[w] = mixWorker{orgID: many[w].ID, actor: actor, manager: createManagerRole(ctx, svc, actor, many[w].ID), prefix: fmt.Sprintf("mixb.%d", w)}
		for i := range others {
			if m := &others[i]; m.role == membership.RoleUser {
				ws[w].members = append(ws[w].members, m)
			}
		}
	}
	settle(ctx, tg)
	st, el = runMixed(ctx, svc, ws)
	report(fmt.Sprintf("(b) %d orgs of %d members, one goroutine each", workers, per), st, el)
	checkOrgs(ctx, tg, many...)
}

// runMixed runs the workers for -duration and returns what they measured
// and the time from the start to the end of the last operation.
func runMixed(ctx context.Context, svc *roster.Service, ws []mixWorker) (*mixStats, time.Duration) {
	s := &mixStats{times: map[string][]time.Duration{}, refused: map[string]int{}, failed: map[string]int{}}
	start := time.Now()
	end := start.Add(*durationFlag)
	var wg sync.WaitGroup
	for w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runWorker(ctx, svc, &ws[w], rand.New(rand.NewPCG(*seedFlag, uint64(w))), end, s)
		}()
	}
	wg.Wait()
	return s, time.Since(start)
}

func runWorker(ctx context.Context, svc *roster.Service, w *mixWorker, rng *rand.Rand, end time.Time, s *mixStats) {
	var active, inactive []*member
	for _, m := range w.members {
		if m.status == membership.StatusActive {
			active = append(active, m)
		} else {
			inactive = append(inactive, m)
		}
	}
	// pick removes a random member from list.
	pick := func(list *[]*member) *member {
		i := rng.IntN(len(*list))
		m := (*list)[i]
		(*list)[i] = (*list)[len(*list)-1]
		*list = (*list)[:len(*list)-1]
		return m
	}
	added := 0
	var times []time.Duration
	byOp := map[string][]time.Duration{}
	refused, failed := map[string]int{}, map[string]int{}
	for time.Now().Before(end) {
		r, op := rng.IntN(100), ""
		for _, o := range mix {
			if r < o.pct {
				op = o.name
				break
			}
			r -= o.pct
		}
		switch {
		case op == "Deactivate" && len(active) == 0:
			op = "Activate"
		case op == "Activate" && len(inactive) == 0:
			op = "Deactivate"
		}
		if (op == "Deactivate" && len(active) == 0) || (op == "Activate" && len(inactive) == 0) || len(w.members) == 0 {
			op = "Add"
		}
		var err error
		var undo func() // puts the tracked state back when the operation failed
		t0 := time.Now()
		switch op {
		case "Edit":
			m := w.members[rng.IntN(len(w.members))]
			first := editedName(m.first)
			if rest, ok := strings.CutPrefix(m.first, "Marie-"); ok {
				first = rest
			}
			_, err = svc.Edit(ctx, w.actor, w.orgID, m.id, roster.Patch{FirstName: &first})
			if err == nil {
				m.first = first
			}
		case "Deactivate":
			m := pick(&active)
			_, err = svc.Deactivate(ctx, w.actor, w.orgID, m.id)
			m.status = membership.StatusDeactivated
			inactive = append(inactive, m)
			undo = func() {
				m.status = membership.StatusActive
				inactive = inactive[:len(inactive)-1]
				active = append(active, m)
			}
		case "Activate":
			m := pick(&inactive)
			_, err = svc.Activate(ctx, w.actor, w.orgID, m.id)
			m.status = membership.StatusActive
			active = append(active, m)
			undo = func() {
				m.status = membership.StatusDeactivated
				active = active[:len(active)-1]
				inactive = append(inactive, m)
			}
		case "ChangeRole":
			m := w.members[rng.IntN(len(w.members))]
			to := w.manager
			if m.role == w.manager {
				to = membership.RoleUser
			}
			_, err = svc.ChangeRole(ctx, w.actor, w.orgID, m.id, to)
			if err == nil {
				m.role = to
			}
		case "Add":
			added++
			login := fmt.Sprintf("%s.%d", w.prefix, added)
			var a roster.Added
			a, err = svc.Add(ctx, w.actor, w.orgID, roster.NewMember{Login: login, Email: login + "@example.net", FirstName: "Léa", LastName: "Nouvelle", Groups: []string{"Paris"}, NoPassword: true})
			if err == nil {
				m := &member{id: a.Member.ID, login: login, email: login + "@example.net", first: "Léa", last: "Nouvelle", role: membership.RoleUser, status: membership.StatusActive}
				w.members = append(w.members, m)
				active = append(active, m)
			}
		}
		d := time.Since(t0)
		if err != nil {
			if undo != nil {
				undo()
			}
			if k, isFailure := errKind(err); isFailure {
				failed[op+": "+k]++
			} else {
				refused[op+": "+k]++
			}
			continue
		}
		times = append(times, d)
		byOp[op] = append(byOp[op], d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all = append(s.all, times...)
	for op, ts := range byOp {
		s.times[op] = append(s.times[op], ts...)
	}
	for k, v := range refused {
		s.refused[k] += v
	}
	for k, v := range failed {
		s.failed[k] += v
	}
}

// errKind names an error's kind and says whether it is a failure: a
// refusal by the rules (last admin, seats, permission) is the service
// doing its job; a conflict, a database that did not answer, or retries
// exhausted on deadlocks, serialization failures or a busy database are
// failures.
func errKind(err error) (string, bool) {
	switch {
	case errors.Is(err, membership.ErrLastAdmin):
		return "last admin", false
	case errors.Is(err, membership.ErrMemberLimit):
		return "member limit", false
	case errors.Is(err, membership.ErrForbidden):
		return "forbidden", false
	case errors.Is(err, membership.ErrConflict):
		return "conflict", true
	case errors.Is(err, store.ErrUnavailable):
		return "unavailable", true
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "context ended", true
	}
	msg := err.Error()
	for _, k := range []struct{ sub, kind string }{
		{"deadlock", "deadlock (retries exhausted)"},
		{"could not serialize", "serialization failure (retries exhausted)"},
		{"40001", "serialization failure (retries exhausted)"},
		{"database is locked", "busy (retries exhausted)"},
		{"SQLITE_BUSY", "busy (retries exhausted)"},
		{"Lock wait timeout", "lock wait timeout (retries exhausted)"},
	} {
		if strings.Contains(msg, k.sub) {
			return k.kind, true
		}
	}
	if len(msg) > 100 {
		msg = msg[:100] + "…"
	}
	return "other: " + msg, true
}

func report(name string, s *mixStats, elapsed time.Duration) {
	slices.Sort(s.all)
	nfail, nref := 0, 0
	for _, v := range s.failed {
		nfail += v
	}
	for _, v := range s.refused {
		nref += v
	}
	fmt.Printf("%s: %d operations in %.1fs: %.0f operations/s, p50 %.2f ms, p99 %.2f ms; %d failed, %d refused by the rules\n", name,
		len(s.all), elapsed.Seconds(), float64(len(s.all))/elapsed.Seconds(), ms(percentile(s.all, 0.5)), ms(percentile(s.all, 0.99)), nfail, nref)
	for _, o := range mix {
		ts := s.times[o.name]
		slices.Sort(ts)
		fmt.Printf("  %-10s %6d ok, p50 %7.2f ms, p99 %7.2f ms\n", o.name, len(ts), ms(percentile(ts, 0.5)), ms(percentile(ts, 0.99)))
	}
	for _, m := range []struct {
		what string
		m    map[string]int
	}{{"failed", s.failed}, {"refused", s.refused}} {
		keys := make([]string, 0, len(m.m))
		for k := range m.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Printf("  %s: %s × %d\n", m.what, k, m.m[k])
		}
	}
}

// checkOrgs checks, after a case, that each org's counters match its
// rows and that its events are numbered 1…n with event_seq n.
func checkOrgs(ctx context.Context, tg target, orgs ...membership.Org) {
	if tg.db == nil {
		return
	}
	for _, o := range orgs {
		var active, admins, countedActive, countedAdmins int64
		err := tg.db.QueryRowContext(ctx, rebind(tg.d, `SELECT o.active_members, o.active_admins, `+
			`(SELECT COUNT(*) FROM memberkit_members m WHERE m.org_id = o.id AND m.status = 'active'), `+
			`(SELECT COUNT(*) FROM memberkit_members m WHERE m.org_id = o.id AND m.status = 'active' AND m.role_id = 'admin') `+
			`FROM memberkit_orgs o WHERE o.id = ?`), o.ID).Scan(&active, &admins, &countedActive, &countedAdmins)
		if err != nil {
			fatal(err)
		}
		if active != countedActive || admins != countedAdmins {
			fatalf("check: org %s counts %d active members and %d admins, its rows %d and %d", o.ID, active, admins, countedActive, countedAdmins)
		}
		checkEventSeq(ctx, tg, o.ID)
	}
	fmt.Printf("  check: %d org(s): counters match the rows, events numbered without a gap\n", len(orgs))
}
