package roster_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memberkit/memberkit/internal/testkit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/memstore"
)

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// countingHasher counts the hashing work, so tests can check that an
// unknown login costs the same as a known one.
type countingHasher struct {
	membership.Hasher
	hashes, verifies atomic.Int64
}

func (h *countingHasher) Hash(pw string) (membership.PasswordHash, error) {
	h.hashes.Add(1)
	return h.Hasher.Hash(pw)
}

func (h *countingHasher) Verify(hash membership.PasswordHash, pw string) (bool, bool, error) {
	h.verifies.Add(1)
	return h.Hasher.Verify(hash, pw)
}

func fastHasher() *countingHasher {
	return &countingHasher{Hasher: membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1})}
}

type fixture struct {
	t      *testing.T
	ctx    context.Context
	st     store.Store
	svc    *roster.Service
	clock  *membership.FakeClock
	hasher *countingHasher
	org    membership.Org
	admin  membership.Member
	actor  membership.Actor
	events []membership.Event
	mu     sync.Mutex
}

func setup(t *testing.T, newStore func(testing.TB) store.Store, plan membership.Plan) *fixture {
	f := &fixture{t: t, ctx: context.Background(), st: newStore(t), clock: membership.NewFakeClock(t0), hasher: fastHasher()}
	f.svc = testkit.Roster(t, f.st, &roster.Options{Clock: f.clock, Hasher: f.hasher, AfterCommit: func(_ context.Context, evs []membership.Event) {
		f.mu.Lock()
		f.events = append(f.events, evs...)
		f.mu.Unlock()
	}})
	var err error
	f.org, err = f.svc.CreateOrg(f.ctx, roster.NewOrg{Name: "Conance", Plan: plan, Features: []membership.Feature{membership.FeatureCSV}})
	require.NoError(t, err)
	added, err := f.svc.Add(f.ctx, membership.SystemActor("setup"), f.org.ID, roster.NewMember{FirstName: "Alice", LastName: "Admin", Email: "alice@conance.fr", RoleID: membership.RoleAdmin, Password: "alice-password"})
	require.NoError(t, err)
	f.admin = added.Member
	f.actor = membership.ActorMember(f.admin.ID)
	return f
}

func (f *fixture) add(first, last string, opts ...func(*roster.NewMember)) membership.Member {
	f.t.Helper()
	// A password of their own, so that the member may act: a member with
	// a temporary password may do nothing but change it.
	n := roster.NewMember{FirstName: first, LastName: last, Password: "member-password"}
	for _, o := range opts {
		o(&n)
	}
	a, err := f.svc.Add(f.ctx, f.actor, f.org.ID, n)
	require.NoError(f.t, err)
	return a.Member
}

func withGroups(g ...string) func(*roster.NewMember) {
	return func(n *roster.NewMember) { n.Groups = g }
}
func withRole(r string) func(*roster.NewMember)  { return func(n *roster.NewMember) { n.RoleID = r } }
func withEmail(e string) func(*roster.NewMember) { return func(n *roster.NewMember) { n.Email = e } }
func withPassword(p string) func(*roster.NewMember) {
	return func(n *roster.NewMember) { n.Password = p }
}
func withLogin(l string) func(*roster.NewMember) { return func(n *roster.NewMember) { n.Login = l } }

func (f *fixture) get(id string) membership.Member {
	f.t.Helper()
	m, err := f.svc.Get(f.ctx, f.actor, f.org.ID, id)
	require.NoError(f.t, err)
	return m
}

// counts reads the figures the services keep on the org, and the seats
// used as the service reports them.
func (f *fixture) counts() membership.Counts {
	f.t.Helper()
	org, err := f.st.Org(f.ctx, f.org.ID)
	require.NoError(f.t, err)
	used, _, err := f.svc.Seats(f.ctx, membership.SystemActor("test"), f.org.ID)
	require.NoError(f.t, err)
	return membership.Counts{ActiveMembers: org.ActiveMembers, ActiveAdmins: org.ActiveAdmins, PendingInvitations: used - org.ActiveMembers}
}

func (f *fixture) snapshot() []membership.Member {
	f.t.Helper()
	var ms []membership.Member
	require.NoError(f.t, f.st.View(f.ctx, f.org.ID, func(tx store.Tx) error {
		var err error
		ms, err = store.Collect(tx.Members(f.ctx, store.MemberQuery{}))
		return err
	}))
	return ms
}

