package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Host accounts, member attributes and verified domains.

func withUser(m membership.Member, userID string) membership.Member {
	m.UserID = userID
	return m
}

// A host account has at most one member per org; any number of members
// have none; other orgs are free.
func testUserIDUnique(t *testing.T, s store.Store) {
	ctx := context.Background()
	o, other := newOrg(t, s, "Acme"), newOrg(t, s, "Other")
	a := insert(t, s, o.ID, withUser(member(o.ID, "Ada", "One"), "u-1"), member(o.ID, "Bob", "Two"), member(o.ID, "Cy", "Three"))
	insert(t, s, other.ID, withUser(member(other.ID, "Ada", "One"), "u-1"))

	err := s.Update(ctx, o.ID, func(tx store.Tx) error {
		return tx.InsertMembers(ctx, []membership.Member{withUser(member(o.ID, "Dee", "Four"), "u-1")})
	})
	requireDuplicate(t, err, "user_id")
	err = s.Update(ctx, o.ID, func(tx store.Tx) error {
		return tx.InsertMembers(ctx, []membership.Member{withUser(member(o.ID, "Dee", "Four"), "u-2"), withUser(member(o.ID, "Eve", "Five"), "u-2")})
	})
	requireDuplicate(t, err, "user_id")
	err = s.Update(ctx, o.ID, func(tx store.Tx) error {
		return tx.UpdateMembers(ctx, []membership.Member{withUser(a[1], "u-1")})
	})
	requireDuplicate(t, err, "user_id")

	// One transaction moves the account from one member to another.
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error {
		return tx.UpdateMembers(ctx, []membership.Member{withUser(a[0], ""), withUser(a[1], "u-1")})
	}))
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		m, err := tx.MemberByUserID(ctx, "u-1")
		require.NoError(t, err)
		assert.Equal(t, a[1].ID, m.ID)
		assert.Equal(t, "u-1", m.UserID)
		_, err = tx.MemberByUserID(ctx, "u-1 ")
		assert.ErrorIs(t, err, store.ErrNotFound, "user IDs compare exactly")
		_, err = tx.MemberByUserID(ctx, "U-1")
		assert.ErrorIs(t, err, store.ErrNotFound, "user IDs compare exactly")
		_, err = tx.MemberByUserID(ctx, "u-9")
		assert.ErrorIs(t, err, store.ErrNotFound)
		return nil
	}))
	require.NoError(t, s.View(ctx, other.ID, func(tx store.Tx) error {
		m, err := tx.MemberByUserID(ctx, "u-1")
		require.NoError(t, err)
		assert.Equal(t, other.ID, m.OrgID, "each org finds its own member of the account")
		return nil
	}))
}

