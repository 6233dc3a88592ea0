package membership

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Problem is an error as people and programs read it: a stable machine
// code, the HTTP status that fits it, and a message in French or English
// with no internal ID and no "memberkit:" prefix; the field, or the CSV
// line and column, where there is one. It marshals to JSON as an API
// would return it.
type Problem struct {
	Code    string `json:"code"`
	Status  int    `json:"status"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  string `json:"column,omitempty"`
	// MemberID names the member a detail is about (a bulk action's
	// refusals), so that a screen can point at the row.
	MemberID string `json:"member_id,omitempty"`
	// Details are the problems behind a whole: each line of a refused
	// file, each member of a refused bulk action.
	Details []Problem `json:"details,omitempty"`
}

// Explainer is an error that explains itself as a [Problem]: csvsync's
// *FileError, roster's *BulkError, and the refusals that carry figures.
type Explainer interface {
	Explain(lang Lang) Problem
}

// Sentinel is an error value that has a code of the catalogue and an HTTP
// status: every sentinel memberkit exports is one, so that [Explain]
// reads any of them, wrapped or not. Compare with [errors.Is].
type Sentinel struct {
	code   string
	status int
	text   string
}

// NewSentinel returns a sentinel error with a code of the message
// catalogue, an HTTP status, and text, its Error string (for logs).
func NewSentinel(code string, status int, text string) *Sentinel {
	return &Sentinel{code: code, status: status, text: text}
}

// Error returns the sentinel's text, for logs.
func (e *Sentinel) Error() string { return e.text }

// Code returns the sentinel's stable code.
func (e *Sentinel) Code() string { return e.code }

// Explain reads err as a [Problem] in lang. The codes and their statuses:
//
//	invalid_field             422  a field is wrong: Field names it ([*ValidationError])
//	duplicate                 409  a login, email, account, role name or domain is taken ([*DuplicateError])
//	not_found                 404  no such org, member, role, invitation or domain
//	conflict                  409  changed meanwhile ([ErrConflict])
//	forbidden                 403  the actor may not do it ([*ForbiddenError])
//	password_change_required  403  the member must change a temporary password first
//	last_admin                409  the org would lose its last active admin
//	member_limit              409  the plan has no seat left ([*LimitError] gives the figures)
//	feature_disabled          403  the plan does not include the feature
//	role_in_use               409  the role is still given
//	builtin_role              409  admin and user cannot change
//	invalid_credentials       401  wrong login or password (or a member who may not log in)
//	too_many_attempts         429  throttled ([*ThrottleError] says how long)
//	session_invalid           401  the session must end
//	already_member            409  the person is a member already
//	invitation_pending        409  an invitation waits for that address
//	invitation_invalid        404  unknown, used or canceled invitation link
//	invitation_expired        410  expired invitation link
//	not_pending               409  the invitation is no longer pending
//	domain_restricted         403  the org invites only at its verified domains
//	domain_not_proven         422  the domain's DNS record is missing
//	stale_plan                409  the roster changed since the CSV preview
//	mass_deactivation         409  the import would deactivate most of the org
//	file_invalid              422  a CSV file has problems: Details lists them by line
//	bulk_refused              409  a bulk action was refused: Details lists each member
//	no_sender, no_notifier    503  the host did not configure delivery
//	no_token_key              503  invitations cannot be mailed after commit (invite.Options.TokenKey)
//	send_failed               502  the invitation is saved, the host's sender failed
//	not_delivered             502  the host's notifier failed
//	not_migrated              503  the database has no memberkit tables
//	unavailable               503  the database did not answer (store.ErrUnavailable): nothing changed
//	lease_lost                409  a relay lost its lease on an org's events (store.ErrLeaseLost)
//	canceled                  499  the caller went away
//	timeout                   504  the context's deadline passed
//	internal                  500  anything else (the message says no more)
//
// A nil err gives the zero Problem.
func Explain(err error, lang Lang) Problem {
	if err == nil {
		return Problem{}
	}
	// The outermost error memberkit knows decides, so that a wrapper's
	// meaning (a delivery that failed, a refused file) is not lost to
	// what it wraps (the host's own error).
	if p, ok := explainFirst(err, lang); ok {
		return p
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Problem{Code: "canceled", Status: 499, Message: Message(lang, "canceled")}
	case errors.Is(err, context.DeadlineExceeded):
		return Problem{Code: "timeout", Status: http.StatusGatewayTimeout, Message: Message(lang, "timeout")}
	}
	return Problem{Code: "internal", Status: http.StatusInternalServerError, Message: Message(lang, "internal")}
}

// explainFirst walks err's tree, outermost first, and explains the first
// error it knows.
func explainFirst(err error, lang Lang) (Problem, bool) {
	if err == nil {
		return Problem{}, false
	}
	if p, ok := explainOne(err, lang); ok {
		return p, true
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return explainFirst(u.Unwrap(), lang)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if p, ok := explainFirst(e, lang); ok {
				return p, true
			}
		}
	}
	return Problem{}, false
}

// explainOne explains err itself, not what it wraps.
func explainOne(err error, lang Lang) (Problem, bool) {
	switch e := err.(type) {
	case Explainer:
		return e.Explain(lang), true
	case *ValidationError:
		return Problem{Code: "invalid_field", Status: http.StatusUnprocessableEntity, Message: e.Message(lang), Field: e.Field}, true
	case *DuplicateError:
		msg := Message(lang, "duplicate_field", FieldName(lang, e.Key))
		if e.Value != "" && (e.Key == "login" || e.Key == "email" || e.Key == "role" || e.Key == "domain") {
			msg = Message(lang, "duplicate_value", FieldName(lang, e.Key), Excerpt(e.Value, 64))
		}
		return Problem{Code: "duplicate", Status: http.StatusConflict, Message: msg, Field: e.Key}, true
	case *LimitError:
		return Problem{Code: "member_limit", Status: http.StatusConflict, Message: Message(lang, "member_limit_detail", e.Used, e.Limit, e.Need)}, true
	case *ThrottleError:
		return Problem{Code: "too_many_attempts", Status: http.StatusTooManyRequests,
			Message: Message(lang, "too_many_attempts_detail", waitText(e.RetryAfter, lang))}, true
	case *ForbiddenError:
		if errors.Is(e.Err, ErrPasswordChangeRequired) {
			return Problem{Code: "password_change_required", Status: http.StatusForbidden, Message: Message(lang, "password_change_required")}, true
		}
		p := Problem{Code: "forbidden", Status: http.StatusForbidden, Message: Message(lang, "forbidden")}
		if e.Permission != "" && e.Permission.Valid() {
			p.Message = Message(lang, "forbidden_permission", e.Permission.Label(lang))
		}
		return p, true
	case *Sentinel:
		return Problem{Code: e.code, Status: e.status, Message: Message(lang, e.code)}, true
	}
	return Problem{}, false
}

// waitText says a wait for people: "45 s", "3 min", "2 h 5 min".
func waitText(d time.Duration, lang Lang) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", max(1, int(d.Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int((d + 59*time.Second).Minutes()))
	}
	h, m := int(d.Hours()), int((d%time.Hour)/time.Minute)
	if m == 0 {
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d h %d min", h, m)
}
