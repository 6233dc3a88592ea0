package invitemail_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/invitemail"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/relay"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store/memstore"
)

// outbox is a Transport that keeps the messages; refuse makes it refuse
// some recipients for good, fail makes every send fail.
type outbox struct {
	mu     sync.Mutex
	msgs   []*mail.Message
	refuse string
	fail   error
}

func (o *outbox) Send(_ context.Context, from string, to []string, msg []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return o.fail
	}
	if to[0] == o.refuse {
		return &invitemail.PermanentError{Err: &textproto.Error{Code: 550, Msg: "no such user"}}
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return err
	}
	o.msgs = append(o.msgs, m)
	return nil
}

// parts returns a message's text and HTML.
func parts(t *testing.T, m *mail.Message) (text, html string) {
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	require.NoError(t, err)
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextPart() // decodes quoted-printable
		if errors.Is(err, io.EOF) {
			return
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p)
		require.NoError(t, err)
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			html = string(b)
		} else {
			text = string(b)
		}
	}
}

func tokenOf(t *testing.T, text string) string {
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, "https://") {
			u, err := url.Parse(strings.TrimSpace(line))
			require.NoError(t, err)
			return u.Query().Get("token")
		}
	}
	t.Fatalf("no link in %q", text)
	return ""
}

type fixture struct {
	kit   *memberkit.Kit
	org   membership.Org
	admin membership.Actor
	box   *outbox
	m     *invitemail.Mailer
	r     *relay.Relay
	clock *membership.FakeClock
}

func setup(t *testing.T, lang membership.Lang) *fixture {
	ctx := context.Background()
	st := memstore.New()
	clock := membership.NewFakeClock(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	kit, err := memberkit.New(st, &memberkit.Options{Clock: clock, InvitationTokenKey: bytes.Repeat([]byte{7}, 32),
		Hasher: membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 16})})
	require.NoError(t, err)
	org, err := kit.Members.CreateOrg(ctx, roster.NewOrg{Name: "Café <Acme> & Fils"})
	require.NoError(t, err)
	admin, err := kit.Members.Add(ctx, membership.SystemActor("setup"), org.ID, roster.NewMember{FirstName: "Ada", LastName: "Admin", Email: "ada@acme.example", RoleID: membership.RoleAdmin, Password: "correct horse battery"})
	require.NoError(t, err)
	box := &outbox{}
	m, err := invitemail.New(kit.Invitations, invitemail.Options{AcceptURL: "https://app.example/invitations/accept?from=mail", From: "Acme <noreply@acme.example>",
		Transport: box, Clock: clock, Lang: func(invite.Mail) membership.Lang { return lang }})
	require.NoError(t, err)
	r, err := relay.New(st, &relay.Options{Clock: clock})
	require.NoError(t, err)
	return &fixture{kit: kit, org: org, admin: membership.ActorMember(admin.Member.ID), box: box, m: m, r: r, clock: clock}
}

// An invitation sent while no relay runs (as if the process died after
// the commit) is mailed by the next relay, once, in the chosen language,
// with a link whose token accepts it.
func TestMailedAfterCommitAndAccepted(t *testing.T) {
	ctx := context.Background()
	f := setup(t, membership.French)
	inv, err := f.kit.Invitations.Send(ctx, f.admin, f.org.ID, invite.To{Email: "bob@acme.example"})
	require.NoError(t, err)
	assert.Empty(t, f.box.msgs, "nothing is mailed inside Send")

	_, err = f.r.Pass(ctx, f.m.Subscriber("invitation-mail"))
	require.NoError(t, err)
	_, err = f.r.Pass(ctx, f.m.Subscriber("invitation-mail"))
	require.NoError(t, err)
	require.Len(t, f.box.msgs, 1, "mailed once")
	msg := f.box.msgs[0]
	assert.Equal(t, `"Acme" <noreply@acme.example>`, msg.Header.Get("From"))
	assert.Equal(t, "<bob@acme.example>", msg.Header.Get("To"))
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, "Invitation à rejoindre Café <Acme> & Fils", subject)
	assert.Regexp(t, `^<[0-9a-f-]{36}@acme\.example>$`, msg.Header.Get("Message-ID"), "the issuing event's ID, at the sender's domain")
	text, html := parts(t, msg)
	assert.Contains(t, text, "Vous êtes invité·e à rejoindre Café <Acme> & Fils en tant que Utilisateur")
	assert.Contains(t, text, "1 décembre 2026 à 09:00 (UTC)")
	assert.Contains(t, html, "Café &lt;Acme&gt; &amp; Fils", "the HTML escapes what the host stored")
	token := tokenOf(t, text)
	assert.Contains(t, html, "token="+token)
	assert.Contains(t, text, "from=mail", "the host's own query is kept")

	m, err := f.kit.Invitations.Accept(ctx, token, invite.Details{FirstName: "Bob", LastName: "Martin", Password: "a long enough password"})
	require.NoError(t, err)
	assert.Equal(t, inv.Email, m.Email)
}

