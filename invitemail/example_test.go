package invitemail_test

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/mail"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/invitemail"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/relay"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store/memstore"
)

// printer is a Transport that prints instead of sending; an app gives an
// *invitemail.SMTP.
type printer struct{}

func (printer) Send(_ context.Context, from string, to []string, msg []byte) error {
	m, _ := mail.ReadMessage(bytes.NewReader(msg))
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	fmt.Println(from, "→", to[0]+":", subject)
	return nil
}

// Invitations are mailed by the relay after commit: Send only commits.
func Example() {
	ctx := context.Background()
	st := memstore.New()
	key := []byte("32 or more secret bytes, kept out of the database")
	kit, _ := memberkit.New(st, &memberkit.Options{InvitationTokenKey: key})
	org, _ := kit.Members.CreateOrg(ctx, roster.NewOrg{Name: "Acme"})
	ada, _ := kit.Members.Add(ctx, membership.SystemActor("setup"), org.ID, roster.NewMember{FirstName: "Ada", LastName: "Lovelace", RoleID: membership.RoleAdmin, Password: "correct horse battery"})
	_, err := kit.Invitations.Send(ctx, membership.ActorMember(ada.Member.ID), org.ID, invite.To{Email: "bob@acme.example"})
	fmt.Println("sent:", err)

	m, _ := invitemail.New(kit.Invitations, invitemail.Options{
		AcceptURL: "https://app.example/invitations/accept",
		From:      "Acme <noreply@acme.example>",
		Transport: printer{},
	})
	r, _ := relay.New(st, nil)
	_, err = r.Pass(ctx, m.Subscriber("invitation-mail")) // in an app: go r.Run(ctx, m.Subscriber("invitation-mail"))
	fmt.Println("mailed:", err)
	// Output:
	// sent: <nil>
	// noreply@acme.example → bob@acme.example: Invitation à rejoindre Acme
	// mailed: <nil>
}
