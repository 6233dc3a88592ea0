package proof

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/memberkit/memberkit/internal/testkit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/internal/testkit/faultstore"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

var sys = membership.SystemActor("proof")

func fastHasher() membership.Hasher {
	return membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1})
}

// seedOrg makes an org with two admins and a few members in groups.
func seedOrg(t testing.TB, ctx context.Context, st store.Store, limit int) membership.Org {
	t.Helper()
	r := testkit.Roster(t, st, &roster.Options{Hasher: fastHasher()})
	org, err := r.CreateOrg(ctx, roster.NewOrg{Name: "Proof", Plan: membership.PremiumPlan(limit), Features: []membership.Feature{membership.FeatureCSV}})
	require.NoError(t, err)
	people := []roster.NewMember{
		{FirstName: "Ada", LastName: "Admin", Email: "ada@proof.example", RoleID: membership.RoleAdmin},
		{FirstName: "Ben", LastName: "Boss", Email: "ben@proof.example", RoleID: membership.RoleAdmin},
		{FirstName: "Cleo", LastName: "User", Email: "cleo@proof.example", Groups: []string{"Paris"}},
		{FirstName: "Dan", LastName: "User", Groups: []string{"Paris"}},
		{FirstName: "Eve", LastName: "User", Email: "eve@proof.example", Groups: []string{"Lyon"}},
	}
	for _, p := range people {
		p.Password = "proof-password"
		_, err := r.Add(ctx, sys, org.ID, p)
		require.NoError(t, err)
	}
	return org
}

// operation is one service call to interrupt at every store call.
type operation struct {
	name string
	// prepare runs on the plain store and returns the call to interrupt,
	// which runs on the faulty one.
	prepare func(t *testing.T, ctx context.Context, plain, faulty store.Store, org membership.Org) func(ctx context.Context) error
}

func idOf(t *testing.T, ctx context.Context, st store.Store, org membership.Org, login string) string {
	var id string
	require.NoError(t, st.View(ctx, org.ID, func(tx store.Tx) error {
		m, err := tx.MemberByLogin(ctx, login)
		id = m.ID
		return err
	}))
	return id
}

var operations = []operation{
	{"csv apply", func(t *testing.T, ctx context.Context, plain, faulty store.Store, org membership.Org) func(context.Context) error {
		file, err := csvsync.Parse(strings.NewReader("Identifiant;Nom;Prénom;Adresse e-mail;Mot de passe;Etat\n"+
			"ada.admin;Admin;Ada;ada@proof.example;Mot de passe crypté;Activé\n"+
			"ben.boss;Boss;Benjamin;ben@proof.example;;Activé\n"+
			"cleo.user;User;Cleo;cleo.new@proof.example;;Désactivé\n"+
			"eve.user;User;Eve;eve@proof.example;un-nouveau-mot-de-passe;Activé\n"+
			";Neuf;Noé;noe@proof.example;;Activé\n"), nil)
		require.NoError(t, err)
		plan, err := testkit.CSV(t, plain, &csvsync.Options{Hasher: fastHasher()}).Plan(ctx, sys, org.ID, file, &csvsync.PlanOptions{TemporaryPassword: "bienvenue", AllowMassDeactivation: true})
		require.NoError(t, err)
		require.True(t, plan.Changes())
		svc := testkit.CSV(t, faulty, &csvsync.Options{Hasher: fastHasher()})
		return func(ctx context.Context) error { _, err := svc.Apply(ctx, sys, org.ID, plan, nil); return err }
	}},
	{"bulk deactivation", func(t *testing.T, ctx context.Context, plain, faulty store.Store, org membership.Org) func(context.Context) error {
		ids := []string{idOf(t, ctx, plain, org, "cleo.user"), idOf(t, ctx, plain, org, "dan.user"), idOf(t, ctx, plain, org, "ben.boss")}
		svc := testkit.Roster(t, faulty, &roster.Options{Hasher: fastHasher()})
		return func(ctx context.Context) error { _, err := svc.DeactivateMany(ctx, sys, org.ID, ids); return err }
	}},
	{"deactivate group", func(t *testing.T, ctx context.Context, plain, faulty store.Store, org membership.Org) func(context.Context) error {
		svc := testkit.Roster(t, faulty, &roster.Options{Hasher: fastHasher()})
		return func(ctx context.Context) error {
			_, err := svc.DeactivateWhere(ctx, sys, org.ID, store.MemberFilter{Group: "Paris"})
			return err
		}
	}},
	{"invitation accept", func(t *testing.T, ctx context.Context, plain, faulty store.Store, org membership.Org) func(context.Context) error {
		sender := &invite.RecordingSender{}
		inv, err := invite.New(plain, sender, &invite.Options{Hasher: fastHasher()})
		require.NoError(t, err)
		_, err = inv.Send(ctx, sys, org.ID, invite.To{Email: "zed@proof.example", RoleID: membership.RoleUser})
		require.NoError(t, err)
		tok := sender.TokenFor("zed@proof.example")
		svc, err := invite.New(faulty, sender, &invite.Options{Hasher: fastHasher()})
		require.NoError(t, err)
		return func(ctx context.Context) error {
			_, err := svc.Accept(ctx, tok, invite.Details{FirstName: "Zed", LastName: "Newman", Password: "zed-password"})
			return err
		}
	}},
}

