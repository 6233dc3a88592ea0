// Package faultstore wraps a store.Store to inject failures: the k-th call
// to any Store or Tx method fails with an *InjectedError, or cancels the
// context. Tests use it to prove that an operation interrupted anywhere
// leaves the store exactly as it was.
package faultstore

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// InjectedError is the failure injected at a call.
type InjectedError struct {
	Call   int    // 1-based index of the failing call
	Method string // e.g. "Tx.UpdateMembers"
}

func (e *InjectedError) Error() string {
	return fmt.Sprintf("faultstore: injected failure at call %d (%s)", e.Call, e.Method)
}

// Store counts calls and fails (or cancels) the configured one.
type Store struct {
	inner store.Store

	mu     sync.Mutex
	calls  int
	at     int
	cancel context.CancelFunc
	hook   func(method string)
	trace  []string
}

var _ store.Store = (*Store)(nil)

// New wraps inner; it injects nothing until FailAt or CancelAt.
func New(inner store.Store) *Store { return &Store{inner: inner} }

// FailAt makes the k-th call from now fail (k ≥ 1); 0 disarms.
func (s *Store) FailAt(k int) {
	s.mu.Lock()
	s.calls, s.at, s.cancel, s.trace, s.hook = 0, k, nil, nil, nil
	s.mu.Unlock()
}

// CancelAt makes the k-th call from now cancel the context with cancel,
// then proceed.
func (s *Store) CancelAt(k int, cancel context.CancelFunc) {
	s.mu.Lock()
	s.calls, s.at, s.cancel, s.trace = 0, k, cancel, nil
	s.mu.Unlock()
}

// HookAt makes the k-th call from now whose method is method (any
// method when "") run hook first, then proceed: to break the database's
// connection at a chosen point of a transaction, say.
func (s *Store) HookAt(k int, method string, hook func(method string)) {
	s.mu.Lock()
	s.calls, s.at, s.cancel, s.trace = 0, 0, nil, nil
	n := 0
	s.hook = func(m string) {
		if method != "" && m != method {
			return
		}
		if n++; n == k {
			hook(m)
		}
	}
	s.mu.Unlock()
}

// Calls returns the calls counted since the last FailAt or CancelAt.
func (s *Store) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Trace returns the methods called since the last FailAt or CancelAt.
func (s *Store) Trace() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.trace...)
}

func (s *Store) hit(method string) error {
	s.mu.Lock()
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		hook(method)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.trace = append(s.trace, method)
	if s.at == 0 || s.calls != s.at {
		return nil
	}
	if s.cancel != nil {
		s.cancel()
		return nil
	}
	return &InjectedError{Call: s.calls, Method: method}
}

// CreateOrg implements store.Store.
func (s *Store) CreateOrg(ctx context.Context, org membership.Org) error {
	if err := s.hit("Store.CreateOrg"); err != nil {
		return err
	}
	return s.inner.CreateOrg(ctx, org)
}

// Org implements store.Store.
func (s *Store) Org(ctx context.Context, orgID string) (membership.Org, error) {
	if err := s.hit("Store.Org"); err != nil {
		return membership.Org{}, err
	}
	return s.inner.Org(ctx, orgID)
}

// Update implements store.Store.
func (s *Store) Update(ctx context.Context, orgID string, fn func(tx store.Tx) error) error {
	if err := s.hit("Store.Update"); err != nil {
		return err
	}
	return s.inner.Update(ctx, orgID, func(tx store.Tx) error { return fn(&faultTx{s: s, tx: tx}) })
}

// View implements store.Store.
func (s *Store) View(ctx context.Context, orgID string, fn func(tx store.Tx) error) error {
	if err := s.hit("Store.View"); err != nil {
		return err
	}
	return s.inner.View(ctx, orgID, func(tx store.Tx) error { return fn(&faultTx{s: s, tx: tx}) })
}

// InvitationByTokenHash implements store.Store.
func (s *Store) InvitationByTokenHash(ctx context.Context, h []byte) (membership.Invitation, error) {
	if err := s.hit("Store.InvitationByTokenHash"); err != nil {
		return membership.Invitation{}, err
	}
	return s.inner.InvitationByTokenHash(ctx, h)
}

// Attempts implements store.Store.
func (s *Store) Attempts(ctx context.Context, key string) (membership.Attempts, error) {
	if err := s.hit("Store.Attempts"); err != nil {
		return membership.Attempts{}, err
	}
	return s.inner.Attempts(ctx, key)
}

// UpdateAttempts implements store.Store.
func (s *Store) UpdateAttempts(ctx context.Context, key string, fn func(a *membership.Attempts) error) error {
	if err := s.hit("Store.UpdateAttempts"); err != nil {
		return err
	}
	return s.inner.UpdateAttempts(ctx, key, fn)
}

type faultTx struct {
	s  *Store
	tx store.Tx
}

func (t *faultTx) OrgID() string { return t.tx.OrgID() }

func (t *faultTx) Org(ctx context.Context) (membership.Org, error) {
	if err := t.s.hit("Tx.Org"); err != nil {
		return membership.Org{}, err
	}
	return t.tx.Org(ctx)
}

func (t *faultTx) PutOrg(ctx context.Context, org membership.Org) error {
	if err := t.s.hit("Tx.PutOrg"); err != nil {
		return err
	}
	return t.tx.PutOrg(ctx, org)
}

