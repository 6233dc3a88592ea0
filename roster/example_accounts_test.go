package roster_test

import (
	"context"
	"fmt"
	"log"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store/memstore"
)

// An org switcher: one host account belongs to several orgs, and a
// session holds only the account's ID.
func ExampleService_Memberships() {
	ctx := context.Background()
	svc := newExampleService()
	sys := membership.SystemActor("signup")
	for _, name := range []string{"Conance", "Atelier Lumière"} {
		org, err := svc.CreateOrg(ctx, roster.NewOrg{Name: name, Plan: membership.FreePlan()})
		if err != nil {
			log.Fatal(err)
		}
		role := membership.RoleUser
		if name == "Conance" {
			role = membership.RoleAdmin
		}
		// The host links its account "usr_42" to a member of each org.
		if _, err := svc.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Zoé", LastName: "Lefèvre", RoleID: role, UserID: "usr_42", Password: "correct horse battery"}); err != nil {
			log.Fatal(err)
		}
	}
	orgs, err := svc.Memberships(ctx, "usr_42")
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range orgs {
		fmt.Printf("%s: %s (active: %t)\n", m.Org.Name, m.Role.Name, m.Active())
	}
	// Acting in the chosen org needs only the account's ID.
	page, err := svc.List(ctx, membership.ActorUser("usr_42"), orgs[1].Org.ID, roster.ListQuery{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(page.Members), "member in", orgs[1].Org.Name)
	// Output:
	// Atelier Lumière: Utilisateur (active: true)
	// Conance: Administrateur (active: true)
	// 1 member in Conance
}

// The host declares its own permissions once, gives them to custom roles,
// and asks Can before each of its features.
func ExampleService_Can() {
	ctx := context.Background()
	const createCommission membership.Permission = "commissions.create"
	catalog, err := membership.NewCatalog([]membership.PermissionDef{
		{Name: createCommission, French: "Créer des commissions", English: "Create commissions"},
	}, nil) // nil: the user role keeps members.read only
	if err != nil {
		log.Fatal(err)
	}
	svc, err := roster.New(memstore.New(), &roster.Options{
		Catalog: catalog,
		Hasher:  membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1}),
	})
	if err != nil {
		log.Fatal(err)
	}
	sys := membership.SystemActor("setup")
	org, _ := svc.CreateOrg(ctx, roster.NewOrg{Name: "Conance", Plan: membership.FreePlan()})
	sales, _ := svc.CreateRole(ctx, sys, org.ID, "Commercial")
	if _, err := svc.UpdateRole(ctx, sys, org.ID, sales.ID, "Commercial", []membership.Permission{membership.PermMembersRead, createCommission}); err != nil {
		log.Fatal(err)
	}
	_, _ = svc.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Sam", LastName: "Vendeur", RoleID: sales.ID, UserID: "usr_sam", Password: "correct horse battery"})
	_, _ = svc.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Uma", LastName: "Lecteur", UserID: "usr_uma", Password: "correct horse battery"})

	for _, user := range []string{"usr_sam", "usr_uma"} {
		ok, err := svc.Can(ctx, org.ID, membership.ActorUser(user), createCommission)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(user, "may create a commission:", ok)
	}
	fmt.Println(catalog.Label(createCommission, membership.French))
	// Everything an account may do, for a screen to choose its controls.
	perms, err := svc.Permissions(ctx, org.ID, membership.ActorUser("usr_sam"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(perms)
	none, _ := svc.Permissions(ctx, org.ID, membership.ActorUser("usr_nobody"))
	fmt.Println(len(none))
	// Output:
	// usr_sam may create a commission: true
	// usr_uma may create a commission: false
	// Créer des commissions
	// [members.read commissions.create]
	// 0
}
