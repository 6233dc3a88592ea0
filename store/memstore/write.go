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
		ms[i] = p.Apply(*old)
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
		t.events = append(t.events, e)
	}
	return nil
}
