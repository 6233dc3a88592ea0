package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// roster inserts n members with a spread of statuses, roles and groups.
func roster(t *testing.T, s store.Store, orgID string, n int) []membership.Member {
	t.Helper()
	ms := make([]membership.Member, n)
	groups := []string{"Paris", "Lyon", "Équipe Nord"}
	for i := range ms {
		m := member(orgID, fmt.Sprintf("Prénom%d", i%37), fmt.Sprintf("Nom%05d", i))
		m.Email = fmt.Sprintf("user%05d@example.com", i)
		switch i % 10 {
		case 0:
			m.RoleID = membership.RoleAdmin
		case 1, 2:
			m.RoleID = "support"
		}
		switch i % 7 {
		case 0:
			m.Status = membership.StatusDeactivated
		case 1:
			m.Status = membership.StatusRemoved
		}
		m.Groups = []string{groups[i%3]}
		if i%4 == 0 {
			m.Groups = append(m.Groups, "Cadres")
		}
		ms[i] = m
	}
	for i := 0; i < n; i += 1000 {
		insert(t, s, orgID, ms[i:min(i+1000, n)]...)
	}
	return ms
}

func count(ms []membership.Member, f store.MemberFilter) int {
	n := 0
	for _, m := range ms {
		if f.Matches(m) {
			n++
		}
	}
	return n
}

func testFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	ms := roster(t, s, o.ID, 500)
	filters := []store.MemberFilter{
		{},
		{Statuses: []membership.Status{membership.StatusActive}},
		{Statuses: []membership.Status{membership.StatusActive, membership.StatusDeactivated}},
		{RoleID: membership.RoleAdmin},
		{Group: "lyon"},
		{Group: "ÉQUIPE NORD"},
		{Group: "Cadres", Statuses: []membership.Status{membership.StatusActive}, RoleID: "support"},
		{Text: "nom0001"},
		{Text: "USER0004"},
		{IDs: []string{ms[3].ID, ms[10].ID, ms[499].ID, membership.NewID()}},
		{Group: "nowhere"},
	}
	for _, f := range filters {
		want := count(ms, f)
		got := all(t, s, o.ID, store.MemberQuery{MemberFilter: f})
		assert.Len(t, got, want, "filter %+v", f)
		for _, m := range got {
			assert.True(t, f.Matches(m), "member %s does not match %+v", m.Login, f)
		}
		require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
			n, err := store.CountMembers(ctx, tx, f)
			require.NoError(t, err)
			assert.Equal(t, want, n, "CountMembers %+v", f)
			return nil
		}))
	}
	assert.Greater(t, count(ms, store.MemberFilter{Group: "Cadres", Statuses: []membership.Status{membership.StatusActive}, RoleID: "support"}), 0)
}

func testTextSearch(t *testing.T, s store.Store) {
	o := newOrg(t, s, "Acme")
	z := member(o.ID, "Zoé", "Lefèvre-Dubois")
	z.Email = "zoe@example.com"
	insert(t, s, o.ID, z, member(o.ID, "Jean", "Dupont"), member(o.ID, "Søren", "Straße"))
	for q, want := range map[string]int{"zoe": 1, "LEFEVRE": 1, "Lefèvre": 1, "dupont": 1, "strasse": 1, "soren": 1, "e": 3, "example.com": 1, "xyz": 0} {
		got := all(t, s, o.ID, store.MemberQuery{MemberFilter: store.MemberFilter{Text: q}})
		assert.Len(t, got, want, "text %q", q)
	}
}

func testPagination(t *testing.T, s store.Store) {
	o := newOrg(t, s, "Acme")
	ms := roster(t, s, o.ID, 3000)
	for _, f := range []store.MemberFilter{{}, {Group: "Paris"}, {Statuses: []membership.Status{membership.StatusActive}}} {
		want := make([]string, 0)
		for _, m := range ms {
			if f.Matches(m) {
				want = append(want, m.Login)
			}
		}
		sort.Strings(want)
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 1000, "pagination does not end")
			page := all(t, s, o.ID, store.MemberQuery{MemberFilter: f, After: after, Limit: 97})
			if len(page) == 0 {
				break
			}
			require.LessOrEqual(t, len(page), 97)
			got = append(got, logins(page)...)
			after = page[len(page)-1].Login
		}
		assert.Equal(t, want, got, "pages of %+v are complete, ordered, without duplicates", f)
		assert.Equal(t, want, logins(all(t, s, o.ID, store.MemberQuery{MemberFilter: f})), "one stream equals the pages")
	}
}

