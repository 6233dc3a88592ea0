package invite

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/memberkit/memberkit/membership"
)

// Sender delivers invitations; the host implements it (an email with a
// link carrying the token). It is called after the invitation is
// committed, once per send or resend. token is the only copy of the
// secret: put it in the link, never log it.
type Sender interface {
	SendInvitation(ctx context.Context, inv membership.Invitation, token string) error
}

// SenderFunc adapts a function to [Sender].
type SenderFunc func(ctx context.Context, inv membership.Invitation, token string) error

// SendInvitation calls f.
func (f SenderFunc) SendInvitation(ctx context.Context, inv membership.Invitation, token string) error {
	return f(ctx, inv, token)
}

// Sent is one invitation a [RecordingSender] received.
type Sent struct {
	Invitation membership.Invitation
	Token      membership.Secret // prints as "[redacted]"; string(Token) is the token
}

// RecordingSender records what it is asked to send, for tests. Set Fail to
// make the next sends fail. It is safe for concurrent use.
type RecordingSender struct {
	mu   sync.Mutex
	sent []Sent
	// Fail, when not nil, is returned by SendInvitation (and nothing is
	// recorded).
	Fail error
}

// SendInvitation records the invitation and its token.
func (r *RecordingSender) SendInvitation(_ context.Context, inv membership.Invitation, token string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return r.Fail
	}
	r.sent = append(r.sent, Sent{Invitation: inv, Token: membership.Secret(token)})
	return nil
}

// All returns everything sent so far.
func (r *RecordingSender) All() []Sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Sent(nil), r.sent...)
}

// TokenFor returns the last token sent to email ("" if none).
func (r *RecordingSender) TokenFor(email string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.sent) - 1; i >= 0; i-- {
		if strings.EqualFold(r.sent[i].Invitation.Email, email) {
			return string(r.sent[i].Token)
		}
	}
	return ""
}

// ErrSendFailed matches a [*SendError].
var ErrSendFailed = membership.NewSentinel("send_failed", 502, "memberkit: invitation saved but not sent")

// SendError reports that the invitation was committed but the Sender
// failed. The invitation stays pending: resend it.
type SendError struct {
	Invitation membership.Invitation
	Err        error
}

func (e *SendError) Error() string {
	return fmt.Sprintf("memberkit: invitation %s to %s saved but not sent (resend it): %v", e.Invitation.ID, e.Invitation.Email, e.Err)
}

// Unwrap returns ErrSendFailed and the sender's error.
func (e *SendError) Unwrap() []error { return []error{ErrSendFailed, e.Err} }

// Explain reads it as send_failed (502) whatever the sender returned: the
// invitation is saved, only its delivery failed.
func (e *SendError) Explain(lang membership.Lang) membership.Problem {
	return membership.Problem{Code: "send_failed", Status: http.StatusBadGateway, Message: membership.Message(lang, "send_failed")}
}
