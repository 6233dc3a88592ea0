package invite

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/memberkit/memberkit/membership"
)

// TokenBytes is the size of an invitation token's secret: 256 bits.
const TokenBytes = 32

// TokenLen is the length of a token's text form.
const TokenLen = 43 // base64.RawURLEncoding.EncodedLen(TokenBytes)

// MinTokenKey is the fewest bytes of an Options.TokenKey.
const MinTokenKey = 32

// tokenLabel separates derived tokens from any other use of the key.
const tokenLabel = "memberkit invitation token v1\x00"

// token returns the token of the invitation.sent or invitation.resent
// event eventID, and its SHA-256: derived from the TokenKey when there is
// one, random otherwise.
func (s *Service) token(eventID string) (string, []byte, error) {
	if s.key == nil {
		return newToken()
	}
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(tokenLabel))
	m.Write([]byte(eventID))
	b := m.Sum(nil)
	h := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(b), h[:], nil
}

// newToken returns a fresh token and its SHA-256.
func newToken() (string, []byte, error) {
	b := make([]byte, TokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("memberkit: reading random token: %w", err)
	}
	h := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(b), h[:], nil
}

// HashToken parses a token's text and returns the SHA-256 under which it
// is stored. Anything that is not a well-formed token gives
// [membership.ErrInvitationInvalid].
func HashToken(token string) ([]byte, error) {
	if len(token) != TokenLen {
		return nil, membership.ErrInvitationInvalid
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) != TokenBytes {
		return nil, membership.ErrInvitationInvalid
	}
	h := sha256.Sum256(b)
	return h[:], nil
}
