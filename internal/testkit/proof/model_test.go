package proof

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memberkit/memberkit/internal/testkit"

	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/domains"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// A model-based randomized test: a seeded generator makes a schedule of
// operations that several goroutines run against one org at once (through
// two *sql.DB pools on PostgreSQL and MariaDB). After each schedule the
// invariants hold, and replaying sequentially, in commit order, the
// operations that changed something gives the same roster.
//
// MEMBERKIT_SCHEDULES sets how many schedules run per store (long mode:
// 10000); MEMBERKIT_SEED replays one schedule.

type opKind string

const (
	opAdd        opKind = "add"
	opInvite     opKind = "invite"
	opAccept     opKind = "accept"
	opResend     opKind = "resend"
	opCancel     opKind = "cancel"
	opRole       opKind = "role"
	opDeactivate opKind = "deactivate"
	opActivate   opKind = "activate"
	opBulk       opKind = "bulk"
	opRemove     opKind = "remove"
	opImport     opKind = "import"
	opJoin       opKind = "join"        // a host account joins by the verified domain
	opAcceptUser opKind = "accept-user" // a host account accepts its invitation
)

type modelOp struct {
	kind   opKind
	person int   // index in the people pool
	others []int // bulk: more people
	role   string
	file   string // import
	actor  int    // who acts: one of modelActors

	// filled by the run
	err   error
	order string // ID of the first event it committed; "" when it changed nothing
}

// modelActors are who may act: the system, an admin, a manager (a custom
// role with members.manage, invitations.manage and csv.import but not
// every permission) and a plain user. Members act within their power; the
// schedule tries everything, and the checks prove no escalation happens.
var modelActors = []string{"system", "admin.one", "manager.model", "prenom0.modele"}

// managerPerms is the manager's custom role.
var managerPerms = []membership.Permission{membership.PermMembersRead, membership.PermMembersManage, membership.PermInvitationsManage, membership.PermCSVImport}

func (o *modelOp) String() string {
	s := fmt.Sprintf("%s p%d by %s", o.kind, o.person, modelActors[o.actor])
	if o.role != "" {
		s += " " + o.role
	}
	if len(o.others) > 0 {
		s += fmt.Sprint(" ", o.others)
	}
	return s
}

const poolSize = 10

func person(i int) (first, last, login, email string) {
	first = fmt.Sprintf("Prénom%d", i)
	last = "Modèle"
	return first, last, membership.DefaultLogin(first, last), fmt.Sprintf("p%d@model.example", i)
}

// schedule makes goroutines × perG operations from a seed.
func schedule(seed uint64, goroutines, perG int) [][]*modelOp {
	r := rand.New(rand.NewPCG(seed, 7))
	kinds := []opKind{opAdd, opAdd, opInvite, opInvite, opAccept, opAccept, opResend, opCancel, opRole, opRole, opDeactivate, opActivate, opBulk, opRemove, opImport,
		opJoin, opJoin, opAcceptUser}
	// The provider's operations, and accepts drawn more often so that
	// the rarer paths still come up in a short run (see the check at the
	// end of TestModelRandomizedConcurrency).
	kinds = append(kinds, scimKinds...)
	kinds = append(kinds, opAcceptUser, opAcceptUser, opAccept)
	out := make([][]*modelOp, goroutines)
	for g := range out {
		for range perG {
			o := &modelOp{kind: kinds[r.IntN(len(kinds))], person: r.IntN(poolSize), actor: r.IntN(len(modelActors))}
			if r.IntN(8) == 0 {
				o.person = -3 // the manager as a target
			}
			switch o.kind {
			case opRole, opInvite:
				o.role = []string{membership.RoleAdmin, membership.RoleUser, "managers"}[r.IntN(3)]
			case opBulk:
				o.others = []int{r.IntN(poolSize), -1 - r.IntN(2)} // -1, -2: the seeded admins
			case opImport:
				var b strings.Builder
				b.WriteString("Identifiant;Nom;Prénom;Adresse e-mail;Mot de passe;Etat\n")
				b.WriteString("admin.one;One;Admin;admin1@model.example;;Activé\n")
				if r.IntN(2) == 0 {
					b.WriteString("admin.two;Two;Admin;admin2@model.example;;Activé\n")
				}
				if r.IntN(2) == 0 {
					b.WriteString("manager.model;Model;Manager;manager@model.example;;Activé\n")
				}
				for i := range poolSize {
					if r.IntN(3) == 0 {
						first, last, login, email := person(i)
						state := []string{"Activé", "Désactivé"}[r.IntN(2)]
						fmt.Fprintf(&b, "%s;%s;%s;%s;;%s\n", login, last, first, email, state)
					}
				}
				o.file = b.String()
			}
			out[g] = append(out[g], o)
		}
	}
	return out
}

