// Package store is the contract between memberkit's services and the
// databases that keep their data. This file is everything an implementer
// needs: the [Store] and [Tx] interfaces, their parameter types, and on each
// method the sentinel error it must return.
//
// The contract is executable: package storetest runs it against any Store,
// ours (memstore, sqlstore) or a host app's own.
//
// # Transactions
//
// Every read and write happens inside [Store.Update] or [Store.View], scoped
// to one org. Update runs its function in one transaction serialised with
// every other Update of the same org — across processes on SQL databases —
// and rolls back everything when the function returns an error. View reads a
// consistent snapshot. The org's invariants (seats, last admin) are checked
// by the services inside Update; the store enforces uniqueness of logins and
// emails on its own as a backstop.
//
// # Errors
//
// Stores return [ErrNotFound] for a missing org, member, role or
// invitation, a [*membership.DuplicateError] (matching [ErrDuplicate]) that
// names the key for a uniqueness violation, and [ErrConflict] for a stale
// [membership.Member.Version]. Context errors are returned as they are, so
// errors.Is(err, context.Canceled) works. After a Tx method returns an error
// other than ErrNotFound, fn should return an error: on some databases the
// transaction can no longer be used.
//
// # Implementing a store
//
// A store writes the nine methods of [Store] and the twenty-two of [Tx];
// storetest.Run tells whether they keep the contract. A [Tx] may also
// offer the optional fast paths [MemberCounter], [InvitationCounter],
// [SummaryReader], [DetailReader] and [MemberPatcher], and a Store
// [SessionReader], [AccessReader] and [AttemptPurger]; storetest checks
// them where they are. A store keeps what it is given: the rules
// (permissions, seats, the last admin, the org's counters) are the
// services'.
//
// # Times
//
// Stores keep times in UTC at microsecond precision; [Time] normalises a
// time the same way so that what a service returns equals what it stored.
package store

import (
	"context"
	"errors"
	"iter"
	"slices"
	"time"

	"github.com/memberkit/memberkit/membership"
)

// Errors a Store returns; they are the membership sentinels, so a caller
// can test either name.
var (
	ErrNotFound  = membership.ErrNotFound
	ErrDuplicate = membership.ErrDuplicate
	ErrConflict  = membership.ErrConflict
)

// ErrUnavailable is what a store's error matches when the database did
// not answer: the connection was lost or refused, or the server cancelled
// a statement at its timeout. Nothing of the transaction was kept; the
// call may be tried again.
var ErrUnavailable = membership.NewSentinel("unavailable", 503, "memberkit: the database did not answer; nothing was changed, try again")

// Store keeps orgs and everything in them.
type Store interface {
	// CreateOrg stores a new org. An org with the same ID gives a
	// *membership.DuplicateError with Key "org".
	CreateOrg(ctx context.Context, org membership.Org) error
	// Org returns an org, or ErrNotFound.
	Org(ctx context.Context, orgID string) (membership.Org, error)
	// Update runs fn in a read-write transaction on one org, serialised
	// with every other Update of that org. fn's error rolls back every
	// write and is returned as it is. ErrNotFound when the org does not
	// exist. fn may run more than once when the database asks for a retry
	// (serialization failure, deadlock), so it must not have effects
	// outside the transaction.
	Update(ctx context.Context, orgID string, fn func(tx Tx) error) error
	// View runs fn in a read-only transaction that sees a consistent
	// snapshot: never part of an Update. ErrNotFound when the org does
	// not exist. Write methods of the Tx fail.
	View(ctx context.Context, orgID string, fn func(tx Tx) error) error
	// The three lookups across orgs. Callers re-read what they find
	// inside Update before acting on it.
	//
	// InvitationByTokenHash finds an invitation of any org by the SHA-256
	// of its token, or returns ErrNotFound.
	InvitationByTokenHash(ctx context.Context, tokenHash []byte) (membership.Invitation, error)
	// Memberships returns every member, in any org and of any status,
	// whose UserID is userID, each with its org, ordered by org ID; none
	// is not an error. userID is never empty.
	Memberships(ctx context.Context, userID string) ([]Membership, error)
	// DomainOwner returns the verified claim of an email domain (by its
	// lookup-form name), whichever org holds it, or ErrNotFound when no
	// org has verified it.
	DomainOwner(ctx context.Context, name string) (membership.Domain, error)

	// Attempts returns the throttle record kept under key (a hex SHA-256
	// from membership.ThrottleKey), or the zero Attempts when there is
	// none. Keys belong to no org: an org that does not exist is
	// throttled like one that does.
	Attempts(ctx context.Context, key string) (membership.Attempts, error)
	// UpdateAttempts runs fn on the record under key (the zero Attempts
	// when there is none) and stores what fn leaves, atomically with
	// respect to every other UpdateAttempts of the same key, in every
	// process; a zero record left by fn is deleted. fn's error stores
	// nothing and is returned as it is. fn may run more than once.
	UpdateAttempts(ctx context.Context, key string, fn func(a *membership.Attempts) error) error
}

