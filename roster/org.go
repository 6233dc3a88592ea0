package roster

import (
	"context"
	"fmt"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// NewOrg describes an org to create.
type NewOrg struct {
	ID       string // optional; a new time-ordered ID when empty
	Name     string
	Plan     membership.Plan // zero value: the Free plan
	Features []membership.Feature
}

// CreateOrg creates an org. Its first admin is then added with
// [membership.SystemActor].
func (s *Service) CreateOrg(ctx context.Context, n NewOrg) (membership.Org, error) {
	now := svc.Now(s.clock)
	o := membership.Org{ID: n.ID, Name: n.Name, Plan: n.Plan, Features: n.Features, CreatedAt: now, UpdatedAt: now}
	if o.ID == "" {
		o.ID = membership.NewID()
	}
	if o.Plan == (membership.Plan{}) {
		o.Plan = membership.FreePlan()
	}
	if err := membership.ValidateOrg(&o); err != nil {
		return membership.Org{}, err
	}
	if err := s.st.CreateOrg(ctx, o); err != nil {
		return membership.Org{}, err
	}
	return o, nil
}

// Org returns the org (permission members.read): its name, plan, features
// and the counts the services keep.
func (s *Service) Org(ctx context.Context, actor membership.Actor, orgID string) (membership.Org, error) {
	var org membership.Org
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersRead); err != nil {
			return err
		}
		var err error
		org, err = tx.Org(ctx)
		return err
	})
	return org, err
}

// SetPlan changes the org's plan (permission org.manage). Lowering the
// limit below the seats in use is allowed: nobody is deactivated, but no
// seat can be taken until enough are freed.
func (s *Service) SetPlan(ctx context.Context, actor membership.Actor, orgID string, plan membership.Plan) error {
	return s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermOrgManage); err != nil {
			return err
		}
		org, err := tx.Org(ctx)
		if err != nil {
			return err
		}
		old := org.Plan
		org.Plan = plan
		org.UpdatedAt = svc.Now(s.clock)
		if err := tx.PutOrg(ctx, org); err != nil {
			return err
		}
		e := svc.Event(org.UpdatedAt, membership.EventOrgUpdated, actor, orgID)
		e.Detail = fmt.Sprintf("plan %s (%d seats) → %s (%d seats)", old.Name, old.MemberLimit, plan.Name, plan.MemberLimit)
		emit(e)
		return nil
	})
}

// SetFeatures switches the org's features (permission org.manage).
func (s *Service) SetFeatures(ctx context.Context, actor membership.Actor, orgID string, features ...membership.Feature) error {
	return s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermOrgManage); err != nil {
			return err
		}
		org, err := tx.Org(ctx)
		if err != nil {
			return err
		}
		org.Features = features
		org.UpdatedAt = svc.Now(s.clock)
		if err := tx.PutOrg(ctx, org); err != nil {
			return err
		}
		e := svc.Event(org.UpdatedAt, membership.EventOrgUpdated, actor, orgID)
		e.Detail = fmt.Sprintf("features %v", features)
		emit(e)
		return nil
	})
}

// Workspace is what a screen shows around the roster, read at once: the
// org, its seats, its roles, and the actor — its member record and every
// permission it may use.
type Workspace struct {
	Org                  membership.Org
	SeatsUsed, SeatLimit int // SeatLimit 0: unlimited
	// Roles are the built-in and custom roles, as the catalog grants them.
	Roles []membership.Role
	// Me is the actor's member record (without its password hash); nil
	// for the system actor.
	Me *membership.Member
	// Permissions are every permission the actor may use here.
	Permissions []membership.Permission
}

// Workspace reads the org, its seats, its roles and what the actor may do
// in one transaction (permission members.read): what a page needs around
// its list, in one round instead of four.
func (s *Service) Workspace(ctx context.Context, actor membership.Actor, orgID string) (Workspace, error) {
	var w Workspace
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		a, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersRead)
		if err != nil {
			return err
		}
		org, c, err := svc.OrgCounts(ctx, tx, s.clock.Now())
		if err != nil {
			return err
		}
		if w.Roles, err = svc.NewRoles(tx, s.cat).All(ctx); err != nil {
			return err
		}
		w.Org, w.SeatsUsed, w.SeatLimit = org, c.SeatsUsed(), org.Plan.MemberLimit
		if a.Member != nil {
			me := svc.Public(*a.Member)
			w.Me = &me
		}
		for _, p := range s.cat.Permissions() {
			if a.Require(p) == nil {
				w.Permissions = append(w.Permissions, p)
			}
		}
		return nil
	})
	return w, err
}
