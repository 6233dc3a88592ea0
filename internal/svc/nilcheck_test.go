package svc

import (
	"testing"

	"github.com/memberkit/memberkit/store"
)

func TestIsNil(t *testing.T) {
	type fakeStore struct{ store.Store }
	var nilPtr *fakeStore
	var iface store.Store = nilPtr
	for _, c := range []struct {
		v    any
		want bool
	}{{nil, true}, {nilPtr, true}, {iface, true}, {&fakeStore{}, false}, {fakeStore{}, false}, {func() {}, false}} {
		if got := IsNil(c.v); got != c.want {
			t.Errorf("IsNil(%#v) = %v, want %v", c.v, got, c.want)
		}
	}
}
