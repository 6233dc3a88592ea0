package proof

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/memberkit/memberkit/internal/testkit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// The attacks of the security review, each as it was tried, with only the
// public API: every one must now be refused and change nothing.

// attackEnv is an org with an admin, a victim user and attackers: custom
// roles that hold members.manage, invitations.manage or csv.import only.
type attackEnv struct {
	ctx              context.Context
	st               store.Store
	roster           *roster.Service
	invites          *invite.Service
	csv              *csvsync.Service
	sender           *invite.RecordingSender
	org              string
	admin, user      membership.Member
	manager, inviter membership.Member
	importer         membership.Member
	delivered        map[string]string // member ID → temporary password sent to them
	mu               sync.Mutex
}

func newAttackEnv(t *testing.T, st store.Store) *attackEnv {
	ctx := context.Background()
	e := &attackEnv{ctx: ctx, st: st, sender: &invite.RecordingSender{}, delivered: map[string]string{}}
	h := fastHasher()
	e.roster = testkit.Roster(t, st, &roster.Options{Hasher: h, Notifier: roster.NotifierFunc(func(_ context.Context, m membership.Member, pw string) error {
		e.mu.Lock()
		e.delivered[m.ID] = pw
		e.mu.Unlock()
		return nil
	})})
	var err error
	e.invites, err = invite.New(st, e.sender, &invite.Options{Hasher: h})
	require.NoError(t, err)
	e.csv = testkit.CSV(t, st, &csvsync.Options{Hasher: h})
	org, err := e.roster.CreateOrg(ctx, roster.NewOrg{Name: "Target", Plan: membership.PremiumPlan(0), Features: []membership.Feature{membership.FeatureCSV}})
	require.NoError(t, err)
	e.org = org.ID
	role := func(name string, perms ...membership.Permission) string {
		r, err := e.roster.CreateRole(ctx, sys, e.org, name)
		require.NoError(t, err)
		_, err = e.roster.UpdateRole(ctx, sys, e.org, r.ID, name, perms)
		require.NoError(t, err)
		return r.ID
	}
	add := func(first, email, roleID string) membership.Member {
		a, err := e.roster.Add(ctx, sys, e.org, roster.NewMember{FirstName: first, LastName: "Attack", Email: email, RoleID: roleID, Password: "attack-password"})
		require.NoError(t, err)
		return a.Member
	}
	e.admin = add("Admin", "admin@target.example", membership.RoleAdmin)
	e.user = add("Victim", "victim@target.example", membership.RoleUser)
	e.manager = add("Manager", "manager@target.example", role("Managers", membership.PermMembersRead, membership.PermMembersManage))
	e.inviter = add("Inviter", "inviter@target.example", role("Inviters", membership.PermInvitationsManage))
	e.importer = add("Importer", "importer@target.example", role("Importers", membership.PermCSVImport))
	return e
}

func (e *attackEnv) logical(t *testing.T) []string {
	s, err := Take(e.ctx, e.st, e.org)
	require.NoError(t, err)
	return fingerprint(s)
}

func (e *attackEnv) get(t *testing.T, id string) membership.Member {
	m, err := e.roster.Get(e.ctx, sys, e.org, id)
	require.NoError(t, err)
	return m
}

func actor(m membership.Member) membership.Actor { return membership.ActorMember(m.ID) }