// For every k, failing (or canceling the context at) the k-th store call
// of an operation leaves the store exactly as before, and the error says
// what failed.
func TestFaultAtEveryCall(t *testing.T) {
	for _, kind := range testdb.Kinds() {
		t.Run(kind.Name, func(t *testing.T) {
			plain := kind.New(t)
			faulty := faultstore.New(plain)
			ctx := context.Background()
			for _, op := range operations {
				t.Run(op.name, func(t *testing.T) {
					// Count the calls of a clean run.
					org := seedOrg(t, ctx, plain, 20)
					call := op.prepare(t, ctx, plain, faulty, org)
					faulty.FailAt(0)
					require.NoError(t, call(ctx))
					n := faulty.Calls()
					trace := faulty.Trace()
					require.Greater(t, n, 2)
					for k := 1; k <= n; k++ {
						for _, mode := range []string{"fail", "cancel"} {
							org := seedOrg(t, ctx, plain, 20)
							call := op.prepare(t, ctx, plain, faulty, org)
							before, err := Take(ctx, plain, org.ID)
							require.NoError(t, err)
							cctx, cancel := context.WithCancel(ctx)
							if mode == "fail" {
								faulty.FailAt(k)
							} else {
								faulty.CancelAt(k, cancel)
							}
							err = call(cctx)
							cancel()
							faulty.FailAt(0)
							where := fmt.Sprintf("%s at call %d/%d (%s)", mode, k, n, trace[k-1])
							require.Error(t, err, where)
							if mode == "fail" {
								var inj *faultstore.InjectedError
								require.ErrorAs(t, err, &inj, where)
								assert.Equal(t, k, inj.Call, where)
								assert.Contains(t, err.Error(), trace[k-1], "the error names the failing call: %s", where)
							} else {
								assert.ErrorIs(t, err, context.Canceled, where)
							}
							after, err := Take(ctx, plain, org.ID)
							require.NoError(t, err)
							require.Equal(t, before, after, "store changed after %s", where)
						}
					}
					t.Logf("%s: %d store calls, each failed and canceled", op.name, n)
				})
			}
		})
	}
}

func TestInjectedErrorIsNotSwallowed(t *testing.T) {
	ctx := context.Background()
	plain := testdb.Kinds()[0].New(t)
	faulty := faultstore.New(plain)
	org := seedOrg(t, ctx, plain, 20)
	faulty.FailAt(1)
	_, err := testkit.Roster(t, faulty, nil).List(ctx, sys, org.ID, roster.ListQuery{})
	var inj *faultstore.InjectedError
	require.True(t, errors.As(err, &inj))
}