func each(t *testing.T, fn func(t *testing.T, newStore func(testing.TB) store.Store)) {
	testdb.Each(t, fn)
}

// Seed: "Cliquez sur « Ajouter un membre » pour activer un nouveau compte";
// "si vous ne mettez aucune information par défaut l'identifiant sera prenom.nom".
func TestAddDerivesLoginAndTemporaryPassword(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		a, err := f.svc.Add(f.ctx, f.actor, f.org.ID, roster.NewMember{FirstName: "Zoé", LastName: "Lefèvre-Dubois", Email: "Zoe@Example.com", Groups: []string{"Paris"}})
		require.NoError(t, err)
		assert.Equal(t, "zoe.lefevre-dubois", a.Member.Login)
		assert.Equal(t, "zoe@example.com", a.Member.Email)
		assert.Equal(t, membership.StatusActive, a.Member.Status)
		assert.Equal(t, membership.RoleUser, a.Member.RoleID, "the default role is user")
		assert.NotEmpty(t, a.TemporaryPassword, "a member added without a password gets a temporary one")
		assert.True(t, a.Member.MustChangePassword)
		assert.Empty(t, a.Member.PasswordHash, "no hash leaves the library")

		// Homonyms: prenom.nom2, prenom.nom3.
		b := f.add("Zoe", "Lefevre-Dubois")
		c := f.add("ZOÉ", "LEFÈVRE-DUBOIS")
		assert.Equal(t, "zoe.lefevre-dubois2", b.Login)
		assert.Equal(t, "zoe.lefevre-dubois3", c.Login)

		// The temporary password works once, and must be changed first:
		// the member may do nothing else.
		_, err = f.svc.Authenticate(f.ctx, f.org.ID, "zoe.lefevre-dubois", string(a.TemporaryPassword))
		var pcr *roster.PasswordChangeRequiredError
		require.ErrorAs(t, err, &pcr)
		assert.True(t, pcr.Member.MustChangePassword)
		assert.Equal(t, a.Member.ID, pcr.Member.ID)
		_, err = f.svc.List(f.ctx, membership.ActorMember(a.Member.ID), f.org.ID, roster.ListQuery{})
		assert.ErrorIs(t, err, membership.ErrPasswordChangeRequired)
		assert.ErrorIs(t, err, membership.ErrForbidden)
		_, err = f.svc.Get(f.ctx, membership.ActorMember(a.Member.ID), f.org.ID, a.Member.ID)
		assert.ErrorIs(t, err, membership.ErrPasswordChangeRequired, "not even reading themselves")

		// Given password: no change required.
		d := f.add("Jean", "Dupont", withPassword("jean-password"))
		assert.False(t, d.MustChangePassword)
	})
}

func TestAddValidation(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		cases := []struct {
			n     roster.NewMember
			field string
		}{
			{roster.NewMember{LastName: "Dupont"}, "first_name"},
			{roster.NewMember{FirstName: "Jean"}, "last_name"},
			{roster.NewMember{FirstName: "Jean", LastName: "Dupont", Email: "not-an-email"}, "email"},
			{roster.NewMember{FirstName: "Jean", LastName: "Dupont", Login: "bad login"}, "login"},
			{roster.NewMember{FirstName: "Jean", LastName: "Dupont", Password: "short"}, "password"},
			{roster.NewMember{FirstName: "Jean", LastName: "Dupont", RoleID: "no-such-role"}, "role"},
			{roster.NewMember{FirstName: "李", LastName: "王"}, "login"},
		}
		for _, c := range cases {
			_, err := f.svc.Add(f.ctx, f.actor, f.org.ID, c.n)
			var ve *membership.ValidationError
			require.True(t, errors.As(err, &ve), "%+v: want a validation error, got %v", c.n, err)
			assert.Equal(t, c.field, ve.Field)
		}
		assert.Len(t, f.snapshot(), 1, "refused input leaves the store untouched")

		f.add("Jean", "Dupont", withEmail("jean@example.com"))
		_, err := f.svc.Add(f.ctx, f.actor, f.org.ID, roster.NewMember{FirstName: "Other", LastName: "Person", Email: "JEAN@example.com"})
		var de *membership.DuplicateError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, "email", de.Key)
		_, err = f.svc.Add(f.ctx, f.actor, f.org.ID, roster.NewMember{FirstName: "Other", LastName: "Person", Login: "jean.dupont"})
		require.ErrorAs(t, err, &de)
		assert.Equal(t, "login", de.Key)
	})
}