// A member whose custom role has members.manage changes its own role to
// admin, adds an admin with a password it chooses, and resets the admin's
// password to receive it and log in as the admin.
func TestAttackManagerEscalations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		e := newAttackEnv(t, newStore(t))
		before := e.logical(t)
		_, err := e.roster.ChangeRole(e.ctx, actor(e.manager), e.org, e.manager.ID, membership.RoleAdmin)
		assert.ErrorIs(t, err, membership.ErrForbidden, "self-promotion")
		_, err = e.roster.Add(e.ctx, actor(e.manager), e.org, roster.NewMember{FirstName: "Mallory", LastName: "Admin", RoleID: membership.RoleAdmin, Password: "mallory-chose-it"})
		assert.ErrorIs(t, err, membership.ErrForbidden, "adding an admin")
		_, err = e.roster.ChangeRole(e.ctx, actor(e.manager), e.org, e.user.ID, membership.RoleAdmin)
		assert.ErrorIs(t, err, membership.ErrForbidden, "promoting an accomplice")
		err = e.roster.ResetPassword(e.ctx, actor(e.manager), e.org, e.admin.ID)
		assert.ErrorIs(t, err, membership.ErrForbidden, "resetting the admin's password")
		_, err = e.roster.IssueTemporaryPassword(e.ctx, actor(e.manager), e.org, e.user.ID)
		assert.ErrorIs(t, err, membership.ErrForbidden, "the returned temporary password is the system's alone")
		for _, act := range []func() error{
			func() error { _, err := e.roster.Deactivate(e.ctx, actor(e.manager), e.org, e.admin.ID); return err },
			func() error { _, err := e.roster.Remove(e.ctx, actor(e.manager), e.org, e.admin.ID); return err },
			func() error {
				email := "mallory@evil.example"
				_, err := e.roster.Edit(e.ctx, actor(e.manager), e.org, e.admin.ID, roster.Patch{Email: &email})
				return err
			},
			func() error {
				uid := "mallory-host-account"
				_, err := e.roster.Edit(e.ctx, actor(e.manager), e.org, e.user.ID, roster.Patch{UserID: &uid})
				return err
			},
			func() error {
				_, err := e.roster.DeactivateMany(e.ctx, actor(e.manager), e.org, []string{e.admin.ID})
				return err
			},
		} {
			assert.ErrorIs(t, act(), membership.ErrForbidden)
		}
		assert.Equal(t, before, e.logical(t), "nothing changed")
		_, err = e.roster.Authenticate(e.ctx, e.org, e.admin.Login, "mallory-chose-it")
		assert.ErrorIs(t, err, membership.ErrInvalidCredentials)

		// Within its power, the manager's reset reaches the member, not the manager.
		require.NoError(t, e.roster.ResetPassword(e.ctx, actor(e.manager), e.org, e.user.ID))
		pw := e.delivered[e.user.ID]
		require.NotEmpty(t, pw, "delivered to the member through the Notifier")
		_, err = e.roster.Authenticate(e.ctx, e.org, e.user.Login, pw)
		assert.ErrorIs(t, err, membership.ErrPasswordChangeRequired)
	})
}

// A role with only invitations.manage invites an accomplice as admin.
func TestAttackInviterInvitesAdmin(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		e := newAttackEnv(t, newStore(t))
		_, err := e.invites.Send(e.ctx, actor(e.inviter), e.org, invite.To{Email: "accomplice@evil.example", RoleID: membership.RoleAdmin})
		assert.ErrorIs(t, err, membership.ErrForbidden)
		assert.Empty(t, e.sender.All(), "nothing sent")
		// A pending admin invitation sent by the system cannot be resent
		// (re-granted) by the inviter either.
		inv, err := e.invites.Send(e.ctx, sys, e.org, invite.To{Email: "new-admin@target.example", RoleID: membership.RoleAdmin})
		require.NoError(t, err)
		_, err = e.invites.Resend(e.ctx, actor(e.inviter), e.org, inv.ID)
		assert.ErrorIs(t, err, membership.ErrForbidden)
		// What the inviter holds it may grant: a role with no permission.
		empty, err := e.roster.CreateRole(e.ctx, sys, e.org, "Guests")
		require.NoError(t, err)
		_, err = e.invites.Send(e.ctx, actor(e.inviter), e.org, invite.To{Email: "guest@target.example", RoleID: empty.ID})
		assert.NoError(t, err)
	})
}

