package membership_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
)

func TestAuthorityRules(t *testing.T) {
	admin, _ := membership.BuiltinRole(membership.RoleAdmin)
	user, _ := membership.BuiltinRole(membership.RoleUser)
	manager := membership.Role{ID: "manager", Permissions: []membership.Permission{membership.PermMembersRead, membership.PermMembersManage}}
	me := membership.Member{ID: "m1", Status: membership.StatusActive, RoleID: "manager"}
	a := membership.Authority{Actor: membership.ActorMember("m1"), Member: &me, Role: &manager}
	other := membership.Member{ID: "m2", RoleID: membership.RoleUser}
	boss := membership.Member{ID: "m3", RoleID: membership.RoleAdmin}

	assert.NoError(t, a.Require(membership.PermMembersManage))
	assert.ErrorIs(t, a.Require(membership.PermOrgManage), membership.ErrForbidden)
	assert.NoError(t, a.CanGrant(user))
	assert.NoError(t, a.CanGrant(manager), "its own role: it holds all of it")
	assert.ErrorIs(t, a.CanGrant(admin), membership.ErrForbidden)
	assert.NoError(t, a.CanActOn(other, user))
	assert.ErrorIs(t, a.CanActOn(boss, admin), membership.ErrForbidden)
	assert.ErrorIs(t, a.CanChangeRole(me, manager, user), membership.ErrForbidden, "nobody changes their own role")
	assert.NoError(t, a.CanChangeRole(other, user, manager))
	assert.ErrorIs(t, a.CanResetPassword(me, manager), membership.ErrForbidden, "no reset of oneself")
	assert.ErrorIs(t, a.CanEditRole(admin, membership.Role{}), membership.ErrForbidden)

	// An admin demotes itself; the last-admin rule is the services'.
	adm := membership.Member{ID: "a1", Status: membership.StatusActive, RoleID: membership.RoleAdmin}
	aa := membership.Authority{Actor: membership.ActorMember("a1"), Member: &adm, Role: &admin}
	assert.NoError(t, aa.CanChangeRole(adm, admin, user))

	// A temporary password: nothing but changing it.
	me.MustChangePassword = true
	err := a.Require(membership.PermMembersRead)
	assert.ErrorIs(t, err, membership.ErrPasswordChangeRequired)
	assert.ErrorIs(t, err, membership.ErrForbidden)
	var fe *membership.ForbiddenError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, membership.PermMembersRead, fe.Permission)

	// The system holds every power; a nobody none.
	sys := membership.SystemAuthority(membership.SystemActor("host"))
	assert.NoError(t, sys.CanGrant(admin))
	assert.NoError(t, sys.CanActOn(boss, admin))
	nobody := membership.Authority{Actor: membership.ActorMember("ghost")}
	assert.ErrorIs(t, nobody.Require(membership.PermMembersRead), membership.ErrForbidden)
	assert.ErrorIs(t, nobody.CanGrant(user), membership.ErrForbidden)

	// Credentials of others: only who outranks them; never one's own.
	peer := membership.Member{ID: "m4", RoleID: "manager"}
	assert.ErrorIs(t, a.CanSetCredentials(peer, manager), membership.ErrForbidden, "a peer cannot set a peer's password or email")
	assert.NoError(t, a.CanSetCredentials(other, user), "it outranks a user")
	assert.ErrorIs(t, aa.CanSetCredentials(boss, admin), membership.ErrForbidden, "nobody but the system outranks an admin")
	assert.NoError(t, sys.CanSetCredentials(boss, admin))
	assert.True(t, a.Outranks(user))
	assert.False(t, a.Outranks(manager))

	// The sender of an invitation must still hold its role, and may still
	// invite.
	inv := membership.Invitation{InvitedBy: membership.ActorMember("m1").String(), RoleID: membership.RoleUser}
	me.MustChangePassword = false
	assert.ErrorIs(t, membership.CanGrantInvitation(inv, &me, &manager, user), membership.ErrForbidden, "the sender lost invitations.manage")
	manager.Permissions = append(manager.Permissions, membership.PermInvitationsManage)
	assert.NoError(t, membership.CanGrantInvitation(inv, &me, &manager, user))
	assert.ErrorIs(t, membership.CanGrantInvitation(inv, &me, &manager, admin), membership.ErrForbidden)
	assert.ErrorIs(t, membership.CanGrantInvitation(inv, nil, nil, user), membership.ErrForbidden, "sender gone")
	gone := me
	gone.Status = membership.StatusDeactivated
	assert.ErrorIs(t, membership.CanGrantInvitation(inv, &gone, &manager, user), membership.ErrForbidden, "sender deactivated")
	assert.NoError(t, membership.CanGrantInvitation(membership.Invitation{InvitedBy: "system:signup"}, nil, nil, admin))
}

