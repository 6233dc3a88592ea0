// Package roster is the coordinator's daily work on an org's members: add,
// activate and deactivate (one, many by ID, or everyone matching a filter
// such as a group), change role, remove and bring back, list and filter in
// keyset pages, manage custom roles, authenticate, change passwords, and
// review the roster.
//
// A [Service] wraps a [store.Store]. Every mutating call names its actor —
// a member whose role must grant the permission, a host account
// ([membership.ActorUser]) resolved to its member of the org inside the
// transaction, or [membership.SystemActor] for host automation — and runs
// inside one store
// Update, where the rules of package membership are applied: permissions,
// seats ([membership.ErrMemberLimit]), the last active admin
// ([membership.ErrLastAdmin]). Each change appends an audit event in the
// same transaction; [Options.AfterCommit] tells the host once it is
// committed.
//
// # Least privilege
//
// A member actor only grants a role whose every permission it holds — to
// itself or another, by Add, ChangeRole, UpdateRole, an invitation or an
// import — and only acts on members whose role's every permission it
// holds: a manager with members.manage cannot deactivate, remove, rename
// or re-password an admin ([membership.ErrForbidden], with the reason).
// Nobody changes their own role except an admin demoting themselves.
// [Service.ResetPassword] delivers the temporary password to the member
// through [Options.Notifier], never to the caller;
// [Service.IssueTemporaryPassword] returns it, to the system actor only.
// The rules are [membership.Authority]'s.
//
// # Accounts and the host's permissions
//
// A host with its own user accounts links each to its members
// ([membership.Member.UserID], one member per account in an org):
// [Service.Memberships] lists an account's orgs for a switcher,
// [Service.MemberOfUser] finds its member in one org, and
// [membership.ActorUser] lets a session hold only the account's ID. The
// host declares its own permissions in a [membership.Catalog]
// ([Options.Catalog]); custom roles hold them, admin holds them all, and
// [Service.Can] answers "may this account do that here?" from one indexed
// read.
//
// # Authentication
//
// [Service.Authenticate] gives one error, [membership.ErrInvalidCredentials],
// after the same hashing work, for an unknown org, an unknown login, a
// wrong password or a member who may not log in. Failures are counted in
// the store per org and login, and per client when the context names one
// ([membership.WithClient]): after a few, attempts must wait an
// exponentially growing delay, then the login is locked for a while
// ([*membership.ThrottleError]); every process shares the count. Hashes
// run a bounded number at a time ([Options.MaxConcurrentHashes]), so a
// burst of attempts waits its turn instead of exhausting memory. Right
// credentials that are a temporary password give a
// [*PasswordChangeRequiredError]: the member may do nothing until
// [Service.ChangePassword].
//
// # Sessions
//
// Each member carries a [membership.Member.SecurityStamp] that changes
// whenever they are deactivated, removed, change role or password. Record
// it in the session at login and call [Service.CheckSession] on each
// request — one indexed read — so that "il perd immédiatement accès"
// holds even if no hook ran.
//
// Passwords are hashed before the transaction starts, never while the
// org's lock is held. Members returned by the service never carry their
// password hash.
package roster
