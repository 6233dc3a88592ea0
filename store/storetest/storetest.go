// Package storetest is the executable form of the [store.Store] contract.
// Any store — memberkit's memstore and sqlstore, or a host app's own —
// proves itself by running
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return mystore.New(…) })
//	}
//
// newStore must return a fresh, empty store for each call; it may register
// cleanups with t. Each behaviour is a named subtest, so a failing one can
// be rerun alone with -run.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// NewStoreFunc returns a fresh, empty store for one test.
type NewStoreFunc func(t *testing.T) store.Store

// Run runs every behaviour of the contract against stores made by newStore.
func Run(t *testing.T, newStore NewStoreFunc) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.fn(t, newStore(t))
		})
	}
}

type testCase struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// cases lists the behaviours; each is defined in one of the files of
// this package, grouped by area.
var cases = []testCase{
	{"OrgRoundTrip", testOrgRoundTrip},
	{"OrgDuplicate", testOrgDuplicate},
	{"OrgNotFound", testOrgNotFound},
	{"PutOrg", testPutOrg},
	{"MemberRoundTrip", testMemberRoundTrip},
	{"MemberNotFound", testMemberNotFound},
	{"HostileTextRoundTrips", testHostileText},
	{"LoginUniqueCaseInsensitive", testLoginUnique},
	{"EmailUniqueCaseInsensitive", testEmailUnique},
	{"MembersWithoutEmail", testNoEmail},
	{"UniqueKeysFreeAcrossOrgs", testAcrossOrgs},
	{"LookupIgnoresCase", testLookupCase},
	{"BatchInsertAllOrNothing", testBatchAllOrNothing},
	{"UpdateVersioning", testUpdateVersion},
	{"UpdateUniqueness", testUpdateUniqueness},
	{"SwapLoginsInOneTransaction", testSwapLogins},
	{"MemberSummaries", testMemberSummaries},
	{"PatchMembers", testPatchMembers},
	{"RollbackOnError", testRollback},
	{"RollbackAfterStoreError", testRollbackAfterStoreError},
	{"ReadYourWrites", testReadYourWrites},
	{"TenantIsolation", testTenantIsolation},
	{"Filters", testFilters},
	{"TextSearchFoldsCaseAndAccents", testTextSearch},
	{"GroupFilterFollowsChanges", testGroupFilterFollowsChanges},
	{"PaginationCompleteAndStable", testPagination},
	{"PaginationUnderConcurrentWrites", testPaginationConcurrent},
	{"StreamingEarlyBreakAndInterleave", testStreaming},
	{"Counts", testCounts},
	{"CountsFollowEveryWrite", testCountsFollowWrites},
	{"Roles", testRoles},
	{"Invitations", testInvitations},
	{"InvitationQueries", testInvitationQueries},
	{"Events", testEvents},
	{"ConcurrentIncrementsAreExact", testConcurrentIncrement},
	{"ViewSeesWholeUpdatesOnly", testViewConsistency},
	{"WriteInViewFails", testWriteInView},
	{"CanceledContext", testCanceledContext},
	{"ContextEndsWhileWaitingForLock", testLockWaitCanceled},
	{"TimesNormalised", testTimes},
}

// Behaviours returns the names of the contract's behaviours, in order.
func Behaviours() []string {
	out := make([]string, len(cases))
	for i, c := range cases {
		out[i] = c.name
	}
	return out
}

var t0 = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)

func newOrg(t *testing.T, s store.Store, name string) membership.Org {
	t.Helper()
	o := membership.Org{ID: membership.NewID(), Name: name, Plan: membership.FreePlan(),
		Features: []membership.Feature{membership.FeatureCSV}, CreatedAt: t0, UpdatedAt: t0}
	require.NoError(t, s.CreateOrg(context.Background(), o))
	return o
}

func member(orgID, first, last string) membership.Member {
	return membership.Member{
		ID: membership.NewID(), OrgID: orgID,
		Login:     membership.DefaultLogin(first, last),
		FirstName: first, LastName: last,
		RoleID: membership.RoleUser, Status: membership.StatusActive,
		CreatedAt: t0, UpdatedAt: t0,
	}
}

func insert(t *testing.T, s store.Store, orgID string, ms ...membership.Member) []membership.Member {
	t.Helper()
	require.NoError(t, s.Update(context.Background(), orgID, func(tx store.Tx) error {
		return tx.InsertMembers(context.Background(), ms)
	}))
	for i := range ms {
		ms[i].Version = 1
	}
	return ms
}

func get(t *testing.T, s store.Store, orgID, id string) (membership.Member, error) {
	t.Helper()
	var m membership.Member
	err := s.View(context.Background(), orgID, func(tx store.Tx) error {
		var err error
		m, err = tx.Member(context.Background(), id)
		return err
	})
	return m, err
}

func all(t *testing.T, s store.Store, orgID string, q store.MemberQuery) []membership.Member {
	t.Helper()
	var out []membership.Member
	require.NoError(t, s.View(context.Background(), orgID, func(tx store.Tx) error {
		var err error
		out, err = store.Collect(tx.Members(context.Background(), q))
		return err
	}))
	return out
}

func logins(ms []membership.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Login
	}
	return out
}

func requireDuplicate(t *testing.T, err error, key string) {
	t.Helper()
	require.ErrorIs(t, err, store.ErrDuplicate)
	var de *membership.DuplicateError
	require.True(t, errors.As(err, &de), "want a *membership.DuplicateError, got %T: %v", err, err)
	require.Equal(t, key, de.Key, "the duplicate error names the key")
}

// memberEqual compares members field by field, times with Equal.
func memberEqual(t *testing.T, want, got membership.Member) {
	t.Helper()
	assert.Equal(t, want.ID, got.ID)
	assert.Equal(t, want.OrgID, got.OrgID)
	assert.Equal(t, want.UserID, got.UserID)
	assert.Equal(t, want.Login, got.Login)
	assert.Equal(t, want.Email, got.Email)
	assert.Equal(t, want.FirstName, got.FirstName)
	assert.Equal(t, want.LastName, got.LastName)
	assert.Equal(t, want.RoleID, got.RoleID)
	assert.Equal(t, want.Status, got.Status)
	if len(want.Groups) == 0 {
		assert.Empty(t, got.Groups)
	} else {
		assert.Equal(t, want.Groups, got.Groups)
	}
	assert.True(t, store.Time(want.LastLoginAt).Equal(got.LastLoginAt), "LastLoginAt: want %v got %v", want.LastLoginAt, got.LastLoginAt)
	assert.Equal(t, string(want.PasswordHash), string(got.PasswordHash))
	assert.Equal(t, want.MustChangePassword, got.MustChangePassword)
	assert.True(t, store.Time(want.CreatedAt).Equal(got.CreatedAt), "CreatedAt: want %v got %v", want.CreatedAt, got.CreatedAt)
	assert.True(t, store.Time(want.UpdatedAt).Equal(got.UpdatedAt), "UpdatedAt: want %v got %v", want.UpdatedAt, got.UpdatedAt)
	assert.Equal(t, want.Version, got.Version)
}

func errFn(msg string) error { return fmt.Errorf("storetest: %s", msg) }
