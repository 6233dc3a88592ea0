package membership

import (
	"fmt"
	"slices"
)

// Authority is what an actor may do in one org: the actor, and for a member
// actor its member record and role, read inside the org's transaction. The
// services build one per call and ask it before every act, so that the
// rules of least privilege are written here once:
//
//   - an actor uses a permission only if its role holds it ([Authority.Require]);
//   - an actor grants a role — to itself or another, directly, by
//     invitation or by import — only if it holds every permission of that
//     role ([Authority.CanGrant]);
//   - an actor acts on a member — changes, activates, deactivates,
//     removes them — only if it holds every permission of that member's
//     role ([Authority.CanActOn]), so a manager cannot touch an admin;
//   - an actor sets another member's password or email only if it
//     outranks them, holding strictly more ([Authority.CanSetCredentials]),
//     so that a peer cannot take over a peer's account;
//   - nobody changes their own role, except an admin demoting themselves
//     (the last-admin rule still applies) ([Authority.CanChangeRole]);
//   - a member who must change a temporary password may do nothing else.
//
// The system actor (host automation) holds every power.
type Authority struct {
	Actor  Actor
	Member *Member // the actor's record; nil for the system actor
	Role   *Role   // the actor's role; nil for the system actor
}

// SystemAuthority is the authority of a system actor.
func SystemAuthority(a Actor) Authority { return Authority{Actor: a} }

// IsSystem reports whether the authority is the system's.
func (a Authority) IsSystem() bool { return a.Actor.IsSystem() }

// Acting returns the actor as the member it resolved to: a host account
// ([ActorUser]) becomes its member of the org; other actors are returned
// as they are. What is stored to name who acted and is checked later (an
// invitation's sender) records this actor.
func (a Authority) Acting() Actor {
	if a.Actor.UserID != "" && a.Actor.MemberID == "" && a.Member != nil {
		return ActorMember(a.Member.ID)
	}
	return a.Actor
}

// Is reports whether the actor is the member with that ID.
func (a Authority) Is(memberID string) bool {
	return !a.IsSystem() && a.Member != nil && a.Member.ID == memberID
}

func (a Authority) forbid(p Permission, reason string, cause error) error {
	return &ForbiddenError{ActorID: a.Actor.String(), Permission: p, Reason: reason, Err: cause}
}

// Active checks that the actor may act at all: the system, or a member
// who is active and has no temporary password left to change.
func (a Authority) Active() error {
	if a.IsSystem() {
		return nil
	}
	switch {
	case a.Actor.MemberID == "" && a.Actor.UserID == "":
		return a.forbid("", "no actor named", nil)
	case a.Member == nil || a.Actor.MemberID != "" && a.Member.ID != a.Actor.MemberID ||
		a.Actor.MemberID == "" && a.Member.UserID != a.Actor.UserID:
		return a.forbid("", "not a member of this org", nil)
	case a.Member.Status != StatusActive:
		return a.forbid("", "actor is "+string(a.Member.Status), nil)
	case a.Member.MustChangePassword:
		return a.forbid("", "the actor must change their temporary password first", ErrPasswordChangeRequired)
	}
	return nil
}

// Require checks that the actor may use permission p.
func (a Authority) Require(p Permission) error {
	if err := a.Active(); err != nil {
		if fe, ok := err.(*ForbiddenError); ok {
			fe.Permission = p
		}
		return err
	}
	if a.IsSystem() {
		return nil
	}
	if a.Role == nil || !a.Role.Has(p) {
		return a.forbid(p, "", nil)
	}
	return nil
}

// Holds reports whether the actor holds every permission in perms, and
// the first it lacks.
func (a Authority) Holds(perms []Permission) (Permission, bool) {
	if a.IsSystem() {
		return "", true
	}
	if a.Role == nil {
		if len(perms) == 0 {
			return "", true
		}
		return perms[0], false
	}
	for _, p := range perms {
		if !a.Role.Has(p) {
			return p, false
		}
	}
	return "", true
}

