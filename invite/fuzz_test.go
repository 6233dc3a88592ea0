package invite_test

import (
	"encoding/base64"
	"testing"

	"github.com/memberkit/memberkit/invite"
)

func FuzzHashToken(f *testing.F) {
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("")
	f.Add("' OR 1=1 --")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB")
	f.Fuzz(func(t *testing.T, tok string) {
		h, err := invite.HashToken(tok)
		if err != nil {
			return
		}
		if len(h) != 32 {
			t.Fatalf("hash of %d bytes", len(h))
		}
		raw, derr := base64.RawURLEncoding.Strict().DecodeString(tok)
		if derr != nil || len(raw) != invite.TokenBytes || base64.RawURLEncoding.EncodeToString(raw) != tok {
			t.Fatalf("accepted a token that is not the canonical form of 32 bytes: %q", tok)
		}
	})
}
