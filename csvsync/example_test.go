package csvsync_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store/memstore"
)

func exampleOrg() (*roster.Service, *csvsync.Service, membership.Org, membership.Actor) {
	ctx := context.Background()
	st := memstore.New()
	hasher := membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1}) // cheap, for the example
	members, err := roster.New(st, &roster.Options{Hasher: hasher})
	if err != nil {
		log.Fatal(err)
	}
	org, err := members.CreateOrg(ctx, roster.NewOrg{Name: "Conance", Plan: membership.PremiumPlan(50), Features: []membership.Feature{membership.FeatureCSV}})
	if err != nil {
		log.Fatal(err)
	}
	admin, err := members.Add(ctx, membership.SystemActor("signup"), org.ID, roster.NewMember{FirstName: "Alice", LastName: "Durand", Email: "alice@example.com", RoleID: membership.RoleAdmin, Password: "correct horse battery"})
	if err != nil {
		log.Fatal(err)
	}
	actor := membership.ActorMember(admin.Member.ID)
	for _, n := range [][2]string{{"Bob", "Martin"}, {"Zoé", "Lefèvre"}} {
		if _, err := members.Add(ctx, actor, org.ID, roster.NewMember{FirstName: n[0], LastName: n[1]}); err != nil {
			log.Fatal(err)
		}
	}
	files, err := csvsync.New(st, &csvsync.Options{Hasher: hasher})
	if err != nil {
		log.Fatal(err)
	}
	return members, files, org, actor
}

// Export the roster in the format French spreadsheets open as is.
func ExampleService_Export() {
	_, sync, org, actor := exampleOrg()
	var buf bytes.Buffer
	if _, err := sync.Export(context.Background(), actor, org.ID, &buf, &csvsync.ExportOptions{NoBOM: true, LF: true}); err != nil {
		log.Fatal(err)
	}
	fmt.Print(buf.String())
	// Output:
	// Identifiant;Nom;Prénom;Adresse e-mail;Mot de passe;Etat;Rôle;Groupes
	// alice.durand;Durand;Alice;alice@example.com;Mot de passe crypté;Activé;Administrateur;
	// bob.martin;Martin;Bob;;Mot de passe crypté;Activé;Utilisateur;
	// zoe.lefevre;Lefèvre;Zoé;;Mot de passe crypté;Activé;Utilisateur;
}

// Import an edited file: parse it, show the plan, then apply it.
func ExampleService_Apply() {
	ctx := context.Background()
	_, sync, org, actor := exampleOrg()
	edited := `Identifiant;Nom;Prénom;Adresse e-mail;Mot de passe;Etat
alice.durand;Durand;Alice;alice@example.com;Mot de passe crypté;Activé
bob.martin;Martin;Bob;bob@example.com;Mot de passe crypté;Activé
;Nouveau;Jean;jean@example.com;;Activé
`
	file, err := sync.Parse(ctx, actor, org.ID, strings.NewReader(edited))
	if err != nil {
		log.Fatal(err)
	}
	plan, err := sync.Plan(ctx, actor, org.ID, file, &csvsync.PlanOptions{TemporaryPassword: "tempeos", AllowMassDeactivation: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range plan.Actions {
		fmt.Println(strings.TrimSpace(fmt.Sprintf("line %d: %s %s %v", a.Line, a.Kind, a.Login, a.Changes)))
	}
	res, err := sync.Apply(ctx, actor, org.ID, plan, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("added %d, updated %d, deactivated %d, unchanged %d\n", res.Added, res.Updated, res.Deactivated, res.Unchanged)
	// Output:
	// line 3: update bob.martin email: "" → bob@example.com
	// line 4: add jean.nouveau
	// line 0: deactivate zoe.lefevre status: active → deactivated
	// added 1, updated 1, deactivated 1, unchanged 1
}
