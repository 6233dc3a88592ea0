package membership

import (
	"log/slog"
	"slices"
	"strings"
	"time"
)

// PasswordHash is a stored password hash in PHC string form. It prints as
// "[redacted]" with fmt and log/slog so that a member logged by mistake
// does not leak it; use string(h) where the hash itself is needed.
type PasswordHash string

// String returns "[redacted]" (or "" when no hash is set).
func (h PasswordHash) String() string {
	if h == "" {
		return ""
	}
	return "[redacted]"
}

// GoString returns the redacted form, for %#v.
func (h PasswordHash) GoString() string { return `"` + h.String() + `"` }

// LogValue redacts the hash in log/slog output.
func (h PasswordHash) LogValue() slog.Value { return slog.StringValue(h.String()) }

// Member is one person's membership of one org.
type Member struct {
	ID     string
	OrgID  string
	UserID string // optional opaque ID of the host's own user account

	Login     string // unique in the org, lower case
	Email     string // optional, unique in the org (case-insensitive)
	FirstName string
	LastName  string

	RoleID string
	Status Status
	Groups []string // free labels used to filter and bulk-select

	LastLoginAt        time.Time // zero: never logged in
	PasswordHash       PasswordHash
	MustChangePassword bool

	CreatedAt time.Time
	UpdatedAt time.Time
	// Version is incremented by the store on every write; a write that
	// carries a stale version fails with [ErrConflict].
	Version int64
}

// FullName returns "Prénom Nom".
func (m Member) FullName() string {
	return strings.TrimSpace(m.FirstName + " " + m.LastName)
}

// IsActiveAdmin reports whether the member counts toward the last-admin rule.
func (m Member) IsActiveAdmin() bool { return m.Status == StatusActive && m.RoleID == RoleAdmin }

// HasGroup reports whether the member carries the group label, compared
// without regard to case.
func (m Member) HasGroup(g string) bool {
	return slices.ContainsFunc(m.Groups, func(x string) bool { return strings.EqualFold(x, g) })
}

// LogValue lists the member's identifying fields for log/slog, never the
// password hash.
func (m Member) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", m.ID), slog.String("org", m.OrgID),
		slog.String("login", m.Login), slog.String("role", m.RoleID), slog.String("status", string(m.Status)))
}

// Clone returns a copy that shares no slice with m.
func (m Member) Clone() Member {
	m.Groups = slices.Clone(m.Groups)
	return m
}

// ValidateMember checks and normalises a member's own fields: names,
// login, email, groups and status. It does not check uniqueness, seats or
// roles; the services and the store do.
func ValidateMember(m *Member) error {
	var err error
	if m.FirstName, err = ValidateName("first_name", m.FirstName); err != nil {
		return err
	}
	if m.LastName, err = ValidateName("last_name", m.LastName); err != nil {
		return err
	}
	if m.Login, err = ValidateLogin(m.Login); err != nil {
		return err
	}
	if m.Email != "" {
		if m.Email, err = ValidateEmail(m.Email); err != nil {
			return err
		}
	}
	if m.Groups, err = ValidateGroups(m.Groups); err != nil {
		return err
	}
	if !m.Status.Valid() {
		return invalid("status", "unknown status %q", m.Status)
	}
	if m.RoleID == "" {
		return invalid("role", "must not be empty")
	}
	if len(m.UserID) > 128 {
		return invalid("user_id", "longer than 128 bytes")
	}
	return nil
}

// Counts are the figures the seat and last-admin rules need.
type Counts struct {
	ActiveMembers      int // members with status active
	ActiveAdmins       int // active members with role admin
	PendingInvitations int // pending invitations that have not expired
}

// SeatsUsed returns active members plus pending, unexpired invitations.
func (c Counts) SeatsUsed() int { return c.ActiveMembers + c.PendingInvitations }
