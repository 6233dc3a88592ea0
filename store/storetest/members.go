package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

func testMemberRoundTrip(t *testing.T, s store.Store) {
	o := newOrg(t, s, "Acme")
	m := membership.Member{
		ID: membership.NewID(), OrgID: o.ID, UserID: "host-user-42",
		Login: "zoe.lefevre-dubois", Email: "Zoe.Lefevre@Example.com",
		FirstName: "Zoé", LastName: "Lefèvre-Dubois",
		RoleID: "custom-role", Status: membership.StatusDeactivated,
		Groups:             []string{"Paris", "Équipe B"},
		Attributes:         membership.Attributes{"department": "Ventes & Marketing", "cost_center": "FR-31", "note": `"quoted" \ back\slash ; é`},
		LastLoginAt:        t0.Add(-time.Hour),
		PasswordHash:       "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
		MustChangePassword: true,
		SecurityStamp:      "stamp-Zq9x_7",
		CreatedAt:          t0, UpdatedAt: t0.Add(time.Minute),
	}
	insert(t, s, o.ID, m)
	got, err := get(t, s, o.ID, m.ID)
	require.NoError(t, err)
	m.Version = 1
	memberEqual(t, m, got)

	// A member with every optional field empty round-trips too.
	bare := member(o.ID, "Jean", "Dupont")
	insert(t, s, o.ID, bare)
	got, err = get(t, s, o.ID, bare.ID)
	require.NoError(t, err)
	bare.Version = 1
	memberEqual(t, bare, got)
	assert.True(t, got.LastLoginAt.IsZero(), "a member who never logged in has a zero LastLoginAt")
}

func testMemberNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	_, err := get(t, s, o.ID, membership.NewID())
	assert.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		_, err := tx.MemberByLogin(ctx, "nobody")
		assert.ErrorIs(t, err, store.ErrNotFound)
		_, err = tx.MemberByEmail(ctx, "nobody@example.com")
		assert.ErrorIs(t, err, store.ErrNotFound)
		_, err = tx.MemberByEmail(ctx, "")
		assert.ErrorIs(t, err, store.ErrNotFound, "the empty email matches nobody")
		return nil
	}))
	err = s.Update(ctx, o.ID, func(tx store.Tx) error {
		m := member(o.ID, "Ghost", "Writer")
		m.Version = 1
		return tx.UpdateMembers(ctx, []membership.Member{m})
	})
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func testHostileText(t *testing.T, s store.Store) {
	o := newOrg(t, s, "Robert'); DROP TABLE orgs;--")
	m := member(o.ID, "O'Brien; DROP TABLE members;--", `Back\slash "quoted" %_ wildcards`)
	m.Login = "o-brien"
	m.Groups = []string{"a'b", `c"d`, "e;f", "100%", "x_y"}
	m.UserID = "'; DELETE FROM memberkit_members; --"
	m = insert(t, s, o.ID, m)[0]
	got, err := get(t, s, o.ID, m.ID)
	require.NoError(t, err)
	memberEqual(t, m, got)
	org, err := s.Org(context.Background(), o.ID)
	require.NoError(t, err)
	assert.Equal(t, o.Name, org.Name)
	// LIKE wildcards in a search are literal.
	assert.Len(t, all(t, s, o.ID, store.MemberQuery{MemberFilter: store.MemberFilter{Text: "%_"}}), 1)
	assert.Len(t, all(t, s, o.ID, store.MemberQuery{MemberFilter: store.MemberFilter{Text: "_%"}}), 0)
	assert.Len(t, all(t, s, o.ID, store.MemberQuery{MemberFilter: store.MemberFilter{Group: "100%"}}), 1)
	assert.Len(t, all(t, s, o.ID, store.MemberQuery{MemberFilter: store.MemberFilter{Group: "100_"}}), 0)

	// What array literals, CSV and JSON encoders trip on, through a batch
	// insert and a patch: braces, commas, quotes, backslashes, "NULL".
	n := member(o.ID, `{a,b}`, `NULL`)
	n.Login, n.Email, n.Groups = `x\"y`, `"q,u"@example.com`, []string{`{}`, `\`, "NULL"}
	n = insert(t, s, o.ID, n)[0]
	got, err = get(t, s, o.ID, n.ID)
	require.NoError(t, err)
	memberEqual(t, n, got)
	p := store.MemberPatch{ID: n.ID, Version: n.Version, Login: n.Login,
		FirstName: `}\{`, LastName: `"NULL"`, Email: `a\"b,c}@example.com`, Status: n.Status, UpdatedAt: t0}
	require.NoError(t, s.Update(context.Background(), o.ID, func(tx store.Tx) error { return store.Patch(context.Background(), tx, []store.MemberPatch{p}) }))
	got, err = get(t, s, o.ID, n.ID)
	require.NoError(t, err)
	want := p.Apply(n)
	want.Version++
	memberEqual(t, want, got)
}

func testLoginUnique(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	insert(t, s, o.ID, member(o.ID, "Jean", "Dupont"))
	dup := member(o.ID, "Jean", "Dupont")
	dup.Login = "JEAN.DUPONT"
	err := s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.InsertMembers(ctx, []membership.Member{dup}) })
	requireDuplicate(t, err, "login")
	assert.Len(t, all(t, s, o.ID, store.MemberQuery{}), 1)
}

