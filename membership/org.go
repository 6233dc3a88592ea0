package membership

import (
	"slices"
	"time"
)

// Plan is an org's subscription as far as seats go.
type Plan struct {
	// Name is the host's label for the plan ("free", "premium", …).
	Name string
	// MemberLimit caps the seats (active members plus pending, unexpired
	// invitations). 0 means unlimited.
	MemberLimit int
}

// FreeMemberLimit is the seat limit of the Free plan.
const FreeMemberLimit = 3

// FreePlan returns the Free plan: 3 seats.
func FreePlan() Plan { return Plan{Name: "free", MemberLimit: FreeMemberLimit} }

// PremiumPlan returns a Premium plan with the seats of the offer; 0 means
// unlimited.
func PremiumPlan(memberLimit int) Plan { return Plan{Name: "premium", MemberLimit: memberLimit} }

// Unlimited reports whether the plan has no seat limit.
func (p Plan) Unlimited() bool { return p.MemberLimit <= 0 }

// Feature is an optional capability switched on per org.
type Feature string

// Features the library checks.
const (
	// FeatureCSV enables CSV export and import (package csvsync).
	FeatureCSV Feature = "csv"
)

// Org is a tenant: a customer company whose members memberkit manages.
type Org struct {
	ID       string
	Name     string
	Plan     Plan
	Features []Feature // sorted, no duplicates once stored
	// RosterVersion is incremented by the services with every change to
	// the org's members or invitations (logins aside). A CSV plan records
	// it and is refused as stale when it moved.
	RosterVersion int64
	// ActiveMembers and ActiveAdmins are the org's active members and
	// active admins, kept by the services in the same transaction as every
	// change that moves them (see [Tally]), so that the seat and
	// last-admin rules read one row instead of counting the roster.
	// Stores keep them as they keep the other fields.
	ActiveMembers int
	ActiveAdmins  int
	// InviteVerifiedDomainsOnly restricts the org's invitations to
	// addresses at its verified domains (see [Domain]).
	InviteVerifiedDomainsOnly bool
	CreatedAt                 time.Time
	UpdatedAt                 time.Time
}

// Has reports whether the feature is enabled for the org.
func (o Org) Has(f Feature) bool { return slices.Contains(o.Features, f) }

// ValidateOrg checks an org before it is stored and normalises its
// features (sorted, deduplicated).
func ValidateOrg(o *Org) error {
	if o.ID == "" {
		return invalid("id", "required")
	}
	if len(o.ID) > 64 {
		return invalid("id", "max_bytes", 64)
	}
	name, err := ValidateName("org_name", o.Name)
	if err != nil {
		return err
	}
	o.Name = name
	if o.Plan.MemberLimit < 0 {
		return invalid("member_limit", "member_limit_negative")
	}
	for _, f := range o.Features {
		if f == "" || len(f) > 32 {
			return invalid("features", "feature_name")
		}
	}
	slices.Sort(o.Features)
	o.Features = slices.Compact(o.Features)
	return nil
}
