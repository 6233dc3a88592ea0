package domains_test

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/domains"
	"github.com/memberkit/memberkit/internal/testkit"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// fakeDNS answers TXT lookups from a map; unknown names are NXDOMAIN.
type fakeDNS struct {
	mu      sync.Mutex
	records map[string][]string
	fail    error
}

func (d *fakeDNS) LookupTXT(_ context.Context, name string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail != nil {
		return nil, d.fail
	}
	if v, ok := d.records[name]; ok {
		return v, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (d *fakeDNS) publish(dom membership.Domain) {
	name, value := dom.VerificationRecord()
	d.mu.Lock()
	d.records[name] = append(d.records[name], "v=spf1 -all", value)
	d.mu.Unlock()
}

type fixture struct {
	ctx     context.Context
	st      store.Store
	dns     *fakeDNS
	domains *domains.Service
	roster  *roster.Service
	org     membership.Org
	admin   membership.Actor
}

func setup(t *testing.T, newStore func(testing.TB) store.Store, plan membership.Plan) *fixture {
	f := &fixture{ctx: context.Background(), st: newStore(t), dns: &fakeDNS{records: map[string][]string{}}}
	clock := membership.NewFakeClock(t0)
	var err error
	f.domains, err = domains.New(f.st, &domains.Options{Clock: clock, Resolver: f.dns})
	require.NoError(t, err)
	f.roster = testkit.Roster(t, f.st, &roster.Options{Clock: clock, Hasher: membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1})})
	f.org, f.admin = f.newOrg(t, "Conance", plan)
	return f
}

func (f *fixture) newOrg(t *testing.T, name string, plan membership.Plan) (membership.Org, membership.Actor) {
	t.Helper()
	org, err := f.roster.CreateOrg(f.ctx, roster.NewOrg{Name: name, Plan: plan})
	require.NoError(t, err)
	a, err := f.roster.Add(f.ctx, membership.SystemActor("setup"), org.ID, roster.NewMember{FirstName: "Alice", LastName: "Admin", RoleID: membership.RoleAdmin, Password: "alice-password"})
	require.NoError(t, err)
	return org, membership.ActorMember(a.Member.ID)
}

// Claim, prove by DNS, and one owner per domain.
func TestClaimAndVerify(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		d, err := f.domains.Claim(f.ctx, f.admin, f.org.ID, " Conance.FR. ")
		require.NoError(t, err)
		assert.Equal(t, "conance.fr", d.Name, "lookup form")
		assert.False(t, d.Verified())
		name, value := d.VerificationRecord()
		assert.Equal(t, "_memberkit-challenge.conance.fr", name)
		assert.Equal(t, "memberkit-verification="+d.Token, value)
		again, err := f.domains.Claim(f.ctx, f.admin, f.org.ID, "conance.fr")
		require.NoError(t, err)
		assert.Equal(t, d.Token, again.Token, "claiming twice returns the claim")

		idn, err := f.domains.Claim(f.ctx, f.admin, f.org.ID, "exämple.fr")
		require.NoError(t, err)
		assert.Equal(t, "xn--exmple-cua.fr", idn.Name)
		_, err = f.domains.Claim(f.ctx, f.admin, f.org.ID, "not a domain")
		assert.ErrorIs(t, err, membership.ErrInvalid)

		// No record, a wrong token, a failing resolver: not proven.
		_, err = f.domains.Verify(f.ctx, f.admin, f.org.ID, "conance.fr")
		assert.ErrorIs(t, err, membership.ErrDomainNotProven)
		f.dns.records[name] = []string{"memberkit-verification=someone-else"}
		_, err = f.domains.Verify(f.ctx, f.admin, f.org.ID, "conance.fr")
		assert.ErrorIs(t, err, membership.ErrDomainNotProven)
		f.dns.fail = errors.New("i/o timeout")
		_, err = f.domains.Verify(f.ctx, f.admin, f.org.ID, "conance.fr")
		require.Error(t, err)
		assert.NotErrorIs(t, err, membership.ErrDomainNotProven, "a DNS failure is not a refusal")
		f.dns.fail = nil

		f.dns.publish(d)
		v, err := f.domains.Verify(f.ctx, f.admin, f.org.ID, "conance.fr")
		require.NoError(t, err)
		assert.True(t, v.Verified())
		owner, err := f.st.DomainOwner(f.ctx, "conance.fr")
		require.NoError(t, err)
		assert.Equal(t, f.org.ID, owner.OrgID)

		// Another org cannot claim, nor verify, a verified domain.
		other, otherAdmin := f.newOrg(t, "Other", membership.PremiumPlan(0))
		_, err = f.domains.Claim(f.ctx, otherAdmin, other.ID, "conance.fr")
		assert.ErrorIs(t, err, membership.ErrDuplicate)
		_, err = f.domains.Claim(f.ctx, otherAdmin, other.ID, "xn--exmple-cua.fr")
		require.NoError(t, err, "an unverified domain may be claimed by several orgs")
		_, err = f.domains.MarkVerified(f.ctx, membership.SystemActor("host"), f.org.ID, "exämple.fr")
		require.NoError(t, err)
		_, err = f.domains.MarkVerified(f.ctx, membership.SystemActor("host"), other.ID, "xn--exmple-cua.fr")
		assert.ErrorIs(t, err, membership.ErrDuplicate, "verified first by the other org")

		// Removing frees it.
		require.NoError(t, f.domains.Remove(f.ctx, f.admin, f.org.ID, "exämple.fr"))
		_, err = f.domains.MarkVerified(f.ctx, membership.SystemActor("host"), other.ID, "xn--exmple-cua.fr")
		require.NoError(t, err)

		list, err := f.domains.List(f.ctx, f.admin, f.org.ID)
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, "conance.fr", list[0].Name)
	})
}

