package membership

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
)

// NewSecurityStamp returns a fresh security stamp: 128 random bits in
// base64url (22 characters).
func NewSecurityStamp() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// RotatesStamp reports whether a change from before to after must give the
// member a new [Member.SecurityStamp], ending every session opened before:
// a change of status or role. Password changes rotate it too; the services
// that change a password say so themselves, since a rehash on login keeps
// the same password.
func RotatesStamp(before, after Member) bool {
	return before.Status != after.Status || before.RoleID != after.RoleID
}

// SessionState is what a session check reads of a member: one row by
// primary key.
type SessionState struct {
	SecurityStamp      string
	Status             Status
	MustChangePassword bool
}

// CheckSession decides whether a session that recorded stamp may go on
// for a member in state s: the stamps are equal (compared in constant
// time), the member is active and has no temporary password to change.
// Otherwise it returns [ErrSessionInvalid].
func CheckSession(s SessionState, stamp string) error {
	if stamp == "" || s.SecurityStamp == "" ||
		subtle.ConstantTimeCompare([]byte(s.SecurityStamp), []byte(stamp)) != 1 ||
		s.Status != StatusActive || s.MustChangePassword {
		return ErrSessionInvalid
	}
	return nil
}
