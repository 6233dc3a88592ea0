package roster_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/internal/testkit"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// The host's permissions for these tests: two features of its own.
const (
	permCommissionsCreate membership.Permission = "commissions.create"
	permReportsView       membership.Permission = "reports.view"
)

func hostCatalog(t *testing.T) *membership.Catalog {
	t.Helper()
	cat, err := membership.NewCatalog([]membership.PermissionDef{
		{Name: permCommissionsCreate, French: "Créer des commissions", English: "Create commissions"},
		{Name: permReportsView, French: "Voir les rapports", English: "View reports"},
	}, []membership.Permission{membership.PermMembersRead, permReportsView})
	require.NoError(t, err)
	return cat
}

// withCatalog rebuilds the fixture's service with the host's catalog.
func (f *fixture) withCatalog(cat *membership.Catalog) {
	f.svc = testkit.Roster(f.t, f.st, &roster.Options{Clock: f.clock, Hasher: f.hasher, Catalog: cat, AfterCommit: func(_ context.Context, evs []membership.Event) {
		f.mu.Lock()
		f.events = append(f.events, evs...)
		f.mu.Unlock()
	}})
}

func withUser(u string) func(*roster.NewMember) { return func(n *roster.NewMember) { n.UserID = u } }

// One account in many orgs: the switcher lists active and deactivated
// memberships by org name, never removed ones, with the role's name.
func TestMembershipsForOrgSwitcher(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		sys := membership.SystemActor("test")
		mk := func(name string) membership.Org {
			o, err := f.svc.CreateOrg(f.ctx, roster.NewOrg{Name: name, Plan: membership.PremiumPlan(0)})
			require.NoError(t, err)
			_, err = f.svc.Add(f.ctx, sys, o.ID, roster.NewMember{FirstName: "Root", LastName: "Admin", RoleID: membership.RoleAdmin, Password: "root-password"})
			require.NoError(t, err)
			return o
		}
		zeta, alpha, gone := mk("Zeta"), mk("Alpha"), mk("Gone")
		role, err := f.svc.CreateRole(f.ctx, sys, alpha.ID, "Commercial")
		require.NoError(t, err)
		join := func(o membership.Org, roleID string) membership.Member {
			a, err := f.svc.Add(f.ctx, sys, o.ID, roster.NewMember{FirstName: "Ada", LastName: "Lovelace", RoleID: roleID, UserID: "u-ada", Password: "ada-password"})
			require.NoError(t, err)
			return a.Member
		}
		join(zeta, "")
		inAlpha := join(alpha, role.ID)
		_, err = f.svc.Deactivate(f.ctx, sys, alpha.ID, inAlpha.ID)
		require.NoError(t, err)
		_, err = f.svc.Remove(f.ctx, sys, gone.ID, join(gone, "").ID)
		require.NoError(t, err)
		join(f.org, membership.RoleAdmin)

		ms, err := f.svc.Memberships(f.ctx, "u-ada")
		require.NoError(t, err)
		var names []string
		for _, m := range ms {
			names = append(names, m.Org.Name)
			assert.Equal(t, "u-ada", m.Member.UserID)
			assert.Empty(t, m.Member.PasswordHash)
			assert.Empty(t, m.Member.SecurityStamp)
		}
		assert.Equal(t, []string{"Alpha", "Conance", "Zeta"}, names, "by org name, the removed membership left out")
		assert.False(t, ms[0].Active(), "deactivated: listed, marked")
		assert.Equal(t, "Commercial", ms[0].Role.Name, "a custom role is named")
		assert.True(t, ms[1].Active())
		assert.Equal(t, membership.RoleAdmin, ms[1].Role.ID)
		assert.Equal(t, membership.RoleUser, ms[2].Role.ID)

		none, err := f.svc.Memberships(f.ctx, "u-nobody")
		require.NoError(t, err)
		assert.Empty(t, none)
	})
}