func TestThrottlePolicy(t *testing.T) {
	p := membership.DefaultLoginThrottle()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var a membership.Attempts
	var waits []time.Duration
	for i := range 10 {
		wait, locked := p.Wait(now, a)
		waits = append(waits, wait)
		now = now.Add(wait)
		if locked := p.Fail(now, &a); locked != (i == 9) {
			t.Fatalf("failure %d: locked %v", i+1, locked)
		}
		_ = locked
	}
	assert.Equal(t, []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute}, waits)
	wait, locked := p.Wait(now, a)
	assert.True(t, locked)
	assert.Equal(t, 15*time.Minute, wait)
	wait, _ = p.Wait(now.Add(15*time.Minute), a)
	assert.Zero(t, wait, "the lock ends")
	var fresh membership.Attempts
	p.Fail(now, &fresh)
	wait, _ = p.Wait(now.Add(2*time.Hour), membership.Attempts{Failures: 9, LastFailure: now})
	assert.Zero(t, wait, "failures older than the window are forgotten")
	var te *membership.ThrottleError
	require.ErrorAs(t, p.Check(now, a), &te)
	assert.ErrorIs(t, te, membership.ErrTooManyAttempts)
	assert.Len(t, membership.ThrottleKey("login", "org", "jean"), 64)
	assert.NotEqual(t, membership.ThrottleKey("login", "org", "jean"), membership.ThrottleKey("login", "orgj", "ean"))
}

func TestCheckSession(t *testing.T) {
	st := membership.SessionState{SecurityStamp: membership.NewSecurityStamp(), Status: membership.StatusActive}
	assert.NoError(t, membership.CheckSession(st, st.SecurityStamp))
	assert.ErrorIs(t, membership.CheckSession(st, "other"), membership.ErrSessionInvalid)
	assert.ErrorIs(t, membership.CheckSession(membership.SessionState{Status: membership.StatusActive}, ""), membership.ErrSessionInvalid)
	st.Status = membership.StatusDeactivated
	assert.ErrorIs(t, membership.CheckSession(st, st.SecurityStamp), membership.ErrSessionInvalid)
	assert.NotEqual(t, membership.NewSecurityStamp(), membership.NewSecurityStamp())
	before := membership.Member{Status: membership.StatusActive, RoleID: "user"}
	after := before
	after.FirstName = "Renamed"
	assert.False(t, membership.RotatesStamp(before, after))
	after.RoleID = "admin"
	assert.True(t, membership.RotatesStamp(before, after))
}

