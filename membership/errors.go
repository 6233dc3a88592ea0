package membership

import (
	"fmt"
	"time"
)

// Sentinel errors returned by memberkit. Match them with [errors.Is]; the
// errors actually returned wrap them with details.
var (
	// ErrNotFound: the org, member, role or invitation does not exist in
	// the org the call names.
	ErrNotFound = NewSentinel("not_found", 404, "memberkit: not found")
	// ErrDuplicate: a login, email or ID is already taken in the org. The
	// returned error is a [*DuplicateError] naming the key.
	ErrDuplicate = NewSentinel("duplicate", 409, "memberkit: already exists")
	// ErrConflict: a write carried a stale [Member.Version].
	ErrConflict = NewSentinel("conflict", 409, "memberkit: concurrent modification")
	// ErrInvalid: input failed validation; see [*ValidationError].
	ErrInvalid = NewSentinel("invalid_field", 422, "memberkit: invalid input")
	// ErrForbidden: the actor lacks the permission, or is not active.
	ErrForbidden = NewSentinel("forbidden", 403, "memberkit: forbidden")
	// ErrLastAdmin: the change would leave the org without an active admin.
	ErrLastAdmin = NewSentinel("last_admin", 409, "memberkit: the org must keep at least one active admin")
	// ErrMemberLimit: the change would use more seats than the plan allows.
	ErrMemberLimit = NewSentinel("member_limit", 409, "memberkit: member limit of the plan reached")
	// ErrFeatureDisabled: the org's plan does not include the feature.
	ErrFeatureDisabled = NewSentinel("feature_disabled", 403, "memberkit: feature not enabled for this org")
	// ErrRoleInUse: a role still assigned to members or invitations cannot
	// be deleted.
	ErrRoleInUse = NewSentinel("role_in_use", 409, "memberkit: role is in use")
	// ErrBuiltinRole: the built-in roles cannot be changed or deleted.
	ErrBuiltinRole = NewSentinel("builtin_role", 409, "memberkit: built-in role cannot be changed")
	// ErrInvalidCredentials: wrong login or password, or a member who may
	// not log in. Deliberately says nothing more.
	ErrInvalidCredentials = NewSentinel("invalid_credentials", 401, "memberkit: invalid credentials")
	// ErrAlreadyMember: the email already belongs to an active member.
	ErrAlreadyMember = NewSentinel("already_member", 409, "memberkit: already a member")
	// ErrInvitationPending: a pending invitation already exists for the
	// email; resend it instead.
	ErrInvitationPending = NewSentinel("invitation_pending", 409, "memberkit: an invitation is already pending for this email")
	// ErrInvitationInvalid: the token is unknown, tampered with, canceled
	// or already used. Deliberately says nothing more.
	ErrInvitationInvalid = NewSentinel("invitation_invalid", 404, "memberkit: invalid invitation")
	// ErrInvitationExpired: the invitation has expired; it can be resent.
	ErrInvitationExpired = NewSentinel("invitation_expired", 410, "memberkit: invitation expired")
	// ErrNotPending: the invitation is no longer pending (accepted or
	// canceled) and cannot be resent or canceled.
	ErrNotPending = NewSentinel("not_pending", 409, "memberkit: invitation is not pending")
	// ErrPasswordChangeRequired: the member logged in with a temporary
	// password and must change it before doing anything else.
	// Authentication returns it (with the member) instead of success, and
	// every other act of that member is refused with an error matching it
	// and [ErrForbidden].
	ErrPasswordChangeRequired = NewSentinel("password_change_required", 403, "memberkit: the temporary password must be changed first")
	// ErrTooManyAttempts: too many failed attempts from this login or
	// client; wait and retry. The returned error is a [*ThrottleError]
	// that says how long.
	ErrTooManyAttempts = NewSentinel("too_many_attempts", 429, "memberkit: too many failed attempts; try again later")
	// ErrSessionInvalid: a session's security stamp no longer matches its
	// member (deactivated, removed, role or password changed), or the
	// member cannot act: the session must end.
	ErrSessionInvalid = NewSentinel("session_invalid", 401, "memberkit: session no longer valid")
	// ErrDomainRestricted: the org invites only addresses at its
	// verified domains ([Org.InviteVerifiedDomainsOnly]).
	ErrDomainRestricted = NewSentinel("domain_restricted", 403, "memberkit: the org invites only addresses at its verified domains")
	// ErrDomainNotProven: the domain's verification record was not found
	// or does not carry the claim's token.
	ErrDomainNotProven = NewSentinel("domain_not_proven", 422, "memberkit: domain ownership not proven")
)

