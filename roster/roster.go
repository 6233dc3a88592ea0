package roster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Options configure a [Service]. A nil *Options means the defaults.
type Options struct {
	// Clock tells the time; default the system clock.
	Clock membership.Clock
	// Hasher hashes and verifies passwords; default argon2id with OWASP
	// parameters ([membership.NewArgon2Hasher]).
	Hasher membership.Hasher
	// Logger receives operational messages; default silent. Passwords and
	// hashes are never logged.
	Logger *slog.Logger
	// AfterCommit is called after each committed change with the audit
	// events it wrote, in the caller's goroutine. Use it to revoke the
	// sessions of deactivated or removed members at once.
	AfterCommit func(ctx context.Context, events []membership.Event)
	// TemporaryPassword makes the password of a member added without one
	// (who must change it at first login); default a random 16-character
	// password, returned once in [Added].
	TemporaryPassword func() (string, error)
	// IdleAfter is how long without a login makes a member idle in
	// [Service.Review]; default 90 days.
	IdleAfter time.Duration
	// Notifier delivers the temporary passwords of
	// [Service.ResetPassword] to their members; without one,
	// ResetPassword gives [ErrNoNotifier].
	Notifier Notifier
	// MaxConcurrentHashes bounds the password hashes computed at once by
	// this service; default runtime.GOMAXPROCS(0). Ignored when Hasher is
	// a *membership.LimitedHasher, whose bound is shared with whoever
	// else uses it.
	MaxConcurrentHashes int
	// LoginThrottle slows and locks repeated failures on one login of an
	// org; zero fields take membership.DefaultLoginThrottle's.
	LoginThrottle membership.ThrottlePolicy
	// ClientThrottle does the same per client (membership.WithClient);
	// zero fields take membership.DefaultClientThrottle's.
	ClientThrottle membership.ThrottlePolicy
	// Catalog declares the host's own permissions and those of the
	// built-in user role ([membership.NewCatalog]); nil knows memberkit's
	// permissions only. Give every service of a deployment the same one.
	Catalog *membership.Catalog
}

// Service manages the members of orgs kept in a store. It is safe for
// concurrent use.
type Service struct {
	st             store.Store
	cat            *membership.Catalog
	clock          membership.Clock
	hasher         *membership.LimitedHasher
	log            *slog.Logger
	hook           svc.Hook
	tempPw         func() (string, error)
	idleAfter      time.Duration
	notifier       Notifier
	loginThrottle  membership.ThrottlePolicy
	clientThrottle membership.ThrottlePolicy

	dummyOnce sync.Once
	dummy     membership.PasswordHash
}

// New returns a service on st; opts may be nil. It refuses a nil store, including a nil
// pointer in a store interface (a *sqlstore.Store left nil by an ignored
// error).
func New(st store.Store, opts *Options) (*Service, error) {
	if svc.IsNil(st) {
		return nil, errors.New("roster: nil store")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Hasher == nil {
		o.Hasher = membership.NewArgon2Hasher(nil)
	}
	s := &Service{st: st, cat: o.Catalog, clock: membership.ClockOrSystem(o.Clock), hasher: membership.LimitHasher(o.Hasher, o.MaxConcurrentHashes),
		log: svc.Logger(o.Logger), hook: o.AfterCommit, tempPw: o.TemporaryPassword, idleAfter: o.IdleAfter, notifier: o.Notifier,
		loginThrottle: o.LoginThrottle.Or(membership.DefaultLoginThrottle()), clientThrottle: o.ClientThrottle.Or(membership.DefaultClientThrottle())}
	if s.tempPw == nil {
		s.tempPw = func() (string, error) { return membership.RandomPassword(16) }
	}
	if s.idleAfter <= 0 {
		s.idleAfter = 90 * 24 * time.Hour
	}
	return s, nil
}

// update runs fn in a store Update, collects the events fn appends, and
// emits them after commit.
func (s *Service) update(ctx context.Context, orgID string, fn func(tx store.Tx, emit func(...membership.Event)) error) error {
	return svc.Update(ctx, s.st, orgID, s.hook, fn)
}

// Get returns a member (permission members.read, or the member themselves).
func (s *Service) Get(ctx context.Context, actor membership.Actor, orgID, memberID string) (membership.Member, error) {
	var m membership.Member
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		a, err := svc.Authority(ctx, tx, s.cat, actor)
		if err != nil {
			return err
		}
		if a.Is(memberID) {
			err = a.Active()
		} else {
			err = a.Require(membership.PermMembersRead)
		}
		if err != nil {
			return err
		}
		m, err = tx.Member(ctx, memberID)
		return err
	})
	return svc.Public(m), err
}

