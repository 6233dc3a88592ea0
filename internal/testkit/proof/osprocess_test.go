package proof

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// Environment of the processes proof's children.
const (
	procChildEnv  = "MEMBERKIT_PROC_CHILD" // dialect
	procDSNEnv    = "MEMBERKIT_PROC_DSN"
	procOrgEnv    = "MEMBERKIT_PROC_ORG"
	procSeedEnv   = "MEMBERKIT_PROC_SEED"
	procOpsEnv    = "MEMBERKIT_PROC_OPS"
	procRoundsEnv = "MEMBERKIT_PROC_ROUNDS" // default 3
	galeraEnv     = "MEMBERKIT_GALERA_DSNS" // three DSNs, comma-separated, one per node
	procsPerRound = 4
	opsPerProcess = 60
)

// TestProcessChild is a child of TestOSProcessesKeepInvariants: it runs
// one seeded list of the model's operations on the org, through its own
// pool, and fails only on an error no rule explains (a broken
// connection, a deadlock not retried, a driver error).
func TestProcessChild(t *testing.T) {
	dialect := os.Getenv(procChildEnv)
	if dialect == "" {
		t.Skip("a child of TestOSProcessesKeepInvariants; runs only when that test starts it")
	}
	ctx := context.Background()
	st := testdb.Open(t, sqlstore.Dialect(dialect), os.Getenv(procDSNEnv))
	if os.Getenv(galeraEnv) != "" && dialect == string(sqlstore.MySQL) {
		st = testdb.OpenWith(t, sqlstore.MySQL, os.Getenv(procDSNEnv), &sqlstore.Options{MaxRetries: testdb.GaleraRetries})
	}
	seed, err := strconv.ParseUint(os.Getenv(procSeedEnv), 10, 64)
	require.NoError(t, err)
	n, err := strconv.Atoi(os.Getenv(procOpsEnv))
	require.NoError(t, err)
	env := newModelEnv(t, st, os.Getenv(procOrgEnv), &invite.RecordingSender{})
	start := time.Now()
	for _, o := range schedule(seed, 1, n)[0] {
		if err := env.run(ctx, o); err != nil && !errors.Is(err, errNoToken) {
			if code := membership.Explain(err, membership.English).Code; code == "internal" || code == "unavailable" {
				t.Fatalf("%s: an error no rule explains: %v", o, err)
			}
		}
	}
	fmt.Printf("%s %d %d\n", opsLine, n, time.Since(start).Microseconds())
}

// opsLine starts the line where a child says how many operations it ran
// and for how long (µs), start-up excluded.
const opsLine = "memberkit-proc-ops"

// procTarget is a database the processes proof runs on: the DSN each
// child gets (several for a cluster: children spread over its nodes).
type procTarget struct {
	name    string
	dialect sqlstore.Dialect
	dsns    []string
	setup   store.Store
}

func procTargets(t *testing.T) []procTarget {
	var out []procTarget
	dir := t.TempDir()
	sqliteDSN := testdb.SQLiteDSN(filepath.Join(dir, "shared.db"))
	s := testdb.Open(t, sqlstore.SQLite, sqliteDSN)
	require.NoError(t, s.Migrate(context.Background()))
	out = append(out, procTarget{"sqlite", sqlstore.SQLite, []string{sqliteDSN}, s})
	if os.Getenv(testdb.PostgresEnv) != "" {
		db, dsn := testdb.PostgresDB(t)
		s, err := sqlstore.New(db, sqlstore.Postgres, nil)
		require.NoError(t, err)
		require.NoError(t, s.Migrate(context.Background()))
		out = append(out, procTarget{"postgres", sqlstore.Postgres, []string{dsn}, s})
	}
	if os.Getenv(testdb.PgBouncerEnv) != "" {
		db, dsn := testdb.PgBouncerDB(t)
		s, err := sqlstore.New(db, sqlstore.Postgres, nil)
		require.NoError(t, err)
		require.NoError(t, s.Migrate(context.Background()))
		out = append(out, procTarget{"pgbouncer", sqlstore.Postgres, []string{dsn}, s})
	}
	if os.Getenv(testdb.MySQLEnv) != "" {
		db, dsn := testdb.MySQLDB(t)
		s, err := sqlstore.New(db, sqlstore.MySQL, nil)
		require.NoError(t, err)
		require.NoError(t, s.Migrate(context.Background()))
		out = append(out, procTarget{"mysql", sqlstore.MySQL, []string{dsn}, s})
	}
	if v := os.Getenv(galeraEnv); v != "" {
		dsns := testdb.GaleraDBs(t, strings.Split(v, ","))
		s := testdb.Open(t, sqlstore.MySQL, dsns[0])
		require.NoError(t, s.Migrate(context.Background()))
		out = append(out, procTarget{"galera", sqlstore.MySQL, dsns, s})
	}
	return out
}

