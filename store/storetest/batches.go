package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// largeBatch is more members than a SQL store writes in one statement
// (500 on MySQL, 1,000 on PostgreSQL), and not a multiple of either, so
// that full batches and a short last one are all written.
const largeBatch = 1203

// testLargeBatches writes one large UpdateMembers and one large
// PatchMembers and reads every member back; then a batch with one stale
// member in its last part fails whole, and nothing of it stays.
func testLargeBatches(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	other := newOrg(t, s, "Other")
	ms := make([]membership.Member, largeBatch)
	twins := make([]membership.Member, largeBatch) // the same IDs in another org, which no write may touch
	for i := range ms {
		ms[i] = member(o.ID, "Prénom", fmt.Sprintf("Nom%04d", i))
		ms[i].Email = fmt.Sprintf("p%04d@example.com", i)
		ms[i].PasswordHash, ms[i].MustChangePassword = "$argon2id$old", i%2 == 0
		twins[i] = ms[i]
		twins[i].OrgID = other.ID
	}
	insert(t, s, other.ID, twins...)
	ms = insert(t, s, o.ID, ms...)
	later := t0.Add(time.Hour)

	// Whole members: status, names, groups and attributes change.
	up := make([]membership.Member, len(ms))
	for i, m := range ms {
		m.FirstName = fmt.Sprintf("Élise%d", i)
		m.UpdatedAt = later
		if i%3 == 0 {
			m.Status = membership.StatusDeactivated
		}
		if i%5 == 0 {
			m.Groups = []string{"Lyon"}
			m.Attributes = map[string]string{"site": fmt.Sprint(i)}
		}
		up[i] = m
	}
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.UpdateMembers(ctx, up) }))
	for i := range up {
		up[i].Version = 2
	}
	checkAll := func(want []membership.Member, what string) {
		t.Helper()
		require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
			for _, w := range want {
				got, err := tx.Member(ctx, w.ID)
				require.NoError(t, err)
				memberEqual(t, w, got)
			}
			return nil
		}), what)
	}
	checkAll(up, "after UpdateMembers")
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		n, err := store.CountMembers(ctx, tx, store.MemberFilter{Group: "lyon"})
		require.NoError(t, err)
		assert.Equal(t, (largeBatch+4)/5, n, "group rows follow the batch")
		return nil
	}))
	require.NoError(t, s.View(ctx, other.ID, func(tx store.Tx) error {
		got, err := tx.Member(ctx, ms[largeBatch-1].ID)
		require.NoError(t, err)
		assert.Equal(t, "Prénom", got.FirstName, "the other org's member with the same ID is untouched")
		assert.Equal(t, int64(1), got.Version)
		return nil
	}))

	// Patches: new emails (looked up by their key) and last names, and
	// in turn each of the fields a patch may keep as stored: a password
	// hash and a stamp, a role, attributes, groups (cleared on some).
	ps := make([]store.MemberPatch, len(up))
	for i, m := range up {
		ps[i] = store.MemberPatch{ID: m.ID, Version: m.Version, Login: m.Login, FirstName: m.FirstName, LastName: fmt.Sprintf("Martin%d", i),
			Email: fmt.Sprintf("Q%04d@Example.com", i), Status: m.Status, UpdatedAt: later.Add(time.Minute)}
		switch i % 5 {
		case 0:
			ps[i].PasswordHash, ps[i].SecurityStamp = membership.PasswordHash(fmt.Sprintf("$argon2id$new%d", i)), fmt.Sprintf("stamp-%d", i)
		case 1:
			ps[i].RoleID = "custom-role"
		case 2:
			ps[i].SetAttributes, ps[i].Attributes = true, membership.Attributes{"poste": fmt.Sprintf("Ingénieure %d", i)}
		case 3:
			ps[i].SetGroups, ps[i].Groups = true, []string{"Paris", "Équipe B"}
		case 4:
			ps[i].SetGroups, ps[i].SetAttributes = true, true // both cleared
		}
	}
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return store.Patch(ctx, tx, ps) }))
	patched := make([]membership.Member, len(up))
	for i, m := range up {
		patched[i] = ps[i].Apply(m)
		patched[i].Version = 3
	}
	checkAll(patched, "after PatchMembers")
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		m, err := tx.MemberByEmail(ctx, "q1202@example.com")
		require.NoError(t, err)
		assert.Equal(t, ms[1202].ID, m.ID)
		n, err := store.CountMembers(ctx, tx, store.MemberFilter{Group: "équipe b"})
		require.NoError(t, err)
		assert.Equal(t, (largeBatch+1)/5, n, "group rows follow the patches")
		return nil
	}))

	// One stale member late in the batch: the whole batch fails.
	stale := make([]membership.Member, len(patched))
	copy(stale, patched)
	for i := range stale {
		stale[i].FirstName = "Jamais"
	}
	stale[largeBatch-2].Version = 2
	err := s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.UpdateMembers(ctx, stale) })
	assert.ErrorIs(t, err, store.ErrConflict)
	sp := make([]store.MemberPatch, len(ps))
	copy(sp, ps)
	for i := range sp {
		sp[i].Version, sp[i].FirstName = 3, "Jamais"
	}
	sp[largeBatch-2].Version = 2
	err = s.Update(ctx, o.ID, func(tx store.Tx) error { return store.Patch(ctx, tx, sp) })
	assert.ErrorIs(t, err, store.ErrConflict)
	checkAll(patched, "after the failed batches")
}
