package memstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// A slot index agrees with a map through inserts and removals that
// collide and wrap around its table.
func TestSlotIndexAgreesWithMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	keys := make([]string, 5000) // slot → key ("" when not indexed)
	keyOf := func(s uint32) string { return keys[s] }
	var x slotIndex
	want := map[string]uint32{}
	for range 200_000 {
		s := uint32(r.IntN(len(keys)))
		if keys[s] != "" {
			x.remove(keys[s], s)
			delete(want, keys[s])
			keys[s] = ""
			continue
		}
		k := fmt.Sprint(r.IntN(20000))
		if _, taken := want[k]; taken {
			continue
		}
		keys[s] = k
		want[k] = s
		x.insert(k, s)
	}
	if x.n != len(want) {
		t.Fatalf("%d entries, want %d", x.n, len(want))
	}
	for k := range 20000 {
		got, ok := x.find(fmt.Sprint(k), keyOf)
		w, wok := want[fmt.Sprint(k)]
		if ok != wok || got != w {
			t.Fatalf("key %d: slot %d %v, want %d %v", k, got, ok, w, wok)
		}
	}
}

// Times come back equal to the normalised times that went in.
func TestMicrosRoundTrip(t *testing.T) {
	for _, tm := range []time.Time{{}, time.Unix(0, 0), time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Now(), time.Date(9999, 12, 31, 0, 0, 0, 0, time.FixedZone("x", 3600)), time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC)} {
		want := store.Time(tm)
		if got := fromMicros(micros(want)); got != want {
			t.Errorf("%v came back as %v", want, got)
		}
	}
}

// Group lists are shared while members carry them, none and empty kept
// apart, and dropped when no member does.
func TestGroupSets(t *testing.T) {
	var s groupSets
	a, b := s.intern([]string{"x", "y"}), s.intern([]string{"x", "y"})
	if a != b || s.intern(nil) != 0 || s.list[s.intern([]string{})] == nil {
		t.Fatal("lists not shared, or none and empty confused")
	}
	if s.intern([]string{"xy"}) == s.intern([]string{"x", "y"}) {
		t.Fatal("distinct lists share an index")
	}
	for range 3 {
		s.release(a)
	}
	if _, ok := s.idx[setKey([]string{"x", "y"})]; ok || s.list[a] != nil {
		t.Fatal("a list no member carries is kept")
	}
}

// model is what a randomized run expects of the store.
type model map[string]membership.Member

// A randomized run of batches that insert, rename, swap logins, emails
// and user IDs, regroup and fail, small ones (indexes moved in place) and
// big ones (indexes dropped and rebuilt), after each of which every
// lookup, listing and group listing agrees with a model.
func TestRandomizedMembersAgreeWithModel(t *testing.T) {
	ctx := context.Background()
	s := New()
	org := membership.Org{ID: "o", Name: "O"}
	if err := s.CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	groups := []string{"Paris", "lyon", "R&D", "Ventes"}
	m := model{}
	ids := []string{}
	next, dropped := 0, 0
	newMember := func() membership.Member {
		next++
		mb := membership.Member{ID: fmt.Sprintf("id-%05d", next), OrgID: "o", Login: fmt.Sprintf("login.%d", next),
			FirstName: "A", LastName: "B", RoleID: membership.RoleUser, Status: membership.StatusActive}
		if next%3 != 0 {
			mb.Email = fmt.Sprintf("Mail.%d@Example.com", next)
		}
		if next%4 == 0 {
			mb.UserID = fmt.Sprintf("user-%d", next)
		}
		return mb
	}
	for round := range 60 {
		size := 1 + r.IntN(12)
		if round%10 == 0 {
			size = 600 + r.IntN(200)
		}
		var ins []membership.Member
		for range size / 3 {
			ins = append(ins, newMember())
		}
		// Updates: a rotation of logins, emails and user IDs among some
		// members, plus new groups and statuses.
		pick := slices.Clone(ids)
		r.Shuffle(len(pick), func(i, j int) { pick[i], pick[j] = pick[j], pick[i] })
		pick = pick[:min(len(pick), size)]
		ups := make([]membership.Member, len(pick))
		for i, id := range pick {
			ups[i] = m[id].Clone()
		}
		field := r.IntN(4)
		for i := range ups {
			src := m[pick[(i+1)%len(pick)]]
			switch field {
			case 0:
				ups[i].Login = strings.ToUpper(src.Login)
			case 1:
				ups[i].Email = src.Email
			case 2:
				ups[i].UserID = src.UserID
			case 3:
				ups[i].Login = fmt.Sprintf("renamed.%d.%d", round, i)
			}
			ups[i].Groups = nil
			for _, g := range groups {
				if r.IntN(3) == 0 {
					ups[i].Groups = append(ups[i].Groups, g)
				}
			}
			if r.IntN(5) == 0 {
				ups[i].Attributes = membership.Attributes{"site": fmt.Sprint(round)}
			}
			ups[i].Status = []membership.Status{membership.StatusActive, membership.StatusDeactivated}[r.IntN(2)]
		}
		fail := round%7 == 3
		err := s.Update(ctx, "o", func(tx store.Tx) error {
			if err := tx.InsertMembers(ctx, ins); err != nil {
				return err
			}
			if err := tx.UpdateMembers(ctx, ups); err != nil {
				return err
			}
			if fail {
				return errors.New("fail")
			}
			return nil
		})
		if fail {
			// A failed batch leaves nothing.
		} else if err != nil {
			t.Fatalf("round %d: %v", round, err)
		} else {
			for _, mb := range ins {
				mb.Version = 1
				m[mb.ID] = mb
				ids = append(ids, mb.ID)
			}
			for _, mb := range ups {
				mb.Version++
				m[mb.ID] = mb
			}
		}
		if s.orgs["o"].sorted == nil && s.orgs["o"].groups == nil {
			dropped++
		}
		m.check(t, s, round)
	}
	if dropped < 3 {
		t.Errorf("the indexes were dropped %d times, want a few big batches to drop them", dropped)
	}
}