// Seed: "Gratuit: 3 membres"; seats = active members + pending invitations.
func TestSeatLimit(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.FreePlan())
		b := f.add("Bob", "Martin")
		f.add("Chloé", "Bernard")
		_, err := f.svc.Add(f.ctx, f.actor, f.org.ID, roster.NewMember{FirstName: "Denis", LastName: "Petit"})
		require.ErrorIs(t, err, membership.ErrMemberLimit)
		var le *membership.LimitError
		require.ErrorAs(t, err, &le)
		assert.Equal(t, 3, le.Limit)
		assert.Len(t, f.snapshot(), 3, "nothing written")

		// Deactivating frees a seat; activating takes it back.
		_, err = f.svc.Deactivate(f.ctx, f.actor, f.org.ID, b.ID)
		require.NoError(t, err)
		d := f.add("Denis", "Petit")
		_, err = f.svc.Activate(f.ctx, f.actor, f.org.ID, b.ID)
		require.ErrorIs(t, err, membership.ErrMemberLimit)
		assert.Equal(t, membership.StatusDeactivated, f.get(b.ID).Status)
		_, err = f.svc.Remove(f.ctx, f.actor, f.org.ID, d.ID)
		require.NoError(t, err)
		_, err = f.svc.Activate(f.ctx, f.actor, f.org.ID, b.ID)
		require.NoError(t, err)

		// A pending, unexpired invitation holds a seat.
		assert.Equal(t, 3, f.counts().SeatsUsed())

		// Upgrading the plan makes room.
		require.NoError(t, f.svc.SetPlan(f.ctx, f.actor, f.org.ID, membership.PremiumPlan(10)))
		f.add("Denis", "Petit", withLogin("denis.petit.2"))
	})
}

// Seed: "Cliquez sur « Désactiver » pour rendre un compte inactif (le membre
// ne pourra plus se connecter à la plateforme)"; Conance: the list shows status.
func TestDeactivateAndActivate(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		b := f.add("Bob", "Martin", withPassword("bob-password"))
		_, err := f.svc.Authenticate(f.ctx, f.org.ID, "bob.martin", "bob-password")
		require.NoError(t, err)

		m, err := f.svc.Deactivate(f.ctx, f.actor, f.org.ID, b.ID)
		require.NoError(t, err)
		assert.Equal(t, membership.StatusDeactivated, m.Status)
		_, err = f.svc.Authenticate(f.ctx, f.org.ID, "bob.martin", "bob-password")
		assert.ErrorIs(t, err, membership.ErrInvalidCredentials, "a deactivated member cannot log in")

		page, err := f.svc.List(f.ctx, f.actor, f.org.ID, roster.ListQuery{})
		require.NoError(t, err)
		require.Len(t, page.Members, 2, "a deactivated member stays listed")
		assert.Equal(t, "Désactivé", page.Rows()[1].StatusLabel(membership.French))

		// Idempotent: no second event.
		n := len(f.events)
		_, err = f.svc.Deactivate(f.ctx, f.actor, f.org.ID, b.ID)
		require.NoError(t, err)
		assert.Len(t, f.events, n)

		_, err = f.svc.Activate(f.ctx, f.actor, f.org.ID, b.ID)
		require.NoError(t, err)
		_, err = f.svc.Authenticate(f.ctx, f.org.ID, "bob.martin", "bob-password")
		require.NoError(t, err)
	})
}