// A role with only csv.import imports a file that sets the admin's
// password, or plans with RoleID admin.
func TestAttackImporterEscalations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		e := newAttackEnv(t, newStore(t))
		var export strings.Builder
		_, err := e.csv.Export(e.ctx, sys, e.org, &export, &csvsync.ExportOptions{NoBOM: true, LF: true})
		require.NoError(t, err)
		file := strings.Replace(export.String(), e.admin.Login+";Attack;Admin;admin@target.example;Mot de passe crypté;", e.admin.Login+";Attack;Admin;admin@target.example;mallory-knows-it;", 1)
		require.NotEqual(t, export.String(), file)
		f, err := csvsync.Parse(strings.NewReader(file), nil)
		require.NoError(t, err)
		before := e.logical(t)
		_, err = e.csv.Plan(e.ctx, actor(e.importer), e.org, f, nil)
		assert.ErrorIs(t, err, membership.ErrForbidden, "setting the admin's password")
		var fe *csvsync.FileError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "beyond_power", fe.Problems[0].Code)
		assert.Equal(t, 2, fe.Problems[0].Line, "the admin's line is named")

		// A new member with the admin role as the plan's default.
		f, err = csvsync.Parse(strings.NewReader(export.String()+";Accomplice;Mallory;;mallory-knows-it;Activé\n"), nil)
		require.NoError(t, err)
		_, err = e.csv.Plan(e.ctx, actor(e.importer), e.org, f, &csvsync.PlanOptions{RoleID: membership.RoleAdmin})
		assert.ErrorIs(t, err, membership.ErrForbidden, "planning with RoleID admin")
		assert.Equal(t, before, e.logical(t))
		_, err = e.roster.Authenticate(e.ctx, e.org, e.admin.Login, "mallory-knows-it")
		assert.ErrorIs(t, err, membership.ErrInvalidCredentials)
	})
}

// A role edit that reaches beyond the editor: a manager with roles.manage
// may not strip, rename or delete a role that holds more than it does.
func TestAttackRoleEditsBeyondPower(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		e := newAttackEnv(t, newStore(t))
		editors, err := e.roster.CreateRole(e.ctx, sys, e.org, "Editors")
		require.NoError(t, err)
		_, err = e.roster.UpdateRole(e.ctx, sys, e.org, editors.ID, "Editors", []membership.Permission{membership.PermRolesManage, membership.PermMembersRead})
		require.NoError(t, err)
		owners, err := e.roster.CreateRole(e.ctx, sys, e.org, "Owners")
		require.NoError(t, err)
		_, err = e.roster.UpdateRole(e.ctx, sys, e.org, owners.ID, "Owners", []membership.Permission{membership.PermOrgManage})
		require.NoError(t, err)
		a, err := e.roster.Add(e.ctx, sys, e.org, roster.NewMember{FirstName: "Ed", LastName: "Itor", RoleID: editors.ID, Password: "attack-password"})
		require.NoError(t, err)
		ed := actor(a.Member)
		_, err = e.roster.UpdateRole(e.ctx, ed, e.org, owners.ID, "Owners", nil)
		assert.ErrorIs(t, err, membership.ErrForbidden, "stripping a role above the editor")
		assert.ErrorIs(t, e.roster.DeleteRole(e.ctx, ed, e.org, owners.ID), membership.ErrForbidden)
		_, err = e.roster.UpdateRole(e.ctx, ed, e.org, editors.ID, "Editors", []membership.Permission{membership.PermRolesManage, membership.PermMembersRead, membership.PermMembersManage})
		assert.ErrorIs(t, err, membership.ErrForbidden, "raising its own role")
	})
}

