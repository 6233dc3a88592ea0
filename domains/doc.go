// Package domains lets an org claim the email domains of its people, prove
// them, and decide what they do.
//
// An org claims a domain ([Service.Claim]) and receives a token; it
// proves the claim by publishing a DNS TXT record
// (membership.Domain.VerificationRecord: "_memberkit-challenge.<domain>"
// carrying "memberkit-verification=<token>") and calling [Service.Verify],
// or the host proves it its own way and calls [Service.MarkVerified]. A
// domain belongs to at most one org once verified; until then several orgs
// may claim it.
//
// A verified domain then has a policy ([Service.SetPolicy]):
//
//   - none: the domain is the org's, nothing more;
//   - suggest: [Service.Suggest] lists the org to a new user whose
//     address is at the domain, who may then ask for an invitation;
//   - auto-join: [Service.Join] lets such a user in at once, with the
//     domain's role (never admin), within the plan's seats, recorded as a
//     member.joined event.
//
// An org may also invite only addresses at its verified domains
// ([Service.RestrictInvitations]); package invite enforces it.
//
// Suggest and Join are the host's calls in its sign-up flow, for a person
// whose address the host has verified: memberkit trusts the host on that.
package domains
