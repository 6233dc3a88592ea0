package memstore

import (
	"encoding/binary"
	"slices"
	"time"

	"github.com/memberkit/memberkit/membership"
)

// An org's committed members, kept small: at a million members every
// byte of a member is a megabyte. A member is a record in chunks of
// records, found by its slot (its position, which never changes:
// members are never deleted). Records hold the caller's strings as they
// are, their times as microseconds, their role, status and
// must-change-password flag as one index in the org's profiles, and
// their groups as one index in the org's group sets, which are shared by
// every member carrying the same groups. The
// indexes by ID, login, email and user ID hold slots only and read their
// keys from the records (index.go, slots.go).

// chunkLen is how many records a chunk holds. Only the last chunk
// grows, so an org of three members keeps three records, and a big org
// wastes at most one chunk's spare room and never copies its records
// when it grows.
const chunkLen = 1024

// record is one committed member, without its org ID (the org's own).
type record struct {
	id, login, email, first, last, stamp string
	hash                                 membership.PasswordHash
	more                                 *extra // nil when the member has neither
	created, updated, lastLogin          int64  // see micros
	version                              int64
	groups                               uint32 // index in the org's group sets; 0 for nil
	profile                              uint32 // index in the org's profiles
}

// profile is what many members have alike.
type profile struct {
	role       string
	status     membership.Status
	mustChange bool
}

// extra holds what few members have.
type extra struct {
	userID string
	attrs  membership.Attributes
}

// zeroMicros is the zero time (January 1 of year 1) in microseconds
// since the Unix epoch.
const zeroMicros = -62135596800 * 1_000_000

// micros encodes a time the store keeps (UTC, microsecond precision:
// store.Time); fromMicros decodes it to an equal time, the zero time
// included.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time {
	if us == zeroMicros {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// members is an org's committed members and their indexes.
type members struct {
	chunks [][]record
	n      int
	byID   slotIndex
	login  slotIndex // by membership.LoginKey
	email  slotIndex // by membership.EmailKey; members without email are not in it
	user   slotIndex // by user ID; members without one are not in it

	profiles   []profile
	profileIdx map[profile]uint32 // profile → its index in profiles
	sets       groupSets
}

func newMembers() members {
	return members{profileIdx: make(map[profile]uint32)}
}

// rec returns the record in a slot.
func (ms *members) rec(slot uint32) *record {
	return &ms.chunks[slot/chunkLen][slot%chunkLen]
}

// member returns the member of a record. Its Groups and Attributes are
// the store's own: the caller must not modify them, and clones them
// before they leave the store.
func (ms *members) member(r *record, orgID string) membership.Member {
	p := &ms.profiles[r.profile]
	m := membership.Member{
		ID: r.id, OrgID: orgID, Login: r.login, Email: r.email, FirstName: r.first, LastName: r.last,
		RoleID: p.role, Status: p.status, Groups: ms.sets.list[r.groups],
		LastLoginAt: fromMicros(r.lastLogin), PasswordHash: r.hash, MustChangePassword: p.mustChange, SecurityStamp: r.stamp,
		CreatedAt: fromMicros(r.created), UpdatedAt: fromMicros(r.updated), Version: r.version,
	}
	if r.more != nil {
		m.UserID, m.Attributes = r.more.userID, r.more.attrs
	}
	return m
}

// userID returns a record's user ID.
func (r *record) userID() string {
	if r.more == nil {
		return ""
	}
	return r.more.userID
}

// profileOf returns the index of an interned profile. Profiles are few
// (roles × statuses × 2) and kept for the org's life.
func (ms *members) profileOf(p profile) uint32 {
	if i, ok := ms.profileIdx[p]; ok {
		return i
	}
	i := uint32(len(ms.profiles))
	ms.profiles = append(ms.profiles, p)
	ms.profileIdx[p] = i
	return i
}

// write stores m (already cloned and normalised) in slot r, releasing
// the group set the record held.
func (ms *members) write(r *record, m *membership.Member, fresh bool) {
	if !fresh {
		ms.sets.release(r.groups)
	}
	*r = record{
		id: m.ID, login: m.Login, email: m.Email, first: m.FirstName, last: m.LastName, stamp: m.SecurityStamp,
		hash: m.PasswordHash, created: micros(m.CreatedAt), updated: micros(m.UpdatedAt), lastLogin: micros(m.LastLoginAt),
		version: m.Version, groups: ms.sets.intern(m.Groups),
		profile: ms.profileOf(profile{role: m.RoleID, status: m.Status, mustChange: m.MustChangePassword}),
	}
	if m.UserID != "" || len(m.Attributes) > 0 {
		r.more = &extra{userID: m.UserID, attrs: m.Attributes}
	}
}

// add stores a new member in the next slot and returns the slot.
func (ms *members) add(m *membership.Member) uint32 {
	slot := uint32(ms.n)
	if ms.n%chunkLen == 0 {
		ms.chunks = append(ms.chunks, nil)
	}
	last := &ms.chunks[len(ms.chunks)-1]
	if n := len(*last); n == cap(*last) { // grown by hand, to end at chunkLen exactly
		*last = append(make([]record, 0, min(max(2*n, 4), chunkLen)), *last...)
	}
	*last = (*last)[:len(*last)+1]
	ms.n++
	ms.write(&(*last)[len(*last)-1], m, true)
	return slot
}

// groupSets interns members' group lists: every member carrying the
// same list (in the same order) shares one. A list no member carries any
// more is dropped and its index reused.
type groupSets struct {
	list  [][]string        // by index; list[0] is nil, for members without groups
	refs  []int             // members carrying each list
	idx   map[string]uint32 // setKey → index
	freed []uint32
}

// setKey encodes a list of groups, an empty list apart from none.
func setKey(gs []string) string {
	b := make([]byte, 0, 16*len(gs)+1)
	b = append(b, 'g')
	for _, g := range gs {
		b = binary.AppendUvarint(b, uint64(len(g)))
		b = append(b, g...)
	}
	return string(b)
}

// intern returns the index of gs, counting one more member carrying it.
func (s *groupSets) intern(gs []string) uint32 {
	if len(s.list) == 0 {
		s.list, s.refs, s.idx = [][]string{nil}, []int{0}, make(map[string]uint32)
	}
	if gs == nil {
		return 0
	}
	k := setKey(gs)
	i, ok := s.idx[k]
	if !ok {
		own := slices.Clip(slices.Clone(gs))
		if n := len(s.freed); n > 0 {
			i, s.freed = s.freed[n-1], s.freed[:n-1]
			s.list[i], s.refs[i] = own, 0
		} else {
			i = uint32(len(s.list))
			s.list, s.refs = append(s.list, own), append(s.refs, 0)
		}
		s.idx[k] = i
	}
	s.refs[i]++
	return i
}

// release counts one member fewer carrying list i.
func (s *groupSets) release(i uint32) {
	if i == 0 {
		return
	}
	if s.refs[i]--; s.refs[i] == 0 {
		delete(s.idx, setKey(s.list[i]))
		s.list[i] = nil
		s.freed = append(s.freed, i)
	}
}
