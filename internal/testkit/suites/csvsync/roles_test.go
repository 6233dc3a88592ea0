package csvsync_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// Rôle and Groupes: exported, read back as no change, and changed under
// the rules of every other path (power, no self change, last admin).
func TestRoleAndGroupColumns(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		sales, err := f.roster.CreateRole(f.ctx, f.actor, f.org.ID, "Commercial")
		require.NoError(t, err)
		_, err = f.roster.UpdateRole(f.ctx, f.actor, f.org.ID, sales.ID, "Commercial", []membership.Permission{membership.PermMembersRead, membership.PermCSVExport})
		require.NoError(t, err)
		bob := f.add("Bob", "Martin", "", "Paris")
		_, err = f.roster.ChangeRole(f.ctx, f.actor, f.org.ID, bob.ID, sales.ID)
		require.NoError(t, err)

		out := f.export(&csvsync.ExportOptions{NoBOM: true, LF: true})
		assert.Contains(t, out, "bob.martin;Martin;Bob;;Mot de passe crypté;Activé;Commercial;Paris\n")
		p, err := f.plan(out, nil)
		require.NoError(t, err)
		assert.Empty(t, p.Actions, "an export read back plans nothing")

		head := "Identifiant;Nom;Prénom;Etat;Rôle;Groupes\nalice.admin;Admin;Alice;actif;Administrateur;\n"
		p, err = f.plan(head+"bob.martin;Martin;Bob;actif;user;Paris, Lyon\n;Neuf;Jean;actif;commercial;Lyon\n", nil)
		require.NoError(t, err)
		require.Len(t, p.Actions, 2)
		assert.Equal(t, `Rôle : Commercial → Utilisateur; Groupes : Paris → Paris, Lyon`, p.Actions[0].Changes.Text(membership.French, membership.Labels{}))
		stamp := f.members()
		_, err = f.csv.Apply(f.ctx, f.actor, f.org.ID, p, nil)
		require.NoError(t, err)
		ms := byLogin(f.members())
		assert.Equal(t, membership.RoleUser, ms["bob.martin"].RoleID)
		assert.Equal(t, []string{"Paris", "Lyon"}, ms["bob.martin"].Groups)
		assert.NotEqual(t, byLogin(stamp)["bob.martin"].SecurityStamp, ms["bob.martin"].SecurityStamp, "a role change ends the member's sessions")
		assert.Equal(t, sales.ID, ms["jean.neuf"].RoleID, "a new member takes the role named (case does not matter)")
		assert.Equal(t, []string{"Lyon"}, ms["jean.neuf"].Groups)
		page, err := f.roster.List(f.ctx, f.actor, f.org.ID, roster.ListQuery{Group: "lyon"})
		require.NoError(t, err)
		assert.Len(t, page.Members, 2, "the group filter sees the imported groups")

		refused := func(rows, code string) {
			t.Helper()
			before := f.members()
			_, err := f.plan(head+rows, nil)
			var fe *csvsync.FileError
			require.ErrorAs(t, err, &fe, rows)
			assert.Equal(t, code, fe.Problems[0].Code, rows)
			assert.Equal(t, "Rôle", fe.Problems[0].Column)
			assert.Equal(t, before, f.members())
		}
		refused("bob.martin;Martin;Bob;actif;Directeur;\n", "role_unknown")

		// The admin demoting herself: refused, whatever else.
		_, err = f.plan("Identifiant;Nom;Prénom;Etat;Rôle\nalice.admin;Admin;Alice;actif;Utilisateur\nbob.martin;Martin;Bob;actif;\njean.neuf;Neuf;Jean;actif;\n", nil)
		var fe *csvsync.FileError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "role_self", fe.Problems[0].Code)

		// The system demoting the only admin: the last-admin rule.
		sys := membership.SystemActor("nightly")
		file, err := csvsync.Parse(strings.NewReader("Identifiant;Nom;Prénom;Etat;Rôle\nalice.admin;Admin;Alice;actif;user\nbob.martin;Martin;Bob;actif;\njean.neuf;Neuf;Jean;actif;\n"), nil)
		require.NoError(t, err)
		_, err = f.csv.Plan(f.ctx, sys, f.org.ID, file, nil)
		assert.ErrorIs(t, err, membership.ErrLastAdmin)

		// A seller (csv.import, members.manage, not roles) cannot promote.
		importers, err := f.roster.CreateRole(f.ctx, f.actor, f.org.ID, "Importers")
		require.NoError(t, err)
		_, err = f.roster.UpdateRole(f.ctx, f.actor, f.org.ID, importers.ID, "Importers", []membership.Permission{membership.PermMembersRead, membership.PermMembersManage, membership.PermCSVImport})
		require.NoError(t, err)
		imp := f.add("Ian", "Importer", "")
		_, err = f.roster.ChangeRole(f.ctx, f.actor, f.org.ID, imp.ID, importers.ID)
		require.NoError(t, err)
		asImp := membership.ActorMember(imp.ID)
		file, err = csvsync.Parse(strings.NewReader("Identifiant;Nom;Prénom;Etat;Rôle\nalice.admin;Admin;Alice;actif;\nian.importer;Importer;Ian;actif;\njean.neuf;Neuf;Jean;actif;\nbob.martin;Martin;Bob;actif;Administrateur\n"), nil)
		require.NoError(t, err)
		_, err = f.csv.Plan(f.ctx, asImp, f.org.ID, file, &csvsync.PlanOptions{AllowMassDeactivation: true})
		require.ErrorAs(t, err, &fe)
		require.Len(t, fe.Problems, 1)
		assert.Equal(t, "role_beyond", fe.Problems[0].Code)
		assert.ErrorIs(t, err, membership.ErrForbidden)
	})
}

