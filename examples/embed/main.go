// Command embed is the README's embedding snippet as a program, so that the
// snippet always compiles and runs (internal/testkit/doccheck checks the README
// shows this exact code).
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite"

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
func run(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := sqlstore.New(db, sqlstore.SQLite, nil) // or sqlstore.Postgres, sqlstore.MySQL
	if err != nil {
		return err
	}
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	members, err := roster.New(st, nil) // argon2id (OWASP parameters), system clock
	if err != nil {
		return err
	}
	org, err := members.CreateOrg(ctx, roster.NewOrg{Name: "Acme", Plan: membership.FreePlan()})
	if err != nil {
		return err
	}
	// The host's signup flow adds the first admin as the system actor.
	alice, err := members.Add(ctx, membership.SystemActor("signup"), org.ID, roster.NewMember{
		FirstName: "Alice", LastName: "Durand", RoleID: membership.RoleAdmin, Password: "correct horse battery"})
	if err != nil {
		return err
	}
	admin := membership.ActorMember(alice.Member.ID) // every later call names its actor
	zoe, err := members.Add(ctx, admin, org.ID, roster.NewMember{FirstName: "Zoé", LastName: "Lefèvre", Groups: []string{"Paris"}})
	if err != nil {
		return err
	}
	fmt.Println(zoe.Member.Login, "must change", zoe.TemporaryPassword != "") // zoe.lefevre must change true
	if _, err := members.DeactivateWhere(ctx, admin, org.ID, store.MemberFilter{Group: "Paris"}); err != nil {
		return err
	}
	_, err = members.Remove(ctx, admin, org.ID, alice.Member.ID)
	fmt.Println("last admin kept:", errors.Is(err, membership.ErrLastAdmin)) // true
	return nil
}

// README:end
