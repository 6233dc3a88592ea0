// Command embed is what a newcomer writes to embed memberkit, from the
// README and go doc alone: an org and its first admin, an invitation
// accepted, a role changed, a group deactivated, a CSV round trip
// previewed then applied, a login, a paged listing, and two JSON
// handlers whose errors read as memberkit explains them. The README shows
// its setup (between the README markers), and a test runs it.
package main

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
)

func main() {
	dir, err := os.MkdirTemp("", "memberkit-embed-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := run(context.Background(), filepath.Join(dir, "members.db")); err != nil {
		log.Fatal(err)
	}
}

// README:begin
func setup(ctx context.Context, path string, mail invite.Sender) (*memberkit.Kit, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return nil, err
	}
	st, err := sqlstore.New(db, sqlstore.SQLite, nil) // or sqlstore.Postgres, sqlstore.MySQL
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		return nil, err
	}
	// One kit: members, invitations, CSV and domains share the clock, the
	// password hasher, the sender and one after-commit hook, the place to
	// end the sessions of whoever was deactivated, however it happened.
	return memberkit.New(st, &memberkit.Options{Sender: mail, AfterCommit: func(_ context.Context, evs []membership.Event) {
		for _, e := range evs {
			if e.Type == membership.EventMemberDeactivated || e.Type == membership.EventMemberRemoved {
				endSessions(e.SubjectID)
			}
		}
	}})
}

// README:end

// endSessions stands for the host's own: drop the member's sessions.
func endSessions(memberID string) { fmt.Println("  sessions ended:", memberID) }

func run(ctx context.Context, path string) error {
	mail := &invite.RecordingSender{} // the host's mailer in a real app
	kit, err := setup(ctx, path, mail)
	if err != nil {
		return err
	}
	m := kit.Members
	org, err := m.CreateOrg(ctx, roster.NewOrg{Name: "Conance", Plan: membership.PremiumPlan(10), Features: []membership.Feature{membership.FeatureCSV}})
	if err != nil {
		return err
	}
	alice, err := m.Add(ctx, membership.SystemActor("signup"), org.ID, roster.NewMember{FirstName: "Alice", LastName: "Durand", RoleID: membership.RoleAdmin, Password: "correct horse battery"})
	if err != nil {
		return err
	}
	admin := membership.ActorMember(alice.Member.ID)

	// Invite Zoé; she accepts from the link in her mail.
	if _, err := kit.Invitations.Send(ctx, admin, org.ID, invite.To{Email: "zoe@conance.fr"}); err != nil {
		return err
	}
	zoe, err := kit.Invitations.Accept(ctx, mail.TokenFor("zoe@conance.fr"), invite.Details{FirstName: "Zoé", LastName: "Lefèvre", Password: "zoe's own password"})
	if err != nil {
		return err
	}
	// A role of the company's own, given to Zoé.
	sales, err := m.CreateRole(ctx, admin, org.ID, "Commercial")
	if err != nil {
		return err
	}
	if _, err := m.UpdateRole(ctx, admin, org.ID, sales.ID, "Commercial", []membership.Permission{membership.PermMembersRead}); err != nil {
		return err
	}
	if _, err := m.ChangeRole(ctx, admin, org.ID, zoe.ID, sales.ID); err != nil {
		return err
	}
	// Two people in Paris, then the whole group deactivated.
	for _, first := range []string{"Paul", "Pia"} {
		if _, err := m.Add(ctx, admin, org.ID, roster.NewMember{FirstName: first, LastName: "Martin", Groups: []string{"Paris"}}); err != nil {
			return err
		}
	}
	if _, err := m.DeactivateWhere(ctx, admin, org.ID, store.MemberFilter{Group: "Paris"}); err != nil {
		return err
	}

	// CSV: export, edit as a spreadsheet would, preview, apply.
	var file strings.Builder
	if _, err := kit.CSV.Export(ctx, admin, org.ID, &file, nil); err != nil {
		return err
	}
	edited := strings.Replace(file.String(), "Martin;Paul;;Mot de passe crypté;Désactivé", "Martin;Paul;;Mot de passe crypté;Activé", 1)
	parsed, err := kit.CSV.Parse(ctx, admin, org.ID, strings.NewReader(edited))
	if err != nil {
		return err
	}
	plan, err := kit.CSV.Plan(ctx, admin, org.ID, parsed, nil)
	if err != nil {
		return err
	}
	for _, a := range plan.Actions {
		fmt.Printf("preview: line %d %s %s %s\n", a.Line, a.Kind.Text(membership.French), a.Login, a.Changes.Text(membership.French, kit.Labels))
	}
	if _, err := kit.CSV.Apply(ctx, admin, org.ID, plan, nil); err != nil {
		return err
	}

	// Zoé logs in.
	if _, err := m.Authenticate(ctx, org.ID, "zoe.lefevre", "zoe's own password"); err != nil {
		return err
	}
	// Pages of two.
	for q := (roster.ListQuery{Limit: 2, IncludePending: true}); ; {
		page, err := m.List(ctx, admin, org.ID, q)
		if err != nil {
			return err
		}
		for _, r := range page.Rows() {
			fmt.Printf("  %-14s %-11s %s\n", cmp.Or(r.Name, r.Email), kit.Labels.StatusLabel(r.Status, membership.French), kit.Labels.RoleName(r.Role, membership.French))
		}
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}

	// Two JSON handlers; errors go out as memberkit explains them.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orgs/{org}/members", func(w http.ResponseWriter, r *http.Request) {
		page, err := m.List(r.Context(), actorOf(r), r.PathValue("org"), roster.ListQuery{Group: r.URL.Query().Get("group")})
		reply(w, page.Rows(), err)
	})
	mux.HandleFunc("POST /orgs/{org}/members/{id}/deactivate", func(w http.ResponseWriter, r *http.Request) {
		member, err := m.Deactivate(r.Context(), actorOf(r), r.PathValue("org"), r.PathValue("id"))
		reply(w, member, err)
	})
	for _, req := range []*http.Request{
		httptest.NewRequest("GET", "/orgs/"+org.ID+"/members?group=paris", nil),
		httptest.NewRequest("POST", "/orgs/"+org.ID+"/members/"+alice.Member.ID+"/deactivate", nil),
	} {
		req.Header.Set("X-Member", alice.Member.ID) // the host's session says who this is
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		body := strings.TrimSpace(rec.Body.String())
		fmt.Println(req.Method, rec.Code, body[:min(100, len(body))])
	}
	return nil
}

// actorOf is the member the host's session names.
func actorOf(r *http.Request) membership.Actor {
	return membership.ActorMember(r.Header.Get("X-Member"))
}

// reply writes v as JSON, or the error as memberkit explains it: its code,
// HTTP status and a message in the language the client asked for.
func reply(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		p := membership.Explain(err, membership.French)
		w.WriteHeader(p.Status)
		v = p
	}
	_ = json.NewEncoder(w).Encode(v)
}