// ValidationError reports input that failed validation. Field names the
// offending field ("email", "first_name", "login", …). It matches
// [ErrInvalid] with [errors.Is].
type ValidationError struct {
	Field  string // which field
	Reason string // why, in English
	// Code names the reason in the message catalogue, and Args are its
	// arguments, so that [ValidationError.Message] says it in French or
	// English; empty for a reason the catalogue does not have.
	Code string
	Args []any
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("memberkit: invalid %s: %s", e.Field, e.Reason)
}

// Is reports whether target is [ErrInvalid].
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Message says what is wrong, for people, in lang: the field's name and
// the reason ("Prénom : obligatoire").
func (e *ValidationError) Message(lang Lang) string {
	return Message(lang, "invalid_field_detail", FieldName(lang, e.Field), e.ReasonIn(lang))
}

// ReasonIn returns the reason alone, in lang ("obligatoire").
func (e *ValidationError) ReasonIn(lang Lang) string {
	if e.Code == "" {
		return e.Reason
	}
	return Message(lang, e.Code, e.Args...)
}

// Invalid returns a *ValidationError on field whose reason is the
// catalogue's message code, formatted with args (its Reason is the
// English text).
func Invalid(field, code string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Reason: Message(English, code, args...), Code: code, Args: args}
}

func invalid(field, code string, args ...any) error { return Invalid(field, code, args...) }

// DuplicateError reports a uniqueness violation. It matches [ErrDuplicate].
type DuplicateError struct {
	Key   string // "login", "email", "id", "role", "org", "token"
	Value string // the conflicting value, when known
}

func (e *DuplicateError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("memberkit: duplicate %s", e.Key)
	}
	return fmt.Sprintf("memberkit: duplicate %s %q", e.Key, e.Value)
}

// Is reports whether target is [ErrDuplicate].
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicate }

// LimitError details an [ErrMemberLimit] refusal.
type LimitError struct {
	Limit int // the plan's MemberLimit
	Used  int // seats in use before the change
	Need  int // seats the change would add
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("memberkit: member limit of the plan reached: %d of %d seats used, %d more needed", e.Used, e.Limit, e.Need)
}

// Is reports whether target is [ErrMemberLimit].
func (e *LimitError) Is(target error) bool { return target == ErrMemberLimit }

// ForbiddenError details an [ErrForbidden] refusal.
type ForbiddenError struct {
	ActorID    string
	Permission Permission // the permission asked or lacked, if any
	Reason     string     // why, in English, when more than a missing permission
	// Err is a further cause, such as [ErrPasswordChangeRequired]; nil
	// for most refusals.
	Err error
}

func (e *ForbiddenError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("memberkit: forbidden: actor %s: %s", e.ActorID, e.Reason)
	}
	return fmt.Sprintf("memberkit: forbidden: actor %s lacks permission %s", e.ActorID, e.Permission)
}

// Is reports whether target is [ErrForbidden].
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

// Unwrap returns the further cause, if any.
func (e *ForbiddenError) Unwrap() error { return e.Err }

// ThrottleError details an [ErrTooManyAttempts] refusal.
type ThrottleError struct {
	// RetryAfter is how long to wait before the next attempt may be
	// made.
	RetryAfter time.Duration
	// Locked is true during a lockout (many failures), false during the
	// short delays that come before it.
	Locked bool
}

func (e *ThrottleError) Error() string {
	return fmt.Sprintf("memberkit: too many failed attempts; try again in %s", e.RetryAfter.Round(time.Second))
}

// Is reports whether target is [ErrTooManyAttempts].
func (e *ThrottleError) Is(target error) bool { return target == ErrTooManyAttempts }
