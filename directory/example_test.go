package directory_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/memberkit/memberkit/directory"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store/memstore"
)

// An org's admin issues a token for its identity provider, sees it listed
// with its last use, and revokes it.
func ExampleService_IssueToken() {
	ctx := context.Background()
	st := memstore.New()
	members, _ := roster.New(st, nil)
	org, _ := members.CreateOrg(ctx, roster.NewOrg{Name: "Acme"})
	dir, _ := directory.New(st, nil)
	admin := membership.SystemActor("console")

	issued, _ := dir.IssueToken(ctx, admin, org.ID, "Okta")
	fmt.Println(strings.HasPrefix(string(issued.Secret), "mkd_"), issued.Secret) // shown once

	tok, _ := dir.Authenticate(ctx, string(issued.Secret)) // what package scim does per request
	fmt.Println(tok.Actor(), !tok.LastUsedAt.IsZero())

	_, _ = dir.RevokeToken(ctx, admin, org.ID, tok.ID)
	_, err := dir.Authenticate(ctx, string(issued.Secret))
	fmt.Println(err)
	// Output:
	// true [redacted]
	// system:directory:Okta true
	// memberkit: invalid or revoked directory token
}

// A group the provider manages: its members carry its label, and renaming
// it renames the label on each of them.
func ExampleService_UpdateGroup() {
	ctx := context.Background()
	st := memstore.New()
	members, _ := roster.New(st, &roster.Options{})
	org, _ := members.CreateOrg(ctx, roster.NewOrg{Name: "Acme", Plan: membership.PremiumPlan(10)})
	sys := membership.SystemActor("setup")
	ana, _ := members.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Ana", LastName: "Lima", NoPassword: true})
	dir, _ := directory.New(st, nil)

	g, _ := dir.CreateGroup(ctx, sys, org.ID, directory.NewGroup{Name: "Ventes", Members: []string{ana.Member.ID}})
	name := "Ventes France"
	_, _ = dir.UpdateGroup(ctx, sys, org.ID, g.ID, directory.GroupChange{Name: &name})

	m, _ := members.Get(ctx, sys, org.ID, ana.Member.ID)
	fmt.Println(m.Groups)
	// Output:
	// [Ventes France]
}