// Seed: "Action de masse … Désactiver les membres sélectionnés".
func TestDeactivateManyAllOrNothing(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		b := f.add("Bob", "Martin")
		c := f.add("Chloé", "Bernard")
		d := f.add("Denis", "Petit")
		_, err := f.svc.Deactivate(f.ctx, f.actor, f.org.ID, d.ID)
		require.NoError(t, err)

		res, err := f.svc.DeactivateMany(f.ctx, f.actor, f.org.ID, []string{b.ID, c.ID, d.ID})
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{b.ID, c.ID}, res.Changed)
		assert.Equal(t, []string{d.ID}, res.Unchanged)
		assert.Equal(t, 1, f.counts().ActiveMembers)

		// One unknown ID: nothing changes, and the reason names it.
		_, err = f.svc.Activate(f.ctx, f.actor, f.org.ID, b.ID)
		require.NoError(t, err)
		ghost := membership.NewID()
		_, err = f.svc.DeactivateMany(f.ctx, f.actor, f.org.ID, []string{b.ID, ghost})
		var be *roster.BulkError
		require.ErrorAs(t, err, &be)
		require.Len(t, be.Refused, 1)
		assert.Equal(t, ghost, be.Refused[0].MemberID)
		assert.ErrorIs(t, err, store.ErrNotFound)
		assert.Equal(t, membership.StatusActive, f.get(b.ID).Status, "all or nothing")
	})
}

// Conance: "Assurez-vous de toujours avoir au moins un administrateur".
func TestBulkDeactivationIncludingLastAdminChangesNothing(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		b := f.add("Bob", "Martin")
		c := f.add("Chloé", "Bernard")
		before := f.snapshot()
		_, err := f.svc.DeactivateMany(f.ctx, membership.SystemActor("cron"), f.org.ID, []string{b.ID, f.admin.ID, c.ID})
		require.ErrorIs(t, err, membership.ErrLastAdmin)
		var be *roster.BulkError
		require.ErrorAs(t, err, &be)
		assert.Equal(t, f.admin.ID, be.Refused[0].MemberID)
		assert.Equal(t, before, f.snapshot(), "nothing changed")

		// The same through a filter.
		_, err = f.svc.DeactivateWhere(f.ctx, membership.SystemActor("cron"), f.org.ID, store.MemberFilter{})
		require.ErrorIs(t, err, membership.ErrLastAdmin)
		assert.Equal(t, before, f.snapshot())
	})
}

// Seed: "Désactivation dans un groupe de membres: filtrez votre recherche en
// indiquant le nom du groupe … Désactiver les membres sélectionnés".
func TestDeactivateGroup(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		p1 := f.add("Paul", "Un", withGroups("Paris", "Ventes"))
		p2 := f.add("Pia", "Deux", withGroups("paris"))
		l := f.add("Léa", "Trois", withGroups("Lyon"))
		// The coordinator filters by group first.
		page, err := f.svc.List(f.ctx, f.actor, f.org.ID, roster.ListQuery{Group: "Paris"})
		require.NoError(t, err)
		assert.Len(t, page.Members, 2)

		res, err := f.svc.DeactivateWhere(f.ctx, f.actor, f.org.ID, store.MemberFilter{Group: "PARIS"})
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{p1.ID, p2.ID}, res.Changed)
		assert.Equal(t, membership.StatusActive, f.get(l.ID).Status)
		assert.Equal(t, membership.StatusDeactivated, f.get(p1.ID).Status)

		// The actor in the group is skipped, not deactivated.
		_, err = f.svc.Edit(f.ctx, f.actor, f.org.ID, f.admin.ID, roster.Patch{Groups: &[]string{"Lyon"}})
		require.NoError(t, err)
		res, err = f.svc.DeactivateWhere(f.ctx, f.actor, f.org.ID, store.MemberFilter{Group: "Lyon"})
		require.NoError(t, err)
		assert.Equal(t, []string{l.ID}, res.Changed)
		require.Len(t, res.Skipped, 1)
		assert.Equal(t, f.admin.ID, res.Skipped[0].MemberID)
	})
}

// Conance: "Modifier le rôle"; "au moins un administrateur".
func TestChangeRoleAndLastAdmin(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		b := f.add("Bob", "Martin")
		_, err := f.svc.ChangeRole(f.ctx, f.actor, f.org.ID, f.admin.ID, membership.RoleUser)
		require.ErrorIs(t, err, membership.ErrLastAdmin, "self-demotion of the last admin")
		_, err = f.svc.Deactivate(f.ctx, f.actor, f.org.ID, f.admin.ID)
		require.ErrorIs(t, err, membership.ErrLastAdmin)
		_, err = f.svc.Remove(f.ctx, f.actor, f.org.ID, f.admin.ID)
		require.ErrorIs(t, err, membership.ErrLastAdmin)

		m, err := f.svc.ChangeRole(f.ctx, f.actor, f.org.ID, b.ID, membership.RoleAdmin)
		require.NoError(t, err)
		assert.Equal(t, membership.RoleAdmin, m.RoleID)
		_, err = f.svc.ChangeRole(f.ctx, f.actor, f.org.ID, f.admin.ID, membership.RoleUser)
		require.NoError(t, err, "with a second admin, the first may step down")
		assert.Equal(t, 1, f.counts().ActiveAdmins)

		_, err = f.svc.ChangeRole(f.ctx, membership.ActorMember(b.ID), f.org.ID, b.ID, "no-such-role")
		var ve *membership.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "role", ve.Field)
	})
}

