package invite_test

import (
	"context"
	"fmt"
	"log"

	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store/memstore"
)

// An admin invites a collaborator; the collaborator follows the link and
// joins with the invited role.
func Example() {
	ctx := context.Background()
	st := memstore.New()
	hasher := membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1}) // cheap, for the example
	members, err := roster.New(st, &roster.Options{Hasher: hasher})
	if err != nil {
		log.Fatal(err)
	}
	org, _ := members.CreateOrg(ctx, roster.NewOrg{Name: "Conance", Plan: membership.FreePlan()})
	admin, _ := members.Add(ctx, membership.SystemActor("signup"), org.ID, roster.NewMember{
		FirstName: "Alice", LastName: "Durand", RoleID: membership.RoleAdmin, Password: "correct horse battery"})

	// The host sends the email; here we keep the link.
	var link string
	mailer := invite.SenderFunc(func(ctx context.Context, inv membership.Invitation, token string) error {
		link = "https://app.example.com/join?token=" + token
		return nil
	})
	invitations, err := invite.New(st, mailer, &invite.Options{Hasher: hasher})
	if err != nil {
		log.Fatal(err)
	}
	inv, err := invitations.Send(ctx, membership.ActorMember(admin.Member.ID), org.ID, invite.To{Email: "zoe@example.com", RoleID: membership.RoleUser})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("invited:", inv.Email, inv.DisplayStatus(inv.CreatedAt))

	// The invitee opens the link and gives their details.
	token := link[len("https://app.example.com/join?token="):]
	m, err := invitations.Accept(ctx, token, invite.Details{FirstName: "Zoé", LastName: "Lefèvre", Password: "a long passphrase"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("joined:", m.Login, m.RoleID, m.Status)
	_, err = invitations.Accept(ctx, token, invite.Details{FirstName: "Zoé", LastName: "Lefèvre", Password: "a long passphrase"})
	fmt.Println("again:", err)
	// Output:
	// invited: zoe@example.com pending
	// joined: zoe.lefevre user active
	// again: memberkit: invalid invitation
}