// An actor that names a host account acts as its member of the org the
// call names; without an active membership there it is refused.
func TestActAsUser(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		sys := membership.SystemActor("test")
		mgrRole, err := f.svc.CreateRole(f.ctx, f.actor, f.org.ID, "Managers")
		require.NoError(t, err)
		_, err = f.svc.UpdateRole(f.ctx, f.actor, f.org.ID, mgrRole.ID, "Managers", []membership.Permission{membership.PermMembersRead, membership.PermMembersManage})
		require.NoError(t, err)
		mgr, err := f.svc.Add(f.ctx, sys, f.org.ID, roster.NewMember{FirstName: "Max", LastName: "Manager", RoleID: mgrRole.ID, UserID: "u-max", Password: "max-password"})
		require.NoError(t, err)
		bob := f.add("Bob", "Martin")
		asMax := membership.ActorUser("u-max")

		_, err = f.svc.Deactivate(f.ctx, asMax, f.org.ID, bob.ID)
		require.NoError(t, err, "the account acts through its member")
		evs, err := f.svc.Events(f.ctx, f.actor, f.org.ID, store.EventQuery{SubjectID: bob.ID, Types: []membership.EventType{membership.EventMemberDeactivated}})
		require.NoError(t, err)
		require.Len(t, evs, 1)
		assert.Equal(t, "user:u-max", evs[0].Actor, "the event names the account that acted")

		// The account's power is its member's: no escalation through it.
		_, err = f.svc.ChangeRole(f.ctx, asMax, f.org.ID, mgr.Member.ID, membership.RoleAdmin)
		assert.ErrorIs(t, err, membership.ErrForbidden)
		_, err = f.svc.Deactivate(f.ctx, asMax, f.org.ID, f.admin.ID)
		assert.ErrorIs(t, err, membership.ErrForbidden)

		// In another org, or once deactivated, the account is nobody.
		other, err := f.svc.CreateOrg(f.ctx, roster.NewOrg{Name: "Other", Plan: membership.PremiumPlan(0)})
		require.NoError(t, err)
		_, err = f.svc.List(f.ctx, asMax, other.ID, roster.ListQuery{})
		assert.ErrorIs(t, err, membership.ErrForbidden)
		_, err = f.svc.Deactivate(f.ctx, f.actor, f.org.ID, mgr.Member.ID)
		require.NoError(t, err)
		_, err = f.svc.List(f.ctx, asMax, f.org.ID, roster.ListQuery{})
		assert.ErrorIs(t, err, membership.ErrForbidden)
		_, err = f.svc.List(f.ctx, membership.ActorUser("u-unknown"), f.org.ID, roster.ListQuery{})
		assert.ErrorIs(t, err, membership.ErrForbidden)
	})
}