// Conance: "Quand un membre est retiré: il perd immédiatement accès …, ses
// données restent …, il peut être réinvité ultérieurement".
func TestRemoveAndBringBack(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		b := f.add("Bob", "Martin", withEmail("bob@example.com"), withPassword("bob-password"), withGroups("Paris"))
		_, err := f.svc.Remove(f.ctx, f.actor, f.org.ID, b.ID)
		require.NoError(t, err)
		_, err = f.svc.Authenticate(f.ctx, f.org.ID, "bob.martin", "bob-password")
		assert.ErrorIs(t, err, membership.ErrInvalidCredentials, "access lost at once")
		page, err := f.svc.List(f.ctx, f.actor, f.org.ID, roster.ListQuery{})
		require.NoError(t, err)
		assert.Len(t, page.Members, 1, "removed members leave the normal list")
		removed, err := f.svc.List(f.ctx, f.actor, f.org.ID, roster.ListQuery{Statuses: []membership.Status{membership.StatusRemoved}})
		require.NoError(t, err)
		require.Len(t, removed.Members, 1, "the record stays")
		_, err = f.svc.Activate(f.ctx, f.actor, f.org.ID, b.ID)
		assert.ErrorIs(t, err, membership.ErrNotFound)

		// Adding the same email again brings the same record back.
		a, err := f.svc.Add(f.ctx, f.actor, f.org.ID, roster.NewMember{FirstName: "Bob", LastName: "Martin", Email: "BOB@example.com", RoleID: membership.RoleUser})
		require.NoError(t, err)
		assert.True(t, a.Restored)
		assert.Equal(t, b.ID, a.Member.ID)
		assert.Equal(t, membership.StatusActive, a.Member.Status)
		assert.Len(t, f.snapshot(), 2)

		// And by login.
		_, err = f.svc.Remove(f.ctx, f.actor, f.org.ID, b.ID)
		require.NoError(t, err)
		a, err = f.svc.Add(f.ctx, f.actor, f.org.ID, roster.NewMember{FirstName: "Robert", LastName: "Martin", Login: "bob.martin"})
		require.NoError(t, err)
		assert.Equal(t, b.ID, a.Member.ID)
		assert.Equal(t, "Robert", a.Member.FirstName)
	})
}

func TestListFiltersAndPages(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		for i := range 23 {
			g := "Paris"
			if i%2 == 1 {
				g = "Lyon"
			}
			f.add(fmt.Sprintf("Prénom%02d", i), "Nom", withGroups(g))
		}
		var all []string
		q := roster.ListQuery{Limit: 5}
		for {
			page, err := f.svc.List(f.ctx, f.actor, f.org.ID, q)
			require.NoError(t, err)
			for _, m := range page.Members {
				all = append(all, m.Login)
			}
			if page.Next == "" {
				break
			}
			q.After = page.Next
		}
		assert.Len(t, all, 24)
		page, err := f.svc.List(f.ctx, f.actor, f.org.ID, roster.ListQuery{Group: "lyon", Limit: 100})
		require.NoError(t, err)
		assert.Len(t, page.Members, 11)
		page, err = f.svc.List(f.ctx, f.actor, f.org.ID, roster.ListQuery{Text: "prenom07"})
		require.NoError(t, err)
		assert.Len(t, page.Members, 1)
		page, err = f.svc.List(f.ctx, f.actor, f.org.ID, roster.ListQuery{RoleID: membership.RoleAdmin})
		require.NoError(t, err)
		assert.Len(t, page.Members, 1)
		n, err := f.svc.Count(f.ctx, f.actor, f.org.ID, store.MemberFilter{Group: "Paris"})
		require.NoError(t, err)
		assert.Equal(t, 12, n)
	})
}

