package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/memberkit/memberkit/internal/testkit/gen"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// member is what the latency and mixed modes track of a member.
type member struct {
	id, login, email, first, last, role string
	status                              membership.Status
}

// orgMembers reads an org's members through the store, and returns its
// first active admin (gen.Org makes member 0 one) apart.
func orgMembers(ctx context.Context, st store.Store, orgID string) (admin member, others []member) {
	err := st.View(ctx, orgID, func(tx store.Tx) error {
		for m, err := range tx.Members(ctx, store.MemberQuery{}) {
			if err != nil {
				return err
			}
			mm := member{id: m.ID, login: m.Login, email: m.Email, first: m.FirstName, last: m.LastName, role: m.RoleID, status: m.Status}
			if admin.id == "" && m.RoleID == membership.RoleAdmin && m.Status == membership.StatusActive {
				admin = mm
				continue
			}
			others = append(others, mm)
		}
		return nil
	})
	if err != nil {
		fatal(err)
	}
	if admin.id == "" {
		fatal("no active admin in the generated org")
	}
	return admin, others
}

// createManagerRole creates the custom role ChangeRole gives: members may
// be read and managed.
func createManagerRole(ctx context.Context, svc *roster.Service, actor membership.Actor, orgID string) string {
	r := must(svc.CreateRole(ctx, actor, orgID, "Manager"))
	must(svc.UpdateRole(ctx, actor, orgID, r.ID, "Manager", []membership.Permission{membership.PermMembersRead, membership.PermMembersManage}))
	return r.ID
}

// editedName is the first name an Edit gives.
func editedName(first string) string { return "Marie-" + first }

// The sides of the latency mode, interleaved per iteration.
const (
	sideMK = iota
	sideRaw
	sideRow
	nSides
)

var sideNames = [nSides]string{"memberkit", "raw tx", "raw row only"}

