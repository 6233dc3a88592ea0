package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Throttle records: stored under their key, independent of any org,
// zero records deleted, fn's error stores nothing.
func testAttempts(t *testing.T, s store.Store) {
	ctx := context.Background()
	k1, k2 := membership.ThrottleKey("login", "no-such-org", "jean"), membership.ThrottleKey("client", "203.0.113.7")
	a, err := s.Attempts(ctx, k1)
	require.NoError(t, err)
	assert.True(t, a.IsZero(), "no record reads as the zero record")

	want := membership.Attempts{Failures: 3, LastFailure: t0.Add(time.Minute), LockedUntil: t0.Add(time.Hour)}
	require.NoError(t, s.UpdateAttempts(ctx, k1, func(a *membership.Attempts) error {
		assert.True(t, a.IsZero())
		*a = want
		return nil
	}))
	got, err := s.Attempts(ctx, k1)
	require.NoError(t, err)
	assert.Equal(t, want.Failures, got.Failures)
	assert.True(t, want.LastFailure.Equal(got.LastFailure), "LastFailure: %v", got.LastFailure)
	assert.True(t, want.LockedUntil.Equal(got.LockedUntil), "LockedUntil: %v", got.LockedUntil)
	other, err := s.Attempts(ctx, k2)
	require.NoError(t, err)
	assert.True(t, other.IsZero(), "keys are independent")

	boom := errors.New("boom")
	err = s.UpdateAttempts(ctx, k1, func(a *membership.Attempts) error {
		a.Failures = 99
		return boom
	})
	assert.ErrorIs(t, err, boom, "fn's error is returned as it is")
	got, _ = s.Attempts(ctx, k1)
	assert.Equal(t, 3, got.Failures, "fn's error stores nothing")

	require.NoError(t, s.UpdateAttempts(ctx, k1, func(a *membership.Attempts) error {
		assert.Equal(t, 3, a.Failures, "fn sees the stored record")
		*a = membership.Attempts{}
		return nil
	}))
	got, err = s.Attempts(ctx, k1)
	require.NoError(t, err)
	assert.True(t, got.IsZero(), "a zero record is deleted")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, s.UpdateAttempts(cctx, k1, func(*membership.Attempts) error { return nil }), context.Canceled)
}

// Failures counted from many goroutines at once are all counted: the
// throttle cannot be outrun by a burst.
func testAttemptsConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	key := membership.ThrottleKey("login", "org", "target")
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.UpdateAttempts(ctx, key, func(a *membership.Attempts) error {
				a.Failures++
				a.LastFailure = t0
				return nil
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := s.Attempts(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, n, got.Failures)
}

// The optional session fast path, where the store offers it, reads what
// the member holds, and nothing of another org.
func testSessionState(t *testing.T, s store.Store) {
	r, ok := s.(store.SessionReader)
	if !ok {
		t.Skip("the store does not implement store.SessionReader; services read the member in a View instead")
	}
	ctx := context.Background()
	o, other := newOrg(t, s, "Acme"), newOrg(t, s, "Other")
	m := member(o.ID, "Jean", "Dupont")
	m.MustChangePassword = true
	m = insert(t, s, o.ID, m)[0]
	st, err := r.SessionState(ctx, o.ID, m.ID)
	require.NoError(t, err)
	assert.Equal(t, membership.SessionState{SecurityStamp: m.SecurityStamp, Status: membership.StatusActive, MustChangePassword: true}, st)

	m.Status, m.MustChangePassword, m.SecurityStamp = membership.StatusDeactivated, false, "rotated"
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.UpdateMembers(ctx, []membership.Member{m}) }))
	st, err = r.SessionState(ctx, o.ID, m.ID)
	require.NoError(t, err)
	assert.Equal(t, membership.SessionState{SecurityStamp: "rotated", Status: membership.StatusDeactivated}, st, "it reads the committed write")

	_, err = r.SessionState(ctx, other.ID, m.ID)
	assert.ErrorIs(t, err, store.ErrNotFound, "a member of another org is not found")
	_, err = r.SessionState(ctx, o.ID, membership.NewID())
	assert.ErrorIs(t, err, store.ErrNotFound)
}

// The optional purge drops old records only.
func testPurgeAttempts(t *testing.T, s store.Store) {
	p, ok := s.(store.AttemptPurger)
	if !ok {
		t.Skip("the store does not implement store.AttemptPurger")
	}
	ctx := context.Background()
	put := func(key string, a membership.Attempts) {
		require.NoError(t, s.UpdateAttempts(ctx, key, func(x *membership.Attempts) error { *x = a; return nil }))
	}
	put("old", membership.Attempts{Failures: 2, LastFailure: t0.Add(-2 * time.Hour)})
	put("locked", membership.Attempts{Failures: 10, LastFailure: t0.Add(-2 * time.Hour), LockedUntil: t0.Add(time.Hour)})
	put("recent", membership.Attempts{Failures: 1, LastFailure: t0})
	n, err := p.PurgeAttempts(ctx, t0.Add(-time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	for key, gone := range map[string]bool{"old": true, "locked": false, "recent": false} {
		a, err := s.Attempts(ctx, key)
		require.NoError(t, err)
		assert.Equal(t, gone, a.IsZero(), key)
	}
}
