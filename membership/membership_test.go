package membership_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/memberkit/memberkit/membership"
)

func TestDefaultLogin(t *testing.T) {
	cases := []struct{ first, last, want string }{
		{"Zoé", "Lefèvre-Dubois", "zoe.lefevre-dubois"},
		{"Jean", "Dupont", "jean.dupont"},
		{"  Jean  Pierre ", "de la Tour", "jean-pierre.de-la-tour"},
		{"Jean-Pierre", "D'Artagnan", "jean-pierre.dartagnan"},
		{"Anne", "O’Brien", "anne.obrien"},
		{"Günther", "Straße", "gunther.strasse"},
		{"Æsa", "Œuvray", "aesa.oeuvray"},
		{"Søren", "Kierkegaard", "soren.kierkegaard"},
		{"Łukasz", "Đorđević", "lukasz.dordevic"},
		{"François", "Müller", "francois.muller"},
		{"ÉLODIE", "ÇA", "elodie.ca"},
		{"Ana_María", "López", "ana-maria.lopez"},
		{"", "Dupont", "dupont"},
		{"Jean", "", "jean"},
		{"李", "王", ""},
		{"O'Brien; DROP TABLE", "x", "obrien-drop-table.x"},
		{"--Jean--", "..Dupont..", "jean.dupont"},
	}
	for _, c := range cases {
		got := membership.DefaultLogin(c.first, c.last)
		assert.Equal(t, c.want, got, "DefaultLogin(%q, %q)", c.first, c.last)
		if got != "" {
			_, err := membership.ValidateLogin(got)
			assert.NoError(t, err, "default login %q must be a valid login", got)
		}
	}
	// Deterministic and bounded.
	long := strings.Repeat("a", 200)
	l := membership.DefaultLogin(long, long)
	assert.LessOrEqual(t, len(l), membership.MaxLoginLen)
	assert.Equal(t, l, membership.DefaultLogin(long, long))
	assert.Equal(t, "jean.dupont3", membership.LoginCandidate("jean.dupont", 3))
	assert.Equal(t, "jean.dupont", membership.LoginCandidate("jean.dupont", 1))
}

func TestValidateEmail(t *testing.T) {
	good := map[string]string{
		"a@b.fr":                    "a@b.fr",
		" Zoe.Lefevre@Example.COM ": "zoe.lefevre@example.com",
		"x+tag@sub.example.org":     "x+tag@sub.example.org",
		"o'brien@example.ie":        "o'brien@example.ie",
	}
	for in, want := range good {
		got, err := membership.ValidateEmail(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	bad := []string{"", "plain", "@example.com", "a@", "a@b", "a b@c.fr", "a@b..fr", "a@-b.fr", ".a@b.fr",
		"a..b@c.fr", "a@b.fr>", "\"a\"@b.fr", "a@b_c.fr", strings.Repeat("a", 65) + "@b.fr", "a\nb@c.fr"}
	for _, in := range bad {
		_, err := membership.ValidateEmail(in)
		var ve *membership.ValidationError
		require.Error(t, err, "%q must be refused", in)
		assert.True(t, errors.As(err, &ve) && ve.Field == "email", "error names the field for %q", in)
		assert.ErrorIs(t, err, membership.ErrInvalid)
	}
}

func TestValidateNameAndLogin(t *testing.T) {
	n, err := membership.ValidateName("last_name", "  O'Brien; DROP TABLE members;-- ")
	require.NoError(t, err)
	assert.Equal(t, "O'Brien; DROP TABLE members;--", n)
	for _, bad := range []string{"", "   ", "a\x00b", "tab\there", strings.Repeat("é", 101), "\xff"} {
		_, err := membership.ValidateName("first_name", bad)
		var ve *membership.ValidationError
		require.True(t, errors.As(err, &ve), "%q", bad)
		assert.Equal(t, "first_name", ve.Field)
	}
	l, err := membership.ValidateLogin(" Jean.Dupont ")
	require.NoError(t, err)
	assert.Equal(t, "jean.dupont", l)
	for _, bad := range []string{"", ".jean", "jean.", "je an", "jéan", strings.Repeat("a", 65)} {
		_, err := membership.ValidateLogin(bad)
		assert.ErrorIs(t, err, membership.ErrInvalid, "%q", bad)
	}
	g, err := membership.ValidateGroups([]string{" Paris ", "paris", "", "Lyon"})
	require.NoError(t, err)
	assert.Equal(t, []string{"Paris", "Lyon"}, g)
}

func TestStatusLabelsAndParse(t *testing.T) {
	assert.Equal(t, "Activé", membership.StatusActive.Label(membership.French))
	assert.Equal(t, "Désactivé", membership.StatusDeactivated.Label(membership.French))
	assert.Equal(t, "En attente", membership.StatusPending.Label(membership.French))
	assert.Equal(t, "Deactivated", membership.StatusDeactivated.Label(membership.English))
	for in, want := range map[string]membership.Status{
		"Activé": membership.StatusActive, "ACTIVE": membership.StatusActive, "désactivé": membership.StatusDeactivated,
		"Deactivated": membership.StatusDeactivated, "Retiré": membership.StatusRemoved,
	} {
		got, err := membership.ParseStatus(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := membership.ParseStatus("maybe")
	assert.ErrorIs(t, err, membership.ErrInvalid)
}

func fastHasher() *membership.Argon2Hasher {
	return membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1})
}

func TestArgon2Hasher(t *testing.T) {
	h := fastHasher()
	hash, err := h.Hash("correct horse")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(hash), "$argon2id$v=19$m=64,t=1,p=1$"))
	assert.True(t, membership.IsPasswordHash(string(hash)))
	ok, rehash, err := h.Verify(hash, "correct horse")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.False(t, rehash)
	ok, _, err = h.Verify(hash, "wrong horse")
	require.NoError(t, err)
	assert.False(t, ok)

	// Other parameters: still verifies, asks for a rehash.
	ok, rehash, err = membership.NewArgon2Hasher(nil).Verify(hash, "correct horse")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.True(t, rehash)

	// bcrypt hashes verify and ask for a rehash.
	bc, err := bcrypt.GenerateFromPassword([]byte("imported pw"), bcrypt.MinCost)
	require.NoError(t, err)
	assert.True(t, membership.IsPasswordHash(string(bc)))
	ok, rehash, err = h.Verify(membership.PasswordHash(bc), "imported pw")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.True(t, rehash)
	ok, _, err = h.Verify(membership.PasswordHash(bc), "nope")
	require.NoError(t, err)
	assert.False(t, ok)

	// Malformed or hostile hashes are errors, never a match or a hang.
	for _, bad := range []string{"", "plain", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", "$argon2id$v=19$m=64,t=1$x$y", "$2a$10$short"} {
		_, _, err := h.Verify(membership.PasswordHash(bad), "x")
		assert.ErrorIs(t, err, membership.ErrMalformedHash, bad)
		assert.False(t, membership.IsPasswordHash(bad))
	}

	// The default parameters are OWASP's.
	def, err := membership.NewArgon2Hasher(nil).Hash("x")
	require.NoError(t, err)
	assert.Contains(t, string(def), "$m=19456,t=2,p=1$")
}

