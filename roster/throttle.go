package roster

import (
	"context"
	"strings"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// throttled is one throttle key with its policy.
type throttled struct {
	key    string
	policy membership.ThrottlePolicy
	login  bool // the per-login key, reset on success
}

// identifier is the canonical form of what a member typed to sign in:
// the login key, or for an address the normalised email, so that every
// spelling of one identifier (case, Unicode forms, a domain in Unicode or
// in ASCII) is counted under one throttle key.
func identifier(login string) string {
	k := membership.LoginKey(login)
	if strings.Contains(k, "@") {
		if e, err := membership.ValidateEmail(login); err == nil {
			return e
		}
	}
	return k
}

// attempt is one try at a password, counted under its throttle keys before
// the password is checked — so that a burst cannot slip more tries past
// the throttle than it allows — and refunded if it succeeds.
type attempt struct {
	s       *Service
	keys    []throttled
	locked  []bool // per key: counting this attempt locked it
	counted int
}

// begin counts an attempt under the keys of scope, orgID and the typed
// identifier (and the client when the context names one). An attempt that
// must wait gets a *membership.ThrottleError and counts nowhere.
func (s *Service) begin(ctx context.Context, scope, orgID, ident string) (*attempt, error) {
	at := &attempt{s: s, keys: []throttled{{key: membership.ThrottleKey(scope, orgID, identifier(ident)), policy: s.loginThrottle, login: true}}}
	if c := membership.ClientFrom(ctx); c != "" {
		at.keys = append(at.keys, throttled{key: membership.ThrottleKey("client", c), policy: s.clientThrottle})
	}
	at.locked = make([]bool, len(at.keys))
	now := s.clock.Now()
	for i, k := range at.keys {
		err := s.st.UpdateAttempts(ctx, k.key, func(a *membership.Attempts) error {
			if err := k.policy.Check(now, *a); err != nil {
				return err
			}
			at.locked[i] = k.policy.Fail(now, a)
			return nil
		})
		if err != nil {
			_ = at.refund(context.WithoutCancel(ctx))
			return nil, err
		}
		at.counted++
	}
	return at, nil
}

// refund takes the attempt back from every key it was counted under.
func (at *attempt) refund(ctx context.Context) error {
	for i := range at.counted {
		k := at.keys[i]
		err := at.s.st.UpdateAttempts(ctx, k.key, func(a *membership.Attempts) error {
			k.policy.Refund(a, at.locked[i])
			return nil
		})
		if err != nil {
			return err
		}
	}
	at.counted = 0
	return nil
}

// succeeded forgets the login's failures (a success proves the password
// known) and takes the attempt back from the other keys.
func (at *attempt) succeeded(ctx context.Context) error {
	for i := range at.counted {
		k := at.keys[i]
		err := at.s.st.UpdateAttempts(ctx, k.key, func(a *membership.Attempts) error {
			if k.login {
				*a = membership.Attempts{}
			} else {
				k.policy.Refund(a, at.locked[i])
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	at.counted = 0
	return nil
}

// failed records the failure, and a lockout if counting it locked the
// login, as audit events of the org when the org exists, and returns
// membership.ErrInvalidCredentials (or the store's error). subject is the
// member concerned, "" for an unknown login.
func (at *attempt) failed(ctx context.Context, orgID string, orgFound bool, subject, detail string, actor membership.Actor) error {
	if !orgFound {
		return membership.ErrInvalidCredentials
	}
	err := at.s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		t := svc.Now(at.s.clock)
		e := svc.Event(t, membership.EventMemberLoginFailed, actor, subject)
		e.Detail = detail
		emit(e)
		if at.locked[0] {
			l := svc.Event(t, membership.EventMemberLockedOut, actor, subject)
			l.Detail = "locked after repeated failures"
			emit(l)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return membership.ErrInvalidCredentials
}
