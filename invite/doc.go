// Package invite sends, resends, cancels and accepts invitations: an admin
// invites a collaborator by email with a role; the collaborator follows
// the link, creates an account if needed, and joins the org with that
// role.
//
// # Tokens
//
// Each invitation carries a token of 32 bytes from crypto/rand, written as
// 43 URL-safe characters. Only its SHA-256 is stored, and it is compared in
// constant time; the token says nothing about the org or the member. The
// host's [Sender] receives the token once, after the invitation is
// committed, to put it in the link of the email. Resending issues a new
// token and a new expiry and kills the old token at once; canceling kills
// it too; accepting uses it up.
//
// Unknown, tampered, canceled, already used and expired tokens all give an
// error whose text is that of [membership.ErrInvitationInvalid]: a caller
// that shows it reveals nothing. Only errors.Is tells an expired token
// apart ([membership.ErrInvitationExpired]), so a host can offer the
// holder of a once-valid link to ask for a new one.
//
// # Seats
//
// A pending, unexpired invitation holds a seat: [Service.Send] refuses
// past the plan's limit with [membership.ErrMemberLimit], and
// [Service.Accept] checks again inside its transaction. Expired
// invitations stop holding a seat.
package invite