type modelEnv struct {
	managers string // the custom role's ID in this org
	st       store.Store
	roster   *roster.Service
	invites  *invite.Service
	csv      *csvsync.Service
	domains  *domains.Service
	sender   *invite.RecordingSender
	org      string
	scim     *scimEnv // the identity provider's side
}

type opKey struct{}

// tokenFor is the token of the invitation last mailed to email, as the
// invitee finds it: an invitation sent by another goroutine of the
// schedule a moment before is waited for briefly (a few milliseconds),
// so that accepts are exercised on every store whatever its speed.
func (e *modelEnv) tokenFor(email string) string {
	for range 10 {
		if tok := e.sender.TokenFor(email); tok != "" {
			return tok
		}
		time.Sleep(time.Millisecond)
	}
	return ""
}

func newModelEnv(t testing.TB, st store.Store, orgID string, sender *invite.RecordingSender) *modelEnv {
	hook := func(ctx context.Context, evs []membership.Event) {
		if o, ok := ctx.Value(opKey{}).(*modelOp); ok && len(evs) > 0 && o.order == "" {
			o.order = evs[0].ID
		}
	}
	h := fastHasher()
	inv, err := invite.New(st, sender, &invite.Options{Hasher: h, AfterCommit: hook})
	if err != nil {
		panic(err)
	}
	ds, err := domains.New(st, &domains.Options{AfterCommit: hook})
	if err != nil {
		panic(err)
	}
	var managers string
	_ = st.View(context.Background(), orgID, func(tx store.Tx) error {
		roles, err := tx.Roles(context.Background())
		for _, r := range roles {
			if r.Name == "Managers" {
				managers = r.ID
			}
		}
		return err
	})
	e := &modelEnv{st: st, org: orgID, sender: sender, invites: inv, managers: managers, domains: ds,
		roster: testkit.Roster(t, st, &roster.Options{Hasher: h, AfterCommit: hook}),
		csv:    testkit.CSV(t, st, &csvsync.Options{Hasher: h, AfterCommit: hook}),
	}
	e.scim = newSCIMEnv(t, st, orgID, e.roster, hook)
	return e
}

func (e *modelEnv) memberID(ctx context.Context, login string) string {
	var id string
	_ = e.st.View(ctx, e.org, func(tx store.Tx) error {
		m, err := tx.MemberByLogin(ctx, login)
		id = m.ID
		return err
	})
	if id == "" {
		return "missing-" + login
	}
	return id
}

func (e *modelEnv) invitationID(ctx context.Context, email string) string {
	id := "missing-invitation"
	_ = e.st.View(ctx, e.org, func(tx store.Tx) error {
		for inv, err := range tx.Invitations(ctx, store.InvitationQuery{Email: email, States: []membership.InvitationState{membership.InvitationPending}}) {
			if err != nil {
				return err
			}
			id = inv.ID
		}
		return nil
	})
	return id
}

func loginOf(i int) string {
	switch i {
	case -1:
		return "admin.one"
	case -2:
		return "admin.two"
	case -3:
		return "manager.model"
	}
	_, _, login, _ := person(i)
	return login
}

