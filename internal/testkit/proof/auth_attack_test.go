package proof

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

var authT0 = time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)

// countingHasher counts hashes, verifications and the most that ran at
// once.
type countingHasher struct {
	membership.Hasher
	hashes, verifies, inFlight, maxInFlight atomic.Int64
}

func (h *countingHasher) Hash(pw string) (membership.PasswordHash, error) {
	h.hashes.Add(1)
	return h.Hasher.Hash(pw)
}

func (h *countingHasher) Verify(hash membership.PasswordHash, pw string) (bool, bool, error) {
	h.verifies.Add(1)
	n := h.inFlight.Add(1)
	defer h.inFlight.Add(-1)
	for {
		m := h.maxInFlight.Load()
		if n <= m || h.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(time.Millisecond) // long enough for a burst to pile up
	return h.Hasher.Verify(hash, pw)
}

// outcome is what an attempt looks like from outside.
func outcome(err error) string {
	var te *membership.ThrottleError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &te):
		return fmt.Sprintf("throttled %s locked=%v", te.RetryAfter, te.Locked)
	case errors.Is(err, membership.ErrInvalidCredentials):
		return "invalid"
	}
	return "other: " + err.Error()
}

// Guessing a password: three free failures, then a doubling delay, then a
// lock; the right password during the lock is refused too; the lock ends;
// a success forgets the failures. Each failure and the lockout are audit
// events. An unknown login goes through the very same sequence, so the
// throttle reveals nothing about which logins exist.
func TestAttackPasswordGuessingThrottled(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		ctx := context.Background()
		st := newStore(t)
		clock := membership.NewFakeClock(authT0)
		r := testkit.Roster(t, st, &roster.Options{Hasher: fastHasher(), Clock: clock})
		org := seedOrg(t, ctx, st, 0)
		guess := func(login string) []string {
			var seq []string
			for i := range 12 {
				err := error(nil)
				_, err = r.Authenticate(ctx, org.ID, login, fmt.Sprintf("guess-%d", i))
				seq = append(seq, outcome(err))
				if o := outcome(err); strings.HasPrefix(o, "throttled") {
					var te *membership.ThrottleError
					errors.As(err, &te)
					if te.Locked {
						break
					}
					clock.Advance(te.RetryAfter) // a patient attacker waits exactly as told
					_, err = r.Authenticate(ctx, org.ID, login, fmt.Sprintf("guess-%d", i))
					seq = append(seq, outcome(err))
				}
			}
			return seq
		}
		known := guess("ada.admin")
		assert.Equal(t, []string{"invalid", "invalid", "invalid",
			"throttled 1s locked=false", "invalid",
			"throttled 2s locked=false", "invalid",
			"throttled 4s locked=false", "invalid",
			"throttled 8s locked=false", "invalid",
			"throttled 16s locked=false", "invalid",
			"throttled 32s locked=false", "invalid",
			"throttled 1m0s locked=false", "invalid", // the delay is capped
			"throttled 15m0s locked=true"}, known)
		_, err := r.Authenticate(ctx, org.ID, "ada.admin", "proof-password")
		assert.Contains(t, outcome(err), "locked=true", "the right password is refused during the lock")

		clock.Set(authT0)
		unknown := guess("nobody.here")
		assert.Equal(t, known, unknown, "an unknown login is throttled exactly like a known one")

		clock.Advance(16 * time.Minute)
		_, err = r.Authenticate(ctx, org.ID, "ada.admin", "proof-password")
		require.NoError(t, err, "the lock ends")
		_, err = r.Authenticate(ctx, org.ID, "ada.admin", "wrong")
		assert.Equal(t, "invalid", outcome(err))
		_, err = r.Authenticate(ctx, org.ID, "ada.admin", "proof-password")
		require.NoError(t, err, "a success forgot the earlier failures: one failure is free again")

		evs, err := r.Events(ctx, sys, org.ID, store.EventQuery{Types: []membership.EventType{membership.EventMemberLoginFailed, membership.EventMemberLockedOut}})
		require.NoError(t, err)
		var failed, locked int
		for _, e := range evs {
			switch e.Type {
			case membership.EventMemberLoginFailed:
				failed++
			case membership.EventMemberLockedOut:
				locked++
				assert.NotContains(t, e.Detail, "nobody.here", "an event never records the login typed")
			}
		}
		assert.Equal(t, 21, failed, "every failure of both logins is recorded")
		assert.Equal(t, 2, locked)
	})
}

