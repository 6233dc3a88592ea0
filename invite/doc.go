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
// A client that presents many invalid tokens (named with
// [membership.WithClient]) is throttled on Lookup and Accept like a
// login ([*membership.ThrottleError]).
//
// # Power
//
// A member actor only invites (or resends an invitation) with a role whose
// every permission it holds. The invitation rests on that power: if its
// sender is deactivated, removed or demoted below its role before it is
// accepted, it can no longer be accepted (errors.Is matches
// [membership.ErrInvitationInvalid] and [membership.ErrForbidden]), and
// the refusal is an audit event.
//
// # Seats
//
// A pending, unexpired invitation holds a seat: [Service.Send] refuses
// past the plan's limit with [membership.ErrMemberLimit], and
// [Service.Accept] checks again inside its transaction. Expired
// invitations stop holding a seat.
package invite