// Review findings: a role named like a built-in one cannot promote anyone
// through a file read back; group labels with commas travel exactly; a
// role change is recorded as member.role_changed.
func TestRoleNamesCannotPromote(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		for _, name := range []string{"admin", "Administrator", "utilisateur", "USER"} {
			_, err := f.roster.CreateRole(f.ctx, f.actor, f.org.ID, name)
			assert.ErrorIs(t, err, membership.ErrDuplicate, "a custom role may not be named %q", name)
		}
		// A role stored with such a name before the rule: its cell is
		// ambiguous, never guessed.
		require.NoError(t, f.st.Update(f.ctx, f.org.ID, func(tx store.Tx) error {
			return tx.PutRole(f.ctx, membership.Role{ID: "legacy", OrgID: f.org.ID, Name: "admin", Permissions: []membership.Permission{membership.PermMembersRead}})
		}))
		bob := f.add("Bob", "Martin", "", "Paris, Nord", "Lyon")
		_, err := f.roster.ChangeRole(f.ctx, f.actor, f.org.ID, bob.ID, "legacy")
		require.NoError(t, err)
		out := f.export(&csvsync.ExportOptions{NoBOM: true, LF: true})
		_, err = f.plan(out, nil)
		var fe *csvsync.FileError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "role_ambiguous", fe.Problems[0].Code)
		assert.Equal(t, "legacy", byLogin(f.members())["bob.martin"].RoleID, "nobody was promoted")

		// Named by its ID instead, the same file plans nothing: the
		// groups, one of them with a comma, read back exactly.
		p, err := f.plan(strings.Replace(out, ";admin;", ";legacy;", 1), nil)
		require.NoError(t, err, out)
		assert.Empty(t, p.Actions, "an export read back plans nothing: %s", out)

		// A role change alone is member.role_changed.
		sales, err := f.roster.CreateRole(f.ctx, f.actor, f.org.ID, "Commercial")
		require.NoError(t, err)
		_ = sales
		f.importFile(strings.Replace(out, ";admin;", ";Commercial;", 1), nil)
		evs, err := f.roster.Events(f.ctx, f.actor, f.org.ID, store.EventQuery{SubjectID: bob.ID})
		require.NoError(t, err)
		last := evs[len(evs)-1]
		assert.Equal(t, membership.EventMemberRoleChanged, last.Type)
		assert.Equal(t, "legacy", last.RoleBefore)
		assert.Equal(t, sales.ID, last.RoleAfter)
	})
}
