// Command scimserver serves memberkit's SCIM 2.0 handler for one org on a
// fresh SQLite file in a temporary directory, until interrupted, so that
// an identity provider (or a SCIM test suite) can be pointed at it:
//
//	go run ./examples/scimserver -addr 127.0.0.1:8099 -token T
//
// The base URL is http://127.0.0.1:8099/scim/v2 and the bearer token is
// T. The org has an admin (login "admin") and room for -seats members.
// The directory is removed on exit.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	_ "modernc.org/sqlite"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/directory"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/scim"
	"github.com/memberkit/memberkit/store/sqlstore"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8099", "address to listen on")
	token := flag.String("token", "", "the bearer token the identity provider presents (required)")
	seats := flag.Int("seats", 100_000, "the org's seat limit")
	flag.Parse()
	if *token == "" {
		log.Fatal("scimserver: -token is required")
	}
	if err := run(*addr, *token, *seats); err != nil {
		log.Fatal(err)
	}
}

func run(addr, token string, seats int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "memberkit-scim-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "members.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := sqlstore.New(db, sqlstore.SQLite, nil)
	if err != nil {
		return err
	}
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	kit, err := memberkit.New(st, nil)
	if err != nil {
		return err
	}
	sys := membership.SystemActor("scimserver")
	org, err := kit.Members.CreateOrg(ctx, roster.NewOrg{Name: "Demo", Plan: membership.PremiumPlan(seats)})
	if err != nil {
		return err
	}
	if _, err := kit.Members.Add(ctx, sys, org.ID, roster.NewMember{Login: "admin", FirstName: "Admin", LastName: "Demo", RoleID: membership.RoleAdmin, NoPassword: true}); err != nil {
		return err
	}
	// A demo takes the token given, however short; a deployment issues
	// one (directory.Service.IssueToken) or imports 32 random bytes or more.
	if len(token) < 32 {
		log.Printf("scimserver: a token of %d characters is fine for a demo; a real one is 32 random characters or more", len(token))
	}
	dirs, err := directory.New(st, &directory.Options{MinImportedSecret: 1})
	if err != nil {
		return err
	}
	if _, err := dirs.ImportToken(ctx, sys, org.ID, "scimserver", token); err != nil {
		return err
	}
	h, err := scim.New(scim.Options{Members: kit.Members, Directory: dirs})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("SCIM 2.0 for org %s at http://%s/scim/v2 (Authorization: Bearer <token>); data in %s; Ctrl-C to stop\n", org.ID, ln.Addr(), dir)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
