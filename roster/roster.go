package roster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
}

// Service manages the members of orgs kept in a store. It is safe for
// concurrent use.
type Service struct {
	st             store.Store
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

// New returns a service on st; opts may be nil. It refuses a nil store.
func New(st store.Store, opts *Options) (*Service, error) {
	if st == nil {
		return nil, errors.New("roster: nil store")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Hasher == nil {
		o.Hasher = membership.NewArgon2Hasher(nil)
	}
	s := &Service{st: st, clock: membership.ClockOrSystem(o.Clock), hasher: membership.LimitHasher(o.Hasher, o.MaxConcurrentHashes),
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

// Org returns the org (permission members.read): its name, plan, features
// and the counts the services keep.
func (s *Service) Org(ctx context.Context, actor membership.Actor, orgID string) (membership.Org, error) {
	var org membership.Org
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		if _, err := svc.Authorize(ctx, tx, actor, membership.PermMembersRead); err != nil {
			return err
		}
		var err error
		org, err = tx.Org(ctx)
		return err
	})
	return org, err
}

// update runs fn in a store Update, collects the events fn appends, and
// emits them after commit.
func (s *Service) update(ctx context.Context, orgID string, fn func(tx store.Tx, emit func(...membership.Event)) error) error {
	return svc.Update(ctx, s.st, orgID, s.hook, fn)
}

// NewOrg describes an org to create.
type NewOrg struct {
	ID       string // optional; a new time-ordered ID when empty
	Name     string
	Plan     membership.Plan // zero value: the Free plan
	Features []membership.Feature
}

// CreateOrg creates an org. Its first admin is then added with
// [membership.SystemActor].
func (s *Service) CreateOrg(ctx context.Context, n NewOrg) (membership.Org, error) {
	now := svc.Now(s.clock)
	o := membership.Org{ID: n.ID, Name: n.Name, Plan: n.Plan, Features: n.Features, CreatedAt: now, UpdatedAt: now}
	if o.ID == "" {
		o.ID = membership.NewID()
	}
	if o.Plan == (membership.Plan{}) {
		o.Plan = membership.FreePlan()
	}
	if err := membership.ValidateOrg(&o); err != nil {
		return membership.Org{}, err
	}
	if err := s.st.CreateOrg(ctx, o); err != nil {
		return membership.Org{}, err
	}
	return o, nil
}

// SetPlan changes the org's plan (permission org.manage). Lowering the
// limit below the seats in use is allowed: nobody is deactivated, but no
// seat can be taken until enough are freed.
func (s *Service) SetPlan(ctx context.Context, actor membership.Actor, orgID string, plan membership.Plan) error {
	return s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		if _, err := svc.Authorize(ctx, tx, actor, membership.PermOrgManage); err != nil {
			return err
		}
		org, err := tx.Org(ctx)
		if err != nil {
			return err
		}
		old := org.Plan
		org.Plan = plan
		org.UpdatedAt = svc.Now(s.clock)
		if err := tx.PutOrg(ctx, org); err != nil {
			return err
		}
		e := svc.Event(org.UpdatedAt, membership.EventOrgUpdated, actor, orgID)
		e.Detail = fmt.Sprintf("plan %s (%d seats) → %s (%d seats)", old.Name, old.MemberLimit, plan.Name, plan.MemberLimit)
		emit(e)
		return nil
	})
}

// SetFeatures switches the org's features (permission org.manage).
func (s *Service) SetFeatures(ctx context.Context, actor membership.Actor, orgID string, features ...membership.Feature) error {
	return s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		if _, err := svc.Authorize(ctx, tx, actor, membership.PermOrgManage); err != nil {
			return err
		}
		org, err := tx.Org(ctx)
		if err != nil {
			return err
		}
		org.Features = features
		org.UpdatedAt = svc.Now(s.clock)
		if err := tx.PutOrg(ctx, org); err != nil {
			return err
		}
		e := svc.Event(org.UpdatedAt, membership.EventOrgUpdated, actor, orgID)
		e.Detail = fmt.Sprintf("features %v", features)
		emit(e)
		return nil
	})
}

// NewMember describes a member to add.
type NewMember struct {
	// Login: blank means the first free of prenom.nom, prenom.nom2, …
	Login     string
	Email     string // optional
	FirstName string // required
	LastName  string // required
	RoleID    string // default membership.RoleUser
	Groups    []string
	// Password: blank means a temporary password from
	// Options.TemporaryPassword, which the member must change at first
	// login.
	Password string
	// UserID links the member to the host's own user account (optional).
	UserID string
}

// Added is the result of [Service.Add].
type Added struct {
	Member membership.Member
	// Restored is true when a removed member with the same login or email
	// was brought back instead of a new record being created.
	Restored bool
	// TemporaryPassword is set, once, when the member was added without a
	// password. Hand it to the member; it is not stored in clear.
	// It prints and marshals as "[redacted]": use string(a.TemporaryPassword).
	TemporaryPassword membership.Secret
}

