package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

func testRollback(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	existing := insert(t, s, o.ID, member(o.ID, "Jean", "Dupont"))[0]
	inv := invitation(o.ID, "keep@example.com")
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.InsertInvitation(ctx, inv) }))

	boom := errFn("boom")
	err := s.Update(ctx, o.ID, func(tx store.Tx) error {
		var batch []membership.Member
		for i := range 300 {
			batch = append(batch, member(o.ID, "Roll", fmt.Sprintf("Back%03d", i)))
		}
		require.NoError(t, tx.InsertMembers(ctx, batch))
		e := existing
		e.Status = membership.StatusRemoved
		e.Login = "renamed"
		require.NoError(t, tx.UpdateMembers(ctx, []membership.Member{e}))
		require.NoError(t, tx.InsertInvitation(ctx, invitation(o.ID, "new@example.com")))
		i2 := inv
		i2.State = membership.InvitationCanceled
		i2.TokenHash = hash("other")
		require.NoError(t, tx.UpdateInvitation(ctx, i2))
		require.NoError(t, tx.PutRole(ctx, membership.Role{ID: "r1", Name: "Support"}))
		require.NoError(t, tx.AppendEvents(ctx, []membership.Event{{ID: membership.NewID(), Type: membership.EventMemberAdded, At: t0}}))
		org, _ := tx.Org(ctx)
		org.Name = "Changed"
		require.NoError(t, tx.PutOrg(ctx, org))
		return fmt.Errorf("wrapped: %w", boom)
	})
	require.ErrorIs(t, err, boom, "fn's error is returned as it is")

	ms := all(t, s, o.ID, store.MemberQuery{})
	require.Len(t, ms, 1)
	memberEqual(t, existing, ms[0])
	org, _ := s.Org(ctx, o.ID)
	assert.Equal(t, "Acme", org.Name)
	_, err = s.InvitationByTokenHash(ctx, hash("other"))
	assert.ErrorIs(t, err, store.ErrNotFound)
	got, err := s.InvitationByTokenHash(ctx, inv.TokenHash)
	require.NoError(t, err)
	assert.Equal(t, membership.InvitationPending, got.State)
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		invs, err := store.Collect(tx.Invitations(ctx, store.InvitationQuery{}))
		require.NoError(t, err)
		assert.Len(t, invs, 1)
		roles, err := tx.Roles(ctx)
		require.NoError(t, err)
		assert.Empty(t, roles)
		evs, err := store.Collect(tx.Events(ctx, store.EventQuery{}))
		require.NoError(t, err)
		assert.Empty(t, evs)
		c, err := counts(ctx, tx, t0)
		require.NoError(t, err)
		assert.Equal(t, membership.Counts{ActiveMembers: 1, PendingInvitations: 1}, c)
		return nil
	}))
}

func testRollbackAfterStoreError(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	insert(t, s, o.ID, member(o.ID, "Jean", "Dupont"))
	err := s.Update(ctx, o.ID, func(tx store.Tx) error {
		if err := tx.InsertMembers(ctx, []membership.Member{member(o.ID, "Paul", "Martin")}); err != nil {
			return err
		}
		return tx.InsertMembers(ctx, []membership.Member{member(o.ID, "Jean", "Dupont")})
	})
	requireDuplicate(t, err, "login")
	assert.Equal(t, []string{"jean.dupont"}, logins(all(t, s, o.ID, store.MemberQuery{})))
}

func testReadYourWrites(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error {
		m := member(o.ID, "Jean", "Dupont")
		m.Email = "jean@example.com"
		m.RoleID = membership.RoleAdmin
		require.NoError(t, tx.InsertMembers(ctx, []membership.Member{m}))
		got, err := tx.Member(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, int64(1), got.Version)
		_, err = tx.MemberByLogin(ctx, "jean.dupont")
		require.NoError(t, err)
		_, err = tx.MemberByEmail(ctx, "jean@example.com")
		require.NoError(t, err)
		ms, err := store.Collect(tx.Members(ctx, store.MemberQuery{}))
		require.NoError(t, err)
		assert.Len(t, ms, 1)
		c, err := counts(ctx, tx, t0)
		require.NoError(t, err)
		assert.Equal(t, 1, c.ActiveAdmins)
		got.Login = "jd"
		require.NoError(t, tx.UpdateMembers(ctx, []membership.Member{got}))
		_, err = tx.MemberByLogin(ctx, "jean.dupont")
		assert.ErrorIs(t, err, store.ErrNotFound, "the old login is free inside the transaction")
		ms, err = store.Collect(tx.Members(ctx, store.MemberQuery{}))
		require.NoError(t, err)
		assert.Equal(t, []string{"jd"}, logins(ms))
		return nil
	}))
}

func testTenantIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := newOrg(t, s, "A")
	b := newOrg(t, s, "B")
	ma := member(a.ID, "Jean", "Dupont")
	ma.Email = "jean@a.example"
	ma = insert(t, s, a.ID, ma)[0]
	ia := invitation(a.ID, "x@a.example")
	require.NoError(t, s.Update(ctx, a.ID, func(tx store.Tx) error {
		if err := tx.PutRole(ctx, membership.Role{ID: "ra", Name: "A role"}); err != nil {
			return err
		}
		if err := tx.AppendEvents(ctx, []membership.Event{{ID: membership.NewID(), SubjectID: ma.ID, Type: membership.EventMemberAdded, At: t0}}); err != nil {
			return err
		}
		return tx.InsertInvitation(ctx, ia)
	}))
	require.NoError(t, s.View(ctx, b.ID, func(tx store.Tx) error {
		_, err := tx.Member(ctx, ma.ID)
		assert.ErrorIs(t, err, store.ErrNotFound)
		_, err = tx.MemberByLogin(ctx, ma.Login)
		assert.ErrorIs(t, err, store.ErrNotFound)
		_, err = tx.MemberByEmail(ctx, ma.Email)
		assert.ErrorIs(t, err, store.ErrNotFound)
		ms, err := store.Collect(tx.Members(ctx, store.MemberQuery{MemberFilter: store.MemberFilter{IDs: []string{ma.ID}}}))
		require.NoError(t, err)
		assert.Empty(t, ms)
		n, err := store.CountMembers(ctx, tx, store.MemberFilter{})
		require.NoError(t, err)
		assert.Zero(t, n)
		_, err = tx.Invitation(ctx, ia.ID)
		assert.ErrorIs(t, err, store.ErrNotFound)
		_, err = role(ctx, tx, "ra")
		assert.ErrorIs(t, err, store.ErrNotFound)
		evs, err := store.Collect(tx.Events(ctx, store.EventQuery{}))
		require.NoError(t, err)
		assert.Empty(t, evs)
		c, err := counts(ctx, tx, t0)
		require.NoError(t, err)
		assert.Equal(t, membership.Counts{}, c)
		return nil
	}))
	err := s.Update(ctx, b.ID, func(tx store.Tx) error {
		m := ma
		m.OrgID = b.ID
		m.Status = membership.StatusRemoved
		return tx.UpdateMembers(ctx, []membership.Member{m})
	})
	assert.ErrorIs(t, err, store.ErrNotFound, "org B cannot write a member of org A")
	err = s.Update(ctx, b.ID, func(tx store.Tx) error {
		i := ia
		i.OrgID = b.ID
		i.State = membership.InvitationCanceled
		return tx.UpdateInvitation(ctx, i)
	})
	assert.ErrorIs(t, err, store.ErrNotFound, "org B cannot write an invitation of org A")
	err = s.Update(ctx, b.ID, func(tx store.Tx) error { return tx.DeleteRole(ctx, "ra") })
	assert.ErrorIs(t, err, store.ErrNotFound)
	got, err := get(t, s, a.ID, ma.ID)
	require.NoError(t, err)
	assert.Equal(t, membership.StatusActive, got.Status)
}

