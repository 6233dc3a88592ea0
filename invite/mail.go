package invite

import (
	"context"
	"crypto/subtle"
	"errors"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Mail is what an invitation email needs, as [Service.ToMail] gives it.
type Mail struct {
	// Invitation is the invitation, without its token hash.
	Invitation membership.Invitation
	// Org is the org it invites to.
	Org membership.Org
	// Role is the role it grants, as the catalog declares it.
	Role membership.Role
	// Token is the secret of the link: string(Token) goes in the URL.
	// It prints as "[redacted]".
	Token membership.Secret
	// EventID is the invitation.sent or invitation.resent event that
	// issued the token: mail it as the message's ID, so that a mail sent
	// twice is recognisable.
	EventID string
}

// ErrNoTokenKey is returned by ToMail of a service made without
// Options.TokenKey: its tokens were random and cannot be given again.
var ErrNoTokenKey = membership.NewSentinel("no_token_key", 503, "invite: no TokenKey in the options: tokens cannot be derived again")

// ToMail returns the email an invitation.sent or invitation.resent event
// asks for, its token derived again from the event (Options.TokenKey).
// ok is false, with no error, when there is nothing to mail: an event of
// another type, an org or a role that no longer exists, or an invitation
// that is no longer pending and open, or whose live token is not this
// event's (resent since, canceled, accepted): a token already dead when
// ToMail reads the invitation is never mailed (one killed between this
// read and the mail's sending may be, and is refused at acceptance). The
// relay-driven mailer (package invitemail) calls it for each event.
func (s *Service) ToMail(ctx context.Context, ev membership.Event) (m Mail, ok bool, err error) {
	if ev.Type != membership.EventInvitationSent && ev.Type != membership.EventInvitationResent {
		return Mail{}, false, nil
	}
	if s.key == nil {
		return Mail{}, false, ErrNoTokenKey
	}
	token, hash, err := s.token(ev.ID)
	if err != nil {
		return Mail{}, false, err
	}
	err = s.st.View(ctx, ev.OrgID, func(tx store.Tx) error {
		inv, err := tx.Invitation(ctx, ev.SubjectID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if inv.State != membership.InvitationPending || !inv.Open(svc.Now(s.clock)) || subtle.ConstantTimeCompare(inv.TokenHash, hash) != 1 {
			return nil
		}
		org, err := tx.Org(ctx)
		if err != nil {
			return err
		}
		role, err := svc.NewRoles(tx, s.cat).Get(ctx, inv.RoleID)
		if errors.Is(err, store.ErrNotFound) {
			return nil // the role was deleted: the invitation cannot be accepted
		}
		if err != nil {
			return err
		}
		m, ok = Mail{Invitation: public(inv), Org: org, Role: role, Token: membership.Secret(token), EventID: ev.ID}, true
		return nil
	})
	if errors.Is(err, store.ErrNotFound) { // the org is gone
		return Mail{}, false, nil
	}
	return m, ok, err
}
