// Package pgxcopy_test runs the CSV reconcile on PostgreSQL with and
// without the Copier of store/sqlstore/pgxcopy, checks that both write
// the same roster, and measures them.
package pgxcopy_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/internal/testkit"
	"github.com/memberkit/memberkit/internal/testkit/gen"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
	"github.com/memberkit/memberkit/store/sqlstore/pgxcopy"
)

// stores returns, on one new schema, a store without a Copier and one
// with copier from threshold rows (0: the default, 250).
func stores(tb testing.TB, copier sqlstore.Copier, threshold int) (plain, copying *sqlstore.Store) {
	tb.Helper()
	db, _ := testdb.PostgresDB(tb) // skips with a message when the DSN is unset
	plain, err := sqlstore.New(db, sqlstore.Postgres, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := plain.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	copying, err = sqlstore.New(db, sqlstore.Postgres, &sqlstore.Options{Copier: copier, CopyThreshold: threshold})
	if err != nil {
		tb.Fatal(err)
	}
	return plain, copying
}

var sys = membership.SystemActor("test")

// file generates an org of n members in st and returns it with its export
// edited as a coordinator would: 10% of the rows changed, 2% new, 2%
// absent.
func file(tb testing.TB, st store.Store, svc *csvsync.Service, n int, hash membership.PasswordHash) (membership.Org, string) {
	tb.Helper()
	ctx := context.Background()
	org, err := gen.Org(ctx, st, n, hash)
	if err != nil {
		tb.Fatal(err)
	}
	var exp bytes.Buffer
	if _, err := svc.Export(ctx, sys, org.ID, &exp, nil); err != nil {
		tb.Fatal(err)
	}
	var edited strings.Builder
	if _, _, _, err := gen.Edit(&edited, exp.String(), 10, 2, 2); err != nil {
		tb.Fatal(err)
	}
	return org, edited.String()
}

// reconcile plans and applies data to org; it returns the time Apply
// took.
func reconcile(tb testing.TB, svc *csvsync.Service, orgID, data string) (*csvsync.Result, time.Duration) {
	tb.Helper()
	ctx := context.Background()
	f, err := csvsync.Parse(strings.NewReader(data), nil)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := svc.Plan(ctx, sys, orgID, f, &csvsync.PlanOptions{TemporaryPassword: "bienvenue-2026"})
	if err != nil {
		tb.Fatal(err)
	}
	t0 := time.Now()
	res, err := svc.Apply(ctx, sys, orgID, p, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return res, time.Since(t0)
}

// roster is what two twin orgs must agree on after the same reconcile:
// each member by login, without IDs, stamps, hashes and times; the
// org's counters; the events by type.
func roster(tb testing.TB, st store.Store, orgID string) (ms []string, org membership.Org, events map[membership.EventType]int) {
	tb.Helper()
	ctx := context.Background()
	events = map[membership.EventType]int{}
	err := st.View(ctx, orgID, func(tx store.Tx) error {
		var err error
		if org, err = tx.Org(ctx); err != nil {
			return err
		}
		for m, err := range tx.Members(ctx, store.MemberQuery{}) {
			if err != nil {
				return err
			}
			ms = append(ms, strings.Join([]string{m.Login, m.Email, m.FirstName, m.LastName, m.RoleID, string(m.Status), strings.Join(m.Groups, "|"),
				fmt.Sprint(map[string]string(m.Attributes)), strconv.FormatInt(m.Version, 10), strconv.FormatBool(m.MustChangePassword)}, ";"))
		}
		for e, err := range tx.Events(ctx, store.EventQuery{}) {
			if err != nil {
				return err
			}
			events[e.Type]++
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	slices.Sort(ms)
	return ms, org, events
}

// A reconcile of 20,000 members (MEMBERKIT_COPY_MEMBERS for another
// size) writes the same roster, counters and events through COPY as
// through the unnest statements. From 500 rows: its two batches of 1,000
// patches, their group rows and its events go by COPY, the last 367
// patches and the 400 new members by unnest.
func TestReconcileSameAsUnnest(t *testing.T) {
	n := 20_000
	if s := os.Getenv("MEMBERKIT_COPY_MEMBERS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	c := &counting{Copier: pgxcopy.New()}
	plain, copying := stores(t, c, 500)
	hasher := membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1})
	hash, err := hasher.Hash("shared-password")
	if err != nil {
		t.Fatal(err)
	}
	type side struct {
		st  *sqlstore.Store
		svc *csvsync.Service
		org membership.Org
		res *csvsync.Result
	}
	sides := []*side{{st: plain}, {st: copying}}
	var data string
	for _, s := range sides {
		s.svc = testkit.CSV(t, s.st, &csvsync.Options{Hasher: hasher})
		var d string
		s.org, d = file(t, s.st, s.svc, n, hash)
		if data != "" && d != data {
			t.Fatal("the twin orgs' files differ")
		}
		data = d
	}
	for _, s := range sides {
		s.res, _ = reconcile(t, s.svc, s.org.ID, data)
	}
	a, b := sides[0], sides[1]
	if a.res.Added != b.res.Added || a.res.Updated != b.res.Updated || a.res.Deactivated != b.res.Deactivated || a.res.Added == 0 || a.res.Updated < 1000 {
		t.Fatalf("results differ or are too small: %+v / %+v", a.res, b.res)
	}
	ma, oa, ea := roster(t, a.st, a.org.ID)
	mb, ob, eb := roster(t, b.st, b.org.ID)
	if !slices.Equal(ma, mb) {
		for i := range min(len(ma), len(mb)) {
			if ma[i] != mb[i] {
				t.Fatalf("members differ (%d and %d); first:\n unnest %s\n copy   %s", len(ma), len(mb), ma[i], mb[i])
			}
		}
		t.Fatalf("members differ: %d and %d", len(ma), len(mb))
	}
	if oa.ActiveMembers != ob.ActiveMembers || oa.ActiveAdmins != ob.ActiveAdmins || oa.RosterVersion != ob.RosterVersion {
		t.Fatalf("counters differ: %+v / %+v", oa, ob)
	}
	if len(ea) == 0 || !equalCounts(ea, eb) {
		t.Fatalf("events differ: %v / %v", ea, eb)
	}
	if c.rows.Load() == 0 {
		t.Fatal("nothing went by COPY")
	}
	t.Logf("%d rows by COPY", c.rows.Load())
	t.Logf("%d members: %d added, %d updated, %d deactivated, %v events", n, a.res.Added, a.res.Updated, a.res.Deactivated, eb)
}

// counting counts the rows a Copier wrote.
type counting struct {
	sqlstore.Copier
	rows atomic.Int64
}

func (c *counting) CopyFrom(ctx context.Context, dc any, table string, columns []string, n int, row func(int) []any) (int64, error) {
	got, err := c.Copier.CopyFrom(ctx, dc, table, columns, n, row)
	c.rows.Add(got)
	return got, err
}

func equalCounts(a, b map[membership.EventType]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// BenchmarkReconcile applies the reconcile of an org of 100,000 members
// (MEMBERKIT_COPY_MEMBERS for another size; 10% of the rows changed, 2%
// new, 2% absent) without and with the Copier, on twin orgs of one
// schema: each iteration runs both sides in turn, in alternating order.
// The figures are Apply's seconds (the parse and the plan are the same
// on both), medians over the iterations, and COPY's over unnest's. The
// twin orgs are analyzed before, unless MEMBERKIT_COPY_STALE is set (as
// right after an import).
//
//	MEMBERKIT_POSTGRES_DSN=… go test ./internal/testkit/suites/pgxcopy -run '^$' -bench Reconcile -benchtime 5x -timeout 60m
func BenchmarkReconcile(b *testing.B) {
	n := 100_000
	if s := os.Getenv("MEMBERKIT_COPY_MEMBERS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	plain, copying := stores(b, pgxcopy.New(), 0)
	hasher := membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1})
	hash, err := hasher.Hash("shared-password")
	if err != nil {
		b.Fatal(err)
	}
	sides := []*sqlstore.Store{plain, copying}
	took := [2][]float64{}
	var ratios []float64
	rep := 0
	for b.Loop() {
		b.StopTimer()
		var orgs [2]membership.Org
		var data [2]string
		svcs := [2]*csvsync.Service{}
		for i, st := range sides {
			svcs[i] = testkit.CSV(b, st, &csvsync.Options{Hasher: hasher})
			orgs[i], data[i] = file(b, st, svcs[i], n, hash)
		}
		if os.Getenv("MEMBERKIT_COPY_STALE") == "" {
			if _, err := plain.DB().Exec("ANALYZE"); err != nil {
				b.Fatal(err)
			}
		}
		var d [2]time.Duration
		for k := range sides {
			i := (k + rep) % 2
			_, d[i] = reconcile(b, svcs[i], orgs[i].ID, data[i])
			took[i] = append(took[i], d[i].Seconds())
		}
		ratios = append(ratios, d[1].Seconds()/d[0].Seconds())
		rep++
		b.StartTimer()
	}
	b.ReportMetric(median(took[0]), "unnest-apply-s")
	b.ReportMetric(median(took[1]), "copy-apply-s")
	b.ReportMetric(median(ratios), "copy/unnest")
	b.Logf("%d members, apply seconds: unnest %.3f, copy %.3f; copy/unnest per iteration %.2f", n, took[0], took[1], ratios)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