// CanGrant checks that the actor may give role r to someone, itself
// included: it must hold every permission of r.
func (a Authority) CanGrant(r Role) error {
	if p, ok := a.Holds(r.Permissions); !ok {
		return a.forbid(p, fmt.Sprintf("cannot grant role %q, which holds %s that the actor's role lacks", r.ID, p), nil)
	}
	return nil
}

// CanActOn checks that the actor may act on target, whose role is
// targetRole: it must hold every permission of that role.
func (a Authority) CanActOn(target Member, targetRole Role) error {
	if p, ok := a.Holds(targetRole.Permissions); !ok {
		return a.forbid(p, fmt.Sprintf("cannot act on member %s, whose role %q holds %s that the actor's role lacks", target.ID, targetRole.ID, p), nil)
	}
	return nil
}

// CanChangeRole checks that the actor may move target from role from to
// role to: act on target, grant to, and not be target — except an admin
// demoting themselves, which the last-admin rule then bounds.
func (a Authority) CanChangeRole(target Member, from, to Role) error {
	if a.Is(target.ID) && from.ID != RoleAdmin {
		return a.forbid("", "nobody changes their own role", nil)
	}
	if err := a.CanActOn(target, from); err != nil {
		return err
	}
	return a.CanGrant(to)
}

// Outranks reports whether the actor holds every permission of the role
// targetRole and at least one it lacks: strictly more power. The system
// outranks everyone; nobody outranks an admin but the system.
func (a Authority) Outranks(targetRole Role) bool {
	if a.IsSystem() {
		return true
	}
	if _, ok := a.Holds(targetRole.Permissions); !ok || a.Role == nil {
		return false
	}
	for _, p := range a.Role.Permissions {
		if !targetRole.Has(p) {
			return true
		}
	}
	return false
}

// CanSetCredentials checks that the actor may set another member's
// password or email — a new temporary password, a password from an
// import, the address their account is recovered through: it must
// outrank them ([Authority.Outranks]), so that a peer cannot take over a
// peer's account. A member changes their own password by proving the
// current one, never this way.
func (a Authority) CanSetCredentials(target Member, targetRole Role) error {
	if a.Is(target.ID) {
		return a.forbid("", "a member changes their own password with the current one, not by a reset or an import", nil)
	}
	if err := a.CanActOn(target, targetRole); err != nil {
		return err
	}
	if !a.Outranks(targetRole) {
		return a.forbid("", fmt.Sprintf("cannot set the credentials of member %s: the actor's role does not outrank role %q", target.ID, targetRole.ID), nil)
	}
	return nil
}

// CanResetPassword checks that the actor may give target, whose role is
// targetRole, a new temporary password: see [Authority.CanSetCredentials].
func (a Authority) CanResetPassword(target Member, targetRole Role) error {
	return a.CanSetCredentials(target, targetRole)
}

// CanEditRole checks that the actor may change a custom role from before
// to after (after is the zero Role for a deletion): it must hold every
// permission the role has and will have, since the change reaches every
// member who holds it.
func (a Authority) CanEditRole(before, after Role) error {
	perms := slices.Concat(before.Permissions, after.Permissions)
	if p, ok := a.Holds(perms); !ok {
		return a.forbid(p, fmt.Sprintf("cannot change role %q: it holds or would hold %s, which the actor's role lacks", before.ID, p), nil)
	}
	return nil
}

// CanGrantInvitation checks, when an invitation is accepted, that its
// sender may still grant its role: sender is the sender's member record
// (nil when it is no longer found) and senderRole its current role. A
// sender who was deactivated, removed, or demoted below the role or below
// invitations.manage since, no longer may.
// Invitations sent by the system always may.
func CanGrantInvitation(inv Invitation, sender *Member, senderRole *Role, role Role) error {
	if ParseActor(inv.InvitedBy).IsSystem() {
		return nil
	}
	a := Authority{Actor: ParseActor(inv.InvitedBy), Member: sender, Role: senderRole}
	if sender == nil || sender.Status != StatusActive {
		return a.forbid("", "the member who sent the invitation is no longer active in the org", nil)
	}
	if senderRole == nil || !senderRole.Has(PermInvitationsManage) {
		return a.forbid(PermInvitationsManage, "the member who sent the invitation may no longer invite", nil)
	}
	return a.CanGrant(role)
}