// change loads a member the actor may act on, applies a change to it,
// checks the rules and writes it. apply returns the event type ("" for no
// change) and its detail.
func (s *Service) change(ctx context.Context, actor membership.Actor, orgID, memberID string, perm membership.Permission,
	apply func(tx store.Tx, a membership.Authority, roles *svc.Roles, m *membership.Member) (membership.EventType, string, error)) (membership.Member, error) {
	return s.changeOn(ctx, s.st, false, actor, orgID, memberID, perm, apply)
}

// changeOn is change on st: the store itself, or with edits (see
// svc.Editing), where the actor's and the member's roles are built in
// (a custom role may change meanwhile: that needs the org's lock).
func (s *Service) changeOn(ctx context.Context, st store.Store, edits bool, actor membership.Actor, orgID, memberID string, perm membership.Permission,
	apply func(tx store.Tx, a membership.Authority, roles *svc.Roles, m *membership.Member) (membership.EventType, string, error)) (membership.Member, error) {
	var out membership.Member
	pre := store.Preload{MemberIDs: []string{actor.MemberID, memberID}, UserIDs: []string{actor.UserID}}
	err := svc.UpdatePreloaded(ctx, st, orgID, pre, s.hook, func(tx store.Tx, emit func(...membership.Event)) error {
		a, err := svc.Authorize(ctx, tx, s.cat, actor, perm)
		if err != nil {
			return err
		}
		before, err := tx.Member(ctx, memberID)
		if err != nil {
			return err
		}
		if edits && !(s.builtin(before.RoleID) && (a.Member == nil || s.builtin(a.Member.RoleID))) {
			return store.ErrNeedsLock
		}
		roles := svc.NewRoles(tx, s.cat)
		role, err := roles.Get(ctx, before.RoleID)
		if err != nil {
			return err
		}
		if err := a.CanActOn(before, role); err != nil {
			return err
		}
		after := before.Clone()
		typ, detail, err := apply(tx, a, roles, &after)
		if err != nil {
			return err
		}
		if typ == "" { // nothing to do
			out = before
			return nil
		}
		now := svc.Now(s.clock)
		var t membership.Tally
		t.Change(before, after)
		if err := svc.CheckTally(ctx, tx, now, t); err != nil {
			return err
		}
		after.UpdatedAt = now
		svc.Restamp(before, &after, false)
		if err := tx.UpdateMembers(ctx, []membership.Member{after}); err != nil {
			return err
		}
		e := svc.MemberEvent(now, typ, actor, before, after)
		e.Detail = detail
		emit(e)
		after.Version++
		out = after
		return nil
	})
	return svc.Public(out), err
}

func (s *Service) builtin(roleID string) bool {
	_, ok := s.cat.BuiltinRole(roleID)
	return ok
}

func removedErr(m *membership.Member) error {
	return fmt.Errorf("member %s was removed; add or invite them again: %w", m.ID, membership.ErrNotFound)
}

// Activate makes a deactivated member active again (permission
// members.manage), within the seat limit.
//
// Activate, Deactivate, Remove, ChangeRole and Edit act only on a
// member whose every role permission the actor holds, so that a manager
// cannot touch an admin ([membership.ErrForbidden]). Each change of
// status or role gives the member a new SecurityStamp.
func (s *Service) Activate(ctx context.Context, actor membership.Actor, orgID, memberID string) (membership.Member, error) {
	return s.setStatus(ctx, actor, orgID, memberID, membership.StatusActive, membership.EventMemberActivated)
}

// Deactivate makes a member inactive (permission members.manage): they
// cannot log in and stay listed. The last active admin cannot be
// deactivated.
func (s *Service) Deactivate(ctx context.Context, actor membership.Actor, orgID, memberID string) (membership.Member, error) {
	return s.setStatus(ctx, actor, orgID, memberID, membership.StatusDeactivated, membership.EventMemberDeactivated)
}