// Only who manages the org claims, verifies and sets policies; only the
// system marks a domain verified without DNS; auto-join never gives admin
// and gives only a role the actor could grant.
func TestDomainPermissions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		user, err := f.roster.Add(f.ctx, f.admin, f.org.ID, roster.NewMember{FirstName: "Uma", LastName: "User", Password: "uma-password"})
		require.NoError(t, err)
		asUser := membership.ActorMember(user.Member.ID)
		_, err = f.domains.Claim(f.ctx, asUser, f.org.ID, "conance.fr")
		assert.ErrorIs(t, err, membership.ErrForbidden)
		_, err = f.domains.Claim(f.ctx, f.admin, f.org.ID, "conance.fr")
		require.NoError(t, err)
		_, err = f.domains.MarkVerified(f.ctx, f.admin, f.org.ID, "conance.fr")
		assert.ErrorIs(t, err, membership.ErrForbidden, "an admin proves by DNS; the host's own proof is the system's")
		_, err = f.domains.SetPolicy(f.ctx, asUser, f.org.ID, "conance.fr", membership.DomainPolicyAutoJoin, "")
		assert.ErrorIs(t, err, membership.ErrForbidden)
		_, err = f.domains.SetPolicy(f.ctx, f.admin, f.org.ID, "conance.fr", membership.DomainPolicyAutoJoin, membership.RoleAdmin)
		assert.ErrorIs(t, err, membership.ErrInvalid)
		_, err = f.domains.SetPolicy(f.ctx, f.admin, f.org.ID, "conance.fr", "everyone", "")
		assert.ErrorIs(t, err, membership.ErrInvalid)
		_, err = f.domains.SetPolicy(f.ctx, f.admin, f.org.ID, "conance.fr", membership.DomainPolicyAutoJoin, "no-such-role")
		assert.ErrorIs(t, err, membership.ErrInvalid)

		// An org manager without roles beyond its own cannot make the
		// domain hand out a role above it.
		mgr, err := f.roster.CreateRole(f.ctx, f.admin, f.org.ID, "Org managers")
		require.NoError(t, err)
		_, err = f.roster.UpdateRole(f.ctx, f.admin, f.org.ID, mgr.ID, "Org managers", []membership.Permission{membership.PermOrgManage})
		require.NoError(t, err)
		big, err := f.roster.CreateRole(f.ctx, f.admin, f.org.ID, "Big")
		require.NoError(t, err)
		_, err = f.roster.UpdateRole(f.ctx, f.admin, f.org.ID, big.ID, "Big", []membership.Permission{membership.PermAuditRead, membership.PermMembersRead})
		require.NoError(t, err)
		m, err := f.roster.Add(f.ctx, f.admin, f.org.ID, roster.NewMember{FirstName: "Oscar", LastName: "Org", RoleID: mgr.ID, Password: "oscar-password"})
		require.NoError(t, err)
		_, err = f.domains.SetPolicy(f.ctx, membership.ActorMember(m.Member.ID), f.org.ID, "conance.fr", membership.DomainPolicyAutoJoin, big.ID)
		assert.ErrorIs(t, err, membership.ErrForbidden)
	})
}