// The member of an account: found by the account itself or a reader;
// listings filter by account and by attributes.
func TestMemberOfUserAndFilters(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		sys := membership.SystemActor("test")
		ada, err := f.svc.Add(f.ctx, sys, f.org.ID, roster.NewMember{FirstName: "Ada", LastName: "L", UserID: "u-ada", Password: "ada-password",
			Attributes: membership.Attributes{"department": "Ventes"}})
		require.NoError(t, err)
		bob, err := f.svc.Add(f.ctx, sys, f.org.ID, roster.NewMember{FirstName: "Bob", LastName: "M", UserID: "u-bob", Password: "bob-password",
			Attributes: membership.Attributes{"department": "Achats"}})
		require.NoError(t, err)

		m, err := f.svc.MemberOfUser(f.ctx, membership.ActorUser("u-ada"), f.org.ID, "u-ada")
		require.NoError(t, err)
		assert.Equal(t, ada.Member.ID, m.ID)
		m, err = f.svc.MemberOfUser(f.ctx, f.actor, f.org.ID, "u-bob")
		require.NoError(t, err)
		assert.Equal(t, bob.Member.ID, m.ID)
		_, err = f.svc.MemberOfUser(f.ctx, f.actor, f.org.ID, "u-nobody")
		assert.ErrorIs(t, err, membership.ErrNotFound)

		page, err := f.svc.List(f.ctx, f.actor, f.org.ID, roster.ListQuery{UserID: "u-bob"})
		require.NoError(t, err)
		require.Len(t, page.Members, 1)
		assert.Equal(t, bob.Member.ID, page.Members[0].ID)
		page, err = f.svc.List(f.ctx, f.actor, f.org.ID, roster.ListQuery{Attributes: membership.Attributes{"department": "Ventes"}})
		require.NoError(t, err)
		require.Len(t, page.Members, 1)
		assert.Equal(t, ada.Member.ID, page.Members[0].ID)
		assert.Equal(t, membership.Attributes{"department": "Ventes"}, page.Rows()[0].Attributes)

		// A second member for one account is refused; the removed one of
		// the account comes back instead.
		_, err = f.svc.Add(f.ctx, sys, f.org.ID, roster.NewMember{FirstName: "Ada", LastName: "Again", UserID: "u-ada", Password: "ada-password"})
		var dup *membership.DuplicateError
		require.True(t, errors.As(err, &dup), "%v", err)
		assert.Equal(t, "user_id", dup.Key)
		_, err = f.svc.Remove(f.ctx, f.actor, f.org.ID, ada.Member.ID)
		require.NoError(t, err)
		back, err := f.svc.Add(f.ctx, sys, f.org.ID, roster.NewMember{FirstName: "Ada", LastName: "Back", UserID: "u-ada", Password: "ada-password"})
		require.NoError(t, err)
		assert.True(t, back.Restored)
		assert.Equal(t, ada.Member.ID, back.Member.ID)

		// Someone else brought back on a removed member's login does not
		// inherit its account: the old account gets no access.
		_, err = f.svc.Remove(f.ctx, f.actor, f.org.ID, ada.Member.ID)
		require.NoError(t, err)
		reused, err := f.svc.Add(f.ctx, f.actor, f.org.ID, roster.NewMember{FirstName: "Ada", LastName: "Back", Login: back.Member.Login, Password: "other-password"})
		require.NoError(t, err)
		assert.True(t, reused.Restored)
		assert.Empty(t, reused.Member.UserID)
		ok, err := f.svc.Can(f.ctx, f.org.ID, membership.ActorUser("u-ada"), membership.PermMembersRead)
		require.NoError(t, err)
		assert.False(t, ok)
	})
}

// Attributes: validated with the field named, merged by Edit, carried in
// the audit events.
func TestMemberAttributes(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		_, err := f.svc.Add(f.ctx, f.actor, f.org.ID, roster.NewMember{FirstName: "Bad", LastName: "Attr", Password: "member-password",
			Attributes: membership.Attributes{"site": "Ly\u202eon"}})
		var ve *membership.ValidationError
		require.True(t, errors.As(err, &ve), "%v", err)
		assert.Equal(t, "attributes.site", ve.Field)
		_, err = f.svc.Add(f.ctx, f.actor, f.org.ID, roster.NewMember{FirstName: "Bad", LastName: "Key", Password: "member-password",
			Attributes: membership.Attributes{"Site": "Lyon"}})
		require.True(t, errors.As(err, &ve))
		assert.Equal(t, "attributes", ve.Field)

		bob := f.add("Bob", "Martin", func(n *roster.NewMember) { n.Attributes = membership.Attributes{"site": "Lyon", "team": "Rouge"} })
		m, err := f.svc.Edit(f.ctx, f.actor, f.org.ID, bob.ID, roster.Patch{Attributes: membership.Attributes{"site": "Paris", "team": ""}})
		require.NoError(t, err)
		assert.Equal(t, membership.Attributes{"site": "Paris"}, m.Attributes, "set one, remove one")
		assert.Equal(t, membership.Attributes{"site": "Paris"}, f.get(bob.ID).Attributes)

		// A change that normalises to nothing writes nothing; filters are
		// normalised like stored values.
		_, err = f.svc.Edit(f.ctx, f.actor, f.org.ID, bob.ID, roster.Patch{Attributes: membership.Attributes{"site": " Paris "}})
		require.NoError(t, err)
		page, err := f.svc.List(f.ctx, f.actor, f.org.ID, roster.ListQuery{Attributes: membership.Attributes{"site": "Paris "}})
		require.NoError(t, err)
		require.Len(t, page.Members, 1)
		assert.Equal(t, bob.ID, page.Members[0].ID)

		evs, err := f.svc.Events(f.ctx, f.actor, f.org.ID, store.EventQuery{SubjectID: bob.ID})
		require.NoError(t, err)
		require.Len(t, evs, 2)
		assert.Equal(t, membership.Attributes{"site": "Lyon", "team": "Rouge"}, evs[0].Attributes, "member.added carries them")
		assert.Equal(t, membership.Attributes{"site": "Paris"}, evs[1].Attributes, "member.updated carries them after the change")
		assert.Contains(t, evs[1].Detail, "attributes")
	})
}

