package proof

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/internal/testkit"
	"github.com/memberkit/memberkit/internal/testkit/faultstore"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// connFaultEnv is an org on PostgreSQL reached through a pool whose
// connections carry an application_name of their own, so that an admin
// connection can find and terminate exactly their backends.
type connFaultEnv struct {
	admin   *sql.DB
	app     string
	faulty  *faultstore.Store
	st      store.Store // the same pool, without faults
	org     membership.Org
	roster  *roster.Service
	invites *invite.Service
	csv     *csvsync.Service
	sender  *invite.RecordingSender
}

func newConnFaultEnv(t *testing.T, extra string) *connFaultEnv {
	ctx := context.Background()
	admin, dsn := testdb.PostgresDB(t)
	base, err := sqlstore.New(admin, sqlstore.Postgres, nil)
	require.NoError(t, err)
	require.NoError(t, base.Migrate(ctx))
	app := "mk_fault_" + strings.ToLower(rand.Text()[:8])
	st := testdb.Open(t, sqlstore.Postgres, dsn+"&application_name="+app+extra)
	e := &connFaultEnv{admin: admin, app: app, faulty: faultstore.New(st), st: st, sender: &invite.RecordingSender{}}
	e.org = seedOrg(t, ctx, st, 20)
	e.roster = testkit.Roster(t, e.faulty, &roster.Options{Hasher: fastHasher()})
	e.invites = testkit.Invites(t, e.faulty, e.sender, &invite.Options{Hasher: fastHasher()})
	e.csv = testkit.CSV(t, e.faulty, &csvsync.Options{Hasher: fastHasher()})
	return e
}

// terminate ends the backends of the pool that are inside a transaction.
func (e *connFaultEnv) terminate(t *testing.T) {
	var n int
	require.NoError(t, e.admin.QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'`, e.app).Scan(&n))
	require.Equal(t, 1, n, "one transaction of the pool to end")
}

// A PostgreSQL backend terminated in the middle of a CSV apply, a bulk
// deactivation or an accept — after their members were written, before
// their audit events — leaves the org exactly as it was, the call fails
// with an error that says the database did not answer
// (store.ErrUnavailable, "unavailable" in the catalogue), and the next
// call works.
func TestTerminatedBackendChangesNothing(t *testing.T) {
	ctx := context.Background()
	var token string // the accept's, sent before the snapshot
	for _, op := range []struct {
		name    string
		prepare func(t *testing.T, e *connFaultEnv)
		run     func(t *testing.T, e *connFaultEnv) (again func() error)
	}{
		{"csv apply", nil, func(t *testing.T, e *connFaultEnv) func() error {
			var b strings.Builder
			_, err := e.csv.Export(ctx, sys, e.org.ID, &b, nil)
			require.NoError(t, err)
			file := strings.Replace(b.String(), "Cleo", "Cléo", 1) + ";Nouveau;Noé;;;actif\n"
			f, err := csvsync.Parse(strings.NewReader(file), nil)
			require.NoError(t, err)
			plan, err := e.csv.Plan(ctx, sys, e.org.ID, f, nil)
			require.NoError(t, err)
			e.faulty.HookAt(1, "Tx.AppendEvents", func(string) { e.terminate(t) })
			_, err = e.csv.Apply(ctx, sys, e.org.ID, plan, nil)
			requireUnavailable(t, err)
			return func() error { _, err := e.csv.Apply(ctx, sys, e.org.ID, plan, nil); return err }
		}},
		{"bulk deactivation", nil, func(t *testing.T, e *connFaultEnv) func() error {
			e.faulty.HookAt(1, "Tx.AppendEvents", func(string) { e.terminate(t) })
			_, err := e.roster.DeactivateWhere(ctx, sys, e.org.ID, store.MemberFilter{Group: "Paris"})
			requireUnavailable(t, err)
			return func() error {
				_, err := e.roster.DeactivateWhere(ctx, sys, e.org.ID, store.MemberFilter{Group: "Paris"})
				return err
			}
		}},
		{"accept", func(t *testing.T, e *connFaultEnv) {
			_, err := e.invites.Send(ctx, sys, e.org.ID, invite.To{Email: "zoe@proof.example"})
			require.NoError(t, err)
			token = e.sender.TokenFor("zoe@proof.example")
		}, func(t *testing.T, e *connFaultEnv) func() error {
			e.faulty.HookAt(1, "Tx.AppendEvents", func(string) { e.terminate(t) })
			_, err := e.invites.Accept(ctx, token, invite.Details{FirstName: "Zoé", LastName: "Neuve", Password: "a long enough password"})
			requireUnavailable(t, err)
			return func() error {
				_, err := e.invites.Accept(ctx, token, invite.Details{FirstName: "Zoé", LastName: "Neuve", Password: "a long enough password"})
				return err
			}
		}},
	} {
		t.Run(op.name, func(t *testing.T) {
			e := newConnFaultEnv(t, "")
			if op.prepare != nil {
				op.prepare(t, e)
			}
			before, err := Take(ctx, e.st, e.org.ID)
			require.NoError(t, err)
			again := op.run(t, e)
			after, err := Take(ctx, e.st, e.org.ID)
			require.NoError(t, err)
			assert.Equal(t, before.Logical(), after.Logical(), "the org is exactly as before")
			assert.Equal(t, before.Org, after.Org, "counters and versions too")
			assert.Len(t, after.Events, len(before.Events), "no event of the broken call")
			e.faulty.FailAt(0)
			require.NoError(t, again(), "the next call works")
			done, err := Take(ctx, e.st, e.org.ID)
			require.NoError(t, err)
			require.NoError(t, done.Check())
			assert.NotEqual(t, before.Logical(), done.Logical())
		})
	}
}

func requireUnavailable(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, store.ErrUnavailable)
	p := membership.Explain(err, membership.French)
	assert.Equal(t, "unavailable", p.Code)
	assert.Equal(t, 503, p.Status)
	assert.Contains(t, p.Message, "rien n'a été modifié")
}

// A statement that waits past the server's statement_timeout (a lock
// held by another session here) is cancelled: the bulk deactivation fails
// with store.ErrUnavailable, nothing changed, and once the lock is gone
// the same call works.
func TestStatementTimeoutChangesNothing(t *testing.T) {
	ctx := context.Background()
	e := newConnFaultEnv(t, "&statement_timeout=300")
	before, err := Take(ctx, e.st, e.org.ID)
	require.NoError(t, err)
	var schema string
	require.NoError(t, e.admin.QueryRow(`SELECT current_schema()`).Scan(&schema))
	lock, err := e.admin.BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = lock.Exec(fmt.Sprintf(`LOCK TABLE %s.memberkit_events IN ACCESS EXCLUSIVE MODE`, schema))
	require.NoError(t, err)
	start := time.Now()
	_, err = e.roster.DeactivateWhere(ctx, sys, e.org.ID, store.MemberFilter{Group: "Paris"})
	requireUnavailable(t, err)
	assert.Contains(t, err.Error(), "57014", "the server's statement timeout")
	assert.Less(t, time.Since(start), 10*time.Second)
	require.NoError(t, lock.Rollback())
	after, err := Take(ctx, e.st, e.org.ID)
	require.NoError(t, err)
	assert.Equal(t, before.Logical(), after.Logical())
	assert.Equal(t, before.Org, after.Org)
	res, err := e.roster.DeactivateWhere(ctx, sys, e.org.ID, store.MemberFilter{Group: "Paris"})
	require.NoError(t, err, "the next call works")
	assert.Len(t, res.Changed, 2)
}
