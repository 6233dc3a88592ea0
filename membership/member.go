package membership

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// PasswordHash is a stored password hash in PHC string form. It never
// leaves in clear through a printer or a marshaller: fmt, log/slog,
// encoding/json, encoding/xml, encoding/gob and any encoder that uses
// encoding.TextMarshaler show "[redacted]". Use string(h) where the hash
// itself is needed.
type PasswordHash string

// String returns "[redacted]" (or "" when no hash is set).
func (h PasswordHash) String() string { return redact(string(h)) }

// GoString returns the redacted form, for %#v.
func (h PasswordHash) GoString() string { return `"` + h.String() + `"` }

// LogValue redacts the hash in log/slog output.
func (h PasswordHash) LogValue() slog.Value { return slog.StringValue(h.String()) }

// MarshalText writes the redacted form, so that JSON, XML and YAML never
// carry the hash.
func (h PasswordHash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads back what MarshalText wrote as an empty hash; a
// hash is never read from text, so anything else is an error.
func (h *PasswordHash) UnmarshalText(b []byte) error { return unredact(b, (*string)(h)) }

// GobEncode writes the redacted form.
func (h PasswordHash) GobEncode() ([]byte, error) { return h.MarshalText() }

// GobDecode reads back what GobEncode wrote as an empty hash.
func (h *PasswordHash) GobDecode(b []byte) error { return h.UnmarshalText(b) }

// Secret is a password, token or hash held in a value that may be
// printed or serialised by mistake. Like [PasswordHash] it shows as
// "[redacted]" through fmt, log/slog and every marshaller; use string(s)
// for its value.
type Secret string

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string { return redact(string(s)) }

// GoString returns the redacted form, for %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// LogValue redacts the secret in log/slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText writes the redacted form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads back what MarshalText wrote as an empty secret;
// anything else is an error.
func (s *Secret) UnmarshalText(b []byte) error { return unredact(b, (*string)(s)) }

// GobEncode writes the redacted form.
func (s Secret) GobEncode() ([]byte, error) { return s.MarshalText() }

// GobDecode reads back what GobEncode wrote as an empty secret.
func (s *Secret) GobDecode(b []byte) error { return s.UnmarshalText(b) }

const redacted = "[redacted]"

func redact(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

func unredact(b []byte, dst *string) error {
	if len(b) == 0 || string(b) == redacted {
		*dst = ""
		return nil
	}
	return errors.New("memberkit: secrets are never read from serialised text")
}

// Member is one person's membership of one org.
type Member struct {
	ID    string
	OrgID string
	// UserID is the host's own account ID (optional): unique in the org
	// when set, so one account has at most one membership per org, and
	// indexed across orgs (store.Store.Memberships).
	UserID string

	Login     string // unique in the org, lower case
	Email     string // optional, unique in the org (case-insensitive)
	FirstName string
	LastName  string

	RoleID string
	Status Status
	Groups []string // free labels used to filter and bulk-select
	// Attributes are the host's small key=value facts about the
	// membership (see [Attributes]).
	Attributes Attributes

	LastLoginAt        time.Time // zero: never logged in
	PasswordHash       PasswordHash
	MustChangePassword bool
	// SecurityStamp changes whenever the member is deactivated, removed,
	// changes role or password. A host records it in each session and
	// checks it on each request (roster.Service.CheckSession), so that a
	// member loses access at once even if no hook ran.
	SecurityStamp string

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
	m.Attributes = m.Attributes.Clone()
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
		return invalid("status", "status_unknown", Excerpt(string(m.Status), 32))
	}
	if m.RoleID == "" {
		return invalid("role", "required")
	}
	if err := ValidateUserID(m.UserID); err != nil {
		return err
	}
	if m.Attributes, err = ValidateAttributes(m.Attributes); err != nil {
		return err
	}
	return nil
}

// ValidateUserID checks a host account ID (hosts use UUIDs, numbers,
// "user_2abc…", "auth0|…"): at most 128 bytes of UTF-8, no control
// character, no space at either end (some databases compare "u1" and
// "u1 " as equal). Empty is allowed: no account linked. IDs compare
// exactly otherwise.
func ValidateUserID(id string) error {
	switch {
	case len(id) > 128:
		return invalid("user_id", "max_bytes", 128)
	case !utf8.ValidString(id):
		return invalid("user_id", "not_utf8")
	case strings.TrimSpace(id) != id:
		return invalid("user_id", "spaces_at_ends")
	case strings.ContainsFunc(id, unicode.IsControl):
		return invalid("user_id", "control_char")
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
