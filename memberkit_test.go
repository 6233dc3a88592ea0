package memberkit_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/memstore"
)

// countingHasher counts hashes, to show that every service uses the one
// hasher given.
type countingHasher struct {
	membership.Hasher
	n atomic.Int64
}

func (h *countingHasher) Hash(pw string) (membership.PasswordHash, error) {
	h.n.Add(1)
	return h.Hasher.Hash(pw)
}

// One New wires every service: the hook hears every service's changes
// (an import's deactivations included), the hasher is shared, the clock
// and the catalog are the same.
func TestNewWiresEveryServiceOnce(t *testing.T) {
	ctx := context.Background()
	var events []membership.Event
	h := &countingHasher{Hasher: membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1})}
	clock := membership.NewFakeClock(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
	cat, err := membership.NewCatalog([]membership.PermissionDef{{Name: "reports.view", French: "Voir les rapports", English: "View reports"}}, nil)
	require.NoError(t, err)
	sender := &invite.RecordingSender{}
	kit, err := memberkit.New(memstore.New(), &memberkit.Options{Clock: clock, Hasher: h, Sender: sender, Catalog: cat,
		AfterCommit: func(_ context.Context, evs []membership.Event) { events = append(events, evs...) }})
	require.NoError(t, err)

	sys := membership.SystemActor("signup")
	org, err := kit.Members.CreateOrg(ctx, roster.NewOrg{Name: "Conance", Plan: membership.PremiumPlan(0), Features: []membership.Feature{membership.FeatureCSV}})
	require.NoError(t, err)
	alice, err := kit.Members.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Alice", LastName: "Admin", RoleID: membership.RoleAdmin, Password: "alice-password"})
	require.NoError(t, err)
	admin := membership.ActorMember(alice.Member.ID)
	_, err = kit.Members.Add(ctx, admin, org.ID, roster.NewMember{FirstName: "Bob", LastName: "Martin", Password: "bob-password"})
	require.NoError(t, err)
	_, err = kit.Invitations.Send(ctx, admin, org.ID, invite.To{Email: "zoe@example.com"})
	require.NoError(t, err)
	assert.Len(t, sender.All(), 1, "the sender given is the one used")

	file, err := kit.CSV.Parse(ctx, admin, org.ID, strings.NewReader("Nom;Prénom;Etat\nAdmin;Alice;actif\nMartin;Bob;inactif\n"))
	require.NoError(t, err)
	p, err := kit.CSV.Plan(ctx, admin, org.ID, file, nil)
	require.NoError(t, err)
	_, err = kit.CSV.Apply(ctx, admin, org.ID, p, nil)
	require.NoError(t, err)

	var types []membership.EventType
	for _, e := range events {
		types = append(types, e.Type)
		assert.True(t, e.At.Equal(store.Time(clock.Now())), "one clock")
	}
	assert.Contains(t, types, membership.EventInvitationSent)
	assert.Contains(t, types, membership.EventMemberDeactivated, "the hook hears the import's deactivation")
	assert.Equal(t, int64(2), h.n.Load(), "one hasher: the two passwords given")
	ok, err := kit.Members.Can(ctx, org.ID, admin, "reports.view")
	require.NoError(t, err)
	assert.True(t, ok, "one catalog")
	assert.Same(t, cat, kit.Catalog)

	_, err = memberkit.New(nil, nil)
	assert.Error(t, err)
	bare, err := memberkit.New(memstore.New(), nil)
	require.NoError(t, err)
	_, err = bare.Invitations.Send(ctx, sys, org.ID, invite.To{Email: "x@example.com"})
	assert.True(t, errors.Is(err, invite.ErrNoSender), "no sender: a clear error, nothing written")
}
