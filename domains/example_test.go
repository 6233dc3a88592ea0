package domains_test

import (
	"context"
	"fmt"
	"log"

	"github.com/memberkit/memberkit/domains"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store/memstore"
)

// An org claims its email domain, proves it, and lets its people join by
// themselves: the host calls Suggest, then Join, once it has verified the
// person's address.
func ExampleService_Join() {
	ctx := context.Background()
	st := memstore.New()
	members, err := roster.New(st, nil)
	if err != nil {
		log.Fatal(err)
	}
	dom, err := domains.New(st, nil)
	if err != nil {
		log.Fatal(err)
	}
	sys := membership.SystemActor("setup")
	org, _ := members.CreateOrg(ctx, roster.NewOrg{Name: "Conance", Plan: membership.FreePlan()})

	claim, err := dom.Claim(ctx, sys, org.ID, "conance.fr")
	if err != nil {
		log.Fatal(err)
	}
	name, _ := claim.VerificationRecord()
	fmt.Println("publish a TXT record at", name)
	// Here the host proved the domain its own way; Verify checks the DNS.
	if _, err := dom.MarkVerified(ctx, sys, org.ID, "conance.fr"); err != nil {
		log.Fatal(err)
	}
	if _, err := dom.SetPolicy(ctx, sys, org.ID, "conance.fr", membership.DomainPolicyAutoJoin, ""); err != nil {
		log.Fatal(err)
	}

	// A new account signs up with a verified address at the domain.
	suggestions, _ := dom.Suggest(ctx, "jean.dupont@conance.fr")
	for _, s := range suggestions {
		fmt.Println("you may join", s.OrgName, "- at once:", s.AutoJoin)
	}
	m, err := dom.Join(ctx, suggestions[0].OrgID, domains.Joiner{UserID: "usr_7", Email: "jean.dupont@conance.fr", FirstName: "Jean", LastName: "Dupont"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Login, m.RoleID, m.Status)
	// Output:
	// publish a TXT record at _memberkit-challenge.conance.fr
	// you may join Conance - at once: true
	// jean.dupont user active
}
