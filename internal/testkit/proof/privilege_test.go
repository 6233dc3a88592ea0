package proof

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/memberkit/memberkit/internal/testkit"

	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// The privilege matrix: every actor role × target role × operation, on
// every store. The expected outcome comes from an oracle that restates
// the rules of least privilege with plain sets, apart from the code under
// test: an operation is allowed when the actor's role holds the
// operation's permission, every permission of each role it grants, and
// every permission of the role of each member it acts on, and strictly
// more than a member whose password or email it sets; nobody changes
// their own role but an admin, sets their own password but by proving the
// current one, or deactivates themselves in a bulk action or an import. Allowed operations must
// change the org; refused ones must return ErrForbidden and leave it
// exactly as it was.

// The roles of the matrix. "manager" is the attacker of the issue: a
// custom role that may manage members.
var matrixRoles = map[string][]membership.Permission{
	membership.RoleAdmin: membership.AllPermissions(),
	"manager":            {membership.PermMembersRead, membership.PermMembersManage, membership.PermInvitationsManage, membership.PermRolesManage, membership.PermCSVImport, membership.PermCSVExport},
	"inviter":            {membership.PermInvitationsManage},
	"importer":           {membership.PermCSVImport},
	membership.RoleUser:  {membership.PermMembersRead},
}

var matrixActors = []string{"system", membership.RoleAdmin, "manager", "inviter", "importer", membership.RoleUser}
var matrixTargets = []string{membership.RoleAdmin, "manager", membership.RoleUser, "self"}
var matrixGrants = []string{membership.RoleAdmin, "manager", membership.RoleUser}

// oracle holds the rules restated.
type oracle struct{ actor string }

func (o oracle) has(p membership.Permission) bool {
	return o.actor == "system" || slices.Contains(matrixRoles[o.actor], p)
}

func (o oracle) covers(role string) bool {
	if o.actor == "system" {
		return true
	}
	for _, p := range matrixRoles[role] {
		if !slices.Contains(matrixRoles[o.actor], p) {
			return false
		}
	}
	return true
}

// outranks: every permission of role and at least one more; the system
// outranks everyone.
func (o oracle) outranks(role string) bool {
	if o.actor == "system" {
		return true
	}
	if !o.covers(role) {
		return false
	}
	for _, p := range matrixRoles[o.actor] {
		if !slices.Contains(matrixRoles[role], p) {
			return true
		}
	}
	return false
}

// matrixOp is one operation of the matrix.
type matrixOp struct {
	name    string
	target  bool // acts on the target; otherwise grants the role
	allowed func(o oracle, role string, self bool) bool
	run     func(e *matrixEnv, role string) error
}

