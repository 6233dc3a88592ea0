package memstore

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"sort"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// tx is a transaction: reads see the org's state with the overlay on top.
var (
	_ store.Tx                = (*tx)(nil)
	_ store.MemberCounter     = (*tx)(nil)
	_ store.InvitationCounter = (*tx)(nil)
	_ store.SummaryReader     = (*tx)(nil)
	_ store.MemberPatcher     = (*tx)(nil)
	_ store.DetailReader      = (*tx)(nil)
)

type tx struct {
	s        *Store
	st       *orgState
	readOnly bool
	done     bool

	org            *membership.Org
	members        map[string]*membership.Member
	login          map[string]string // key → id; "" = released
	email          map[string]string
	user           map[string]string           // user ID → member ID; "" = released
	roles          map[string]*membership.Role // nil = deleted
	invs           map[string]membership.Invitation
	events         []membership.Event
	sortChanges    []sortChange
	domains        map[string]*membership.Domain // by name; nil = deleted
	reserved       []string                      // verified domains this transaction reserved (see PutDomain)
	dtokens        map[string]membership.DirectoryToken
	dgroups        map[string]*membership.Group // nil = deleted
	reservedTokens []string                     // directory token hashes this transaction reserved
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

// lookup returns the current version of a member (overlay first). Its
// Groups and Attributes may be the store's own (see members.member):
// it is cloned before it leaves the store.
func (t *tx) lookup(id string) (membership.Member, bool) {
	if m, ok := t.members[id]; ok {
		return *m, true
	}
	ms := &t.st.ms
	if s, ok := ms.byID.find(id, ms.idKey); ok {
		return ms.member(ms.rec(s), t.st.org.ID), true
	}
	return membership.Member{}, false
}

// owner returns the ID of the committed member holding key in one of
// the org's key indexes.
func (ms *members) owner(x *slotIndex, keyOf keyFunc, key string) (string, bool) {
	if s, ok := x.find(key, keyOf); ok {
		return ms.rec(s).id, true
	}
	return "", false
}

// ownerOf returns the ID of the member holding key, in this
// transaction's overlay of an index (where "" is a released key) or
// else in the committed index.
func (t *tx) ownerOf(idx map[string]string, base func(st *orgState, key string) (string, bool), key string) (string, bool) {
	if id, ok := idx[key]; ok {
		return id, id != ""
	}
	return base(t.st, key)
}

// byLogin, byEmail and byUser look a key up in the committed indexes,
// for ownerOf.
func byLogin(st *orgState, k string) (string, bool) {
	return st.ms.owner(&st.ms.login, st.ms.loginKey, k)
}

func byEmail(st *orgState, k string) (string, bool) {
	return st.ms.owner(&st.ms.email, st.ms.emailKey, k)
}

func byUser(st *orgState, k string) (string, bool) {
	return st.ms.owner(&st.ms.user, st.ms.userKey, k)
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
	if id, ok := t.ownerOf(t.login, byLogin, membership.LoginKey(login)); ok {
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
		if id, ok := t.ownerOf(t.email, byEmail, k); ok {
			if m, ok := t.lookup(id); ok {
				return m.Clone(), nil
			}
		}
	}
	return membership.Member{}, fmt.Errorf("member with email %q: %w", email, store.ErrNotFound)
}

func (t *tx) MemberByUserID(ctx context.Context, userID string) (membership.Member, error) {
	if err := t.check(ctx, false); err != nil {
		return membership.Member{}, err
	}
	if userID != "" {
		if id, ok := t.ownerOf(t.user, byUser, userID); ok {
			if m, ok := t.lookup(id); ok {
				return m.Clone(), nil
			}
		}
	}
	return membership.Member{}, fmt.Errorf("member of user %q: %w", userID, store.ErrNotFound)
}

func (t *tx) Members(ctx context.Context, q store.MemberQuery) iter.Seq2[membership.Member, error] {
	return func(yield func(membership.Member, error) bool) {
		if err := t.check(ctx, false); err != nil {
			yield(membership.Member{}, err)
			return
		}
		l := t.candidates(q)
		after := membership.LoginKey(q.After)
		start := 0
		if after != "" {
			start = sort.Search(l.len(), func(i int) bool { return t.listKey(&l, i) > after })
		}
		n := 0
		for i := start; i < l.len(); i++ {
			if i%1024 == 0 {
				if err := t.check(ctx, false); err != nil {
					yield(membership.Member{}, err)
					return
				}
			}
			m := t.listMember(&l, i)
			if !q.Matches(m) {
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
	return roster(ctx, t, store.Summary)
}

func (t *tx) MemberDetails(ctx context.Context) iter.Seq2[store.MemberDetail, error] {
	// Members share their group lists in the store: each detail gets
	// its own, as Members' members do.
	return roster(ctx, t, func(m membership.Member) store.MemberDetail { return store.Detail(m.Clone()) })
}

// roster streams the whole roster, each member as view makes it.
func roster[T any](ctx context.Context, t *tx, view func(membership.Member) T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if err := t.check(ctx, false); err != nil {
			yield(zero, err)
			return
		}
		l := t.candidates(store.MemberQuery{})
		for i := range l.len() {
			if i%1024 == 0 {
				if err := t.check(ctx, false); err != nil {
					yield(zero, err)
					return
				}
			}
			if !yield(view(t.listMember(&l, i)), nil) {
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

func (t *tx) CountOpenInvitations(ctx context.Context, now time.Time) (int, error) {
	if err := t.check(ctx, false); err != nil {
		return 0, err
	}
	n := 0
	for id, inv := range t.st.invs {
		if o, ok := t.invs[id]; ok {
			inv = o
		}
		if inv.Open(now) {
			n++
		}
	}
	for id, inv := range t.invs {
		if _, ok := t.st.invs[id]; !ok && inv.Open(now) {
			n++
		}
	}
	return n, nil
}

// role returns a custom role of the org as this transaction sees it.
func (t *tx) role(ctx context.Context, id string) (membership.Role, error) {
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

func (t *tx) Events(ctx context.Context, q store.EventQuery) iter.Seq2[membership.Event, error] {
	return func(yield func(membership.Event, error) bool) {
		if err := t.check(ctx, false); err != nil {
			yield(membership.Event{}, err)
			return
		}
		st := t.st
		start := 0
		if q.After != "" {
			start = sort.Search(len(st.log), func(i int) bool { return st.eventByID(i).ID > q.After })
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
		for i := start; i < len(st.log); i++ {
			if !emit(st.eventByID(i)) {
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
