package memstore_test

import (
	"testing"

	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/memstore"
	"github.com/memberkit/memberkit/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
}
