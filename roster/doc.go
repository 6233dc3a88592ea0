// Package roster is the coordinator's daily work on an org's members: add,
// activate and deactivate (one, many by ID, or everyone matching a filter
// such as a group), change role, remove and bring back, list and filter in
// keyset pages, manage custom roles, authenticate, change passwords, and
// review the roster.
//
// A [Service] wraps a [store.Store]. Every mutating call names its actor —
// a member whose role must grant the permission, or
// [membership.SystemActor] for host automation — and runs inside one store
// Update, where the rules of package membership are applied: permissions,
// seats ([membership.ErrMemberLimit]), the last active admin
// ([membership.ErrLastAdmin]). Each change appends an audit event in the
// same transaction; [Options.AfterCommit] tells the host once it is
// committed, for example to revoke the sessions of a member just
// deactivated.
//
// Passwords are hashed before the transaction starts, never while the
// org's lock is held. Members returned by the service never carry their
// password hash.
package roster