var matrixOps = []matrixOp{
	{"Add", false, func(o oracle, role string, _ bool) bool { return o.has(membership.PermMembersManage) && o.covers(role) },
		func(e *matrixEnv, role string) error {
			_, err := e.roster.Add(e.ctx, e.actor, e.org, roster.NewMember{FirstName: "New", LastName: "Comer", RoleID: e.roleArg(role), Password: "chosen-password"})
			return err
		}},
	{"ChangeRoleTo", false, func(o oracle, role string, _ bool) bool {
		return o.has(membership.PermMembersManage) && o.covers(role) && o.covers("inviter")
	}, func(e *matrixEnv, role string) error {
		_, err := e.roster.ChangeRole(e.ctx, e.actor, e.org, e.ids["victim-user"], e.roleArg(role))
		return err
	}},
	{"Invite", false, func(o oracle, role string, _ bool) bool {
		return o.has(membership.PermInvitationsManage) && o.covers(role)
	},
		func(e *matrixEnv, role string) error {
			_, err := e.invites.Send(e.ctx, e.actor, e.org, invite.To{Email: "accomplice@matrix.example", RoleID: e.roleArg(role)})
			return err
		}},
	{"Resend", false, func(o oracle, role string, _ bool) bool {
		return o.has(membership.PermInvitationsManage) && o.covers(role)
	},
		func(e *matrixEnv, role string) error {
			_, err := e.invites.Resend(e.ctx, e.actor, e.org, e.ids["invitation-"+role])
			return err
		}},
	{"ImportDefaultRole", false, func(o oracle, role string, _ bool) bool { return o.has(membership.PermCSVImport) && o.covers(role) },
		func(e *matrixEnv, role string) error {
			return e.importFile(e.roster0+";Venu;Nouveau;;;Activé\n", e.roleArg(role))
		}},
	{"EditRole", false, func(o oracle, role string, _ bool) bool { return o.has(membership.PermRolesManage) && o.covers(role) },
		func(e *matrixEnv, role string) error {
			_, err := e.roster.UpdateRole(e.ctx, e.actor, e.org, e.ids["spare-"+role], "Renamed "+role, matrixRoles[role][:1])
			return err
		}},
	{"DeleteRole", false, func(o oracle, role string, _ bool) bool { return o.has(membership.PermRolesManage) && o.covers(role) },
		func(e *matrixEnv, role string) error {
			return e.roster.DeleteRole(e.ctx, e.actor, e.org, e.ids["spare-"+role])
		}},

	{"ChangeRole", true, func(o oracle, role string, self bool) bool {
		return o.has(membership.PermMembersManage) && o.covers(role) && o.covers(changeRoleTo(role)) && (!self || o.actor == membership.RoleAdmin)
	}, func(e *matrixEnv, role string) error {
		_, err := e.roster.ChangeRole(e.ctx, e.actor, e.org, e.target, e.roleArg(changeRoleTo(e.targetRole)))
		return err
	}},
	{"Update", true, func(o oracle, role string, self bool) bool { // changes the email: a credential
		return o.has(membership.PermMembersManage) && o.covers(role) && (self || o.outranks(role))
	},
		func(e *matrixEnv, _ string) error {
			email := "taken-over@matrix.example"
			_, err := e.roster.Edit(e.ctx, e.actor, e.org, e.target, roster.Patch{Email: &email})
			return err
		}},
	{"Deactivate", true, func(o oracle, role string, _ bool) bool { return o.has(membership.PermMembersManage) && o.covers(role) },
		func(e *matrixEnv, _ string) error {
			_, err := e.roster.Deactivate(e.ctx, e.actor, e.org, e.target)
			return err
		}},
	{"Activate", true, func(o oracle, role string, self bool) bool {
		return !self && o.has(membership.PermMembersManage) && o.covers(role)
	}, func(e *matrixEnv, _ string) error {
		// The target is deactivated first, by the system.
		if _, err := e.roster.Deactivate(e.ctx, sys, e.org, e.target); err != nil {
			return err
		}
		e.snapshot()
		_, err := e.roster.Activate(e.ctx, e.actor, e.org, e.target)
		return err
	}},
	{"Remove", true, func(o oracle, role string, _ bool) bool { return o.has(membership.PermMembersManage) && o.covers(role) },
		func(e *matrixEnv, _ string) error {
			_, err := e.roster.Remove(e.ctx, e.actor, e.org, e.target)
			return err
		}},
	{"ResetPassword", true, func(o oracle, role string, self bool) bool {
		return !self && o.has(membership.PermMembersManage) && o.outranks(role)
	}, func(e *matrixEnv, _ string) error { return e.roster.ResetPassword(e.ctx, e.actor, e.org, e.target) }},
	{"DeactivateMany", true, func(o oracle, role string, self bool) bool {
		return !self && o.has(membership.PermMembersManage) && o.covers(role)
	}, func(e *matrixEnv, _ string) error {
		_, err := e.roster.DeactivateMany(e.ctx, e.actor, e.org, []string{e.target})
		return err
	}},
	{"DeactivateWhere", true, func(o oracle, role string, self bool) bool {
		return !self && o.has(membership.PermMembersManage) && o.covers(role)
	}, func(e *matrixEnv, _ string) error {
		res, err := e.roster.DeactivateWhere(e.ctx, e.actor, e.org, store.MemberFilter{Group: "Cible"})
		if err == nil && len(res.Changed) == 0 {
			// Skipped, not refused: the outcome of a filter that matched
			// only members beyond the actor's power.
			for _, s := range res.Skipped {
				if errors.Is(s.Err, membership.ErrForbidden) {
					return s.Err
				}
			}
		}
		return err
	}},
	{"ImportPassword", true, func(o oracle, role string, self bool) bool {
		return !self && o.has(membership.PermCSVImport) && o.outranks(role)
	},
		func(e *matrixEnv, _ string) error {
			return e.importFile(strings.Replace(e.roster0, e.targetLogin+";Cible;Membre;;;", e.targetLogin+";Cible;Membre;;attacker-password;", 1), membership.RoleUser)
		}},
	{"ImportDeactivate", true, func(o oracle, role string, self bool) bool {
		return !self && o.has(membership.PermCSVImport) && o.covers(role)
	}, func(e *matrixEnv, _ string) error {
		var kept []string
		for _, line := range strings.SplitAfter(e.roster0, "\n") {
			if !strings.HasPrefix(line, e.targetLogin+";") {
				kept = append(kept, line)
			}
		}
		return e.importFile(strings.Join(kept, ""), membership.RoleUser)
	}},
}