func latency(ctx context.Context, kind string, n int) {
	fmt.Printf("\n== latency: %s, %d members, %d operations of each kind per side\n", kind, n, *opsFlag)
	if kind == "memstore" {
		fmt.Println("memstore: no SQL transaction to compare with; skipped")
		return
	}
	tg := open(ctx, kind)
	defer tg.done()
	hash := must(membership.NewArgon2Hasher(nil).Hash("shared-password"))
	t0 := time.Now()
	org := must(gen.Org(ctx, tg.st, n, hash))
	analyze(ctx, tg)
	fmt.Printf("generate: %.1fs; pool: SetMaxOpenConns(%d), the raw side on one connection of its own\n", time.Since(t0).Seconds(), *connsFlag)
	svc := must(roster.New(tg.st, nil))
	admin, others := orgMembers(ctx, tg.st, org.ID)
	actor := membership.ActorMember(admin.id)
	manager := createManagerRole(ctx, svc, actor, org.ID)
	raw := newRawOps(ctx, tg, org.ID, actor.String())
	defer raw.close()
	if cpu := os.Getenv("MEMBERKIT_SCALE_CPUPROFILE"); cpu != "" { // both sides: tell them apart by function
		profile := must(os.Create(cpu + ".latency." + kind))
		defer profile.Close()
		_ = pprof.StartCPUProfile(profile)
		defer pprof.StopCPUProfile()
	}

	// Each side gets its own third of the non-admin members, shuffled, so
	// that no member is touched by two sides.
	rng := rand.New(rand.NewPCG(*seedFlag, 7))
	rng.Shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
	var pools [nSides][]*member
	for i := range others {
		if others[i].role == membership.RoleUser {
			pools[i%nSides] = append(pools[i%nSides], &others[i])
		}
	}
	// take returns the next k members of the side's pool that pass ok,
	// distinct while the pool lasts, then again from its start.
	next := [nSides]int{}
	take := func(side, k int, ok func(*member) bool) []*member {
		var out []*member
		pool := pools[side]
		for tries := 0; len(out) < k && tries < 2*len(pool); tries++ {
			m := pool[next[side]%len(pool)]
			next[side]++
			if ok(m) {
				out = append(out, m)
			}
		}
		if len(out) < k {
			fatalf("latency: %d members of side %s fit, %d needed: use a larger -sizes", len(out), sideNames[side], k)
		}
		return out
	}
	active := func(m *member) bool { return m.status == membership.StatusActive }
	ops := *opsFlag
	warm := max(ops/20, 3)
	added := 0

	type opKind struct {
		name string
		// targets picks the members of an operation's iterations;
		// run does iteration i on the side's member.
		targets func(side, k int) []*member
		mk      func(i int, m *member) error
		raw     func(i int, m *member) rawSingle
	}
	var deactivated [nSides][]*member
	var promoted [nSides][]*member
	statusOp := func(to membership.Status, typ membership.EventType, d int) func(i int, m *member) rawSingle {
		return func(i int, m *member) rawSingle {
			before := m.status
			m.status = to
			return rawSingle{memberID: m.id, set: []string{"status = ?", "security_stamp = ?"}, args: []any{string(to), membership.NewSecurityStamp()}, dActive: d,
				event: membership.Event{Type: typ, RoleBefore: m.role, RoleAfter: m.role, StatusBefore: before, StatusAfter: to}}
		}
	}
	kinds := []opKind{
		{"Deactivate",
			func(side, k int) []*member { deactivated[side] = take(side, k, active); return deactivated[side] },
			func(i int, m *member) error {
				_, err := svc.Deactivate(ctx, actor, org.ID, m.id)
				m.status = membership.StatusDeactivated
				return err
			},
			statusOp(membership.StatusDeactivated, membership.EventMemberDeactivated, -1)},
		{"Activate",
			func(side, k int) []*member { return deactivated[side] },
			func(i int, m *member) error {
				_, err := svc.Activate(ctx, actor, org.ID, m.id)
				m.status = membership.StatusActive
				return err
			},
			statusOp(membership.StatusActive, membership.EventMemberActivated, 1)},
		{"ChangeRole",
			// Iteration 2j gives member j the Manager role, 2j+1 gives it
			// back the user role.
			func(side, k int) []*member {
				promoted[side] = take(side, (k+1)/2, active)
				out := make([]*member, 0, k)
				for _, m := range promoted[side] {
					out = append(out, m, m)
				}
				return out[:k]
			},
			func(i int, m *member) error {
				to := manager
				if i%2 == 1 {
					to = membership.RoleUser
				}
				_, err := svc.ChangeRole(ctx, actor, org.ID, m.id, to)
				m.role = to
				return err
			},
			func(i int, m *member) rawSingle {
				before, to := m.role, manager
				if i%2 == 1 {
					to = membership.RoleUser
				}
				m.role = to
				return rawSingle{memberID: m.id, set: []string{"role_id = ?", "security_stamp = ?"}, args: []any{to, membership.NewSecurityStamp()},
					event: membership.Event{Type: membership.EventMemberRoleChanged, RoleBefore: before, RoleAfter: to, StatusBefore: m.status, StatusAfter: m.status}}
			}},
		{"Edit",
			func(side, k int) []*member { return take(side, k, active) },
			func(i int, m *member) error {
				first := editedName(m.first)
				_, err := svc.Edit(ctx, actor, org.ID, m.id, roster.Patch{FirstName: &first})
				m.first = first
				return err
			},
			func(i int, m *member) rawSingle {
				m.first = editedName(m.first)
				search := membership.SearchText(membership.Member{FirstName: m.first, LastName: m.last, Login: m.login, Email: m.email})
				return rawSingle{memberID: m.id, set: []string{"first_name = ?", "search_text = ?"}, args: []any{m.first, search},
					event: membership.Event{Type: membership.EventMemberUpdated, RoleBefore: m.role, RoleAfter: m.role, StatusBefore: m.status, StatusAfter: m.status, Detail: "changed: first_name"}}
			}},
		{"Add",
			func(side, k int) []*member {
				out := make([]*member, k)
				for i := range out {
					added++
					login := fmt.Sprintf("ajout.%d", added)
					out[i] = &member{login: login, email: login + "@example.net", first: "Léa", last: "Nouvelle", role: membership.RoleUser, status: membership.StatusActive}
				}
				return out
			},
			func(i int, m *member) error {
				a, err := svc.Add(ctx, actor, org.ID, roster.NewMember{Login: m.login, Email: m.email, FirstName: m.first, LastName: m.last, Groups: []string{"Paris"}, NoPassword: true})
				m.id = a.Member.ID
				return err
			},
			func(i int, m *member) rawSingle {
				now := store.Time(time.Now())
				nm := membership.Member{ID: membership.NewID(), OrgID: org.ID, Login: m.login, Email: m.email, FirstName: m.first, LastName: m.last, RoleID: m.role,
					Status: m.status, Groups: []string{"Paris"}, CreatedAt: now, UpdatedAt: now, SecurityStamp: membership.NewSecurityStamp()}
				m.id = nm.ID
				return rawSingle{memberID: nm.ID, insert: &nm, dActive: 1,
					event: membership.Event{Type: membership.EventMemberAdded, RoleAfter: nm.RoleID, StatusAfter: nm.Status}}
			}},
	}

	type result struct {
		name  string
		times [nSides][]time.Duration
	}
	var results []result
	touched := [nSides]map[string]bool{{}, {}, {}}
	settle(ctx, tg)
	for _, k := range kinds {
		var targets [nSides][]*member
		for side := range nSides {
			targets[side] = k.targets(side, warm+ops)
		}
		res := result{name: k.name}
		for i := range warm + ops {
			// The sides take turns at going first.
			for j := range nSides {
				side := (i + j) % nSides
				m := targets[side][i]
				var d time.Duration
				switch side {
				case sideMK:
					t := time.Now()
					if err := k.mk(i, m); err != nil {
						fatalf("latency: %s: %v", k.name, err)
					}
					d = time.Since(t)
				case sideRaw:
					d = raw.run(ctx, k.raw(i, m), false)
				case sideRow:
					d = raw.run(ctx, k.raw(i, m), true)
				}
				touched[side][m.id] = true
				if i >= warm {
					res.times[side] = append(res.times[side], d)
				}
			}
		}
		results = append(results, res)
	}

	fmt.Printf("%-11s %21s %21s %21s %17s %17s\n", "operation", "memberkit p50 / p99", "raw tx p50 / p99", "row only p50 / p99", "p50 mk / raw tx", "p50 mk / row")
	for _, r := range results {
		var p50, p99 [nSides]time.Duration
		for side := range nSides {
			slices.Sort(r.times[side])
			p50[side], p99[side] = percentile(r.times[side], 0.50), percentile(r.times[side], 0.99)
		}
		fmt.Printf("%-11s %9.3f / %7.3f ms %9.3f / %7.3f ms %9.3f / %7.3f ms %16.2fx %16.2fx\n", r.name,
			ms(p50[sideMK]), ms(p99[sideMK]), ms(p50[sideRaw]), ms(p99[sideRaw]), ms(p50[sideRow]), ms(p99[sideRow]),
			p50[sideMK].Seconds()/p50[sideRaw].Seconds(), p50[sideMK].Seconds()/p50[sideRow].Seconds())
	}
	fmt.Printf("(%d timed operations of each kind per side after %d untimed ones; ChangeRole alternates to Manager and back to user)\n", ops, warm)
	events := checkEventSeq(ctx, tg, org.ID)
	fmt.Printf("check: %d events numbered 1…%d, the org's event_seq %d\n", events, events, events)
	checkSameWrites(ctx, tg, org.ID, touched[sideMK], touched[sideRaw])
}

