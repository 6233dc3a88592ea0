package membership

// Authorize decides whether actor may use permission p. A system actor
// always may. A member actor must be the given record (actor.MemberID ==
// record.ID), active, and hold a role that grants p. record is the actor's
// member record in the org and role its role; the caller loads both inside
// the transaction.
func Authorize(actor Actor, record *Member, role *Role, p Permission) error {
	if actor.IsSystem() {
		return nil
	}
	if actor.MemberID == "" {
		return &ForbiddenError{ActorID: actor.String(), Permission: p, Reason: "no actor named"}
	}
	if record == nil || record.ID != actor.MemberID {
		return &ForbiddenError{ActorID: actor.String(), Permission: p, Reason: "not a member of this org"}
	}
	if record.Status != StatusActive {
		return &ForbiddenError{ActorID: actor.String(), Permission: p, Reason: "actor is " + string(record.Status)}
	}
	if role == nil || !role.Has(p) {
		return &ForbiddenError{ActorID: actor.String(), Permission: p}
	}
	return nil
}

// CheckSeats returns a [*LimitError] (matching [ErrMemberLimit]) when adding
// need seats to the used ones would pass the plan's limit. need ≤ 0 never
// fails: freeing seats is always allowed.
func CheckSeats(plan Plan, used, need int) error {
	if need <= 0 || plan.Unlimited() || used+need <= plan.MemberLimit {
		return nil
	}
	return &LimitError{Limit: plan.MemberLimit, Used: used, Need: need}
}

// CheckAdmins returns [ErrLastAdmin] when activeAdminsAfter, the number of
// active admins the org would have after a change, is below one.
func CheckAdmins(activeAdminsAfter int) error {
	if activeAdminsAfter < 1 {
		return ErrLastAdmin
	}
	return nil
}

// AdminDelta returns how a change from before to after moves the count of
// active admins: -1, 0 or +1.
func AdminDelta(before, after Member) int {
	return b2i(after.IsActiveAdmin()) - b2i(before.IsActiveAdmin())
}

// SeatDelta returns how a change from before to after moves the seats used
// by members: -1, 0 or +1.
func SeatDelta(before, after Member) int {
	return b2i(after.Status == StatusActive) - b2i(before.Status == StatusActive)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