// Failures are kept in the store: a second process (its own pool) sees
// the lock the first caused.
func TestAttackThrottleSharedAcrossProcesses(t *testing.T) {
	for _, kind := range testdb.Kinds() {
		t.Run(kind.Name, func(t *testing.T) {
			ctx := context.Background()
			pools := testdb.Pools(t, kind, 2)
			clock := membership.NewFakeClock(authT0)
			policy := membership.ThrottlePolicy{FreeFailures: 1, LockAfter: 3}
			a := testkit.Roster(t, pools[0], &roster.Options{Hasher: fastHasher(), Clock: clock, LoginThrottle: policy})
			b := testkit.Roster(t, pools[1], &roster.Options{Hasher: fastHasher(), Clock: clock, LoginThrottle: policy})
			org := seedOrg(t, ctx, pools[0], 0)
			for i := range 3 {
				_, err := []*roster.Service{a, b}[i%2].Authenticate(ctx, org.ID, "ben.boss", "wrong")
				if i > 0 {
					var te *membership.ThrottleError
					if errors.As(err, &te) {
						clock.Advance(te.RetryAfter)
						_, err = []*roster.Service{a, b}[i%2].Authenticate(ctx, org.ID, "ben.boss", "wrong")
					}
				}
				require.ErrorIs(t, err, membership.ErrInvalidCredentials)
			}
			_, err := b.Authenticate(ctx, org.ID, "ben.boss", "proof-password")
			var te *membership.ThrottleError
			require.ErrorAs(t, err, &te, "the other process sees the lock")
			assert.True(t, te.Locked)
		})
	}
}

// A client the host names (its IP) is throttled across every login it
// tries, so spraying one password over many logins stops too.
func TestAttackClientSprayThrottled(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		ctx := context.Background()
		st := newStore(t)
		clock := membership.NewFakeClock(authT0)
		r := testkit.Roster(t, st, &roster.Options{Hasher: fastHasher(), Clock: clock, ClientThrottle: membership.ThrottlePolicy{FreeFailures: 5, LockAfter: 8}})
		org := seedOrg(t, ctx, st, 0)
		attacker := membership.WithClient(ctx, "198.51.100.23")
		var last error
		for i := range 8 {
			_, last = r.Authenticate(attacker, org.ID, fmt.Sprintf("login%d", i), "Password1!")
			var te *membership.ThrottleError
			if errors.As(last, &te) {
				clock.Advance(te.RetryAfter)
				_, last = r.Authenticate(attacker, org.ID, fmt.Sprintf("login%d", i), "Password1!")
			}
		}
		_, err := r.Authenticate(attacker, org.ID, "cleo.user", "proof-password")
		var te *membership.ThrottleError
		require.ErrorAs(t, err, &te, "the client is locked, whatever login it tries: %v", last)
		assert.True(t, te.Locked)
		_, err = r.Authenticate(membership.WithClient(ctx, "203.0.113.5"), org.ID, "cleo.user", "proof-password")
		assert.NoError(t, err, "another client is not affected")
	})
}

// An unknown org answers like a wrong password: the same error, after the
// same hashing work, and the same throttle.
func TestAttackUnknownOrgLikeWrongPassword(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		ctx := context.Background()
		st := newStore(t)
		h := &countingHasher{Hasher: fastHasher()}
		r := testkit.Roster(t, st, &roster.Options{Hasher: h, Clock: membership.NewFakeClock(authT0)})
		org := seedOrg(t, ctx, st, 0)
		var seqKnown, seqUnknown []string
		for range 4 {
			before := h.verifies.Load()
			_, err := r.Authenticate(ctx, org.ID, "ada.admin", "wrong")
			seqKnown = append(seqKnown, fmt.Sprintf("%s/%d", outcome(err), h.verifies.Load()-before))
			before = h.verifies.Load()
			_, err = r.Authenticate(ctx, "no-such-org", "ada.admin", "wrong")
			seqUnknown = append(seqUnknown, fmt.Sprintf("%s/%d", outcome(err), h.verifies.Load()-before))
		}
		assert.Equal(t, seqKnown, seqUnknown)
		assert.Equal(t, "invalid/1", seqUnknown[0], "one verification, like a wrong password")
	})
}