// changeRoleTo is the role a target of a role is moved to by ChangeRole.
func changeRoleTo(role string) string {
	if role == membership.RoleUser {
		return "inviter"
	}
	return membership.RoleUser
}

type matrixEnv struct {
	ctx         context.Context
	st          store.Store
	roster      *roster.Service
	invites     *invite.Service
	csv         *csvsync.Service
	org         string
	actor       membership.Actor
	target      string
	targetRole  string
	targetLogin string
	ids         map[string]string
	roster0     string // the export of the roster, as the system sees it
	before      []string
	notified    *sync.Map
}

func (e *matrixEnv) snapshot() {
	s, err := Take(e.ctx, e.st, e.org)
	if err != nil {
		panic(err)
	}
	e.before = fingerprint(s)
}

// fingerprint is everything of a snapshot a change shows in: the logical
// roster, every member's version, the roles and the invitations.
func fingerprint(s Snapshot) []string {
	out := s.Logical()
	for _, m := range s.Members {
		out = append(out, fmt.Sprintf("version %s %d", m.ID, m.Version))
	}
	for _, r := range s.Roles {
		out = append(out, fmt.Sprintf("role %s %s %v", r.ID, r.Name, r.Permissions))
	}
	for _, inv := range s.Invitations {
		out = append(out, fmt.Sprintf("invitation %s %s %d %s", inv.ID, inv.State, inv.SendCount, inv.InvitedBy))
	}
	return out
}

func (e *matrixEnv) importFile(data, role string) error {
	f, err := csvsync.Parse(strings.NewReader(data), nil)
	if err != nil {
		return err
	}
	p, err := e.csv.Plan(e.ctx, e.actor, e.org, f, &csvsync.PlanOptions{RoleID: role, AllowMassDeactivation: true, TemporaryPassword: "bienvenue"})
	if err != nil {
		return err
	}
	_, err = e.csv.Apply(e.ctx, e.actor, e.org, p, nil)
	return err
}

