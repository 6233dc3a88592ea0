package sqlstore_test

import (
	"testing"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/storetest"
)

func TestContractSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return testdb.SQLite(t) })
}

func TestContractPostgres(t *testing.T) {
	testdb.PostgresDB(t) // skips with a message when the DSN is unset
	storetest.Run(t, func(t *testing.T) store.Store { return testdb.Postgres(t) })
}

func TestContractMySQL(t *testing.T) {
	testdb.MySQLDB(t)
	storetest.Run(t, func(t *testing.T) store.Store { return testdb.MySQL(t) })
}

// The contract through PgBouncer in transaction mode: each transaction
// may run on another server connection, so nothing may rest on session
// state (prepared statements across transactions, session locks, SET).
func TestContractPgBouncer(t *testing.T) {
	testdb.PgBouncerDB(t)
	storetest.Run(t, func(t *testing.T) store.Store { return testdb.PgBouncer(t) })
}

// The contract on a three-node Galera cluster, each store's connections
// spread over the nodes: certification conflicts surface at commit and
// are retried like deadlocks. Long mode: .ci/galera starts the cluster.
func TestContractGalera(t *testing.T) {
	testdb.GaleraDB(t)
	storetest.RunExcept(t, func(t *testing.T) store.Store { return testdb.Galera(t) }, map[string]string{
		"ContextEndsWhileWaitingForLock": "Galera: an Update on another node does not wait for the org's lock (row locks stay on their node); " +
			"the two conflict at certification and one runs again, which ConcurrentIncrementsAreExact proves",
	})
}
