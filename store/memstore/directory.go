package memstore

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// The directory's tokens and groups (store.Directory): kept per org like
// roles, written through the transaction's overlay and published at
// commit; tokens are also indexed across orgs by the hash of their secret.

var (
	_ store.Directory   = (*Store)(nil)
	_ store.DirectoryTx = (*tx)(nil)
)

// lastUsed returns d with the last use TouchDirectoryToken recorded,
// when later than its own. Last uses are kept apart from the tokens, under
// their own lock, because they are written outside the org's Update.
func (st *orgState) lastUsed(d membership.DirectoryToken) membership.DirectoryToken {
	st.usedMu.Lock()
	at := st.used[d.ID]
	st.usedMu.Unlock()
	if at.After(d.LastUsedAt) {
		d.LastUsedAt = at
	}
	return d
}

func (t *tx) DirectoryTokens(ctx context.Context) ([]membership.DirectoryToken, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	out := make([]membership.DirectoryToken, 0, len(t.st.dtokens)+len(t.dtokens))
	for id, d := range t.st.dtokens {
		if _, ok := t.dtokens[id]; !ok {
			out = append(out, t.st.lastUsed(cloneToken(d)))
		}
	}
	for _, d := range t.dtokens {
		out = append(out, t.st.lastUsed(cloneToken(d)))
	}
	slices.SortFunc(out, func(a, b membership.DirectoryToken) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func (t *tx) PutDirectoryToken(ctx context.Context, d membership.DirectoryToken) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if d.ID == "" || len(d.Hash) == 0 {
		return fmt.Errorf("memstore: directory token without ID or hash")
	}
	d = cloneToken(d)
	d.OrgID = t.st.org.ID
	d.CreatedAt, d.LastUsedAt, d.RevokedAt = store.Time(d.CreatedAt), store.Time(d.LastUsedAt), store.Time(d.RevokedAt)
	for id, o := range t.dtokens {
		if id != d.ID && bytes.Equal(o.Hash, d.Hash) {
			return &membership.DuplicateError{Key: "token"}
		}
	}
	// The hash is reserved at once, so that another org's transaction
	// cannot take it meanwhile; a transaction that fails frees it.
	mine := tokenRef{orgID: d.OrgID, invID: d.ID}
	t.s.mu.Lock()
	ref, taken := t.s.dirTokens[string(d.Hash)]
	if taken && ref != mine {
		t.s.mu.Unlock()
		return &membership.DuplicateError{Key: "token"}
	}
	if !taken {
		t.s.dirTokens[string(d.Hash)] = mine
		t.reservedTokens = append(t.reservedTokens, string(d.Hash))
	}
	t.s.mu.Unlock()
	if t.dtokens == nil {
		t.dtokens = make(map[string]membership.DirectoryToken)
	}
	t.dtokens[d.ID] = d
	return nil
}

func (t *tx) group(id string) (membership.Group, bool) {
	if g, ok := t.dgroups[id]; ok {
		if g == nil {
			return membership.Group{}, false
		}
		return *g, true
	}
	g, ok := t.st.dgroups[id]
	return g, ok
}

func (t *tx) Groups(ctx context.Context) ([]membership.Group, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	out := make([]membership.Group, 0, len(t.st.dgroups)+len(t.dgroups))
	for id, g := range t.st.dgroups {
		if _, ok := t.dgroups[id]; !ok {
			out = append(out, g)
		}
	}
	for _, g := range t.dgroups {
		if g != nil {
			out = append(out, *g)
		}
	}
	slices.SortFunc(out, func(a, b membership.Group) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func (t *tx) PutGroup(ctx context.Context, g membership.Group) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if g.ID == "" || g.Name == "" {
		return fmt.Errorf("memstore: group without ID or name")
	}
	g.OrgID = t.st.org.ID
	g.CreatedAt, g.UpdatedAt = store.Time(g.CreatedAt), store.Time(g.UpdatedAt)
	all, err := t.Groups(ctx)
	if err != nil {
		return err
	}
	key := membership.GroupKey(g.Name)
	for _, o := range all {
		if o.ID != g.ID && membership.GroupKey(o.Name) == key {
			return &membership.DuplicateError{Key: "group", Value: g.Name}
		}
	}
	if t.dgroups == nil {
		t.dgroups = make(map[string]*membership.Group)
	}
	t.dgroups[g.ID] = &g
	return nil
}

func (t *tx) DeleteGroup(ctx context.Context, id string) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if _, ok := t.group(id); !ok {
		return fmt.Errorf("group %q: %w", id, store.ErrNotFound)
	}
	if t.dgroups == nil {
		t.dgroups = make(map[string]*membership.Group)
	}
	t.dgroups[id] = nil
	return nil
}

// commitDirectory publishes the overlay's tokens and groups and returns
// the token hashes to index. The caller holds st.mu.
func (st *orgState) commitDirectory(t *tx) (hashes [][]byte, ids []string) {
	for id, d := range t.dtokens {
		if st.dtokens == nil {
			st.dtokens = make(map[string]membership.DirectoryToken)
		}
		st.dtokens[id] = d
		hashes, ids = append(hashes, d.Hash), append(ids, id)
	}
	for id, g := range t.dgroups {
		if g == nil {
			delete(st.dgroups, id)
			continue
		}
		if st.dgroups == nil {
			st.dgroups = make(map[string]membership.Group)
		}
		st.dgroups[id] = *g
	}
	return hashes, ids
}

// DirectoryTokenByHash finds a token of any org by its secret's hash.
func (s *Store) DirectoryTokenByHash(ctx context.Context, hash []byte) (membership.DirectoryToken, error) {
	if err := ctx.Err(); err != nil {
		return membership.DirectoryToken{}, err
	}
	s.mu.RLock()
	ref, ok := s.dirTokens[string(hash)]
	st := s.orgs[ref.orgID]
	s.mu.RUnlock()
	if !ok || st == nil {
		return membership.DirectoryToken{}, fmt.Errorf("directory token: %w", store.ErrNotFound)
	}
	st.mu.RLock()
	d, ok := st.dtokens[ref.invID]
	st.mu.RUnlock()
	if !ok {
		return membership.DirectoryToken{}, fmt.Errorf("directory token: %w", store.ErrNotFound)
	}
	return st.lastUsed(cloneToken(d)), nil
}

// TouchDirectoryToken records a token's last use.
func (s *Store) TouchDirectoryToken(ctx context.Context, orgID, id string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	st, err := s.state(orgID)
	if err != nil {
		return err
	}
	st.mu.RLock()
	_, ok := st.dtokens[id]
	st.mu.RUnlock()
	if !ok {
		return fmt.Errorf("directory token %q: %w", id, store.ErrNotFound)
	}
	at = store.Time(at)
	st.usedMu.Lock()
	defer st.usedMu.Unlock()
	if at.After(st.used[id]) {
		if st.used == nil {
			st.used = make(map[string]time.Time)
		}
		st.used[id] = at
	}
	return nil
}

func cloneToken(d membership.DirectoryToken) membership.DirectoryToken {
	d.Hash = bytes.Clone(d.Hash)
	return d
}