func (t *faultTx) Member(ctx context.Context, id string) (membership.Member, error) {
	if err := t.s.hit("Tx.Member"); err != nil {
		return membership.Member{}, err
	}
	return t.tx.Member(ctx, id)
}

func (t *faultTx) MemberByLogin(ctx context.Context, login string) (membership.Member, error) {
	if err := t.s.hit("Tx.MemberByLogin"); err != nil {
		return membership.Member{}, err
	}
	return t.tx.MemberByLogin(ctx, login)
}

func (t *faultTx) MemberByEmail(ctx context.Context, email string) (membership.Member, error) {
	if err := t.s.hit("Tx.MemberByEmail"); err != nil {
		return membership.Member{}, err
	}
	return t.tx.MemberByEmail(ctx, email)
}

func seq[T any](s *Store, method string, inner iter.Seq2[T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		if err := s.hit(method); err != nil {
			var zero T
			yield(zero, err)
			return
		}
		for v, err := range inner {
			if !yield(v, err) {
				return
			}
		}
	}
}

func (t *faultTx) Members(ctx context.Context, q store.MemberQuery) iter.Seq2[membership.Member, error] {
	return seq(t.s, "Tx.Members", t.tx.Members(ctx, q))
}

// The optional fast paths are counted and forwarded to the inner Tx
// through the services' helpers, which take the inner store's fast path
// when it has one.

func (t *faultTx) CountMembers(ctx context.Context, f store.MemberFilter) (int, error) {
	if err := t.s.hit("Tx.CountMembers"); err != nil {
		return 0, err
	}
	return store.CountMembers(ctx, t.tx, f)
}

func (t *faultTx) CountOpenInvitations(ctx context.Context, now time.Time) (int, error) {
	if err := t.s.hit("Tx.CountOpenInvitations"); err != nil {
		return 0, err
	}
	return store.CountOpenInvitations(ctx, t.tx, now)
}

func (t *faultTx) InsertMembers(ctx context.Context, ms []membership.Member) error {
	if err := t.s.hit("Tx.InsertMembers"); err != nil {
		return err
	}
	return t.tx.InsertMembers(ctx, ms)
}

func (t *faultTx) UpdateMembers(ctx context.Context, ms []membership.Member) error {
	if err := t.s.hit("Tx.UpdateMembers"); err != nil {
		return err
	}
	return t.tx.UpdateMembers(ctx, ms)
}

func (t *faultTx) MemberSummaries(ctx context.Context) iter.Seq2[store.MemberSummary, error] {
	return seq(t.s, "Tx.MemberSummaries", store.Summaries(ctx, t.tx))
}

func (t *faultTx) MemberDetails(ctx context.Context) iter.Seq2[store.MemberDetail, error] {
	return seq(t.s, "Tx.MemberDetails", store.Details(ctx, t.tx))
}

func (t *faultTx) PatchMembers(ctx context.Context, ps []store.MemberPatch) error {
	if err := t.s.hit("Tx.PatchMembers"); err != nil {
		return err
	}
	return store.Patch(ctx, t.tx, ps)
}

func (t *faultTx) Roles(ctx context.Context) ([]membership.Role, error) {
	if err := t.s.hit("Tx.Roles"); err != nil {
		return nil, err
	}
	return t.tx.Roles(ctx)
}

func (t *faultTx) PutRole(ctx context.Context, r membership.Role) error {
	if err := t.s.hit("Tx.PutRole"); err != nil {
		return err
	}
	return t.tx.PutRole(ctx, r)
}

func (t *faultTx) DeleteRole(ctx context.Context, id string) error {
	if err := t.s.hit("Tx.DeleteRole"); err != nil {
		return err
	}
	return t.tx.DeleteRole(ctx, id)
}

func (t *faultTx) Invitation(ctx context.Context, id string) (membership.Invitation, error) {
	if err := t.s.hit("Tx.Invitation"); err != nil {
		return membership.Invitation{}, err
	}
	return t.tx.Invitation(ctx, id)
}

func (t *faultTx) Invitations(ctx context.Context, q store.InvitationQuery) iter.Seq2[membership.Invitation, error] {
	return seq(t.s, "Tx.Invitations", t.tx.Invitations(ctx, q))
}

func (t *faultTx) InsertInvitation(ctx context.Context, inv membership.Invitation) error {
	if err := t.s.hit("Tx.InsertInvitation"); err != nil {
		return err
	}
	return t.tx.InsertInvitation(ctx, inv)
}

func (t *faultTx) UpdateInvitation(ctx context.Context, inv membership.Invitation) error {
	if err := t.s.hit("Tx.UpdateInvitation"); err != nil {
		return err
	}
	return t.tx.UpdateInvitation(ctx, inv)
}

func (t *faultTx) AppendEvents(ctx context.Context, evs []membership.Event) error {
	if err := t.s.hit("Tx.AppendEvents"); err != nil {
		return err
	}
	return t.tx.AppendEvents(ctx, evs)
}

func (t *faultTx) Events(ctx context.Context, q store.EventQuery) iter.Seq2[membership.Event, error] {
	return seq(t.s, "Tx.Events", t.tx.Events(ctx, q))
}