// testConcurrentIncrement: 50 goroutines each read a counter kept in a
// member's LastName and write it back plus one. Serialised Updates make
// the result exact.
func testConcurrentIncrement(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	m := member(o.ID, "Counter", "0")
	m.Login = "counter"
	insert(t, s, o.ID, m)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Update(ctx, o.ID, func(tx store.Tx) error {
				cur, err := tx.Member(ctx, m.ID)
				if err != nil {
					return err
				}
				v, err := strconv.Atoi(cur.LastName)
				if err != nil {
					return err
				}
				cur.LastName = strconv.Itoa(v + 1)
				return tx.UpdateMembers(ctx, []membership.Member{cur})
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
}

// testViewConsistency: writers move a member between two groups and flip
// two members' statuses together; readers must always see exactly one of
// the pair active.
func testViewConsistency(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	a := member(o.ID, "A", "A")
	b := member(o.ID, "B", "B")
	b.Status = membership.StatusDeactivated
	insert(t, s, o.ID, a, b)
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error {
		org, err := tx.Org(ctx)
		if err != nil {
			return err
		}
		org.ActiveMembers = 1
		return tx.PutOrg(ctx, org)
	}))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			err := s.Update(ctx, o.ID, func(tx store.Tx) error {
				ms, err := store.Collect(tx.Members(ctx, store.MemberQuery{}))
				if err != nil {
					return err
				}
				active := 0
				for i := range ms {
					if ms[i].Status == membership.StatusActive {
						ms[i].Status = membership.StatusDeactivated
					} else {
						ms[i].Status = membership.StatusActive
						active++
					}
					if err := tx.UpdateMembers(ctx, ms[i:i+1]); err != nil {
						return err
					}
				}
				// The org's counter moves in the same transaction.
				org, err := tx.Org(ctx)
				if err != nil {
					return err
				}
				org.ActiveMembers = active
				return tx.PutOrg(ctx, org)
			})
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	deadline := time.Now().Add(300 * time.Millisecond)
	views := 0
	for time.Now().Before(deadline) || views < 20 {
		err := s.View(ctx, o.ID, func(tx store.Tx) error {
			ms, err := store.Collect(tx.Members(ctx, store.MemberQuery{}))
			if err != nil {
				return err
			}
			active := 0
			for _, m := range ms {
				if m.Status == membership.StatusActive {
					active++
				}
			}
			org, err := tx.Org(ctx)
			if err != nil {
				return err
			}
			if active != 1 || org.ActiveMembers != 1 {
				return fmt.Errorf("view saw half an update: %d active listed, %d on the org", active, org.ActiveMembers)
			}
			return nil
		})
		require.NoError(t, err)
		views++
	}
	close(stop)
	wg.Wait()
}

func testWriteInView(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	err := s.View(ctx, o.ID, func(tx store.Tx) error {
		return tx.InsertMembers(ctx, []membership.Member{member(o.ID, "Jean", "Dupont")})
	})
	require.Error(t, err)
	assert.Empty(t, all(t, s, o.ID, store.MemberQuery{}))
}

func testCanceledContext(t *testing.T, s store.Store) {
	o := newOrg(t, s, "Acme")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	err := s.Update(ctx, o.ID, func(tx store.Tx) error { called = true; return nil })
	assert.ErrorIs(t, err, context.Canceled)
	err = s.View(ctx, o.ID, func(tx store.Tx) error { called = true; return nil })
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, called)
	_, err = s.Org(ctx, o.ID)
	assert.ErrorIs(t, err, context.Canceled)
	err = s.CreateOrg(ctx, membership.Org{ID: membership.NewID(), Name: "X"})
	assert.ErrorIs(t, err, context.Canceled)

	// Canceled in the middle of fn: the error surfaces and nothing commits.
	ctx2, cancel2 := context.WithCancel(context.Background())
	err = s.Update(ctx2, o.ID, func(tx store.Tx) error {
		if err := tx.InsertMembers(ctx2, []membership.Member{member(o.ID, "Jean", "Dupont")}); err != nil {
			return err
		}
		cancel2()
		_, err := tx.Member(ctx2, "x")
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, all(t, s, o.ID, store.MemberQuery{}))
}

func testLockWaitCanceled(t *testing.T, s store.Store) {
	o := newOrg(t, s, "Acme")
	holding := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(context.Background(), o.ID, func(tx store.Tx) error {
			if err := tx.InsertMembers(context.Background(), []membership.Member{member(o.ID, "Lock", "Holder")}); err != nil {
				return err
			}
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Update(ctx, o.ID, func(tx store.Tx) error { return nil })
	waited := time.Since(start)
	close(release)
	require.NoError(t, <-done)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, waited, 5*time.Second, "a waiting Update returns soon after its context ends")
}
