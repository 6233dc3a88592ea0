package roster_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/memstore"
)

// newExampleService builds a service with a cheap hasher so that examples
// run fast; production code keeps the default (argon2id, OWASP).
func newExampleService() *roster.Service {
	svc, err := roster.New(memstore.New(), &roster.Options{
		Hasher: membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1}),
	})
	if err != nil {
		log.Fatal(err)
	}
	return svc
}

// Add the first admin of a new org, then a member whose login is derived
// from the names.
func ExampleService_Add() {
	ctx := context.Background()
	svc := newExampleService()
	org, err := svc.CreateOrg(ctx, roster.NewOrg{Name: "Conance", Plan: membership.FreePlan()})
	if err != nil {
		log.Fatal(err)
	}
	// The first admin is added by the host itself.
	admin, err := svc.Add(ctx, membership.SystemActor("signup"), org.ID, roster.NewMember{
		FirstName: "Alice", LastName: "Durand", Email: "alice@example.com", RoleID: membership.RoleAdmin, Password: "correct horse battery",
	})
	if err != nil {
		log.Fatal(err)
	}
	// Then the admin adds a colleague, without a password.
	zoe, err := svc.Add(ctx, membership.ActorMember(admin.Member.ID), org.ID, roster.NewMember{FirstName: "Zoé", LastName: "Lefèvre-Dubois"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(zoe.Member.Login, zoe.Member.Status, zoe.Member.MustChangePassword, zoe.TemporaryPassword != "")
	// Output: zoe.lefevre-dubois active true true
}

// Deactivate everyone in a group, as the coordinator does with "filter by
// group, select all, deactivate".
func ExampleService_DeactivateWhere() {
	ctx := context.Background()
	svc := newExampleService()
	org, _ := svc.CreateOrg(ctx, roster.NewOrg{Name: "Conance", Plan: membership.PremiumPlan(0)})
	sys := membership.SystemActor("example")
	_, _ = svc.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Alice", LastName: "Durand", RoleID: membership.RoleAdmin, Password: "correct horse battery"})
	for _, n := range []struct{ first, group string }{{"Paul", "Paris"}, {"Pia", "Paris"}, {"Léa", "Lyon"}} {
		if _, err := svc.Add(ctx, sys, org.ID, roster.NewMember{FirstName: n.first, LastName: "Martin", Groups: []string{n.group}}); err != nil {
			log.Fatal(err)
		}
	}
	res, err := svc.DeactivateWhere(ctx, sys, org.ID, store.MemberFilter{Group: "Paris"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("deactivated:", len(res.Changed))
	page, _ := svc.List(ctx, sys, org.ID, roster.ListQuery{})
	for _, r := range page.Rows() {
		fmt.Printf("%-14s %s\n", r.Login, r.StatusLabel(membership.French))
	}
	// Output:
	// deactivated: 2
	// alice.durand   Activé
	// lea.martin     Activé
	// paul.martin    Désactivé
	// pia.martin     Désactivé
}

// Authenticate by login or email; every failure is the same error.
func ExampleService_Authenticate() {
	ctx := context.Background()
	svc := newExampleService()
	org, _ := svc.CreateOrg(ctx, roster.NewOrg{Name: "Conance"})
	_, _ = svc.Add(ctx, membership.SystemActor("signup"), org.ID, roster.NewMember{
		FirstName: "Alice", LastName: "Durand", Email: "alice@example.com", RoleID: membership.RoleAdmin, Password: "correct horse battery",
	})
	m, err := svc.Authenticate(ctx, org.ID, "alice@example.com", "correct horse battery")
	fmt.Println(m.Login, err)
	_, err = svc.Authenticate(ctx, org.ID, "alice.durand", "wrong")
	fmt.Println(err)
	_, err = svc.Authenticate(ctx, org.ID, "nobody", "wrong")
	fmt.Println(err)
	// Output:
	// alice.durand <nil>
	// memberkit: invalid credentials
	// memberkit: invalid credentials
}

// Record the member's security stamp in the session at login and check it
// on each request: a deactivation (or a role or password change) ends the
// session at once, with no hook to wire.
func ExampleService_CheckSession() {
	ctx := context.Background()
	svc := newExampleService()
	org, _ := svc.CreateOrg(ctx, roster.NewOrg{Name: "Conance", Plan: membership.PremiumPlan(0)})
	sys := membership.SystemActor("example")
	_, _ = svc.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Alice", LastName: "Durand", RoleID: membership.RoleAdmin, Password: "correct horse battery"})
	_, _ = svc.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Paul", LastName: "Martin", Password: "paul's own password"})

	// The login handler, with the client's address for throttling.
	m, err := svc.Authenticate(membership.WithClient(ctx, "203.0.113.7"), org.ID, "paul.martin", "paul's own password")
	if err != nil {
		log.Fatal(err)
	}
	session := struct{ member, stamp string }{m.ID, m.SecurityStamp}

	// Every request.
	fmt.Println(svc.CheckSession(ctx, org.ID, session.member, session.stamp))
	_, _ = svc.Deactivate(ctx, sys, org.ID, m.ID)
	fmt.Println(svc.CheckSession(ctx, org.ID, session.member, session.stamp))
	// Output:
	// <nil>
	// memberkit: session no longer valid
}

// A member added without a password gets a temporary one: it signs in,
// but only to choose a new password.
func ExampleService_ChangePassword() {
	ctx := context.Background()
	svc := newExampleService()
	org, _ := svc.CreateOrg(ctx, roster.NewOrg{Name: "Conance"})
	added, _ := svc.Add(ctx, membership.SystemActor("signup"), org.ID, roster.NewMember{FirstName: "Zoé", LastName: "Lefèvre"})

	_, err := svc.Authenticate(ctx, org.ID, "zoe.lefevre", string(added.TemporaryPassword))
	var change *roster.PasswordChangeRequiredError
	if errors.As(err, &change) {
		fmt.Println("must change the password of", change.Member.Login)
		m, err := svc.ChangePassword(ctx, org.ID, change.Member.ID, string(added.TemporaryPassword), "zoé's own password")
		fmt.Println(err, m.MustChangePassword)
	}
	_, err = svc.Authenticate(ctx, org.ID, "zoe.lefevre", "zoé's own password")
	fmt.Println(err)
	// Output:
	// must change the password of zoe.lefevre
	// <nil> false
	// <nil>
}