// Conance: "Rôles personnalisés"; "Principe du moindre privilège".
func TestCustomRoles(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		r, err := f.svc.CreateRole(f.ctx, f.actor, f.org.ID, "Support")
		require.NoError(t, err)
		assert.Empty(t, r.Permissions, "a new role starts with no permission")
		b := f.add("Bob", "Martin", withRole(r.ID))
		bob := membership.ActorMember(b.ID)
		_, err = f.svc.List(f.ctx, bob, f.org.ID, roster.ListQuery{})
		assert.ErrorIs(t, err, membership.ErrForbidden, "no permission, no list")
		_, err = f.svc.Get(f.ctx, bob, f.org.ID, b.ID)
		assert.NoError(t, err, "a member may read their own record")

		r, err = f.svc.UpdateRole(f.ctx, f.actor, f.org.ID, r.ID, "Support N1", []membership.Permission{membership.PermMembersRead, membership.PermMembersManage})
		require.NoError(t, err)
		_, err = f.svc.List(f.ctx, bob, f.org.ID, roster.ListQuery{})
		assert.NoError(t, err)
		c := f.add("Chloé", "Bernard")
		_, err = f.svc.Deactivate(f.ctx, bob, f.org.ID, c.ID)
		assert.NoError(t, err)

		// No escalation: bob cannot grant what he lacks (he lacks roles.manage anyway).
		_, err = f.svc.UpdateRole(f.ctx, bob, f.org.ID, r.ID, "x", []membership.Permission{membership.PermOrgManage})
		assert.ErrorIs(t, err, membership.ErrForbidden)

		_, err = f.svc.CreateRole(f.ctx, f.actor, f.org.ID, "support n1")
		assert.ErrorIs(t, err, membership.ErrDuplicate)
		_, err = f.svc.UpdateRole(f.ctx, f.actor, f.org.ID, membership.RoleAdmin, "x", nil)
		assert.ErrorIs(t, err, membership.ErrBuiltinRole)
		assert.ErrorIs(t, f.svc.DeleteRole(f.ctx, f.actor, f.org.ID, r.ID), membership.ErrRoleInUse)
		_, err = f.svc.ChangeRole(f.ctx, f.actor, f.org.ID, b.ID, membership.RoleUser)
		require.NoError(t, err)
		require.NoError(t, f.svc.DeleteRole(f.ctx, f.actor, f.org.ID, r.ID))
		roles, err := f.svc.Roles(f.ctx, f.actor, f.org.ID)
		require.NoError(t, err)
		assert.Len(t, roles, 2, "only the built-in roles are left")
	})
}

func TestAuthorization(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		u := f.add("Ulysse", "User")
		user := membership.ActorMember(u.ID)
		_, err := f.svc.Add(f.ctx, user, f.org.ID, roster.NewMember{FirstName: "X", LastName: "Y"})
		assert.ErrorIs(t, err, membership.ErrForbidden, "the user role is read-only")
		_, err = f.svc.Deactivate(f.ctx, user, f.org.ID, f.admin.ID)
		assert.ErrorIs(t, err, membership.ErrForbidden)
		_, err = f.svc.List(f.ctx, user, f.org.ID, roster.ListQuery{})
		assert.NoError(t, err, "users may read the roster")
		_, err = f.svc.Add(f.ctx, membership.Actor{}, f.org.ID, roster.NewMember{FirstName: "X", LastName: "Y"})
		assert.ErrorIs(t, err, membership.ErrForbidden, "a call must name its actor")

		// A deactivated admin can do nothing.
		b := f.add("Bob", "Boss", withRole(membership.RoleAdmin))
		_, err = f.svc.Deactivate(f.ctx, f.actor, f.org.ID, b.ID)
		require.NoError(t, err)
		_, err = f.svc.Add(f.ctx, membership.ActorMember(b.ID), f.org.ID, roster.NewMember{FirstName: "X", LastName: "Y"})
		assert.ErrorIs(t, err, membership.ErrForbidden)
		_, err = f.svc.List(f.ctx, membership.ActorMember(b.ID), f.org.ID, roster.ListQuery{})
		assert.ErrorIs(t, err, membership.ErrForbidden)

		// An actor of another org is not an actor here.
		other, err := f.svc.CreateOrg(f.ctx, roster.NewOrg{Name: "Other"})
		require.NoError(t, err)
		_, err = f.svc.Add(f.ctx, f.actor, other.ID, roster.NewMember{FirstName: "X", LastName: "Y"})
		assert.ErrorIs(t, err, membership.ErrForbidden)
		_, err = f.svc.Get(f.ctx, membership.SystemActor("x"), other.ID, f.admin.ID)
		assert.ErrorIs(t, err, membership.ErrNotFound, "no cross-tenant read")
		_, err = f.svc.Deactivate(f.ctx, membership.SystemActor("x"), other.ID, u.ID)
		assert.ErrorIs(t, err, membership.ErrNotFound, "no cross-tenant write")
	})
}