// The host's permissions: declared once, held by custom roles, all held
// by admin, the user role's set by the host; Can answers for them, and
// nobody grants what they do not hold.
func TestCanForHostPermissions(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		f.withCatalog(hostCatalog(t))
		sys := membership.SystemActor("test")
		sales, err := f.svc.CreateRole(f.ctx, f.actor, f.org.ID, "Commercial")
		require.NoError(t, err)
		_, err = f.svc.UpdateRole(f.ctx, f.actor, f.org.ID, sales.ID, "Commercial", []membership.Permission{membership.PermMembersRead, permCommissionsCreate})
		require.NoError(t, err)
		seller, err := f.svc.Add(f.ctx, sys, f.org.ID, roster.NewMember{FirstName: "Sam", LastName: "Seller", RoleID: sales.ID, UserID: "u-sam", Password: "sam-password"})
		require.NoError(t, err)
		user := f.add("Uma", "User")

		can := func(a membership.Actor, p membership.Permission) bool {
			t.Helper()
			ok, err := f.svc.Can(f.ctx, f.org.ID, a, p)
			require.NoError(t, err)
			return ok
		}
		assert.True(t, can(membership.ActorMember(seller.Member.ID), permCommissionsCreate))
		assert.True(t, can(membership.ActorUser("u-sam"), permCommissionsCreate), "by host account too")
		assert.False(t, can(membership.ActorUser("u-sam"), permReportsView))
		assert.True(t, can(f.actor, permCommissionsCreate), "admin holds every declared permission")
		assert.True(t, can(f.actor, permReportsView))
		assert.True(t, can(membership.ActorMember(user.ID), permReportsView), "the user role holds what the host chose")
		assert.False(t, can(membership.ActorMember(user.ID), permCommissionsCreate))
		assert.True(t, can(sys, permCommissionsCreate))
		assert.False(t, can(membership.ActorUser("u-nobody"), permReportsView))
		ok, err := f.svc.Can(f.ctx, "no-such-org", f.actor, permReportsView)
		require.NoError(t, err)
		assert.False(t, ok)
		_, err = f.svc.Can(f.ctx, f.org.ID, f.actor, "commisions.create")
		assert.ErrorIs(t, err, membership.ErrInvalid, "a typo is an error, not a quiet no")

		// A deactivated member, or one holding a temporary password, may not.
		_, err = f.svc.Deactivate(f.ctx, f.actor, f.org.ID, seller.Member.ID)
		require.NoError(t, err)
		assert.False(t, can(membership.ActorUser("u-sam"), permCommissionsCreate))
		temp, err := f.svc.Add(f.ctx, f.actor, f.org.ID, roster.NewMember{FirstName: "Tim", LastName: "Temp"})
		require.NoError(t, err)
		assert.False(t, can(membership.ActorMember(temp.Member.ID), permReportsView))

		// No escalation through host permissions: a role manager without
		// commissions.create can neither grant it nor give its role.
		mgrRole, err := f.svc.CreateRole(f.ctx, f.actor, f.org.ID, "Role managers")
		require.NoError(t, err)
		_, err = f.svc.UpdateRole(f.ctx, f.actor, f.org.ID, mgrRole.ID, "Role managers", []membership.Permission{membership.PermMembersRead, membership.PermMembersManage, membership.PermRolesManage})
		require.NoError(t, err)
		mgr := f.add("Mia", "Manager", withRole(mgrRole.ID))
		asMgr := membership.ActorMember(mgr.ID)
		own, err := f.svc.CreateRole(f.ctx, asMgr, f.org.ID, "Mine")
		require.NoError(t, err)
		_, err = f.svc.UpdateRole(f.ctx, asMgr, f.org.ID, own.ID, "Mine", []membership.Permission{permCommissionsCreate})
		assert.ErrorIs(t, err, membership.ErrForbidden)
		_, err = f.svc.ChangeRole(f.ctx, asMgr, f.org.ID, user.ID, sales.ID)
		assert.ErrorIs(t, err, membership.ErrForbidden)
		_, err = f.svc.UpdateRole(f.ctx, f.actor, f.org.ID, own.ID, "Mine", []membership.Permission{"not.declared"})
		assert.ErrorIs(t, err, membership.ErrInvalid, "a role holds declared permissions only")
	})
}

