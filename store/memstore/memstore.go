// Package memstore is an in-memory [store.Store]: transactional, safe for
// concurrent use, for tests and small apps that do not need durability.
//
// An Update works on a private overlay and publishes it atomically at
// commit, so a View never sees half of an Update and an Update whose
// function fails leaves nothing behind — batch writes included. Updates of
// one org are serialised (an Update waits for the org's writer under its
// context); Updates of different orgs run in parallel.
//
// The package is in four parts: the transaction engine (this file: the
// store, Update and View, and commit, which publishes an overlay), the
// compact records of committed members and their key indexes (records.go,
// slots.go), the sorted indexes of members (index.go), and a
// transaction's overlay of reads and writes (read.go, write.go).
package memstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"
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
	mu       sync.RWMutex
	orgs     map[string]*orgState
	tokens   map[string]tokenRef        // string(token hash) → invitation
	users    map[string]map[string]bool // user ID → the orgs where a member has it
	verified map[string]string          // verified domain → its org (reserved while an Update runs)
	// dirTokens: string(directory token hash) → its org and ID (invID)
	dirTokens map[string]tokenRef

	amu      sync.Mutex
	attempts map[string]membership.Attempts // throttle records by key

	fmu     sync.Mutex
	cursors map[cursorKey]cursor             // feed cursors
	subs    map[string]store.SubscriberState // feed subscribers by name
}

type tokenRef struct{ orgID, invID string }

// New returns an empty store.
func New() *Store {
	return &Store{orgs: make(map[string]*orgState), tokens: make(map[string]tokenRef), users: make(map[string]map[string]bool),
		verified: make(map[string]string), dirTokens: make(map[string]tokenRef), attempts: make(map[string]membership.Attempts),
		cursors: make(map[cursorKey]cursor), subs: make(map[string]store.SubscriberState)}
}

type orgState struct {
	writer chan struct{} // holds one token while an Update runs: a semaphore a context can abandon
	mu     sync.RWMutex  // guards the fields below; written only at commit

	org     membership.Org
	ms      members // the members and their indexes by ID, login, email and user ID
	roles   map[string]membership.Role
	domains map[string]membership.Domain // by name
	invs    map[string]membership.Invitation
	log     []membership.Event                   // by Seq: log[i].Seq == i+1
	byID    []uint32                             // positions in log by event ID; nil while log is in ID order
	seq     int64                                // the Seq of the last event
	dtokens map[string]membership.DirectoryToken // directory tokens by ID
	dgroups map[string]membership.Group          // directory groups by ID
	usedMu  sync.Mutex                           // guards used, written outside Update
	used    map[string]time.Time                 // directory token ID → last use (TouchDirectoryToken)

	sortMu sync.Mutex
	sorted []uint32 // the members' slots by login key; nil when it must be rebuilt
	// groups lists, per group key, the slots of the members carrying
	// that group by login key, so that a filtered page reads only its
	// own members; nil when it must be rebuilt.
	groups map[string][]uint32
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
		ms:      newMembers(),
		roles:   make(map[string]membership.Role),
		domains: make(map[string]membership.Domain),
		invs:    make(map[string]membership.Invitation),
		sorted:  []uint32{},
		writer:  make(chan struct{}, 1),
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
	// Wait for the org's writer, but give up when ctx ends.
	select {
	case st.writer <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-st.writer }()
	t := newTx(s, st, false)
	committed := false
	defer func() {
		if !committed { // fn failed, or panicked: what it reserved is freed
			s.release(st, t)
		}
	}()
	err = fn(t)
	t.done = true
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return err
	}
	s.commit(st, t)
	committed = true
	return nil
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

