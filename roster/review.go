package roster

import (
	"context"
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
	// Notices say what to look at, e.g. fewer than two admins; each
	// reads in French or English ([Notice.Text]).
	Notices []Notice
}

// Notice is one point of a [Report], said in people's language by
// [Notice.Text]. Code is stable: "no_admin", "one_admin", "idle",
// "expired_invitations", "unknown_permissions", "seats_full".
type Notice struct {
	Code string
	Args []any
}

// Text says the notice in lang, from memberkit's message catalogue.
func (n Notice) Text(lang membership.Lang) string {
	return membership.Message(lang, "notice."+n.Code, n.Args...)
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
	note := func(code string, args ...any) { r.Notices = append(r.Notices, Notice{Code: code, Args: args}) }
	switch {
	case r.ActiveAdmins == 0:
		note("no_admin")
	case r.ActiveAdmins == 1:
		note("one_admin")
	}
	if len(r.Idle) > 0 {
		note("idle", len(r.Idle), int(s.idleAfter/(24*time.Hour)))
	}
	if len(r.ExpiredInvitations) > 0 {
		note("expired_invitations", len(r.ExpiredInvitations))
	}
	if n := len(r.UnknownPermissions); n > 0 {
		note("unknown_permissions", n)
	}
	if r.SeatLimit > 0 && r.SeatsUsed >= r.SeatLimit {
		note("seats_full", r.SeatLimit)
	}
	return r, nil
}