// SessionReader is an optional fast path a [Store] may offer: the state a
// session check needs, in one read by primary key, outside any
// transaction. Services use it when the store has it, and otherwise read
// the member in a View.
type SessionReader interface {
	// SessionState returns the security stamp, status and
	// must-change-password flag of a member of an org, or ErrNotFound.
	SessionState(ctx context.Context, orgID, memberID string) (membership.SessionState, error)
}

// Preloader is an optional fast path a [Store] may offer: an Update that
// reads, in the statement that takes the org's lock, the members it is
// about to need (the actor and the member acted on). Services use it for
// single operations when the store has it, and [Store.Update] otherwise.
//
// Inside fn the Tx behaves as in Update; [Tx.Member] and
// [Tx.MemberByUserID] answer for the preloaded members without another
// read. A member the preload did not find is looked up as usual.
type Preloader interface {
	// UpdatePreloaded runs fn as Update does, with the members p names
	// read under the org's lock.
	UpdatePreloaded(ctx context.Context, orgID string, p Preload, fn func(tx Tx) error) error
}

// MemberEditor is an optional ability a [Store] may offer: a write that
// can change no invariant (a member's names or attributes, and its
// event) without holding the org's lock while it reads and checks. The
// members p names are read without a lock; at commit the store checks
// that each is still at the version read (the actor too) and runs fn
// again when one is not; the org's row is taken only by the last
// statement, which numbers the events and moves the roster version.
//
// Inside fn the Tx accepts, as writes, only [Tx.UpdateMembers] of
// members p named that keep their login, email, user ID, groups, role and
// status, [Tx.AppendEvents] and [RosterBumper.BumpRoster]; any other
// write returns [ErrNeedsLock], as does EditMembers itself when it cannot
// do without the lock: the caller then runs the same work in
// [Store.Update]. A store may implement EditMembers as an Update.
type MemberEditor interface {
	// EditMembers runs fn as described above.
	EditMembers(ctx context.Context, orgID string, p Preload, fn func(tx Tx) error) error
}

// ErrNeedsLock is returned by a [MemberEditor] for work it cannot do
// without the org's lock: run it in [Store.Update].
var ErrNeedsLock = errors.New("store: this write needs the org's lock")

// RosterBumper is an optional fast path of a [Tx]: moving the org's
// RosterVersion by one without writing the org read (the only way to move
// it inside [MemberEditor.EditMembers]).
type RosterBumper interface {
	// BumpRoster adds one to the org's RosterVersion at commit.
	BumpRoster(ctx context.Context) error
}

// Preload names the members a [Preloader] reads with the org's lock:
// by member ID and by host account (user ID). Empty strings are ignored.
type Preload struct {
	MemberIDs []string
	UserIDs   []string
}

// IsZero reports whether p names no member.
func (p Preload) IsZero() bool {
	for _, id := range p.MemberIDs {
		if id != "" {
			return false
		}
	}
	for _, id := range p.UserIDs {
		if id != "" {
			return false
		}
	}
	return true
}

// AttemptPurger is an optional ability: dropping throttle records whose
// last failure is older than a time, so that logins tried once and never
// again do not accumulate.
type AttemptPurger interface {
	// PurgeAttempts deletes the records whose LastFailure is before t and
	// which are not locked at t; it returns how many it deleted.
	PurgeAttempts(ctx context.Context, t time.Time) (int, error)
}