// A burst of wrong passwords: hashes run at most MaxConcurrentHashes at
// once, the attempts queued behind the first failures are throttled when
// their turn comes (no hash), and a legitimate login still goes through.
func TestAttackLoginBurstBounded(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		ctx := context.Background()
		st := newStore(t)
		h := &countingHasher{Hasher: fastHasher()}
		r := testkit.Roster(t, st, &roster.Options{Hasher: h, MaxConcurrentHashes: 2})
		org := seedOrg(t, ctx, st, 0)
		var wg sync.WaitGroup
		var throttled atomic.Int64
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := r.Authenticate(membership.WithClient(ctx, fmt.Sprintf("10.0.%d.%d", i/250, i%250)), org.ID, "ada.admin", "wrong")
				if errors.Is(err, membership.ErrTooManyAttempts) {
					throttled.Add(1)
				}
			}()
		}
		_, err := r.Authenticate(ctx, org.ID, "cleo.user", "proof-password")
		assert.NoError(t, err, "a legitimate login goes through during the burst")
		wg.Wait()
		assert.LessOrEqual(t, h.maxInFlight.Load(), int64(2), "never more than the bound at once")
		// Each attempt is counted before its password is checked: the
		// burst gets the three free tries, the rest wait their delay.
		assert.LessOrEqual(t, h.verifies.Load(), int64(3+1), "three tries of the burst and the legitimate login")
		assert.Equal(t, int64(200-3), throttled.Load())
		t.Logf("%d verifications for 201 attempts, %d throttled, at most %d at once", h.verifies.Load(), throttled.Load(), h.maxInFlight.Load())
	})
}

// A temporary password allows nothing but changing it.
func TestAttackTemporaryPasswordAllowsNothingElse(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		ctx := context.Background()
		st := newStore(t)
		r := testkit.Roster(t, st, &roster.Options{Hasher: fastHasher()})
		inv, err := invite.New(st, &invite.RecordingSender{}, &invite.Options{Hasher: fastHasher()})
		require.NoError(t, err)
		files := testkit.CSV(t, st, &csvsync.Options{Hasher: fastHasher()})
		org := seedOrg(t, ctx, st, 0)
		added, err := r.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Temp", LastName: "Admin", RoleID: membership.RoleAdmin})
		require.NoError(t, err)
		_, err = r.Authenticate(ctx, org.ID, added.Member.Login, string(added.TemporaryPassword))
		var pcr *roster.PasswordChangeRequiredError
		require.ErrorAs(t, err, &pcr, "authentication says so")
		me := membership.ActorMember(added.Member.ID)
		f, err := csvsync.Parse(strings.NewReader("Nom;Prénom;Etat\nA;B;actif\n"), nil)
		require.NoError(t, err)
		for name, act := range map[string]func() error{
			"list":     func() error { _, err := r.List(ctx, me, org.ID, roster.ListQuery{}); return err },
			"get self": func() error { _, err := r.Get(ctx, me, org.ID, added.Member.ID); return err },
			"add": func() error {
				_, err := r.Add(ctx, me, org.ID, roster.NewMember{FirstName: "X", LastName: "Y"})
				return err
			},
			"deactivate": func() error { _, err := r.Deactivate(ctx, me, org.ID, pcr.Member.ID); return err },
			"invite": func() error {
				_, err := inv.Send(ctx, me, org.ID, invite.To{Email: "x@proof.example", RoleID: membership.RoleUser})
				return err
			},
			"plan":   func() error { _, err := files.Plan(ctx, me, org.ID, f, nil); return err },
			"review": func() error { _, err := r.Review(ctx, me, org.ID); return err },
		} {
			err := act()
			assert.ErrorIs(t, err, membership.ErrPasswordChangeRequired, name)
			assert.ErrorIs(t, err, membership.ErrForbidden, name)
		}
		assert.ErrorIs(t, r.CheckSession(ctx, org.ID, added.Member.ID, added.Member.SecurityStamp), membership.ErrSessionInvalid)
		changed, err := r.ChangePassword(ctx, org.ID, added.Member.ID, string(added.TemporaryPassword), "my-own-password")
		require.NoError(t, err, "changing it is the one act allowed")
		require.NoError(t, r.CheckSession(ctx, org.ID, added.Member.ID, changed.SecurityStamp))
		_, err = r.List(ctx, me, org.ID, roster.ListQuery{})
		assert.NoError(t, err, "then everything its role allows")
	})
}

