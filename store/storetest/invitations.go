package storetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func invitation(orgID, email string) membership.Invitation {
	return membership.Invitation{
		ID: membership.NewID(), OrgID: orgID, Email: email, RoleID: membership.RoleUser,
		TokenHash: hash(orgID + email + membership.NewID()), State: membership.InvitationPending,
		InvitedBy: "system:test", SendCount: 1,
		CreatedAt: t0, SentAt: t0, ExpiresAt: t0.Add(membership.DefaultInvitationTTL), UpdatedAt: t0,
	}
}

func testRoles(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	r := membership.Role{ID: "support", Name: "Support", Permissions: []membership.Permission{membership.PermMembersRead, membership.PermInvitationsManage}, CreatedAt: t0, UpdatedAt: t0}
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error {
		if err := tx.PutRole(ctx, r); err != nil {
			return err
		}
		return tx.PutRole(ctx, membership.Role{ID: "auditor", Name: "Auditeur", CreatedAt: t0, UpdatedAt: t0})
	}))
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		got, err := role(ctx, tx, "support")
		require.NoError(t, err)
		assert.Equal(t, r.Name, got.Name)
		assert.Equal(t, r.Permissions, got.Permissions)
		assert.Equal(t, o.ID, got.OrgID)
		empty, err := role(ctx, tx, "auditor")
		require.NoError(t, err)
		assert.Empty(t, empty.Permissions)
		roles, err := tx.Roles(ctx)
		require.NoError(t, err)
		require.Len(t, roles, 2)
		assert.Equal(t, "auditor", roles[0].ID)
		assert.Equal(t, "support", roles[1].ID)
		return nil
	}))
	// Replace, then delete.
	r.Permissions = []membership.Permission{membership.PermCSVExport}
	r.Name = "Support N2"
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.PutRole(ctx, r) }))
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.DeleteRole(ctx, "auditor") }))
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		got, err := role(ctx, tx, "support")
		require.NoError(t, err)
		assert.Equal(t, "Support N2", got.Name)
		assert.Equal(t, []membership.Permission{membership.PermCSVExport}, got.Permissions)
		_, err = role(ctx, tx, "auditor")
		assert.ErrorIs(t, err, store.ErrNotFound)
		return nil
	}))
	err := s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.DeleteRole(ctx, "auditor") })
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func invEqual(t *testing.T, want, got membership.Invitation) {
	t.Helper()
	assert.Equal(t, want.ID, got.ID)
	assert.Equal(t, want.OrgID, got.OrgID)
	assert.Equal(t, want.Email, got.Email)
	assert.Equal(t, want.RoleID, got.RoleID)
	assert.Equal(t, want.TokenHash, got.TokenHash)
	assert.Equal(t, want.State, got.State)
	assert.Equal(t, want.InvitedBy, got.InvitedBy)
	assert.Equal(t, want.SendCount, got.SendCount)
	assert.Equal(t, want.MemberID, got.MemberID)
	for _, p := range [][2]time.Time{{want.CreatedAt, got.CreatedAt}, {want.SentAt, got.SentAt}, {want.ExpiresAt, got.ExpiresAt}, {want.AcceptedAt, got.AcceptedAt}, {want.UpdatedAt, got.UpdatedAt}} {
		assert.True(t, store.Time(p[0]).Equal(p[1]), "time: want %v got %v", p[0], p[1])
	}
}

