package delivery

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/relay"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
	"github.com/memberkit/memberkit/webhook"
)

// Environment of the crash proof's child process.
const (
	childEnv   = "MEMBERKIT_CRASH_CHILD" // dialect
	dsnEnv     = "MEMBERKIT_CRASH_DSN"
	urlEnv     = "MEMBERKIT_CRASH_URL"
	secretEnv  = "MEMBERKIT_CRASH_SECRET"
	roundsEnv  = "MEMBERKIT_CRASH_ROUNDS" // default 4; run by hand with many more
	crashOrgs  = 3
	crashLease = time.Second
)

func crashOrg(i int) string { return fmt.Sprintf("crash-%d", i) }

// crashRelay is the relay the child and the final restart run: a
// webhook subscriber posting to the parent's receiver.
func crashRelay(t testing.TB, st store.Store, url string, secret membership.Secret) (*relay.Relay, relay.Subscriber) {
	r, err := relay.New(st, &relay.Options{Poll: 5 * time.Millisecond, BatchSize: 5, Lease: crashLease, Timeout: 300 * time.Millisecond,
		Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, MaxFailures: 1000})
	require.NoError(t, err)
	sub, err := webhook.Subscriber("hooks", webhook.Endpoint{URL: url, Secrets: []membership.Secret{secret}})
	require.NoError(t, err)
	return r, sub
}

// TestCrashChild is the child process of TestCrashRelayLosesNothing: it
// commits bursts of events (and rolls some back, printing their IDs)
// while its relay delivers, until it is killed.
func TestCrashChild(t *testing.T) {
	dialect := os.Getenv(childEnv)
	if dialect == "" {
		t.Skip("the child of TestCrashRelayLosesNothing; runs only when that test starts it")
	}
	st := testdb.Open(t, sqlstore.Dialect(dialect), os.Getenv(dsnEnv))
	r, sub := crashRelay(t, st, os.Getenv(urlEnv), membership.Secret(os.Getenv(secretEnv)))
	ctx := context.Background()
	go func() { _ = r.Run(ctx, sub) }()
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		org := crashOrg(rand.IntN(crashOrgs))
		evs := make([]membership.Event, 1+rand.IntN(3))
		for j := range evs {
			evs[j] = membership.Event{ID: membership.NewID(), Type: membership.EventMemberUpdated, At: time.Now(), Actor: "system:crash"}
		}
		fail := i%7 == 6
		if fail {
			for _, e := range evs {
				fmt.Fprintln(out, "ROLLBACK", e.ID)
			}
			_ = out.Flush() // before the transaction: a kill cannot hide one
		}
		err := st.Update(ctx, org, func(tx store.Tx) error {
			if err := tx.AppendEvents(ctx, evs); err != nil {
				return err
			}
			if fail {
				return fmt.Errorf("rolled back on purpose")
			}
			return nil
		})
		if err != nil && !fail {
			t.Fatal(err)
		}
		r.Notify(ctx, nil)
		if i%3 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
}