// Identifiers that could pass for others.
func TestIdentifiersCannotImpersonate(t *testing.T) {
	for in, want := range map[string]string{
		"Jean@Exämple.FR":         "jean@xn--exmple-cua.fr",
		"jean@xn--exmple-cua.fr":  "jean@xn--exmple-cua.fr",
		"jean@ＥＸＡＭＰＬＥ.com":        "jean@example.com",
		"e\u0301lodie@exemple.fr": "\u00e9lodie@exemple.fr", // NFD → NFC
		"\u00e9lodie@exemple.fr":  "\u00e9lodie@exemple.fr",
		"zoe@münchen.de":          "zoe@xn--mnchen-3ya.de",
	} {
		got, err := membership.ValidateEmail(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"a\u200b@x.fr", "x@exa\u200bmple.fr", "adm\u202ein@x.fr", "x@ex ample.fr", "x@-a.fr"} {
		_, err := membership.ValidateEmail(bad)
		assert.ErrorIs(t, err, membership.ErrInvalid, "%q", bad)
	}
	for _, bad := range []string{"Adm\u200bin", "Ali\u202ece", "Jo\u200dn", "Bo\u2066b", "\u3164", "Eve\ufe0f", "A\u00adlice"} {
		_, err := membership.ValidateName("first_name", bad)
		assert.ErrorIs(t, err, membership.ErrInvalid, "%q", bad)
		_, err = membership.ValidateGroups([]string{bad})
		assert.ErrorIs(t, err, membership.ErrInvalid, "%q", bad)
	}
	n, err := membership.ValidateName("last_name", "محمد\u200cرضا")
	require.NoError(t, err, "the zero-width non-joiner Persian needs stays allowed")
	assert.Equal(t, "محمد\u200cرضا", n)
	n, err = membership.ValidateName("first_name", "E\u0301lodie")
	require.NoError(t, err)
	assert.Equal(t, "\u00c9lodie", n, "names are NFC")
	assert.Equal(t, "abcdé…", membership.Excerpt("abcdéfgh", 5))
	assert.Equal(t, "abc", membership.Excerpt("abc", 5))
}

// Hashes and secrets leave through no printer and no marshaller.
func TestSecretsNeverSerialise(t *testing.T) {
	const hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$secret-key-material"
	m := membership.Member{ID: "m1", Login: "jean", PasswordHash: hash}
	type wrapper struct {
		M membership.Member
		S membership.Secret
	}
	w := wrapper{M: m, S: "clear-password-from-a-file"}
	var outs []string
	j, err := json.Marshal(w)
	require.NoError(t, err)
	outs = append(outs, string(j))
	x, err := xml.Marshal(w)
	require.NoError(t, err)
	outs = append(outs, string(x))
	var g bytes.Buffer
	require.NoError(t, gob.NewEncoder(&g).Encode(w))
	outs = append(outs, g.String(), fmt.Sprintf("%v %+v %#v %s", w, w, w, w.S))
	for _, o := range outs {
		assert.NotContains(t, o, "secret-key-material")
		assert.NotContains(t, o, "clear-password")
	}
	assert.Contains(t, string(j), `"PasswordHash":"[redacted]"`)

	// What was written reads back as no secret at all, never as a value.
	var back wrapper
	require.NoError(t, json.Unmarshal(j, &back))
	assert.Empty(t, back.M.PasswordHash)
	assert.Empty(t, back.S)
	require.NoError(t, gob.NewDecoder(&g).Decode(&back))
	assert.Empty(t, back.M.PasswordHash)
	err = json.Unmarshal([]byte(`{"M":{"PasswordHash":"$2a$10$forged"}}`), &back)
	assert.Error(t, err, "a hash is never read from text")
}

func TestHashStrength(t *testing.T) {
	strong := mustHash(t, membership.NewArgon2Hasher(nil), "x")
	assert.NoError(t, membership.CheckHashStrength(string(strong)))
	weak := mustHash(t, membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1}), "x")
	err := membership.CheckHashStrength(string(weak))
	assert.ErrorIs(t, err, membership.ErrInvalid)
	assert.NotContains(t, err.Error(), string(weak)[30:], "the error never shows the hash")
	assert.Error(t, membership.CheckHashStrength("plain text"))
	costly := mustHash(t, membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 128 << 10, Time: 1, Threads: 1}), "x")
	assert.ErrorContains(t, membership.CheckHashStrength(string(costly)), "too costly", "an imported hash may not slow every login")
	assert.False(t, membership.IsPasswordHash("$argon2id$v=19$m=1048576,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"+strings.Repeat("a", 43)), "1 GiB per verification is no hash")
}

func mustHash(t *testing.T, h membership.Hasher, pw string) membership.PasswordHash {
	t.Helper()
	v, err := h.Hash(pw)
	require.NoError(t, err)
	return v
}

func TestLimitedHasherWaitsUnderContext(t *testing.T) {
	l := membership.LimitHasher(membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1}), 1)
	assert.Same(t, l, membership.LimitHasher(l, 5), "a limited hasher is shared, not wrapped again")
	release, err := l.Slot(t.Context())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err = l.HashContext(ctx, "password")
	assert.ErrorIs(t, err, context.DeadlineExceeded, "no slot: the attempt waits under its context")
	release()
	_, err = l.HashContext(t.Context(), "password")
	assert.NoError(t, err)
}
