package proof

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/memberkit/memberkit/internal/testkit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// Invitation tokens: 256 bits from crypto/rand, only their SHA-256 is
// stored, and the token appears nowhere in the store.
func TestTokensUnguessableAndStoredHashed(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		ctx := context.Background()
		st := newStore(t)
		org := seedOrg(t, ctx, st, 0)
		sender := &invite.RecordingSender{}
		svc, err := invite.New(st, sender, &invite.Options{Hasher: fastHasher()})
		require.NoError(t, err)
		seen := map[string]bool{}
		for i := range 20 {
			_, err := svc.Send(ctx, sys, org.ID, invite.To{Email: fmt.Sprintf("t%d@proof.example", i), RoleID: membership.RoleUser})
			require.NoError(t, err)
		}
		snap, err := Take(ctx, st, org.ID)
		require.NoError(t, err)
		dump := fmt.Sprintf("%+v", snap)
		for _, s := range sender.All() {
			raw, err := base64.RawURLEncoding.DecodeString(string(s.Token))
			require.NoError(t, err)
			assert.Len(t, raw, 32, "256 bits")
			assert.False(t, seen[string(s.Token)])
			seen[string(s.Token)] = true
			assert.NotContains(t, dump, string(s.Token), "the token itself is never stored")
			sum := sha256.Sum256(raw)
			got, err := st.InvitationByTokenHash(ctx, sum[:])
			require.NoError(t, err, "stored under its SHA-256")
			assert.Equal(t, s.Invitation.ID, got.ID)
		}
	})
}

// Wrong, tampered, expired, canceled and used tokens read the same.
func TestBadTokensIndistinguishable(t *testing.T) {
	ctx := context.Background()
	st := testdb.Kinds()[0].New(t)
	clock := membership.NewFakeClock(membership.SystemClock{}.Now())
	org := seedOrg(t, ctx, st, 0)
	sender := &invite.RecordingSender{}
	svc, err := invite.New(st, sender, &invite.Options{Hasher: fastHasher(), Clock: clock})
	require.NoError(t, err)
	send := func(email string) (membership.Invitation, string) {
		inv, err := svc.Send(ctx, sys, org.ID, invite.To{Email: email, RoleID: membership.RoleUser})
		require.NoError(t, err)
		return inv, sender.TokenFor(email)
	}
	d := invite.Details{FirstName: "X", LastName: "Y", Password: "x-password"}
	canceledInv, canceled := send("c@proof.example")
	require.NoError(t, svc.Cancel(ctx, sys, org.ID, canceledInv.ID))
	_, used := send("u@proof.example")
	_, err = svc.Accept(ctx, used, d)
	require.NoError(t, err)
	_, expired := send("e@proof.example")
	_, live := send("l@proof.example")
	tampered := []byte(live)
	tampered[10] ^= 1
	clock.Advance(membership.DefaultInvitationTTL + 1)
	msgs := map[string]string{}
	for name, tok := range map[string]string{"wrong": strings.Repeat("A", invite.TokenLen), "tampered": string(tampered), "canceled": canceled, "used": used, "expired": expired, "garbage": "x"} {
		_, err := svc.Accept(ctx, tok, d)
		require.ErrorIs(t, err, membership.ErrInvitationInvalid, name)
		msgs[name] = err.Error()
	}
	for name, m := range msgs {
		assert.Equal(t, membership.ErrInvitationInvalid.Error(), m, "%s reads like any invalid token", name)
	}
}

// An unknown login costs the same hashing work as a known one.
func TestAuthenticateSameWork(t *testing.T) {
	ctx := context.Background()
	st := testdb.Kinds()[0].New(t)
	org := seedOrg(t, ctx, st, 0)
	h := &countingHasher{Hasher: fastHasher()}
	svc := testkit.Roster(t, st, &roster.Options{Hasher: h})
	_, _ = svc.Authenticate(ctx, org.ID, "nobody", "x") // the dummy hash is made once, lazily
	cost := func(login, pw string) int64 {
		before := h.verifies.Load()
		_, _ = svc.Authenticate(ctx, org.ID, login, pw)
		return h.verifies.Load() - before
	}
	known := cost("ada.admin", "wrong-password")
	assert.Equal(t, int64(1), known)
	assert.Equal(t, known, cost("no.such.login", "wrong-password"))
	assert.Equal(t, known, cost("nobody@proof.example", "wrong-password"))
	_, err := svc.Deactivate(ctx, sys, org.ID, idOfPlain(t, ctx, st, org.ID, "cleo.user"))
	require.NoError(t, err)
	assert.Equal(t, known, cost("cleo.user", "proof-password"), "a deactivated member is checked like the others")
}