// A stored role naming a permission the host stopped declaring keeps its
// other permissions, never grants the unknown one, and the review lists it.
func TestUndeclaredPermissionNeverGranted(t *testing.T) {
	each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		f.withCatalog(hostCatalog(t))
		role, err := f.svc.CreateRole(f.ctx, f.actor, f.org.ID, "Commercial")
		require.NoError(t, err)
		_, err = f.svc.UpdateRole(f.ctx, f.actor, f.org.ID, role.ID, "Commercial", []membership.Permission{membership.PermMembersRead, permCommissionsCreate, permReportsView})
		require.NoError(t, err)
		sam := f.add("Sam", "Seller", withRole(role.ID))

		// The host's next release no longer declares commissions.create.
		smaller, err := membership.NewCatalog([]membership.PermissionDef{{Name: permReportsView, French: "Voir les rapports", English: "View reports"}}, nil)
		require.NoError(t, err)
		f.withCatalog(smaller)
		ok, err := f.svc.Can(f.ctx, f.org.ID, membership.ActorMember(sam.ID), permReportsView)
		require.NoError(t, err)
		assert.True(t, ok, "the other permissions stay")
		_, err = f.svc.Can(f.ctx, f.org.ID, membership.ActorMember(sam.ID), permCommissionsCreate)
		assert.ErrorIs(t, err, membership.ErrInvalid, "asking for it is a mistake of the host")
		roles, err := f.svc.Roles(f.ctx, f.actor, f.org.ID)
		require.NoError(t, err)
		for _, r := range roles {
			if r.ID == role.ID {
				assert.NotContains(t, r.Permissions, permCommissionsCreate)
				assert.Contains(t, r.Permissions, permReportsView)
			}
		}
		rep, err := f.svc.Review(f.ctx, f.actor, f.org.ID)
		require.NoError(t, err)
		assert.Equal(t, map[string][]membership.Permission{role.ID: {permCommissionsCreate}}, rep.UnknownPermissions)
		assert.Contains(t, rep.Notices, roster.Notice{Code: "unknown_permissions", Args: []any{1}})

		// Editing the role meanwhile keeps what it stores but cannot grant.
		_, err = f.svc.UpdateRole(f.ctx, f.actor, f.org.ID, role.ID, "Commerciaux", []membership.Permission{membership.PermMembersRead, permReportsView})
		require.NoError(t, err)

		// Declared again, it grants again.
		f.withCatalog(hostCatalog(t))
		ok, err = f.svc.Can(f.ctx, f.org.ID, membership.ActorMember(sam.ID), permCommissionsCreate)
		require.NoError(t, err)
		assert.True(t, ok)
	})
}