// Access ends at once: a session recorded a stamp, and every change that
// must end it moves the stamp — whatever path made the change, with no
// AfterCommit hook at all.
func TestAttackSessionEndsAtOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		ctx := context.Background()
		st := newStore(t)
		r := testkit.Roster(t, st, &roster.Options{Hasher: fastHasher(), Notifier: roster.NotifierFunc(func(context.Context, membership.Member, string) error { return nil })})
		files := testkit.CSV(t, st, &csvsync.Options{Hasher: fastHasher()})
		org := seedOrg(t, ctx, st, 0)
		login := func() membership.Member {
			m, err := r.Authenticate(ctx, org.ID, "cleo.user", "proof-password")
			require.NoError(t, err)
			require.NoError(t, r.CheckSession(ctx, org.ID, m.ID, m.SecurityStamp))
			return m
		}
		m := login()
		// A change that must not end the session.
		_, err := r.Edit(ctx, sys, org.ID, m.ID, roster.Patch{Groups: &[]string{"Lyon"}})
		require.NoError(t, err)
		assert.NoError(t, r.CheckSession(ctx, org.ID, m.ID, m.SecurityStamp), "a profile edit keeps the session")
		for name, end := range map[string]func() error{
			"deactivate": func() error { _, err := r.Deactivate(ctx, sys, org.ID, m.ID); return err },
			"role":       func() error { _, err := r.ChangeRole(ctx, sys, org.ID, m.ID, membership.RoleAdmin); return err },
			"remove":     func() error { _, err := r.Remove(ctx, sys, org.ID, m.ID); return err },
			"reset":      func() error { return r.ResetPassword(ctx, sys, org.ID, m.ID) },
			"bulk":       func() error { _, err := r.DeactivateMany(ctx, sys, org.ID, []string{m.ID}); return err },
			"group": func() error {
				_, err := r.DeactivateWhere(ctx, sys, org.ID, store.MemberFilter{Group: "Lyon"})
				return err
			},
			"csv": func() error { return importWithout(t, ctx, files, org.ID, "cleo.user") },
			"own change": func() error {
				_, err := r.ChangePassword(ctx, org.ID, m.ID, "proof-password", "cleo-new-password")
				return err
			},
		} {
			t.Run(name, func(t *testing.T) {
				require.NoError(t, end())
				assert.ErrorIs(t, r.CheckSession(ctx, org.ID, m.ID, m.SecurityStamp), membership.ErrSessionInvalid, "the old session ends")
				// Put Cleo back as she was, with a fresh session.
				_, _ = r.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Cleo", LastName: "User", Email: "cleo@proof.example", Groups: []string{"Lyon"}, Password: "proof-password"})
				_, _ = r.Activate(ctx, sys, org.ID, m.ID)
				_, _ = r.ChangeRole(ctx, sys, org.ID, m.ID, membership.RoleUser)
				if _, err := r.Authenticate(ctx, org.ID, "cleo.user", "proof-password"); err != nil {
					_, err = r.IssueTemporaryPassword(ctx, sys, org.ID, m.ID)
					require.NoError(t, err)
					_, err = r.Edit(ctx, sys, org.ID, m.ID, roster.Patch{})
					require.NoError(t, err)
				}
				m = loginOrReset(t, ctx, r, org.ID, m.ID)
			})
		}
		assert.ErrorIs(t, r.CheckSession(ctx, org.ID, "no-such-member", "x"), membership.ErrSessionInvalid)
		assert.ErrorIs(t, r.CheckSession(ctx, org.ID, m.ID, ""), membership.ErrSessionInvalid, "an empty stamp never matches")
	})
}

// loginOrReset signs Cleo in with her password, setting it again as the
// system when an earlier step changed it.
func loginOrReset(t *testing.T, ctx context.Context, r *roster.Service, orgID, id string) membership.Member {
	t.Helper()
	m, err := r.Authenticate(ctx, orgID, "cleo.user", "proof-password")
	if err == nil {
		return m
	}
	tmp, err := r.IssueTemporaryPassword(ctx, sys, orgID, id)
	require.NoError(t, err)
	m, err = r.ChangePassword(ctx, orgID, id, tmp, "proof-password")
	require.NoError(t, err)
	return m
}

// importWithout imports the roster with one login left out, so that the
// import deactivates it.
func importWithout(t *testing.T, ctx context.Context, files *csvsync.Service, orgID, login string) error {
	var b strings.Builder
	_, err := files.Export(ctx, sys, orgID, &b, &csvsync.ExportOptions{NoBOM: true, LF: true})
	require.NoError(t, err)
	var kept []string
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		if !strings.HasPrefix(line, login+";") {
			kept = append(kept, line)
		}
	}
	f, err := csvsync.Parse(strings.NewReader(strings.Join(kept, "")), nil)
	require.NoError(t, err)
	p, err := files.Plan(ctx, sys, orgID, f, &csvsync.PlanOptions{AllowMassDeactivation: true})
	if err != nil {
		return err
	}
	_, err = files.Apply(ctx, sys, orgID, p, nil)
	return err
}

