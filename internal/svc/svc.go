// Package svc holds the few steps every service (roster, invite, csvsync)
// takes inside a store transaction: resolve the actor and check a
// permission, resolve a role, stamp an event, strip secrets before a
// member leaves the library. The rules themselves live in membership.
package svc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Authority resolves the actor inside tx: its member record (by member
// ID, or for a host account by user ID) and role as the catalog grants
// it, for the rules of membership.Authority. An actor that names no
// member of the org resolves to an authority that every check refuses.
func Authority(ctx context.Context, tx store.Tx, cat *membership.Catalog, actor membership.Actor) (membership.Authority, error) {
	a := membership.Authority{Actor: actor}
	var m membership.Member
	var err error
	switch {
	case actor.IsSystem():
		return a, nil
	case actor.MemberID != "":
		m, err = tx.Member(ctx, actor.MemberID)
	case actor.UserID != "":
		m, err = tx.MemberByUserID(ctx, actor.UserID)
	default:
		return a, nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return a, nil
	}
	if err != nil {
		return a, err
	}
	a.Member = &m
	role, err := Role(ctx, tx, cat, m.RoleID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return a, err
	}
	if err == nil {
		a.Role = &role
	}
	return a, nil
}

// Authorize resolves the actor inside tx and checks that it may use p.
func Authorize(ctx context.Context, tx store.Tx, cat *membership.Catalog, actor membership.Actor, p membership.Permission) (membership.Authority, error) {
	a, err := Authority(ctx, tx, cat, actor)
	if err != nil {
		return a, err
	}
	return a, a.Require(p)
}

// Roles resolves role IDs inside one transaction, reading the org's
// custom roles once, each as the catalog grants it: without the
// permissions the host no longer declares.
type Roles struct {
	tx      store.Tx
	cat     *membership.Catalog
	custom  []membership.Role
	unknown map[string][]membership.Permission // role ID → stored permissions the catalog does not know
	loaded  bool
}

// NewRoles returns a resolver on tx.
func NewRoles(tx store.Tx, cat *membership.Catalog) *Roles { return &Roles{tx: tx, cat: cat} }

// Get returns the role with that ID: a built-in role, or a custom role of
// the org; an unknown ID is a *membership.ValidationError on the field
// "role" (see RoleErr).
func (r *Roles) Get(ctx context.Context, id string) (membership.Role, error) {
	if role, ok := r.cat.BuiltinRole(id); ok {
		return role, nil
	}
	if err := r.load(ctx); err != nil {
		return membership.Role{}, err
	}
	for _, role := range r.custom {
		if role.ID == id {
			return role, nil
		}
	}
	return membership.Role{}, RoleErr(id, fmt.Errorf("role %q: %w", id, store.ErrNotFound))
}

func (r *Roles) load(ctx context.Context) error {
	if r.loaded {
		return nil
	}
	stored, err := r.tx.Roles(ctx)
	if err != nil {
		return err
	}
	r.custom = make([]membership.Role, len(stored))
	for i, role := range stored {
		var unknown []membership.Permission
		r.custom[i], unknown = r.cat.Effective(role)
		if len(unknown) > 0 {
			if r.unknown == nil {
				r.unknown = map[string][]membership.Permission{}
			}
			r.unknown[role.ID] = unknown
		}
	}
	r.loaded = true
	return nil
}

// All returns the built-in roles, then the org's custom roles.
func (r *Roles) All(ctx context.Context) ([]membership.Role, error) {
	if err := r.load(ctx); err != nil {
		return nil, err
	}
	return append(r.cat.BuiltinRoles(), r.custom...), nil
}

// Unknown returns, per custom role, the stored permissions the catalog
// does not declare (and that the role therefore does not grant).
func (r *Roles) Unknown(ctx context.Context) (map[string][]membership.Permission, error) {
	if err := r.load(ctx); err != nil {
		return nil, err
	}
	return r.unknown, nil
}

// RoleErr turns a role lookup's ErrNotFound into a validation error
// naming the role.
func RoleErr(id string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return membership.Invalid("role", "role_unknown", membership.Excerpt(id, 64))
	}
	return err
}

// Restamp gives after a new security stamp when the change from before
// ends the member's sessions (membership.RotatesStamp), or when force is
// set (a password change).
func Restamp(before membership.Member, after *membership.Member, force bool) {
	if force || membership.RotatesStamp(before, *after) {
		after.SecurityStamp = membership.NewSecurityStamp()
	}
}