// testPaginationConcurrent walks pages while other members are added and
// deactivated: every member present for the whole walk appears exactly
// once, in order.
func testPaginationConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	ms := roster(t, s, o.ID, 2000)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			err := s.Update(ctx, o.ID, func(tx store.Tx) error {
				nm := member(o.ID, "Nouveau", fmt.Sprintf("N%05d", i))
				if err := tx.InsertMembers(ctx, []membership.Member{nm}); err != nil {
					return err
				}
				cur, err := tx.Member(ctx, ms[(i*7)%len(ms)].ID)
				if err != nil {
					return err
				}
				cur.Status = membership.StatusDeactivated
				return tx.UpdateMembers(ctx, []membership.Member{cur})
			})
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	seen := map[string]int{}
	var order []string
	after := ""
	for {
		page := all(t, s, o.ID, store.MemberQuery{After: after, Limit: 50})
		if len(page) == 0 {
			break
		}
		for _, m := range page {
			seen[m.ID]++
			order = append(order, m.Login)
		}
		after = page[len(page)-1].Login
	}
	close(stop)
	wg.Wait()
	for _, m := range ms {
		assert.Equal(t, 1, seen[m.ID], "member %s seen once", m.Login)
	}
	assert.True(t, slices.IsSorted(order), "pages keep login order")
	for id, n := range seen {
		assert.Equal(t, 1, n, "no member twice: %s", id)
	}
}

func testStreaming(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	roster(t, s, o.ID, 2500)
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error {
		n := 0
		for m, err := range tx.Members(ctx, store.MemberQuery{}) {
			require.NoError(t, err)
			n++
			// Calls on the same Tx while the stream is open.
			if n%500 == 0 {
				got, err := tx.Member(ctx, m.ID)
				require.NoError(t, err)
				got.Groups = append(got.Groups, "Touched")
				require.NoError(t, tx.UpdateMembers(ctx, []membership.Member{got}))
			}
			if n == 2100 {
				break
			}
		}
		assert.Equal(t, 2100, n, "breaking out of the stream stops it")
		return nil
	}))
	assert.Len(t, all(t, s, o.ID, store.MemberQuery{MemberFilter: store.MemberFilter{Group: "touched"}}), 4)
	assert.Len(t, all(t, s, o.ID, store.MemberQuery{Limit: 10}), 10)
}

func testCounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	ms := roster(t, s, o.ID, 140)
	wantActive, wantAdmins := 0, 0
	for _, m := range ms {
		if m.Status == membership.StatusActive {
			wantActive++
			if m.RoleID == membership.RoleAdmin {
				wantAdmins++
			}
		}
	}
	open := invitation(o.ID, "open@example.com")
	expired := invitation(o.ID, "old@example.com")
	expired.ExpiresAt = t0.Add(-1)
	canceled := invitation(o.ID, "gone@example.com")
	canceled.State = membership.InvitationCanceled
	accepted := invitation(o.ID, "in@example.com")
	accepted.State = membership.InvitationAccepted
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error {
		for _, inv := range []membership.Invitation{open, expired, canceled, accepted} {
			if err := tx.InsertInvitation(ctx, inv); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		c, err := counts(ctx, tx, t0)
		require.NoError(t, err)
		assert.Equal(t, membership.Counts{ActiveMembers: wantActive, ActiveAdmins: wantAdmins, PendingInvitations: 1}, c)
		c, err = counts(ctx, tx, open.ExpiresAt)
		require.NoError(t, err)
		assert.Equal(t, 0, c.PendingInvitations, "an invitation stops counting at its expiry")
		return nil
	}))
}

