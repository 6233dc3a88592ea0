package memberhttp_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/memberhttp"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store/memstore"
)

// Mount the screens and the API under /team. Identify is the host's: here
// a header names the member, where a real host reads its own session.
func Example() {
	ctx := context.Background()
	kit, err := memberkit.New(memstore.New(), nil)
	if err != nil {
		log.Fatal(err)
	}
	sys := membership.SystemActor("setup")
	org, _ := kit.Members.CreateOrg(ctx, roster.NewOrg{Name: "Ateliers Dupont", Plan: membership.PremiumPlan(10)})
	admin, _ := kit.Members.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Alice", LastName: "Martin", RoleID: membership.RoleAdmin, NoPassword: true})

	h, err := memberhttp.New(kit, memberhttp.Options{
		Identify: func(r *http.Request) (memberhttp.Identity, error) {
			id := r.Header.Get("X-Demo-Member") // the host's session, in a real app
			if id == "" {
				return memberhttp.Identity{}, memberhttp.ErrSignedOut
			}
			return memberhttp.Identity{OrgID: org.ID, Actor: membership.ActorMember(id), Lang: membership.English}, nil
		},
		UpgradeURL: "/billing",
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/team/", http.StripPrefix("/team", h))

	for _, path := range []string{"/team/", "/team/api/members", "/team/api/org"} {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("X-Demo-Member", admin.Member.ID)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Println(path, rec.Code, rec.Header().Get("Content-Type"))
	}
	// Output:
	// /team/ 200 text/html; charset=utf-8
	// /team/api/members 200 application/json
	// /team/api/org 200 application/json
}

// The invitation email links to the join page under the mount point.
func ExampleJoinURL() {
	fmt.Println(memberhttp.JoinURL("https://app.example.com/team/", "tok+en/1"))
	// Output: https://app.example.com/team/join?token=tok%2Ben%2F1
}
