package storetest

import (
	"context"
	"fmt"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// RequiredOnly returns s with its optional fast paths hidden: the store
// shows only the methods of [store.Store] (no store.SessionReader, no
// AttemptPurger) and its transactions only those of [store.Tx] (no
// MemberCounter, InvitationCounter, SummaryReader, DetailReader,
// MemberPatcher). Run a host's own service tests on it to prove the
// fallbacks of store/optional.go on the store's required methods; [Run]
// does so for the behaviours that use a fast path.
func RequiredOnly(s store.Store) store.Store { return plainStore{s} }

// plainStore is the store RequiredOnly returns.
type plainStore struct{ store.Store }

// plainTx is a Tx with only the required methods.
type plainTx struct{ store.Tx }

func (s plainStore) Update(ctx context.Context, orgID string, fn func(tx store.Tx) error) error {
	return s.Store.Update(ctx, orgID, func(tx store.Tx) error { return fn(plainTx{tx}) })
}

func (s plainStore) View(ctx context.Context, orgID string, fn func(tx store.Tx) error) error {
	return s.Store.View(ctx, orgID, func(tx store.Tx) error { return fn(plainTx{tx}) })
}

// counts recounts what the seat and last-admin rules need, with the
// store's own reads: active members and admins from the roster, open
// invitations through the optional counter or its fallback.
func counts(ctx context.Context, tx store.Tx, now time.Time) (membership.Counts, error) {
	var c membership.Counts
	var err error
	if c.ActiveMembers, err = store.CountMembers(ctx, tx, store.MemberFilter{Statuses: []membership.Status{membership.StatusActive}}); err != nil {
		return c, err
	}
	if c.ActiveAdmins, err = store.CountMembers(ctx, tx, store.MemberFilter{Statuses: []membership.Status{membership.StatusActive}, RoleID: membership.RoleAdmin}); err != nil {
		return c, err
	}
	c.PendingInvitations, err = store.CountOpenInvitations(ctx, tx, now)
	return c, err
}

// role finds a custom role of the org in tx.Roles, or store.ErrNotFound.
func role(ctx context.Context, tx store.Tx, id string) (membership.Role, error) {
	roles, err := tx.Roles(ctx)
	if err != nil {
		return membership.Role{}, err
	}
	for _, r := range roles {
		if r.ID == id {
			return r, nil
		}
	}
	return membership.Role{}, fmt.Errorf("role %q: %w", id, store.ErrNotFound)
}