func TestPasswordHashRedacted(t *testing.T) {
	m := membership.Member{Login: "a", PasswordHash: "$argon2id$secret"}
	for _, s := range []string{fmt.Sprint(m), fmt.Sprintf("%v %+v %#v %s", m, m, m, m.PasswordHash)} {
		assert.NotContains(t, s, "secret")
	}
}

func TestRandomPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		p, err := membership.RandomPassword(16)
		require.NoError(t, err)
		require.Len(t, p, 16)
		require.NoError(t, membership.ValidatePassword(p))
		require.False(t, seen[p])
		seen[p] = true
	}
}

func TestRules(t *testing.T) {
	free := membership.FreePlan()
	assert.NoError(t, membership.CheckSeats(free, 2, 1))
	err := membership.CheckSeats(free, 3, 1)
	assert.ErrorIs(t, err, membership.ErrMemberLimit)
	var le *membership.LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 3, le.Limit)
	assert.NoError(t, membership.CheckSeats(free, 5, 0), "freeing seats is always allowed")
	assert.NoError(t, membership.CheckSeats(membership.PremiumPlan(0), 1e6, 1), "0 means unlimited")

	assert.ErrorIs(t, membership.CheckAdmins(0), membership.ErrLastAdmin)
	assert.NoError(t, membership.CheckAdmins(1))

	admin, _ := membership.BuiltinRole(membership.RoleAdmin)
	user, _ := membership.BuiltinRole(membership.RoleUser)
	m := membership.Member{ID: "m1", Status: membership.StatusActive, RoleID: membership.RoleUser}
	as := func(a membership.Actor, m *membership.Member, r *membership.Role) membership.Authority {
		return membership.Authority{Actor: a, Member: m, Role: r}
	}
	assert.NoError(t, as(membership.ActorMember("m1"), &m, &user).Require(membership.PermMembersRead))
	assert.ErrorIs(t, as(membership.ActorMember("m1"), &m, &user).Require(membership.PermMembersManage), membership.ErrForbidden)
	assert.NoError(t, as(membership.ActorMember("m1"), &m, &admin).Require(membership.PermMembersManage))
	m.Status = membership.StatusDeactivated
	assert.ErrorIs(t, as(membership.ActorMember("m1"), &m, &admin).Require(membership.PermMembersRead), membership.ErrForbidden)
	assert.ErrorIs(t, as(membership.ActorMember("m2"), &m, &admin).Require(membership.PermMembersRead), membership.ErrForbidden)
	assert.NoError(t, as(membership.SystemActor("cron"), nil, nil).Require(membership.PermCSVImport))
	assert.ErrorIs(t, as(membership.Actor{}, nil, nil).Require(membership.PermMembersRead), membership.ErrForbidden)

	// Custom roles start with no permission and refuse unknown ones.
	r := membership.Role{ID: "r1", Name: "Support"}
	require.NoError(t, membership.ValidateRole(&r))
	assert.Empty(t, r.Permissions)
	r.Permissions = []membership.Permission{"members.fly"}
	assert.ErrorIs(t, membership.ValidateRole(&r), membership.ErrInvalid)
	assert.ErrorIs(t, membership.ValidateRole(&membership.Role{ID: membership.RoleAdmin, Name: "x"}), membership.ErrBuiltinRole)
}

func TestFakeClock(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := membership.NewFakeClock(t0)
	assert.Equal(t, t0, c.Now())
	assert.Equal(t, t0.Add(7*24*time.Hour), c.Advance(7*24*time.Hour))
	inv := membership.Invitation{State: membership.InvitationPending, ExpiresAt: t0.Add(membership.DefaultInvitationTTL)}
	assert.True(t, inv.Open(t0.Add(membership.DefaultInvitationTTL-time.Second)))
	assert.True(t, inv.Expired(t0.Add(membership.DefaultInvitationTTL)))
	assert.Equal(t, "expired", inv.DisplayStatus(c.Now()))
}
