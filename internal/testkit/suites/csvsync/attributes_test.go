package csvsync_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/internal/testkit"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// Attribute columns the caller names: exported after Etat, read back,
// planned as changes per key, a blank cell removing the attribute, an
// absent column leaving them alone; bad cells are named by line and
// column, and nothing is written.
func TestAttributeColumns(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		keys := []string{"department", "site"}
		f.csv = testkit.CSV(t, f.st, &csvsync.Options{Clock: f.clock, Hasher: f.hasher, Parse: csvsync.ParseOptions{Attributes: keys}})
		_, err := f.roster.Add(f.ctx, f.actor, f.org.ID, roster.NewMember{FirstName: "Bob", LastName: "Martin", Password: "member-password",
			Attributes: membership.Attributes{"department": "=Ventes", "site": "Lyon", "badge": "B-12"}})
		require.NoError(t, err)

		out := f.export(&csvsync.ExportOptions{NoBOM: true, LF: true, Attributes: keys})
		assert.Contains(t, out, "Identifiant;Nom;Prénom;Adresse e-mail;Mot de passe;Etat;Rôle;Groupes;department;site\n")
		assert.Contains(t, out, ";'=Ventes;Lyon\n", "attribute cells are neutralised like the others")
		p, err := f.plan(out, nil)
		require.NoError(t, err)
		assert.Empty(t, p.Actions, "an export read back plans nothing")

		edited := strings.Replace(out, ";'=Ventes;Lyon\n", ";Achats;\n", 1)
		p, err = f.plan(edited, nil)
		require.NoError(t, err)
		require.Len(t, p.Actions, 1)
		assert.Equal(t, `attributes.department: =Ventes → Achats; attributes.site: Lyon → ""`, p.Actions[0].Changes.String())
		_, err = f.csv.Apply(f.ctx, f.actor, f.org.ID, p, nil)
		require.NoError(t, err)
		bob := byLogin(f.members())["bob.martin"]
		assert.Equal(t, membership.Attributes{"department": "Achats", "badge": "B-12"}, bob.Attributes, "a key the file does not name is kept")
		evs, err := f.roster.Events(f.ctx, f.actor, f.org.ID, store.EventQuery{SubjectID: bob.ID, Types: []membership.EventType{membership.EventMemberUpdated}})
		require.NoError(t, err)
		require.NotEmpty(t, evs)
		assert.Equal(t, bob.Attributes, evs[len(evs)-1].Attributes, "the event carries them")

		// A new row gets its attributes; a file without the columns
		// leaves everyone's alone.
		f.importFile("Nom;Prénom;Etat;site\nAdmin;Alice;actif\nMartin;Bob;actif\nNeuf;Jean;actif;Paris\n", nil)
		ms := byLogin(f.members())
		assert.Equal(t, membership.Attributes{"site": "Paris"}, ms["jean.neuf"].Attributes)
		assert.Equal(t, membership.Attributes{"department": "Achats", "badge": "B-12"}, ms["bob.martin"].Attributes, "site was blank already: nothing to do")
		f.importFile("Nom;Prénom;Etat\nAdmin;Alice;actif\nMartin;Bob;actif\nNeuf;Jean;actif\n", nil)
		assert.Equal(t, membership.Attributes{"site": "Paris"}, byLogin(f.members())["jean.neuf"].Attributes)

		// Bad cells: named, and nothing written.
		before := f.members()
		_, err = f.plan("Nom;Prénom;Etat;site\nAdmin;Alice;actif\nMartin;Bob;actif;Ly\u202eon\n", nil)
		var fe *csvsync.FileError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, 3, fe.Problems[0].Line)
		assert.Equal(t, "site", fe.Problems[0].Column)
		assert.Contains(t, fe.Problems[0].Message, "invisible")
		assert.Equal(t, before, f.members())
	})
}