// Role resolves a role ID: a built-in role, or a custom role of the org;
// store.ErrNotFound for neither.
func Role(ctx context.Context, tx store.Tx, cat *membership.Catalog, id string) (membership.Role, error) {
	r, err := NewRoles(tx, cat).Get(ctx, id)
	var ve *membership.ValidationError
	if errors.As(err, &ve) {
		return r, fmt.Errorf("role %q: %w", id, store.ErrNotFound)
	}
	return r, err
}

// Event stamps a new event.
func Event(now time.Time, typ membership.EventType, actor membership.Actor, subject string) membership.Event {
	return membership.Event{ID: membership.NewID(), At: store.Time(now), Type: typ, Actor: actor.String(), SubjectID: subject}
}

// MemberEvent is an event about a member's change from before to after;
// it carries the member's attributes after it.
func MemberEvent(now time.Time, typ membership.EventType, actor membership.Actor, before, after membership.Member) membership.Event {
	e := Event(now, typ, actor, after.ID)
	e.RoleBefore, e.RoleAfter = before.RoleID, after.RoleID
	e.StatusBefore, e.StatusAfter = before.Status, after.Status
	e.Attributes = after.Attributes.Clone()
	return e
}

// Public strips the password hash and the security stamp from a member
// about to be returned: the stamp goes only to who opens a session
// (Authenticate, ChangePassword).
func Public(m membership.Member) membership.Member {
	m.PasswordHash, m.SecurityStamp = "", ""
	return m
}

// Now returns the clock's time normalised for storage.
func Now(c membership.Clock) time.Time { return store.Time(c.Now()) }

// Hook is called after a transaction commits with the events it wrote.
type Hook func(ctx context.Context, events []membership.Event)

// Emit calls hook (if any) with events, recovering from nothing: the
// hook is the host's and runs in the caller's goroutine.
func Emit(ctx context.Context, hook Hook, events []membership.Event) {
	if hook != nil && len(events) > 0 {
		hook(ctx, events)
	}
}

// Logger returns l or a silent logger.
func Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// FreeLogin returns the first login of base, base2, base3… that no member
// of the org holds. taken, when not nil, is asked first for each candidate
// and may return a member to reuse instead (a removed record): FreeLogin
// then returns that member's login and reuse=true.
func FreeLogin(ctx context.Context, tx store.Tx, base string, reuse func(m membership.Member) bool) (string, *membership.Member, error) {
	for n := 1; n <= 10000; n++ {
		login := membership.LoginCandidate(base, n)
		old, err := tx.MemberByLogin(ctx, login)
		if errors.Is(err, store.ErrNotFound) {
			return login, nil, nil
		}
		if err != nil {
			return "", nil, err
		}
		if reuse != nil && reuse(old) {
			return login, &old, nil
		}
	}
	return "", nil, &membership.DuplicateError{Key: "login", Value: base}
}

// Editing wraps a store for [UpdatePreloaded] to run fn in its
// [store.MemberEditor.EditMembers]: a change that can break no invariant.
// The caller runs fn again in an Update when it returns
// [store.ErrNeedsLock].
func Editing(st store.Store) (store.Store, bool) {
	ed, ok := st.(store.MemberEditor)
	if !ok {
		return st, false
	}
	return editing{st, ed}, true
}

type editing struct {
	store.Store
	store.MemberEditor
}

// Commit appends the events a transaction made and writes the org once
// with what they changed: its counters of active members and admins move
// by the events' tally (membership.Tally), and its RosterVersion moves
// when any of them changes the roster, so that plans made before are seen
// as stale.
func Commit(ctx context.Context, tx store.Tx, events []membership.Event) error {
	if len(events) == 0 {
		return nil
	}
	if err := tx.AppendEvents(ctx, events); err != nil {
		return err
	}
	var t membership.Tally
	roster := false
	for _, e := range events {
		t.Event(e)
		roster = roster || e.Type.ChangesRoster()
	}
	if !roster && t.IsZero() {
		return nil
	}
	if rb, ok := tx.(store.RosterBumper); ok && t.IsZero() {
		return rb.BumpRoster(ctx)
	}
	org, err := tx.Org(ctx)
	if err != nil {
		return err
	}
	if roster {
		org.RosterVersion++
	}
	org.ActiveMembers += t.Active
	org.ActiveAdmins += t.Admins
	return tx.PutOrg(ctx, org)
}