func testEmailUnique(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	a := member(o.ID, "Jean", "Dupont")
	a.Email = "jean@example.com"
	insert(t, s, o.ID, a)
	b := member(o.ID, "Jeanne", "Dupont")
	b.Email = "JEAN@Example.COM"
	err := s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.InsertMembers(ctx, []membership.Member{b}) })
	requireDuplicate(t, err, "email")
}

func testNoEmail(t *testing.T, s store.Store) {
	o := newOrg(t, s, "Acme")
	var ms []membership.Member
	for i := range 5 {
		ms = append(ms, member(o.ID, "Sans", fmt.Sprintf("Mail%d", i)))
	}
	insert(t, s, o.ID, ms...)
	assert.Len(t, all(t, s, o.ID, store.MemberQuery{}), 5, "members without an email never collide")
}

func testAcrossOrgs(t *testing.T, s store.Store) {
	a := newOrg(t, s, "A")
	b := newOrg(t, s, "B")
	ma := member(a.ID, "Jean", "Dupont")
	ma.Email = "jean@example.com"
	mb := member(b.ID, "Jean", "Dupont")
	mb.Email = "jean@example.com"
	insert(t, s, a.ID, ma)
	insert(t, s, b.ID, mb)
	assert.Len(t, all(t, s, a.ID, store.MemberQuery{}), 1)
	assert.Len(t, all(t, s, b.ID, store.MemberQuery{}), 1)
}

func testLookupCase(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	m := member(o.ID, "Jean", "Dupont")
	m.Email = "Jean.Dupont@Example.com"
	insert(t, s, o.ID, m)
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		got, err := tx.MemberByLogin(ctx, "JEAN.Dupont")
		require.NoError(t, err)
		assert.Equal(t, m.ID, got.ID)
		got, err = tx.MemberByEmail(ctx, "jean.dupont@EXAMPLE.com")
		require.NoError(t, err)
		assert.Equal(t, m.ID, got.ID)
		return nil
	}))
}

func testBatchAllOrNothing(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	var batch []membership.Member
	for i := range 700 { // more than one SQL statement's worth
		batch = append(batch, member(o.ID, "Batch", fmt.Sprintf("N%04d", i)))
	}
	batch = append(batch, member(o.ID, "Batch", "N0003")) // same login as row 3
	err := s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.InsertMembers(ctx, batch) })
	requireDuplicate(t, err, "login")
	assert.Empty(t, all(t, s, o.ID, store.MemberQuery{}), "a failed batch leaves nothing behind")

	insert(t, s, o.ID, batch[:700]...)
	assert.Len(t, all(t, s, o.ID, store.MemberQuery{}), 700)
}

