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

func directoryOf(t *testing.T, s store.Store) store.Directory {
	d, ok := store.DirectoryOf(s)
	if !ok {
		t.Skip("the store does not implement store.Directory; package directory (SCIM) cannot use it")
	}
	return d
}

func dirTx(t *testing.T, tx store.Tx) store.DirectoryTx {
	d, ok := tx.(store.DirectoryTx)
	require.True(t, ok, "a store with store.Directory must give a Tx with store.DirectoryTx")
	return d
}

// testDirectoryTokens: tokens round-trip, are found across orgs by hash,
// keep a unique hash, and their last use only moves forward, also when a
// transaction that read the token earlier writes it back.
func testDirectoryTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	dir := directoryOf(t, s)
	a, b := newOrg(t, s, "A"), newOrg(t, s, "B")
	secret := membership.NewDirectorySecret()
	tok := membership.DirectoryToken{ID: membership.NewID(), Name: "Okta", Hash: membership.HashDirectorySecret(secret), Hint: secret[:8],
		CreatedBy: "system:test", CreatedAt: t0}
	require.NoError(t, s.Update(ctx, a.ID, func(tx store.Tx) error { return dirTx(t, tx).PutDirectoryToken(ctx, tok) }))

	got, err := dir.DirectoryTokenByHash(ctx, membership.HashDirectorySecret(secret))
	require.NoError(t, err)
	assert.Equal(t, a.ID, got.OrgID)
	assert.Equal(t, tok.ID, got.ID)
	assert.Equal(t, "Okta", got.Name)
	assert.Equal(t, tok.Hash, got.Hash)
	assert.Equal(t, secret[:8], got.Hint)
	assert.True(t, got.CreatedAt.Equal(t0))
	assert.True(t, got.LastUsedAt.IsZero())
	assert.False(t, got.Revoked())

	_, err = dir.DirectoryTokenByHash(ctx, membership.HashDirectorySecret("mkd_other"))
	assert.ErrorIs(t, err, store.ErrNotFound)

	// The same hash in another org is refused.
	dup := tok
	dup.ID = membership.NewID()
	err = s.Update(ctx, b.ID, func(tx store.Tx) error { return dirTx(t, tx).PutDirectoryToken(ctx, dup) })
	var de *membership.DuplicateError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "token", de.Key)

	// Touch moves the last use forward only.
	later := t0.Add(time.Hour)
	require.NoError(t, dir.TouchDirectoryToken(ctx, a.ID, tok.ID, later))
	require.NoError(t, dir.TouchDirectoryToken(ctx, a.ID, tok.ID, t0.Add(time.Minute)))
	got, err = dir.DirectoryTokenByHash(ctx, tok.Hash)
	require.NoError(t, err)
	assert.True(t, got.LastUsedAt.Equal(later), "last use %v", got.LastUsedAt)
	assert.ErrorIs(t, dir.TouchDirectoryToken(ctx, b.ID, tok.ID, later), store.ErrNotFound, "a token is touched in its own org only")

	// Revoking writes the token back with what it read before a touch: the
	// touch stays.
	stale := tok
	stale.RevokedAt = t0.Add(2 * time.Hour)
	require.NoError(t, s.Update(ctx, a.ID, func(tx store.Tx) error { return dirTx(t, tx).PutDirectoryToken(ctx, stale) }))
	require.NoError(t, s.View(ctx, a.ID, func(tx store.Tx) error {
		ts, err := dirTx(t, tx).DirectoryTokens(ctx)
		require.NoError(t, err)
		require.Len(t, ts, 1)
		assert.True(t, ts[0].Revoked())
		assert.True(t, ts[0].LastUsedAt.Equal(later), "last use %v", ts[0].LastUsedAt)
		return nil
	}))
	require.NoError(t, s.View(ctx, b.ID, func(tx store.Tx) error {
		ts, err := dirTx(t, tx).DirectoryTokens(ctx)
		require.NoError(t, err)
		assert.Empty(t, ts, "tokens are the org's own")
		return nil
	}))

	// A rolled-back transaction leaves no token to find.
	other := membership.NewDirectorySecret()
	err = s.Update(ctx, b.ID, func(tx store.Tx) error {
		require.NoError(t, dirTx(t, tx).PutDirectoryToken(ctx, membership.DirectoryToken{ID: membership.NewID(), Name: "x", Hash: membership.HashDirectorySecret(other), CreatedAt: t0}))
		return errors.New("rolled back")
	})
	require.Error(t, err)
	_, err = dir.DirectoryTokenByHash(ctx, membership.HashDirectorySecret(other))
	assert.ErrorIs(t, err, store.ErrNotFound)
}

