// Package testkit holds what memberkit's tests share: the store matrix
// (testdb), fault injection (faultstore), generated rosters (gen), the
// proofs under load and attack (proof), the documentation check
// (doccheck), and these constructors that fail the test instead of
// returning an error.
package testkit

import (
	"testing"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// Roster returns roster.New(st, opts), failing tb on an error.
func Roster(tb testing.TB, st store.Store, opts *roster.Options) *roster.Service {
	tb.Helper()
	s, err := roster.New(st, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// CSV returns csvsync.New(st, opts), failing tb on an error.
func CSV(tb testing.TB, st store.Store, opts *csvsync.Options) *csvsync.Service {
	tb.Helper()
	s, err := csvsync.New(st, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// Invites returns invite.New(st, sender, opts), failing tb on an error.
func Invites(tb testing.TB, st store.Store, sender invite.Sender, opts *invite.Options) *invite.Service {
	tb.Helper()
	s, err := invite.New(st, sender, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
