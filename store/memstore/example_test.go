package memstore_test

import (
	"context"
	"fmt"
	"log"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store/memstore"
)

// An in-memory store needs nothing: transactional (an Update whose
// function fails leaves nothing behind), safe for concurrent use, gone
// when the process ends. For tests, prototypes and small apps.
func ExampleNew() {
	st := memstore.New()
	members, err := roster.New(st, nil)
	if err != nil {
		log.Fatal(err)
	}
	org, err := members.CreateOrg(context.Background(), roster.NewOrg{Name: "Conance", Plan: membership.FreePlan()})
	fmt.Println(org.Name, org.Plan.MemberLimit, err)
	// Output: Conance 3 <nil>
}