// commit publishes a transaction's overlay. The caller holds the org's writer
// token.
func (s *Store) commit(st *orgState, t *tx) {
	st.mu.Lock()
	if t.org != nil {
		st.org = *t.org
	}
	var users map[string]bool // user ID → whether the org still has a member of it
	for k, id := range t.user {
		if users == nil {
			users = make(map[string]bool, len(t.user))
		}
		users[k] = id != ""
	}
	unverified := st.commitDomains(t)
	dirHashes, dirIDs := st.commitDirectory(t)
	st.commitMembers(t)
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
		n := len(st.log)
		st.log = append(st.log, t.events...)
		st.seq += int64(len(t.events))
		st.orderEvents(n)
	}
	orgID := st.org.ID
	st.mu.Unlock()

	if len(users)+len(unverified) > 0 {
		s.publishAccounts(orgID, users, unverified)
	}
	if len(oldTokens)+len(newTokens)+len(dirHashes) > 0 {
		s.mu.Lock()
		for i, h := range dirHashes {
			s.dirTokens[string(h)] = tokenRef{orgID: orgID, invID: dirIDs[i]}
		}
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

// commitMembers publishes the overlay's members: their records, their
// keys in the indexes by ID, login, email and user ID, and their places
// in the sorted indexes. Keys and places that move are taken out while
// every record is still as committed, and put in once every record is
// written, since an index reads its keys from the records. New members
// take the next slots in the order they were inserted. The caller holds
// st.mu.
func (st *orgState) commitMembers(t *tx) {
	if len(t.members) == 0 {
		return
	}
	ms := &st.ms
	type write struct {
		m     *membership.Member
		slot  uint32
		fresh bool
		old   membership.Member // the committed member, unless fresh
	}
	ws := make([]write, 0, len(t.members))
	for _, c := range t.sortChanges {
		if c.oldKey == "" { // an insert
			ws = append(ws, write{m: t.members[c.id], fresh: true})
		}
	}
	for id, m := range t.members {
		if s, ok := ms.byID.find(id, ms.idKey); ok {
			ws = append(ws, write{m: m, slot: s, old: ms.member(ms.rec(s), "")})
		}
	}
	moves := func(w *write) (login, groups bool) {
		if w.fresh {
			return true, true
		}
		login = membership.LoginKey(w.old.Login) != membership.LoginKey(w.m.Login)
		return login, login || !slices.Equal(w.old.Groups, w.m.Groups)
	}
	st.sortMu.Lock()
	defer st.sortMu.Unlock()
	// A sorted index that many members move in is dropped, and rebuilt
	// when next read.
	loginMoves, groupMoves := 0, 0
	for i := range ws {
		l, g := moves(&ws[i])
		loginMoves, groupMoves = loginMoves+b2i(l), groupMoves+b2i(g)
	}
	if loginMoves > 256 {
		st.sorted = nil
	}
	if groupMoves > 256 {
		st.groups = nil
	}
	for i := range ws { // out
		w := &ws[i]
		if w.fresh {
			continue
		}
		lk := membership.LoginKey(w.old.Login)
		login, groups := moves(w)
		if login {
			ms.login.remove(lk, w.slot)
			if st.sorted != nil {
				st.sorted = ms.removeSlot(st.sorted, lk, w.slot)
			}
		}
		if groups && st.groups != nil {
			for _, g := range groupKeys(w.old.Groups) {
				st.groups[g] = ms.removeSlot(st.groups[g], lk, w.slot)
			}
		}
		if k := membership.EmailKey(w.old.Email); k != "" && k != membership.EmailKey(w.m.Email) {
			ms.email.remove(k, w.slot)
		}
		if k := w.old.UserID; k != "" && k != w.m.UserID {
			ms.user.remove(k, w.slot)
		}
	}
	for i := range ws { // the records
		if w := &ws[i]; w.fresh {
			w.slot = ms.add(w.m)
			ms.byID.insert(w.m.ID, w.slot)
		} else {
			ms.write(ms.rec(w.slot), w.m, false)
		}
	}
	for i := range ws { // in
		w := &ws[i]
		lk := membership.LoginKey(w.m.Login)
		login, groups := moves(w)
		if login {
			ms.login.insert(lk, w.slot)
			if st.sorted != nil {
				st.sorted = ms.insertSlot(st.sorted, lk, w.slot)
			}
		}
		if groups && st.groups != nil {
			for _, g := range groupKeys(w.m.Groups) {
				st.groups[g] = ms.insertSlot(st.groups[g], lk, w.slot)
			}
		}
		if k := membership.EmailKey(w.m.Email); k != "" && (w.fresh || k != membership.EmailKey(w.old.Email)) {
			ms.email.insert(k, w.slot)
		}
		if k := w.m.UserID; k != "" && (w.fresh || k != w.old.UserID) {
			ms.user.insert(k, w.slot)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
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
