package domains

import (
	"context"
	"fmt"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// SetPolicy sets what a claimed domain does (permission org.manage): nothing,
// suggest the org to new users at the domain, or let them join at once
// with roleID ("" for the user role). The actor must be able to grant
// roleID, and joining never gives admin nor a role that manages the org
// ([membership.CheckJoinRole]): anyone with an address at the domain
// would get it. The policy applies once the domain is verified.
func (s *Service) SetPolicy(ctx context.Context, actor membership.Actor, orgID, name string, policy membership.DomainPolicy, roleID string) (membership.Domain, error) {
	if !policy.Valid() {
		return membership.Domain{}, membership.Invalid("policy", "policy_unknown", membership.Excerpt(string(policy), 32))
	}
	name, err := membership.ValidateDomainName(name)
	if err != nil {
		return membership.Domain{}, err
	}
	if roleID == membership.RoleUser {
		roleID = ""
	}
	var out membership.Domain
	err = s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		a, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermOrgManage)
		if err != nil {
			return err
		}
		role, err := svc.NewRoles(tx, s.cat).Get(ctx, (membership.Domain{RoleID: roleID}).JoinRole())
		if err != nil {
			return err
		}
		if err := membership.CheckJoinRole(role); err != nil {
			return err
		}
		if err := a.CanGrant(role); err != nil {
			return err
		}
		d, err := find(ctx, tx, name)
		if err != nil {
			return err
		}
		if d.Policy == policy && d.RoleID == roleID {
			out = d
			return nil
		}
		d.Policy, d.RoleID, d.UpdatedAt = policy, roleID, svc.Now(s.clock)
		if err := tx.PutDomain(ctx, d); err != nil {
			return err
		}
		emit(domainEvent(membership.EventDomainUpdated, actor, d))
		out = d
		return nil
	})
	return out, err
}

// Remove drops the org's claim of a domain (permission org.manage); a
// verified domain is then free for another org to verify.
func (s *Service) Remove(ctx context.Context, actor membership.Actor, orgID, name string) error {
	name, err := membership.ValidateDomainName(name)
	if err != nil {
		return err
	}
	return s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermOrgManage); err != nil {
			return err
		}
		d, err := find(ctx, tx, name)
		if err != nil {
			return err
		}
		if err := tx.DeleteDomain(ctx, name); err != nil {
			return err
		}
		d.UpdatedAt = svc.Now(s.clock)
		emit(domainEvent(membership.EventDomainRemoved, actor, d))
		return nil
	})
}

// RestrictInvitations sets whether the org invites only addresses at its
// verified domains (permission org.manage); see
// [membership.Org.InviteVerifiedDomainsOnly].
func (s *Service) RestrictInvitations(ctx context.Context, actor membership.Actor, orgID string, on bool) error {
	return s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermOrgManage); err != nil {
			return err
		}
		org, err := tx.Org(ctx)
		if err != nil || org.InviteVerifiedDomainsOnly == on {
			return err
		}
		org.InviteVerifiedDomainsOnly, org.UpdatedAt = on, svc.Now(s.clock)
		if err := tx.PutOrg(ctx, org); err != nil {
			return err
		}
		e := svc.Event(org.UpdatedAt, membership.EventOrgUpdated, actor, orgID)
		e.Detail = fmt.Sprintf("invitations only at verified domains: %t", on)
		emit(e)
		return nil
	})
}
