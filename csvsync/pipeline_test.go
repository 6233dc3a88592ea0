package csvsync

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// The plan's steps, each alone, on a roster and a file built in memory.

func summaries(ms ...store.MemberSummary) func(func(store.MemberSummary, error) bool) {
	return func(yield func(store.MemberSummary, error) bool) {
		for _, m := range ms {
			if !yield(m, nil) {
				return
			}
		}
	}
}

func testRoster(t *testing.T) *rosterIndex {
	ix, err := indexRoster(summaries(
		store.MemberSummary{ID: "a", Login: "alice.admin", Email: "alice@x.fr", FirstName: "Alice", LastName: "Admin", RoleID: membership.RoleAdmin, Status: membership.StatusActive, Version: 1},
		store.MemberSummary{ID: "b", Login: "bob.martin", Email: "bob@x.fr", FirstName: "Bob", LastName: "Martin", RoleID: membership.RoleUser, Status: membership.StatusActive, Version: 3},
		store.MemberSummary{ID: "c", Login: "chloe.bernard", FirstName: "Chloé", LastName: "Bernard", RoleID: membership.RoleUser, Status: membership.StatusDeactivated, Version: 1},
		store.MemberSummary{ID: "d", Login: "dan.user", Email: "dan@x.fr", FirstName: "Dan", LastName: "User", RoleID: membership.RoleUser, Status: membership.StatusActive, Version: 1},
	), 4)
	require.NoError(t, err)
	return ix
}

func testFile(t *testing.T, rows string) *File {
	f, err := Parse(strings.NewReader("Identifiant;Nom;Prénom;Adresse e-mail;Mot de passe;Etat\n"+rows), nil)
	require.NoError(t, err)
	return f
}

func codes(p *problems) []string {
	var out []string
	for _, x := range p.list {
		out = append(out, x.Code)
	}
	return out
}

func systemPower() *power {
	roles := map[string]membership.Role{}
	for _, r := range membership.BuiltinRoles() {
		roles[r.ID] = r
	}
	return &power{a: membership.SystemAuthority(membership.SystemActor("test")), roles: roles, beyond: map[string]membership.Permission{}}
}

func TestIndexRoster(t *testing.T) {
	ix := testRoster(t)
	assert.Len(t, ix.members, 4)
	assert.Equal(t, int32(1), ix.byLogin["bob.martin"])
	assert.Equal(t, int32(3), ix.byEmail["dan@x.fr"])
	_, ok := ix.byEmail[""]
	assert.False(t, ok, "members without email are not indexed by email")
}

func TestMatchRows(t *testing.T) {
	ix := testRoster(t)
	f := testFile(t, "bob.martin;Martin;Bob;;;actif\n"+ // by login
		";User;Dan;dan@x.fr;;actif\n"+ // by email
		";Bernard;Chloé;;;actif\n"+ // by default login
		";Neuf;Noé;;;actif\n"+ // new
		"alice.admin;Admin;Alice;bob@x.fr;;actif\n"+ // login and email of two members
		";Martin;Bob;;;actif\n") // bob again, by default login
	p := &problems{max: 10}
	m := matchRows(f, ix, p)
	assert.Equal(t, []int32{1, 3, 2, -1, -1, 1}, m.member)
	assert.Equal(t, []string{"two_members", "same_member"}, codes(p))
	assert.Equal(t, int32(2), m.claimedBy[1], "bob is claimed by line 2")
	assert.Equal(t, 5, m.newLogins["noe.neuf"])
}

func TestCheckIdentifiers(t *testing.T) {
	ix := testRoster(t)
	f := testFile(t, ";A;A;same@x.fr;;actif\n"+
		";B;B;same@x.fr;;actif\n"+ // the same email twice
		"new.one;C;C;bob@x.fr;;actif\n"+ // a new member with bob's email
		"dan@x.fr;D;D;;;actif\n") // a login that is dan's email
	p := &problems{max: 10}
	m := matchRows(f, ix, p)
	checkIdentifiers(f, ix, m, p)
	assert.Equal(t, []string{"email_dup_row", "email_taken", "login_is_email"}, codes(p))
}

func TestCheckHashes(t *testing.T) {
	weak, err := membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1}).Hash("x")
	require.NoError(t, err)
	f := testFile(t, ";A;A;;"+string(weak)+";actif\n;B;B;;clear-password;actif\n")
	p := &problems{max: 10}
	checkHashes(f, p)
	assert.Equal(t, []string{"weak_hash"}, codes(p))
	assert.Equal(t, 2, p.list[0].Line)
}