func TestAttributeOptionsChecked(t *testing.T) {
	for _, keys := range [][]string{{"Site"}, {"email"}, {""}, {strings.Repeat("k", 33)}} {
		_, err := csvsync.Parse(strings.NewReader("Nom;Prénom;Etat\n"), &csvsync.ParseOptions{Attributes: keys})
		assert.ErrorIs(t, err, membership.ErrInvalid, "%q", keys)
	}
	f, err := csvsync.Parse(strings.NewReader("Nom;Prénom;Etat;SITE;site\nA;B;actif;x;y\n"), &csvsync.ParseOptions{Attributes: []string{"site"}})
	var fe *csvsync.FileError
	require.ErrorAs(t, err, &fe, "%v", f)
	assert.Equal(t, "dup_column", fe.Problems[0].Code)
	st := testdb.Kinds()[0].New(t)
	svc := testkit.CSV(t, st, nil)
	_, err = svc.Export(t.Context(), membership.SystemActor("t"), "any", &bytes.Buffer{}, &csvsync.ExportOptions{Attributes: []string{"Bad Key"}})
	assert.ErrorIs(t, err, membership.ErrInvalid)
}

// A file cannot give a member more attributes than allowed: the row is
// named, nothing is written.
func TestAttributeColumnsBounded(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		stored := membership.Attributes{}
		for i := range membership.MaxAttributes {
			stored[fmt.Sprintf("k%02d", i)] = "v"
		}
		_, err := f.roster.Add(f.ctx, f.actor, f.org.ID, roster.NewMember{FirstName: "Bob", LastName: "Martin", Password: "member-password", Attributes: stored})
		require.NoError(t, err)
		f.csv = testkit.CSV(t, f.st, &csvsync.Options{Clock: f.clock, Hasher: f.hasher, Parse: csvsync.ParseOptions{Attributes: []string{"extra"}}})
		before := f.members()
		_, err = f.plan("Nom;Prénom;Etat;extra\nAdmin;Alice;actif;\nMartin;Bob;actif;one too many\n", nil)
		var fe *csvsync.FileError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, 3, fe.Problems[0].Line)
		assert.Equal(t, "too_many_attributes", fe.Problems[0].Code)
		assert.Equal(t, before, f.members())
		// Replacing one of them stays within the bound.
		f.csv = testkit.CSV(t, f.st, &csvsync.Options{Clock: f.clock, Hasher: f.hasher, Parse: csvsync.ParseOptions{Attributes: []string{"k00"}}})
		f.importFile("Nom;Prénom;Etat;k00\nAdmin;Alice;actif;\nMartin;Bob;actif;w\n", nil)
		assert.Equal(t, "w", byLogin(f.members())["bob.martin"].Attributes["k00"])
	})
}

// A nil file is an error, not a panic.
func TestPlanNilFile(t *testing.T) {
	st := testdb.Kinds()[0].New(t)
	svc := testkit.CSV(t, st, nil)
	_, err := svc.Plan(t.Context(), membership.SystemActor("t"), "any", nil, nil)
	assert.ErrorIs(t, err, membership.ErrInvalid)
}

// The host's words for statuses are written and read back.
func TestStatusLabels(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		labels := membership.Labels{Status: map[membership.Status]string{membership.StatusActive: "Actif", membership.StatusDeactivated: "Bloqué"}}
		f.csv = testkit.CSV(t, f.st, &csvsync.Options{Clock: f.clock, Hasher: f.hasher, Parse: csvsync.ParseOptions{Labels: labels}})
		f.add("Bob", "Martin", "")
		out := f.export(&csvsync.ExportOptions{NoBOM: true, LF: true, Labels: labels})
		assert.Contains(t, out, ";Actif;Utilisateur;\n")
		p, err := f.plan(out, nil)
		require.NoError(t, err)
		assert.Empty(t, p.Actions, "read back, plans nothing")
		f.importFile(strings.Replace(out, "Martin;Bob;;Mot de passe crypté;Actif;", "Martin;Bob;;Mot de passe crypté;Bloqué;", 1), nil)
		assert.Equal(t, membership.StatusDeactivated, byLogin(f.members())["bob.martin"].Status)
		assert.Equal(t, "Administrateur", labels.RoleName(membership.Role{ID: membership.RoleAdmin}, membership.French))
		assert.Equal(t, "Administrator", labels.RoleName(membership.Role{ID: membership.RoleAdmin}, membership.English))
		assert.Equal(t, "Bloqué", labels.StatusLabel(membership.StatusDeactivated, membership.English), "the host's word in every language it is given for")
	})
}