// A process that commits bursts of changes while relaying them to a local
// receiver is killed with SIGKILL at random moments, round after round,
// and restarted; then a relay is restarted once more to drain. Every
// committed event reached the receiver at least once, each org's for the
// first time in commit order, and no rolled-back event did. On SQLite and
// PostgreSQL.
func TestCrashRelayLosesNothing(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	rounds := 4
	if v := os.Getenv(roundsEnv); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err)
		rounds = n
	}
	for _, d := range []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			var st store.Store
			var dsn string
			switch d {
			case sqlstore.SQLite:
				dsn = testdb.SQLiteDSN(filepath.Join(t.TempDir(), "memberkit.db"))
				s := testdb.Open(t, d, dsn)
				require.NoError(t, s.Migrate(context.Background()))
				st = s
			case sqlstore.Postgres:
				pdb, pdsn := testdb.PostgresDB(t)
				s, err := sqlstore.New(pdb, d, nil)
				require.NoError(t, err)
				require.NoError(t, s.Migrate(context.Background()))
				st, dsn = s, pdsn
			}
			ctx := context.Background()
			for i := range crashOrgs {
				require.NoError(t, st.CreateOrg(ctx, membership.Org{ID: crashOrg(i), Name: crashOrg(i)}))
			}
			secret := webhook.NewSecret()
			got := newReceived()
			var badSignatures int
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				p, err := webhook.Receive(r, []membership.Secret{secret}, time.Now())
				if err != nil {
					mu.Lock()
					badSignatures++
					mu.Unlock()
					http.Error(w, err.Error(), http.StatusUnauthorized)
					return
				}
				b := relay.Batch{OrgID: p.OrgID}
				for _, e := range p.Events {
					b.Events = append(b.Events, membership.Event{ID: e.ID, Seq: e.Seq, OrgID: e.OrgID})
				}
				_ = got.deliver(r.Context(), b)
				w.WriteHeader(http.StatusNoContent)
			}))
			defer srv.Close()

			rolledBack := map[string]bool{}
			for round := range rounds {
				cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
				cmd.Env = append(os.Environ(), childEnv+"="+string(d), dsnEnv+"="+dsn, urlEnv+"="+srv.URL, secretEnv+"="+string(secret))
				stdout, err := cmd.StdoutPipe()
				require.NoError(t, err)
				require.NoError(t, cmd.Start())
				lines := make(chan string)
				go func() {
					defer close(lines)
					sc := bufio.NewScanner(stdout)
					for sc.Scan() {
						lines <- sc.Text()
					}
				}()
				kill := time.After(time.Duration(150+rand.IntN(450)) * time.Millisecond)
			read:
				for {
					select {
					case line, ok := <-lines:
						if !ok {
							break read
						}
						if id, ok := strings.CutPrefix(line, "ROLLBACK "); ok {
							rolledBack[id] = true
						}
					case <-kill:
						require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
						kill = nil
					}
				}
				err = cmd.Wait()
				require.Error(t, err, "round %d: the child must die by the kill, not end", round)
			}

			// Restart a relay and let it drain.
			before := got.count()
			// A COMMIT the killed process had sent may still be applied by
			// the server after the process is gone: count until it is
			// stable.
			total := -1
			for n := 0; n != total; time.Sleep(300 * time.Millisecond) {
				total = n
				n = 0
				for i := range crashOrgs {
					evs, err := st.(store.Feed).EventsAfter(ctx, crashOrg(i), 0, 1_000_000)
					require.NoError(t, err)
					n += len(evs)
				}
			}
			require.Positive(t, total)
			r, sub := crashRelay(t, st, srv.URL, secret)
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { _ = r.Run(rctx, sub); close(done) }()
			deadline := time.Now().Add(60 * time.Second)
			for got.count() < total && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			<-done

			got.mu.Lock()
			defer got.mu.Unlock()
			assert.Empty(t, got.errors, "each org's events first arrive in commit order")
			assert.Zero(t, badSignatures)
			assert.Equal(t, total, got.total, "every committed event arrived")
			for i := range crashOrgs {
				evs, err := st.(store.Feed).EventsAfter(ctx, crashOrg(i), 0, 1_000_000)
				require.NoError(t, err)
				for _, e := range evs {
					assert.Equal(t, e.ID, got.ids[fmt.Sprint(e.OrgID, e.Seq)], "org %s seq %d", e.OrgID, e.Seq)
					assert.False(t, rolledBack[e.ID], "a rolled-back event is in the store")
				}
			}
			for _, id := range got.ids {
				assert.False(t, rolledBack[id], "a rolled-back event arrived")
			}
			t.Logf("%d rounds: %d events committed, %d rolled back; %d delivered by the killed processes, %d delivered twice", rounds, total, len(rolledBack), before, got.dups)
		})
	}
}
