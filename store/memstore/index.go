package memstore

import (
	"cmp"
	"slices"
	"sort"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// The sorted indexes of an org's members: by login key, and per group
// key. Each is a list of slots sorted by their records' login keys, kept
// in step at commit and merged with a transaction's own writes when it
// reads.

// The keys of a slot's record in each index.
func (ms *members) idKey(s uint32) string    { return ms.rec(s).id }
func (ms *members) loginKey(s uint32) string { return membership.LoginKey(ms.rec(s).login) }
func (ms *members) emailKey(s uint32) string { return membership.EmailKey(ms.rec(s).email) }
func (ms *members) userKey(s uint32) string  { return ms.rec(s).userID() }

// search returns the position of the first slot of idx whose login key
// is not below key.
func (ms *members) search(idx []uint32, key string) int {
	return sort.Search(len(idx), func(i int) bool { return ms.loginKey(idx[i]) >= key })
}

// removeSlot deletes slot, indexed under key, from a sorted index.
func (ms *members) removeSlot(idx []uint32, key string, slot uint32) []uint32 {
	for i := ms.search(idx, key); i < len(idx) && ms.loginKey(idx[i]) == key; i++ {
		if idx[i] == slot {
			return slices.Delete(idx, i, i+1)
		}
	}
	return idx
}

// insertSlot adds slot, whose login key is key, to a sorted index.
func (ms *members) insertSlot(idx []uint32, key string, slot uint32) []uint32 {
	return slices.Insert(idx, ms.search(idx, key), slot)
}

// sortByLogin sorts slots by login key, each key computed once.
func (ms *members) sortByLogin(slots []uint32) {
	type keyed struct {
		key  string
		slot uint32
	}
	ks := make([]keyed, len(slots))
	for i, s := range slots {
		ks[i] = keyed{ms.loginKey(s), s}
	}
	slices.SortFunc(ks, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })
	for i, k := range ks {
		slots[i] = k.slot
	}
}

// groupKeys returns the distinct keys of a member's groups.
func groupKeys(groups []string) []string {
	var out []string
	for _, g := range groups {
		if k := membership.GroupKey(g); k != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// groupIndex returns the slots of the members carrying the group key,
// sorted by login key, building every group's list when needed. The
// caller holds st.mu (read) or the org's writer token.
func (st *orgState) groupIndex(key string) []uint32 {
	st.sortMu.Lock()
	defer st.sortMu.Unlock()
	if st.groups == nil {
		ms := &st.ms
		keys := make(map[uint32][]string) // group set → its keys
		st.groups = make(map[string][]uint32)
		for s := range uint32(ms.n) {
			set := ms.rec(s).groups
			gk, ok := keys[set]
			if !ok {
				gk = groupKeys(ms.sets.list[set])
				keys[set] = gk
			}
			for _, g := range gk {
				st.groups[g] = append(st.groups[g], s)
			}
		}
		for g, idx := range st.groups {
			ms.sortByLogin(idx)
			st.groups[g] = slices.Clip(idx)
		}
	}
	return st.groups[key]
}

// sortedIndex returns the slots of every member sorted by login key,
// rebuilding the index when needed. The caller holds st.mu (read) or the
// org's writer token.
func (st *orgState) sortedIndex() []uint32 {
	st.sortMu.Lock()
	defer st.sortMu.Unlock()
	if st.sorted == nil {
		idx := make([]uint32, st.ms.n)
		for i := range idx {
			idx[i] = uint32(i)
		}
		st.ms.sortByLogin(idx)
		st.sorted = idx
	}
	return st.sorted
}

type sortChange struct{ id, oldKey, newKey string }

// entry is one member of a merged listing: a committed slot, or this
// transaction's own write when m is not nil.
type entry struct {
	key  string
	slot uint32
	m    *membership.Member
}

// listing is the members a query reads, in login key order: a committed
// index as it is (slots) when the transaction moved none of its members,
// else a copy merged with the transaction's writes.
type listing struct {
	slots  []uint32
	merged []entry
	isCopy bool
}

func (l *listing) len() int {
	if l.isCopy {
		return len(l.merged)
	}
	return len(l.slots)
}

func (t *tx) listKey(l *listing, i int) string {
	if l.isCopy {
		return l.merged[i].key
	}
	return t.st.ms.loginKey(l.slots[i])
}

// listMember returns the i-th member of a listing as this transaction
// sees it (see members.member on what it shares with the store).
func (t *tx) listMember(l *listing, i int) membership.Member {
	if l.isCopy {
		e := l.merged[i]
		if e.m != nil {
			return *e.m
		}
		return t.st.ms.member(t.st.ms.rec(e.slot), t.st.org.ID)
	}
	r := t.st.ms.rec(l.slots[i])
	if m, ok := t.members[r.id]; ok {
		return *m
	}
	return t.st.ms.member(r, t.st.org.ID)
}

// candidates returns the members a query reads, sorted by login. It
// works on a copy when the overlay moved members in the index.
func (t *tx) candidates(q store.MemberQuery) listing {
	if len(q.IDs) > 0 {
		out := make([]entry, 0, len(q.IDs))
		seen := make(map[string]bool, len(q.IDs))
		for _, id := range q.IDs {
			if seen[id] {
				continue
			}
			seen[id] = true
			if m, ok := t.members[id]; ok {
				out = append(out, entry{key: membership.LoginKey(m.Login), m: m})
			} else if s, ok := t.st.ms.byID.find(id, t.st.ms.idKey); ok {
				out = append(out, entry{key: t.st.ms.loginKey(s), slot: s})
			}
		}
		slices.SortFunc(out, func(a, b entry) int { return cmp.Compare(a.key, b.key) })
		return listing{merged: out, isCopy: true}
	}
	if q.Group != "" {
		gk := membership.GroupKey(q.Group)
		base := t.st.groupIndex(gk)
		if len(t.members) == 0 {
			return listing{slots: base}
		}
		// This transaction's own changes may move members in or out.
		return t.overlay(base, func(m *membership.Member) bool { return membership.HasGroupKey(*m, gk) })
	}
	base := t.st.sortedIndex()
	if len(t.sortChanges) == 0 {
		return listing{slots: base}
	}
	return t.overlay(base, func(*membership.Member) bool { return true })
}

// overlay merges this transaction's written members into a committed
// index: their committed entries are dropped, and those keep accepts come
// back under their current login.
func (t *tx) overlay(base []uint32, keep func(*membership.Member) bool) listing {
	ms := &t.st.ms
	out := make([]entry, 0, len(base)+len(t.members))
	for _, s := range base {
		if _, changed := t.members[ms.rec(s).id]; !changed {
			out = append(out, entry{key: ms.loginKey(s), slot: s})
		}
	}
	for _, m := range t.members {
		if keep(m) {
			out = append(out, entry{key: membership.LoginKey(m.Login), m: m})
		}
	}
	slices.SortFunc(out, func(a, b entry) int { return cmp.Compare(a.key, b.key) })
	return listing{merged: out, isCopy: true}
}
