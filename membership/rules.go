package membership

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

// Tally is how a set of changes moves an org's active members and active
// admins: the figures the seat and last-admin rules need, and that the
// services keep on the org ([Org.ActiveMembers], [Org.ActiveAdmins]).
type Tally struct {
	Active int // change in active members
	Admins int // change in active admins
}

// Change adds a member's change from before to after (the zero Member for
// a member added); only Status and RoleID count.
func (t *Tally) Change(before, after Member) {
	t.Active += b2i(after.Status == StatusActive) - b2i(before.Status == StatusActive)
	t.Admins += b2i(after.IsActiveAdmin()) - b2i(before.IsActiveAdmin())
}

// Event adds the change an audit event records: member events carry the
// status and role before and after; other events count for nothing.
func (t *Tally) Event(e Event) {
	if !e.Type.IsMember() {
		return
	}
	t.Change(Member{Status: e.StatusBefore, RoleID: e.RoleBefore}, Member{Status: e.StatusAfter, RoleID: e.RoleAfter})
}

// IsZero reports whether the changes move nothing.
func (t Tally) IsZero() bool { return t.Active == 0 && t.Admins == 0 }

// Check applies the seat and last-admin rules to the changes, against the
// org's figures before them: seats may not pass the plan's limit (when the
// changes take seats) and one active admin must stay (when they lose
// some).
func (t Tally) Check(plan Plan, before Counts) error {
	if t.Admins < 0 {
		if err := CheckAdmins(before.ActiveAdmins + t.Admins); err != nil {
			return err
		}
	}
	return CheckSeats(plan, before.SeatsUsed(), t.Active)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