// checkSameWrites checks that the raw transactions wrote what memberkit
// wrote: the members each side touched, taken as a multiset of their
// rows' shapes (status, role, version, stamp set, updated since created,
// groups and their rows, search text and keys as memberkit computes
// them, password, attributes), and the events about them (type, roles
// and statuses before and after, detail, attributes, actor) are equal.
func checkSameWrites(ctx context.Context, tg target, orgID string, mk, raw map[string]bool) {
	groups := map[string][]string{}
	rows := must(tg.db.QueryContext(ctx, rebind(tg.d, `SELECT member_id, group_key, login_key FROM memberkit_member_groups WHERE org_id = ? ORDER BY member_id, group_key`), orgID))
	for rows.Next() {
		var id, g, l string
		if err := rows.Scan(&id, &g, &l); err != nil {
			fatal(err)
		}
		groups[id] = append(groups[id], g+"@"+l)
	}
	rows.Close()
	var mkRows, rawRows []string
	rows = must(tg.db.QueryContext(ctx, rebind(tg.d, `SELECT id, login, login_key, email, COALESCE(email_key, ''), first_name, last_name, status, role_id, version, security_stamp, created_at, updated_at, `+
		`groups_text, search_text, CASE WHEN must_change_password THEN 1 ELSE 0 END, password_hash, attributes, user_id, CASE WHEN user_key IS NULL THEN 1 ELSE 0 END, CASE WHEN last_login_at IS NULL THEN 1 ELSE 0 END `+
		`FROM memberkit_members WHERE org_id = ?`), orgID))
	for rows.Next() {
		var id, login, loginKey, email, emailKey, first, last, status, role, stamp, groupsText, search, hash, attrs, user string
		var version, created, updated int64
		var mustChange, noUserKey, noLogin int
		if err := rows.Scan(&id, &login, &loginKey, &email, &emailKey, &first, &last, &status, &role, &version, &stamp, &created, &updated,
			&groupsText, &search, &mustChange, &hash, &attrs, &user, &noUserKey, &noLogin); err != nil {
			fatal(err)
		}
		if !mk[id] && !raw[id] {
			continue
		}
		// The groups of the members generated differ from one to the
		// next: only an added member's are compared; everyone's group rows
		// must be those of its groups.
		var want []string
		for _, g := range splitStored(groupsText) {
			want = append(want, membership.GroupKey(g)+"@"+loginKey)
		}
		slices.Sort(want)
		added := ""
		if version == 1 {
			added = groupsText
		}
		shape := fmt.Sprintf("status %s, role %s, version %d, stamp set %t, updated since created %t, added with groups %q, group rows right %t, search text right %t, login key right %t, email key right %t, must change %d, hash %q, attributes %q, user %q/%d, last login null %d",
			status, role, version, stamp != "", updated > created, added, slices.Equal(want, groups[id]),
			search == membership.SearchText(membership.Member{FirstName: first, LastName: last, Login: login, Email: email}),
			loginKey == membership.LoginKey(login), emailKey == membership.EmailKey(email), mustChange, hash, attrs, user, noUserKey, noLogin)
		if mk[id] {
			mkRows = append(mkRows, shape)
		} else {
			rawRows = append(rawRows, shape)
		}
	}
	rows.Close()
	var mkEvents, rawEvents []string
	rows = must(tg.db.QueryContext(ctx, rebind(tg.d, `SELECT subject_id, type, role_before, role_after, status_before, status_after, detail, attributes, actor FROM memberkit_events WHERE org_id = ?`), orgID))
	for rows.Next() {
		var f [9]string
		if err := rows.Scan(&f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8]); err != nil {
			fatal(err)
		}
		e := strings.Join(f[1:], " | ")
		switch {
		case mk[f[0]]:
			mkEvents = append(mkEvents, e)
		case raw[f[0]]:
			rawEvents = append(rawEvents, e)
		}
	}
	rows.Close()
	for _, part := range []struct {
		name    string
		mk, raw []string
	}{{"member rows", mkRows, rawRows}, {"events", mkEvents, rawEvents}} {
		slices.Sort(part.mk)
		slices.Sort(part.raw)
		if !slices.Equal(part.mk, part.raw) {
			for i := range min(len(part.mk), len(part.raw)) {
				if part.mk[i] != part.raw[i] {
					fmt.Printf("  memberkit: %s\n  raw:       %s\n", part.mk[i], part.raw[i])
					break
				}
			}
			fatalf("check: the raw transactions' %s differ from memberkit's (%d against %d)", part.name, len(part.raw), len(part.mk))
		}
	}
	fmt.Printf("check: the raw transactions wrote what memberkit wrote (%d members' rows, %d events alike)\n", len(mkRows), len(mkEvents))
}

// checkEventSeq checks that the events memberkit and the raw
// transactions appended to an org are numbered 1…n without a gap, and
// that the org's event_seq is n; it returns n.
func checkEventSeq(ctx context.Context, tg target, orgID string) int64 {
	var seq, count, distinct, last int64
	err := tg.db.QueryRowContext(ctx, rebind(tg.d, `SELECT o.event_seq, COUNT(e.seq), COUNT(DISTINCT e.seq), COALESCE(MAX(e.seq), 0) FROM memberkit_orgs o `+
		`LEFT JOIN memberkit_events e ON e.org_id = o.id WHERE o.id = ? GROUP BY o.event_seq`), orgID).Scan(&seq, &count, &distinct, &last)
	if err != nil {
		fatal(err)
	}
	if seq != count || count != distinct || last != count {
		fatalf("check: the org's event_seq is %d, its events %d (%d distinct seq, the last %d)", seq, count, distinct, last)
	}
	return count
}