// Suggest lists the org for a verified domain whose policy says so;
// Join lets an account in with the domain's role, within seats.
func TestSuggestAndJoin(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.FreePlan()) // 3 seats: the admin holds one
		sys := membership.SystemActor("host")
		role, err := f.roster.CreateRole(f.ctx, f.admin, f.org.ID, "Équipe")
		require.NoError(t, err)
		_, err = f.domains.Claim(f.ctx, f.admin, f.org.ID, "conance.fr")
		require.NoError(t, err)
		_, err = f.domains.SetPolicy(f.ctx, f.admin, f.org.ID, "conance.fr", membership.DomainPolicyAutoJoin, role.ID)
		require.NoError(t, err)

		joiner := func(user, email string) domains.Joiner {
			return domains.Joiner{UserID: user, Email: email, FirstName: "Jean", LastName: "Dupont"}
		}
		sug, err := f.domains.Suggest(f.ctx, "jean@conance.fr")
		require.NoError(t, err)
		assert.Empty(t, sug, "an unverified domain suggests nothing")
		_, err = f.domains.Join(f.ctx, f.org.ID, joiner("u-1", "jean@conance.fr"))
		assert.ErrorIs(t, err, membership.ErrForbidden, "nor lets anyone in")

		_, err = f.domains.MarkVerified(f.ctx, sys, f.org.ID, "conance.fr")
		require.NoError(t, err)
		sug, err = f.domains.Suggest(f.ctx, "Jean@Conance.FR")
		require.NoError(t, err)
		assert.Equal(t, []domains.Suggestion{{OrgID: f.org.ID, OrgName: "Conance", Domain: "conance.fr", AutoJoin: true}}, sug)
		sug, err = f.domains.Suggest(f.ctx, "jean@gmail.com")
		require.NoError(t, err)
		assert.Empty(t, sug)

		m, err := f.domains.Join(f.ctx, f.org.ID, joiner("u-1", "jean@conance.fr"))
		require.NoError(t, err)
		assert.Equal(t, role.ID, m.RoleID)
		assert.Equal(t, "u-1", m.UserID)
		assert.Equal(t, "jean.dupont", m.Login)
		assert.Equal(t, membership.StatusActive, m.Status)
		evs, err := f.roster.Events(f.ctx, sys, f.org.ID, store.EventQuery{SubjectID: m.ID})
		require.NoError(t, err)
		require.Len(t, evs, 1)
		assert.Equal(t, membership.EventMemberJoined, evs[0].Type)
		assert.Equal(t, "user:u-1", evs[0].Actor)
		assert.Contains(t, evs[0].Detail, "conance.fr")

		_, err = f.domains.Join(f.ctx, f.org.ID, joiner("u-1", "jean@conance.fr"))
		assert.ErrorIs(t, err, membership.ErrAlreadyMember)
		_, err = f.domains.Join(f.ctx, f.org.ID, joiner("u-9", "jean@conance.fr"))
		assert.ErrorIs(t, err, membership.ErrAlreadyMember, "the address is a member's")
		_, err = f.domains.Join(f.ctx, f.org.ID, joiner("u-2", "paul@gmail.com"))
		assert.ErrorIs(t, err, membership.ErrForbidden)

		// Seats: one left; a pending invitation to the joiner's address
		// is used up rather than counted twice.
		inv, err := invite.New(f.st, &invite.RecordingSender{}, nil)
		require.NoError(t, err)
		_, err = inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "zoe@conance.fr"})
		require.NoError(t, err)
		z, err := f.domains.Join(f.ctx, f.org.ID, domains.Joiner{UserID: "u-3", Email: "zoe@conance.fr", FirstName: "Zoé", LastName: "Lefèvre"})
		require.NoError(t, err, "the invitation's seat becomes the member's")
		_, err = f.domains.Join(f.ctx, f.org.ID, joiner("u-4", "max@conance.fr"))
		assert.ErrorIs(t, err, membership.ErrMemberLimit)
		used, limit, err := f.roster.Seats(f.ctx, sys, f.org.ID)
		require.NoError(t, err)
		assert.Equal(t, 3, used)
		assert.Equal(t, 3, limit)

		// Removed, the account comes back by joining again.
		_, err = f.roster.Remove(f.ctx, f.admin, f.org.ID, z.ID)
		require.NoError(t, err)
		back, err := f.domains.Join(f.ctx, f.org.ID, domains.Joiner{UserID: "u-3", Email: "zoe@conance.fr", FirstName: "Zoé", LastName: "Lefèvre"})
		require.NoError(t, err)
		assert.Equal(t, z.ID, back.ID)

		// Suggest only: listed, but joining takes an invitation.
		_, err = f.domains.SetPolicy(f.ctx, f.admin, f.org.ID, "conance.fr", membership.DomainPolicySuggest, "")
		require.NoError(t, err)
		sug, err = f.domains.Suggest(f.ctx, "max@conance.fr")
		require.NoError(t, err)
		require.Len(t, sug, 1)
		assert.False(t, sug[0].AutoJoin)
		_, err = f.domains.Join(f.ctx, f.org.ID, joiner("u-4", "max@conance.fr"))
		assert.ErrorIs(t, err, membership.ErrForbidden)
	})
}