// testDirectoryGroups: groups round-trip, are unique by name without
// regard to case within an org (not across orgs), and delete.
func testDirectoryGroups(t *testing.T, s store.Store) {
	ctx := context.Background()
	directoryOf(t, s)
	a, b := newOrg(t, s, "A"), newOrg(t, s, "B")
	g := membership.Group{ID: membership.NewID(), Name: "Ventes", ExternalID: "ext-1", CreatedAt: t0, UpdatedAt: t0, Version: 1}
	require.NoError(t, s.Update(ctx, a.ID, func(tx store.Tx) error { return dirTx(t, tx).PutGroup(ctx, g) }))
	require.NoError(t, s.Update(ctx, b.ID, func(tx store.Tx) error {
		return dirTx(t, tx).PutGroup(ctx, membership.Group{ID: membership.NewID(), Name: "VENTES", CreatedAt: t0, UpdatedAt: t0, Version: 1})
	}), "another org may have a group of the same name")

	err := s.Update(ctx, a.ID, func(tx store.Tx) error {
		return dirTx(t, tx).PutGroup(ctx, membership.Group{ID: membership.NewID(), Name: "VENTES", CreatedAt: t0, UpdatedAt: t0, Version: 1})
	})
	var de *membership.DuplicateError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "group", de.Key)

	g.Name, g.ExternalID, g.UpdatedAt, g.Version = "Ventes France", "ext-2", t0.Add(time.Minute), 2
	require.NoError(t, s.Update(ctx, a.ID, func(tx store.Tx) error { return dirTx(t, tx).PutGroup(ctx, g) }))
	require.NoError(t, s.View(ctx, a.ID, func(tx store.Tx) error {
		gs, err := dirTx(t, tx).Groups(ctx)
		require.NoError(t, err)
		require.Len(t, gs, 1)
		assert.Equal(t, a.ID, gs[0].OrgID)
		assert.Equal(t, "Ventes France", gs[0].Name)
		assert.Equal(t, "ext-2", gs[0].ExternalID)
		assert.EqualValues(t, 2, gs[0].Version)
		assert.True(t, gs[0].CreatedAt.Equal(t0))
		assert.True(t, gs[0].UpdatedAt.Equal(t0.Add(time.Minute)))
		return nil
	}))

	require.NoError(t, s.Update(ctx, a.ID, func(tx store.Tx) error {
		if err := dirTx(t, tx).DeleteGroup(ctx, g.ID); err != nil {
			return err
		}
		gs, err := dirTx(t, tx).Groups(ctx)
		require.NoError(t, err)
		assert.Empty(t, gs, "a deleted group is gone within its transaction")
		// Its name is free again.
		return dirTx(t, tx).PutGroup(ctx, membership.Group{ID: membership.NewID(), Name: "ventes france", CreatedAt: t0, UpdatedAt: t0, Version: 1})
	}))
	err = s.Update(ctx, a.ID, func(tx store.Tx) error { return dirTx(t, tx).DeleteGroup(ctx, g.ID) })
	assert.ErrorIs(t, err, store.ErrNotFound)
}

// testDirectoryTouchDuringUpdate: a token's last use is recorded while an
// Update of its org reads and writes tokens (what a provider's requests do
// while an admin revokes a token); run under -race, it proves they share
// no unguarded state.
func testDirectoryTouchDuringUpdate(t *testing.T, s store.Store) {
	ctx := context.Background()
	dir := directoryOf(t, s)
	o := newOrg(t, s, "A")
	tok := membership.DirectoryToken{ID: membership.NewID(), Name: "Okta", Hash: membership.HashDirectorySecret(membership.NewDirectorySecret()), CreatedAt: t0}
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return dirTx(t, tx).PutDirectoryToken(ctx, tok) }))
	done, stop := make(chan struct{}), make(chan struct{})
	var last time.Time
	go func() {
		defer close(done)
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			last = t0.Add(time.Duration(i) * time.Second)
			assert.NoError(t, dir.TouchDirectoryToken(ctx, o.ID, tok.ID, last))
			_, _ = dir.DirectoryTokenByHash(ctx, tok.Hash)
		}
	}()
	for range 200 {
		require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error {
			ts, err := dirTx(t, tx).DirectoryTokens(ctx)
			if err != nil {
				return err
			}
			return dirTx(t, tx).PutDirectoryToken(ctx, ts[0])
		}))
	}
	close(stop)
	<-done
	got, err := dir.DirectoryTokenByHash(ctx, tok.Hash)
	require.NoError(t, err)
	assert.True(t, got.LastUsedAt.Equal(last), "the last touch is kept: %v, not %v", got.LastUsedAt, last)
}
