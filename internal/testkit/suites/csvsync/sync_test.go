package csvsync_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memberkit/memberkit/internal/testkit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/memstore"
)

var t0 = time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)

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

func bcryptHash(t *testing.T, pw string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), membership.MinBcryptCost)
	require.NoError(t, err)
	return string(h)
}

type fixture struct {
	t      *testing.T
	ctx    context.Context
	st     store.Store
	clock  *membership.FakeClock
	hasher *countingHasher
	csv    *csvsync.Service
	roster *roster.Service
	org    membership.Org
	admin  membership.Member
	actor  membership.Actor
	events []membership.Event
}

func setup(t *testing.T, newStore func(testing.TB) store.Store, plan membership.Plan) *fixture {
	f := &fixture{t: t, ctx: context.Background(), st: newStore(t), clock: membership.NewFakeClock(t0),
		hasher: &countingHasher{Hasher: membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1})}}
	f.csv = testkit.CSV(t, f.st, &csvsync.Options{Clock: f.clock, Hasher: f.hasher, AfterCommit: func(_ context.Context, evs []membership.Event) {
		f.events = append(f.events, evs...)
	}})
	f.roster = testkit.Roster(t, f.st, &roster.Options{Clock: f.clock, Hasher: f.hasher})
	var err error
	f.org, err = f.roster.CreateOrg(f.ctx, roster.NewOrg{Name: "Conance", Plan: plan, Features: []membership.Feature{membership.FeatureCSV}})
	require.NoError(t, err)
	a, err := f.roster.Add(f.ctx, membership.SystemActor("setup"), f.org.ID, roster.NewMember{FirstName: "Alice", LastName: "Admin", Email: "alice@conance.fr", RoleID: membership.RoleAdmin, Password: "alice-password"})
	require.NoError(t, err)
	f.admin = a.Member
	f.actor = membership.ActorMember(a.Member.ID)
	return f
}

func (f *fixture) add(first, last, email string, groups ...string) membership.Member {
	f.t.Helper()
	a, err := f.roster.Add(f.ctx, f.actor, f.org.ID, roster.NewMember{FirstName: first, LastName: last, Email: email, Password: "member-password", Groups: groups})
	require.NoError(f.t, err)
	return a.Member
}

func (f *fixture) export(opts *csvsync.ExportOptions) string {
	f.t.Helper()
	var b bytes.Buffer
	_, err := f.csv.Export(f.ctx, f.actor, f.org.ID, &b, opts)
	require.NoError(f.t, err)
	return b.String()
}

func (f *fixture) plan(data string, opts *csvsync.PlanOptions) (*csvsync.Plan, error) {
	f.t.Helper()
	file, err := f.csv.Parse(f.ctx, f.actor, f.org.ID, strings.NewReader(data))
	if err != nil {
		return nil, err
	}
	return f.csv.Plan(f.ctx, f.actor, f.org.ID, file, opts)
}

func (f *fixture) importFile(data string, opts *csvsync.PlanOptions) *csvsync.Result {
	f.t.Helper()
	p, err := f.plan(data, opts)
	require.NoError(f.t, err)
	res, err := f.csv.Apply(f.ctx, f.actor, f.org.ID, p, nil)
	require.NoError(f.t, err)
	return res
}

func (f *fixture) members() []membership.Member {
	f.t.Helper()
	var ms []membership.Member
	require.NoError(f.t, f.st.View(f.ctx, f.org.ID, func(tx store.Tx) error {
		var err error
		ms, err = store.Collect(tx.Members(f.ctx, store.MemberQuery{}))
		return err
	}))
	return ms
}

func byLogin(ms []membership.Member) map[string]membership.Member {
	out := map[string]membership.Member{}
	for _, m := range ms {
		out[m.Login] = m
	}
	return out
}

