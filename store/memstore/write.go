package memstore

import (
	"bytes"
	"context"
	"fmt"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

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

func (t *tx) ensureOverlay() {
	if t.members == nil {
		t.members = make(map[string]*membership.Member)
		t.login = make(map[string]string)
		t.email = make(map[string]string)
		t.user = make(map[string]string)
	}
}

func normMember(m membership.Member) *membership.Member {
	m = m.Clone()
	m.CreatedAt, m.UpdatedAt, m.LastLoginAt = store.Time(m.CreatedAt), store.Time(m.UpdatedAt), store.Time(m.LastLoginAt)
	return &m
}

// uniqueKey is one of the keys unique in an org: its name in a
// DuplicateError, how a member's key is computed ("" for none, except for
// the login, which every member has), and the indexes that hold it.
type uniqueKey struct {
	name    string
	of      func(m *membership.Member) string
	value   func(m *membership.Member) string
	overlay func(t *tx) map[string]string
	base    func(st *orgState, key string) (string, bool)
}

var uniqueKeys = []uniqueKey{
	{"login", func(m *membership.Member) string { return membership.LoginKey(m.Login) }, func(m *membership.Member) string { return m.Login },
		func(t *tx) map[string]string { return t.login }, byLogin},
	{"email", func(m *membership.Member) string { return membership.EmailKey(m.Email) }, func(m *membership.Member) string { return m.Email },
		func(t *tx) map[string]string { return t.email }, byEmail},
	{"user_id", func(m *membership.Member) string { return m.UserID }, func(m *membership.Member) string { return m.UserID },
		func(t *tx) map[string]string { return t.user }, byUser},
}

func (t *tx) InsertMembers(ctx context.Context, ms []membership.Member) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	ids := make(map[string]bool, len(ms))
	claimed := make([]map[string]bool, len(uniqueKeys))
	for i := range claimed {
		claimed[i] = make(map[string]bool, len(ms))
	}
	for i := range ms {
		m := &ms[i]
		if m.ID == "" || m.OrgID != t.st.org.ID {
			return fmt.Errorf("memstore: member %q of org %q inserted in org %q", m.ID, m.OrgID, t.st.org.ID)
		}
		if _, ok := t.lookup(m.ID); ok || ids[m.ID] {
			return &membership.DuplicateError{Key: "id", Value: m.ID}
		}
		ids[m.ID] = true
		for j, u := range uniqueKeys {
			k := u.of(m)
			if k == "" {
				if u.name == "login" {
					return &membership.DuplicateError{Key: "login", Value: m.Login}
				}
				continue
			}
			if _, taken := t.ownerOf(u.overlay(t), u.base, k); taken || claimed[j][k] {
				return &membership.DuplicateError{Key: u.name, Value: u.value(m)}
			}
			claimed[j][k] = true
		}
	}
	t.ensureOverlay()
	for _, m := range ms {
		nm := normMember(m)
		nm.Version = 1
		t.members[nm.ID] = nm
		for _, u := range uniqueKeys {
			if k := u.of(nm); k != "" {
				u.overlay(t)[k] = nm.ID
			}
		}
		t.sortChanges = append(t.sortChanges, sortChange{id: nm.ID, newKey: membership.LoginKey(nm.Login)})
	}
	return nil
}

func (t *tx) UpdateMembers(ctx context.Context, ms []membership.Member) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	olds := make([]membership.Member, len(ms))
	inBatch := make(map[string]bool, len(ms))
	released := make([]map[string]string, len(uniqueKeys)) // per key kind: released key → its owner
	claimed := make([]map[string]string, len(uniqueKeys))
	for j := range uniqueKeys {
		released[j], claimed[j] = map[string]string{}, map[string]string{}
	}
	for i := range ms {
		m := &ms[i]
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
		for j, u := range uniqueKeys {
			if ok, nk := u.of(&old), u.of(m); ok != nk && ok != "" {
				released[j][ok] = m.ID
			}
		}
	}
	for i := range ms {
		m := &ms[i]
		if membership.LoginKey(m.Login) == "" {
			return &membership.DuplicateError{Key: "login", Value: m.Login}
		}
		for j, u := range uniqueKeys {
			k := u.of(m)
			if k == "" || k == u.of(&olds[i]) {
				continue
			}
			if c, ok := claimed[j][k]; ok && c != m.ID {
				return &membership.DuplicateError{Key: u.name, Value: u.value(m)}
			}
			claimed[j][k] = m.ID
			if owner, taken := t.ownerOf(u.overlay(t), u.base, k); taken && owner != m.ID && released[j][k] != owner {
				return &membership.DuplicateError{Key: u.name, Value: u.value(m)}
			}
		}
	}
	t.ensureOverlay()
	for j, u := range uniqueKeys {
		for k := range released[j] {
			u.overlay(t)[k] = ""
		}
	}
	for i, m := range ms {
		old := olds[i]
		nm := normMember(m)
		nm.OrgID = old.OrgID
		nm.CreatedAt = old.CreatedAt
		nm.Version = old.Version + 1
		t.members[nm.ID] = nm
		for _, u := range uniqueKeys {
			if k := u.of(nm); k != "" && k != u.of(&old) {
				u.overlay(t)[k] = nm.ID
			}
		}
		if ok, nk := membership.LoginKey(old.Login), membership.LoginKey(nm.Login); ok != nk {
			t.sortChanges = append(t.sortChanges, sortChange{id: nm.ID, oldKey: ok, newKey: nk})
		}
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
		if old.Version != p.Version || membership.LoginKey(old.Login) != membership.LoginKey(p.Login) {
			return fmt.Errorf("member %q changed since version %d: %w", p.ID, p.Version, store.ErrConflict)
		}
		ms[i] = p.Apply(old)
	}
	return t.UpdateMembers(ctx, ms)
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
	if _, err := t.role(ctx, id); err != nil {
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
	if err := membership.ValidateEvents(evs); err != nil {
		return err
	}
	for _, e := range evs {
		e.OrgID = t.st.org.ID
		e.At = store.Time(e.At)
		e.Attributes = e.Attributes.Clone()
		e.Seq = t.st.seq + int64(len(t.events)) + 1 // the writer is held: st.seq is stable
		t.events = append(t.events, e)
	}
	return nil
}