func TestAuthenticate(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		b := f.add("Bob", "Martin", withEmail("bob@example.com"), withPassword("bob-password"))
		f.clock.Advance(time.Hour)
		m, err := f.svc.Authenticate(f.ctx, f.org.ID, "Bob.Martin", "bob-password")
		require.NoError(t, err)
		assert.True(t, f.clock.Now().Equal(m.LastLoginAt), "last login recorded")
		assert.True(t, f.get(b.ID).LastLoginAt.Equal(f.clock.Now()))
		_, err = f.svc.Authenticate(f.ctx, f.org.ID, "bob@example.com", "bob-password")
		require.NoError(t, err, "login by email")

		// Same error and the same hashing work for every failure.
		before := f.hasher.verifies.Load()
		_, err = f.svc.Authenticate(f.ctx, f.org.ID, "bob.martin", "wrong-password")
		assert.ErrorIs(t, err, membership.ErrInvalidCredentials)
		_, err = f.svc.Authenticate(f.ctx, f.org.ID, "nobody.here", "wrong-password")
		assert.ErrorIs(t, err, membership.ErrInvalidCredentials)
		assert.Equal(t, before+2, f.hasher.verifies.Load(), "an unknown login costs one verification too")
		assert.Equal(t, err.Error(), membership.ErrInvalidCredentials.Error(), "the error says nothing more")

		// Rehash when the parameters change.
		stronger := &countingHasher{Hasher: membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 128, Time: 2, Threads: 1})}
		svc2 := testkit.Roster(t, f.st, &roster.Options{Clock: f.clock, Hasher: stronger})
		old := f.get(b.ID)
		_, err = svc2.Authenticate(f.ctx, f.org.ID, "bob.martin", "bob-password")
		require.NoError(t, err)
		assert.Equal(t, int64(1), stronger.hashes.Load(), "the hash was replaced")
		var stored membership.Member
		require.NoError(t, f.st.View(f.ctx, f.org.ID, func(tx store.Tx) error {
			stored, err = tx.Member(f.ctx, b.ID)
			return err
		}))
		assert.Contains(t, string(stored.PasswordHash), "m=128,t=2")
		assert.Greater(t, stored.Version, old.Version)
		_, err = svc2.Authenticate(f.ctx, f.org.ID, "bob.martin", "bob-password")
		require.NoError(t, err)
		assert.Equal(t, int64(1), stronger.hashes.Load(), "no second rehash")
	})
}

func TestChangePassword(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		a, err := f.svc.Add(f.ctx, f.actor, f.org.ID, roster.NewMember{FirstName: "Bob", LastName: "Martin"})
		require.NoError(t, err)
		tmp := string(a.TemporaryPassword)
		change := func(current, next string) (membership.Member, error) {
			return f.svc.ChangePassword(f.ctx, f.org.ID, a.Member.ID, current, next)
		}
		_, err = change(tmp, "short")
		assert.ErrorIs(t, err, membership.ErrInvalid)
		_, err = change(tmp, tmp)
		assert.ErrorIs(t, err, membership.ErrInvalid, "the temporary password cannot be kept")
		_, err = change("not-the-current", "new-password-1")
		assert.ErrorIs(t, err, membership.ErrInvalidCredentials)
		changed, err := change(tmp, "new-password-1")
		require.NoError(t, err)
		assert.NotEqual(t, a.Member.SecurityStamp, changed.SecurityStamp, "a new password ends the sessions opened before")
		assert.Empty(t, changed.PasswordHash)
		m, err := f.svc.Authenticate(f.ctx, f.org.ID, "bob.martin", "new-password-1")
		require.NoError(t, err)
		assert.False(t, m.MustChangePassword)
		assert.Equal(t, changed.SecurityStamp, m.SecurityStamp)
		_, err = f.svc.Authenticate(f.ctx, f.org.ID, "bob.martin", tmp)
		assert.ErrorIs(t, err, membership.ErrInvalidCredentials)

		reset, err := f.svc.IssueTemporaryPassword(f.ctx, membership.SystemActor("support"), f.org.ID, a.Member.ID)
		require.NoError(t, err)
		_, err = f.svc.Authenticate(f.ctx, f.org.ID, "bob.martin", reset)
		var pcr *roster.PasswordChangeRequiredError
		require.ErrorAs(t, err, &pcr)
		assert.True(t, pcr.Member.MustChangePassword)
	})
}

