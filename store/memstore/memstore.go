// Package memstore is an in-memory [store.Store]: transactional, safe for
// concurrent use, for tests and small apps that do not need durability.
//
// An Update works on a private overlay and publishes it atomically at
// commit, so a View never sees half of an Update and an Update whose
// function fails leaves nothing behind — batch writes included. Updates of
// one org are serialised by a mutex; Updates of different orgs run in
// parallel.
package memstore

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

var (
	_ store.Store         = (*Store)(nil)
	_ store.SessionReader = (*Store)(nil)
	_ store.AttemptPurger = (*Store)(nil)
)

// Store is an in-memory store. The zero value is not usable; call [New].
type Store struct {
	mu     sync.RWMutex
	orgs   map[string]*orgState
	tokens map[string]tokenRef // string(token hash) → invitation

	amu      sync.Mutex
	attempts map[string]membership.Attempts // throttle records by key
}

type tokenRef struct{ orgID, invID string }

// New returns an empty store.
func New() *Store {
	return &Store{orgs: make(map[string]*orgState), tokens: make(map[string]tokenRef), attempts: make(map[string]membership.Attempts)}
}

// sortedEntry is one member in a sorted index: its login key, ID and
// current record (nil until the index is next rebuilt or the member next
// written; readers then look the ID up).
type sortedEntry struct {
	key, id string
	m       *membership.Member
}

type orgState struct {
	wmu sync.Mutex   // serialises Updates
	mu  sync.RWMutex // guards the fields below; written only at commit

	org          membership.Org
	members      map[string]*membership.Member
	byLogin      map[string]string
	byEmail      map[string]string
	roles        map[string]membership.Role
	invs         map[string]membership.Invitation
	events       []membership.Event
	active       int
	activeAdmins int

	sortMu sync.Mutex
	sorted []sortedEntry // by login key; nil when it must be rebuilt
	// groups lists, per group key, the members carrying that group by
	// login key, so that a filtered page reads only its own members;
	// nil when it must be rebuilt.
	groups map[string][]sortedEntry
}

// CreateOrg stores a new org.
func (s *Store) CreateOrg(ctx context.Context, org membership.Org) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := membership.ValidateOrg(&org); err != nil {
		return err
	}
	org = cloneOrg(org)
	org.CreatedAt, org.UpdatedAt = store.Time(org.CreatedAt), store.Time(org.UpdatedAt)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.orgs[org.ID]; ok {
		return &membership.DuplicateError{Key: "org", Value: org.ID}
	}
	s.orgs[org.ID] = &orgState{
		org:     org,
		members: make(map[string]*membership.Member),
		byLogin: make(map[string]string),
		byEmail: make(map[string]string),
		roles:   make(map[string]membership.Role),
		invs:    make(map[string]membership.Invitation),
		sorted:  []sortedEntry{},
	}
	return nil
}

func (s *Store) state(orgID string) (*orgState, error) {
	s.mu.RLock()
	st, ok := s.orgs[orgID]
	s.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("org %q: %w", orgID, store.ErrNotFound)
	}
	return st, nil
}

