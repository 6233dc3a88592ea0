// Command webadmin mounts memberkit's screens and JSON API (package
// memberhttp) on SQLite with a demo org: the host's part is a sign-in
// page and the Identify function that tells memberhttp who asks.
//
//	go run ./examples/webadmin            # demo org on a temporary SQLite file
//	go run ./examples/webadmin -db my.db -org ORG_ID
//
// Then open http://127.0.0.1:8080/ and sign in as alice.durand (admin) or
// lea.moreau (a "Support" role that manages members but not roles).
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	_ "modernc.org/sqlite"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

// run serves until Ctrl-C or SIGTERM, then removes the demo's temporary
// directory (run returns, so its deferred calls run, where log.Fatal
// would have skipped them).
func run() error {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	dbPath := flag.String("db", "", "SQLite file; default a new demo database in a temporary directory")
	orgID := flag.String("org", "", "org to administer; default a new demo org")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	if *dbPath == "" {
		dir, err := os.MkdirTemp("", "memberkit-webadmin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*dbPath = filepath.Join(dir, "members.db")
	}
	st, err := openSQLite(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer st.DB().Close()
	if *orgID == "" {
		org, err := Seed(ctx, st, nil)
		if err != nil {
			return err
		}
		*orgID = org.ID
		fmt.Printf("demo org %s in %s\nlog in as alice.durand / %s\n", org.ID, *dbPath, DemoPassword)
	}
	handler, err := NewSite(st, *orgID, "http://"+*addr, logger, nil)
	if err != nil {
		return err
	}
	fmt.Printf("listening on http://%s\n", *addr)
	hs := &http.Server{Addr: *addr, Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(shutdown)
	}()
	if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func openSQLite(ctx context.Context, path string) (*sqlstore.Store, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)")
	if err != nil {
		return nil, err
	}
	st, err := sqlstore.New(db, sqlstore.SQLite, nil)
	if err != nil {
		return nil, err
	}
	return st, st.Migrate(ctx)
}

// DemoPassword is the password of every demo member.
const DemoPassword = "demo-password-2026"

// Seed creates the demo org: two admins, a "Support" custom role that may
// manage members (held by Léa Moreau), and members in the Paris and Lyon
// groups.
func Seed(ctx context.Context, st store.Store, hasher membership.Hasher) (membership.Org, error) {
	svc, err := roster.New(st, &roster.Options{Hasher: hasher})
	if err != nil {
		return membership.Org{}, err
	}
	org, err := svc.CreateOrg(ctx, roster.NewOrg{Name: "Conance", Plan: membership.PremiumPlan(25), Features: []membership.Feature{membership.FeatureCSV}})
	if err != nil {
		return org, err
	}
	sys := membership.SystemActor("demo")
	people := []roster.NewMember{
		{FirstName: "Alice", LastName: "Durand", Email: "alice@conance.example", RoleID: membership.RoleAdmin, Groups: []string{"Direction"}},
		{FirstName: "Bruno", LastName: "Lefèvre", Email: "bruno@conance.example", RoleID: membership.RoleAdmin, Groups: []string{"Lyon"}},
		{FirstName: "Paul", LastName: "Martin", Email: "paul@conance.example", Groups: []string{"Paris"}},
		{FirstName: "Pia", LastName: "Bernard", Email: "pia@conance.example", Groups: []string{"Paris"}},
		{FirstName: "Pierre", LastName: "Petit", Groups: []string{"Paris", "Ventes"}},
		{FirstName: "Léa", LastName: "Moreau", Email: "lea@conance.example", Groups: []string{"Lyon"}},
		{FirstName: "Zoé", LastName: "Lefèvre-Dubois", Email: "zoe@conance.example", Groups: []string{"Lyon", "Ventes"}},
	}
	support, err := svc.CreateRole(ctx, sys, org.ID, "Support")
	if err != nil {
		return org, err
	}
	if _, err := svc.UpdateRole(ctx, sys, org.ID, support.ID, "Support", []membership.Permission{
		membership.PermMembersRead, membership.PermMembersManage, membership.PermInvitationsManage}); err != nil {
		return org, err
	}
	for _, p := range people {
		p.Password = DemoPassword
		if p.FirstName == "Léa" {
			p.RoleID = support.ID
		}
		if _, err := svc.Add(ctx, sys, org.ID, p); err != nil {
			return org, err
		}
	}
	return org, nil
}