// run executes one operation; its error is recorded.
func (e *modelEnv) run(ctx context.Context, o *modelOp) error {
	ctx = context.WithValue(ctx, opKey{}, o)
	first, last, login, email := person(o.person)
	if o.person < 0 {
		login = loginOf(o.person)
	}
	sys := sys
	if o.actor > 0 {
		sys = membership.ActorMember(e.memberID(ctx, modelActors[o.actor]))
	}
	role := o.role
	if role == "managers" {
		role = e.managers
	}
	switch o.kind {
	case opSCIMCreate, opSCIMDeactivate, opSCIMActivate, opSCIMDelete, opSCIMGroup:
		return e.runSCIM(ctx, o, first, last, login, email)
	case opAdd:
		_, err := e.roster.Add(ctx, sys, e.org, roster.NewMember{FirstName: first, LastName: last, Email: email, Password: "model-password"})
		return err
	case opInvite:
		_, err := e.invites.Send(ctx, sys, e.org, invite.To{Email: email, RoleID: role})
		return err
	case opAccept:
		tok := e.tokenFor(email)
		if tok == "" {
			return errNoToken
		}
		_, err := e.invites.Accept(ctx, tok, invite.Details{FirstName: first, LastName: last, Password: "model-password"})
		return err
	case opAcceptUser:
		tok := e.tokenFor(email)
		if tok == "" {
			return errNoToken
		}
		_, err := e.invites.AcceptAsUser(ctx, tok, fmt.Sprintf("u%d", o.person), invite.Details{FirstName: first, LastName: last})
		return err
	case opJoin:
		_, err := e.domains.Join(ctx, e.org, domains.Joiner{UserID: fmt.Sprintf("u%d", o.person), Email: email, FirstName: first, LastName: last})
		return err
	case opResend:
		_, err := e.invites.Resend(ctx, sys, e.org, e.invitationID(ctx, email))
		return err
	case opCancel:
		return e.invites.Cancel(ctx, sys, e.org, e.invitationID(ctx, email))
	case opRole:
		_, err := e.roster.ChangeRole(ctx, sys, e.org, e.memberID(ctx, login), role)
		return err
	case opDeactivate:
		_, err := e.roster.Deactivate(ctx, sys, e.org, e.memberID(ctx, login))
		return err
	case opActivate:
		_, err := e.roster.Activate(ctx, sys, e.org, e.memberID(ctx, login))
		return err
	case opBulk:
		ids := []string{e.memberID(ctx, login)}
		for _, p := range o.others {
			ids = append(ids, e.memberID(ctx, loginOf(p)))
		}
		_, err := e.roster.DeactivateMany(ctx, sys, e.org, ids)
		return err
	case opRemove:
		_, err := e.roster.Remove(ctx, sys, e.org, e.memberID(ctx, login))
		return err
	case opImport:
		f, err := csvsync.Parse(strings.NewReader(o.file), nil)
		if err != nil {
			return err
		}
		p, err := e.csv.Plan(ctx, sys, e.org, f, &csvsync.PlanOptions{TemporaryPassword: "bienvenue", AllowMassDeactivation: true})
		if err != nil {
			return err
		}
		_, err = e.csv.Apply(ctx, sys, e.org, p, nil)
		return err
	}
	return fmt.Errorf("unknown op %s", o.kind)
}

func modelSetup(t testing.TB, ctx context.Context, st store.Store) string {
	r := testkit.Roster(t, st, &roster.Options{Hasher: fastHasher()})
	org, err := r.CreateOrg(ctx, roster.NewOrg{Name: "Model", Plan: membership.PremiumPlan(9), Features: []membership.Feature{membership.FeatureCSV}})
	require.NoError(t, err)
	managers, err := r.CreateRole(ctx, sys, org.ID, "Managers")
	require.NoError(t, err)
	_, err = r.UpdateRole(ctx, sys, org.ID, managers.ID, "Managers", managerPerms)
	require.NoError(t, err)
	_, err = r.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Manager", LastName: "Model", Email: "manager@model.example", RoleID: managers.ID, Password: "model-password"})
	require.NoError(t, err)
	for i, n := range []string{"One", "Two"} {
		_, err := r.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Admin", LastName: n, Email: fmt.Sprintf("admin%d@model.example", i+1), RoleID: membership.RoleAdmin, Password: "model-password"})
		require.NoError(t, err)
	}
	// People at the org's verified domain may join by themselves.
	ds, err := domains.New(st, nil)
	require.NoError(t, err)
	_, err = ds.Claim(ctx, sys, org.ID, modelDomain)
	require.NoError(t, err)
	_, err = ds.MarkVerified(ctx, sys, org.ID, modelDomain)
	require.NoError(t, err)
	_, err = ds.SetPolicy(ctx, sys, org.ID, modelDomain, membership.DomainPolicyAutoJoin, "")
	require.NoError(t, err)
	for i := range 4 { // part of the pool starts as members, so that most operations have a target
		first, last, _, email := person(i)
		_, err := r.Add(ctx, sys, org.ID, roster.NewMember{FirstName: first, LastName: last, Email: email, Password: "model-password"})
		require.NoError(t, err)
	}
	return org.ID
}

func schedules(def int) int {
	if n, err := strconv.Atoi(os.Getenv("MEMBERKIT_SCHEDULES")); err == nil && n > 0 {
		return n
	}
	if testing.Short() {
		return max(def/10, 5)
	}
	return def
}

type stats struct {
	ops, changed, refused int
	applied               map[opKind]int // operations that changed something, by kind
}

