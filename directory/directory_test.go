package directory_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/memberkit/memberkit/directory"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/memstore"
)

var sys = membership.SystemActor("test")

func setup(t *testing.T, opts *directory.Options) (*directory.Service, string, *membership.FakeClock) {
	t.Helper()
	ctx := context.Background()
	st := memstore.New()
	clock := membership.NewFakeClock(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	r, err := roster.New(st, &roster.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	org, err := r.CreateOrg(ctx, roster.NewOrg{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if opts == nil {
		opts = &directory.Options{}
	}
	opts.Clock = clock
	d, err := directory.New(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d, org.ID, clock
}

// Tokens: the secret authenticates until revoked; its last use is
// recorded at most once per TouchEvery; nothing of a short secret is
// shown; an imported secret must be long enough.
func TestTokens(t *testing.T) {
	ctx := context.Background()
	d, org, clock := setup(t, &directory.Options{TouchEvery: time.Minute})
	issued, err := d.IssueToken(ctx, sys, org, "  Okta  ")
	if err != nil {
		t.Fatal(err)
	}
	secret := string(issued.Secret)
	if !strings.HasPrefix(secret, "mkd_") || len(secret) < 40 || issued.Token.Name != "Okta" || issued.Token.Hint != secret[:8] {
		t.Fatalf("issued %+v", issued.Token)
	}
	if s := issued.Secret.String(); strings.Contains(s, secret) {
		t.Fatal("the secret prints")
	}
	tok, err := d.Authenticate(ctx, secret)
	if err != nil || tok.OrgID != org || tok.Actor().String() != "system:directory:Okta" {
		t.Fatalf("authenticate: %+v %v", tok, err)
	}
	first := tok.LastUsedAt
	clock.Advance(30 * time.Second)
	tok, _ = d.Authenticate(ctx, secret)
	if !tok.LastUsedAt.Equal(first) {
		t.Fatal("last use written again within TouchEvery")
	}
	clock.Advance(time.Minute)
	tok, _ = d.Authenticate(ctx, secret)
	if !tok.LastUsedAt.After(first) {
		t.Fatal("last use not written after TouchEvery")
	}
	if _, err := d.Authenticate(ctx, secret+"x"); !errors.Is(err, directory.ErrInvalidToken) {
		t.Fatalf("a wrong secret: %v", err)
	}
	if _, err := d.RevokeToken(ctx, sys, org, issued.Token.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Authenticate(ctx, secret); !errors.Is(err, directory.ErrInvalidToken) {
		t.Fatalf("a revoked token: %v", err)
	}
	if _, err := d.RevokeToken(ctx, sys, org, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoking an unknown token: %v", err)
	}

	if _, err := d.ImportToken(ctx, sys, org, "short", "0123456789"); !errors.Is(err, membership.ErrInvalid) {
		t.Fatalf("a short imported secret: %v", err)
	}
	long := strings.Repeat("k", 40)
	imported, err := d.ImportToken(ctx, sys, org, "vault", long)
	if err != nil || imported.Hint != long[:8] {
		t.Fatalf("import: %+v %v", imported, err)
	}
	var dup *membership.DuplicateError
	if _, err := d.ImportToken(ctx, sys, org, "again", long); !errors.As(err, &dup) {
		t.Fatalf("the same secret twice: %v", err)
	}

	demo, org2, _ := setup(t, &directory.Options{MinImportedSecret: 1})
	tk, err := demo.ImportToken(ctx, sys, org2, "demo", "T")
	if err != nil || tk.Hint != "" {
		t.Fatalf("a demo's short secret: %+v %v", tk, err)
	}
}

// A store without the ability is refused by New.
func TestNeedsDirectoryStore(t *testing.T) {
	if _, err := directory.New(plain{memstore.New()}, nil); !errors.Is(err, store.ErrNoDirectory) {
		t.Fatalf("New on a store without store.Directory: %v", err)
	}
}

type plain struct{ store.Store }
