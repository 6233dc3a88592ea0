package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/memberkit/memberkit/membership"
)

// The headers of a signed request, as the Standard Webhooks specification
// names them.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// DefaultTolerance is how far a request's timestamp may be from the
// receiver's clock, either way, before [Verify] refuses it as a replay.
const DefaultTolerance = 5 * time.Minute

// secretPrefix starts a secret's text form.
const secretPrefix = "whsec_"

// Errors of [Verify] and [ParseSecret].
var (
	ErrMissingHeaders = errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrTimestamp      = errors.New("webhook: timestamp missing, malformed or outside the tolerance")
	ErrSignature      = errors.New("webhook: no valid signature")
	ErrSecret         = errors.New("webhook: a secret is whsec_ followed by base64 of 24 to 64 bytes")
)

// NewSecret returns a fresh secret in its text form: "whsec_" followed
// by the standard base64 of 32 random bytes. Show it once to the
// receiver's owner and keep it as a [membership.Secret], which never
// prints.
func NewSecret() membership.Secret {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return membership.Secret(secretPrefix + base64.StdEncoding.EncodeToString(b))
}

// key is a parsed secret.
type key []byte

// parseSecret reads a secret's text form; the whsec_ prefix is optional,
// as the specification allows.
func parseSecret(s membership.Secret) (key, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(string(s), secretPrefix))
	if err != nil || len(b) < 24 || len(b) > 64 {
		return nil, ErrSecret
	}
	return b, nil
}

// ParseSecret checks a secret's text form.
func ParseSecret(s membership.Secret) error {
	_, err := parseSecret(s)
	return err
}

func (k key) sign(id string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, k)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Sign returns the signature of a message, "v1," and the base64 of the
// HMAC-SHA256 of "id.timestamp.body" under the secret.
func Sign(secret membership.Secret, id string, ts time.Time, body []byte) (string, error) {
	k, err := parseSecret(secret)
	if err != nil {
		return "", err
	}
	return k.sign(id, ts.Unix(), body), nil
}

// Verify checks a request's signature headers against its body: the
// timestamp is within tolerance of now (0: DefaultTolerance), and one of
// the space-separated signatures is the body's under one of the secrets
// (several while a secret is rotated). It compares in constant time.
func Verify(secrets []membership.Secret, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return ErrMissingHeaders
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return ErrTimestamp
	}
	if d := now.Sub(time.Unix(ts, 0)); d >= tolerance || d <= -tolerance {
		return fmt.Errorf("%w: %s is %v from now", ErrTimestamp, tsText, d.Round(time.Second))
	}
	for _, s := range secrets {
		k, err := parseSecret(s)
		if err != nil {
			return err
		}
		want := []byte(k.sign(id, ts, body))
		for sig := range strings.FieldsSeq(sigs) {
			if hmac.Equal([]byte(sig), want) {
				return nil
			}
		}
	}
	return ErrSignature
}