func TestExportFormat(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		f.add("Zoé", "Lefèvre-Dubois", "zoe@example.com")
		b := f.add("=HYPERLINK(\"http://evil\")", "+33 Martin", "")
		f.add("@Bob", "-Dupont", "")
		_, err := f.roster.Deactivate(f.ctx, f.actor, f.org.ID, b.ID)
		require.NoError(t, err)
		gone := f.add("Gone", "Away", "gone@example.com")
		_, err = f.roster.Remove(f.ctx, f.actor, f.org.ID, gone.ID)
		require.NoError(t, err)

		out := f.export(nil)
		assert.True(t, strings.HasPrefix(out, "\uFEFFIdentifiant;Nom;Prénom;Adresse e-mail;Mot de passe;Etat;Rôle;Groupes\r\n"), "BOM, French headers, ; and CRLF")
		assert.Contains(t, out, "zoe.lefevre-dubois;Lefèvre-Dubois;Zoé;zoe@example.com;Mot de passe crypté;Activé;Utilisateur;\r\n")
		assert.Contains(t, out, "'+33 Martin;\"'=HYPERLINK(\"\"http://evil\"\")\";;Mot de passe crypté;Désactivé", "formulas neutralised")
		assert.Contains(t, out, ";'-Dupont;'@Bob;")
		assert.NotContains(t, out, "gone", "removed members are not exported")
		assert.NotContains(t, out, "$argon2id", "never a hash")

		en := f.export(&csvsync.ExportOptions{Lang: membership.English, Comma: ',', NoBOM: true, LF: true})
		assert.True(t, strings.HasPrefix(en, "Login,Last name,First name,Email,Password,Status,Role,Groups\n"))
		assert.Contains(t, en, "zoe.lefevre-dubois,Lefèvre-Dubois,Zoé,zoe@example.com,Encrypted password,Active,User,\n")

		paris := f.export(&csvsync.ExportOptions{Filter: store.MemberFilter{Text: "zoe"}})
		assert.Equal(t, 2, strings.Count(paris, "\r\n"), "filters apply")
	})
}

func TestFeatureFlagAndPermissions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		u := f.add("Ulysse", "User", "")
		_, err := f.csv.Export(f.ctx, membership.ActorMember(u.ID), f.org.ID, &bytes.Buffer{}, nil)
		assert.ErrorIs(t, err, membership.ErrForbidden)
		_, err = f.csv.Parse(f.ctx, membership.ActorMember(u.ID), f.org.ID, strings.NewReader("Nom;Prénom;Etat\n"))
		assert.ErrorIs(t, err, membership.ErrForbidden)
		require.NoError(t, f.roster.SetFeatures(f.ctx, f.actor, f.org.ID))
		_, err = f.csv.Export(f.ctx, f.actor, f.org.ID, &bytes.Buffer{}, nil)
		assert.ErrorIs(t, err, membership.ErrFeatureDisabled)
		_, err = f.csv.Parse(f.ctx, f.actor, f.org.ID, strings.NewReader("Nom;Prénom;Etat\n"))
		assert.ErrorIs(t, err, membership.ErrFeatureDisabled)
	})
}

// Export → import of the untouched file plans zero changes, costs no
// hashing, and the formula-neutralised cells come back exact.
func TestRoundTripPlansNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		f.add("Zoé", "Lefèvre-Dubois", "zoe@example.com")
		f.add("=1+1", "'=quoted", "")
		f.add("O'Brien; DROP TABLE", "\"Quoted\" Name", "ob@example.com")
		d := f.add("Denis", "Petit", "")
		_, err := f.roster.Deactivate(f.ctx, f.actor, f.org.ID, d.ID)
		require.NoError(t, err)
		for _, opts := range []*csvsync.ExportOptions{nil, {Lang: membership.English, Comma: '\t', NoBOM: true, LF: true}} {
			data := f.export(opts)
			before := f.hasher.ops.Load()
			p, err := f.plan(data, nil)
			require.NoError(t, err)
			assert.False(t, p.Changes(), "%+v", p.Actions)
			assert.Equal(t, 5, p.Unchanged)
			assert.Equal(t, before, f.hasher.ops.Load(), "the placeholder costs no hashing")
			assert.Zero(t, p.HashOperations())
		}
	})
}

