package membership

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// Attempts is the record of recent failures under one throttle key (a
// login in an org, or a client the host names). Stores keep it under the
// key's hash; the rules that read and move it are [ThrottlePolicy]'s.
type Attempts struct {
	Failures    int       // failures counted in the current window
	LastFailure time.Time // when the last one happened
	LockedUntil time.Time // zero unless locked out
}

// IsZero reports whether the record holds nothing (and can be dropped).
func (a Attempts) IsZero() bool {
	return a.Failures == 0 && a.LastFailure.IsZero() && a.LockedUntil.IsZero()
}

// ThrottlePolicy says how failures slow down the next attempts under one
// key: a few are free, then each next attempt must wait an exponentially
// growing delay, then the key is locked for a while. Zero fields take the
// defaults of [DefaultLoginThrottle].
type ThrottlePolicy struct {
	// FreeFailures may happen without any delay; default 3.
	FreeFailures int
	// BaseDelay is the wait after the first failure past the free ones,
	// doubled with each further failure; default 1s.
	BaseDelay time.Duration
	// MaxDelay caps that wait; default 1 minute.
	MaxDelay time.Duration
	// LockAfter failures lock the key for LockFor; default 10.
	LockAfter int
	// LockFor is how long a lockout lasts; default 15 minutes.
	LockFor time.Duration
	// Window: failures are forgotten once none happened for this long;
	// default 1 hour.
	Window time.Duration
}

// DefaultLoginThrottle is the policy for one login of one org: three free
// failures, then 1s, 2s, 4s… between attempts, a 15-minute lock after ten.
func DefaultLoginThrottle() ThrottlePolicy {
	return ThrottlePolicy{FreeFailures: 3, BaseDelay: time.Second, MaxDelay: time.Minute, LockAfter: 10, LockFor: 15 * time.Minute, Window: time.Hour}
}

// DefaultClientThrottle is the policy for one client key (an IP address):
// looser than a login's, since an office shares one address.
func DefaultClientThrottle() ThrottlePolicy {
	return ThrottlePolicy{FreeFailures: 20, BaseDelay: time.Second, MaxDelay: time.Minute, LockAfter: 100, LockFor: 15 * time.Minute, Window: time.Hour}
}

// Or returns p with its zero fields taken from d.
func (p ThrottlePolicy) Or(d ThrottlePolicy) ThrottlePolicy {
	if p.FreeFailures <= 0 {
		p.FreeFailures = d.FreeFailures
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = d.MaxDelay
	}
	if p.LockAfter <= 0 {
		p.LockAfter = d.LockAfter
	}
	if p.LockFor <= 0 {
		p.LockFor = d.LockFor
	}
	if p.Window <= 0 {
		p.Window = d.Window
	}
	return p
}

func (p ThrottlePolicy) withDefaults() ThrottlePolicy { return p.Or(DefaultLoginThrottle()) }

// current returns a as it stands at now: a record whose window has passed
// and whose lock has ended is forgotten.
func (p ThrottlePolicy) current(now time.Time, a Attempts) Attempts {
	if now.Before(a.LockedUntil) {
		return a
	}
	if !a.LastFailure.IsZero() && now.Sub(a.LastFailure) >= p.Window {
		return Attempts{}
	}
	if !a.LockedUntil.IsZero() { // a lock that ended starts a fresh count
		return Attempts{}
	}
	return a
}

// Wait returns how long the next attempt under a key whose record is a
// must still wait at now, and whether the key is locked out. Zero means
// go ahead.
func (p ThrottlePolicy) Wait(now time.Time, a Attempts) (time.Duration, bool) {
	p = p.withDefaults()
	a = p.current(now, a)
	if now.Before(a.LockedUntil) {
		return a.LockedUntil.Sub(now), true
	}
	if a.Failures < p.FreeFailures {
		return 0, false
	}
	delay := p.BaseDelay << min(a.Failures-p.FreeFailures, 20)
	if delay <= 0 || delay > p.MaxDelay {
		delay = p.MaxDelay
	}
	if next := a.LastFailure.Add(delay); now.Before(next) {
		return next.Sub(now), false
	}
	return 0, false
}

// Check returns a [*ThrottleError] when an attempt at now must wait.
func (p ThrottlePolicy) Check(now time.Time, a Attempts) error {
	if wait, locked := p.Wait(now, a); wait > 0 {
		return &ThrottleError{RetryAfter: wait, Locked: locked}
	}
	return nil
}

// Fail counts a failure at now into a and reports whether it just locked
// the key.
func (p ThrottlePolicy) Fail(now time.Time, a *Attempts) (locked bool) {
	p = p.withDefaults()
	*a = p.current(now, *a)
	a.Failures++
	a.LastFailure = now
	if a.Failures >= p.LockAfter && !now.Before(a.LockedUntil) {
		a.LockedUntil = now.Add(p.LockFor)
		return true
	}
	return false
}

// Refund takes back a failure counted in advance for an attempt that
// succeeded: one failure fewer, and the lock lifted if that count had set
// it (locked, as Fail returned).
func (p ThrottlePolicy) Refund(a *Attempts, locked bool) {
	if a.Failures > 0 {
		a.Failures--
	}
	if locked {
		a.LockedUntil = time.Time{}
	}
}

// ThrottleKey is the key a throttle record is stored under: the SHA-256,
// in hex, of its parts, so that stores keep neither logins nor client
// addresses. The first part names the scope ("login", "client"…).
func ThrottleKey(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])
}
