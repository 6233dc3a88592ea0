package testdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/memberkit/memberkit/store/sqlstore"
)

// GaleraEnv names the nodes of a Galera cluster, one DSN per node,
// comma-separated (.ci/galera start prints them).
const GaleraEnv = "MEMBERKIT_GALERA_DSNS"

// spread opens each new connection on the next node in turn, so that
// the writers of one pool are spread across the cluster, as the
// instances of an app behind a load balancer would be.
type spread struct {
	nodes []driver.Connector
	next  atomic.Uint64
}

func (s *spread) Connect(ctx context.Context) (driver.Conn, error) {
	return s.nodes[s.next.Add(1)%uint64(len(s.nodes))].Connect(ctx)
}

func (s *spread) Driver() driver.Driver { return s.nodes[0].Driver() }

// GaleraDB creates a new database on the cluster of MEMBERKIT_GALERA_DSNS
// and returns a pool whose connections go to the three nodes in turn,
// each with wsrep_sync_wait=1 so that a read on one node sees what was
// committed on another (causal reads, as an app reading from any node
// must ask). The database is dropped at cleanup.
func GaleraDB(t testing.TB) *sql.DB {
	t.Helper()
	v := os.Getenv(GaleraEnv)
	if v == "" {
		t.Skipf("Galera tests skipped: set %s (.ci/galera start DIR prints its value)", GaleraEnv)
	}
	dsns := GaleraDBs(t, strings.Split(v, ","))
	s := &spread{}
	for _, dsn := range dsns {
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		cfg.Params["wsrep_sync_wait"] = "1"
		c, err := mysql.NewConnector(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s.nodes = append(s.nodes, c)
	}
	db := sql.OpenDB(s)
	db.SetMaxOpenConns(20)
	t.Cleanup(func() { db.Close() })
	return db
}

// GaleraRetries is the MaxRetries of the Galera stores: every Update of a
// busy org from several nodes at once meets certification conflicts, and
// the default 8 retries can all lose to the other nodes.
const GaleraRetries = 32

// Galera returns a migrated store on a new database of the cluster, its
// connections spread over the nodes.
func Galera(t testing.TB) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.New(GaleraDB(t), sqlstore.MySQL, &sqlstore.Options{MaxRetries: GaleraRetries})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate galera: %v", err)
	}
	return s
}
