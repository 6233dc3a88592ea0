package invite_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memberkit/memberkit/internal/testkit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

var t0 = time.Date(2026, 2, 2, 10, 0, 0, 0, time.UTC)

type fixture struct {
	t      *testing.T
	ctx    context.Context
	st     store.Store
	clock  *membership.FakeClock
	sender *invite.RecordingSender
	inv    *invite.Service
	roster *roster.Service
	org    membership.Org
	admin  membership.Actor
	events []membership.Event
	mu     sync.Mutex
}

func setup(t *testing.T, newStore func(testing.TB) store.Store, plan membership.Plan) *fixture {
	f := &fixture{t: t, ctx: context.Background(), st: newStore(t), clock: membership.NewFakeClock(t0), sender: &invite.RecordingSender{}}
	h := membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1})
	var err error
	f.inv, err = invite.New(f.st, f.sender, &invite.Options{Clock: f.clock, Hasher: h, AfterCommit: func(_ context.Context, evs []membership.Event) {
		f.mu.Lock()
		f.events = append(f.events, evs...)
		f.mu.Unlock()
	}})
	require.NoError(t, err)
	f.roster = testkit.Roster(t, f.st, &roster.Options{Clock: f.clock, Hasher: h})
	f.org, err = f.roster.CreateOrg(f.ctx, roster.NewOrg{Name: "Conance", Plan: plan})
	require.NoError(t, err)
	a, err := f.roster.Add(f.ctx, membership.SystemActor("setup"), f.org.ID, roster.NewMember{FirstName: "Alice", LastName: "Admin", RoleID: membership.RoleAdmin, Password: "alice-password"})
	require.NoError(t, err)
	f.admin = membership.ActorMember(a.Member.ID)
	return f
}

func (f *fixture) send(email string) (membership.Invitation, string) {
	f.t.Helper()
	inv, err := f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: email, RoleID: membership.RoleUser})
	require.NoError(f.t, err)
	tok := f.sender.TokenFor(email)
	require.Len(f.t, tok, invite.TokenLen)
	return inv, tok
}

func details(first, last string) invite.Details {
	return invite.Details{FirstName: first, LastName: last, Password: "invitee-password"}
}