func testUpdateVersion(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	m := insert(t, s, o.ID, member(o.ID, "Jean", "Dupont"))[0]
	m.Status = membership.StatusDeactivated
	m.Groups = []string{"Lyon"}
	m.UpdatedAt = t0.Add(time.Hour)
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.UpdateMembers(ctx, []membership.Member{m}) }))
	got, err := get(t, s, o.ID, m.ID)
	require.NoError(t, err)
	m.Version = 2
	memberEqual(t, m, got)

	stale := m
	stale.Version = 1
	err = s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.UpdateMembers(ctx, []membership.Member{stale}) })
	assert.ErrorIs(t, err, store.ErrConflict)
	got, _ = get(t, s, o.ID, m.ID)
	assert.Equal(t, int64(2), got.Version)
}

func testUpdateUniqueness(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	a := member(o.ID, "Jean", "Dupont")
	a.Email = "a@example.com"
	b := member(o.ID, "Paul", "Martin")
	b.Email = "b@example.com"
	ms := insert(t, s, o.ID, a, b)
	b = ms[1]
	b.Login = "Jean.Dupont"
	err := s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.UpdateMembers(ctx, []membership.Member{b}) })
	requireDuplicate(t, err, "login")
	b = ms[1]
	b.Email = "A@example.com"
	err = s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.UpdateMembers(ctx, []membership.Member{b}) })
	requireDuplicate(t, err, "email")
	// Freeing a key and taking it in a later batch of the same transaction works.
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error {
		a, b := ms[0], ms[1]
		a.Email = ""
		if err := tx.UpdateMembers(ctx, []membership.Member{a}); err != nil {
			return err
		}
		b.Email = "a@example.com"
		return tx.UpdateMembers(ctx, []membership.Member{b})
	}))
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		got, err := tx.MemberByEmail(ctx, "a@example.com")
		require.NoError(t, err)
		assert.Equal(t, ms[1].ID, got.ID)
		return nil
	}))
}

func testSwapLogins(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	ms := insert(t, s, o.ID, member(o.ID, "Jean", "Dupont"), member(o.ID, "Paul", "Martin"))
	err := s.Update(ctx, o.ID, func(tx store.Tx) error {
		a, b := ms[0], ms[1]
		a.Login, b.Login = b.Login, a.Login
		// Through a free name first, as a careful caller would on any store.
		tmp := a
		tmp.Login = "swap.tmp"
		if err := tx.UpdateMembers(ctx, []membership.Member{tmp}); err != nil {
			return err
		}
		if err := tx.UpdateMembers(ctx, []membership.Member{b}); err != nil {
			return err
		}
		a.Version = tmp.Version + 1
		return tx.UpdateMembers(ctx, []membership.Member{a})
	})
	require.NoError(t, err)
	got, _ := get(t, s, o.ID, ms[0].ID)
	assert.Equal(t, "paul.martin", got.Login)
	got, _ = get(t, s, o.ID, ms[1].ID)
	assert.Equal(t, "jean.dupont", got.Login)
	assert.Equal(t, []string{"jean.dupont", "paul.martin"}, logins(all(t, s, o.ID, store.MemberQuery{})))
}

func testTimes(t *testing.T, s store.Store) {
	o := newOrg(t, s, "Acme")
	paris := time.FixedZone("Paris", 3600)
	m := member(o.ID, "Jean", "Dupont")
	m.CreatedAt = time.Date(2026, 6, 1, 12, 0, 0, 123456789, paris)
	m.LastLoginAt = time.Date(2026, 6, 2, 12, 0, 0, 999, paris)
	m = insert(t, s, o.ID, m)[0]
	got, err := get(t, s, o.ID, m.ID)
	require.NoError(t, err)
	assert.Equal(t, time.UTC, got.CreatedAt.Location(), "times come back in UTC")
	assert.True(t, got.CreatedAt.Equal(time.Date(2026, 6, 1, 11, 0, 0, 123456000, time.UTC)), "microsecond precision: %v", got.CreatedAt)
	assert.True(t, got.LastLoginAt.Equal(store.Time(m.LastLoginAt)))
}