// Seed: "Les membres présents dans le fichier et non sur votre liste sont
// ajoutés; présents dans les deux mis à jour; absents du fichier désactivés."
func TestReconcile(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		bob := f.add("Bob", "Martin", "bob@example.com")
		chloe := f.add("Chloé", "Bernard", "chloe@example.com")
		denis := f.add("Denis", "Petit", "")
		eve := f.add("Eve", "Absent", "eve@example.com")
		_, err := f.roster.Deactivate(f.ctx, f.actor, f.org.ID, denis.ID)
		require.NoError(t, err)

		data := "Identifiant;Nom;Prénom;Adresse e-mail;Mot de passe;Etat\n" +
			"alice.admin;Admin;Alice;alice@conance.fr;Mot de passe crypté;Activé\n" + // unchanged
			";Martin-Durand;Bob;bob@example.com;;Activé\n" + // matched by email, renamed
			"chloe.bernard;Bernard;Chloé;chloe.b@example.com;nouveau-mot-de-passe;Désactivé\n" + // email, password, deactivated
			";Petit;Denis;;;Activé\n" + // matched by default login, reactivated
			"new.person;Nouveau;Jean;jean@example.com;;Activé\n" + // added, temporary password
			";Lefèvre;Zoé;;" + bcryptHash(t, "imported-pw") + ";Désactivé\n" // added deactivated, hash kept
		p, err := f.plan(data, &csvsync.PlanOptions{TemporaryPassword: "tempeos"})
		require.NoError(t, err)
		assert.Equal(t, 2, p.Adds)
		assert.Equal(t, 1, p.Updates)
		assert.Equal(t, 1, p.Reactivations)
		assert.Equal(t, 2, p.Deactivations, "chloé by the file, eve by absence")
		assert.Equal(t, 1, p.Unchanged)
		kinds := map[int]csvsync.Kind{}
		for _, a := range p.Actions {
			kinds[a.Line] = a.Kind
		}
		assert.Equal(t, map[int]csvsync.Kind{3: csvsync.KindUpdate, 4: csvsync.KindDeactivate, 5: csvsync.KindReactivate, 6: csvsync.KindAdd, 7: csvsync.KindAdd, 0: csvsync.KindDeactivate}, kinds)
		upd := p.Actions[0]
		assert.Equal(t, bob.ID, upd.MemberID)
		assert.Equal(t, csvsync.Changes{{Field: "last_name", Before: "Martin", After: "Martin-Durand"}}, upd.Changes)
		last := p.Actions[len(p.Actions)-1]
		assert.Equal(t, eve.ID, last.MemberID)
		assert.Zero(t, last.Line)

		res, err := f.csv.Apply(f.ctx, f.actor, f.org.ID, p, nil)
		require.NoError(t, err)
		assert.Equal(t, 2, res.Added)
		assert.Equal(t, 2, res.Deactivated)
		ms := byLogin(f.members())
		assert.Equal(t, "Martin-Durand", ms["bob.martin"].LastName)
		assert.Equal(t, membership.StatusDeactivated, ms["chloe.bernard"].Status)
		assert.Equal(t, "chloe.b@example.com", ms["chloe.bernard"].Email)
		assert.Equal(t, membership.StatusActive, ms["denis.petit"].Status)
		assert.Equal(t, membership.StatusDeactivated, ms["eve.absent"].Status, "absent from the file → deactivated")
		assert.Equal(t, membership.StatusDeactivated, ms["zoe.lefevre"].Status)
		assert.True(t, strings.HasPrefix(string(ms["zoe.lefevre"].PasswordHash), "$2a$10$"), "a PHC hash from the file is stored as is")
		require.Contains(t, ms, "new.person")
		assert.True(t, ms["new.person"].MustChangePassword)
		_, err = f.roster.Authenticate(f.ctx, f.org.ID, "new.person", "tempeos")
		require.ErrorIs(t, err, membership.ErrPasswordChangeRequired, "the shared temporary password works, and must be changed")
		_, err = f.roster.Activate(f.ctx, f.actor, f.org.ID, chloe.ID)
		require.NoError(t, err)
		_, err = f.roster.Authenticate(f.ctx, f.org.ID, "chloe.bernard", "nouveau-mot-de-passe")
		require.NoError(t, err, "a clear password from the file is hashed and works")

		// The same file again changes nothing, when the host runs it (the
		// system actor may have clear passwords checked against the stored
		// hashes).
		_, err = f.roster.Deactivate(f.ctx, f.actor, f.org.ID, chloe.ID)
		require.NoError(t, err)
		host := membership.SystemActor("nightly-sync")
		file, err := csvsync.Parse(strings.NewReader(data), nil)
		require.NoError(t, err)
		p2, err := f.csv.Plan(f.ctx, host, f.org.ID, file, &csvsync.PlanOptions{TemporaryPassword: "tempeos"})
		require.NoError(t, err)
		assert.False(t, p2.Changes(), "%+v", p2.Actions)
		res2, err := f.csv.Apply(f.ctx, host, f.org.ID, p2, nil)
		require.NoError(t, err)
		assert.Zero(t, res2.Added+res2.Updated+res2.Reactivated+res2.Deactivated)
		// A member's plan never checks a clear password against the stored
		// one (it would tell right guesses from wrong): it sets it again.
		p3, err := f.plan(data, &csvsync.PlanOptions{TemporaryPassword: "tempeos"})
		require.NoError(t, err)
		require.Len(t, p3.Actions, 1)
		assert.Equal(t, csvsync.Changes{{Field: "password", Before: "•••", After: "•••"}}, p3.Actions[0].Changes)

		var report bytes.Buffer
		require.NoError(t, res.WriteReport(&report, nil))
		assert.Contains(t, report.String(), "Ligne;Action;Identifiant;Modifications")
		assert.Contains(t, report.String(), `3;Modification;bob.martin;Nom : Martin → Martin-Durand`)
		assert.Contains(t, report.String(), `;Désactivation;eve.absent;État : Activé → Désactivé`, "values in the report's language too")
		var en bytes.Buffer
		require.NoError(t, res.WriteReport(&en, &csvsync.ExportOptions{Lang: membership.English}))
		assert.Contains(t, en.String(), "Line;Action;Login;Changes")
		assert.Contains(t, en.String(), `3;Update;bob.martin;Last name: Martin → Martin-Durand`)
		assert.Contains(t, en.String(), `;Deactivation;eve.absent;Status: Active → Deactivated`)
		assert.NotContains(t, report.String(), "nouveau-mot-de-passe")

		// Events for each change, none with a password.
		var types []membership.EventType
		for _, e := range f.events {
			types = append(types, e.Type)
			assert.NotContains(t, e.Detail, "mot-de-passe")
		}
		assert.Contains(t, types, membership.EventCSVImported)
	})
}

