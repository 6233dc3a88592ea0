package membership

import (
	"context"
	"errors"
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
//	not_delivered             502  the host's notifier failed
//	not_migrated              503  the database has no memberkit tables
//	canceled                  499  the caller went away
//	timeout                   504  the context's deadline passed
//	internal                  500  anything else (the message says no more)
//
// A nil err gives the zero Problem.
func Explain(err error, lang Lang) Problem {
	if err == nil {
		return Problem{}
	}
	var ex Explainer
	if errors.As(err, &ex) {
		return ex.Explain(lang)
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		return Problem{Code: "invalid_field", Status: http.StatusUnprocessableEntity, Message: ve.Message(lang), Field: ve.Field}
	}
	var de *DuplicateError
	if errors.As(err, &de) {
		msg := Message(lang, "duplicate_field", FieldName(lang, de.Key))
		if de.Value != "" && (de.Key == "login" || de.Key == "email" || de.Key == "role" || de.Key == "domain") {
			msg = Message(lang, "duplicate_value", FieldName(lang, de.Key), Excerpt(de.Value, 64))
		}
		return Problem{Code: "duplicate", Status: http.StatusConflict, Message: msg, Field: de.Key}
	}
	var le *LimitError
	if errors.As(err, &le) {
		return Problem{Code: "member_limit", Status: http.StatusConflict, Message: Message(lang, "member_limit_detail", le.Used, le.Limit, le.Need)}
	}
	var te *ThrottleError
	if errors.As(err, &te) {
		return Problem{Code: "too_many_attempts", Status: http.StatusTooManyRequests,
			Message: Message(lang, "too_many_attempts_detail", te.RetryAfter.Round(time.Second).String())}
	}
	if errors.Is(err, ErrPasswordChangeRequired) {
		return Problem{Code: "password_change_required", Status: http.StatusForbidden, Message: Message(lang, "password_change_required")}
	}
	var fe *ForbiddenError
	if errors.As(err, &fe) {
		p := Problem{Code: "forbidden", Status: http.StatusForbidden, Message: Message(lang, "forbidden")}
		if fe.Permission != "" && fe.Permission.Valid() {
			p.Message = Message(lang, "forbidden_permission", fe.Permission.Label(lang))
		}
		return p
	}
	var s *Sentinel
	if errors.As(err, &s) {
		return Problem{Code: s.code, Status: s.status, Message: Message(lang, s.code)}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Problem{Code: "canceled", Status: 499, Message: Message(lang, "canceled")}
	case errors.Is(err, context.DeadlineExceeded):
		return Problem{Code: "timeout", Status: http.StatusGatewayTimeout, Message: Message(lang, "timeout")}
	}
	return Problem{Code: "internal", Status: http.StatusInternalServerError, Message: Message(lang, "internal")}
}