func testMemberSummaries(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	other := newOrg(t, s, "Other")
	insert(t, s, other.ID, member(other.ID, "Zoé", "Autre"))
	var want []membership.Member
	for i := range 2500 { // more than one chunk of a paging store
		m := member(o.ID, "Prénom", fmt.Sprintf("Nom%04d", i))
		m.Email = fmt.Sprintf("p%04d@example.com", i)
		m.Groups = []string{"Lyon"}
		m.PasswordHash = "$argon2id$not-summarised"
		if i%7 == 0 {
			m.Status, m.RoleID = membership.StatusDeactivated, membership.RoleAdmin
		}
		switch i % 3 {
		case 1:
			m.Groups = nil
		case 2:
			m.Groups = append(m.Groups, "Équipe B")
			m.Attributes = membership.Attributes{"site": fmt.Sprint(i), "poste": "Ingénieure"}
		}
		want = append(want, m)
	}
	want = insert(t, s, o.ID, want...)
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		var got []store.MemberSummary
		for m, err := range store.Summaries(ctx, tx) {
			require.NoError(t, err)
			got = append(got, m)
		}
		require.Len(t, got, len(want), "every member of the org, of every status, and no other org's")
		slices.SortFunc(got, func(a, b store.MemberSummary) int { return strings.Compare(a.Login, b.Login) }) // any order
		for i, w := range want {                                                                              // inserted in login order
			assert.Equal(t, store.MemberSummary{ID: w.ID, Login: w.Login, Email: w.Email, FirstName: w.FirstName, LastName: w.LastName,
				RoleID: w.RoleID, Status: w.Status, Version: 1}, got[i])
		}
		// Details: the same, with groups and attributes.
		var details []store.MemberDetail
		for m, err := range store.Details(ctx, tx) {
			require.NoError(t, err)
			details = append(details, m)
		}
		require.Len(t, details, len(want), "details: every member of the org, and no other org's")
		slices.SortFunc(details, func(a, b store.MemberDetail) int { return strings.Compare(a.Login, b.Login) })
		for i, w := range want {
			assert.Equal(t, got[i], details[i].MemberSummary)
			assert.Equal(t, w.Groups, details[i].Groups, w.Login)
			if len(w.Attributes) == 0 {
				assert.Nil(t, details[i].Attributes, w.Login)
			} else {
				assert.Equal(t, w.Attributes, details[i].Attributes, w.Login)
			}
		}
		// What a detail carries is the caller's.
		for _, d := range details {
			if len(d.Groups) > 0 && len(d.Attributes) > 0 {
				d.Groups[0], d.Attributes["site"] = "Changé", "changé"
				m, err := tx.Member(ctx, d.ID)
				require.NoError(t, err)
				assert.Equal(t, "Lyon", m.Groups[0], "a detail's groups are a copy")
				assert.NotEqual(t, "changé", m.Attributes["site"], "a detail's attributes are a copy")
				break
			}
		}
		// Breaking early and interleaving other calls are fine.
		n := 0
		for _, err := range store.Summaries(ctx, tx) {
			require.NoError(t, err)
			_, err := tx.Member(ctx, want[n].ID)
			require.NoError(t, err)
			if n++; n == 3 {
				break
			}
		}
		return nil
	}))
}