// Add adds a member (permission members.manage). A removed member with the
// same login or email is brought back with the new details; an active or
// deactivated one gives a *membership.DuplicateError. The seat limit is
// checked: [membership.ErrMemberLimit]. A member actor may only give a
// role whose every permission it holds, and only bring back a removed
// member it could act on; linking a host account (NewMember.UserID) is
// the system actor's alone.
func (s *Service) Add(ctx context.Context, actor membership.Actor, orgID string, n NewMember) (Added, error) {
	cand := membership.Member{Login: n.Login, Email: n.Email, FirstName: n.FirstName, LastName: n.LastName,
		RoleID: n.RoleID, Groups: n.Groups, UserID: n.UserID, Status: membership.StatusActive}
	if cand.RoleID == "" {
		cand.RoleID = membership.RoleUser
	}
	explicitLogin := strings.TrimSpace(n.Login) != ""
	if !explicitLogin {
		cand.Login = membership.DefaultLogin(n.FirstName, n.LastName)
		if cand.Login == "" {
			if _, err := membership.ValidateName("first_name", n.FirstName); err != nil {
				return Added{}, err
			}
			if _, err := membership.ValidateName("last_name", n.LastName); err != nil {
				return Added{}, err
			}
			return Added{}, &membership.ValidationError{Field: "login", Reason: "cannot be derived from the names; give one"}
		}
	}
	if err := membership.ValidateMember(&cand); err != nil {
		return Added{}, err
	}
	// Check the actor before spending a hash on its behalf, then hash
	// before taking the org's lock (the check is made again under it).
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		a, err := svc.Authorize(ctx, tx, actor, membership.PermMembersManage)
		if err != nil {
			return err
		}
		role, err := svc.NewRoles(tx).Get(ctx, cand.RoleID)
		if err != nil {
			return err
		}
		return a.CanGrant(role)
	})
	if err != nil {
		return Added{}, err
	}
	var res Added
	pw := n.Password
	if pw == "" {
		t, err := s.tempPw()
		if err != nil {
			return Added{}, fmt.Errorf("roster: temporary password: %w", err)
		}
		pw, res.TemporaryPassword = t, membership.Secret(t)
		cand.MustChangePassword = true
	} else if err := membership.ValidatePassword(pw); err != nil {
		return Added{}, err
	}
	hash, err := s.hasher.HashContext(ctx, pw)
	if err != nil {
		return Added{}, err
	}
	cand.PasswordHash = hash
	cand.SecurityStamp = membership.NewSecurityStamp()

	err = s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		a, err := svc.Authorize(ctx, tx, actor, membership.PermMembersManage)
		if err != nil {
			return err
		}
		if cand.UserID != "" && !a.IsSystem() {
			return &membership.ForbiddenError{ActorID: actor.String(), Reason: "only the system actor links a member to a host account (user_id)"}
		}
		roles := svc.NewRoles(tx)
		role, err := roles.Get(ctx, cand.RoleID)
		if err != nil {
			return err
		}
		if err := a.CanGrant(role); err != nil {
			return err
		}
		now := svc.Now(s.clock)
		m, restored, err := s.placeMember(ctx, tx, cand, explicitLogin)
		if err != nil {
			return err
		}
		if restored != nil {
			old, err := roles.Get(ctx, restored.RoleID)
			if err != nil {
				return err
			}
			if err := a.CanActOn(*restored, old); err != nil {
				return err
			}
		}
		if err := svc.CheckIdentifiers(ctx, tx, m); err != nil {
			return err
		}
		if err := svc.CheckSeats(ctx, tx, now, 1); err != nil {
			return err
		}
		m.UpdatedAt = now
		if restored != nil {
			if err := tx.UpdateMembers(ctx, []membership.Member{m}); err != nil {
				return err
			}
			emit(svc.MemberEvent(now, membership.EventMemberRestored, actor, *restored, m))
			m.Version++
		} else {
			m.ID, m.OrgID, m.CreatedAt = membership.NewID(), orgID, now
			if err := tx.InsertMembers(ctx, []membership.Member{m}); err != nil {
				return err
			}
			emit(svc.MemberEvent(now, membership.EventMemberAdded, actor, membership.Member{}, m))
			m.Version = 1
		}
		res.Member, res.Restored = svc.Public(m), restored != nil
		return nil
	})
	if err != nil {
		return Added{}, err
	}
	return res, nil
}