// Memberships lists the members of one account in every org, and nothing
// of any other account.
func testMemberships(t *testing.T, s store.Store) {
	ctx := context.Background()
	orgs := []membership.Org{newOrg(t, s, "Acme"), newOrg(t, s, "Beta"), newOrg(t, s, "Gamma")}
	var mine []string
	for i, o := range orgs {
		m := withUser(member(o.ID, "Ada", "One"), "u-multi")
		if i == 1 {
			m.Status = membership.StatusRemoved
		}
		insert(t, s, o.ID, m, withUser(member(o.ID, "Bob", "Two"), "u-other"), member(o.ID, "Cy", "Three"))
		mine = append(mine, o.ID+"/"+m.ID)
	}
	list := func(userID string) []string {
		t.Helper()
		ms, err := s.Memberships(ctx, userID)
		require.NoError(t, err)
		var out []string
		for _, m := range ms {
			assert.Equal(t, userID, m.Member.UserID)
			assert.Equal(t, m.Org.ID, m.Member.OrgID)
			assert.NotEmpty(t, m.Org.Name, "the org comes whole")
			out = append(out, m.Org.ID+"/"+m.Member.ID)
		}
		return out
	}
	assert.ElementsMatch(t, mine, list("u-multi"), "every org, any status")
	got := list("u-multi")
	for i := 1; i < len(got); i++ {
		assert.Less(t, got[i-1], got[i], "ordered by org ID")
	}
	assert.Len(t, list("u-other"), 3)
	assert.Empty(t, list("u-none"))
	assert.Empty(t, list("u-mult"), "no prefix match")

	// Unlinking takes the org out; a rolled-back link never shows.
	var first membership.Member
	require.NoError(t, s.Update(ctx, orgs[0].ID, func(tx store.Tx) error {
		m, err := tx.MemberByUserID(ctx, "u-multi")
		if err != nil {
			return err
		}
		first = m
		return tx.UpdateMembers(ctx, []membership.Member{withUser(m, "")})
	}))
	assert.Len(t, list("u-multi"), 2)
	boom := errors.New("boom")
	err := s.Update(ctx, orgs[0].ID, func(tx store.Tx) error {
		m, err := tx.Member(ctx, first.ID)
		if err != nil {
			return err
		}
		if err := tx.UpdateMembers(ctx, []membership.Member{withUser(m, "u-multi")}); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.Len(t, list("u-multi"), 2, "a rolled-back link is not listed")
}

// Attributes round-trip through insert, update and patch, and travel
// with audit events.
func testAttributes(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	m := member(o.ID, "Ada", "One")
	m.Attributes = membership.Attributes{"department": "Ventes", "site": "Lyon"}
	m = insert(t, s, o.ID, m)[0]
	got, err := get(t, s, o.ID, m.ID)
	require.NoError(t, err)
	assert.Equal(t, m.Attributes, got.Attributes)

	got.Attributes = membership.Attributes{"department": "Achats"}
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.UpdateMembers(ctx, []membership.Member{got}) }))
	got, err = get(t, s, o.ID, m.ID)
	require.NoError(t, err)
	assert.Equal(t, membership.Attributes{"department": "Achats"}, got.Attributes, "an update replaces the whole map")

	// A patch keeps the attributes unless it sets them.
	patch := store.MemberPatch{ID: got.ID, Version: got.Version, Login: got.Login, FirstName: "Ada", LastName: "Renamed", Status: got.Status, UpdatedAt: t0}
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return store.Patch(ctx, tx, []store.MemberPatch{patch}) }))
	got, err = get(t, s, o.ID, m.ID)
	require.NoError(t, err)
	assert.Equal(t, membership.Attributes{"department": "Achats"}, got.Attributes)
	patch.Version, patch.SetAttributes, patch.Attributes = got.Version, true, membership.Attributes{"team": "Bleue"}
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return store.Patch(ctx, tx, []store.MemberPatch{patch}) }))
	got, err = get(t, s, o.ID, m.ID)
	require.NoError(t, err)
	assert.Equal(t, membership.Attributes{"team": "Bleue"}, got.Attributes)
	patch.Version, patch.Attributes = got.Version, nil
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return store.Patch(ctx, tx, []store.MemberPatch{patch}) }))
	got, err = get(t, s, o.ID, m.ID)
	require.NoError(t, err)
	assert.Nil(t, got.Attributes, "a patch with nil attributes clears them")

	e := membership.Event{ID: membership.NewID(), Type: membership.EventMemberUpdated, At: t0, SubjectID: m.ID,
		Attributes: membership.Attributes{"department": "Ventes", "quote": `a"b\c`}}
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.AppendEvents(ctx, []membership.Event{e}) }))
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		evs, err := store.Collect(tx.Events(ctx, store.EventQuery{SubjectID: m.ID}))
		require.NoError(t, err)
		require.Len(t, evs, 1)
		assert.Equal(t, e.Attributes, evs[0].Attributes)
		return nil
	}))
}

// A listing filters by key=value pairs and by host account, within the
// org only, and follows changes.
func testAttributeFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	o, other := newOrg(t, s, "Acme"), newOrg(t, s, "Other")
	mk := func(orgID, first string, attrs membership.Attributes, user string) membership.Member {
		m := withUser(member(orgID, first, "Dupont"), user)
		m.Attributes = attrs
		return m
	}
	ms := insert(t, s, o.ID,
		mk(o.ID, "Ada", membership.Attributes{"department": "Ventes", "site": "Lyon"}, "u-ada"),
		mk(o.ID, "Bob", membership.Attributes{"department": "Ventes", "site": "Paris"}, ""),
		mk(o.ID, "Cy", membership.Attributes{"department": "Achats"}, ""),
		mk(o.ID, "Dee", nil, "u-dee"))
	insert(t, s, other.ID, mk(other.ID, "Eve", membership.Attributes{"department": "Ventes"}, "u-ada"))
	logins := func(f store.MemberFilter) []string {
		t.Helper()
		var out []string
		for _, m := range all(t, s, o.ID, store.MemberQuery{MemberFilter: f}) {
			out = append(out, m.FirstName)
		}
		return out
	}
	assert.Equal(t, []string{"Ada", "Bob"}, logins(store.MemberFilter{Attributes: membership.Attributes{"department": "Ventes"}}))
	assert.Equal(t, []string{"Bob"}, logins(store.MemberFilter{Attributes: membership.Attributes{"department": "Ventes", "site": "Paris"}}))
	assert.Empty(t, logins(store.MemberFilter{Attributes: membership.Attributes{"department": "ventes"}}), "values compare exactly")
	assert.Equal(t, []string{"Cy", "Dee"}, logins(store.MemberFilter{Attributes: membership.Attributes{"site": ""}}), "an empty value selects who has no such key")
	assert.Equal(t, []string{"Ada"}, logins(store.MemberFilter{UserID: "u-ada"}), "the other org's member of u-ada is not listed")
	assert.Equal(t, []string{"Ada"}, logins(store.MemberFilter{UserID: "u-ada", Attributes: membership.Attributes{"site": "Lyon"}}))
	assert.Empty(t, logins(store.MemberFilter{UserID: "u-ada", Attributes: membership.Attributes{"site": "Paris"}}))
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		n, err := store.CountMembers(ctx, tx, store.MemberFilter{Attributes: membership.Attributes{"department": "Ventes"}})
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		return nil
	}))

	// The filter follows a change, inside the transaction and after it.
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error {
		c := ms[2]
		c.Attributes = membership.Attributes{"department": "Ventes"}
		if err := tx.UpdateMembers(ctx, []membership.Member{c}); err != nil {
			return err
		}
		in, err := store.Collect(tx.Members(ctx, store.MemberQuery{MemberFilter: store.MemberFilter{Attributes: membership.Attributes{"department": "Ventes"}}}))
		require.NoError(t, err)
		assert.Len(t, in, 3, "a transaction filters on its own writes")
		return nil
	}))
	assert.Equal(t, []string{"Ada", "Bob", "Cy"}, logins(store.MemberFilter{Attributes: membership.Attributes{"department": "Ventes"}}))
}