// testOrgCounters checks that the org keeps the counters and the roster
// version the services write with it: a store stores them as given, and a
// rolled-back transaction leaves them as they were.
func testOrgCounters(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	read := func() membership.Org {
		t.Helper()
		var got membership.Org
		require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
			var err error
			got, err = tx.Org(ctx)
			return err
		}))
		return got
	}
	assert.Zero(t, read().ActiveMembers)
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error {
		org, err := tx.Org(ctx)
		if err != nil {
			return err
		}
		org.ActiveMembers, org.ActiveAdmins, org.RosterVersion = 42, 2, 7
		if err := tx.PutOrg(ctx, org); err != nil {
			return err
		}
		again, err := tx.Org(ctx)
		require.NoError(t, err)
		assert.Equal(t, 42, again.ActiveMembers, "a transaction reads its own write")
		return nil
	}))
	got := read()
	assert.Equal(t, 42, got.ActiveMembers)
	assert.Equal(t, 2, got.ActiveAdmins)
	assert.Equal(t, int64(7), got.RosterVersion)
	boom := errors.New("boom")
	err := s.Update(ctx, o.ID, func(tx store.Tx) error {
		org, err := tx.Org(ctx)
		if err != nil {
			return err
		}
		org.ActiveMembers, org.ActiveAdmins = 0, 0
		if err := tx.PutOrg(ctx, org); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.Equal(t, 42, read().ActiveMembers, "rolled back")

	// A store with only the required methods computes the same counts as
	// one with its fast paths.
	ms := roster(t, s, o.ID, 60)
	want := 0
	for _, m := range ms {
		if m.Status == membership.StatusActive {
			want++
		}
	}
	for _, st := range []store.Store{s, plainStore{s}} {
		require.NoError(t, st.View(ctx, o.ID, func(tx store.Tx) error {
			c, err := counts(ctx, tx, t0)
			require.NoError(t, err)
			assert.Equal(t, want, c.ActiveMembers)
			return nil
		}))
	}
}

// testGroupFilterFollowsChanges checks the group filter after members
// join and leave groups, change login, and after a large batch, inside the
// writing transaction and after it: a store that indexes groups must keep
// its index in step.
func testGroupFilterFollowsChanges(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	var ms []membership.Member
	for i := range 600 { // enough for the last batch to pass 256 changes
		m := member(o.ID, "Prénom", fmt.Sprintf("Nom%03d", i))
		m.Groups = []string{[]string{"Lyon", "Paris"}[i%2]}
		ms = append(ms, m)
	}
	ms = insert(t, s, o.ID, ms...)
	group := func(tx store.Tx, g string) []string {
		var out []string
		for m, err := range tx.Members(ctx, store.MemberQuery{MemberFilter: store.MemberFilter{Group: g}}) {
			require.NoError(t, err)
			out = append(out, m.Login)
		}
		return out
	}
	var lyon []string
	for i := 0; i < 600; i += 2 {
		lyon = append(lyon, ms[i].Login)
	}
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		assert.Equal(t, lyon, group(tx, "lyon"))
		return nil
	}))

	// A few changes: ms[0] leaves Lyon for Paris, ms[1] joins Lyon too,
	// ms[2] is renamed to sort last.
	a, b, c := ms[0], ms[1], ms[2]
	a.Groups, b.Groups, c.Login = []string{"Paris"}, []string{"Paris", "LYON"}, "zz.last"
	wantLyon := append([]string{b.Login}, lyon[2:]...)
	wantLyon = append(wantLyon, "zz.last")
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error {
		require.NoError(t, tx.UpdateMembers(ctx, []membership.Member{a, b, c}))
		assert.Equal(t, wantLyon, group(tx, "Lyon"), "the transaction sees its own changes")
		return nil
	}))
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		assert.Equal(t, wantLyon, group(tx, "Lyon"))
		assert.Len(t, group(tx, "Paris"), 301)
		return nil
	}))

	// A status change alone (no login or group moved) shows in filtered
	// and unfiltered listings, in the writing transaction and after it.
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error {
		m, err := tx.Member(ctx, ms[4].ID)
		require.NoError(t, err)
		m.Status = membership.StatusDeactivated
		require.NoError(t, tx.UpdateMembers(ctx, []membership.Member{m}))
		n, err := store.CountMembers(ctx, tx, store.MemberFilter{Group: "Lyon", Statuses: []membership.Status{membership.StatusDeactivated}})
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		return nil
	}))
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		for _, f := range []store.MemberFilter{{Group: "Lyon"}, {}} {
			f.Statuses = []membership.Status{membership.StatusDeactivated}
			var got []string
			for m, err := range tx.Members(ctx, store.MemberQuery{MemberFilter: f}) {
				require.NoError(t, err)
				got = append(got, m.ID)
			}
			assert.Equal(t, []string{ms[4].ID}, got, "filter %+v", f)
		}
		return nil
	}))

	// A large batch: every Paris member moves to Lyon.
	var all []membership.Member
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		for m, err := range tx.Members(ctx, store.MemberQuery{}) {
			require.NoError(t, err)
			all = append(all, m)
		}
		return nil
	}))
	var moved []membership.Member
	for _, m := range all {
		if slices.Contains(m.Groups, "Paris") {
			m.Groups = []string{"Lyon"}
			moved = append(moved, m)
		}
	}
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.UpdateMembers(ctx, moved) }))
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		assert.Len(t, group(tx, "Lyon"), 600)
		assert.Empty(t, group(tx, "Paris"))
		return nil
	}))
}

// testGroupLabels: the org's group labels, each once whatever its case, sorted by key, none of another org's, following changes.
func testGroupLabels(t *testing.T, s store.Store) {
	ctx := context.Background()
	o, other := newOrg(t, s, "Acme"), newOrg(t, s, "Globex")
	a := member(o.ID, "Ana", "Alpha")
	a.Groups = []string{"Lyon", "Équipe Nord"}
	b := member(o.ID, "Bob", "Beta")
	b.Groups = []string{"LYON", "ÉQUIPE NORD", "Paris"}
	c := member(o.ID, "Cy", "Gamma")
	ms := insert(t, s, o.ID, a, b, c)
	x := member(other.ID, "Xo", "Other")
	x.Groups = []string{"Marseille"}
	insert(t, s, other.ID, x)
	labels := func() []string {
		var out []string
		require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
			var err error
			out, err = store.GroupLabels(ctx, tx)
			return err
		}))
		return out
	}
	got := labels()
	require.Len(t, got, 3, "%q", got)
	assert.Equal(t, membership.GroupKey("Équipe Nord"), membership.GroupKey(got[0]))
	assert.Equal(t, "lyon", membership.GroupKey(got[1]))
	assert.Equal(t, "Paris", got[2])

	b = ms[1]
	b.Groups = []string{"Lyon"}
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.UpdateMembers(ctx, []membership.Member{b}) }))
	assert.Len(t, labels(), 2, "Paris left with its last member")
}
