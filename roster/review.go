package roster

import (
	"context"
	"fmt"
	"time"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Report is the result of [Service.Review]: what a coordinator should look
// at during the regular review the product page recommends.
type Report struct {
	ActiveMembers int
	ActiveAdmins  int
	SeatsUsed     int
	SeatLimit     int // 0: unlimited
	// Idle lists active members with no login for IdleAfter (never
	// logged in: counted from when they were added).
	Idle []membership.Member
	// ExpiredInvitations lists pending invitations past their expiry:
	// resend or cancel them.
	ExpiredInvitations []membership.Invitation
	// UnknownPermissions lists, per custom role ID, the permissions the
	// role names that the catalog no longer declares: the role does not
	// grant them. Declare them again, or edit the role.
	UnknownPermissions map[string][]membership.Permission
	// Warnings in plain language, e.g. fewer than two admins.
	Warnings []string
}

// Review reports on the roster (permission audit.read): admins (a warning
// under two, as the product page advises), members idle for
// Options.IdleAfter, expired invitations, and custom roles naming
// permissions the catalog no longer declares.
func (s *Service) Review(ctx context.Context, actor membership.Actor, orgID string) (Report, error) {
	var r Report
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermAuditRead); err != nil {
			return err
		}
		now := s.clock.Now()
		org, c, err := svc.OrgCounts(ctx, tx, now)
		if err != nil {
			return err
		}
		r.ActiveMembers, r.ActiveAdmins, r.SeatsUsed, r.SeatLimit = c.ActiveMembers, c.ActiveAdmins, c.SeatsUsed(), org.Plan.MemberLimit
		if r.UnknownPermissions, err = svc.NewRoles(tx, s.cat).Unknown(ctx); err != nil {
			return err
		}
		cutoff := now.Add(-s.idleAfter)
		for m, err := range tx.Members(ctx, store.MemberQuery{MemberFilter: store.MemberFilter{Statuses: []membership.Status{membership.StatusActive}}}) {
			if err != nil {
				return err
			}
			last := m.LastLoginAt
			if last.IsZero() {
				last = m.CreatedAt
			}
			if last.Before(cutoff) {
				r.Idle = append(r.Idle, svc.Public(m))
			}
		}
		for inv, err := range tx.Invitations(ctx, store.InvitationQuery{States: []membership.InvitationState{membership.InvitationPending}}) {
			if err != nil {
				return err
			}
			if inv.Expired(now) {
				inv.TokenHash = nil
				r.ExpiredInvitations = append(r.ExpiredInvitations, inv)
			}
		}
		return nil
	})
	if err != nil {
		return Report{}, err
	}
	switch {
	case r.ActiveAdmins == 0:
		r.Warnings = append(r.Warnings, "the org has no active admin")
	case r.ActiveAdmins == 1:
		r.Warnings = append(r.Warnings, "only one active admin: add a second one to avoid being locked out when they are away")
	}
	if len(r.Idle) > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d active member(s) have not logged in for %d days: remove those who left", len(r.Idle), int(s.idleAfter/(24*time.Hour))))
	}
	if len(r.ExpiredInvitations) > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d invitation(s) expired: resend or cancel them", len(r.ExpiredInvitations)))
	}
	if n := len(r.UnknownPermissions); n > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d custom role(s) name permissions the app no longer declares, which they do not grant", n))
	}
	if r.SeatLimit > 0 && r.SeatsUsed >= r.SeatLimit {
		r.Warnings = append(r.Warnings, fmt.Sprintf("all %d seats of the plan are used", r.SeatLimit))
	}
	return r, nil
}