// setStatus moves a member that is not removed to status to; already
// there is not a change.
func (s *Service) setStatus(ctx context.Context, actor membership.Actor, orgID, memberID string, to membership.Status, typ membership.EventType) (membership.Member, error) {
	return s.change(ctx, actor, orgID, memberID, membership.PermMembersManage, func(_ store.Tx, _ membership.Authority, _ *svc.Roles, m *membership.Member) (membership.EventType, string, error) {
		switch m.Status {
		case to:
			return "", "", nil
		case membership.StatusRemoved:
			return "", "", removedErr(m)
		}
		m.Status = to
		return typ, "", nil
	})
}

// ChangeRole gives a member another role (permission members.manage). The
// actor must hold every permission of both the member's role and the new
// one; nobody changes their own role, except an admin demoting
// themselves. The last active admin cannot be demoted, not even by
// themselves.
func (s *Service) ChangeRole(ctx context.Context, actor membership.Actor, orgID, memberID, roleID string) (membership.Member, error) {
	return s.change(ctx, actor, orgID, memberID, membership.PermMembersManage, func(tx store.Tx, a membership.Authority, roles *svc.Roles, m *membership.Member) (membership.EventType, string, error) {
		if m.Status == membership.StatusRemoved {
			return "", "", removedErr(m)
		}
		if m.RoleID == roleID {
			return "", "", nil
		}
		from, err := roles.Get(ctx, m.RoleID)
		if err != nil {
			return "", "", err
		}
		to, err := roles.Get(ctx, roleID)
		if err != nil {
			return "", "", err
		}
		if err := a.CanChangeRole(*m, from, to); err != nil {
			return "", "", err
		}
		m.RoleID = roleID
		return membership.EventMemberRoleChanged, "", nil
	})
}

// Remove takes a member out of the org (permission members.manage): they
// lose access at once and leave the normal list; the record and its data
// stay, and adding or inviting the same login or email brings it back.
// The last active admin cannot be removed.
func (s *Service) Remove(ctx context.Context, actor membership.Actor, orgID, memberID string) (membership.Member, error) {
	return s.RemoveIf(ctx, actor, orgID, memberID, 0)
}

// RemoveIf removes a member as [Service.Remove] does, when ifVersion is 0
// or the member's Version: otherwise membership.ErrConflict and nothing
// changes (an HTTP If-Match, checked in the same transaction).
func (s *Service) RemoveIf(ctx context.Context, actor membership.Actor, orgID, memberID string, ifVersion int64) (membership.Member, error) {
	return s.change(ctx, actor, orgID, memberID, membership.PermMembersManage, func(_ store.Tx, _ membership.Authority, _ *svc.Roles, m *membership.Member) (membership.EventType, string, error) {
		if ifVersion != 0 && ifVersion != m.Version {
			return "", "", fmt.Errorf("member %s at version %d, not %d: %w", m.ID, m.Version, ifVersion, membership.ErrConflict)
		}
		if m.Status == membership.StatusRemoved {
			return "", "", nil
		}
		m.Status = membership.StatusRemoved
		return membership.EventMemberRemoved, "", nil
	})
}

// Patch changes a member's details; nil fields stay as they are.
type Patch struct {
	FirstName *string
	LastName  *string
	Email     *string // "" clears it
	Login     *string
	Groups    *[]string
	UserID    *string
	// Attributes are merged into the member's: each key is set, and a
	// key set to "" is removed.
	Attributes membership.Attributes
	// Status moves the member to active or deactivated in the same
	// transaction as the other fields, under the rules of [Service.Activate]
	// and [Service.Deactivate] (seats, the last admin): what a directory's
	// "replace this user" needs. The one event then has the status
	// change's type and lists the other fields changed in its Detail.
	Status *membership.Status
	// IfVersion, when not zero, is the member's Version the patch was
	// made against: any other gives membership.ErrConflict and changes
	// nothing (an HTTP If-Match, or a read-modify-write that must not
	// undo a change made meanwhile).
	IfVersion int64
}

