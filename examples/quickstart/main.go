// Command quickstart walks through memberkit on an embedded SQLite file:
// an org on the Free plan, its admin, an invitation accepted, the seat
// limit, a CSV export and an edited import previewed then applied, a
// group deactivated, and logins. Run it from the repository root:
//
//	go run ./examples/quickstart
package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	_ "modernc.org/sqlite" // the embedded default: pure Go SQLite

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
)

func main() {
	log.SetFlags(0)
	ctx := context.Background()

	// 1. A store on a SQLite file in a temporary directory.
	dir, err := os.MkdirTemp("", "memberkit-quickstart-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	dbPath := filepath.Join(dir, "members.db")
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	st, err := sqlstore.New(db, sqlstore.SQLite, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("store: SQLite at", dbPath)

	// 2. The services. Defaults: argon2id (OWASP), system clock, 7-day invitations.
	members, err := roster.New(st, nil)
	if err != nil {
		log.Fatal(err)
	}
	var inbox []string // our stand-in for the host's mailer
	mailer := invite.SenderFunc(func(ctx context.Context, inv membership.Invitation, token string) error {
		inbox = append(inbox, token)
		fmt.Printf("  (mail to %s: https://app.example.com/join?token=%s…)\n", inv.Email, token[:8])
		return nil
	})
	invitations, err := invite.New(st, mailer, nil)
	if err != nil {
		log.Fatal(err)
	}
	files, err := csvsync.New(st, nil)
	if err != nil {
		log.Fatal(err)
	}

	step("Create an org on the Free plan (3 seats) with CSV import/export")
	org, err := members.CreateOrg(ctx, roster.NewOrg{Name: "Conance", Plan: membership.FreePlan(), Features: []membership.Feature{membership.FeatureCSV}})
	check(err)
	fmt.Println("  org", org.Name, "plan", org.Plan.Name, "limit", org.Plan.MemberLimit)

	step("Add the first admin (the host's signup flow acts as the system)")
	alice, err := members.Add(ctx, membership.SystemActor("signup"), org.ID, roster.NewMember{
		FirstName: "Alice", LastName: "Durand", Email: "alice@conance.example", RoleID: membership.RoleAdmin, Password: "correct horse battery staple"})
	check(err)
	admin := membership.ActorMember(alice.Member.ID)
	show(ctx, members, admin, org.ID)

	step("Alice adds Bob to the Paris group, without a password")
	bob, err := members.Add(ctx, admin, org.ID, roster.NewMember{FirstName: "Bob", LastName: "Martin", Groups: []string{"Paris"}})
	check(err)
	fmt.Printf("  login %s, temporary password handed to Bob once: %d characters, must change at first login: %v\n",
		bob.Member.Login, len(bob.TemporaryPassword), bob.Member.MustChangePassword)
	show(ctx, members, admin, org.ID)

	step("Alice invites Zoé; the roster shows her as pending")
	_, err = invitations.Send(ctx, admin, org.ID, invite.To{Email: "zoe@conance.example", RoleID: membership.RoleUser})
	check(err)
	showPending(ctx, members, admin, org.ID)

	step("Zoé follows the link and joins")
	zoe, err := invitations.Accept(ctx, inbox[len(inbox)-1], invite.Details{FirstName: "Zoé", LastName: "Lefèvre-Dubois", Password: "zoé's long passphrase"})
	check(err)
	fmt.Println("  joined as", zoe.Login)
	show(ctx, members, admin, org.ID)

	step("A fourth member does not fit the Free plan")
	_, err = members.Add(ctx, admin, org.ID, roster.NewMember{FirstName: "Denis", LastName: "Petit"})
	var limit *membership.LimitError
	if !errors.As(err, &limit) {
		log.Fatalf("expected the seat limit, got %v", err)
	}
	fmt.Println("  refused:", errString(err))
	fmt.Println("  errors.Is(err, membership.ErrMemberLimit) =", errors.Is(err, membership.ErrMemberLimit))

	step("Upgrade to Premium (10 seats) and add Denis to Paris")
	check(members.SetPlan(ctx, admin, org.ID, membership.PremiumPlan(10)))
	_, err = members.Add(ctx, admin, org.ID, roster.NewMember{FirstName: "Denis", LastName: "Petit", Email: "denis@conance.example", Groups: []string{"Paris"}})
	check(err)
	show(ctx, members, admin, org.ID)

	step("Export the roster to CSV")
	var exported bytes.Buffer
	_, err = files.Export(ctx, admin, org.ID, &exported, nil)
	check(err)
	fmt.Print(indent(strings.TrimPrefix(exported.String(), "\uFEFF")))

	step("Import an edited file: preview the plan, then apply it")
	// Bob gets an email; a newcomer is added; everyone else is unchanged.
	edited := strings.Replace(exported.String(), "bob.martin;Martin;Bob;;", "bob.martin;Martin;Bob;bob@conance.example;", 1)
	edited += "ines.garcia;García;Inès;ines@conance.example;;Activé\r\n"
	file, err := files.Parse(ctx, admin, org.ID, strings.NewReader(edited))
	check(err)
	plan, err := files.Plan(ctx, admin, org.ID, file, &csvsync.PlanOptions{TemporaryPassword: "bienvenue-2026"})
	check(err)
	fmt.Printf("  plan: %d to add, %d to update, %d to reactivate, %d to deactivate, %d unchanged\n",
		plan.Adds, plan.Updates, plan.Reactivations, plan.Deactivations, plan.Unchanged)
	for _, a := range plan.Actions {
		fmt.Printf("    line %d: %-10s %-22s %v\n", a.Line, a.Kind, a.Login, a.Changes)
	}
	res, err := files.Apply(ctx, admin, org.ID, plan, nil)
	check(err)
	fmt.Printf("  applied: %d added, %d updated\n", res.Added, res.Updated)
	show(ctx, members, admin, org.ID)

	step("Deactivate the Paris group (filter, select all, deactivate)")
	bulk, err := members.DeactivateWhere(ctx, admin, org.ID, store.MemberFilter{Group: "Paris"})
	check(err)
	fmt.Println("  deactivated", len(bulk.Changed), "members")
	show(ctx, members, admin, org.ID)

	step("Log in")
	m, err := members.Authenticate(ctx, org.ID, "alice@conance.example", "correct horse battery staple")
	check(err)
	fmt.Println("  alice:", m.Login, "ok")
	_, err = members.Authenticate(ctx, org.ID, "ines.garcia", "bienvenue-2026")
	fmt.Println("  ines (imported, temporary password):", errString(err))
	var mustChange *roster.PasswordChangeRequiredError
	if errors.As(err, &mustChange) {
		ines, err := members.ChangePassword(ctx, org.ID, mustChange.Member.ID, "bienvenue-2026", "ines chose this one")
		check(err)
		// The host keeps the stamp in the session and checks it on every request.
		fmt.Println("  ines changed her password; session valid:", members.CheckSession(ctx, org.ID, ines.ID, ines.SecurityStamp) == nil)
	}
	_, err = members.Authenticate(ctx, org.ID, "bob.martin", "anything at all")
	fmt.Println("  bob (deactivated):", errString(err))

	step("The last admin cannot be removed")
	_, err = members.Remove(ctx, admin, org.ID, alice.Member.ID)
	fmt.Println("  refused:", errString(err))

	report, err := members.Review(ctx, admin, org.ID)
	check(err)
	for _, n := range report.Notices {
		fmt.Println("\nrevue :", n.Text(membership.French))
	}
}

func step(s string) { fmt.Printf("\n== %s\n", s) }

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	// What people read: memberkit's explanation, in French, with its code.
	p := membership.Explain(err, membership.French)
	return p.Message + " [" + p.Code + "]"
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\r\n"), "\r\n", "\n  ") + "\n"
}

func show(ctx context.Context, members *roster.Service, actor membership.Actor, orgID string) {
	page, err := members.List(ctx, actor, orgID, roster.ListQuery{})
	check(err)
	table(page)
}

func showPending(ctx context.Context, members *roster.Service, actor membership.Actor, orgID string) {
	page, err := members.List(ctx, actor, orgID, roster.ListQuery{IncludePending: true})
	check(err)
	table(page)
}

func table(page roster.Page) {
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "  Nom\tEmail\tRôle\tStatut\tGroupes\tDernière connexion")
	for _, r := range page.Rows() {
		last := "—"
		if !r.LastLoginAt.IsZero() {
			last = r.LastLoginAt.Local().Format("02/01/2006 15:04")
		}
		name := r.Name
		if name == "" {
			name = "(invitation)"
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\n", name, r.Email, (membership.Labels{}).RoleName(r.Role, membership.French), r.StatusLabel(membership.French), strings.Join(r.Groups, ", "), last)
	}
	w.Flush()
}
