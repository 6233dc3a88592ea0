// Package invitemail mails invitations after commit, through SMTP, driven
// by the relay (package relay): an invitation committed just before the
// process died is mailed when a relay runs again, and a resend never
// mails a dead token.
//
// It needs an invite.Service made with a TokenKey (invite.Options), so
// that each token can be derived again from the event that issued it
// instead of being stored or handed to a callback:
//
//	key := … // 32+ random bytes from the host's secret store, not the database
//	kit, _ := memberkit.New(st, &memberkit.Options{InvitationTokenKey: key})
//	m, _ := invitemail.New(kit.Invitations, invitemail.Options{
//		AcceptURL: "https://app.example.com/invitations/accept", // ?token=… is added
//		From:      "Acme <noreply@acme.example>",
//		Transport: &invitemail.SMTP{Addr: "smtp.example.com:587", Username: "…", Password: "…"},
//	})
//	r, _ := relay.New(st, nil)
//	go r.Run(ctx, m.Subscriber("invitation-mail"))
//
// Each invitation.sent or invitation.resent event becomes one email, in
// French or English (Options.Lang), text and HTML, from templates the host
// can replace ([ParseTemplates]). A failure to send is retried with the
// relay's backoff; a server's 5xx answer ([PermanentError]) is logged and
// not retried. [SMTP] speaks STARTTLS (required by default) or implicit
// TLS, and authenticates with PLAIN.
package invitemail
