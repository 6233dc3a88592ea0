package testdb

import (
	"context"
	"errors"
	"testing"

	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/memstore"
	"github.com/memberkit/memberkit/store/storetest"
)

// Variants lists the stores the service suites also run on, beside
// [Kinds]: stores showing only their required methods (so that the
// services are proven on the fallbacks of store/optional.go, as on a
// host's minimal store), and a store that runs each Update twice and
// throws the first run away, as a SQL store does after a serialization
// failure (so that no service keeps state from a rolled-back attempt).
// They are on the embedded stores only, to keep the suites fast.
func Variants() []Kind {
	return []Kind{
		{Name: "memstore-required-only", New: func(t testing.TB) store.Store { return storetest.RequiredOnly(memstore.New()) }},
		{Name: "sqlite-required-only", New: func(t testing.TB) store.Store { return storetest.RequiredOnly(SQLite(t)) }, SQL: true},
		{Name: "memstore-retried", New: func(t testing.TB) store.Store { return retried{memstore.New()} }},
	}
}

// retried runs every Update's fn twice: the first run is rolled back.
type retried struct{ store.Store }

var errRollback = errors.New("testdb: first attempt rolled back")

// Update runs fn, rolls it back, and runs it again.
func (s retried) Update(ctx context.Context, orgID string, fn func(tx store.Tx) error) error {
	err := s.Store.Update(ctx, orgID, func(tx store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		return err
	}
	return s.Store.Update(ctx, orgID, fn)
}
