package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

func testOrgRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := membership.Org{ID: membership.NewID(), Name: "Société Générale d'Exemple", Plan: membership.PremiumPlan(250),
		Features: []membership.Feature{membership.FeatureCSV, "sso"}, CreatedAt: t0, UpdatedAt: t0,
		ActiveMembers: 3, ActiveAdmins: 1, RosterVersion: 5, InviteVerifiedDomainsOnly: true}
	require.NoError(t, s.CreateOrg(ctx, o))
	got, err := s.Org(ctx, o.ID)
	require.NoError(t, err)
	assert.Equal(t, o.ID, got.ID)
	assert.Equal(t, []int{3, 1}, []int{got.ActiveMembers, got.ActiveAdmins}, "the counters are stored as given")
	assert.Equal(t, int64(5), got.RosterVersion)
	assert.True(t, got.InviteVerifiedDomainsOnly)
	assert.Equal(t, o.Name, got.Name)
	assert.Equal(t, o.Plan, got.Plan)
	assert.Equal(t, []membership.Feature{membership.FeatureCSV, "sso"}, got.Features)
	assert.True(t, got.Has(membership.FeatureCSV))
	assert.True(t, store.Time(t0).Equal(got.CreatedAt))
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		assert.Equal(t, o.ID, tx.OrgID())
		in, err := tx.Org(ctx)
		require.NoError(t, err)
		assert.Equal(t, o.Plan, in.Plan)
		assert.Equal(t, []int{3, 1}, []int{in.ActiveMembers, in.ActiveAdmins})
		return nil
	}))
}

func testOrgDuplicate(t *testing.T, s store.Store) {
	o := newOrg(t, s, "Acme")
	requireDuplicate(t, s.CreateOrg(context.Background(), o), "org")
}

func testOrgNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	newOrg(t, s, "Acme")
	_, err := s.Org(ctx, "no-such-org")
	assert.ErrorIs(t, err, store.ErrNotFound)
	called := false
	err = s.Update(ctx, "no-such-org", func(tx store.Tx) error { called = true; return nil })
	assert.ErrorIs(t, err, store.ErrNotFound)
	err = s.View(ctx, "no-such-org", func(tx store.Tx) error { called = true; return nil })
	assert.ErrorIs(t, err, store.ErrNotFound)
	assert.False(t, called, "fn must not run for an unknown org")
}

func testPutOrg(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error {
		org, err := tx.Org(ctx)
		if err != nil {
			return err
		}
		org.Name = "Acme SAS"
		org.Plan = membership.PremiumPlan(0)
		org.Features = nil
		org.RosterVersion = 42
		org.UpdatedAt = t0.Add(1e9)
		return tx.PutOrg(ctx, org)
	}))
	got, err := s.Org(ctx, o.ID)
	require.NoError(t, err)
	assert.Equal(t, "Acme SAS", got.Name)
	assert.True(t, got.Plan.Unlimited())
	assert.False(t, got.Has(membership.FeatureCSV))
	assert.Equal(t, int64(42), got.RosterVersion, "the roster version round-trips")
	assert.True(t, store.Time(t0).Equal(got.CreatedAt), "CreatedAt is kept")
}