// Invitation tokens: a client that presents invalid ones is throttled on
// Lookup and Accept, even for a valid token; other clients are not.
func TestAttackTokenGuessingThrottled(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		ctx := context.Background()
		st := newStore(t)
		sender := &invite.RecordingSender{}
		clock := membership.NewFakeClock(authT0)
		inv, err := invite.New(st, sender, &invite.Options{Hasher: fastHasher(), Clock: clock, TokenThrottle: membership.ThrottlePolicy{FreeFailures: 3, LockAfter: 5}})
		require.NoError(t, err)
		org := seedOrg(t, ctx, st, 0)
		_, err = inv.Send(ctx, sys, org.ID, invite.To{Email: "real@proof.example", RoleID: membership.RoleUser})
		require.NoError(t, err)
		good := sender.TokenFor("real@proof.example")
		guesser := membership.WithClient(ctx, "192.0.2.66")
		for i := range 5 {
			bad := strings.Repeat("A", 42) + string(rune('A'+i))
			_, err := inv.Lookup(guesser, bad)
			var te *membership.ThrottleError
			if errors.As(err, &te) {
				clock.Advance(te.RetryAfter)
				_, err = inv.Accept(guesser, bad, invite.Details{FirstName: "G", LastName: "G", Password: "guess-password"})
			}
			assert.ErrorIs(t, err, membership.ErrInvitationInvalid, "guess %d", i)
		}
		_, err = inv.Lookup(guesser, good)
		assert.ErrorIs(t, err, membership.ErrTooManyAttempts, "the guessing client is locked, even with a valid token")
		_, err = inv.Lookup(membership.WithClient(ctx, "192.0.2.1"), good)
		assert.NoError(t, err, "the real invitee is not")
	})
}

// Every spelling of one identifier — case, a domain in Unicode, fullwidth
// or ASCII letters — is counted under one throttle key: changing the
// spelling buys no more guesses.
func TestAttackThrottleSpellings(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		ctx := context.Background()
		st := newStore(t)
		h := &countingHasher{Hasher: fastHasher()}
		r := testkit.Roster(t, st, &roster.Options{Hasher: h, Clock: membership.NewFakeClock(authT0)})
		org := seedOrg(t, ctx, st, 0)
		spellings := []string{"ada@proof.example", "ADA@PROOF.EXAMPLE", "ada@ｐｒｏｏｆ.example", " Ada@Proof.Example ", "ada@PROOF.example"}
		checked := 0
		for i := range 40 {
			before := h.verifies.Load()
			_, err := r.Authenticate(ctx, org.ID, spellings[i%len(spellings)], "guess")
			checked += int(h.verifies.Load() - before)
			if i < 3 {
				assert.ErrorIs(t, err, membership.ErrInvalidCredentials)
			}
		}
		assert.Equal(t, 3, checked, "three free tries for the address, whatever its spelling")
	})
}

// MySQL and MariaDB compare ignoring trailing spaces: an org ID with
// spaces after it must not reach the org, nor tell a right guess from a
// wrong one.
func TestAttackPaddedOrgID(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		ctx := context.Background()
		st := newStore(t)
		h := &countingHasher{Hasher: fastHasher()}
		r := testkit.Roster(t, st, &roster.Options{Hasher: h})
		org := seedOrg(t, ctx, st, 0)
		for _, id := range []string{org.ID + " ", org.ID + "  "} {
			_, err := r.Authenticate(ctx, id, "ada.admin", "proof-password")
			assert.ErrorIs(t, err, membership.ErrInvalidCredentials, "the right password, through another spelling of the org")
			_, err = r.Get(ctx, sys, id, idOfPlain(t, ctx, st, org.ID, "ada.admin"))
			assert.ErrorIs(t, err, membership.ErrNotFound)
		}
	})
}

// Hashing is spent only for who may: an actor without the permission
// costs no hash.
func TestAttackNoHashBeforeAuthorization(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		ctx := context.Background()
		st := newStore(t)
		h := &countingHasher{Hasher: fastHasher()}
		r := testkit.Roster(t, st, &roster.Options{Hasher: h, Notifier: roster.NotifierFunc(func(context.Context, membership.Member, string) error { return nil })})
		org := seedOrg(t, ctx, st, 0)
		cleo := membership.ActorMember(idOfPlain(t, ctx, st, org.ID, "cleo.user"))
		before := h.hashes.Load()
		_, err := r.Add(ctx, cleo, org.ID, roster.NewMember{FirstName: "X", LastName: "Y", Password: "some-password"})
		assert.ErrorIs(t, err, membership.ErrForbidden)
		assert.ErrorIs(t, r.ResetPassword(ctx, cleo, org.ID, idOfPlain(t, ctx, st, org.ID, "dan.user")), membership.ErrForbidden)
		assert.Equal(t, before, h.hashes.Load(), "no hash spent for a refused actor")
	})
}