// Conance: "Inviter un membre: entrez l'email, sélectionnez le rôle, envoyez";
// "il est automatiquement ajouté à l'entreprise avec le rôle attribué";
// "Les invitations expirent après 7 jours".
func TestFlowAndExpiry(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		role, err := f.roster.CreateRole(f.ctx, f.admin, f.org.ID, "Commercial")
		require.NoError(t, err)
		inv, err := f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "Zoe.Lefevre@Example.com", RoleID: role.ID})
		require.NoError(t, err)
		assert.Equal(t, "zoe.lefevre@example.com", inv.Email)
		assert.True(t, inv.ExpiresAt.Equal(t0.Add(7*24*time.Hour)))
		assert.Empty(t, inv.TokenHash, "the hash does not leave the library")
		tok := f.sender.TokenFor(inv.Email)
		assert.NotContains(t, tok, f.org.ID)
		assert.NotContains(t, tok, inv.ID)

		// The roster shows it as pending.
		page, err := f.roster.List(f.ctx, f.admin, f.org.ID, roster.ListQuery{Statuses: []membership.Status{membership.StatusActive, membership.StatusPending}})
		require.NoError(t, err)
		require.Len(t, page.Pending, 1)
		assert.Equal(t, "En attente", page.Rows()[0].StatusLabel(membership.French))

		// 7 days minus a second: accepted, with the invited role.
		f.clock.Set(t0.Add(7*24*time.Hour - time.Second))
		m, err := f.inv.Accept(f.ctx, tok, details("Zoé", "Lefèvre"))
		require.NoError(t, err)
		assert.Equal(t, role.ID, m.RoleID)
		assert.Equal(t, "zoe.lefevre", m.Login)
		assert.Equal(t, membership.StatusActive, m.Status)
		_, err = f.roster.Authenticate(f.ctx, f.org.ID, "zoe.lefevre", "invitee-password")
		require.NoError(t, err)
		_, err = f.inv.Accept(f.ctx, tok, details("Zoé", "Lefèvre"))
		assert.ErrorIs(t, err, membership.ErrInvitationInvalid, "single use")

		// 7 days plus a second: expired.
		f.clock.Set(t0)
		_, tok2 := f.send("late@example.com")
		f.clock.Set(t0.Add(7*24*time.Hour + time.Second))
		_, err = f.inv.Accept(f.ctx, tok2, details("Late", "Comer"))
		assert.ErrorIs(t, err, membership.ErrInvitationExpired)
		assert.ErrorIs(t, err, membership.ErrInvitationInvalid)
		views, err := f.inv.List(f.ctx, f.admin, f.org.ID)
		require.NoError(t, err)
		require.Len(t, views, 1)
		assert.Equal(t, "expired", views[0].Status, "listed as expired so it can be resent")
		used, _, err := f.roster.Seats(f.ctx, f.admin, f.org.ID)
		require.NoError(t, err)
		assert.Equal(t, 2, used, "an expired invitation stops holding a seat")
		refused := 0
		for _, e := range f.events {
			if e.Type == membership.EventInvitationExpired {
				refused++
			}
		}
		assert.Equal(t, 1, refused, "the refused accept is recorded")

		// Resend: a new link that works.
		_, err = f.inv.Resend(f.ctx, f.admin, f.org.ID, views[0].ID)
		require.NoError(t, err)
		tok3 := f.sender.TokenFor("late@example.com")
		assert.NotEqual(t, tok2, tok3)
		_, err = f.inv.Accept(f.ctx, tok3, details("Late", "Comer"))
		require.NoError(t, err)
	})
}

// Conance: "Renvoyer : Envoyer à nouveau l'email" — the old link dies.
func TestResendKillsOldLink(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		inv, old := f.send("bob@example.com")
		f.clock.Advance(3 * 24 * time.Hour)
		re, err := f.inv.Resend(f.ctx, f.admin, f.org.ID, inv.ID)
		require.NoError(t, err)
		assert.Equal(t, 2, re.SendCount)
		assert.True(t, re.ExpiresAt.Equal(f.clock.Now().Add(7*24*time.Hour)), "a new expiry")
		fresh := f.sender.TokenFor("bob@example.com")
		require.NotEqual(t, old, fresh)
		_, err = f.inv.Accept(f.ctx, old, details("Bob", "Martin"))
		assert.ErrorIs(t, err, membership.ErrInvitationInvalid)
		_, err = f.inv.Accept(f.ctx, fresh, details("Bob", "Martin"))
		require.NoError(t, err)
		_, err = f.inv.Resend(f.ctx, f.admin, f.org.ID, inv.ID)
		assert.ErrorIs(t, err, membership.ErrNotPending)
	})
}

// Conance: "Annuler : Supprimer l'invitation". Wrong, tampered and
// canceled tokens all get the same error.
func TestCancelAndBadTokens(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		inv, tok := f.send("bob@example.com")
		require.NoError(t, f.inv.Cancel(f.ctx, f.admin, f.org.ID, inv.ID))
		assert.ErrorIs(t, f.inv.Cancel(f.ctx, f.admin, f.org.ID, inv.ID), membership.ErrNotPending)

		_, live := f.send("chloe@example.com")
		tampered := []byte(live)
		if tampered[5] == 'A' {
			tampered[5] = 'B'
		} else {
			tampered[5] = 'A'
		}
		bad := map[string]string{
			"canceled":  tok,
			"tampered":  string(tampered),
			"random":    strings.Repeat("x", invite.TokenLen),
			"short":     live[:20],
			"empty":     "",
			"not b64":   strings.Repeat("!", invite.TokenLen),
			"too long":  live + "A",
			"sql":       "' OR 1=1 --",
			"padded":    live[:42] + "=",
			"org in it": f.org.ID,
		}
		var msgs []string
		for name, b := range bad {
			_, err := f.inv.Accept(f.ctx, b, details("Mallory", "Evil"))
			require.ErrorIs(t, err, membership.ErrInvitationInvalid, name)
			assert.NotErrorIs(t, err, membership.ErrInvitationExpired, name)
			msgs = append(msgs, err.Error())
			_, err = f.inv.Lookup(f.ctx, b)
			require.ErrorIs(t, err, membership.ErrInvitationInvalid, name)
		}
		for _, m := range msgs {
			assert.Equal(t, msgs[0], m, "indistinguishable errors")
		}
		got, err := f.inv.Lookup(f.ctx, live)
		require.NoError(t, err)
		assert.Equal(t, "chloe@example.com", got.Email)
	})
}

func TestSendRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.FreePlan())
		b, err := f.roster.Add(f.ctx, f.admin, f.org.ID, roster.NewMember{FirstName: "Bob", LastName: "Martin", Email: "bob@example.com"})
		require.NoError(t, err)
		_, err = f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "BOB@example.com", RoleID: membership.RoleUser})
		assert.ErrorIs(t, err, membership.ErrAlreadyMember)
		f.send("chloe@example.com")
		_, err = f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "chloe@example.com", RoleID: membership.RoleUser})
		assert.ErrorIs(t, err, membership.ErrInvitationPending, "resend instead")
		_, err = f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "denis@example.com", RoleID: membership.RoleUser})
		assert.ErrorIs(t, err, membership.ErrMemberLimit, "admin + bob + chloe's invitation = 3 seats")
		_, err = f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "not an email", RoleID: membership.RoleUser})
		var ve *membership.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "email", ve.Field)
		_, err = f.inv.Send(f.ctx, membership.ActorMember(b.Member.ID), f.org.ID, invite.To{Email: "x@example.com", RoleID: membership.RoleUser})
		assert.ErrorIs(t, err, membership.ErrForbidden, "invitations.manage is required")
		_, err = f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "x@example.com", RoleID: "no-role"})
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "role", ve.Field)

		// After expiry a new invitation to the same email replaces the old.
		f.clock.Advance(8 * 24 * time.Hour)
		_, err = f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "chloe@example.com", RoleID: membership.RoleUser})
		require.NoError(t, err)
		views, err := f.inv.List(f.ctx, f.admin, f.org.ID)
		require.NoError(t, err)
		assert.Len(t, views, 1)

		_, err = invite.New(f.st, f.sender, &invite.Options{TTL: time.Minute})
		assert.ErrorIs(t, err, membership.ErrInvalid)
		_, err = invite.New(f.st, f.sender, &invite.Options{TTL: 31 * 24 * time.Hour})
		assert.ErrorIs(t, err, membership.ErrInvalid)
	})
}

func TestSenderFailureKeepsInvitation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		f.sender.Fail = errors.New("smtp: connection refused")
		inv, err := f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: "bob@example.com", RoleID: membership.RoleUser})
		require.ErrorIs(t, err, invite.ErrSendFailed)
		assert.Contains(t, err.Error(), "smtp: connection refused")
		require.NotEmpty(t, inv.ID, "the invitation is returned")
		views, err := f.inv.List(f.ctx, f.admin, f.org.ID)
		require.NoError(t, err)
		require.Len(t, views, 1, "and stays")
		f.sender.Fail = nil
		_, err = f.inv.Resend(f.ctx, f.admin, f.org.ID, inv.ID)
		require.NoError(t, err)
		_, err = f.inv.Accept(f.ctx, f.sender.TokenFor("bob@example.com"), details("Bob", "Martin"))
		require.NoError(t, err)
	})
}