func TestClassifyAndFindAbsent(t *testing.T) {
	ix := testRoster(t)
	f := testFile(t, "alice.admin;Admin;Alice;alice@x.fr;;actif\n"+ // unchanged
		"bob.martin;Martin-Durand;Bob;bob@x.fr;;inactif\n"+ // renamed and deactivated
		"chloe.bernard;Bernard;Chloé;;;actif\n"+ // reactivated
		";Neuf;Noé;;;actif\n") // added; dan is absent
	p := &problems{max: 10}
	m := matchRows(f, ix, p)
	c := classify(f, ix, m, membership.SystemActor("t"), systemPower(), nil, p)
	require.Empty(t, p.list)
	assert.Equal(t, 1, c.unchanged)
	assert.Equal(t, 1, c.adds)
	kinds := []Kind{}
	for _, a := range c.actions {
		kinds = append(kinds, a.Kind)
	}
	assert.Equal(t, []Kind{KindDeactivate, KindReactivate, KindAdd}, kinds)
	assert.Equal(t, Changes{{"last_name", "Martin", "Martin-Durand"}, {"status", "active", "deactivated"}}, c.actions[0].Changes)
	assert.Equal(t, membership.Tally{Active: 1}, c.tally, "bob out, chloé and noé in")
	absent := findAbsent(ix, m, systemPower(), p)
	require.Len(t, absent.actions, 1)
	assert.Equal(t, "dan.user", absent.actions[0].Login)
	assert.Equal(t, membership.Tally{Active: -1}, absent.tally)
}

// The rules of power in the steps: a member actor may not touch a member
// above it, set a peer's password, nor deactivate itself.
func TestClassifyPower(t *testing.T) {
	ix := testRoster(t)
	userRole, _ := membership.BuiltinRole(membership.RoleUser)
	manager := membership.Role{ID: "mgr", Permissions: []membership.Permission{membership.PermMembersRead, membership.PermCSVImport}}
	me := membership.Member{ID: "d", RoleID: "mgr", Status: membership.StatusActive}
	pw := systemPower()
	pw.roles["mgr"] = manager
	pw.a = membership.Authority{Actor: membership.ActorMember("d"), Member: &me, Role: &manager}
	f := testFile(t, "alice.admin;Admin;Alice;alice@x.fr;;inactif\n"+ // an admin: beyond its power
		"bob.martin;Martin;Bob;bob@x.fr;new-password;actif\n"+ // it outranks a user: allowed
		"dan.user;User;Dan;dan@x.fr;new-password;inactif\n") // itself: its password, its deactivation
	_ = userRole
	p := &problems{max: 10}
	m := matchRows(f, ix, p)
	classify(f, ix, m, membership.ActorMember("d"), pw, nil, p)
	assert.Equal(t, []string{"beyond_power", "credentials"}, codes(p))
	assert.Equal(t, []int{2, 4}, []int{p.list[0].Line, p.list[1].Line})
	p = &problems{max: 10}
	f = testFile(t, "bob.martin;Martin;Bob;bob@x.fr;;actif\n")
	m = matchRows(f, ix, p)
	findAbsent(ix, m, pw, p)
	assert.True(t, slices.Contains(codes(p), "self"), "the actor is absent: it would deactivate itself")
	assert.True(t, slices.Contains(codes(p), "beyond_power"), "alice is absent: an admin it may not deactivate")
}

func TestUnknownColumnWarnings(t *testing.T) {
	var cols []string
	for i := range 12 {
		cols = append(cols, strings.Repeat("x", 100)+string(rune('a'+i)))
	}
	w := unknownColumnWarnings(cols, membership.English)
	require.Len(t, w, 11)
	assert.Equal(t, "and 2 more column(s) ignored", w[10])
	assert.Less(t, len(w[0]), 100)
}

func TestChangeReadsUnambiguously(t *testing.T) {
	cases := map[Change]string{
		{"last_name", "Martin", "Martin-Durand"}: "last_name: Martin → Martin-Durand",
		{"email", "", "bob@example.com"}:         `email: "" → bob@example.com`,
		{"first_name", "Zoé ", "Zoé"}:            `first_name: "Zoé " → Zoé`,
		{"last_name", "A → B", "A;B"}:            `last_name: "A → B" → "A;B"`,
		{"last_name", "Le\u00a0Gall", "Le Gall"}: `last_name: "Le\u00a0Gall" → Le Gall`,
		{"last_name", `O"Hara`, "O'Hara"}:        `last_name: "O\"Hara" → O'Hara`,
	}
	for c, want := range cases {
		if got := c.String(); got != want {
			t.Errorf("%#v prints %s, want %s", c, got, want)
		}
	}
}
