// Package membership is memberkit's model and its rules: orgs, members,
// roles and permissions, invitations, audit events, and the pure functions
// every service applies — permission checks, seat limits, the last-admin
// rule, login derivation, validation and password hashing.
//
// The package does no I/O and knows no store. The services (roster, invite,
// csvsync, domains) call its rules inside a store transaction, so each rule is written
// once and holds the same way on every store.
//
// # Vocabulary
//
// An [Org] is a tenant, a customer company. A [Member] is one person's
// membership of one org: a [Login] unique in the org, an optional email,
// names, a role, a [Status] and free-form groups. A [Role] is a named set of
// [Permission]s; the built-in roles are [RoleAdmin] (every permission) and
// [RoleUser] (read-only on members). An [Invitation] is a pending offer to
// join, sent by email, identified by the SHA-256 of a random token.
//
// A member may be linked to the host's own account ([Member.UserID]) and
// carry the host's [Attributes]. A host declares its own permissions in a
// [Catalog], beside memberkit's; an org may claim email [Domain]s and, once
// verified, let people at them join ([DomainPolicy]).
//
// # Seats and the last administrator
//
// Seats used are active members plus pending, unexpired invitations; an
// org's [Plan] caps them ([Plan.MemberLimit], 0 meaning unlimited) and
// [CheckSeats] returns [ErrMemberLimit] past the cap. An org always keeps at
// least one active admin: [CheckAdmins] returns [ErrLastAdmin] otherwise.
//
// # Errors
//
// Sentinel errors ([ErrNotFound], [ErrForbidden], [ErrLastAdmin],
// [ErrMemberLimit], …) are matched with [errors.Is]. Validation failures are
// [*ValidationError] values that name the field and match [ErrInvalid].
package membership