// newMatrixEnv makes an org with two admins, a member of each matrix role
// (the actors), a target of the given role, spare custom roles to edit,
// and a pending invitation per role.
func newMatrixEnv(t *testing.T, st store.Store, actorRole, targetRole string) *matrixEnv {
	ctx := context.Background()
	h := fastHasher()
	e := &matrixEnv{ctx: ctx, st: st, ids: map[string]string{}, notified: &sync.Map{}}
	notifier := roster.NotifierFunc(func(_ context.Context, m membership.Member, pw string) error {
		e.notified.Store(m.ID, pw)
		return nil
	})
	e.roster = testkit.Roster(t, st, &roster.Options{Hasher: h, Notifier: notifier})
	var err error
	e.invites, err = invite.New(st, &invite.RecordingSender{}, &invite.Options{Hasher: h})
	require.NoError(t, err)
	e.csv = testkit.CSV(t, st, &csvsync.Options{Hasher: h})
	org, err := e.roster.CreateOrg(ctx, roster.NewOrg{Name: "Matrix", Plan: membership.PremiumPlan(0), Features: []membership.Feature{membership.FeatureCSV}})
	require.NoError(t, err)
	e.org = org.ID
	roleIDs := map[string]string{membership.RoleAdmin: membership.RoleAdmin, membership.RoleUser: membership.RoleUser}
	for _, name := range []string{"manager", "inviter", "importer"} {
		r, err := e.roster.CreateRole(ctx, sys, e.org, name)
		require.NoError(t, err)
		_, err = e.roster.UpdateRole(ctx, sys, e.org, r.ID, name, matrixRoles[name])
		require.NoError(t, err)
		roleIDs[name] = r.ID
		e.ids["role-"+name] = r.ID
		// A spare copy of each role, held by nobody, to edit and delete.
		spare, err := e.roster.CreateRole(ctx, sys, e.org, "spare "+name)
		require.NoError(t, err)
		_, err = e.roster.UpdateRole(ctx, sys, e.org, spare.ID, "spare "+name, matrixRoles[name])
		require.NoError(t, err)
		e.ids["spare-"+name] = spare.ID
	}
	for _, name := range []string{membership.RoleAdmin, membership.RoleUser} {
		spare, err := e.roster.CreateRole(ctx, sys, e.org, "spare "+name)
		require.NoError(t, err)
		_, err = e.roster.UpdateRole(ctx, sys, e.org, spare.ID, "spare "+name, matrixRoles[name])
		require.NoError(t, err)
		e.ids["spare-"+name] = spare.ID
	}
	add := func(first, last, role string, groups ...string) membership.Member {
		a, err := e.roster.Add(ctx, sys, e.org, roster.NewMember{FirstName: first, LastName: last, RoleID: roleIDs[role], Groups: groups, Password: "matrix-password"})
		require.NoError(t, err)
		return a.Member
	}
	add("Admin", "Un", membership.RoleAdmin)
	add("Admin", "Deux", membership.RoleAdmin)
	actors := map[string]membership.Member{}
	for _, r := range []string{"manager", "inviter", "importer", membership.RoleUser} {
		actors[r] = add("Acteur", r, r)
	}
	e.ids["victim-user"] = add("Victime", "Inviteur", "inviter").ID
	switch actorRole {
	case "system":
		e.actor = sys
	case membership.RoleAdmin:
		actors[membership.RoleAdmin] = add("Acteur", "admin", membership.RoleAdmin)
		e.actor = membership.ActorMember(actors[membership.RoleAdmin].ID)
	default:
		e.actor = membership.ActorMember(actors[actorRole].ID)
	}
	e.targetRole = targetRole
	if targetRole == "self" {
		e.targetRole = actorRole
		if actorRole != "system" {
			e.target = e.actor.MemberID
			_, err = e.roster.Edit(ctx, sys, e.org, e.target, roster.Patch{Groups: &[]string{"Cible"}, LastName: ptr("Cible"), FirstName: ptr("Membre")})
			require.NoError(t, err)
		}
	} else {
		e.target = add("Membre", "Cible", targetRole, "Cible").ID
	}
	if e.target != "" {
		m, err := e.roster.Get(ctx, sys, e.org, e.target)
		require.NoError(t, err)
		e.targetLogin = m.Login
	}
	for _, name := range matrixGrants {
		inv, err := e.invites.Send(ctx, sys, e.org, invite.To{Email: "invited-" + name + "@matrix.example", RoleID: roleIDs[name]})
		require.NoError(t, err)
		e.ids["invitation-"+name] = inv.ID
	}
	var b bytes.Buffer
	_, err = e.csv.Export(ctx, sys, e.org, &b, &csvsync.ExportOptions{NoBOM: true, LF: true})
	require.NoError(t, err)
	e.roster0 = strings.ReplaceAll(b.String(), csvsync.PlaceholderFR, "")
	e.snapshot()
	return e
}

func ptr[T any](v T) *T { return &v }

// roleArg maps a matrix role name to the role ID the org gave it.
func (e *matrixEnv) roleArg(name string) string {
	if id, ok := e.ids["role-"+name]; ok {
		return id
	}
	return name
}

func TestPrivilegeMatrix(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		st := newStore(t)
		cases, refused := 0, 0
		for _, actor := range matrixActors {
			for _, op := range matrixOps {
				roles := matrixGrants
				if op.target {
					roles = matrixTargets
				}
				for _, role := range roles {
					self := role == "self"
					if self && actor == "system" {
						continue
					}
					targetRole := role
					if self {
						targetRole = actor
					}
					want := op.allowed(oracle{actor}, targetRole, self)
					name := fmt.Sprintf("%s/%s/%s", actor, op.name, role)
					e := newMatrixEnv(t, st, actor, map[bool]string{true: role, false: membership.RoleUser}[op.target])
					err := op.run(e, role)
					after, terr := Take(e.ctx, st, e.org)
					require.NoError(t, terr)
					changed := !slices.Equal(e.before, fingerprint(after))
					cases++
					if want {
						if err != nil {
							t.Errorf("%s: allowed by the rules, refused: %v", name, err)
						} else if !changed {
							t.Errorf("%s: allowed and succeeded, but changed nothing", name)
						}
						continue
					}
					refused++
					if !errors.Is(err, membership.ErrForbidden) {
						t.Errorf("%s: must be refused with ErrForbidden, got %v", name, err)
					}
					if changed {
						t.Errorf("%s: refused, but the org changed:\nbefore %v\nafter  %v", name, e.before, fingerprint(after))
					}
					if _, ok := e.notified.Load(e.target); ok {
						t.Errorf("%s: refused, but a temporary password was delivered", name)
					}
				}
			}
		}
		t.Logf("%d cases, %d refused", cases, refused)
	})
}
