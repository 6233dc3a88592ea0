package scim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
)

// BenchmarkDirectorySync measures an identity provider's first sync and
// the equivalent CSV import on the same kind of store, in one run:
//
//   - scim-first-sync: for each of n users, the provider asks whether
//     the userName exists (GET with a filter, as Okta does) and creates
//     it (POST), over HTTP on loopback, one request at a time;
//   - csv-import: one file with the same n users, parsed, planned and
//     applied by csvsync;
//   - scim-group-patch: one PATCH putting half of them (5,000 of 10,000)
//     in a group;
//   - csv-group: the same change by a CSV import with a Groupes column.
//
// n is MEMBERKIT_SCIM_USERS (default 10,000). Every store of the matrix
// whose server is configured is measured:
//
//	go test ./internal/testkit/suites/scim -run '^$' -bench DirectorySync -benchtime 1x
func BenchmarkDirectorySync(b *testing.B) {
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("MEMBERKIT_SCIM_USERS")); err == nil && v > 0 {
		n = v
	}
	for _, k := range testdb.Kinds() {
		if k.Name == "pgbouncer" || k.Name == "galera" {
			continue
		}
		b.Run(k.Name, func(b *testing.B) {
			b.Run("scim-first-sync", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					e := newEnv(b, k.New(b), n+10)
					b.StartTimer()
					for i := range n {
						user := fmt.Sprintf("user%05d@acme.example", i)
						if r := e.do("GET", "/Users?filter="+url.QueryEscape(fmt.Sprintf("userName eq %q", user)), nil); r.status != http.StatusOK {
							b.Fatal(r.raw)
						}
						if r := e.do("POST", "/Users", entraUser(user, "User", fmt.Sprintf("N%05d", i), fmt.Sprintf("ext-%d", i))); r.status != http.StatusCreated {
							b.Fatal(r.raw)
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n*b.N), "µs/user")
			})
			b.Run("csv-import", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					e := newEnv(b, k.New(b), n+10)
					svc, err := csvsync.New(e.kit.Store, &csvsync.Options{Hasher: fastHasher()})
					if err != nil {
						b.Fatal(err)
					}
					data := rosterFile(n, 0)
					b.StartTimer()
					e.importFile(b, svc, data)
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n*b.N), "µs/user")
			})
			half := n / 2
			b.Run("scim-group-patch", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					e := newEnv(b, k.New(b), n+10)
					svc, _ := csvsync.New(e.kit.Store, &csvsync.Options{Hasher: fastHasher()})
					e.importFile(b, svc, rosterFile(n, 0))
					r := e.do("POST", "/Groups", map[string]any{"displayName": "Moitié"})
					g := r.str("id")
					var members []any
					for q := (roster.ListQuery{Text: "acme.example", Limit: roster.MaxPageSize}); len(members) < half; {
						page, err := e.kit.Members.List(e.ctx, sys, e.org.ID, q)
						if err != nil {
							b.Fatal(err)
						}
						for _, m := range page.Members[:min(len(page.Members), half-len(members))] {
							members = append(members, map[string]any{"value": m.ID})
						}
						if q.After = page.Next; q.After == "" {
							break
						}
					}
					body := patchOp(op("Add", "members", members))
					b.StartTimer()
					if r := e.do("PATCH", "/Groups/"+g+"?excludedAttributes=members", body); r.status != http.StatusOK {
						b.Fatal(r.raw)
					}
				}
			})
			b.Run("csv-group", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					e := newEnv(b, k.New(b), n+10)
					svc, _ := csvsync.New(e.kit.Store, &csvsync.Options{Hasher: fastHasher()})
					e.importFile(b, svc, rosterFile(n, 0))
					data := rosterFile(n, half)
					b.StartTimer()
					e.importFile(b, svc, data)
				}
			})
		})
	}
}

// rosterFile is a CSV of the admin and n users; the first grouped of them
// carry the group Moitié.
func rosterFile(n, grouped int) string {
	var sb strings.Builder
	sb.WriteString("Identifiant;Nom;Prénom;Adresse e-mail;Etat;Groupes\n")
	sb.WriteString("ada;Admin;Ada;;Activé;\n")
	for i := range n {
		g := ""
		if i < grouped {
			g = "Moitié"
		}
		fmt.Fprintf(&sb, "user%05d@acme.example;N%05d;User;user%05d@acme.example;Activé;%s\n", i, i, i, g)
	}
	return sb.String()
}

func (e *env) importFile(b *testing.B, svc *csvsync.Service, data string) {
	file, err := csvsync.Parse(strings.NewReader(data), nil)
	if err != nil {
		b.Fatal(err)
	}
	plan, err := svc.Plan(e.ctx, sys, e.org.ID, file, &csvsync.PlanOptions{TemporaryPassword: "bienvenue-2026"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Apply(e.ctx, sys, e.org.ID, plan, nil); err != nil {
		b.Fatal(err)
	}
	_ = membership.English
}