// An invitation whose sender lost the power to grant its role —
// deactivated, removed or demoted — can no longer be accepted.
func TestAttackInvitationOutlivesSender(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		e := newAttackEnv(t, newStore(t))
		// The manager may grant "user" (it holds members.read).
		for i, revoke := range []func() error{
			func() error { _, err := e.roster.Deactivate(e.ctx, sys, e.org, e.manager.ID); return err },
			func() error { _, err := e.roster.Remove(e.ctx, sys, e.org, e.manager.ID); return err },
			func() error {
				_, err := e.roster.ChangeRole(e.ctx, sys, e.org, e.manager.ID, e.inviter.RoleID)
				return err
			},
			func() error { // still holds the role, no longer invitations.manage
				_, err := e.roster.UpdateRole(e.ctx, sys, e.org, e.manager.RoleID, "Managers", []membership.Permission{membership.PermMembersRead, membership.PermMembersManage})
				return err
			},
		} {
			// Restore the manager, give it invitations.manage, invite.
			_, _ = e.roster.Add(e.ctx, sys, e.org, roster.NewMember{FirstName: "Manager", LastName: "Attack", Email: "manager@target.example", RoleID: e.manager.RoleID, Password: "attack-password"})
			_, _ = e.roster.Activate(e.ctx, sys, e.org, e.manager.ID)
			_, _ = e.roster.ChangeRole(e.ctx, sys, e.org, e.manager.ID, e.manager.RoleID)
			_, err := e.roster.UpdateRole(e.ctx, sys, e.org, e.manager.RoleID, "Managers", []membership.Permission{membership.PermMembersRead, membership.PermMembersManage, membership.PermInvitationsManage})
			require.NoError(t, err)
			email := []string{"one@target.example", "two@target.example", "three@target.example", "four@target.example"}[i]
			_, err = e.invites.Send(e.ctx, actor(e.manager), e.org, invite.To{Email: email, RoleID: membership.RoleUser})
			require.NoError(t, err, "round %d", i)
			token := e.sender.TokenFor(email)
			_, err = e.invites.Lookup(e.ctx, token)
			require.NoError(t, err)

			require.NoError(t, revoke())
			_, err = e.invites.Lookup(e.ctx, token)
			assert.ErrorIs(t, err, membership.ErrInvitationInvalid, "round %d", i)
			_, err = e.invites.Accept(e.ctx, token, invite.Details{FirstName: "Late", LastName: "Comer", Password: "late-password"})
			assert.ErrorIs(t, err, membership.ErrInvitationInvalid, "round %d", i)
			assert.ErrorIs(t, err, membership.ErrForbidden, "round %d: errors.Is tells why", i)
			assert.Equal(t, membership.ErrInvitationInvalid.Error(), err.Error(), "the invitee learns nothing more")
		}
		evs, err := e.roster.Events(e.ctx, sys, e.org, store.EventQuery{Types: []membership.EventType{membership.EventInvitationRefused}})
		require.NoError(t, err)
		assert.Len(t, evs, 4, "each refusal is an audit event")
	})
}

// Hashes imported from a file must be strong enough, and hashes whose
// parameters would take seconds or gigabytes are not hashes at all.
func TestAttackImportedHashes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		e := newAttackEnv(t, newStore(t))
		weak, err := bcrypt.GenerateFromPassword([]byte("weak-password"), 4)
		require.NoError(t, err)
		data := "Identifiant;Nom;Prénom;Mot de passe;Etat\n" +
			e.admin.Login + ";Attack;Admin;;Activé\n" +
			";Faible;Félix;" + string(weak) + ";Activé\n"
		f, err := csvsync.Parse(strings.NewReader(data), nil)
		require.NoError(t, err)
		_, err = e.csv.Plan(e.ctx, sys, e.org, f, &csvsync.PlanOptions{AllowMassDeactivation: true})
		var fe *csvsync.FileError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "weak_hash", fe.Problems[0].Code)
		assert.Equal(t, 3, fe.Problems[0].Line)
		_, err = e.csv.Plan(e.ctx, sys, e.org, f, &csvsync.PlanOptions{AllowMassDeactivation: true, AllowWeakHashes: true})
		assert.NoError(t, err, "a migration may allow them explicitly")

		for _, hostile := range []string{
			"$2a$31$" + strings.Repeat("a", 53),                              // bcrypt cost 31: days per verification
			"$argon2id$v=19$m=4194304,t=64,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5", // 4 GiB × 64 passes
		} {
			assert.False(t, membership.IsPasswordHash(hostile), "%.20s… is no hash memberkit verifies", hostile)
			ok, _, err := membership.NewArgon2Hasher(nil).Verify(membership.PasswordHash(hostile), "x")
			assert.False(t, ok)
			assert.ErrorIs(t, err, membership.ErrMalformedHash, "refused before any work")
		}
	})
}

