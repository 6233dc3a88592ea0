package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/invitemail"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/relay"
	"github.com/memberkit/memberkit/roster"
)

// Environment of the SMTP round trip; .ci/run starts Mailpit and sets them.
const (
	smtpEnv    = "MEMBERKIT_SMTP_ADDR"   // e.g. 127.0.0.1:1025
	smtpCAEnv  = "MEMBERKIT_SMTP_CA"     // PEM of the server's certificate (STARTTLS)
	mailpitEnv = "MEMBERKIT_MAILPIT_URL" // e.g. http://127.0.0.1:8025
)

// mailpit reads messages back through Mailpit's API.
type mailpit struct{ base string }

type mpSummary struct {
	ID      string
	Subject string
	To      []struct{ Address string }
}

func (m mailpit) get(t *testing.T, path string, v any) {
	resp, err := http.Get(m.base + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, path)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

// to returns the messages to an address, waiting a little for them.
func (m mailpit) to(t *testing.T, addr string, want int) []mpSummary {
	var out []mpSummary
	for range 50 {
		var res struct{ Messages []mpSummary }
		m.get(t, "/api/v1/search?query="+url.QueryEscape("to:"+addr), &res)
		out = res.Messages
		if len(out) >= want {
			return out
		}
		time.Sleep(100 * time.Millisecond)
	}
	return out
}

// The invitation email goes through a real SMTP server (STARTTLS and
// PLAIN authentication), is read back from it, and its link accepts the
// invitation; the mail is driven by a relay started after the commit,
// and the token a resend killed is never mailed.
func TestInvitationMailRoundTrip(t *testing.T) {
	addr, api := os.Getenv(smtpEnv), os.Getenv(mailpitEnv)
	if addr == "" || api == "" {
		t.Skipf("SMTP round trip skipped: set %s and %s (and %s for STARTTLS) to a Mailpit server; .ci/run starts one", smtpEnv, mailpitEnv, smtpCAEnv)
	}
	transport := &invitemail.SMTP{Addr: addr, Username: "memberkit", Password: "secret", TLS: invitemail.NoTLS}
	if ca := os.Getenv(smtpCAEnv); ca != "" {
		pem, err := os.ReadFile(ca)
		require.NoError(t, err)
		roots := x509.NewCertPool()
		require.True(t, roots.AppendCertsFromPEM(pem))
		transport.TLS, transport.TLSConfig = invitemail.StartTLS, &tls.Config{RootCAs: roots}
	}
	ctx := context.Background()
	st := testdb.SQLite(t)
	key := make([]byte, 32)
	copy(key, "a key the host keeps out of the database")
	kit, err := memberkit.New(st, &memberkit.Options{InvitationTokenKey: key, Hasher: membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 16})})
	require.NoError(t, err)
	org, err := kit.Members.CreateOrg(ctx, roster.NewOrg{Name: "Acme Mail"})
	require.NoError(t, err)
	admin, err := kit.Members.Add(ctx, membership.SystemActor("setup"), org.ID, roster.NewMember{FirstName: "Ada", LastName: "Admin", Email: "ada@acme.example", RoleID: membership.RoleAdmin, Password: "correct horse battery"})
	require.NoError(t, err)
	actor := membership.ActorMember(admin.Member.ID)
	to := fmt.Sprintf("bob-%d@acme.example", time.Now().UnixNano())
	inv, err := kit.Invitations.Send(ctx, actor, org.ID, invite.To{Email: to})
	require.NoError(t, err)
	_, err = kit.Invitations.Resend(ctx, actor, org.ID, inv.ID) // the first token dies before any mail

	require.NoError(t, err)
	m, err := invitemail.New(kit.Invitations, invitemail.Options{AcceptURL: "https://app.example/accept", From: "Acme <noreply@acme.example>", Transport: transport,
		Lang: func(invite.Mail) membership.Lang { return membership.English }})
	require.NoError(t, err)
	r, err := relay.New(st, nil)
	require.NoError(t, err)
	n, err := r.Pass(ctx, m.Subscriber("invitation-mail"))
	require.NoError(t, err)
	assert.Equal(t, 2, n, "both events are read")

	mp := mailpit{base: api}
	msgs := mp.to(t, to, 1)
	require.Len(t, msgs, 1, "one mail: the resend's; the dead token is not mailed")
	assert.Equal(t, "Invitation to join Acme Mail", msgs[0].Subject)
	var full struct{ Text, HTML string }
	mp.get(t, "/api/v1/message/"+msgs[0].ID, &full)
	link := regexp.MustCompile(`https://app\.example/accept\?token=[A-Za-z0-9_-]+`).FindString(full.Text)
	require.NotEmpty(t, link, full.Text)
	assert.Contains(t, full.HTML, link)
	u, err := url.Parse(link)
	require.NoError(t, err)
	member, err := kit.Invitations.Accept(ctx, u.Query().Get("token"), invite.Details{FirstName: "Bob", LastName: "Martin", Password: "a long enough password"})
	require.NoError(t, err)
	assert.Equal(t, to, member.Email)
}
