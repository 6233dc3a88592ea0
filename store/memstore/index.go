package memstore

import (
	"cmp"
	"slices"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// The sorted indexes of an org's members: by login key, and per group
// key, each entry carrying its member's record, kept in step at commit and
// merged with a transaction's own writes when it reads.

// sortedEntry is one member in a sorted index: its login key, ID and
// current record (nil until the index is next rebuilt or the member next
// written; readers then look the ID up).
type sortedEntry struct {
	key, id string
	m       *membership.Member
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
// (read) or the org's writer token.
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
// needed. The caller holds st.mu (read) or the org's
// writer token.
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
