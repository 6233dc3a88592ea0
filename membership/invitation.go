package membership

import "time"

// InvitationState is the stored state of an invitation. Expiry is not a
// state: a pending invitation past its ExpiresAt is expired, see
// [Invitation.DisplayStatus].
type InvitationState string

// Invitation states.
const (
	InvitationPending  InvitationState = "pending"
	InvitationAccepted InvitationState = "accepted"
	InvitationCanceled InvitationState = "canceled"
)

// DefaultInvitationTTL is how long an invitation stays valid: 7 days.
const DefaultInvitationTTL = 7 * 24 * time.Hour

// Invitation is an offer to join an org with a role, sent by email. Only the
// SHA-256 of its token is stored.
type Invitation struct {
	ID        string
	OrgID     string
	Email     string
	RoleID    string
	TokenHash []byte // SHA-256 of the token; the token itself is never stored
	State     InvitationState
	InvitedBy string // actor that sent it (see Actor.String)
	SendCount int    // 1 after the first send, +1 per resend

	CreatedAt  time.Time
	SentAt     time.Time // last send or resend
	ExpiresAt  time.Time
	AcceptedAt time.Time // zero unless accepted
	MemberID   string    // the member it created or restored, once accepted
	UpdatedAt  time.Time
}

// Expired reports whether a pending invitation is past its expiry at now.
func (i Invitation) Expired(now time.Time) bool {
	return i.State == InvitationPending && !now.Before(i.ExpiresAt)
}

// Open reports whether the invitation is pending and unexpired at now: it
// uses a seat and can be accepted.
func (i Invitation) Open(now time.Time) bool {
	return i.State == InvitationPending && now.Before(i.ExpiresAt)
}

// DisplayStatus returns "pending", "expired", "accepted" or "canceled".
func (i Invitation) DisplayStatus(now time.Time) string {
	if i.Expired(now) {
		return "expired"
	}
	return string(i.State)
}