// Update runs fn in a store Update of the org, collects the events fn
// emits, commits them with the change (see Commit), and hands them to hook
// once the transaction has committed. fn may run more than once when the
// store retries, so the events are collected afresh each time.
func Update(ctx context.Context, st store.Store, orgID string, hook Hook, fn func(tx store.Tx, emit func(...membership.Event)) error) error {
	return UpdatePreloaded(ctx, st, orgID, store.Preload{}, hook, fn)
}

// UpdatePreloaded is [Update] for a single operation whose members are
// known before it starts (the actor, the member acted on): a store that
// is a [store.Preloader] reads them with the org's lock, in one statement.
func UpdatePreloaded(ctx context.Context, st store.Store, orgID string, p store.Preload, hook Hook, fn func(tx store.Tx, emit func(...membership.Event)) error) error {
	var events []membership.Event
	run := func(tx store.Tx) error {
		events = events[:0]
		if err := fn(tx, func(e ...membership.Event) { events = append(events, e...) }); err != nil {
			return err
		}
		return Commit(ctx, tx, events)
	}
	var err error
	if ed, ok := st.(editing); ok {
		err = ed.MemberEditor.EditMembers(ctx, orgID, p, run)
	} else if pl, ok := st.(store.Preloader); ok && !p.IsZero() {
		err = pl.UpdatePreloaded(ctx, orgID, p, run)
	} else {
		err = st.Update(ctx, orgID, run)
	}
	if err != nil {
		return err
	}
	Emit(ctx, hook, events)
	return nil
}

// OrgCounts reads the org and the figures the seat and last-admin rules
// need, in one place.
func OrgCounts(ctx context.Context, tx store.Tx, now time.Time) (membership.Org, membership.Counts, error) {
	org, err := tx.Org(ctx)
	if err != nil {
		return org, membership.Counts{}, err
	}
	pending, err := store.CountOpenInvitations(ctx, tx, now)
	return org, membership.Counts{ActiveMembers: org.ActiveMembers, ActiveAdmins: org.ActiveAdmins, PendingInvitations: pending}, err
}

// CheckTally applies the seat and last-admin rules to the changes t
// sums, reading the org's figures only when the changes take seats or
// lose admins.
func CheckTally(ctx context.Context, tx store.Tx, now time.Time, t membership.Tally) error {
	if t.Active <= 0 && t.Admins >= 0 {
		return nil
	}
	if t.Active > 0 {
		org, c, err := OrgCounts(ctx, tx, now)
		if err != nil {
			return err
		}
		return t.Check(org.Plan, c)
	}
	// Losing admins without taking seats: the open invitations, which
	// only the seat rule counts, need not be read.
	org, err := tx.Org(ctx)
	if err != nil {
		return err
	}
	return t.Check(org.Plan, membership.Counts{ActiveMembers: org.ActiveMembers, ActiveAdmins: org.ActiveAdmins})
}

// CheckSeats refuses a change that needs more seats than the plan has
// left, with [membership.ErrMemberLimit].
func CheckSeats(ctx context.Context, tx store.Tx, now time.Time, need int) error {
	org, c, err := OrgCounts(ctx, tx, now)
	if err != nil {
		return err
	}
	return membership.CheckSeats(org.Plan, c.SeatsUsed(), need)
}

// CheckIdentifiers refuses a member whose login has the form of another
// member's email, or whose email is another member's login: either would
// let one member be taken for the other where logins and emails are both
// accepted (Authenticate reads a login, then an email). m.ID may be empty
// for a member not stored yet.
func CheckIdentifiers(ctx context.Context, tx store.Tx, m membership.Member) error {
	if strings.Contains(m.Login, "@") {
		o, err := tx.MemberByEmail(ctx, m.Login)
		switch {
		case err == nil && o.ID != m.ID:
			return &membership.DuplicateError{Key: "login", Value: m.Login}
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	if m.Email != "" {
		o, err := tx.MemberByLogin(ctx, m.Email)
		switch {
		case err == nil && o.ID != m.ID:
			return &membership.DuplicateError{Key: "email", Value: m.Email}
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	return nil
}