func TestRandomTemporaryPasswordsAndHashingCost(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		data := "Nom;Prénom;Etat;Mot de passe\nAdmin;Alice;actif;\nUn;A;actif;\nDeux;B;actif;\nTrois;C;actif;commun-partagé\nQuatre;D;actif;commun-partagé\n"
		before := f.hasher.ops.Load()
		p, err := f.plan(data, nil)
		require.NoError(t, err)
		assert.Equal(t, int64(4), f.hasher.ops.Load()-before, "2 random temporary passwords + 2 clear ones; blank costs nothing for existing")
		assert.Equal(t, 4, p.HashOperations())
		res, err := f.csv.Apply(f.ctx, f.actor, f.org.ID, p, nil)
		require.NoError(t, err)
		require.Len(t, res.TemporaryPasswords, 2)
		for login, pw := range res.TemporaryPasswords {
			_, err := f.roster.Authenticate(f.ctx, f.org.ID, login, string(pw))
			var pcr *roster.PasswordChangeRequiredError
			require.ErrorAs(t, err, &pcr)
			assert.True(t, pcr.Member.MustChangePassword)
			assert.Equal(t, login, pcr.Member.Login)
		}
		// Shared default password: hashed once, whatever the number of rows.
		var b strings.Builder
		b.WriteString("Nom;Prénom;Etat\nAdmin;Alice;actif\nUn;A;actif\nDeux;B;actif\nTrois;C;actif\nQuatre;D;actif\n")
		for i := range 20 {
			fmt.Fprintf(&b, "Nouveau%d;X;actif\n", i)
		}
		before = f.hasher.ops.Load()
		p, err = f.plan(b.String(), &csvsync.PlanOptions{TemporaryPassword: "tempeos"})
		require.NoError(t, err)
		assert.Equal(t, int64(1), f.hasher.ops.Load()-before)
		assert.Equal(t, 20, p.Adds)
	})
}

