package csvsync

import (
	"fmt"
	"net/http"

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

// MassDeactivationError details an [ErrMassDeactivation] refusal; it
// matches ErrMassDeactivation.
type MassDeactivationError struct {
	Deactivations int     // members the file would deactivate
	Active        int     // active members before
	Ratio         float64 // PlanOptions.MaxDeactivateRatio
}

func (e *MassDeactivationError) Error() string {
	return fmt.Sprintf("%v: %d of %d active members (more than %.0f%%); allow it explicitly if the file is complete",
		ErrMassDeactivation, e.Deactivations, e.Active, 100*e.Ratio)
}

// Is reports whether target is [ErrMassDeactivation].
func (e *MassDeactivationError) Is(target error) bool { return target == ErrMassDeactivation }

// Explain reads the refusal as a membership.Problem with its figures.
func (e *MassDeactivationError) Explain(lang membership.Lang) membership.Problem {
	return membership.Problem{Code: "mass_deactivation", Status: http.StatusConflict,
		Message: membership.Message(lang, "mass_deactivation_detail", e.Deactivations, e.Active, 100*e.Ratio)}
}

func msg(lang membership.Lang, code string, args ...any) string {
	return membership.Message(lang, "csv."+code, args...)
}