// Edit changes a member's details (permission members.manage), on a
// member the actor may act on. Changing another member's email, through
// which their account is recovered, needs an actor that outranks them
// ([membership.Authority.CanSetCredentials]). Changing UserID, the link to
// a host account, is the system actor's alone.
//
// An edit of names or attributes alone can break no rule of the org: on a
// store that is a [store.MemberEditor] it does not hold the org's lock
// while it reads and checks, only the member's version.
func (s *Service) Edit(ctx context.Context, actor membership.Actor, orgID, memberID string, p Patch) (membership.Member, error) {
	if ed, ok := svc.Editing(s.st); ok && p.Email == nil && p.Login == nil && p.UserID == nil && p.Groups == nil && p.Status == nil {
		m, err := s.changeOn(ctx, ed, true, actor, orgID, memberID, membership.PermMembersManage, s.edit(ctx, actor, p))
		if !errors.Is(err, store.ErrNeedsLock) {
			return m, err
		}
	}
	return s.change(ctx, actor, orgID, memberID, membership.PermMembersManage, s.edit(ctx, actor, p))
}

// edit applies p to a member.
func (s *Service) edit(ctx context.Context, actor membership.Actor, p Patch) func(tx store.Tx, a membership.Authority, roles *svc.Roles, m *membership.Member) (membership.EventType, string, error) {
	return func(tx store.Tx, a membership.Authority, roles *svc.Roles, m *membership.Member) (membership.EventType, string, error) {
		if m.Status == membership.StatusRemoved {
			return "", "", removedErr(m)
		}
		if p.IfVersion != 0 && p.IfVersion != m.Version {
			return "", "", fmt.Errorf("member %s at version %d, not %d: %w", m.ID, m.Version, p.IfVersion, membership.ErrConflict)
		}
		if p.Email != nil && !a.Is(m.ID) && !strings.EqualFold(strings.TrimSpace(*p.Email), m.Email) {
			// Another member's email is how their account is recovered.
			role, err := roles.Get(ctx, m.RoleID)
			if err != nil {
				return "", "", err
			}
			if err := a.CanSetCredentials(*m, role); err != nil {
				return "", "", err
			}
		}
		if p.UserID != nil && *p.UserID != m.UserID && !a.IsSystem() {
			return "", "", &membership.ForbiddenError{ActorID: actor.String(), Reason: "only the system actor links a member to a host account (user_id)"}
		}
		var changed []string
		set := func(field string, dst *string, v *string) {
			if v != nil && *dst != *v {
				*dst = *v
				changed = append(changed, field)
			}
		}
		set("first_name", &m.FirstName, p.FirstName)
		set("last_name", &m.LastName, p.LastName)
		set("email", &m.Email, p.Email)
		set("login", &m.Login, p.Login)
		set("user_id", &m.UserID, p.UserID)
		if p.Groups != nil {
			m.Groups = *p.Groups
			changed = append(changed, "groups")
		}
		if p.Attributes != nil {
			// Compared as they would be stored (trimmed, NFC): a change
			// that normalises to nothing writes nothing.
			merged, err := membership.ValidateAttributes(m.Attributes.Merge(p.Attributes.Normalized()))
			if err != nil {
				return "", "", err
			}
			if !merged.Equal(m.Attributes) {
				m.Attributes = merged
				changed = append(changed, "attributes")
			}
		}
		typ := membership.EventMemberUpdated
		if p.Status != nil && *p.Status != m.Status {
			switch *p.Status {
			case membership.StatusActive:
				typ = membership.EventMemberActivated
			case membership.StatusDeactivated:
				typ = membership.EventMemberDeactivated
			default:
				return "", "", membership.Invalid("status", "status_unknown", string(*p.Status))
			}
			m.Status = *p.Status
		} else if len(changed) == 0 {
			return "", "", nil
		}
		if err := membership.ValidateMember(m); err != nil {
			return "", "", err
		}
		if slices.Contains(changed, "login") || slices.Contains(changed, "email") {
			// An identifier kept as it was makes no new ambiguity.
			if err := svc.CheckIdentifiers(ctx, tx, *m); err != nil {
				return "", "", err
			}
		}
		if len(changed) == 0 {
			return typ, "", nil
		}
		return typ, "changed: " + strings.Join(changed, ", "), nil
	}
}