// Review findings: an open invitation does not let Join pass the seat
// limit; a join role that manages the org is refused, and a role in use
// by a domain cannot be deleted.
func TestJoinGuards(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		sys := membership.SystemActor("host")
		_, err := f.domains.Claim(f.ctx, f.admin, f.org.ID, "conance.fr")
		require.NoError(t, err)
		_, err = f.domains.MarkVerified(f.ctx, sys, f.org.ID, "conance.fr")
		require.NoError(t, err)
		_, err = f.domains.SetPolicy(f.ctx, f.admin, f.org.ID, "conance.fr", membership.DomainPolicyAutoJoin, "")
		require.NoError(t, err)
		_, err = f.roster.Add(f.ctx, f.admin, f.org.ID, roster.NewMember{FirstName: "Bob", LastName: "B", Password: "bob-password"})
		require.NoError(t, err)
		inv, err := invite.New(f.st, &invite.RecordingSender{}, nil)
		require.NoError(t, err)
		_, err = inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "zoe@conance.fr"})
		require.NoError(t, err)
		// Over the limit already: 2 active, 1 pending, 2 seats.
		require.NoError(t, f.roster.SetPlan(f.ctx, f.admin, f.org.ID, membership.PremiumPlan(2)))
		_, err = f.domains.Join(f.ctx, f.org.ID, domains.Joiner{UserID: "u-z", Email: "zoe@conance.fr", FirstName: "Zoé", LastName: "L"})
		assert.ErrorIs(t, err, membership.ErrMemberLimit)
		used, _, err := f.roster.Seats(f.ctx, sys, f.org.ID)
		require.NoError(t, err)
		assert.Equal(t, 3, used, "nothing changed: the invitation is still pending")
		require.NoError(t, f.roster.SetPlan(f.ctx, f.admin, f.org.ID, membership.PremiumPlan(0)))

		// A join role that manages anything is refused, when set and when used.
		for _, perms := range [][]membership.Permission{membership.AllPermissions(), {membership.PermMembersRead, membership.PermInvitationsManage}} {
			r, err := f.roster.CreateRole(f.ctx, f.admin, f.org.ID, "Managing "+string(perms[len(perms)-1]))
			require.NoError(t, err)
			_, err = f.roster.UpdateRole(f.ctx, f.admin, f.org.ID, r.ID, r.Name, perms)
			require.NoError(t, err)
			_, err = f.domains.SetPolicy(f.ctx, f.admin, f.org.ID, "conance.fr", membership.DomainPolicyAutoJoin, r.ID)
			assert.ErrorIs(t, err, membership.ErrInvalid, "%v", perms)
		}
		reader, err := f.roster.CreateRole(f.ctx, f.admin, f.org.ID, "Lecteurs")
		require.NoError(t, err)
		_, err = f.roster.UpdateRole(f.ctx, f.admin, f.org.ID, reader.ID, "Lecteurs", []membership.Permission{membership.PermMembersRead})
		require.NoError(t, err)
		_, err = f.domains.SetPolicy(f.ctx, f.admin, f.org.ID, "conance.fr", membership.DomainPolicyAutoJoin, reader.ID)
		require.NoError(t, err)
		_, err = f.roster.UpdateRole(f.ctx, f.admin, f.org.ID, reader.ID, "Lecteurs", []membership.Permission{membership.PermMembersRead, membership.PermMembersManage})
		require.NoError(t, err)
		_, err = f.domains.Join(f.ctx, f.org.ID, domains.Joiner{UserID: "u-m", Email: "max@conance.fr", FirstName: "Max", LastName: "M"})
		assert.ErrorIs(t, err, membership.ErrForbidden, "the role grew since the policy was set")

		err = f.roster.DeleteRole(f.ctx, f.admin, f.org.ID, reader.ID)
		assert.ErrorIs(t, err, membership.ErrRoleInUse, "the domain gives it")
	})
}

// On a one-connection SQLite database (what an in-memory database needs),
// a claim must not wait for a second connection.
func TestClaimOnOneConnection(t *testing.T) {
	db, err := sql.Open("sqlite", "file:claim?mode=memory&cache=shared&_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	st, err := sqlstore.New(db, sqlstore.SQLite, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, st.Migrate(ctx))
	f := &fixture{ctx: ctx, st: st, dns: &fakeDNS{records: map[string][]string{}}}
	f.domains, err = domains.New(st, nil)
	require.NoError(t, err)
	f.roster = testkit.Roster(t, st, &roster.Options{Hasher: membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1})})
	f.org, f.admin = f.newOrg(t, "Solo", membership.PremiumPlan(0))
	_, err = f.domains.Claim(ctx, f.admin, f.org.ID, "solo.fr")
	require.NoError(t, err)
	_, err = f.domains.MarkVerified(ctx, membership.SystemActor("host"), f.org.ID, "solo.fr")
	require.NoError(t, err)
}
