package memberkit_test

import (
	"context"
	"fmt"
	"log"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store/memstore"
)

// One entry point: every service on one store, the hook and the sender
// set once.
func ExampleNew() {
	ctx := context.Background()
	mail := &invite.RecordingSender{} // the host's mailer
	kit, err := memberkit.New(memstore.New(), &memberkit.Options{
		Sender: mail,
		Hasher: membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1}), // fast, for the example only
		AfterCommit: func(_ context.Context, evs []membership.Event) {
			for _, e := range evs {
				fmt.Println("event:", e.Type)
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	org, _ := kit.Members.CreateOrg(ctx, roster.NewOrg{Name: "Conance", Plan: membership.FreePlan()})
	alice, _ := kit.Members.Add(ctx, membership.SystemActor("signup"), org.ID, roster.NewMember{FirstName: "Alice", LastName: "Durand", RoleID: membership.RoleAdmin, Password: "correct horse battery"})
	_, err = kit.Invitations.Send(ctx, membership.ActorMember(alice.Member.ID), org.ID, invite.To{Email: "zoe@conance.fr"})
	fmt.Println(err, len(mail.All()), "mail sent")
	// Output:
	// event: member.added
	// event: invitation.sent
	// <nil> 1 mail sent
}
