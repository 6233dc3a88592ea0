package csvsync

import (
	"github.com/memberkit/memberkit/membership"
)

// Errors of this package; match them with errors.Is.
var (
	// ErrStalePlan: the roster changed between Plan and Apply; plan again.
	ErrStalePlan = membership.NewSentinel("stale_plan", 409, "memberkit: the roster changed since the import was planned; plan it again")
	// ErrMassDeactivation: the plan would deactivate more members than
	// PlanOptions.MaxDeactivateRatio allows; a truncated file is the usual
	// cause. Set PlanOptions.AllowMassDeactivation to proceed.
	ErrMassDeactivation = membership.NewSentinel("mass_deactivation", 409, "memberkit: the import would deactivate too many members")
)

func msg(lang membership.Lang, code string, args ...any) string {
	return membership.Message(lang, "csv."+code, args...)
}