// A resend kills the first token before any mail goes: only the live one
// is mailed; a canceled invitation is not mailed at all; an accepted one
// is not mailed again on replay.
func TestResendNeverMailsADeadToken(t *testing.T) {
	ctx := context.Background()
	f := setup(t, membership.English)
	inv, err := f.kit.Invitations.Send(ctx, f.admin, f.org.ID, invite.To{Email: "bob@acme.example"})
	require.NoError(t, err)
	_, err = f.kit.Invitations.Resend(ctx, f.admin, f.org.ID, inv.ID)
	require.NoError(t, err)
	gone, err := f.kit.Invitations.Send(ctx, f.admin, f.org.ID, invite.To{Email: "carl@acme.example"})
	require.NoError(t, err)
	require.NoError(t, f.kit.Invitations.Cancel(ctx, f.admin, f.org.ID, gone.ID))

	sub := f.m.Subscriber("invitation-mail")
	_, err = f.r.Pass(ctx, sub)
	require.NoError(t, err)
	require.Len(t, f.box.msgs, 1)
	text, _ := parts(t, f.box.msgs[0])
	assert.Contains(t, text, "You are invited to join")
	assert.Contains(t, text, "December 1, 2026 at 09:00 (UTC)")
	_, err = f.kit.Invitations.Accept(ctx, tokenOf(t, text), invite.Details{FirstName: "Bob", LastName: "Martin", Password: "a long enough password"})
	require.NoError(t, err)

	require.NoError(t, f.r.Replay(ctx, "invitation-mail", "", 0))
	_, err = f.r.Pass(ctx, sub)
	require.NoError(t, err)
	assert.Len(t, f.box.msgs, 1, "an accepted invitation is not mailed again")
}

// A failing server keeps the invitation for the relay's next try; a
// server that refuses an address for good does not hold the others back.
func TestFailuresRetriedPermanentRefusalsSkipped(t *testing.T) {
	ctx := context.Background()
	f := setup(t, membership.French)
	f.box.fail = errors.New("dial tcp: connection refused")
	f.box.refuse = "nobody@acme.example"
	_, err := f.kit.Invitations.Send(ctx, f.admin, f.org.ID, invite.To{Email: "nobody@acme.example"})
	require.NoError(t, err)
	_, err = f.kit.Invitations.Send(ctx, f.admin, f.org.ID, invite.To{Email: "bob@acme.example"})
	require.NoError(t, err)
	sub := f.m.Subscriber("invitation-mail")
	_, err = f.r.Pass(ctx, sub)
	require.ErrorContains(t, err, "connection refused")
	f.box.fail = nil
	f.clock.Set(f.clock.Now().Add(time.Minute))
	_, err = f.r.Pass(ctx, sub)
	require.NoError(t, err)
	require.Len(t, f.box.msgs, 1)
	assert.Equal(t, "<bob@acme.example>", f.box.msgs[0].Header.Get("To"))
}

// Without a TokenKey there is nothing to derive tokens from; options are
// checked.
func TestChecks(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	inv, err := invite.New(st, &invite.RecordingSender{}, nil)
	require.NoError(t, err)
	_, err = invitemail.New(inv, invitemail.Options{AcceptURL: "https://x.example/a", From: "a@x.example", Transport: &outbox{}})
	assert.ErrorIs(t, err, invite.ErrNoTokenKey, "a mailer needs a service with a TokenKey")
	_, err = invite.New(st, &invite.RecordingSender{}, &invite.Options{TokenKey: bytes.Repeat([]byte{1}, 32)})
	assert.ErrorContains(t, err, "not both")
	_, _, err = inv.ToMail(ctx, membership.Event{Type: membership.EventInvitationSent})
	assert.ErrorIs(t, err, invite.ErrNoTokenKey)
	_, ok, err := inv.ToMail(ctx, membership.Event{Type: membership.EventMemberAdded})
	assert.NoError(t, err)
	assert.False(t, ok)
	_, err = invite.New(st, nil, &invite.Options{TokenKey: []byte("short")})
	assert.ErrorContains(t, err, "TokenKey")

	for _, o := range []invitemail.Options{
		{AcceptURL: "https://x.example/a", From: "a@x.example"},
		{AcceptURL: "https://x.example/a", Transport: &outbox{}},
		{AcceptURL: "/relative", From: "a@x.example", Transport: &outbox{}},
	} {
		_, err := invitemail.New(inv, o)
		assert.Error(t, err)
	}
}