// Tx reads and writes one org inside [Store.Update] or [Store.View]. A Tx
// must not be used after fn returns, nor from several goroutines at once.
// Iterators returned by a Tx may be interleaved with other calls on it.
//
// These methods are what every store must have. A store may also offer
// the optional fast paths below ([MemberCounter], [InvitationCounter],
// [SummaryReader], [DetailReader], [MemberPatcher]) on its Tx; the
// helpers of optional.go ([CountMembers], [CountOpenInvitations],
// [Summaries], [Details], [Patch]) use them when they are there and do
// the same work with these methods when they are not.
type Tx interface {
	// OrgID is the org the transaction is scoped to.
	OrgID() string
	// Org returns the org itself.
	Org(ctx context.Context) (membership.Org, error)
	// PutOrg replaces the org's fields (all but its ID and CreatedAt).
	// Its ID must be OrgID().
	PutOrg(ctx context.Context, org membership.Org) error

	// Member returns a member of this org by ID, or ErrNotFound (also
	// when the ID belongs to another org).
	Member(ctx context.Context, id string) (membership.Member, error)
	// MemberByLogin finds a member by login, without regard to case
	// (membership.LoginKey), or returns ErrNotFound.
	MemberByLogin(ctx context.Context, login string) (membership.Member, error)
	// MemberByEmail finds a member by email, without regard to case
	// (membership.EmailKey), or returns ErrNotFound.
	MemberByEmail(ctx context.Context, email string) (membership.Member, error)
	// MemberByUserID finds the member linked to a host account (exact
	// match), or returns ErrNotFound. userID is never empty.
	MemberByUserID(ctx context.Context, userID string) (membership.Member, error)
	// Members streams the members matching q in ascending login order,
	// starting after q.After, at most q.Limit of them (0: all). Filters
	// select as [MemberFilter.Matches] does.
	Members(ctx context.Context, q MemberQuery) iter.Seq2[membership.Member, error]
	// InsertMembers adds members in one batch. Each must have an ID, this
	// org's OrgID and Version 0; each is stored with Version 1. A login,
	// email or non-empty UserID taken in the org (by a stored member or
	// another of the batch) gives a *membership.DuplicateError naming the
	// key ("login", "email", "user_id").
	InsertMembers(ctx context.Context, ms []membership.Member) error
	// UpdateMembers replaces members in one batch. Each carries the
	// Version it was read with; the store writes Version+1, or fails the
	// batch with ErrConflict when the stored version differs, ErrNotFound
	// when a member does not exist, a *membership.DuplicateError when a
	// login, email or UserID would collide.
	UpdateMembers(ctx context.Context, ms []membership.Member) error

	// Roles lists the org's custom roles by ID. Built-in roles are not
	// stored; services resolve them from package membership.
	Roles(ctx context.Context) ([]membership.Role, error)
	// PutRole inserts or replaces a custom role.
	PutRole(ctx context.Context, r membership.Role) error
	// DeleteRole deletes a custom role, or returns ErrNotFound.
	DeleteRole(ctx context.Context, id string) error

	// Invitation returns an invitation of this org by ID, or ErrNotFound.
	Invitation(ctx context.Context, id string) (membership.Invitation, error)
	// Invitations streams the org's invitations matching q by ascending ID.
	Invitations(ctx context.Context, q InvitationQuery) iter.Seq2[membership.Invitation, error]
	// InsertInvitation stores a new invitation; a token hash already
	// stored gives a *membership.DuplicateError with Key "token".
	InsertInvitation(ctx context.Context, inv membership.Invitation) error
	// UpdateInvitation replaces an invitation, or returns ErrNotFound.
	UpdateInvitation(ctx context.Context, inv membership.Invitation) error

	// AppendEvents adds audit events. An event without an ID or a Type is
	// refused with an error matching membership.ErrInvalid (see
	// membership.ValidateEvents), and none of the batch is stored.
	AppendEvents(ctx context.Context, evs []membership.Event) error
	// Events streams the org's events matching q by ascending ID (which
	// is time order for IDs from membership.NewID).
	Events(ctx context.Context, q EventQuery) iter.Seq2[membership.Event, error]

	// Domains lists the org's domain claims by name.
	Domains(ctx context.Context) ([]membership.Domain, error)
	// PutDomain inserts or replaces the org's claim of d.Name. A verified
	// claim of a domain another org has verified gives a
	// *membership.DuplicateError with Key "domain".
	PutDomain(ctx context.Context, d membership.Domain) error
	// DeleteDomain deletes the org's claim of a domain, or returns
	// ErrNotFound.
	DeleteDomain(ctx context.Context, name string) error
}

// Membership is one member of a host account, with its org, as
// [Store.Memberships] returns it.
type Membership struct {
	Org    membership.Org
	Member membership.Member
}

// MemberCounter is an optional fast path of a [Tx]: counting members
// without reading them.
type MemberCounter interface {
	// CountMembers counts the members matching f.
	CountMembers(ctx context.Context, f MemberFilter) (int, error)
}

// InvitationCounter is an optional fast path of a [Tx]: counting the
// invitations that hold a seat without reading them.
type InvitationCounter interface {
	// CountOpenInvitations counts the pending invitations whose ExpiresAt
	// is after now.
	CountOpenInvitations(ctx context.Context, now time.Time) (int, error)
}

// SummaryReader is an optional fast path of a [Tx]: streaming a whole
// roster with only the fields of a [MemberSummary].
type SummaryReader interface {
	// MemberSummaries streams every member of the org (any status), in
	// an order of the store's choosing.
	MemberSummaries(ctx context.Context) iter.Seq2[MemberSummary, error]
}

// MemberPatcher is an optional fast path of a [Tx]: writing members'
// profile and status without reading them first.
type MemberPatcher interface {
	// PatchMembers writes each patch (see [MemberPatch.Apply]) in one
	// batch. Each patch carries the Version and Login its member had when
	// it was read: the store writes Version+1, or fails the batch with
	// ErrConflict when a member's stored version or login differs,
	// ErrNotFound when a member does not exist, a
	// *membership.DuplicateError when an email would collide with another
	// member's (patches that swap two emails must go in two batches).
	PatchMembers(ctx context.Context, ps []MemberPatch) error
}

