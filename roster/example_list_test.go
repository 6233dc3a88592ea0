package roster_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
)

// Page through the roster: each page's Next is the cursor of the next,
// and pages stay complete while the roster changes.
func ExampleService_List() {
	ctx := context.Background()
	svc := newExampleService()
	org, _ := svc.CreateOrg(ctx, roster.NewOrg{Name: "Conance", Plan: membership.PremiumPlan(0)})
	sys := membership.SystemActor("example")
	for _, n := range []string{"Alice", "Bruno", "Chloé", "Denis", "Emma"} {
		if _, err := svc.Add(ctx, sys, org.ID, roster.NewMember{FirstName: n, LastName: "Martin", Password: "correct horse battery"}); err != nil {
			log.Fatal(err)
		}
	}
	q := roster.ListQuery{Limit: 2}
	for {
		page, err := svc.List(ctx, sys, org.ID, q)
		if err != nil {
			log.Fatal(err)
		}
		for _, r := range page.Rows() {
			fmt.Print(r.Login, " ")
		}
		fmt.Println("|")
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	// Output:
	// alice.martin bruno.martin |
	// chloe.martin denis.martin |
	// emma.martin |
}

// Give a member another role. An actor grants only a role whose every
// permission it holds, and nobody changes their own.
func ExampleService_ChangeRole() {
	ctx := context.Background()
	svc := newExampleService()
	org, _ := svc.CreateOrg(ctx, roster.NewOrg{Name: "Conance", Plan: membership.PremiumPlan(0)})
	sys := membership.SystemActor("example")
	alice, _ := svc.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Alice", LastName: "Durand", RoleID: membership.RoleAdmin, Password: "correct horse battery"})
	bob, _ := svc.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Bob", LastName: "Martin", Password: "correct horse battery"})
	admin := membership.ActorMember(alice.Member.ID)

	_, err := svc.ChangeRole(ctx, membership.ActorMember(bob.Member.ID), org.ID, bob.Member.ID, membership.RoleAdmin)
	p := membership.Explain(err, membership.English)
	fmt.Println(p.Code, p.Status, p.Message)
	m, err := svc.ChangeRole(ctx, admin, org.ID, bob.Member.ID, membership.RoleAdmin)
	fmt.Println(m.RoleID, err)
	// Output:
	// forbidden 403 your role does not allow: Manage members
	// admin <nil>
}

// A bulk action is all or nothing: one refused member refuses the whole,
// and the *BulkError says why for each.
func ExampleService_DeactivateMany() {
	ctx := context.Background()
	svc := newExampleService()
	org, _ := svc.CreateOrg(ctx, roster.NewOrg{Name: "Conance", Plan: membership.PremiumPlan(0)})
	sys := membership.SystemActor("example")
	alice, _ := svc.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Alice", LastName: "Durand", RoleID: membership.RoleAdmin, Password: "correct horse battery"})
	bob, _ := svc.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Bob", LastName: "Martin", Password: "correct horse battery"})

	_, err := svc.DeactivateMany(ctx, sys, org.ID, []string{bob.Member.ID, alice.Member.ID})
	var be *roster.BulkError
	if errors.As(err, &be) {
		for _, r := range be.Refused {
			fmt.Println(r.MemberID == alice.Member.ID, membership.Explain(r.Err, membership.French).Message)
		}
	}
	m, _ := svc.Get(ctx, sys, org.ID, bob.Member.ID)
	fmt.Println(m.Status, "(nothing changed)")
	// Output:
	// true l'entreprise doit garder au moins un administrateur actif
	// active (nothing changed)
}
