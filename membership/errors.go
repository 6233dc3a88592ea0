package membership

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors returned by memberkit. Match them with [errors.Is]; the
// errors actually returned wrap them with details.
var (
	// ErrNotFound: the org, member, role or invitation does not exist in
	// the org the call names.
	ErrNotFound = errors.New("memberkit: not found")
	// ErrDuplicate: a login, email or ID is already taken in the org. The
	// returned error is a [*DuplicateError] naming the key.
	ErrDuplicate = errors.New("memberkit: already exists")
	// ErrConflict: a write carried a stale [Member.Version].
	ErrConflict = errors.New("memberkit: concurrent modification")
	// ErrInvalid: input failed validation; see [*ValidationError].
	ErrInvalid = errors.New("memberkit: invalid input")
	// ErrForbidden: the actor lacks the permission, or is not active.
	ErrForbidden = errors.New("memberkit: forbidden")
	// ErrLastAdmin: the change would leave the org without an active admin.
	ErrLastAdmin = errors.New("memberkit: the org must keep at least one active admin")
	// ErrMemberLimit: the change would use more seats than the plan allows.
	ErrMemberLimit = errors.New("memberkit: member limit of the plan reached")
	// ErrFeatureDisabled: the org's plan does not include the feature.
	ErrFeatureDisabled = errors.New("memberkit: feature not enabled for this org")
	// ErrRoleInUse: a role still assigned to members or invitations cannot
	// be deleted.
	ErrRoleInUse = errors.New("memberkit: role is in use")
	// ErrBuiltinRole: the built-in roles cannot be changed or deleted.
	ErrBuiltinRole = errors.New("memberkit: built-in role cannot be changed")
	// ErrInvalidCredentials: wrong login or password, or a member who may
	// not log in. Deliberately says nothing more.
	ErrInvalidCredentials = errors.New("memberkit: invalid credentials")
	// ErrAlreadyMember: the email already belongs to an active member.
	ErrAlreadyMember = errors.New("memberkit: already a member")
	// ErrInvitationPending: a pending invitation already exists for the
	// email; resend it instead.
	ErrInvitationPending = errors.New("memberkit: an invitation is already pending for this email")
	// ErrInvitationInvalid: the token is unknown, tampered with, canceled
	// or already used. Deliberately says nothing more.
	ErrInvitationInvalid = errors.New("memberkit: invalid invitation")
	// ErrInvitationExpired: the invitation has expired; it can be resent.
	ErrInvitationExpired = errors.New("memberkit: invitation expired")
	// ErrNotPending: the invitation is no longer pending (accepted or
	// canceled) and cannot be resent or canceled.
	ErrNotPending = errors.New("memberkit: invitation is not pending")
	// ErrPasswordChangeRequired: the member logged in with a temporary
	// password and must change it before doing anything else.
	// Authentication returns it (with the member) instead of success, and
	// every other act of that member is refused with an error matching it
	// and [ErrForbidden].
	ErrPasswordChangeRequired = errors.New("memberkit: the temporary password must be changed first")
	// ErrTooManyAttempts: too many failed attempts from this login or
	// client; wait and retry. The returned error is a [*ThrottleError]
	// that says how long.
	ErrTooManyAttempts = errors.New("memberkit: too many failed attempts; try again later")
	// ErrSessionInvalid: a session's security stamp no longer matches its
	// member (deactivated, removed, role or password changed), or the
	// member cannot act: the session must end.
	ErrSessionInvalid = errors.New("memberkit: session no longer valid")
	// ErrDomainRestricted: the org invites only addresses at its
	// verified domains ([Org.InviteVerifiedDomainsOnly]).
	ErrDomainRestricted = errors.New("memberkit: the org invites only addresses at its verified domains")
	// ErrDomainNotProven: the domain's verification record was not found
	// or does not carry the claim's token.
	ErrDomainNotProven = errors.New("memberkit: domain ownership not proven")
)

// ValidationError reports input that failed validation. Field names the
// offending field ("email", "first_name", "login", …). It matches
// [ErrInvalid] with [errors.Is].
type ValidationError struct {
	Field  string // which field
	Reason string // why, in English
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("memberkit: invalid %s: %s", e.Field, e.Reason)
}

// Is reports whether target is [ErrInvalid].
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

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