// Conance: "Il peut être réinvité ultérieurement" — the same record comes back.
func TestAcceptRestoresRemovedMemberAndHostUsers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		b, err := f.roster.Add(f.ctx, f.admin, f.org.ID, roster.NewMember{FirstName: "Bob", LastName: "Martin", Email: "bob@example.com", Groups: []string{"Paris"}})
		require.NoError(t, err)
		_, err = f.roster.Remove(f.ctx, f.admin, f.org.ID, b.Member.ID)
		require.NoError(t, err)
		_, tok := f.send("bob@example.com")
		m, err := f.inv.Accept(f.ctx, tok, details("Bob", "Martin"))
		require.NoError(t, err)
		assert.Equal(t, b.Member.ID, m.ID, "the removed record is brought back")
		assert.Equal(t, "bob.martin", m.Login)
		assert.Equal(t, membership.StatusActive, m.Status)
		assert.Equal(t, []string{"Paris"}, m.Groups, "its data stayed")

		// A host that manages its own users accepts with a user ID.
		_, tok = f.send("carla@example.com")
		m, err = f.inv.Accept(f.ctx, tok, invite.Details{FirstName: "Carla", LastName: "Gomez", UserID: "host-user-7", Login: "cgomez"})
		require.NoError(t, err)
		assert.Equal(t, "host-user-7", m.UserID)
		assert.Equal(t, "cgomez", m.Login)
		_, err = f.roster.Authenticate(f.ctx, f.org.ID, "cgomez", "")
		assert.ErrorIs(t, err, membership.ErrInvalidCredentials, "no password: memberkit does not log them in")

		_, tok = f.send("dan@example.com")
		_, err = f.inv.Accept(f.ctx, tok, invite.Details{FirstName: "Dan", LastName: "X"})
		var ve *membership.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "password", ve.Field)
		_, err = f.inv.Accept(f.ctx, tok, invite.Details{FirstName: "Dan", LastName: "X", Password: "dan-password", Login: "cgomez"})
		assert.ErrorIs(t, err, membership.ErrDuplicate)
		_, err = f.inv.Accept(f.ctx, tok, invite.Details{FirstName: "Dan", LastName: "X", Password: "dan-password"})
		require.NoError(t, err, "a refused accept leaves the invitation usable")
	})
}

// Twenty goroutines accept the same token: exactly one member.
func TestConcurrentAcceptSameToken(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.PremiumPlan(0))
		_, tok := f.send("bob@example.com")
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.inv.Accept(f.ctx, tok, details("Bob", fmt.Sprintf("Martin%d", i)))
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					won++
				} else if !errors.Is(err, membership.ErrInvitationInvalid) {
					t.Errorf("unexpected: %v", err)
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, 1, won)
		n, err := f.roster.Count(f.ctx, f.admin, f.org.ID, store.MemberFilter{})
		require.NoError(t, err)
		assert.Equal(t, 2, n, "the admin and exactly one new member")
	})
}

// Concurrent sends and accepts on a 3-seat org never pass 3.
func TestConcurrentSendsAndAcceptsRespectSeats(t *testing.T) {
	testdb.Each(t, func(t *testing.T, newStore func(testing.TB) store.Store) {
		f := setup(t, newStore, membership.FreePlan())
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				email := fmt.Sprintf("p%02d@example.com", i)
				if _, err := f.inv.Send(f.ctx, f.admin, f.org.ID, invite.To{Email: email, RoleID: membership.RoleUser}); err != nil {
					if !errors.Is(err, membership.ErrMemberLimit) {
						t.Errorf("send: %v", err)
					}
					return
				}
				if tok := f.sender.TokenFor(email); tok != "" && i%2 == 0 {
					if _, err := f.inv.Accept(f.ctx, tok, details("P", fmt.Sprintf("N%d", i))); err != nil {
						t.Errorf("accept: %v", err)
					}
				}
			}()
		}
		wg.Wait()
		used, limit, err := f.roster.Seats(f.ctx, f.admin, f.org.ID)
		require.NoError(t, err)
		assert.LessOrEqual(t, used, limit)
		assert.Equal(t, 3, used, "the seats fill up exactly")
	})
}