// placeMember finds where a new member goes: a removed record to bring
// back (same email, same explicit login, or same derived login and names),
// or a free login. It returns the member to write and, when restoring,
// the record before.
func (s *Service) placeMember(ctx context.Context, tx store.Tx, cand membership.Member, explicitLogin bool) (membership.Member, *membership.Member, error) {
	restore := func(old membership.Member) (membership.Member, *membership.Member, error) {
		m := old
		m.FirstName, m.LastName, m.RoleID, m.Groups = cand.FirstName, cand.LastName, cand.RoleID, cand.Groups
		if cand.Email != "" {
			m.Email = cand.Email
		}
		if cand.UserID != "" {
			m.UserID = cand.UserID
		}
		m.Status = membership.StatusActive
		m.PasswordHash, m.MustChangePassword, m.SecurityStamp = cand.PasswordHash, cand.MustChangePassword, cand.SecurityStamp
		if explicitLogin && !strings.EqualFold(old.Login, cand.Login) {
			if other, err := tx.MemberByLogin(ctx, cand.Login); err == nil && other.ID != old.ID {
				return membership.Member{}, nil, &membership.DuplicateError{Key: "login", Value: cand.Login}
			}
			m.Login = cand.Login
		}
		return m, &old, nil
	}
	if cand.Email != "" {
		old, err := tx.MemberByEmail(ctx, cand.Email)
		switch {
		case err == nil && old.Status == membership.StatusRemoved:
			return restore(old)
		case err == nil:
			return membership.Member{}, nil, &membership.DuplicateError{Key: "email", Value: cand.Email}
		case !errors.Is(err, store.ErrNotFound):
			return membership.Member{}, nil, err
		}
	}
	if explicitLogin {
		old, err := tx.MemberByLogin(ctx, cand.Login)
		switch {
		case err == nil && old.Status == membership.StatusRemoved && (cand.Email == "" || old.Email == "" || strings.EqualFold(old.Email, cand.Email)):
			return restore(old)
		case err == nil:
			return membership.Member{}, nil, &membership.DuplicateError{Key: "login", Value: cand.Login}
		case !errors.Is(err, store.ErrNotFound):
			return membership.Member{}, nil, err
		}
		return cand, nil, nil
	}
	login, old, err := svc.FreeLogin(ctx, tx, cand.Login, func(old membership.Member) bool {
		return old.Status == membership.StatusRemoved && old.Email == "" && cand.Email == "" &&
			membership.Fold(old.FirstName) == membership.Fold(cand.FirstName) && membership.Fold(old.LastName) == membership.Fold(cand.LastName)
	})
	if err != nil {
		return membership.Member{}, nil, err
	}
	if old != nil {
		return restore(*old)
	}
	cand.Login = login
	return cand, nil, nil
}

// Get returns a member (permission members.read, or the member themselves).
func (s *Service) Get(ctx context.Context, actor membership.Actor, orgID, memberID string) (membership.Member, error) {
	var m membership.Member
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		a, err := svc.Authority(ctx, tx, actor)
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
	var out membership.Member
	err := s.update(ctx, orgID, func(tx store.Tx, emit func(...membership.Event)) error {
		a, err := svc.Authorize(ctx, tx, actor, perm)
		if err != nil {
			return err
		}
		before, err := tx.Member(ctx, memberID)
		if err != nil {
			return err
		}
		roles := svc.NewRoles(tx)
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

func removedErr(m *membership.Member) error {
	return fmt.Errorf("member %s was removed; add or invite them again: %w", m.ID, membership.ErrNotFound)
}

// Activate makes a deactivated member active again (permission
// members.manage), within the seat limit.
//
// Activate, Deactivate, Remove, ChangeRole and Update act only on a
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
	return s.change(ctx, actor, orgID, memberID, membership.PermMembersManage, func(_ store.Tx, _ membership.Authority, _ *svc.Roles, m *membership.Member) (membership.EventType, string, error) {
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
}

// Edit changes a member's details (permission members.manage), on a
// member the actor may act on. Changing another member's email, through
// which their account is recovered, needs an actor that outranks them
// ([membership.Authority.CanSetCredentials]). Changing UserID, the link to
// a host account, is the system actor's alone.
func (s *Service) Edit(ctx context.Context, actor membership.Actor, orgID, memberID string, p Patch) (membership.Member, error) {
	return s.change(ctx, actor, orgID, memberID, membership.PermMembersManage, func(tx store.Tx, a membership.Authority, roles *svc.Roles, m *membership.Member) (membership.EventType, string, error) {
		if m.Status == membership.StatusRemoved {
			return "", "", removedErr(m)
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
		if len(changed) == 0 {
			return "", "", nil
		}
		if err := membership.ValidateMember(m); err != nil {
			return "", "", err
		}
		if err := svc.CheckIdentifiers(ctx, tx, *m); err != nil {
			return "", "", err
		}
		return membership.EventMemberUpdated, "changed: " + strings.Join(changed, ", "), nil
	})
}
