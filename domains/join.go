package domains

import (
	"context"
	"errors"
	"fmt"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Suggestion is an org a new user may join, or ask to join, because it
// verified the domain of their address.
type Suggestion struct {
	OrgID   string
	OrgName string
	Domain  string
	// AutoJoin is true when [Service.Join] lets the user in at once (the
	// domain's policy is auto-join); false when they need an invitation.
	AutoJoin bool
}

// Suggest lists the orgs a person with this email may join or ask to
// join: the org that verified the address's domain (the exact domain:
// an address at a subdomain is not at it), when its policy is suggest or
// auto-join. One domain belongs to one org, so the list holds one org at
// most today; it is a list so that hosts need not change when rules do. It is the host's call in its sign-up flow, once it
// has verified that the person owns the address; it needs no actor.
func (s *Service) Suggest(ctx context.Context, email string) ([]Suggestion, error) {
	email, err := membership.ValidateEmail(email)
	if err != nil {
		return nil, err
	}
	d, err := s.st.DomainOwner(ctx, membership.EmailDomain(email))
	if errors.Is(err, store.ErrNotFound) || err == nil && d.Policy == membership.DomainPolicyNone {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	org, err := s.st.Org(ctx, d.OrgID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []Suggestion{{OrgID: org.ID, OrgName: org.Name, Domain: d.Name, AutoJoin: d.Policy == membership.DomainPolicyAutoJoin}}, nil
}

// Joiner is a host account joining an org by the domain of its address.
type Joiner struct {
	UserID    string // required: the host account
	Email     string // required: an address the host verified the account owns
	FirstName string // required
	LastName  string // required
	Login     string // optional: blank means the default rule
}

// Join lets a host account join an org whose verified domain, with the
// auto-join policy, is the domain of the account's address: the member is
// created active with the domain's role, within the plan's seats
// ([membership.ErrMemberLimit]), and recorded as a member.joined event.
// A removed member of the same account or email comes back; one that is
// not removed gives [membership.ErrAlreadyMember]. A pending invitation
// to the same address is canceled, its seat taken by the member. An address at a domain
// the org has not verified, or whose policy is not auto-join, is refused
// with an error matching [membership.ErrForbidden]. The host must have
// verified that the account owns the address: memberkit trusts it.
func (s *Service) Join(ctx context.Context, orgID string, j Joiner) (membership.Member, error) {
	if j.UserID == "" {
		return membership.Member{}, membership.Invalid("user_id", "required")
	}
	if err := membership.ValidateUserID(j.UserID); err != nil {
		return membership.Member{}, err
	}
	email, err := membership.ValidateEmail(j.Email)
	if err != nil {
		return membership.Member{}, err
	}
	login := ""
	if j.Login != "" {
		if login, err = membership.ValidateLogin(j.Login); err != nil {
			return membership.Member{}, err
		}
	}
	actor := membership.ActorUser(j.UserID)
	var out membership.Member
	err = s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		d, err := find(ctx, tx, membership.EmailDomain(email))
		if errors.Is(err, store.ErrNotFound) || err == nil && (!d.Verified() || d.Policy != membership.DomainPolicyAutoJoin) {
			return &membership.ForbiddenError{ActorID: actor.String(), Reason: fmt.Sprintf("the org does not let addresses at %s join by themselves", membership.EmailDomain(email))}
		}
		if err != nil {
			return err
		}
		// The role may have changed since the policy was set: checked again.
		role, err := svc.NewRoles(tx, s.cat).Get(ctx, d.JoinRole())
		if err != nil {
			return err
		}
		if err := membership.CheckJoinRole(role); err != nil {
			return &membership.ForbiddenError{ActorID: actor.String(), Reason: "the domain's role manages the org: nobody joins with it by domain", Err: err}
		}
		before, err := svc.Returning(ctx, tx, email, j.UserID)
		if err != nil {
			return err
		}
		now := svc.Now(s.clock)
		// A pending invitation to the same address is used up: canceled,
		// its seat is free for the member.
		for inv, err := range tx.Invitations(ctx, store.InvitationQuery{Email: email, States: []membership.InvitationState{membership.InvitationPending}}) {
			if err != nil {
				return err
			}
			inv.State, inv.TokenHash, inv.UpdatedAt = membership.InvitationCanceled, nil, now
			if err := tx.UpdateInvitation(ctx, inv); err != nil {
				return err
			}
			c := svc.Event(now, membership.EventInvitationCanceled, actor, inv.ID)
			c.Detail = "the invitee joined by verified domain " + d.Name
			emit(c)
		}
		if err := svc.CheckSeats(ctx, tx, now, 1); err != nil {
			return err
		}
		m := membership.Member{OrgID: orgID, UserID: j.UserID, Email: email, FirstName: j.FirstName, LastName: j.LastName, RoleID: d.JoinRole(),
			Status: membership.StatusActive, UpdatedAt: now, SecurityStamp: membership.NewSecurityStamp()}
		if m, err = svc.Admit(ctx, tx, m, before, login); err != nil {
			return err
		}
		var prior membership.Member
		if before != nil {
			prior = *before
		}
		e := svc.MemberEvent(now, membership.EventMemberJoined, actor, prior, m)
		e.Detail = "by verified domain " + d.Name
		emit(e)
		out = m
		return nil
	})
	if err != nil {
		return membership.Member{}, err
	}
	s.log.InfoContext(ctx, "memberkit: member joined by domain", "org", orgID, "member", out.ID)
	return svc.Public(out), nil
}