func domain(name string, verified bool) membership.Domain {
	d := membership.Domain{Name: name, Token: membership.NewDomainToken(), Policy: membership.DomainPolicyNone, CreatedAt: t0, UpdatedAt: t0}
	if verified {
		d.VerifiedAt = t0.Add(time.Minute)
	}
	return d
}

func domains(t *testing.T, s store.Store, orgID string) []membership.Domain {
	t.Helper()
	var out []membership.Domain
	require.NoError(t, s.View(context.Background(), orgID, func(tx store.Tx) error {
		var err error
		out, err = tx.Domains(context.Background())
		return err
	}))
	return out
}

// An org's claims round-trip, are its own, and are replaced or deleted.
func testDomains(t *testing.T, s store.Store) {
	ctx := context.Background()
	o, other := newOrg(t, s, "Acme"), newOrg(t, s, "Other")
	b := domain("b.example", false)
	b.Policy, b.RoleID = membership.DomainPolicyAutoJoin, "custom-role"
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error {
		if err := tx.PutDomain(ctx, b); err != nil {
			return err
		}
		return tx.PutDomain(ctx, domain("a.example", false))
	}))
	got := domains(t, s, o.ID)
	require.Len(t, got, 2)
	assert.Equal(t, "a.example", got[0].Name, "by name")
	assert.Equal(t, o.ID, got[1].OrgID)
	assert.Equal(t, b.Token, got[1].Token)
	assert.Equal(t, membership.DomainPolicyAutoJoin, got[1].Policy)
	assert.Equal(t, "custom-role", got[1].RoleID)
	assert.False(t, got[1].Verified())
	assert.True(t, store.Time(t0).Equal(got[1].CreatedAt))
	assert.Empty(t, domains(t, s, other.ID), "claims are the org's own")

	// Another org may claim the same domain while it is unverified.
	require.NoError(t, s.Update(ctx, other.ID, func(tx store.Tx) error { return tx.PutDomain(ctx, domain("b.example", false)) }))

	b.VerifiedAt, b.Policy, b.UpdatedAt = t0.Add(time.Hour), membership.DomainPolicySuggest, t0.Add(time.Hour)
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.PutDomain(ctx, b) }))
	got = domains(t, s, o.ID)
	assert.True(t, store.Time(t0.Add(time.Hour)).Equal(got[1].VerifiedAt), "PutDomain replaces the claim")
	assert.Equal(t, membership.DomainPolicySuggest, got[1].Policy)
	assert.True(t, store.Time(t0).Equal(got[1].CreatedAt), "keeping its creation time")
	owner, err := s.DomainOwner(ctx, "b.example")
	require.NoError(t, err)
	assert.Equal(t, o.ID, owner.OrgID)
	_, err = s.DomainOwner(ctx, "a.example")
	assert.ErrorIs(t, err, store.ErrNotFound, "an unverified claim owns nothing")
	_, err = s.DomainOwner(ctx, "B.example")
	assert.ErrorIs(t, err, store.ErrNotFound, "names are stored in lookup form and compared exactly")

	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.DeleteDomain(ctx, "b.example") }))
	assert.Len(t, domains(t, s, o.ID), 1)
	_, err = s.DomainOwner(ctx, "b.example")
	assert.ErrorIs(t, err, store.ErrNotFound, "a deleted claim owns nothing")
	err = s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.DeleteDomain(ctx, "b.example") })
	assert.ErrorIs(t, err, store.ErrNotFound)
	assert.Len(t, domains(t, s, other.ID), 1, "the other org's claim stays")
}