func testInvitations(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	other := newOrg(t, s, "Other")
	inv := invitation(o.ID, "zoe@example.com")
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.InsertInvitation(ctx, inv) }))
	got, err := s.InvitationByTokenHash(ctx, inv.TokenHash)
	require.NoError(t, err)
	invEqual(t, inv, got)
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		got, err := tx.Invitation(ctx, inv.ID)
		require.NoError(t, err)
		invEqual(t, inv, got)
		return nil
	}))
	_, err = s.InvitationByTokenHash(ctx, hash("unknown"))
	assert.ErrorIs(t, err, store.ErrNotFound)

	// The same token hash cannot be stored twice, in any org.
	dup := invitation(other.ID, "x@example.com")
	dup.TokenHash = inv.TokenHash
	err = s.Update(ctx, other.ID, func(tx store.Tx) error { return tx.InsertInvitation(ctx, dup) })
	requireDuplicate(t, err, "token")

	// A new token replaces the old one at once.
	inv.TokenHash = hash("resent")
	inv.SendCount = 2
	inv.ExpiresAt = t0.Add(8 * 24 * time.Hour)
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.UpdateInvitation(ctx, inv) }))
	_, err = s.InvitationByTokenHash(ctx, hash("resent"))
	require.NoError(t, err)
	old := invitation(o.ID, "zoe@example.com")
	_ = old
	got, err = s.InvitationByTokenHash(ctx, inv.TokenHash)
	require.NoError(t, err)
	invEqual(t, inv, got)

	// Accepted: the record stays, with its member.
	inv.State = membership.InvitationAccepted
	inv.AcceptedAt = t0.Add(time.Hour)
	inv.MemberID = membership.NewID()
	inv.TokenHash = nil
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.UpdateInvitation(ctx, inv) }))
	_, err = s.InvitationByTokenHash(ctx, hash("resent"))
	assert.ErrorIs(t, err, store.ErrNotFound, "a cleared token finds nothing")
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		got, err := tx.Invitation(ctx, inv.ID)
		require.NoError(t, err)
		invEqual(t, inv, got)
		return nil
	}))
	err = s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.UpdateInvitation(ctx, invitation(o.ID, "none@example.com")) })
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func testInvitationQueries(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	var ids []string
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error {
		for i := range 25 {
			inv := invitation(o.ID, fmt.Sprintf("p%02d@example.com", i))
			if i%5 == 0 {
				inv.State = membership.InvitationCanceled
			}
			ids = append(ids, inv.ID)
			if err := tx.InsertInvitation(ctx, inv); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		pending, err := store.Collect(tx.Invitations(ctx, store.InvitationQuery{States: []membership.InvitationState{membership.InvitationPending}}))
		require.NoError(t, err)
		assert.Len(t, pending, 20)
		byEmail, err := store.Collect(tx.Invitations(ctx, store.InvitationQuery{Email: "P07@EXAMPLE.COM"}))
		require.NoError(t, err)
		require.Len(t, byEmail, 1)
		assert.Equal(t, ids[7], byEmail[0].ID)
		var walked []string
		after := ""
		for {
			page, err := store.Collect(tx.Invitations(ctx, store.InvitationQuery{After: after, Limit: 7}))
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			for _, p := range page {
				walked = append(walked, p.ID)
			}
			after = page[len(page)-1].ID
		}
		assert.Equal(t, ids, walked, "invitations page by ID, in creation order")
		return nil
	}))
}

func testEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := newOrg(t, s, "Acme")
	subject := membership.NewID()
	var want []membership.Event
	for i := range 30 {
		e := membership.Event{ID: membership.NewID(), At: t0.Add(time.Duration(i) * time.Second), Type: membership.EventMemberAdded, Actor: "member:x", SubjectID: membership.NewID()}
		if i%3 == 0 {
			e.Type = membership.EventMemberDeactivated
			e.SubjectID = subject
			e.StatusBefore, e.StatusAfter = membership.StatusActive, membership.StatusDeactivated
			e.RoleBefore, e.RoleAfter = membership.RoleUser, membership.RoleUser
			e.Detail = "bulk; group \"Paris\""
		}
		want = append(want, e)
	}
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.AppendEvents(ctx, want[:10]) }))
	require.NoError(t, s.Update(ctx, o.ID, func(tx store.Tx) error { return tx.AppendEvents(ctx, want[10:]) }))
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		got, err := store.Collect(tx.Events(ctx, store.EventQuery{}))
		require.NoError(t, err)
		require.Len(t, got, 30)
		for i := range got {
			assert.Equal(t, want[i].ID, got[i].ID)
			assert.Equal(t, o.ID, got[i].OrgID)
			assert.Equal(t, want[i].Type, got[i].Type)
			assert.Equal(t, want[i].Actor, got[i].Actor)
			assert.Equal(t, want[i].SubjectID, got[i].SubjectID)
			assert.Equal(t, want[i].StatusBefore, got[i].StatusBefore)
			assert.Equal(t, want[i].StatusAfter, got[i].StatusAfter)
			assert.Equal(t, want[i].RoleBefore, got[i].RoleBefore)
			assert.Equal(t, want[i].Detail, got[i].Detail)
			assert.True(t, want[i].At.Equal(got[i].At))
		}
		bySubject, err := store.Collect(tx.Events(ctx, store.EventQuery{SubjectID: subject}))
		require.NoError(t, err)
		assert.Len(t, bySubject, 10)
		byType, err := store.Collect(tx.Events(ctx, store.EventQuery{Types: []membership.EventType{membership.EventMemberAdded}}))
		require.NoError(t, err)
		assert.Len(t, byType, 20)
		page, err := store.Collect(tx.Events(ctx, store.EventQuery{After: want[4].ID, Limit: 3}))
		require.NoError(t, err)
		require.Len(t, page, 3)
		assert.Equal(t, want[5].ID, page[0].ID)
		return nil
	}))

	// An event without an ID or a type is refused, and the batch with it.
	for _, bad := range []membership.Event{{Type: membership.EventMemberAdded, At: t0}, {ID: membership.NewID(), At: t0}} {
		err := s.Update(ctx, o.ID, func(tx store.Tx) error {
			return tx.AppendEvents(ctx, []membership.Event{{ID: membership.NewID(), Type: membership.EventMemberAdded, At: t0}, bad})
		})
		assert.ErrorIs(t, err, membership.ErrInvalid, "%+v", bad)
	}
	require.NoError(t, s.View(ctx, o.ID, func(tx store.Tx) error {
		got, err := store.Collect(tx.Events(ctx, store.EventQuery{}))
		require.NoError(t, err)
		assert.Len(t, got, 30, "a refused batch leaves no event behind")
		return nil
	}))
}