// Identifiers that could pass for another member's: the same address
// spelled with a Unicode domain or a decomposed accent, a login that is
// another member's email (Authenticate accepts both), an email that is
// another member's login — on every path that sets them.
func TestAttackLookAlikeIdentifiers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		e := newAttackEnv(t, newStore(t))
		a, err := e.roster.Add(e.ctx, sys, e.org, roster.NewMember{FirstName: "Zoé", LastName: "Uni", Email: "zoe@exämple.fr", Password: "attack-password"})
		require.NoError(t, err)
		assert.Equal(t, "zoe@xn--exmple-cua.fr", a.Member.Email)
		_, err = e.roster.Add(e.ctx, sys, e.org, roster.NewMember{FirstName: "Zoé", LastName: "Puny", Email: "ZOE@xn--exmple-cua.FR", Password: "attack-password"})
		assert.ErrorIs(t, err, membership.ErrDuplicate, "one address, two spellings")
		_, err = e.roster.Add(e.ctx, sys, e.org, roster.NewMember{FirstName: "Elo", LastName: "NFC", Email: "\u00e9lo@target.example", Password: "attack-password"})
		require.NoError(t, err)
		_, err = e.roster.Add(e.ctx, sys, e.org, roster.NewMember{FirstName: "Elo", LastName: "NFD", Email: "e\u0301lo@target.example", Password: "attack-password"})
		assert.ErrorIs(t, err, membership.ErrDuplicate, "decomposed accents are the same address")
		_, err = e.roster.Add(e.ctx, sys, e.org, roster.NewMember{FirstName: "Adm\u200bin", LastName: "Attack", Password: "attack-password"})
		assert.ErrorIs(t, err, membership.ErrInvalid, "invisible characters in a name")

		// A login that is the admin's email.
		_, err = e.roster.Add(e.ctx, actor(e.manager), e.org, roster.NewMember{FirstName: "Mal", LastName: "Lory", Login: "admin@target.example", Password: "attack-password"})
		assert.ErrorIs(t, err, membership.ErrDuplicate)
		login := "admin@target.example"
		_, err = e.roster.Edit(e.ctx, actor(e.manager), e.org, e.user.ID, roster.Patch{Login: &login})
		assert.ErrorIs(t, err, membership.ErrDuplicate)
		// An email that is another member's login.
		email := e.user.Login + "@x.example"
		_, err = e.roster.Edit(e.ctx, sys, e.org, e.user.ID, roster.Patch{Login: &email})
		require.NoError(t, err, "a login may be one's own address form")
		_, err = e.roster.Edit(e.ctx, actor(e.manager), e.org, e.manager.ID, roster.Patch{Email: &email})
		assert.ErrorIs(t, err, membership.ErrDuplicate)
		_, err = e.invites.Send(e.ctx, sys, e.org, invite.To{Email: "someone@target.example", RoleID: membership.RoleUser})
		require.NoError(t, err)
		_, err = e.invites.Accept(e.ctx, e.sender.TokenFor("someone@target.example"), invite.Details{FirstName: "Some", LastName: "One", Login: "admin@target.example", Password: "attack-password"})
		assert.ErrorIs(t, err, membership.ErrDuplicate, "accepting with a login that is another's email")
		f, err := csvsync.Parse(strings.NewReader("Identifiant;Nom;Prénom;Etat\nadmin@target.example;Lory;Mal;Activé\n"), nil)
		require.NoError(t, err)
		_, err = e.csv.Plan(e.ctx, sys, e.org, f, &csvsync.PlanOptions{AllowMassDeactivation: true})
		var fe *csvsync.FileError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "login_is_email", fe.Problems[0].Code)
		assert.Equal(t, 2, fe.Problems[0].Line)
		// Authenticate with the address reaches the admin, and only it.
		m, err := e.roster.Authenticate(e.ctx, e.org, "Admin@Target.Example", "attack-password")
		require.NoError(t, err)
		assert.Equal(t, e.admin.ID, m.ID)
	})
}

