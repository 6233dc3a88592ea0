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
// The behaviours that read or write through the optional fast paths of a
// Tx (store.MemberCounter, InvitationCounter, SummaryReader,
// DetailReader, MemberPatcher) run twice: with the store as it is, and
// as "…Fallback" with those paths hidden, so that the helpers of
// store/optional.go, which the services call, are proven on the store's
// required methods too.
func Run(t *testing.T, newStore NewStoreFunc) { RunExcept(t, newStore, nil) }

// RunExcept runs the contract as Run does, but for the behaviours named in
// except, which are skipped with the reason given: for a store whose
// database cannot keep one by nature (on a multi-primary cluster, a
// transaction waiting for another's lock on another node does not wait:
// the conflict is settled at commit). Say in your docs what you skip.
func RunExcept(t *testing.T, newStore NewStoreFunc, except map[string]string) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if why, ok := except[c.name]; ok {
				t.Skip(why)
			}
			c.fn(t, newStore(t))
		})
		if c.paths {
			t.Run(c.name+"Fallback", func(t *testing.T) {
				if why, ok := except[c.name]; ok {
					t.Skip(why)
				}
				c.fn(t, plainStore{newStore(t)})
			})
		}
	}
}

type testCase struct {
	name  string
	fn    func(t *testing.T, s store.Store)
	paths bool // uses an optional fast path: run with the fallback too
}

// cases lists the behaviours; each is defined in one of the files of
// this package, grouped by area.
var cases = []testCase{
	{name: "OrgRoundTrip", fn: testOrgRoundTrip},
	{name: "OrgDuplicate", fn: testOrgDuplicate},
	{name: "OrgNotFound", fn: testOrgNotFound},
	{name: "PutOrg", fn: testPutOrg},
	{name: "MemberRoundTrip", fn: testMemberRoundTrip},
	{name: "MemberNotFound", fn: testMemberNotFound},
	{name: "HostileTextRoundTrips", fn: testHostileText, paths: true},
	{name: "LoginUniqueCaseInsensitive", fn: testLoginUnique},
	{name: "EmailUniqueCaseInsensitive", fn: testEmailUnique},
	{name: "MembersWithoutEmail", fn: testNoEmail},
	{name: "UniqueKeysFreeAcrossOrgs", fn: testAcrossOrgs},
	{name: "LookupIgnoresCase", fn: testLookupCase},
	{name: "BatchInsertAllOrNothing", fn: testBatchAllOrNothing},
	{name: "UpdateVersioning", fn: testUpdateVersion},
	{name: "UpdateUniqueness", fn: testUpdateUniqueness},
	{name: "SwapLoginsInOneTransaction", fn: testSwapLogins},
	{name: "MemberSummaries", fn: testMemberSummaries, paths: true},
	{name: "PatchMembers", fn: testPatchMembers, paths: true},
	{name: "LargeBatches", fn: testLargeBatches, paths: true},
	{name: "RollbackOnError", fn: testRollback, paths: true},
	{name: "RollbackAfterStoreError", fn: testRollbackAfterStoreError},
	{name: "ReadYourWrites", fn: testReadYourWrites, paths: true},
	{name: "TenantIsolation", fn: testTenantIsolation, paths: true},
	{name: "Filters", fn: testFilters, paths: true},
	{name: "TextSearchFoldsCaseAndAccents", fn: testTextSearch, paths: true},
	{name: "GroupFilterFollowsChanges", fn: testGroupFilterFollowsChanges, paths: true},
	{name: "GroupLabels", fn: testGroupLabels, paths: true},
	{name: "PaginationCompleteAndStable", fn: testPagination},
	{name: "PaginationUnderConcurrentWrites", fn: testPaginationConcurrent},
	{name: "StreamingEarlyBreakAndInterleave", fn: testStreaming},
	{name: "Counts", fn: testCounts, paths: true},
	{name: "OrgCounters", fn: testOrgCounters},
	{name: "Roles", fn: testRoles},
	{name: "Invitations", fn: testInvitations},
	{name: "InvitationQueries", fn: testInvitationQueries},
	{name: "Events", fn: testEvents},
	{name: "ConcurrentIncrementsAreExact", fn: testConcurrentIncrement},
	{name: "Preload", fn: testPreload},
	{name: "PreloadConcurrentIncrements", fn: testPreloadConcurrentIncrements},
	{name: "EditMembers", fn: testEditMembers},
	{name: "EditMembersConcurrent", fn: testEditMembersConcurrent},
	{name: "ViewSeesWholeUpdatesOnly", fn: testViewConsistency},
	{name: "WriteInViewFails", fn: testWriteInView},
	{name: "CanceledContext", fn: testCanceledContext},
	{name: "ContextEndsWhileWaitingForLock", fn: testLockWaitCanceled},
	{name: "TimesNormalised", fn: testTimes},
	{name: "AttemptsRoundTrip", fn: testAttempts},
	{name: "AttemptsConcurrentUpdatesAreExact", fn: testAttemptsConcurrent},
	{name: "SessionStateFastPath", fn: testSessionState},
	{name: "PurgeAttempts", fn: testPurgeAttempts},
	{name: "UserIDUniquePerOrg", fn: testUserIDUnique},
	{name: "MembershipsAcrossOrgs", fn: testMemberships},
	{name: "MemberAttributes", fn: testAttributes, paths: true},
	{name: "AttributeAndUserFilters", fn: testAttributeFilters, paths: true},
	{name: "Domains", fn: testDomains},
	{name: "VerifiedDomainBelongsToOneOrg", fn: testVerifiedDomainUnique},
	{name: "AccessFastPath", fn: testAccess},
	{name: "FeedSeqGaplessInCommitOrder", fn: testFeedSeq},
	{name: "FeedLeases", fn: testFeedLeases},
	{name: "FeedConcurrentClaims", fn: testFeedConcurrentClaims},
	{name: "FeedSubscribers", fn: testFeedSubscribers},
	{name: "DirectoryTokens", fn: testDirectoryTokens},
	{name: "DirectoryGroups", fn: testDirectoryGroups},
	{name: "DirectoryTouchDuringUpdate", fn: testDirectoryTouchDuringUpdate},
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
		SecurityStamp: membership.NewSecurityStamp(),
		CreatedAt:     t0, UpdatedAt: t0,
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
// memberEqual compares two members field by field as stores keep them:
// times at the store's precision, no groups as nil.
func memberEqual(t *testing.T, want, got membership.Member) {
	t.Helper()
	norm := func(m membership.Member) membership.Member {
		m.CreatedAt, m.UpdatedAt, m.LastLoginAt = store.Time(m.CreatedAt), store.Time(m.UpdatedAt), store.Time(m.LastLoginAt)
		if len(m.Groups) == 0 {
			m.Groups = nil
		}
		if len(m.Attributes) == 0 {
			m.Attributes = nil
		}
		return m
	}
	assert.Equal(t, norm(want), norm(got))
}

func errFn(msg string) error { return fmt.Errorf("storetest: %s", msg) }
