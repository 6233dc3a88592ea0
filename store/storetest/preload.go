package storetest

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// testPreload: an Update that preloads members behaves as Update does.
// Preloaded members read as a fresh read would, by ID and by user ID; a
// write of one is seen by every later read of the transaction (a lookup,
// a listing, a count) and by the next transaction; a stale write is a
// conflict at once; a change of unique key is checked at once; fn's
// error undoes it all; members and orgs that do not exist are not found.
func testPreload(t *testing.T, s store.Store) {
	pl, ok := s.(store.Preloader)
	if !ok {
		t.Skip("the store is not a store.Preloader")
	}
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	actor := member(o.ID, "Ada", "Admin")
	actor.RoleID, actor.UserID = membership.RoleAdmin, "user-ada"
	target := member(o.ID, "Jean", "Dupont")
	other := member(o.ID, "Zoe", "Autre")
	insert(t, s, o.ID, actor, target, other)
	actor.Version, target.Version, other.Version = 1, 1, 1
	pre := store.Preload{MemberIDs: []string{target.ID, "", "no-such-member"}, UserIDs: []string{"user-ada", "no-such-user"}}

	// Reads, and a write seen by what follows.
	err := pl.UpdatePreloaded(ctx, o.ID, pre, func(tx store.Tx) error {
		a, err := tx.MemberByUserID(ctx, "user-ada")
		require.NoError(t, err)
		memberEqual(t, actor, a)
		m, err := tx.Member(ctx, target.ID)
		require.NoError(t, err)
		memberEqual(t, target, m)
		m.FirstName = "Changed" // a copy: the next read must not see it
		again, err := tx.Member(ctx, target.ID)
		require.NoError(t, err)
		assert.Equal(t, "Jean", again.FirstName, "a read returns a copy")
		_, err = tx.Member(ctx, "no-such-member")
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = tx.MemberByUserID(ctx, "no-such-user")
		require.ErrorIs(t, err, store.ErrNotFound)

		stale := target
		stale.Version = 7
		require.ErrorIs(t, tx.UpdateMembers(ctx, []membership.Member{stale}), store.ErrConflict, "a stale version is a conflict at once")

		m.Status = membership.StatusDeactivated
		require.NoError(t, tx.UpdateMembers(ctx, []membership.Member{m}))
		after, err := tx.Member(ctx, target.ID)
		require.NoError(t, err)
		assert.Equal(t, int64(2), after.Version)
		assert.Equal(t, membership.StatusDeactivated, after.Status)
		n, err := store.CountMembers(ctx, tx, store.MemberFilter{Statuses: []membership.Status{membership.StatusActive}})
		require.NoError(t, err)
		assert.Equal(t, 2, n, "a count in the same transaction sees the write")
		listed, err := store.Collect(tx.Members(ctx, store.MemberQuery{MemberFilter: store.MemberFilter{Statuses: []membership.Status{membership.StatusDeactivated}}}))
		require.NoError(t, err)
		require.Len(t, listed, 1)
		assert.Equal(t, target.ID, listed[0].ID)

		taken := after
		taken.Login = other.Login
		err = tx.UpdateMembers(ctx, []membership.Member{taken})
		requireDuplicate(t, err, "login")
		return err
	})
	requireDuplicate(t, err, "login")
	got, err := get(t, s, o.ID, target.ID)
	require.NoError(t, err)
	assert.Equal(t, membership.StatusActive, got.Status, "nothing of a failed transaction stays")

	// A committed write with its event and org change.
	err = pl.UpdatePreloaded(ctx, o.ID, pre, func(tx store.Tx) error {
		m, err := tx.Member(ctx, target.ID)
		if err != nil {
			return err
		}
		m.Status = membership.StatusDeactivated
		if err := tx.UpdateMembers(ctx, []membership.Member{m}); err != nil {
			return err
		}
		if err := tx.AppendEvents(ctx, []membership.Event{{ID: membership.NewID(), Type: membership.EventMemberDeactivated, At: t0, SubjectID: m.ID}}); err != nil {
			return err
		}
		org, err := tx.Org(ctx)
		if err != nil {
			return err
		}
		org.ActiveMembers = 2
		return tx.PutOrg(ctx, org)
	})
	require.NoError(t, err)
	got, err = get(t, s, o.ID, target.ID)
	require.NoError(t, err)
	assert.Equal(t, membership.StatusDeactivated, got.Status)
	assert.Equal(t, int64(2), got.Version)
	org, err := s.Org(ctx, o.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, org.ActiveMembers)
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		evs, err := store.Collect(tx.Events(ctx, store.EventQuery{}))
		require.NoError(t, err)
		require.Len(t, evs, 1)
		assert.Equal(t, target.ID, evs[0].SubjectID)
		return nil
	}))

	// fn's error undoes a preloaded transaction's deferred writes.
	boom := errFn("boom")
	err = pl.UpdatePreloaded(ctx, o.ID, pre, func(tx store.Tx) error {
		m, _ := tx.Member(ctx, target.ID)
		m.Status = membership.StatusActive
		require.NoError(t, tx.UpdateMembers(ctx, []membership.Member{m}))
		require.NoError(t, tx.AppendEvents(ctx, []membership.Event{{ID: membership.NewID(), Type: membership.EventMemberActivated, At: t0}}))
		org, _ := tx.Org(ctx)
		org.Name = "Changed"
		require.NoError(t, tx.PutOrg(ctx, org))
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, _ = get(t, s, o.ID, target.ID)
	assert.Equal(t, membership.StatusDeactivated, got.Status)
	org, _ = s.Org(ctx, o.ID)
	assert.Equal(t, "Acme", org.Name)

	err = pl.UpdatePreloaded(ctx, "no-such-org", pre, func(tx store.Tx) error { return nil })
	require.ErrorIs(t, err, store.ErrNotFound)
}

// testPreloadConcurrentIncrements: preloaded members are read as the
// last transaction left them, however long an Update waited for the
// org's lock.
func testPreloadConcurrentIncrements(t *testing.T, s store.Store) {
	pl, ok := s.(store.Preloader)
	if !ok {
		t.Skip("the store is not a store.Preloader")
	}
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	m := member(o.ID, "Counter", "0")
	m.Login, m.UserID = "counter", "user-counter"
	insert(t, s, o.ID, m)
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pre := store.Preload{MemberIDs: []string{m.ID}}
			if i%2 == 1 {
				pre = store.Preload{UserIDs: []string{m.UserID}}
			}
			errs <- pl.UpdatePreloaded(ctx, o.ID, pre, func(tx store.Tx) error {
				cur, err := tx.Member(ctx, m.ID)
				if err != nil {
					return err
				}
				v, err := strconv.Atoi(cur.LastName)
				if err != nil {
					return err
				}
				cur.LastName = strconv.Itoa(v + 1)
				if err := tx.UpdateMembers(ctx, []membership.Member{cur}); err != nil {
					return err
				}
				return tx.AppendEvents(ctx, []membership.Event{{ID: membership.NewID(), Type: membership.EventMemberUpdated, At: t0, SubjectID: m.ID}})
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := get(t, s, o.ID, m.ID)
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(n), got.LastName)
	assert.Equal(t, int64(n+1), got.Version)
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		evs, err := store.Collect(tx.Events(ctx, store.EventQuery{}))
		require.NoError(t, err)
		assert.Len(t, evs, n)
		return nil
	}))
}
