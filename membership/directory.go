package membership

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"
)

// Group is a group an org keeps by name, with an identity of its own: what
// an identity provider creates, renames and deletes through SCIM (package
// scim, through package directory). Its members are the org's members
// whose [Member.Groups] carry its name (compared by [GroupKey]), whoever
// set the label: a group is a named, durable view of a label, not a list
// kept apart from the roster.
//
// Labels carried by members need no Group: a Group is there only for the
// groups a directory manages.
type Group struct {
	ID    string
	OrgID string
	// Name is the label members carry (validated as one of
	// [Member.Groups]); unique in the org without regard to case.
	Name string
	// ExternalID is the directory's own identifier of the group, kept as
	// it sent it (SCIM externalId); empty when none.
	ExternalID string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Version is incremented by the service on every change of the
	// group's own fields or of its members made through it.
	Version int64
}

// DirectoryToken is a bearer credential an org gives its identity
// provider, so that the provider keeps the org's roster in step (SCIM).
// Only the SHA-256 of its secret is kept: the secret is shown once, when
// the token is issued. A token acts as the system actor named after it
// ([DirectoryToken.Actor]), within its org only.
type DirectoryToken struct {
	ID    string
	OrgID string
	// Name says whose the token is ("Okta", "Entra ID production"); it
	// names the actor of every change made with it.
	Name string
	// Hash is the SHA-256 of the secret ([HashDirectorySecret]).
	Hash []byte
	// Hint is the secret's first characters, to tell tokens apart in a
	// list; not enough to use it.
	Hint       string
	CreatedBy  string // Actor.String() of who issued it
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used
	RevokedAt  time.Time // zero: in force
}

// Revoked reports whether the token was revoked.
func (t DirectoryToken) Revoked() bool { return !t.RevokedAt.IsZero() }

// Actor is the system actor every change made with the token is recorded
// under: "system:directory:<name>".
func (t DirectoryToken) Actor() Actor { return SystemActor("directory:" + t.Name) }

// directorySecretPrefix starts every directory token's secret, so that a
// leaked one is recognised by secret scanners and in logs.
const directorySecretPrefix = "mkd_"

// NewDirectorySecret returns a new directory token secret: a prefix and
// 256 random bits, URL-safe.
func NewDirectorySecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand documents it)
	return directorySecretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// HashDirectorySecret returns the SHA-256 of a directory token's secret,
// the form stores keep and look tokens up by.
func HashDirectorySecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// ValidateTokenName checks and trims a directory token's name: 1 to 64
// characters, no control or invisible character.
func ValidateTokenName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", invalid("token_name", "required")
	}
	if _, err := ValidateGroups([]string{name}); err != nil { // the same bounds as a label
		return "", invalid("token_name", "group_label", Excerpt(name, 64), MaxGroupLen)
	}
	return name, nil
}

// ValidateGroupName checks a group's name as a member's label
// ([ValidateGroups]) and returns it trimmed and in NFC.
func ValidateGroupName(name string) (string, error) {
	gs, err := ValidateGroups([]string{name})
	if err != nil {
		return "", err
	}
	if len(gs) == 0 {
		return "", invalid("groups", "required")
	}
	return gs[0], nil
}