// Conance: "Plusieurs administrateurs … au moins deux"; "Revue régulière".
func TestReview(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.FreePlan())
		f.add("Bob", "Martin")
		f.clock.Advance(100 * 24 * time.Hour)
		_, err := f.svc.Authenticate(f.ctx, f.org.ID, "alice.admin", "alice-password")
		require.NoError(t, err)
		r, err := f.svc.Review(f.ctx, f.actor, f.org.ID)
		require.NoError(t, err)
		assert.Equal(t, 1, r.ActiveAdmins)
		require.Len(t, r.Idle, 1)
		assert.Equal(t, "bob.martin", r.Idle[0].Login)
		assert.Equal(t, "one_admin", r.Notices[0].Code)
		assert.Contains(t, r.Notices[0].Text(membership.English), "only one active admin")
		assert.Contains(t, r.Notices[0].Text(membership.French), "un seul administrateur actif")
		assert.Equal(t, 2, r.SeatsUsed)
		_, err = f.svc.Review(f.ctx, membership.ActorMember(r.Idle[0].ID), f.org.ID)
		assert.ErrorIs(t, err, membership.ErrForbidden)
	})
}

func TestEventsAndHook(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		b := f.add("Bob", "Martin")
		f.events = nil
		_, err := f.svc.Deactivate(f.ctx, f.actor, f.org.ID, b.ID)
		require.NoError(t, err)
		require.Len(t, f.events, 1, "the hook hears about the committed change")
		e := f.events[0]
		assert.Equal(t, membership.EventMemberDeactivated, e.Type)
		assert.Equal(t, b.ID, e.SubjectID)
		assert.Equal(t, f.actor.String(), e.Actor)
		assert.Equal(t, membership.StatusActive, e.StatusBefore)
		assert.Equal(t, membership.StatusDeactivated, e.StatusAfter)

		// A refused change emits nothing and writes no event.
		f.events = nil
		_, err = f.svc.Deactivate(f.ctx, f.actor, f.org.ID, f.admin.ID)
		require.ErrorIs(t, err, membership.ErrLastAdmin)
		assert.Empty(t, f.events)

		_, err = f.svc.ChangeRole(f.ctx, f.actor, f.org.ID, b.ID, membership.RoleAdmin)
		require.NoError(t, err)
		evs, err := f.svc.Events(f.ctx, f.actor, f.org.ID, store.EventQuery{SubjectID: b.ID})
		require.NoError(t, err)
		types := make([]membership.EventType, len(evs))
		for i, e := range evs {
			types[i] = e.Type
		}
		assert.Equal(t, []membership.EventType{membership.EventMemberAdded, membership.EventMemberDeactivated, membership.EventMemberRoleChanged}, types)
		assert.Equal(t, membership.RoleUser, evs[2].RoleBefore)
		assert.Equal(t, membership.RoleAdmin, evs[2].RoleAfter)
	})
}

// One constructor shape: a nil store is refused. Org reads the org for
// who may read members.
func TestNewAndOrg(t *testing.T) {
	_, err := roster.New(nil, nil)
	assert.Error(t, err)
	var unopened *memstore.Store // as an ignored constructor error leaves it
	_, err = roster.New(unopened, nil)
	assert.Error(t, err, "a nil pointer in the interface is refused too")
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		org, err := f.svc.Org(f.ctx, f.actor, f.org.ID)
		require.NoError(t, err)
		assert.Equal(t, "Conance", org.Name)
		assert.Equal(t, 1, org.ActiveAdmins)
		_, err = f.svc.Org(f.ctx, membership.ActorMember("nobody"), f.org.ID)
		assert.ErrorIs(t, err, membership.ErrForbidden)
	})
}