// Four OS processes, each with its own pool, act on one org at once,
// round after round, on one SQLite file, PostgreSQL (directly and through
// PgBouncer in transaction mode), MariaDB and, when MEMBERKIT_GALERA_DSNS
// names its nodes, a three-node Galera cluster with the processes spread
// over the nodes. After every round the invariants hold: an active admin,
// seats within the plan, unique logins and emails, the org's counters
// equal to a recount, no escalation in the audit trail.
func TestOSProcessesKeepInvariants(t *testing.T) {
	if os.Getenv(procChildEnv) != "" {
		t.Skip("in a child")
	}
	rounds := 3
	if v, err := strconv.Atoi(os.Getenv(procRoundsEnv)); err == nil && v > 0 {
		rounds = v
	}
	ctx := context.Background()
	for _, target := range procTargets(t) {
		t.Run(target.name, func(t *testing.T) {
			orgID := modelSetup(t, ctx, target.setup)
			var busy time.Duration // per round, the longest child's operations
			for round := range rounds {
				cmds := make([]*exec.Cmd, procsPerRound)
				outs := make([]*strings.Builder, procsPerRound)
				for i := range cmds {
					cmd := exec.Command(os.Args[0], "-test.run=^TestProcessChild$", "-test.count=1")
					cmd.Env = append(os.Environ(), procChildEnv+"="+string(target.dialect), procDSNEnv+"="+target.dsns[i%len(target.dsns)],
						procOrgEnv+"="+orgID, procSeedEnv+"="+fmt.Sprint(7000+round*procsPerRound+i), procOpsEnv+"="+fmt.Sprint(opsPerProcess))
					outs[i] = &strings.Builder{}
					cmd.Stdout, cmd.Stderr = outs[i], outs[i]
					require.NoError(t, cmd.Start())
					cmds[i] = cmd
				}
				var longest time.Duration
				for i, cmd := range cmds {
					if err := cmd.Wait(); err != nil {
						t.Fatalf("round %d, process %d: %v\n%s", round, i, err, outs[i])
					}
					for line := range strings.Lines(outs[i].String()) {
						var n int
						var us int64
						if _, err := fmt.Sscanf(line, opsLine+" %d %d", &n, &us); err == nil {
							longest = max(longest, time.Duration(us)*time.Microsecond)
						}
					}
				}
				busy += longest
				snap, err := Take(ctx, target.setup, orgID)
				require.NoError(t, err)
				require.NoError(t, snap.Check(), "round %d", round)
				require.NoError(t, snap.CheckNoEscalation(), "round %d", round)
			}
			ops := rounds * procsPerRound * opsPerProcess
			t.Logf("%s: %d rounds of %d processes × %d operations: %d operations in %v, %.0f operations/s",
				target.name, rounds, procsPerRound, opsPerProcess, ops, busy.Round(time.Millisecond), float64(ops)/busy.Seconds())
		})
	}
}
