// Package proof holds the library's proofs under load, faults and attack:
// model-based randomized concurrency, fault injection at every store call,
// security properties. Its tests run on every store kind.
package proof

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Snapshot is everything a store holds for one org, in a stable order, for
// comparing before and after.
type Snapshot struct {
	Org         membership.Org
	Members     []membership.Member
	Invitations []membership.Invitation
	Roles       []membership.Role
	Events      []membership.Event
}

// Take reads an org's whole state.
func Take(ctx context.Context, st store.Store, orgID string) (Snapshot, error) {
	var s Snapshot
	err := st.View(ctx, orgID, func(tx store.Tx) error {
		var err error
		if s.Org, err = tx.Org(ctx); err != nil {
			return err
		}
		if s.Members, err = store.Collect(tx.Members(ctx, store.MemberQuery{})); err != nil {
			return err
		}
		if s.Invitations, err = store.Collect(tx.Invitations(ctx, store.InvitationQuery{})); err != nil {
			return err
		}
		if s.Roles, err = tx.Roles(ctx); err != nil {
			return err
		}
		s.Events, err = store.Collect(tx.Events(ctx, store.EventQuery{}))
		return err
	})
	return s, err
}

// Logical is the part of a roster that does not depend on generated IDs,
// times or hashes: one line per member and per invitation, sorted.
func (s Snapshot) Logical() []string {
	var out []string
	// Custom roles by name: their IDs differ from one org to another.
	name := func(id string) string {
		for _, r := range s.Roles {
			if r.ID == id {
				return "role:" + r.Name
			}
		}
		return id
	}
	for _, m := range s.Members {
		out = append(out, fmt.Sprintf("member %s|%s|%s %s|%s|%s|%v|%v|user %s|%v", m.Login, m.Email, m.FirstName, m.LastName, name(m.RoleID), m.Status, m.Groups, m.MustChangePassword, m.UserID, m.Attributes))
	}
	for _, inv := range s.Invitations {
		out = append(out, fmt.Sprintf("invitation %s|%s|%s|sent %d", inv.Email, name(inv.RoleID), inv.State, inv.SendCount))
	}
	for _, r := range s.Roles {
		out = append(out, fmt.Sprintf("role %s|%v", r.Name, r.Permissions))
	}
	slices.Sort(out)
	return out
}

// Check verifies the org's invariants: at least one active admin, seats
// within the plan, unique logins and emails, the org's counters equal to a
// recount of its members, and every accepted invitation tied to exactly
// one member with its email.
func (s Snapshot) Check() error {
	var problems []string
	admins, active, pending := 0, 0, 0
	logins, emails, users := map[string]bool{}, map[string]bool{}, map[string]bool{}
	byID := map[string]membership.Member{}
	for _, m := range s.Members {
		byID[m.ID] = m
		if m.Status == membership.StatusActive {
			active++
			if m.RoleID == membership.RoleAdmin {
				admins++
			}
		}
		if logins[membership.LoginKey(m.Login)] {
			problems = append(problems, "duplicate login "+m.Login)
		}
		logins[membership.LoginKey(m.Login)] = true
		if k := membership.EmailKey(m.Email); k != "" {
			if emails[k] {
				problems = append(problems, "duplicate email "+m.Email)
			}
			emails[k] = true
		}
		if m.UserID != "" {
			if users[m.UserID] {
				problems = append(problems, "two members of account "+m.UserID)
			}
			users[m.UserID] = true
		}
	}
	for _, inv := range s.Invitations {
		switch inv.State {
		case membership.InvitationPending:
			pending++ // the model's clock never passes expiry
		case membership.InvitationAccepted:
			m, ok := byID[inv.MemberID]
			if !ok || !strings.EqualFold(m.Email, inv.Email) {
				problems = append(problems, "accepted invitation "+inv.Email+" without its member")
			}
		}
	}
	if admins < 1 {
		problems = append(problems, "no active admin")
	}
	if s.Org.ActiveMembers != active || s.Org.ActiveAdmins != admins {
		problems = append(problems, fmt.Sprintf("the org's counters say %d active and %d admins, a recount %d and %d",
			s.Org.ActiveMembers, s.Org.ActiveAdmins, active, admins))
	}
	if lim := s.Org.Plan.MemberLimit; lim > 0 && active+pending > lim {
		problems = append(problems, fmt.Sprintf("%d seats used of %d", active+pending, lim))
	}
	if len(problems) > 0 {
		return fmt.Errorf("invariants broken: %s", strings.Join(problems, "; "))
	}
	return nil
}

// CheckNoEscalation replays the org's audit trail in commit order and
// checks that no member ever acted beyond their power: every member actor
// held, at that moment, every permission of the role of each member it
// acted on and of each role it granted; and every invitation accepted was
// still grantable by its sender, active and holding its role, when it was
// accepted.
func (s Snapshot) CheckNoEscalation() error {
	perms := map[string][]membership.Permission{}
	for _, r := range append(membership.BuiltinRoles(), s.Roles...) {
		perms[r.ID] = r.Permissions
	}
	covers := func(holder, role string) bool {
		for _, p := range perms[role] {
			if !slices.Contains(perms[holder], p) {
				return false
			}
		}
		return true
	}
	invitedBy := map[string]string{}
	for _, inv := range s.Invitations {
		invitedBy[inv.ID] = inv.InvitedBy
	}
	roleOf, statusOf := map[string]string{}, map[string]membership.Status{}
	events := slices.Clone(s.Events)
	slices.SortFunc(events, func(a, b membership.Event) int { return strings.Compare(a.ID, b.ID) })
	for _, e := range events {
		by := membership.ParseActor(e.Actor)
		if by.MemberID != "" && strings.HasPrefix(string(e.Type), "member.") && (e.RoleBefore != "" || e.RoleAfter != "") {
			held := roleOf[by.MemberID]
			if e.RoleBefore != "" && !covers(held, e.RoleBefore) {
				return fmt.Errorf("escalation: %s (role %s) did %s on a member of role %s", e.Actor, held, e.Type, e.RoleBefore)
			}
			if e.RoleAfter != e.RoleBefore && !covers(held, e.RoleAfter) {
				return fmt.Errorf("escalation: %s (role %s) granted role %s by %s", e.Actor, held, e.RoleAfter, e.Type)
			}
		}
		if by.MemberID != "" && e.Type == membership.EventInvitationSent && !covers(roleOf[by.MemberID], e.RoleAfter) {
			return fmt.Errorf("escalation: %s (role %s) invited with role %s", e.Actor, roleOf[by.MemberID], e.RoleAfter)
		}
		if e.Type == membership.EventInvitationAccepted {
			if sender := membership.ParseActor(invitedBy[e.SubjectID]); sender.MemberID != "" {
				if statusOf[sender.MemberID] != membership.StatusActive || !covers(roleOf[sender.MemberID], e.RoleAfter) {
					return fmt.Errorf("escalation: invitation %s accepted with role %s while its sender %s was %s with role %s",
						e.SubjectID, e.RoleAfter, sender.MemberID, statusOf[sender.MemberID], roleOf[sender.MemberID])
				}
			}
		}
		if strings.HasPrefix(string(e.Type), "member.") && e.RoleAfter != "" {
			roleOf[e.SubjectID], statusOf[e.SubjectID] = e.RoleAfter, e.StatusAfter
		}
	}
	return nil
}
