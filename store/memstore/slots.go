package memstore

import "hash/maphash"

// slotIndex finds a member's slot by a key (its ID, login key, email key
// or user ID) while holding only slots and hashes: a slot's key is read
// from its record, so the index costs a few bytes a member instead of a
// map entry and a copy of every key. Each entry keeps 32 bits of its
// key's hash, so that a lookup reads the records of matching hashes
// only, and the table grows without reading any. It is an
// open-addressing table with linear probing, at most three quarters
// full; a removal shifts back the entries that follow, so that no
// tombstone is left. Keys are unique: the caller removes a key before
// giving it to another slot.
type slotIndex struct {
	seed  maphash.Seed
	table []uint64 // hash<<32 | slot+1, 0 for an empty place; a power of two long
	n     int
}

// keyFunc returns the key of a slot's record in an index.
type keyFunc func(slot uint32) string

// hash returns the 32 bits of key's hash an entry keeps; the low ones
// are its home place.
func (x *slotIndex) hash(key string) uint64 { return maphash.String(x.seed, key) >> 32 }

func (x *slotIndex) home(e uint64) int { return int(e>>32) & (len(x.table) - 1) }

// find returns the slot under key.
func (x *slotIndex) find(key string, keyOf keyFunc) (uint32, bool) {
	if x.n == 0 {
		return 0, false
	}
	mask := len(x.table) - 1
	h := x.hash(key)
	for i := int(h) & mask; ; i = (i + 1) & mask {
		e := x.table[i]
		if e == 0 {
			return 0, false
		}
		if e>>32 == h && keyOf(uint32(e)-1) == key {
			return uint32(e) - 1, true
		}
	}
}

// insert puts slot under key, which no slot holds.
func (x *slotIndex) insert(key string, slot uint32) {
	if (x.n+1)*4 > len(x.table)*3 {
		x.grow()
	}
	x.place(x.hash(key)<<32 | uint64(slot+1))
	x.n++
}

func (x *slotIndex) place(e uint64) {
	mask := len(x.table) - 1
	i := x.home(e)
	for x.table[i] != 0 {
		i = (i + 1) & mask
	}
	x.table[i] = e
}

func (x *slotIndex) grow() {
	old := x.table
	if old == nil {
		x.seed = maphash.MakeSeed()
	}
	x.table = make([]uint64, max(8, 2*len(old)))
	for _, e := range old {
		if e != 0 {
			x.place(e)
		}
	}
}

// remove takes slot out from under key (its key while it was indexed).
func (x *slotIndex) remove(key string, slot uint32) {
	if x.n == 0 {
		return
	}
	mask := len(x.table) - 1
	want := x.hash(key)<<32 | uint64(slot+1)
	i := x.home(want)
	for x.table[i] != want {
		if x.table[i] == 0 {
			return
		}
		i = (i + 1) & mask
	}
	// Shift back each following entry that may move to the hole, that
	// is, whose home is not cyclically in (hole, its place].
	for j := (i + 1) & mask; x.table[j] != 0; j = (j + 1) & mask {
		h := x.home(x.table[j])
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			x.table[i] = x.table[j]
			i = j
		}
	}
	x.table[i] = 0
	x.n--
}