// An ambiguous file is refused, naming the lines; the store is untouched.
func TestAmbiguousFilesRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		f.add("Bob", "Martin", "bob@example.com")
		f.add("Chloé", "Bernard", "chloe@example.com")
		const head = "Identifiant;Nom;Prénom;Adresse e-mail;Mot de passe;Etat\nalice.admin;Admin;Alice;;;actif\n"
		cases := []struct {
			name, rows string
			want       string
		}{
			{"two rows, one member", "bob.martin;Martin;Bob;;;actif\n;Martin;Bob;bob@example.com;;actif\n", "ligne 4, colonne Identifiant : même membre que la ligne 3 (bob.martin)"},
			{"two new rows, one login", ";Neuf;Jean;;;actif\njean.neuf;Neuf;Jean;;;actif\n", "ligne 4, colonne Identifiant : même membre que la ligne 3 (jean.neuf)"},
			{"one row, two members", "bob.martin;Martin;Bob;chloe@example.com;;actif\n", "ligne 3, colonne Adresse e-mail : correspond à deux membres : bob.martin par l'identifiant et chloe.bernard par l'adresse e-mail"},
			{"email of another member", "new.one;Neuf;Jean;bob@example.com;;actif\nbob.martin;Martin;Bob;;;actif\n", `ligne 3, colonne Adresse e-mail : adresse e-mail « bob@example.com » déjà utilisée par bob.martin`},
			{"same email twice", ";A;A;same@example.com;;actif\n;B;B;same@example.com;;actif\n", `ligne 4, colonne Adresse e-mail : adresse e-mail « same@example.com » déjà utilisée ligne 3`},
			{"actor deactivates themselves", "", "l'auteur de l'import ne peut pas se désactiver lui-même"},
		}
		before := f.members()
		for _, c := range cases {
			data := head + c.rows
			if c.name == "actor deactivates themselves" {
				data = strings.Replace(head, "alice.admin;Admin;Alice;;;actif", "alice.admin;Admin;Alice;;;inactif", 1) + "bob.martin;Martin;Bob;;;actif\nchloe.bernard;Bernard;Chloé;;;actif\n"
			}
			_, err := f.plan(data, &csvsync.PlanOptions{AllowMassDeactivation: true})
			var fe *csvsync.FileError
			require.ErrorAs(t, err, &fe, c.name)
			assert.Contains(t, err.Error(), c.want, c.name)
		}
		assert.Equal(t, before, f.members())
	})
}

func TestPlanRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.FreePlan())
		f.add("Bob", "Martin", "")
		// Seats: admin + bob + 2 new = 4 > 3.
		_, err := f.plan("Nom;Prénom;Etat\nAdmin;Alice;actif\nMartin;Bob;actif\nA;A;actif\nB;B;actif\n", nil)
		assert.ErrorIs(t, err, membership.ErrMemberLimit)
		// A new deactivated member takes no seat.
		_, err = f.plan("Nom;Prénom;Etat\nAdmin;Alice;actif\nMartin;Bob;actif\nA;A;actif\nB;B;inactif\n", nil)
		assert.NoError(t, err)
		// Last admin, through a system import.
		sys := membership.SystemActor("nightly")
		file, err := csvsync.Parse(strings.NewReader("Nom;Prénom;Etat\nAdmin;Alice;inactif\nMartin;Bob;actif\n"), nil)
		require.NoError(t, err)
		_, err = f.csv.Plan(f.ctx, sys, f.org.ID, file, &csvsync.PlanOptions{AllowMassDeactivation: true})
		assert.ErrorIs(t, err, membership.ErrLastAdmin)
		// Nor by swapping her for an admin the file adds: the newcomer
		// has never signed in and her password is in the importer's hands.
		file, err = csvsync.Parse(strings.NewReader("Nom;Prénom;Etat\nMartin;Bob;actif\nNouvelle;Eve;actif\n"), nil)
		require.NoError(t, err)
		_, err = f.csv.Plan(f.ctx, sys, f.org.ID, file, &csvsync.PlanOptions{RoleID: membership.RoleAdmin, AllowMassDeactivation: true})
		assert.ErrorIs(t, err, membership.ErrLastAdmin)
		// A truncated file must not wipe the company.
		require.NoError(t, f.roster.SetPlan(f.ctx, f.actor, f.org.ID, membership.PremiumPlan(0)))
		for i := range 6 {
			f.add("Membre", fmt.Sprintf("N%d", i), "")
		}
		file, err = csvsync.Parse(strings.NewReader("Nom;Prénom;Etat\nAdmin;Alice;actif\nMartin;Bob;actif\n"), nil)
		require.NoError(t, err)
		_, err = f.csv.Plan(f.ctx, f.actor, f.org.ID, file, nil)
		require.ErrorIs(t, err, csvsync.ErrMassDeactivation)
		assert.Contains(t, err.Error(), "6 of 8 active members")
		p, err := f.csv.Plan(f.ctx, f.actor, f.org.ID, file, &csvsync.PlanOptions{AllowMassDeactivation: true})
		require.NoError(t, err)
		assert.Equal(t, 6, p.Deactivations)
	})
}

func TestApplyStalePlanAndAllOrNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		bob := f.add("Bob", "Martin", "")
		data := "Nom;Prénom;Etat\nAdmin;Alice;actif\nMartin-Durand;Bob;actif\nNeuf;Jean;actif\n"
		p, err := f.plan(data, nil)
		require.NoError(t, err)
		// The roster changes between plan and apply.
		_, err = f.roster.Edit(f.ctx, f.actor, f.org.ID, bob.ID, roster.Patch{Groups: &[]string{"Paris"}})
		require.NoError(t, err)
		before := f.members()
		_, err = f.csv.Apply(f.ctx, f.actor, f.org.ID, p, nil)
		assert.ErrorIs(t, err, csvsync.ErrStalePlan)
		assert.Equal(t, before, f.members(), "nothing written")
		f.add("Other", "Person", "")
		p, err = f.plan(data+"Person;Other;actif\n", nil)
		require.NoError(t, err)
		f.add("Late", "Comer", "")
		_, err = f.csv.Apply(f.ctx, f.actor, f.org.ID, p, nil)
		assert.ErrorIs(t, err, csvsync.ErrStalePlan, "a member added since planning")

		// A change that the plan does not touch and that moves no count:
		// a deactivated member, unchanged in the file, is removed.
		p, err = f.plan(data+"Person;Other;actif\nComer;Late;actif\n", nil)
		require.NoError(t, err)
		late := byLogin(f.members())["late.comer"]
		_, err = f.roster.Deactivate(f.ctx, f.actor, f.org.ID, late.ID)
		require.NoError(t, err)
		p, err = f.plan(data+"Person;Other;actif\nComer;Late;inactif\n", nil)
		require.NoError(t, err)
		_, err = f.roster.Remove(f.ctx, f.actor, f.org.ID, late.ID)
		require.NoError(t, err)
		_, err = f.csv.Apply(f.ctx, f.actor, f.org.ID, p, nil)
		assert.ErrorIs(t, err, csvsync.ErrStalePlan, "found by the model-based test: the roster version catches it")

		p, err = f.plan(data+"Person;Other;actif\nComer;Late;actif\n", nil)
		require.NoError(t, err)
		var progress []int
		_, err = f.csv.Apply(f.ctx, f.actor, f.org.ID, p, &csvsync.ApplyOptions{Progress: func(done, total int) { progress = append(progress, done) }})
		require.NoError(t, err)
		assert.NotEmpty(t, progress)
		_, err = f.csv.Apply(f.ctx, f.actor, f.org.ID, p, nil)
		assert.ErrorIs(t, err, csvsync.ErrStalePlan, "a plan applies once")
		_, err = f.csv.Apply(f.ctx, membership.SystemActor("x"), f.org.ID, p, nil)
		assert.ErrorIs(t, err, membership.ErrForbidden, "only its actor applies a plan")
		assert.True(t, errors.Is(err, membership.ErrForbidden))
	})
}

// Warnings about ignored columns are capped, and show excerpts.
func TestUnknownColumnWarningsCapped(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		head := "Nom;Prénom;Etat"
		for i := range 40 {
			head += fmt.Sprintf(";Colonne %d %s", i, strings.Repeat("x", 500))
		}
		p, err := f.plan(head+"\nAdmin;Alice;actif\n", nil)
		require.NoError(t, err)
		require.Len(t, p.Warnings, 12, "the single-admin warning, 10 columns, and the rest counted")
		assert.Contains(t, p.Warnings[11], "et 30 autre(s) colonne(s) ignorée(s)")
		for _, w := range p.Warnings {
			assert.Less(t, len(w), 120)
		}
	})
}

// One constructor shape: a nil store is refused; the Logger hears about
// an applied import, never a password.
func TestNewAndLogger(t *testing.T) {
	_, err := csvsync.New(nil, nil)
	assert.Error(t, err)
	var unopened *memstore.Store // as an ignored constructor error leaves it
	_, err = csvsync.New(unopened, nil)
	assert.Error(t, err, "a nil pointer in the interface is refused too")
	var logs bytes.Buffer
	st := testdb.Kinds()[0].New(t)
	hasher := membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1})
	r := testkit.Roster(t, st, &roster.Options{Hasher: hasher})
	org, err := r.CreateOrg(context.Background(), roster.NewOrg{Name: "Logs", Plan: membership.PremiumPlan(0), Features: []membership.Feature{membership.FeatureCSV}})
	require.NoError(t, err)
	files := testkit.CSV(t, st, &csvsync.Options{Hasher: hasher, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	sys := membership.SystemActor("logs")
	f, err := csvsync.Parse(strings.NewReader("Nom;Prénom;Mot de passe;Etat\nDurand;Alice;secret-password-1;actif\n"), nil)
	require.NoError(t, err)
	p, err := files.Plan(context.Background(), sys, org.ID, f, nil)
	require.NoError(t, err)
	_, err = files.Apply(context.Background(), sys, org.ID, p, nil)
	require.NoError(t, err)
	assert.Contains(t, logs.String(), `"msg":"memberkit: import applied"`)
	assert.Contains(t, logs.String(), `"added":1`)
	assert.NotContains(t, logs.String(), "secret-password-1")
}