func idOfPlain(t *testing.T, ctx context.Context, st store.Store, orgID, login string) string {
	var id string
	require.NoError(t, st.View(ctx, orgID, func(tx store.Tx) error {
		m, err := tx.MemberByLogin(ctx, login)
		id = m.ID
		return err
	}))
	return id
}

// No public call reads or writes another org's data with its IDs.
func TestNoCrossTenantAccess(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		ctx := context.Background()
		st := newStore(t)
		a := seedOrg(t, ctx, st, 0)
		b := seedOrg(t, ctx, st, 0)
		h := fastHasher()
		r := testkit.Roster(t, st, &roster.Options{Hasher: h})
		sender := &invite.RecordingSender{}
		inv, err := invite.New(st, sender, &invite.Options{Hasher: h})
		require.NoError(t, err)
		files := testkit.CSV(t, st, &csvsync.Options{Hasher: h})
		aMember := idOfPlain(t, ctx, st, a.ID, "cleo.user")
		aAdmin := membership.ActorMember(idOfPlain(t, ctx, st, a.ID, "ada.admin"))
		aInv, err := inv.Send(ctx, sys, a.ID, invite.To{Email: "x@proof.example", RoleID: membership.RoleUser})
		require.NoError(t, err)
		role, err := r.CreateRole(ctx, sys, a.ID, "A only")
		require.NoError(t, err)
		before, err := Take(ctx, st, a.ID)
		require.NoError(t, err)

		// Org B's system actor with org A's IDs: not found.
		notFound := func(name string, err error) {
			t.Helper()
			assert.ErrorIs(t, err, membership.ErrNotFound, name)
		}
		_, err = r.Get(ctx, sys, b.ID, aMember)
		notFound("Get", err)
		_, err = r.Deactivate(ctx, sys, b.ID, aMember)
		notFound("Deactivate", err)
		_, err = r.Activate(ctx, sys, b.ID, aMember)
		notFound("Activate", err)
		_, err = r.Remove(ctx, sys, b.ID, aMember)
		notFound("Remove", err)
		_, err = r.ChangeRole(ctx, sys, b.ID, aMember, membership.RoleAdmin)
		notFound("ChangeRole", err)
		_, err = r.Edit(ctx, sys, b.ID, aMember, roster.Patch{Groups: &[]string{"x"}})
		notFound("Update", err)
		_, err = r.IssueTemporaryPassword(ctx, sys, b.ID, aMember)
		notFound("IssueTemporaryPassword", err)
		_, err = r.DeactivateMany(ctx, sys, b.ID, []string{aMember})
		notFound("DeactivateMany", err)
		notFound("ChangePassword", func() error {
			_, err := r.ChangePassword(ctx, b.ID, aMember, "proof-password", "another-password")
			if errors.Is(err, membership.ErrInvalidCredentials) {
				return membership.ErrNotFound // a member of another org reads like a wrong password
			}
			return err
		}())
		_, err = r.UpdateRole(ctx, sys, b.ID, role.ID, "x", nil)
		notFound("UpdateRole", err)
		notFound("DeleteRole", r.DeleteRole(ctx, sys, b.ID, role.ID))
		_, err = inv.Resend(ctx, sys, b.ID, aInv.ID)
		notFound("Resend", err)
		notFound("Cancel", inv.Cancel(ctx, sys, b.ID, aInv.ID))
		_, err = r.Authenticate(ctx, b.ID, "cleo.user@", "proof-password")
		assert.ErrorIs(t, err, membership.ErrInvalidCredentials)
		page, err := r.List(ctx, sys, b.ID, roster.ListQuery{IDs: []string{aMember}})
		require.NoError(t, err)
		assert.Empty(t, page.Members)
		views, err := inv.List(ctx, sys, b.ID)
		require.NoError(t, err)
		assert.Empty(t, views)

		// Org A's admin acting in org B: forbidden.
		_, err = r.Deactivate(ctx, aAdmin, b.ID, idOfPlain(t, ctx, st, b.ID, "cleo.user"))
		assert.ErrorIs(t, err, membership.ErrForbidden)
		_, err = files.Export(ctx, aAdmin, b.ID, &bytes.Buffer{}, nil)
		assert.ErrorIs(t, err, membership.ErrForbidden)
		// A plan of org A cannot be applied to org B.
		f, err := csvsync.Parse(strings.NewReader("Nom;Prénom;Etat\nAdmin;Ada;actif\n"), nil)
		require.NoError(t, err)
		p, err := files.Plan(ctx, sys, a.ID, f, &csvsync.PlanOptions{AllowMassDeactivation: true})
		require.NoError(t, err)
		_, err = files.Apply(ctx, sys, b.ID, p, nil)
		assert.ErrorIs(t, err, membership.ErrInvalid)

		after, err := Take(ctx, st, a.ID)
		require.NoError(t, err)
		assert.Equal(t, before, after, "org A untouched")
	})
}