func (m model) check(t *testing.T, s *Store, round int) {
	t.Helper()
	ctx := context.Background()
	err := s.View(ctx, "o", func(tx store.Tx) error {
		var all []membership.Member
		for _, mb := range m {
			all = append(all, mb)
			got, err := tx.Member(ctx, mb.ID)
			if err != nil || got.Login != mb.Login || got.Email != mb.Email || got.UserID != mb.UserID ||
				!slices.Equal(got.Groups, mb.Groups) || !got.Attributes.Equal(mb.Attributes) || got.Status != mb.Status || got.Version != mb.Version {
				t.Fatalf("round %d: member %s is %+v (%v), want %+v", round, mb.ID, got, err, mb)
			}
			if got, err := tx.MemberByLogin(ctx, strings.ToUpper(mb.Login)); err != nil || got.ID != mb.ID {
				t.Fatalf("round %d: login %s finds %s (%v), want %s", round, mb.Login, got.ID, err, mb.ID)
			}
			if mb.Email != "" {
				if got, err := tx.MemberByEmail(ctx, strings.ToLower(mb.Email)); err != nil || got.ID != mb.ID {
					t.Fatalf("round %d: email %s finds %s (%v), want %s", round, mb.Email, got.ID, err, mb.ID)
				}
			}
			if mb.UserID != "" {
				if got, err := tx.MemberByUserID(ctx, mb.UserID); err != nil || got.ID != mb.ID {
					t.Fatalf("round %d: user %s finds %s (%v), want %s", round, mb.UserID, got.ID, err, mb.ID)
				}
			}
		}
		slices.SortFunc(all, func(a, b membership.Member) int {
			return strings.Compare(membership.LoginKey(a.Login), membership.LoginKey(b.Login))
		})
		for _, g := range []string{"", "PARIS", "lyon", "r&d"} {
			var want []string
			for _, mb := range all {
				if g == "" || membership.HasGroupKey(mb, membership.GroupKey(g)) {
					want = append(want, mb.ID)
				}
			}
			got, err := store.Collect(tx.Members(ctx, store.MemberQuery{MemberFilter: store.MemberFilter{Group: g}}))
			if err != nil {
				return err
			}
			gotIDs := make([]string, len(got))
			for i, mb := range got {
				gotIDs[i] = mb.ID
			}
			if !slices.Equal(gotIDs, want) {
				t.Fatalf("round %d: group %q lists %d members, want %d", round, g, len(gotIDs), len(want))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Events kept once serve both orders: by ID, however they came (across
// and within batches, equal IDs in commit order), and by Seq.
func TestEventsByIDAndBySeq(t *testing.T) {
	ctx := context.Background()
	s := New()
	if err := s.CreateOrg(ctx, membership.Org{ID: "o", Name: "O"}); err != nil {
		t.Fatal(err)
	}
	batches := [][]string{{"c", "b"}, {"d"}, {"e", "a"}, {"c"}, {"f"}}
	for i, ids := range batches {
		err := s.Update(ctx, "o", func(tx store.Tx) error {
			evs := make([]membership.Event, len(ids))
			for j, id := range ids {
				evs[j] = membership.Event{ID: id, Type: membership.EventMemberAdded, Detail: fmt.Sprint(i)}
			}
			return tx.AppendEvents(ctx, evs)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var byID []string
	err := s.View(ctx, "o", func(tx store.Tx) error {
		for e, err := range tx.Events(ctx, store.EventQuery{After: "a"}) {
			if err != nil {
				return err
			}
			byID = append(byID, e.ID+e.Detail)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"b0", "c0", "c3", "d1", "e2", "f4"}; !slices.Equal(byID, want) {
		t.Errorf("by ID after a: %v, want %v", byID, want)
	}
	log, err := s.EventsAfter(ctx, "o", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var bySeq []string
	for _, e := range log {
		bySeq = append(bySeq, fmt.Sprint(e.ID, e.Seq))
	}
	if want := []string{"c1", "b2", "d3", "e4", "a5", "c6", "f7"}; !slices.Equal(bySeq, want) {
		t.Errorf("by Seq: %v, want %v", bySeq, want)
	}
}
