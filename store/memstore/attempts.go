package memstore

import (
	"context"
	"fmt"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// SessionState returns what a session check needs of a member.
func (s *Store) SessionState(ctx context.Context, orgID, memberID string) (membership.SessionState, error) {
	if err := ctx.Err(); err != nil {
		return membership.SessionState{}, err
	}
	st, err := s.state(orgID)
	if err != nil {
		return membership.SessionState{}, err
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	slot, ok := st.ms.byID.find(memberID, st.ms.idKey)
	if !ok {
		return membership.SessionState{}, fmt.Errorf("member %q: %w", memberID, store.ErrNotFound)
	}
	r := st.ms.rec(slot)
	p := &st.ms.profiles[r.profile]
	return membership.SessionState{SecurityStamp: r.stamp, Status: p.status, MustChangePassword: p.mustChange}, nil
}

// Attempts returns the throttle record under key.
func (s *Store) Attempts(ctx context.Context, key string) (membership.Attempts, error) {
	if err := ctx.Err(); err != nil {
		return membership.Attempts{}, err
	}
	s.amu.Lock()
	defer s.amu.Unlock()
	return s.attempts[key], nil
}

// UpdateAttempts runs fn on the throttle record under key.
func (s *Store) UpdateAttempts(ctx context.Context, key string, fn func(a *membership.Attempts) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.amu.Lock()
	defer s.amu.Unlock()
	a := s.attempts[key]
	if err := fn(&a); err != nil {
		return err
	}
	a.LastFailure, a.LockedUntil = store.Time(a.LastFailure), store.Time(a.LockedUntil)
	if a.IsZero() {
		delete(s.attempts, key)
	} else {
		s.attempts[key] = a
	}
	return nil
}

// PurgeAttempts drops throttle records older than t.
func (s *Store) PurgeAttempts(ctx context.Context, t time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.amu.Lock()
	defer s.amu.Unlock()
	n := 0
	for k, a := range s.attempts {
		if a.LastFailure.Before(t) && !t.Before(a.LockedUntil) {
			delete(s.attempts, k)
			n++
		}
	}
	return n, nil
}