func testPatchMembers(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	a := member(o.ID, "Jean", "Dupont")
	a.Email, a.Groups, a.PasswordHash, a.MustChangePassword = "jean@example.com", []string{"Lyon"}, "$argon2id$old", true
	b := member(o.ID, "Paul", "Martin")
	b.Email = "paul@example.com"
	ms := insert(t, s, o.ID, a, b)
	a, b = ms[0], ms[1]
	later := t0.Add(time.Hour)
	patch := func(m membership.Member) store.MemberPatch {
		return store.MemberPatch{ID: m.ID, Version: m.Version, Login: m.Login, FirstName: m.FirstName, LastName: m.LastName,
			Email: m.Email, Status: m.Status, UpdatedAt: later}
	}
	pa := patch(a)
	pa.FirstName, pa.LastName, pa.Email, pa.Status = "Jeanne", "Dupont-Lefèvre", "Jeanne@Example.com", membership.StatusDeactivated
	pb := patch(b)
	pb.PasswordHash, pb.SecurityStamp = "$argon2id$new", "stamp-new"
	pb.RoleID, pb.SetGroups, pb.Groups = "custom-role", true, []string{"Paris", "Équipe B"}
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return store.Patch(ctx, tx, []store.MemberPatch{pa, pb}) }))

	got, err := get(t, s, o.ID, a.ID)
	require.NoError(t, err)
	want := pa.Apply(a)
	want.Version = 2
	memberEqual(t, want, got)
	assert.Equal(t, membership.PasswordHash("$argon2id$old"), got.PasswordHash, "an empty PasswordHash keeps the stored one")
	assert.Equal(t, a.SecurityStamp, got.SecurityStamp, "an empty SecurityStamp keeps the stored one")
	assert.True(t, got.MustChangePassword)
	assert.Equal(t, []string{"Lyon"}, got.Groups, "groups are left as they are")
	assert.Equal(t, membership.RoleUser, got.RoleID, "an empty RoleID keeps the stored role")
	got, err = get(t, s, o.ID, b.ID)
	require.NoError(t, err)
	assert.Equal(t, membership.PasswordHash("$argon2id$new"), got.PasswordHash)
	assert.Equal(t, "stamp-new", got.SecurityStamp)
	assert.False(t, got.MustChangePassword)
	assert.Equal(t, int64(2), got.Version)
	assert.Equal(t, "custom-role", got.RoleID)
	assert.Equal(t, []string{"Paris", "Équipe B"}, got.Groups)

	// The new email and names are what lookups and search see.
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		m, err := tx.MemberByEmail(ctx, "jeanne@example.com")
		require.NoError(t, err)
		assert.Equal(t, a.ID, m.ID)
		_, err = tx.MemberByEmail(ctx, "jean@example.com")
		assert.ErrorIs(t, err, store.ErrNotFound)
		n, err := store.CountMembers(ctx, tx, store.MemberFilter{Text: "lefevre"})
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		// Role and group filters follow the patch.
		for f, want := range map[string]store.MemberFilter{"role": {RoleID: "custom-role"}, "group": {Group: "équipe b"}} {
			ids, err := store.Collect(tx.Members(ctx, store.MemberQuery{MemberFilter: want}))
			require.NoError(t, err)
			if assert.Len(t, ids, 1, f) {
				assert.Equal(t, b.ID, ids[0].ID, f)
			}
		}
		n, err = store.CountMembers(ctx, tx, store.MemberFilter{Group: "lyon"})
		require.NoError(t, err)
		assert.Equal(t, 1, n, "the unpatched member keeps its group")
		return nil
	}))
	// The old email is free again.
	c := member(o.ID, "Claire", "Petit")
	c.Email = "jean@example.com"
	insert(t, s, o.ID, c)

	// Stale version, changed login, missing member, taken email: the whole
	// batch fails and nothing of it stays.
	fresh := patch(b)
	fresh.Version, fresh.FirstName = 2, "Pierre"
	stale := patch(a) // version 1
	renamed := fresh
	renamed.ID, renamed.Version, renamed.Login = a.ID, 2, "someone.else"
	missing := fresh
	missing.ID = membership.NewID()
	taken := pa // Jeanne, now at version 2, takes Claire's email
	taken.Version, taken.Email = 2, "JEAN@example.com"
	for name, c := range map[string]struct {
		p    store.MemberPatch
		want error
	}{
		"stale version": {stale, store.ErrConflict},
		"changed login": {renamed, store.ErrConflict},
		"missing":       {missing, store.ErrNotFound},
		"taken email":   {taken, store.ErrDuplicate},
	} {
		err := s.Update(ctx, o.ID, func(tx store.Tx) error { return store.Patch(ctx, tx, []store.MemberPatch{fresh, c.p}) })
		assert.ErrorIs(t, err, c.want, name)
		got, _ := get(t, s, o.ID, b.ID)
		assert.Equal(t, "Paul", got.FirstName, "%s: the batch is rolled back", name)
		assert.Equal(t, int64(2), got.Version, name)
	}
	var dup *membership.DuplicateError
	err = s.Update(ctx, o.ID, func(tx store.Tx) error { return store.Patch(ctx, tx, []store.MemberPatch{taken}) })
	require.ErrorAs(t, err, &dup)
	assert.Equal(t, "email", dup.Key)

	// In a View, it fails.
	err = s.View(ctx, o.ID, func(tx store.Tx) error { return store.Patch(ctx, tx, []store.MemberPatch{fresh}) })
	assert.Error(t, err)
}
