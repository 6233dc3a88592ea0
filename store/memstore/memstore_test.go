package memstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/memstore"
	"github.com/memberkit/memberkit/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
}

// A transaction that panics after verifying a domain leaves the domain
// free, as one that returns an error does.
func TestPanicFreesReservedDomain(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	for _, id := range []string{"a", "b"} {
		if err := st.CreateOrg(ctx, membership.Org{ID: id, Name: id}); err != nil {
			t.Fatal(err)
		}
	}
	verified := membership.Domain{Name: "x.example", Token: "t", Policy: membership.DomainPolicyNone, VerifiedAt: time.Now()}
	func() {
		defer func() { _ = recover() }()
		_ = st.Update(ctx, "a", func(tx store.Tx) error {
			if err := tx.PutDomain(ctx, verified); err != nil {
				t.Fatal(err)
			}
			panic("boom")
		})
	}()
	if err := st.Update(ctx, "b", func(tx store.Tx) error { return tx.PutDomain(ctx, verified) }); err != nil {
		t.Fatalf("the panicked transaction still holds the domain: %v", err)
	}
}
