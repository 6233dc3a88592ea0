package faultstore

import (
	"context"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Memberships implements store.Store.
func (s *Store) Memberships(ctx context.Context, userID string) ([]store.Membership, error) {
	if err := s.hit("Store.Memberships"); err != nil {
		return nil, err
	}
	return s.inner.Memberships(ctx, userID)
}

// DomainOwner implements store.Store.
func (s *Store) DomainOwner(ctx context.Context, name string) (membership.Domain, error) {
	if err := s.hit("Store.DomainOwner"); err != nil {
		return membership.Domain{}, err
	}
	return s.inner.DomainOwner(ctx, name)
}

func (t *faultTx) MemberByUserID(ctx context.Context, userID string) (membership.Member, error) {
	if err := t.s.hit("Tx.MemberByUserID"); err != nil {
		return membership.Member{}, err
	}
	return t.tx.MemberByUserID(ctx, userID)
}

func (t *faultTx) Domains(ctx context.Context) ([]membership.Domain, error) {
	if err := t.s.hit("Tx.Domains"); err != nil {
		return nil, err
	}
	return t.tx.Domains(ctx)
}

func (t *faultTx) PutDomain(ctx context.Context, d membership.Domain) error {
	if err := t.s.hit("Tx.PutDomain"); err != nil {
		return err
	}
	return t.tx.PutDomain(ctx, d)
}

func (t *faultTx) DeleteDomain(ctx context.Context, name string) error {
	if err := t.s.hit("Tx.DeleteDomain"); err != nil {
		return err
	}
	return t.tx.DeleteDomain(ctx, name)
}