// A peer takes over a peer: an admin sets another admin's email to its own
// (to receive the reset), resets that admin's password, or imports a
// password for them; a member imports a password for itself, skipping the
// proof of the current one. Setting another's credentials needs strictly
// more power; one's own password needs the current one.
func TestAttackPeerTakeover(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		e := newAttackEnv(t, newStore(t))
		peer, err := e.roster.Add(e.ctx, sys, e.org, roster.NewMember{FirstName: "Peer", LastName: "Admin", Email: "peer@target.example", RoleID: membership.RoleAdmin, Password: "peer-password"})
		require.NoError(t, err)
		before := e.logical(t)
		email := "mallory@evil.example"
		_, err = e.roster.Edit(e.ctx, actor(e.admin), e.org, peer.Member.ID, roster.Patch{Email: &email})
		assert.ErrorIs(t, err, membership.ErrForbidden, "a peer's recovery address")
		assert.ErrorIs(t, e.roster.ResetPassword(e.ctx, actor(e.admin), e.org, peer.Member.ID), membership.ErrForbidden, "a peer's password")
		var export strings.Builder
		_, err = e.csv.Export(e.ctx, sys, e.org, &export, &csvsync.ExportOptions{NoBOM: true, LF: true})
		require.NoError(t, err)
		for name, login := range map[string]string{"a peer's": peer.Member.Login, "one's own": e.admin.Login} {
			file := strings.ReplaceAll(export.String(), csvsync.PlaceholderFR, "")
			i := strings.Index(file, login+";")
			line := file[i : i+strings.IndexByte(file[i:], '\n')]
			parts := strings.Split(line, ";")
			parts[4] = "chosen-by-the-attacker"
			file = strings.Replace(file, line, strings.Join(parts, ";"), 1)
			f, err := csvsync.Parse(strings.NewReader(file), nil)
			require.NoError(t, err)
			_, err = e.csv.Plan(e.ctx, actor(e.admin), e.org, f, &csvsync.PlanOptions{AllowMassDeactivation: true})
			assert.ErrorIs(t, err, membership.ErrForbidden, "%s password by import", name)
		}
		assert.Equal(t, before, e.logical(t), "nothing changed")
		// Its own email, a member may change.
		own := "admin.new@target.example"
		_, err = e.roster.Edit(e.ctx, actor(e.admin), e.org, e.admin.ID, roster.Patch{Email: &own})
		assert.NoError(t, err)
	})
}

// A plan told a member whether a password it guessed was a member's: no
// change when it was right, a password change when it was wrong. A
// member's plan now sets any clear password again, right or wrong.
func TestAttackPlanIsNoPasswordOracle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		e := newAttackEnv(t, newStore(t))
		var export strings.Builder
		_, err := e.csv.Export(e.ctx, sys, e.org, &export, &csvsync.ExportOptions{NoBOM: true, LF: true})
		require.NoError(t, err)
		plan := func(guess string) []csvsync.Action {
			t.Helper()
			data := strings.Replace(export.String(), e.user.Login+";Attack;Victim;victim@target.example;Mot de passe crypté;",
				e.user.Login+";Attack;Victim;victim@target.example;"+guess+";", 1)
			require.NotEqual(t, export.String(), data)
			f, err := csvsync.Parse(strings.NewReader(data), nil)
			require.NoError(t, err)
			p, err := e.csv.Plan(e.ctx, actor(e.admin), e.org, f, &csvsync.PlanOptions{AllowMassDeactivation: true})
			require.NoError(t, err)
			var mine []csvsync.Action
			for _, a := range p.Actions {
				if a.MemberID == e.user.ID {
					a.Email = ""
					mine = append(mine, a)
				}
			}
			return mine
		}
		right, wrong := plan("attack-password"), plan("wrong-guess-1")
		require.Len(t, right, 1)
		assert.Equal(t, wrong[0].Changes, right[0].Changes, "a right guess and a wrong one plan the same")
	})
}