// runSchedule runs one seeded schedule on stores (one per goroutine
// group: two pools on the SQL servers) and checks it.
func runSchedule(t *testing.T, ctx context.Context, seed uint64, pools []store.Store, st *stats) {
	orgID := modelSetup(t, ctx, pools[0])
	sender := &invite.RecordingSender{}
	envs := make([]*modelEnv, len(pools))
	for i, p := range pools {
		envs[i] = newModelEnv(t, p, orgID, sender)
	}
	sched := schedule(seed, 4, 6)
	var wg sync.WaitGroup
	for g, ops := range sched {
		wg.Add(1)
		go func() {
			defer wg.Done()
			env := envs[g%len(envs)]
			for _, o := range ops {
				o.err = env.run(ctx, o)
			}
		}()
	}
	wg.Wait()
	fail := func(format string, args ...any) {
		t.Helper()
		var lines []string
		for g, ops := range sched {
			for _, o := range ops {
				lines = append(lines, fmt.Sprintf("  g%d %-28s err=%v order=%s", g, o, o.err, o.order))
			}
		}
		t.Fatalf("seed %d (replay: MEMBERKIT_SEED=%d go test ./internal/testkit/proof -run Model): %s\n%s", seed, seed, fmt.Sprintf(format, args...), strings.Join(lines, "\n"))
	}
	snap, err := Take(ctx, pools[0], orgID)
	require.NoError(t, err)
	if err := snap.Check(); err != nil {
		fail("%v", err)
	}
	if err := snap.CheckNoEscalation(); err != nil {
		fail("%v", err)
	}
	// Replay, sequentially, in commit order, what changed something.
	var done []*modelOp
	for _, ops := range sched {
		for _, o := range ops {
			if o.err == nil && o.order != "" {
				done = append(done, o)
			}
		}
	}
	slices.SortFunc(done, func(a, b *modelOp) int { return cmp.Compare(a.order, b.order) })
	for _, ops := range sched {
		for _, o := range ops {
			st.ops++
			if o.err != nil {
				st.refused++
			}
		}
	}
	st.changed += len(done)
	for _, o := range done {
		if st.applied == nil {
			st.applied = map[opKind]int{}
		}
		st.applied[o.kind]++
	}
	// The domain is verified by one org at a time: the replay's org
	// takes it over, and gives it back for the next schedule.
	require.NoError(t, envs[0].domains.Remove(ctx, sys, orgID, modelDomain))
	replayOrg := modelSetup(t, ctx, pools[0])
	replay := newModelEnv(t, pools[0], replayOrg, &invite.RecordingSender{})
	for _, o := range done {
		copyOp := *o
		copyOp.order = ""
		if err := replay.run(ctx, &copyOp); err != nil {
			fail("replay of %s failed: %v", o, err)
		}
	}
	rsnap, err := Take(ctx, pools[0], replayOrg)
	require.NoError(t, err)
	if got, want := strings.Join(snap.Logical(), "\n"), strings.Join(rsnap.Logical(), "\n"); got != want {
		fail("final state differs from the sequential replay:\nconcurrent:\n%s\nreplay:\n%s", got, want)
	}
	require.NoError(t, replay.domains.Remove(ctx, sys, replayOrg, modelDomain))
}

// modelDomain is the verified domain of the model's org, where every
// person of the pool has an address.
const modelDomain = "model.example"

func TestModelRandomizedConcurrency(t *testing.T) {
	ctx := context.Background()
	only, _ := strconv.ParseUint(os.Getenv("MEMBERKIT_SEED"), 10, 64)
	for _, kind := range testdb.Kinds() {
		t.Run(kind.Name, func(t *testing.T) {
			var pools []store.Store
			n := schedules(300)
			switch kind.Name {
			case "postgres":
				db, dsn := testdb.PostgresDB(t)
				a, _ := sqlstore.New(db, sqlstore.Postgres, nil)
				require.NoError(t, a.Migrate(ctx))
				pools = []store.Store{a, testdb.Open(t, sqlstore.Postgres, dsn)}
				n = schedules(60)
			case "mysql":
				db, dsn := testdb.MySQLDB(t)
				a, _ := sqlstore.New(db, sqlstore.MySQL, nil)
				require.NoError(t, a.Migrate(ctx))
				pools = []store.Store{a, testdb.Open(t, sqlstore.MySQL, dsn)}
				n = schedules(60)
			case "pgbouncer":
				pools = testdb.Pools(t, kind, 2)
				n = schedules(60)
			case "sqlite":
				pools = []store.Store{kind.New(t)}
				n = schedules(100)
			default:
				pools = []store.Store{kind.New(t)}
			}
			var st stats
			if only != 0 {
				runSchedule(t, ctx, only, pools, &st)
				return
			}
			for i := range n {
				runSchedule(t, ctx, uint64(1000+i), pools, &st)
			}
			t.Logf("%d schedules of 24 operations by 4 goroutines: %d operations, %d changed the roster (%v), %d refused by a rule or a race",
				n, st.ops, st.changed, st.applied, st.refused)
			for _, k := range []opKind{opJoin, opAcceptUser, opAccept, opImport, opSCIMCreate, opSCIMDeactivate, opSCIMActivate, opSCIMDelete, opSCIMGroup} {
				if n >= 50 && st.applied[k] == 0 {
					t.Errorf("no %s ever applied: the schedules do not exercise it", k)
				}
			}
		})
	}
}

// errNoToken is the model's refusal of an accept whose invitation this
// process never sent (or that was never sent at all).
var errNoToken = errors.New("no token")
