package membership

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// MinPasswordLen is the shortest password memberkit accepts, in characters.
const MinPasswordLen = 8

// MaxPasswordLen bounds the work a hostile password can cause, in bytes.
const MaxPasswordLen = 1024

// ValidatePassword checks a plaintext password: [MinPasswordLen] to
// [MaxPasswordLen], valid UTF-8. The password never appears in the error.
func ValidatePassword(pw string) error {
	if !utf8.ValidString(pw) {
		return invalid("password", "not_utf8")
	}
	if utf8.RuneCountInString(pw) < MinPasswordLen {
		return invalid("password", "password_short", MinPasswordLen)
	}
	if len(pw) > MaxPasswordLen {
		return invalid("password", "max_bytes", MaxPasswordLen)
	}
	return nil
}

// Hasher hashes and verifies passwords. Implementations must be safe for
// concurrent use and compare in constant time.
type Hasher interface {
	// Hash returns a PHC string for the password.
	Hash(password string) (PasswordHash, error)
	// Verify reports whether password matches hash, and whether the hash
	// should be replaced by a fresh Hash (other algorithm or parameters).
	// A malformed hash is an error, not a mismatch.
	Verify(hash PasswordHash, password string) (ok, rehash bool, err error)
}

// Argon2Params are argon2id parameters.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // iterations
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultArgon2Params are OWASP's recommendation: m=19 MiB, t=2, p=1.
func DefaultArgon2Params() Argon2Params {
	return Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Argon2Hasher hashes with argon2id and verifies argon2id and bcrypt PHC
// strings, so hashes imported from another system keep working; those in
// another algorithm or with other parameters are reported for rehash.
type Argon2Hasher struct {
	p Argon2Params
}

// NewArgon2Hasher returns a hasher with the given parameters; nil means
// [DefaultArgon2Params].
func NewArgon2Hasher(p *Argon2Params) *Argon2Hasher {
	d := DefaultArgon2Params()
	if p != nil {
		d = *p
		if d.SaltLen == 0 {
			d.SaltLen = 16
		}
		if d.KeyLen == 0 {
			d.KeyLen = 32
		}
		if d.Threads == 0 {
			d.Threads = 1
		}
		if d.Time == 0 {
			d.Time = 1
		}
		if d.Memory < 8*uint32(d.Threads) {
			d.Memory = 8 * uint32(d.Threads)
		}
	}
	return &Argon2Hasher{p: d}
}

var b64 = base64.RawStdEncoding

// Hash returns "$argon2id$v=19$m=…,t=…,p=…$salt$key".
func (h *Argon2Hasher) Hash(password string) (PasswordHash, error) {
	if len(password) > MaxPasswordLen {
		return "", invalid("password", "max_bytes", MaxPasswordLen)
	}
	salt := make([]byte, h.p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("memberkit: reading random salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, h.p.Time, h.p.Memory, h.p.Threads, h.p.KeyLen)
	return PasswordHash(fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.p.Memory, h.p.Time, h.p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))), nil
}

// ErrMalformedHash reports a stored hash that is not a supported PHC string.
var ErrMalformedHash = NewSentinel("malformed_hash", 500, "memberkit: malformed password hash")

// Verify checks password against an argon2id or bcrypt hash in constant time.
func (h *Argon2Hasher) Verify(hash PasswordHash, password string) (ok, rehash bool, err error) {
	if len(password) > MaxPasswordLen {
		password = password[:MaxPasswordLen] // still spend the work
	}
	s := string(hash)
	switch {
	case strings.HasPrefix(s, "$argon2id$"):
		p, salt, key, err := parseArgon2(s)
		if err != nil {
			return false, false, err
		}
		got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
		ok = subtle.ConstantTimeCompare(got, key) == 1
		rehash = p.Memory != h.p.Memory || p.Time != h.p.Time || p.Threads != h.p.Threads ||
			uint32(len(key)) != h.p.KeyLen || uint32(len(salt)) != h.p.SaltLen
		return ok, ok && rehash, nil
	case isBcrypt(s):
		if cost, err := bcrypt.Cost([]byte(s)); err != nil || cost > MaxBcryptCost {
			return false, false, ErrMalformedHash
		}
		err := bcrypt.CompareHashAndPassword([]byte(s), []byte(password))
		switch {
		case err == nil:
			return true, true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, false, nil
		default:
			return false, false, fmt.Errorf("%w: %v", ErrMalformedHash, err)
		}
	}
	return false, false, ErrMalformedHash
}

func isBcrypt(s string) bool {
	return strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")
}

// IsPasswordHash reports whether s is a PHC string memberkit can verify
// (argon2id or bcrypt). CSV imports store such values as they are.
func IsPasswordHash(s string) bool {
	if strings.HasPrefix(s, "$argon2id$") {
		_, _, _, err := parseArgon2(s)
		return err == nil
	}
	if isBcrypt(s) {
		cost, err := bcrypt.Cost([]byte(s))
		return err == nil && len(s) == 60 && cost <= MaxBcryptCost
	}
	return false
}

// Bounds on the hashes memberkit verifies. Above the maxima a single
// verification would take seconds or gigabytes, so such values are
// malformed; below the minima an imported hash is refused unless the
// import allows weak hashes.
const (
	MinBcryptCost = 10 // OWASP's floor for bcrypt
	MaxBcryptCost = 15 // about 2 s per verification on one core
	// MinArgon2Memory (KiB) and MinArgon2MemoryTime (KiB × iterations)
	// follow OWASP's argon2id table: m=47104 t=1 … m=7168 t=5.
	MinArgon2Memory     = 7168
	MinArgon2MemoryTime = 7168 * 5
	MaxArgon2Memory     = 256 << 10 // 256 MiB
	MaxArgon2Time       = 16
	MaxArgon2Threads    = 16
	// An imported hash must also be cheap enough to verify at every
	// login: at most these (PHP's and most libraries' defaults are below).
	MaxImportBcryptCost    = 12
	MaxImportArgon2Memory  = 64 << 10 // 64 MiB
	MaxImportArgon2Time    = 4
	MaxImportArgon2Threads = 4
)

// CheckHashStrength refuses a PHC string unfit to be imported: too weak
// (bcrypt below [MinBcryptCost], argon2id below OWASP's minimum
// parameters) or too costly to verify at every login (above
// [MaxImportBcryptCost] or [MaxImportArgon2Memory]…), which would let one
// imported member slow every login. The
// error is a [*ValidationError] on the field "password" that never shows
// the hash. Strings that are not hashes memberkit verifies are refused
// too.
func CheckHashStrength(s string) error {
	switch {
	case strings.HasPrefix(s, "$argon2id$"):
		p, _, _, err := parseArgon2(s)
		if err != nil {
			return invalid("password", "hash_malformed", "argon2id")
		}
		if p.Memory < MinArgon2Memory || uint64(p.Memory)*uint64(p.Time) < MinArgon2MemoryTime {
			return invalid("password", "argon2_weak", p.Memory, p.Time, MinArgon2Memory, MinArgon2MemoryTime)
		}
		if p.Memory > MaxImportArgon2Memory || p.Time > MaxImportArgon2Time || p.Threads > MaxImportArgon2Threads {
			return invalid("password", "argon2_costly",
				p.Memory, p.Time, p.Threads, MaxImportArgon2Memory, MaxImportArgon2Time, MaxImportArgon2Threads)
		}
		return nil
	case isBcrypt(s):
		cost, err := bcrypt.Cost([]byte(s))
		if err != nil || !IsPasswordHash(s) {
			return invalid("password", "hash_malformed", "bcrypt")
		}
		if cost < MinBcryptCost {
			return invalid("password", "bcrypt_weak", cost, MinBcryptCost)
		}
		if cost > MaxImportBcryptCost {
			return invalid("password", "bcrypt_costly", cost, MaxImportBcryptCost)
		}
		return nil
	}
	return invalid("password", "hash_unknown")
}

func parseArgon2(s string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 {
		return p, nil, nil, ErrMalformedHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, ErrMalformedHash
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil {
		return p, nil, nil, ErrMalformedHash
	}
	// Refuse parameters that would let a stored value exhaust the machine.
	if p.Time < 1 || p.Time > MaxArgon2Time || threads < 1 || threads > MaxArgon2Threads || p.Memory < 8*threads || p.Memory > MaxArgon2Memory {
		return p, nil, nil, ErrMalformedHash
	}
	p.Threads = uint8(threads)
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return p, nil, nil, ErrMalformedHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, ErrMalformedHash
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// RandomPassword returns a random password of n characters (at least 12)
// from an alphabet without look-alike characters, for temporary passwords.
func RandomPassword(n int) (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	if n < 12 {
		n = 12
	}
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("memberkit: reading random bytes: %w", err)
		}
		for _, b := range buf {
			// Rejection sampling: 224 = 4*56, so every letter is equally likely.
			if int(b) < 4*len(alphabet) && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	buf = out
	return string(buf), nil
}