// Org returns an org.
func (s *Store) Org(ctx context.Context, orgID string) (membership.Org, error) {
	if err := ctx.Err(); err != nil {
		return membership.Org{}, err
	}
	st, err := s.state(orgID)
	if err != nil {
		return membership.Org{}, err
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	return cloneOrg(st.org), nil
}

// Update runs fn on a private overlay of the org and publishes it only if
// fn returns nil.
func (s *Store) Update(ctx context.Context, orgID string, fn func(tx store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	st, err := s.state(orgID)
	if err != nil {
		return err
	}
	// Wait for the org's writer lock, but give up when ctx ends.
	if err := lockCtx(ctx, &st.wmu); err != nil {
		return err
	}
	defer st.wmu.Unlock()
	t := newTx(s, st, false)
	err = fn(t)
	t.done = true
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.commit(st, t)
	return nil
}

// lockCtx acquires mu, or returns ctx's error if ctx ends first.
func lockCtx(ctx context.Context, mu *sync.Mutex) error {
	if mu.TryLock() {
		return nil
	}
	if ctx.Done() == nil {
		mu.Lock()
		return nil
	}
	delay := 50 * time.Microsecond
	for {
		if mu.TryLock() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		if delay < 2*time.Millisecond {
			delay *= 2
		}
	}
}

// View runs fn on a consistent snapshot of the org.
func (s *Store) View(ctx context.Context, orgID string, fn func(tx store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	st, err := s.state(orgID)
	if err != nil {
		return err
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	t := newTx(s, st, true)
	err = fn(t)
	t.done = true
	return err
}

// InvitationByTokenHash finds an invitation by the hash of its token.
func (s *Store) InvitationByTokenHash(ctx context.Context, tokenHash []byte) (membership.Invitation, error) {
	if err := ctx.Err(); err != nil {
		return membership.Invitation{}, err
	}
	s.mu.RLock()
	ref, ok := s.tokens[string(tokenHash)]
	st := s.orgs[ref.orgID]
	s.mu.RUnlock()
	if !ok || st == nil {
		return membership.Invitation{}, fmt.Errorf("invitation: %w", store.ErrNotFound)
	}
	st.mu.RLock()
	inv, ok := st.invs[ref.invID]
	st.mu.RUnlock()
	if !ok || !bytes.Equal(inv.TokenHash, tokenHash) {
		return membership.Invitation{}, fmt.Errorf("invitation: %w", store.ErrNotFound)
	}
	return cloneInv(inv), nil
}

// SessionState returns what a session check needs of a member.
func (s *Store) SessionState(ctx context.Context, orgID, memberID string) (membership.SessionState, error) {
	if err := ctx.Err(); err != nil {
		return membership.SessionState{}, err
	}
	st, err := s.state(orgID)
	if err != nil {
		return membership.SessionState{}, err
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	m, ok := st.members[memberID]
	if !ok {
		return membership.SessionState{}, fmt.Errorf("member %q: %w", memberID, store.ErrNotFound)
	}
	return membership.SessionState{SecurityStamp: m.SecurityStamp, Status: m.Status, MustChangePassword: m.MustChangePassword}, nil
}

// Attempts returns the throttle record under key.
func (s *Store) Attempts(ctx context.Context, key string) (membership.Attempts, error) {
	if err := ctx.Err(); err != nil {
		return membership.Attempts{}, err
	}
	s.amu.Lock()
	defer s.amu.Unlock()
	return s.attempts[key], nil
}

// UpdateAttempts runs fn on the throttle record under key.
func (s *Store) UpdateAttempts(ctx context.Context, key string, fn func(a *membership.Attempts) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.amu.Lock()
	defer s.amu.Unlock()
	a := s.attempts[key]
	if err := fn(&a); err != nil {
		return err
	}
	a.LastFailure, a.LockedUntil = store.Time(a.LastFailure), store.Time(a.LockedUntil)
	if a.IsZero() {
		delete(s.attempts, key)
	} else {
		s.attempts[key] = a
	}
	return nil
}

// PurgeAttempts drops throttle records older than t.
func (s *Store) PurgeAttempts(ctx context.Context, t time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.amu.Lock()
	defer s.amu.Unlock()
	n := 0
	for k, a := range s.attempts {
		if a.LastFailure.Before(t) && !t.Before(a.LockedUntil) {
			delete(s.attempts, k)
			n++
		}
	}
	return n, nil
}

// commit publishes a transaction's overlay. The caller holds st.wmu.
func (s *Store) commit(st *orgState, t *tx) {
	st.mu.Lock()
	if t.org != nil {
		st.org = *t.org
	}
	for k, id := range t.login {
		if id == "" {
			delete(st.byLogin, k)
		} else {
			st.byLogin[k] = id
		}
	}
	for k, id := range t.email {
		if id == "" {
			delete(st.byEmail, k)
		} else {
			st.byEmail[k] = id
		}
	}
	st.active += t.dActive
	st.activeAdmins += t.dAdmins
	st.sortMu.Lock()
	// The indexes hold each member's pointer, so that a page reads its
	// members without a lookup in the org's map. Entries whose key moves
	// are moved (or the index is dropped when many move); every changed
	// member then gets its new pointer in place.
	if st.sorted != nil && len(t.sortChanges) <= 256 {
		for _, c := range t.sortChanges {
			if c.oldKey != "" {
				st.sorted = removeEntry(st.sorted, c.oldKey, c.id)
			}
			st.sorted = insertEntry(st.sorted, sortedEntry{key: c.newKey, id: c.id})
		}
	} else if len(t.sortChanges) > 0 {
		st.sorted = nil
	}
	if st.groups != nil {
		moves := 0
		for id, m := range t.members {
			if movesInGroups(st.members[id], m) {
				moves++
			}
		}
		if moves > 256 {
			st.groups = nil // rebuilt when next needed
		}
	}
	for id, m := range t.members {
		nk := membership.LoginKey(m.Login)
		if st.sorted != nil {
			setEntry(st.sorted, nk, id, m)
		}
		if st.groups == nil {
			continue
		}
		if old := st.members[id]; movesInGroups(old, m) {
			if old != nil {
				for _, g := range groupKeys(old) {
					st.groups[g] = removeEntry(st.groups[g], membership.LoginKey(old.Login), id)
				}
			}
			for _, g := range groupKeys(m) {
				st.groups[g] = insertEntry(st.groups[g], sortedEntry{key: nk, id: id, m: m})
			}
			continue
		}
		for _, g := range groupKeys(m) {
			setEntry(st.groups[g], nk, id, m)
		}
	}
	st.sortMu.Unlock()
	for id, m := range t.members {
		st.members[id] = m
	}
	for id, r := range t.roles {
		if r == nil {
			delete(st.roles, id)
		} else {
			st.roles[id] = *r
		}
	}
	var oldTokens, newTokens [][]byte
	var newRefs []string
	for id, inv := range t.invs {
		if old, ok := st.invs[id]; ok && !bytes.Equal(old.TokenHash, inv.TokenHash) {
			oldTokens = append(oldTokens, old.TokenHash)
		}
		st.invs[id] = inv
		if len(inv.TokenHash) > 0 {
			newTokens = append(newTokens, inv.TokenHash)
			newRefs = append(newRefs, id)
		}
	}
	if len(t.events) > 0 {
		n := len(st.events)
		st.events = append(st.events, t.events...)
		if n > 0 && st.events[n].ID < st.events[n-1].ID {
			slices.SortStableFunc(st.events, func(a, b membership.Event) int { return cmp.Compare(a.ID, b.ID) })
		}
	}
	orgID := st.org.ID
	st.mu.Unlock()

	if len(oldTokens)+len(newTokens) > 0 {
		s.mu.Lock()
		for _, h := range oldTokens {
			if ref, ok := s.tokens[string(h)]; ok && ref.orgID == orgID {
				delete(s.tokens, string(h))
			}
		}
		for i, h := range newTokens {
			s.tokens[string(h)] = tokenRef{orgID: orgID, invID: newRefs[i]}
		}
		s.mu.Unlock()
	}
}

func cmpEntry(e sortedEntry, key string) int { return cmp.Compare(e.key, key) }

// removeEntry deletes id's entry under key from a sorted index. Keys are
// unique once a transaction has committed, but one that swapped two
// logins may have left two entries under a key for a moment, so the
// entry is found by ID among those sharing its key.
func removeEntry(idx []sortedEntry, key, id string) []sortedEntry {
	i, _ := slices.BinarySearchFunc(idx, key, cmpEntry)
	for ; i < len(idx) && idx[i].key == key; i++ {
		if idx[i].id == id {
			return slices.Delete(idx, i, i+1)
		}
	}
	return idx
}

// setEntry points id's entry under key at m.
func setEntry(idx []sortedEntry, key, id string, m *membership.Member) {
	i, _ := slices.BinarySearchFunc(idx, key, cmpEntry)
	for ; i < len(idx) && idx[i].key == key; i++ {
		if idx[i].id == id {
			idx[i].m = m
			return
		}
	}
}

func insertEntry(idx []sortedEntry, e sortedEntry) []sortedEntry {
	i, _ := slices.BinarySearchFunc(idx, e.key, cmpEntry)
	return slices.Insert(idx, i, e)
}

// movesInGroups reports whether writing m over old (nil for a new member)
// moves its entries in the group index: a new login or new groups.
func movesInGroups(old, m *membership.Member) bool {
	return old == nil || membership.LoginKey(old.Login) != membership.LoginKey(m.Login) || !slices.Equal(old.Groups, m.Groups)
}

// groupKeys returns the distinct keys of m's groups.
func groupKeys(m *membership.Member) []string {
	var out []string
	for _, g := range m.Groups {
		if k := membership.GroupKey(g); k != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// groupIndex returns the members carrying the group key, sorted by login
// key, building every group's list when needed. The caller holds st.mu
// (read) or st.wmu.
func (st *orgState) groupIndex(key string) []sortedEntry {
	st.sortMu.Lock()
	defer st.sortMu.Unlock()
	if st.groups == nil {
		st.groups = make(map[string][]sortedEntry)
		for id, m := range st.members {
			lk := membership.LoginKey(m.Login)
			for _, g := range groupKeys(m) {
				st.groups[g] = append(st.groups[g], sortedEntry{key: lk, id: id, m: m})
			}
		}
		for _, idx := range st.groups {
			slices.SortFunc(idx, func(a, b sortedEntry) int { return cmp.Compare(a.key, b.key) })
		}
	}
	return st.groups[key]
}

// sortedIndex returns the members sorted by login key, rebuilding it when
// needed. The caller holds st.mu (read) or st.wmu.
func (st *orgState) sortedIndex() []sortedEntry {
	st.sortMu.Lock()
	defer st.sortMu.Unlock()
	if st.sorted == nil {
		idx := make([]sortedEntry, 0, len(st.members))
		for id, m := range st.members {
			idx = append(idx, sortedEntry{key: membership.LoginKey(m.Login), id: id, m: m})
		}
		slices.SortFunc(idx, func(a, b sortedEntry) int { return cmp.Compare(a.key, b.key) })
		st.sorted = idx
	}
	return st.sorted
}

type sortChange struct{ id, oldKey, newKey string }

// tx is a transaction: reads see the org's state with the overlay on top.
type tx struct {
	s        *Store
	st       *orgState
	readOnly bool
	done     bool

	org         *membership.Org
	members     map[string]*membership.Member
	login       map[string]string // key → id; "" = released
	email       map[string]string
	roles       map[string]*membership.Role // nil = deleted
	invs        map[string]membership.Invitation
	events      []membership.Event
	dActive     int
	dAdmins     int
	sortChanges []sortChange
}

func newTx(s *Store, st *orgState, readOnly bool) *tx {
	return &tx{s: s, st: st, readOnly: readOnly}
}

var errReadOnly = fmt.Errorf("memstore: write in a View")

func (t *tx) check(ctx context.Context, write bool) error {
	if t.done {
		return fmt.Errorf("memstore: transaction used after it ended")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if write && t.readOnly {
		return errReadOnly
	}
	return nil
}

func (t *tx) OrgID() string { return t.st.org.ID }

func (t *tx) Org(ctx context.Context) (membership.Org, error) {
	if err := t.check(ctx, false); err != nil {
		return membership.Org{}, err
	}
	if t.org != nil {
		return cloneOrg(*t.org), nil
	}
	return cloneOrg(t.st.org), nil
}

func (t *tx) PutOrg(ctx context.Context, org membership.Org) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if org.ID != t.st.org.ID {
		return fmt.Errorf("org %q: %w", org.ID, store.ErrNotFound)
	}
	if err := membership.ValidateOrg(&org); err != nil {
		return err
	}
	org = cloneOrg(org)
	org.CreatedAt = t.st.org.CreatedAt
	org.UpdatedAt = store.Time(org.UpdatedAt)
	t.org = &org
	return nil
}

// lookup returns the current version of a member (overlay first).
func (t *tx) lookup(id string) (*membership.Member, bool) {
	if m, ok := t.members[id]; ok {
		return m, true
	}
	m, ok := t.st.members[id]
	return m, ok
}

// entryMember returns the current record of an index entry: this
// transaction's own write, else the entry's pointer, else a lookup.
func (t *tx) entryMember(e sortedEntry) (*membership.Member, bool) {
	if m, ok := t.members[e.id]; ok {
		return m, true
	}
	if e.m != nil {
		return e.m, true
	}
	m, ok := t.st.members[e.id]
	return m, ok
}

func (t *tx) ownerOf(idx map[string]string, base map[string]string, key string) (string, bool) {
	if id, ok := idx[key]; ok {
		return id, id != ""
	}
	id, ok := base[key]
	return id, ok
}

func (t *tx) Member(ctx context.Context, id string) (membership.Member, error) {
	if err := t.check(ctx, false); err != nil {
		return membership.Member{}, err
	}
	if m, ok := t.lookup(id); ok {
		return m.Clone(), nil
	}
	return membership.Member{}, fmt.Errorf("member %q: %w", id, store.ErrNotFound)
}

func (t *tx) MemberByLogin(ctx context.Context, login string) (membership.Member, error) {
	if err := t.check(ctx, false); err != nil {
		return membership.Member{}, err
	}
	if id, ok := t.ownerOf(t.login, t.st.byLogin, membership.LoginKey(login)); ok {
		if m, ok := t.lookup(id); ok {
			return m.Clone(), nil
		}
	}
	return membership.Member{}, fmt.Errorf("member with login %q: %w", login, store.ErrNotFound)
}

func (t *tx) MemberByEmail(ctx context.Context, email string) (membership.Member, error) {
	if err := t.check(ctx, false); err != nil {
		return membership.Member{}, err
	}
	k := membership.EmailKey(email)
	if k != "" {
		if id, ok := t.ownerOf(t.email, t.st.byEmail, k); ok {
			if m, ok := t.lookup(id); ok {
				return m.Clone(), nil
			}
		}
	}
	return membership.Member{}, fmt.Errorf("member with email %q: %w", email, store.ErrNotFound)
}

// candidates returns the IDs of members, sorted by login, after the
// cursor. It works on a copy when the overlay changed logins.
func (t *tx) candidates(q store.MemberQuery) []sortedEntry {
	if len(q.IDs) > 0 {
		out := make([]sortedEntry, 0, len(q.IDs))
		seen := make(map[string]bool, len(q.IDs))
		for _, id := range q.IDs {
			if m, ok := t.lookup(id); ok && !seen[id] {
				seen[id] = true
				out = append(out, sortedEntry{key: membership.LoginKey(m.Login), id: id})
			}
		}
		slices.SortFunc(out, func(a, b sortedEntry) int { return cmp.Compare(a.key, b.key) })
		return out
	}
	if q.Group != "" {
		gk := membership.GroupKey(q.Group)
		base := t.st.groupIndex(gk)
		if len(t.members) == 0 {
			return base
		}
		// This transaction's own changes may move members in or out.
		return t.overlay(base, func(m *membership.Member) bool { return membership.HasGroupKey(*m, gk) })
	}
	base := t.st.sortedIndex()
	if len(t.sortChanges) == 0 {
		return base
	}
	return t.overlay(base, func(*membership.Member) bool { return true })
}

// overlay merges this transaction's written members into a committed
// index: their committed entries are dropped, and those keep accepts come
// back under their current login.
func (t *tx) overlay(base []sortedEntry, keep func(*membership.Member) bool) []sortedEntry {
	out := make([]sortedEntry, 0, len(base)+len(t.members))
	for _, e := range base {
		if _, changed := t.members[e.id]; !changed {
			out = append(out, e)
		}
	}
	for id, m := range t.members {
		if keep(m) {
			out = append(out, sortedEntry{key: membership.LoginKey(m.Login), id: id, m: m})
		}
	}
	slices.SortFunc(out, func(a, b sortedEntry) int { return cmp.Compare(a.key, b.key) })
	return out
}

func (t *tx) Members(ctx context.Context, q store.MemberQuery) iter.Seq2[membership.Member, error] {
	return func(yield func(membership.Member, error) bool) {
		if err := t.check(ctx, false); err != nil {
			yield(membership.Member{}, err)
			return
		}
		entries := t.candidates(q)
		after := membership.LoginKey(q.After)
		start := 0
		if after != "" {
			start = sort.Search(len(entries), func(i int) bool { return entries[i].key > after })
		}
		n := 0
		for i := start; i < len(entries); i++ {
			if i%1024 == 0 {
				if err := t.check(ctx, false); err != nil {
					yield(membership.Member{}, err)
					return
				}
			}
			m, ok := t.entryMember(entries[i])
			if !ok || !q.Matches(*m) {
				continue
			}
			if !yield(m.Clone(), nil) {
				return
			}
			n++
			if q.Limit > 0 && n >= q.Limit {
				return
			}
		}
	}
}

func (t *tx) MemberSummaries(ctx context.Context) iter.Seq2[store.MemberSummary, error] {
	return func(yield func(store.MemberSummary, error) bool) {
		if err := t.check(ctx, false); err != nil {
			yield(store.MemberSummary{}, err)
			return
		}
		for i, e := range t.candidates(store.MemberQuery{}) {
			if i%1024 == 0 {
				if err := t.check(ctx, false); err != nil {
					yield(store.MemberSummary{}, err)
					return
				}
			}
			m, ok := t.entryMember(e)
			if !ok {
				continue
			}
			if !yield(store.MemberSummary{ID: m.ID, Login: m.Login, Email: m.Email, FirstName: m.FirstName, LastName: m.LastName,
				RoleID: m.RoleID, Status: m.Status, Version: m.Version}, nil) {
				return
			}
		}
	}
}

func (t *tx) CountMembers(ctx context.Context, f store.MemberFilter) (int, error) {
	if err := t.check(ctx, false); err != nil {
		return 0, err
	}
	n := 0
	for _, err := range t.Members(ctx, store.MemberQuery{MemberFilter: f}) {
		if err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

func (t *tx) Counts(ctx context.Context, now time.Time) (membership.Counts, error) {
	if err := t.check(ctx, false); err != nil {
		return membership.Counts{}, err
	}
	c := membership.Counts{ActiveMembers: t.st.active + t.dActive, ActiveAdmins: t.st.activeAdmins + t.dAdmins}
	for id, inv := range t.st.invs {
		if o, ok := t.invs[id]; ok {
			inv = o
		}
		if inv.Open(now) {
			c.PendingInvitations++
		}
	}
	for id, inv := range t.invs {
		if _, ok := t.st.invs[id]; !ok && inv.Open(now) {
			c.PendingInvitations++
		}
	}
	return c, nil
}

func (t *tx) ensureOverlay() {
	if t.members == nil {
		t.members = make(map[string]*membership.Member)
		t.login = make(map[string]string)
		t.email = make(map[string]string)
	}
}

func normMember(m membership.Member) *membership.Member {
	m = m.Clone()
	m.CreatedAt, m.UpdatedAt, m.LastLoginAt = store.Time(m.CreatedAt), store.Time(m.UpdatedAt), store.Time(m.LastLoginAt)
	return &m
}

func (t *tx) InsertMembers(ctx context.Context, ms []membership.Member) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	logins := make(map[string]bool, len(ms))
	emails := make(map[string]bool, len(ms))
	ids := make(map[string]bool, len(ms))
	for _, m := range ms {
		if m.ID == "" || m.OrgID != t.st.org.ID {
			return fmt.Errorf("memstore: member %q of org %q inserted in org %q", m.ID, m.OrgID, t.st.org.ID)
		}
		if _, ok := t.lookup(m.ID); ok || ids[m.ID] {
			return &membership.DuplicateError{Key: "id", Value: m.ID}
		}
		ids[m.ID] = true
		lk := membership.LoginKey(m.Login)
		if _, taken := t.ownerOf(t.login, t.st.byLogin, lk); taken || logins[lk] || lk == "" {
			return &membership.DuplicateError{Key: "login", Value: m.Login}
		}
		logins[lk] = true
		if ek := membership.EmailKey(m.Email); ek != "" {
			if _, taken := t.ownerOf(t.email, t.st.byEmail, ek); taken || emails[ek] {
				return &membership.DuplicateError{Key: "email", Value: m.Email}
			}
			emails[ek] = true
		}
	}
	t.ensureOverlay()
	for _, m := range ms {
		nm := normMember(m)
		nm.Version = 1
		t.members[nm.ID] = nm
		lk := membership.LoginKey(nm.Login)
		t.login[lk] = nm.ID
		if ek := membership.EmailKey(nm.Email); ek != "" {
			t.email[ek] = nm.ID
		}
		t.dActive += membership.SeatDelta(membership.Member{}, *nm)
		t.dAdmins += membership.AdminDelta(membership.Member{}, *nm)
		t.sortChanges = append(t.sortChanges, sortChange{id: nm.ID, newKey: lk})
	}
	return nil
}

func (t *tx) UpdateMembers(ctx context.Context, ms []membership.Member) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	olds := make([]*membership.Member, len(ms))
	inBatch := make(map[string]bool, len(ms))
	relLogin := map[string]string{} // released key → owner
	relEmail := map[string]string{}
	for i, m := range ms {
		old, ok := t.lookup(m.ID)
		if !ok {
			return fmt.Errorf("member %q: %w", m.ID, store.ErrNotFound)
		}
		if inBatch[m.ID] {
			return fmt.Errorf("memstore: member %q twice in one batch", m.ID)
		}
		if old.Version != m.Version {
			return fmt.Errorf("member %q has version %d, write carries %d: %w", m.ID, old.Version, m.Version, store.ErrConflict)
		}
		inBatch[m.ID] = true
		olds[i] = old
		if ok, nk := membership.LoginKey(old.Login), membership.LoginKey(m.Login); ok != nk {
			relLogin[ok] = m.ID
		}
		if ok, nk := membership.EmailKey(old.Email), membership.EmailKey(m.Email); ok != nk && ok != "" {
			relEmail[ok] = m.ID
		}
	}
	claimL := map[string]string{}
	claimE := map[string]string{}
	for i, m := range ms {
		lk := membership.LoginKey(m.Login)
		if lk == "" {
			return &membership.DuplicateError{Key: "login", Value: m.Login}
		}
		if lk != membership.LoginKey(olds[i].Login) {
			if c, ok := claimL[lk]; ok && c != m.ID {
				return &membership.DuplicateError{Key: "login", Value: m.Login}
			}
			claimL[lk] = m.ID
			if owner, taken := t.ownerOf(t.login, t.st.byLogin, lk); taken && owner != m.ID && relLogin[lk] != owner {
				return &membership.DuplicateError{Key: "login", Value: m.Login}
			}
		}
		if ek := membership.EmailKey(m.Email); ek != "" && ek != membership.EmailKey(olds[i].Email) {
			if c, ok := claimE[ek]; ok && c != m.ID {
				return &membership.DuplicateError{Key: "email", Value: m.Email}
			}
			claimE[ek] = m.ID
			if owner, taken := t.ownerOf(t.email, t.st.byEmail, ek); taken && owner != m.ID && relEmail[ek] != owner {
				return &membership.DuplicateError{Key: "email", Value: m.Email}
			}
		}
	}
	t.ensureOverlay()
	for k := range relLogin {
		t.login[k] = ""
	}
	for k := range relEmail {
		t.email[k] = ""
	}
	for i, m := range ms {
		old := olds[i]
		nm := normMember(m)
		nm.OrgID = old.OrgID
		nm.CreatedAt = old.CreatedAt
		nm.Version = old.Version + 1
		t.members[nm.ID] = nm
		ok, nk := membership.LoginKey(old.Login), membership.LoginKey(nm.Login)
		if ok != nk {
			t.login[nk] = nm.ID
			t.sortChanges = append(t.sortChanges, sortChange{id: nm.ID, oldKey: ok, newKey: nk})
		}
		if ek := membership.EmailKey(nm.Email); ek != "" && ek != membership.EmailKey(old.Email) {
			t.email[ek] = nm.ID
		}
		t.dActive += membership.SeatDelta(*old, *nm)
		t.dAdmins += membership.AdminDelta(*old, *nm)
	}
	return nil
}

func (t *tx) PatchMembers(ctx context.Context, ps []store.MemberPatch) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	ms := make([]membership.Member, len(ps))
	for i, p := range ps {
		old, ok := t.lookup(p.ID)
		if !ok {
			return fmt.Errorf("member %q: %w", p.ID, store.ErrNotFound)
		}
		if old.Version != p.Version || membership.LoginKey(old.Login) != membership.LoginKey(p.Login) || old.RoleID != p.RoleID || old.Status != p.OldStatus {
			return fmt.Errorf("member %q changed since version %d: %w", p.ID, p.Version, store.ErrConflict)
		}
		ms[i] = p.Apply(*old)
	}
	return t.UpdateMembers(ctx, ms)
}

func (t *tx) Role(ctx context.Context, id string) (membership.Role, error) {
	if err := t.check(ctx, false); err != nil {
		return membership.Role{}, err
	}
	if r, ok := t.roles[id]; ok {
		if r == nil {
			return membership.Role{}, fmt.Errorf("role %q: %w", id, store.ErrNotFound)
		}
		return cloneRole(*r), nil
	}
	if r, ok := t.st.roles[id]; ok {
		return cloneRole(r), nil
	}
	return membership.Role{}, fmt.Errorf("role %q: %w", id, store.ErrNotFound)
}

func (t *tx) Roles(ctx context.Context) ([]membership.Role, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	var out []membership.Role
	for id, r := range t.st.roles {
		if _, ok := t.roles[id]; !ok {
			out = append(out, cloneRole(r))
		}
	}
	for _, r := range t.roles {
		if r != nil {
			out = append(out, cloneRole(*r))
		}
	}
	slices.SortFunc(out, func(a, b membership.Role) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func (t *tx) PutRole(ctx context.Context, r membership.Role) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if r.ID == "" {
		return fmt.Errorf("memstore: role without ID")
	}
	r = cloneRole(r)
	r.OrgID = t.st.org.ID
	r.CreatedAt, r.UpdatedAt = store.Time(r.CreatedAt), store.Time(r.UpdatedAt)
	if t.roles == nil {
		t.roles = make(map[string]*membership.Role)
	}
	t.roles[r.ID] = &r
	return nil
}

func (t *tx) DeleteRole(ctx context.Context, id string) error {
	if _, err := t.Role(ctx, id); err != nil {
		return err
	}
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if t.roles == nil {
		t.roles = make(map[string]*membership.Role)
	}
	t.roles[id] = nil
	return nil
}

func (t *tx) invitation(id string) (membership.Invitation, bool) {
	if inv, ok := t.invs[id]; ok {
		return inv, true
	}
	inv, ok := t.st.invs[id]
	return inv, ok
}

func (t *tx) Invitation(ctx context.Context, id string) (membership.Invitation, error) {
	if err := t.check(ctx, false); err != nil {
		return membership.Invitation{}, err
	}
	if inv, ok := t.invitation(id); ok {
		return cloneInv(inv), nil
	}
	return membership.Invitation{}, fmt.Errorf("invitation %q: %w", id, store.ErrNotFound)
}

func (t *tx) Invitations(ctx context.Context, q store.InvitationQuery) iter.Seq2[membership.Invitation, error] {
	return func(yield func(membership.Invitation, error) bool) {
		if err := t.check(ctx, false); err != nil {
			yield(membership.Invitation{}, err)
			return
		}
		var all []membership.Invitation
		ek := membership.EmailKey(q.Email)
		add := func(inv membership.Invitation) {
			if inv.ID <= q.After && q.After != "" {
				return
			}
			if len(q.States) > 0 && !slices.Contains(q.States, inv.State) {
				return
			}
			if ek != "" && membership.EmailKey(inv.Email) != ek {
				return
			}
			all = append(all, inv)
		}
		for id, inv := range t.st.invs {
			if _, ok := t.invs[id]; !ok {
				add(inv)
			}
		}
		for _, inv := range t.invs {
			add(inv)
		}
		slices.SortFunc(all, func(a, b membership.Invitation) int { return cmp.Compare(a.ID, b.ID) })
		for i, inv := range all {
			if q.Limit > 0 && i >= q.Limit {
				return
			}
			if !yield(cloneInv(inv), nil) {
				return
			}
		}
	}
}

func (t *tx) tokenTaken(h []byte, exceptID string) bool {
	if len(h) == 0 {
		return false
	}
	for id, inv := range t.invs {
		if id != exceptID && bytes.Equal(inv.TokenHash, h) {
			return true
		}
	}
	t.s.mu.RLock()
	ref, ok := t.s.tokens[string(h)]
	t.s.mu.RUnlock()
	if !ok || (ref.orgID == t.st.org.ID && ref.invID == exceptID) {
		return false
	}
	if ref.orgID == t.st.org.ID {
		if o, changed := t.invs[ref.invID]; changed && !bytes.Equal(o.TokenHash, h) {
			return false
		}
	}
	return true
}

func normInv(inv membership.Invitation) membership.Invitation {
	inv = cloneInv(inv)
	inv.CreatedAt, inv.SentAt, inv.ExpiresAt = store.Time(inv.CreatedAt), store.Time(inv.SentAt), store.Time(inv.ExpiresAt)
	inv.AcceptedAt, inv.UpdatedAt = store.Time(inv.AcceptedAt), store.Time(inv.UpdatedAt)
	return inv
}

func (t *tx) InsertInvitation(ctx context.Context, inv membership.Invitation) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if inv.ID == "" || inv.OrgID != t.st.org.ID {
		return fmt.Errorf("memstore: invitation %q of org %q inserted in org %q", inv.ID, inv.OrgID, t.st.org.ID)
	}
	if _, ok := t.invitation(inv.ID); ok {
		return &membership.DuplicateError{Key: "id", Value: inv.ID}
	}
	if t.tokenTaken(inv.TokenHash, inv.ID) {
		return &membership.DuplicateError{Key: "token"}
	}
	if t.invs == nil {
		t.invs = make(map[string]membership.Invitation)
	}
	t.invs[inv.ID] = normInv(inv)
	return nil
}

func (t *tx) UpdateInvitation(ctx context.Context, inv membership.Invitation) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	old, ok := t.invitation(inv.ID)
	if !ok {
		return fmt.Errorf("invitation %q: %w", inv.ID, store.ErrNotFound)
	}
	if !bytes.Equal(old.TokenHash, inv.TokenHash) && t.tokenTaken(inv.TokenHash, inv.ID) {
		return &membership.DuplicateError{Key: "token"}
	}
	if t.invs == nil {
		t.invs = make(map[string]membership.Invitation)
	}
	inv.OrgID = old.OrgID
	inv.CreatedAt = old.CreatedAt
	t.invs[inv.ID] = normInv(inv)
	return nil
}

func (t *tx) AppendEvents(ctx context.Context, evs []membership.Event) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	for _, e := range evs {
		if e.ID == "" {
			return fmt.Errorf("memstore: event without ID")
		}
		e.OrgID = t.st.org.ID
		e.At = store.Time(e.At)
		t.events = append(t.events, e)
	}
	return nil
}

func (t *tx) Events(ctx context.Context, q store.EventQuery) iter.Seq2[membership.Event, error] {
	return func(yield func(membership.Event, error) bool) {
		if err := t.check(ctx, false); err != nil {
			yield(membership.Event{}, err)
			return
		}
		base := t.st.events
		start := 0
		if q.After != "" {
			start = sort.Search(len(base), func(i int) bool { return base[i].ID > q.After })
		}
		n := 0
		emit := func(e membership.Event) bool {
			if q.After != "" && e.ID <= q.After {
				return true
			}
			if q.SubjectID != "" && e.SubjectID != q.SubjectID {
				return true
			}
			if len(q.Types) > 0 && !slices.Contains(q.Types, e.Type) {
				return true
			}
			if !yield(e, nil) {
				return false
			}
			n++
			return q.Limit <= 0 || n < q.Limit
		}
		for _, e := range base[start:] {
			if !emit(e) {
				return
			}
		}
		pending := slices.Clone(t.events)
		slices.SortStableFunc(pending, func(a, b membership.Event) int { return cmp.Compare(a.ID, b.ID) })
		for _, e := range pending {
			if !emit(e) {
				return
			}
		}
	}
}

func cloneOrg(o membership.Org) membership.Org {
	o.Features = slices.Clone(o.Features)
	return o
}

func cloneRole(r membership.Role) membership.Role {
	r.Permissions = slices.Clone(r.Permissions)
	return r
}

func cloneInv(inv membership.Invitation) membership.Invitation {
	inv.TokenHash = bytes.Clone(inv.TokenHash)
	return inv
}