// A domain is verified by one org at most, across concurrent attempts;
// a failed or undone verification frees it.
func testVerifiedDomainUnique(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := newOrg(t, s, "Acme"), newOrg(t, s, "Beta")
	require.NoError(t, s.Update(ctx, a.ID, func(tx store.Tx) error { return tx.PutDomain(ctx, domain("shared.example", true)) }))
	err := s.Update(ctx, b.ID, func(tx store.Tx) error { return tx.PutDomain(ctx, domain("shared.example", true)) })
	requireDuplicate(t, err, "domain")
	assert.Empty(t, domains(t, s, b.ID), "the refused claim is not stored")

	// A verification rolled back frees the name.
	boom := errors.New("boom")
	err = s.Update(ctx, b.ID, func(tx store.Tx) error {
		if err := tx.PutDomain(ctx, domain("rolled.example", true)); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.NoError(t, s.Update(ctx, a.ID, func(tx store.Tx) error { return tx.PutDomain(ctx, domain("rolled.example", true)) }),
		"a rolled-back verification holds nothing")

	// Unverifying frees it for the other org.
	require.NoError(t, s.Update(ctx, a.ID, func(tx store.Tx) error { return tx.PutDomain(ctx, domain("shared.example", false)) }))
	require.NoError(t, s.Update(ctx, b.ID, func(tx store.Tx) error { return tx.PutDomain(ctx, domain("shared.example", true)) }))
	owner, err := s.DomainOwner(ctx, "shared.example")
	require.NoError(t, err)
	assert.Equal(t, b.ID, owner.OrgID)

	// Many orgs verifying one new domain at once: exactly one wins.
	orgs := make([]membership.Org, 6)
	for i := range orgs {
		orgs[i] = newOrg(t, s, "Racer")
	}
	errs := make(chan error, len(orgs))
	for _, o := range orgs {
		go func() {
			errs <- s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.PutDomain(ctx, domain("race.example", true)) })
		}()
	}
	won := 0
	for range orgs {
		if err := <-errs; err == nil {
			won++
		} else {
			requireDuplicate(t, err, "domain")
		}
	}
	assert.Equal(t, 1, won, "one org verifies the domain")
	_, err = s.DomainOwner(ctx, "race.example")
	assert.NoError(t, err)
}

// The optional access read returns the actor's member and custom role.
func testAccess(t *testing.T, s store.Store) {
	r, ok := s.(store.AccessReader)
	if !ok {
		t.Skip("the store does not implement store.AccessReader; services read the member and its role in a View instead")
	}
	ctx := context.Background()
	o, other := newOrg(t, s, "Acme"), newOrg(t, s, "Other")
	role := membership.Role{ID: "sales", Name: "Sales", Permissions: []membership.Permission{membership.PermMembersRead, "commissions.create"}, CreatedAt: t0, UpdatedAt: t0}
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.PutRole(ctx, role) }))
	withRole := withUser(member(o.ID, "Ada", "One"), "u-ada")
	withRole.RoleID, withRole.MustChangePassword = "sales", true
	ms := insert(t, s, o.ID, withRole, member(o.ID, "Bob", "Two"))

	got, err := r.Access(ctx, o.ID, membership.ActorMember(ms[0].ID))
	require.NoError(t, err)
	assert.Equal(t, ms[0].ID, got.MemberID)
	assert.Equal(t, "u-ada", got.UserID)
	assert.Equal(t, "sales", got.RoleID)
	assert.Equal(t, membership.StatusActive, got.Status)
	assert.True(t, got.MustChangePassword)
	require.NotNil(t, got.Role)
	assert.Equal(t, role.Permissions, got.Role.Permissions)
	byUser, err := r.Access(ctx, o.ID, membership.ActorUser("u-ada"))
	require.NoError(t, err)
	assert.Equal(t, got, byUser, "by host account, the same")

	plain, err := r.Access(ctx, o.ID, membership.ActorMember(ms[1].ID))
	require.NoError(t, err)
	assert.Nil(t, plain.Role, "a built-in role is the services' to resolve")

	for _, c := range []struct {
		org   string
		actor membership.Actor
	}{
		{other.ID, membership.ActorMember(ms[0].ID)},
		{other.ID, membership.ActorUser("u-ada")},
		{o.ID, membership.ActorUser("u-nobody")},
		{o.ID, membership.ActorMember(membership.NewID())},
		{o.ID, membership.Actor{}},
		{"no-such-org", membership.ActorMember(ms[0].ID)},
	} {
		_, err := r.Access(ctx, c.org, c.actor)
		assert.ErrorIs(t, err, store.ErrNotFound, "%s in %s", c.actor, c.org)
	}
}
