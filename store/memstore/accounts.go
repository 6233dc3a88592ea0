package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// What crosses orgs: host accounts (which orgs have a member of a user ID)
// and verified domains (which org holds each). Both live on the Store
// under s.mu. A user's orgs are published at commit. A verified domain is
// reserved by the transaction that verifies it, at once, so that two orgs
// verifying one domain at the same moment cannot both succeed; the
// reservation is released when that transaction fails.

var _ store.AccessReader = (*Store)(nil)

// Memberships returns every member of a host account, in any org.
func (s *Store) Memberships(ctx context.Context, userID string) ([]store.Membership, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	orgIDs := make([]string, 0, len(s.users[userID]))
	for id := range s.users[userID] {
		orgIDs = append(orgIDs, id)
	}
	s.mu.RUnlock()
	slices.Sort(orgIDs)
	var out []store.Membership
	for _, orgID := range orgIDs {
		st, err := s.state(orgID)
		if err != nil {
			continue
		}
		st.mu.RLock()
		if slot, ok := st.ms.user.find(userID, st.ms.userKey); ok {
			m := st.ms.member(st.ms.rec(slot), st.org.ID)
			out = append(out, store.Membership{Org: cloneOrg(st.org), Member: m.Clone()})
		}
		st.mu.RUnlock()
	}
	return out, nil
}

// DomainOwner returns the verified claim of a domain.
func (s *Store) DomainOwner(ctx context.Context, name string) (membership.Domain, error) {
	if err := ctx.Err(); err != nil {
		return membership.Domain{}, err
	}
	s.mu.RLock()
	orgID := s.verified[name]
	st := s.orgs[orgID]
	s.mu.RUnlock()
	if st != nil {
		st.mu.RLock()
		d, ok := st.domains[name]
		st.mu.RUnlock()
		if ok && d.Verified() {
			return d, nil
		}
	}
	return membership.Domain{}, fmt.Errorf("verified domain %q: %w", name, store.ErrNotFound)
}

// Access returns the member an actor names in an org, and its custom role.
func (s *Store) Access(ctx context.Context, orgID string, actor membership.Actor) (store.Access, error) {
	if err := ctx.Err(); err != nil {
		return store.Access{}, err
	}
	st, err := s.state(orgID)
	if err != nil {
		return store.Access{}, err
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	var slot uint32
	ok := false
	switch {
	case actor.MemberID != "":
		slot, ok = st.ms.byID.find(actor.MemberID, st.ms.idKey)
	case actor.UserID != "":
		slot, ok = st.ms.user.find(actor.UserID, st.ms.userKey)
	}
	if !ok {
		return store.Access{}, fmt.Errorf("member of %s: %w", actor, store.ErrNotFound)
	}
	r := st.ms.rec(slot)
	p := &st.ms.profiles[r.profile]
	a := store.Access{MemberID: r.id, UserID: r.userID(), RoleID: p.role, Status: p.status, MustChangePassword: p.mustChange}
	if r, ok := st.roles[a.RoleID]; ok {
		r = cloneRole(r)
		a.Role = &r
	}
	return a, nil
}

func (t *tx) domain(name string) (membership.Domain, bool) {
	if d, ok := t.domains[name]; ok {
		if d == nil {
			return membership.Domain{}, false
		}
		return *d, true
	}
	d, ok := t.st.domains[name]
	return d, ok
}

func (t *tx) Domains(ctx context.Context) ([]membership.Domain, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	var out []membership.Domain
	for name, d := range t.st.domains {
		if _, ok := t.domains[name]; !ok {
			out = append(out, d)
		}
	}
	for _, d := range t.domains {
		if d != nil {
			out = append(out, *d)
		}
	}
	slices.SortFunc(out, func(a, b membership.Domain) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

func (t *tx) PutDomain(ctx context.Context, d membership.Domain) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if d.Name == "" {
		return fmt.Errorf("memstore: domain without name")
	}
	d.OrgID = t.st.org.ID
	d.CreatedAt, d.UpdatedAt, d.VerifiedAt = store.Time(d.CreatedAt), store.Time(d.UpdatedAt), store.Time(d.VerifiedAt)
	if old, ok := t.domain(d.Name); ok {
		d.CreatedAt = old.CreatedAt
	}
	if d.Verified() {
		t.s.mu.Lock()
		owner, held := t.s.verified[d.Name]
		if held && owner != d.OrgID {
			t.s.mu.Unlock()
			return &membership.DuplicateError{Key: "domain", Value: d.Name}
		}
		if !held {
			t.s.verified[d.Name] = d.OrgID
			t.reserved = append(t.reserved, d.Name)
		}
		t.s.mu.Unlock()
	}
	if t.domains == nil {
		t.domains = make(map[string]*membership.Domain)
	}
	t.domains[d.Name] = &d
	return nil
}

func (t *tx) DeleteDomain(ctx context.Context, name string) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if _, ok := t.domain(name); !ok {
		return fmt.Errorf("domain %q: %w", name, store.ErrNotFound)
	}
	if t.domains == nil {
		t.domains = make(map[string]*membership.Domain)
	}
	t.domains[name] = nil
	return nil
}

// commitDomains publishes the overlay's domain claims and returns the
// names the org held verified and no longer does. The caller holds st.mu.
func (st *orgState) commitDomains(t *tx) []string {
	var unverified []string
	for name, d := range t.domains {
		old, had := st.domains[name]
		if d == nil {
			delete(st.domains, name)
		} else {
			st.domains[name] = *d
		}
		if had && old.Verified() && (d == nil || !d.Verified()) {
			unverified = append(unverified, name)
		}
	}
	for _, name := range t.reserved { // verified, then deleted or unverified in the same transaction
		if d := t.domains[name]; (d == nil || !d.Verified()) && !slices.Contains(unverified, name) {
			unverified = append(unverified, name)
		}
	}
	return unverified
}

// publishAccounts records, after a commit, which users the org has a
// member of now, and frees the domains it stopped holding verified.
func (s *Store) publishAccounts(orgID string, users map[string]bool, unverified []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for userID, present := range users {
		orgs := s.users[userID]
		switch {
		case present && orgs == nil:
			s.users[userID] = map[string]bool{orgID: true}
		case present:
			orgs[orgID] = true
		case orgs != nil:
			delete(orgs, orgID)
			if len(orgs) == 0 {
				delete(s.users, userID)
			}
		}
	}
	for _, name := range unverified {
		if s.verified[name] == orgID {
			delete(s.verified, name)
		}
	}
}

// release frees the domains a failed transaction reserved.
func (s *Store) release(st *orgState, t *tx) {
	if len(t.reserved)+len(t.reservedTokens) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range t.reservedTokens {
		if s.dirTokens[h].orgID == st.org.ID {
			delete(s.dirTokens, h)
		}
	}
	for _, name := range t.reserved {
		if s.verified[name] == st.org.ID {
			delete(s.verified, name)
		}
	}
}