// No password or hash leaks into exports, errors, events, logs or the
// values the services return.
func TestNoSecretsInOutputs(t *testing.T) {
	ctx := context.Background()
	st := testdb.Kinds()[1].New(t) // SQLite: the adapter's errors too
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := fastHasher()
	var events []membership.Event
	var mu sync.Mutex
	hook := func(_ context.Context, evs []membership.Event) {
		mu.Lock()
		events = append(events, evs...)
		mu.Unlock()
	}
	r := testkit.Roster(t, st, &roster.Options{Hasher: h, Logger: logger, AfterCommit: hook})
	sender := &invite.RecordingSender{}
	inv, err := invite.New(st, sender, &invite.Options{Hasher: h, Logger: logger, AfterCommit: hook})
	require.NoError(t, err)
	files := testkit.CSV(t, st, &csvsync.Options{Hasher: h, Logger: logger, AfterCommit: hook})
	org, err := r.CreateOrg(ctx, roster.NewOrg{Name: "Secrets", Plan: membership.PremiumPlan(0), Features: []membership.Feature{membership.FeatureCSV}})
	require.NoError(t, err)
	secrets := []string{"S3cret-Admin-Pass", "S3cret-Member-Pass", "S3cret-Csv-Pass", "S3cret-Invitee-Pass", "S3cret-New-Pass"}
	var outputs []string
	keep := func(v any, err error) {
		outputs = append(outputs, fmt.Sprintf("%+v %#v", v, v))
		if err != nil {
			outputs = append(outputs, err.Error())
		}
	}
	admin, err := r.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Ada", LastName: "Admin", RoleID: membership.RoleAdmin, Password: secrets[0]})
	require.NoError(t, err)
	keep(admin, nil)
	keep(r.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Bob", LastName: "Member", Password: secrets[1]}))
	keep(r.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Bob", LastName: "Member", Login: "bob.member", Password: secrets[1]})) // duplicate: an error
	keep(r.Authenticate(ctx, org.ID, "ada.admin", secrets[0]))
	keep(r.Authenticate(ctx, org.ID, "ada.admin", secrets[1]))
	keep(r.Get(ctx, sys, org.ID, admin.Member.ID))
	keep(r.List(ctx, sys, org.ID, roster.ListQuery{}))
	keep(r.ChangePassword(ctx, org.ID, admin.Member.ID, secrets[0], secrets[4]))
	keep(r.ChangePassword(ctx, org.ID, admin.Member.ID, "wrong-current", secrets[4]))
	_, err = inv.Send(ctx, sys, org.ID, invite.To{Email: "zed@proof.example", RoleID: membership.RoleUser})
	require.NoError(t, err)
	keep(inv.Accept(ctx, sender.TokenFor("zed@proof.example"), invite.Details{FirstName: "Zed", LastName: "Z", Password: secrets[3]}))
	file, err := csvsync.Parse(strings.NewReader("Identifiant;Nom;Prénom;Mot de passe;Etat\nada.admin;Admin;Ada;;actif\nbob.member;Member;Bob;"+secrets[2]+";actif\n;Neuf;Noé;Zq9!x;actif\n"), nil)
	keep(file, err) // "Zq9!x" is refused as too short: the error must not quote it
	file, err = csvsync.Parse(strings.NewReader("Identifiant;Nom;Prénom;Mot de passe;Etat\nada.admin;Admin;Ada;;actif\nbob.member;Member;Bob;"+secrets[2]+";actif\nzed.z;Z;Zed;;actif\n"), nil)
	require.NoError(t, err)
	keep(file, nil)
	plan, err := files.Plan(ctx, sys, org.ID, file, nil)
	require.NoError(t, err)
	keep(plan.Actions, nil)
	res, err := files.Apply(ctx, sys, org.ID, plan, nil)
	keep(res, err)
	var report, export bytes.Buffer
	require.NoError(t, res.WriteReport(&report, nil))
	_, err = files.Export(ctx, sys, org.ID, &export, nil)
	require.NoError(t, err)
	outputs = append(outputs, report.String(), export.String(), logs.String(), fmt.Sprintf("%+v", events))

	all := strings.Join(outputs, "\n")
	for _, s := range append(secrets, "Zq9!x", "$argon2id$", "$2a$") {
		if i := strings.Index(all, s); i >= 0 {
			t.Errorf("%q leaked: …%s…", s, all[max(0, i-200):min(len(all), i+60)])
		}
	}
	assert.NotEmpty(t, events)
}