// A host's own templates replace memberkit's; a template missing a
// language is refused.
func TestHostTemplates(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, lang := range []string{"fr", "en"} {
		fsys["invitation."+lang+".subject.txt"] = &fstest.MapFile{Data: []byte("[" + lang + "] {{.OrgName}}")}
		fsys["invitation."+lang+".txt"] = &fstest.MapFile{Data: []byte("{{.Email}} {{.Link}}\n")}
		fsys["invitation."+lang+".html"] = &fstest.MapFile{Data: []byte(`<a href="{{.Link}}">{{.RoleName}}</a>`)}
	}
	tpl, err := invitemail.ParseTemplates(fsys)
	require.NoError(t, err)
	svc, err := invite.New(memstore.New(), nil, &invite.Options{TokenKey: bytes.Repeat([]byte{1}, 32)})
	require.NoError(t, err)
	m, err := invitemail.New(svc, invitemail.Options{AcceptURL: "https://x.example/a", From: "a@x.example", Transport: &outbox{}, Templates: tpl,
		Lang: func(invite.Mail) membership.Lang { return membership.English }})
	require.NoError(t, err)
	b, err := m.Message(invite.Mail{Invitation: membership.Invitation{Email: "z@x.example"}, Org: membership.Org{Name: "Zed"}, Role: membership.Role{ID: "user", Name: "User"}, Token: "tok"})
	require.NoError(t, err)
	msg, err := mail.ReadMessage(bytes.NewReader(b))
	require.NoError(t, err)
	assert.Equal(t, "[en] Zed", msg.Header.Get("Subject"))
	text, html := parts(t, msg)
	assert.Equal(t, "z@x.example https://x.example/a?token=tok\r\n", text)
	assert.Contains(t, html, `href="https://x.example/a?token=tok"`)

	delete(fsys, "invitation.en.html")
	_, err = invitemail.ParseTemplates(fsys)
	assert.ErrorContains(t, err, "invitation.en.html")
}

// fakeSMTP answers like a server that offers no STARTTLS.
func fakeSMTP(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				_, _ = io.WriteString(c, "220 fake ESMTP\r\n")
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch {
					case strings.HasPrefix(line, "EHLO"):
						_, _ = io.WriteString(c, "250-fake\r\n250 8BITMIME\r\n")
					case strings.HasPrefix(line, "MAIL FROM:<refused"):
						_, _ = io.WriteString(c, "550 sender refused\r\n")
					case strings.HasPrefix(line, "MAIL"):
						_, _ = io.WriteString(c, "250 ok\r\n")
					case strings.HasPrefix(line, "QUIT"):
						_, _ = io.WriteString(c, "221 bye\r\n")
						return
					default:
						_, _ = io.WriteString(c, "550 no\r\n")
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// STARTTLS is required unless told otherwise; a recipient refused with a
// 5xx is a PermanentError, a refused sender (the configuration's) is not;
// a server that does not answer fails at the context's deadline.
func TestSMTPTransportRules(t *testing.T) {
	addr := fakeSMTP(t)
	err := (&invitemail.SMTP{Addr: addr}).Send(context.Background(), "a@x.example", []string{"b@x.example"}, []byte("x"))
	assert.ErrorContains(t, err, "STARTTLS")
	err = (&invitemail.SMTP{Addr: addr, TLS: invitemail.NoTLS}).Send(context.Background(), "a@x.example", []string{"b@x.example"}, []byte("x"))
	var pe *invitemail.PermanentError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 550, pe.Err.Code)
	err = (&invitemail.SMTP{Addr: addr, TLS: invitemail.NoTLS}).Send(context.Background(), "refused@x.example", []string{"b@x.example"}, []byte("x"))
	require.Error(t, err)
	assert.False(t, errors.As(err, &pe), "a refused sender is retried, not dropped: %v", err)

	ln, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never speaks
	require.NoError(t, err)
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = (&invitemail.SMTP{Addr: ln.Addr().String()}).Send(ctx, "a@x.example", []string{"b@x.example"}, []byte("x"))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