// AccessReader is an optional fast path a [Store] may offer: what a
// permission check needs about an actor, in one read outside any
// transaction. Services use it when the store has it, and otherwise read
// the member and its role in a View.
type AccessReader interface {
	// Access returns what a permission check needs of the member an
	// actor names in an org (by Actor.MemberID, else by Actor.UserID,
	// both compared exactly), or ErrNotFound when the org or the member
	// does not exist.
	Access(ctx context.Context, orgID string, actor membership.Actor) (Access, error)
}

// Access is what [AccessReader] returns.
type Access struct {
	MemberID, UserID, RoleID string
	Status                   membership.Status
	MustChangePassword       bool
	// Role is the org's custom role RoleID names, with at least its ID
	// and permissions; nil for a built-in role or a role that no longer
	// exists.
	Role *membership.Role
}

// MemberSummary is the part of a member that [SummaryReader] streams.
type MemberSummary struct {
	ID, Login, Email, FirstName, LastName, RoleID string
	Status                                        membership.Status
	Version                                       int64
}

// Summary returns the summary of m.
func Summary(m membership.Member) MemberSummary {
	return MemberSummary{ID: m.ID, Login: m.Login, Email: m.Email, FirstName: m.FirstName, LastName: m.LastName,
		RoleID: m.RoleID, Status: m.Status, Version: m.Version}
}

// MemberPatch is one member's write in [MemberPatcher.PatchMembers]: it
// sets FirstName, LastName, Email, Status and UpdatedAt; when PasswordHash
// is not empty, the hash (clearing MustChangePassword); when
// SecurityStamp is not empty, the stamp; when RoleID is not empty, the
// role; when SetGroups is true, the groups; when SetAttributes is true,
// the attributes. Login and user ID are left as they are.
type MemberPatch struct {
	ID string
	// Version and Login are what the member had when read: the write is
	// refused with ErrConflict unless the stored member still has them.
	Version int64
	Login   string
	// The new values.
	FirstName, LastName, Email string
	Status                     membership.Status
	PasswordHash               membership.PasswordHash // "" keeps the stored hash
	SecurityStamp              string                  // "" keeps the stored stamp
	RoleID                     string                  // "" keeps the stored role
	SetGroups                  bool                    // write Groups (nil clears them)
	Groups                     []string
	SetAttributes              bool // write Attributes (nil clears them)
	Attributes                 membership.Attributes
	UpdatedAt                  time.Time
}

// Apply returns m with the patch's fields written (m.Version is left for
// the store to move).
func (p MemberPatch) Apply(m membership.Member) membership.Member {
	m.FirstName, m.LastName, m.Email, m.Status, m.UpdatedAt = p.FirstName, p.LastName, p.Email, p.Status, p.UpdatedAt
	if p.PasswordHash != "" {
		m.PasswordHash, m.MustChangePassword = p.PasswordHash, false
	}
	if p.SecurityStamp != "" {
		m.SecurityStamp = p.SecurityStamp
	}
	if p.RoleID != "" {
		m.RoleID = p.RoleID
	}
	if p.SetGroups {
		m.Groups = slices.Clone(p.Groups)
	}
	if p.SetAttributes {
		m.Attributes = p.Attributes.Clone()
	}
	return m
}

// MemberFilter selects members. Zero fields do not filter.
type MemberFilter struct {
	Statuses []membership.Status // any of these
	RoleID   string
	Group    string   // carries this group label (case-insensitive)
	Text     string   // in first name, last name, login or email; case and accents ignored
	IDs      []string // one of these IDs
	UserID   string   // linked to this host account
	// Attributes selects members carrying every one of these key=value
	// pairs, values compared exactly (the services trim them and put
	// them in NFC first, as values are stored); a pair with an empty
	// value selects members without that key.
	Attributes membership.Attributes
}

// MemberQuery is a filter plus a keyset page: members sorted by login,
// starting strictly after the login After.
type MemberQuery struct {
	MemberFilter
	After string // login of the last member already seen; "" starts at the beginning
	Limit int    // at most this many; 0 means all
}

// InvitationQuery selects invitations. Zero fields do not filter.
type InvitationQuery struct {
	States []membership.InvitationState
	Email  string // case-insensitive
	After  string // ID of the last invitation already seen
	Limit  int
}

// EventQuery selects audit events. Zero fields do not filter.
type EventQuery struct {
	SubjectID string
	Types     []membership.EventType
	After     string // ID of the last event already seen
	Limit     int
}

// Time normalises t the way stores keep it: UTC, microsecond precision.
// The zero time stays zero.
func Time(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// Collect drains an iterator into a slice, stopping at the first error.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}
