package storetest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// editOnce renames a member through EditMembers: the read, the write of
// the member, its event and a move of the roster version.
func editOnce(ctx context.Context, ed store.MemberEditor, orgID, actorID, memberID string, change func(m *membership.Member) error) error {
	return ed.EditMembers(ctx, orgID, store.Preload{MemberIDs: []string{actorID, memberID}}, func(tx store.Tx) error {
		if _, err := tx.Member(ctx, actorID); err != nil {
			return err
		}
		m, err := tx.Member(ctx, memberID)
		if err != nil {
			return err
		}
		if err := change(&m); err != nil {
			return err
		}
		if err := tx.UpdateMembers(ctx, []membership.Member{m}); err != nil {
			return err
		}
		if err := tx.AppendEvents(ctx, []membership.Event{{ID: membership.NewID(), Type: membership.EventMemberUpdated, At: t0, SubjectID: m.ID}}); err != nil {
			return err
		}
		if rb, ok := tx.(store.RosterBumper); ok {
			return rb.BumpRoster(ctx)
		}
		org, err := tx.Org(ctx)
		if err != nil {
			return err
		}
		org.RosterVersion++
		return tx.PutOrg(ctx, org)
	})
}

// testEditMembers: an edit writes the member, its event (numbered after
// the org's last) and the roster version; a write it cannot make without
// the org's lock is refused with ErrNeedsLock or made as in an Update;
// fn's error undoes it.
func testEditMembers(t *testing.T, s store.Store) {
	ed, ok := s.(store.MemberEditor)
	if !ok {
		t.Skip("the store is not a store.MemberEditor")
	}
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	admin := member(o.ID, "Ada", "Admin")
	admin.RoleID = membership.RoleAdmin
	target := member(o.ID, "Jean", "Dupont")
	insert(t, s, o.ID, admin, target)
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error {
		return tx.AppendEvents(ctx, []membership.Event{{ID: membership.NewID(), Type: membership.EventMemberAdded, At: t0}})
	}))
	before, err := s.Org(ctx, o.ID)
	require.NoError(t, err)

	require.NoError(t, editOnce(ctx, ed, o.ID, admin.ID, target.ID, func(m *membership.Member) error {
		m.FirstName = "Jeanne"
		m.Attributes = membership.Attributes{"team": "Lyon"}
		return nil
	}))
	got, err := get(t, s, o.ID, target.ID)
	require.NoError(t, err)
	assert.Equal(t, "Jeanne", got.FirstName)
	assert.Equal(t, membership.Attributes{"team": "Lyon"}, got.Attributes)
	assert.Equal(t, int64(2), got.Version)
	after, err := s.Org(ctx, o.ID)
	require.NoError(t, err)
	assert.Equal(t, before.RosterVersion+1, after.RosterVersion)
	found := all(t, s, o.ID, store.MemberQuery{MemberFilter: store.MemberFilter{Text: "jeanne", Attributes: membership.Attributes{"team": "Lyon"}}})
	require.Len(t, found, 1, "search text and attribute rows follow the edit")
	if f, ok := s.(store.Feed); ok {
		evs, err := f.EventsAfter(ctx, o.ID, 0, 10)
		require.NoError(t, err)
		require.Len(t, evs, 2)
		assert.Equal(t, []int64{1, 2}, []int64{evs[0].Seq, evs[1].Seq}, "the edit's event follows the org's last")
	}

	// A write an edit cannot make without the lock.
	err = ed.EditMembers(ctx, o.ID, store.Preload{MemberIDs: []string{target.ID}}, func(tx store.Tx) error {
		m, err := tx.Member(ctx, target.ID)
		if err != nil {
			return err
		}
		m.Status = membership.StatusDeactivated
		return tx.UpdateMembers(ctx, []membership.Member{m})
	})
	if err != nil {
		require.ErrorIs(t, err, store.ErrNeedsLock)
		got, _ = get(t, s, o.ID, target.ID)
		assert.Equal(t, membership.StatusActive, got.Status, "a refused edit writes nothing")
	}

	boom := errFn("boom")
	err = editOnce(ctx, ed, o.ID, admin.ID, target.ID, func(m *membership.Member) error {
		m.FirstName = "Nope"
		return nil
	})
	require.NoError(t, err)
	err = ed.EditMembers(ctx, o.ID, store.Preload{MemberIDs: []string{target.ID}}, func(tx store.Tx) error {
		m, _ := tx.Member(ctx, target.ID)
		m.LastName = "Undone"
		if err := tx.UpdateMembers(ctx, []membership.Member{m}); err != nil && !errors.Is(err, store.ErrNeedsLock) {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, _ = get(t, s, o.ID, target.ID)
	assert.Equal(t, "Dupont", got.LastName, "fn's error undoes the edit")
}

// testEditMembersConcurrent: edits of one member race with each other
// and with Updates of the same member and of the actor; none is lost,
// each moves the version once, and the events are numbered without a
// gap.
func testEditMembersConcurrent(t *testing.T, s store.Store) {
	ed, ok := s.(store.MemberEditor)
	if !ok {
		t.Skip("the store is not a store.MemberEditor")
	}
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	admin := member(o.ID, "Ada", "Admin")
	admin.RoleID = membership.RoleAdmin
	m := member(o.ID, "Counter", "0")
	insert(t, s, o.ID, admin, m)
	const edits, updates = 30, 10
	var wg sync.WaitGroup
	errs := make(chan error, edits+updates)
	for i := range edits + updates {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%4 == 3 && i/4 < updates {
				// An Update of the actor and of the member: an edit that
				// read either before must not write over it.
				errs <- s.Update(ctx, o.ID, func(tx store.Tx) error {
					for _, id := range []string{admin.ID, m.ID} {
						cur, err := tx.Member(ctx, id)
						if err != nil {
							return err
						}
						cur.FirstName += "+"
						if err := tx.UpdateMembers(ctx, []membership.Member{cur}); err != nil {
							return err
						}
					}
					return nil
				})
				return
			}
			err := editOnce(ctx, ed, o.ID, admin.ID, m.ID, func(cur *membership.Member) error {
				v, err := strconv.Atoi(cur.LastName)
				if err != nil {
					return err
				}
				cur.LastName = strconv.Itoa(v + 1)
				// Attribute rows too: edits of one member rewrite them
				// one after the other.
				cur.Attributes = membership.Attributes{"n": cur.LastName, "team": "t" + strconv.Itoa(i%3)}
				return nil
			})
			if errors.Is(err, store.ErrNeedsLock) {
				err = nil // the caller would run it in an Update; not counted
				errs <- errSkipped
				return
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	done, skipped, upd := 0, 0, 0
	for err := range errs {
		switch {
		case errors.Is(err, errSkipped):
			skipped++
		case err != nil:
			t.Fatal(err)
		default:
			done++
		}
	}
	got, err := get(t, s, o.ID, m.ID)
	require.NoError(t, err)
	for _, c := range got.FirstName {
		if c == '+' {
			upd++
		}
	}
	assert.Equal(t, strconv.Itoa(done-upd), got.LastName, "no edit is lost")
	if done > upd {
		assert.Equal(t, got.LastName, got.Attributes["n"], "the attributes are the last edit's")
		found := all(t, s, o.ID, store.MemberQuery{MemberFilter: store.MemberFilter{Attributes: membership.Attributes{"n": got.LastName}}})
		assert.Len(t, found, 1, "the attribute rows are the last edit's")
	}
	assert.Equal(t, int64(1+done), got.Version, "each write moves the version once")
	assert.Equal(t, edits, done-upd+skipped)
	assert.Positive(t, done-upd, "the first of racing edits wins")
	if f, ok := s.(store.Feed); ok {
		evs, err := f.EventsAfter(ctx, o.ID, 0, 1000)
		require.NoError(t, err)
		require.Len(t, evs, done-upd)
		for i, e := range evs {
			require.Equal(t, int64(i+1), e.Seq, "events numbered without a gap")
		}
	}
}

var errSkipped = errors.New("storetest: skipped")
