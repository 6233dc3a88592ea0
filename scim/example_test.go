package scim_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/scim"
	"github.com/memberkit/memberkit/store/memstore"
)

// An org's identity provider creates a member over SCIM with the token
// the org was issued.
func ExampleNew() {
	ctx := context.Background()
	kit, _ := memberkit.New(memstore.New(), nil)
	sys := membership.SystemActor("setup")
	org, _ := kit.Members.CreateOrg(ctx, roster.NewOrg{Name: "Acme", Plan: membership.PremiumPlan(50)})

	// Shown once: give it to the org's Okta or Entra ID administrator.
	issued, _ := kit.Directory.IssueToken(ctx, sys, org.ID, "Okta")

	h, _ := scim.New(scim.Options{Members: kit.Members, Directory: kit.Directory})
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))

	req := httptest.NewRequest("POST", "/scim/v2/Users", strings.NewReader(
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jane@acme.example","name":{"givenName":"Jane","familyName":"Doe"}}`))
	req.Header.Set("Authorization", "Bearer "+string(issued.Secret))
	req.Header.Set("Content-Type", "application/scim+json")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code)

	page, _ := kit.Members.List(ctx, sys, org.ID, roster.ListQuery{})
	for _, m := range page.Members {
		fmt.Println(m.Login, m.FullName(), m.Status)
	}
	// Output:
	// 201
	// jane@acme.example Jane Doe active
}
