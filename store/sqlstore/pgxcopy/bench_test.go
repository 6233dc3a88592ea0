package pgxcopy_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
	"github.com/memberkit/memberkit/store/sqlstore/pgxcopy"
)

// member is the i-th member of a benchmark's org: one or two groups,
// an attribute on one in ten.
func member(orgID string, i int, now time.Time) membership.Member {
	m := membership.Member{ID: membership.NewID(), OrgID: orgID, Login: fmt.Sprintf("jeanne.martin.%d", i), Email: fmt.Sprintf("jeanne.martin.%d@example.com", i),
		FirstName: "Jeanne", LastName: "Martin", RoleID: membership.RoleUser, Status: membership.StatusActive,
		Groups: []string{[]string{"Paris", "Lyon", "Ventes", "Support"}[i%4]}, PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
		CreatedAt: now, UpdatedAt: now, SecurityStamp: membership.NewSecurityStamp()}
	if i%7 == 0 {
		m.Groups = append(m.Groups, "Direction")
	}
	if i%10 == 0 {
		m.Attributes = membership.Attributes{"site": "Lyon"}
	}
	return m
}

func newOrg(tb testing.TB, st store.Store) string {
	tb.Helper()
	now := time.Now().UTC()
	org := membership.Org{ID: membership.NewID(), Name: "Bench", Plan: membership.PremiumPlan(0), CreatedAt: now, UpdatedAt: now}
	if err := st.CreateOrg(context.Background(), org); err != nil {
		tb.Fatal(err)
	}
	return org.ID
}

// insert writes n new members in batches of batch, in one transaction,
// and returns them at their stored version.
func insert(tb testing.TB, st store.Store, orgID string, from, n, batch int) []membership.Member {
	tb.Helper()
	now := time.Now().UTC()
	ms := make([]membership.Member, n)
	for i := range ms {
		ms[i] = member(orgID, from+i, now)
	}
	err := st.Update(context.Background(), orgID, func(tx store.Tx) error {
		for part := range slices.Chunk(ms, batch) {
			if err := tx.InsertMembers(context.Background(), part); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	for i := range ms {
		ms[i].Version = 1
	}
	return ms
}

// change writes every other member of ms (a new last name, one in ten of
// them deactivated) through UpdateMembers, or PatchMembers when patch,
// in batches of batch, in one transaction.
func change(tb testing.TB, st store.Store, orgID string, ms []membership.Member, batch int, patch bool) {
	tb.Helper()
	ctx := context.Background()
	var sel []membership.Member
	for i := 0; i < len(ms); i += 2 {
		m := ms[i]
		m.LastName += "-Modifié"
		if i%20 == 0 {
			m.Status = membership.StatusDeactivated
		}
		m.UpdatedAt = time.Now().UTC()
		sel = append(sel, m)
		ms[i].Version++
	}
	err := st.Update(ctx, orgID, func(tx store.Tx) error {
		for part := range slices.Chunk(sel, batch) {
			if !patch {
				if err := tx.UpdateMembers(ctx, part); err != nil {
					return err
				}
				continue
			}
			ps := make([]store.MemberPatch, len(part))
			for i, m := range part {
				ps[i] = store.MemberPatch{ID: m.ID, Version: m.Version, Login: m.Login, FirstName: m.FirstName, LastName: m.LastName,
					Email: m.Email, Status: m.Status, UpdatedAt: m.UpdatedAt}
			}
			if err := store.Patch(ctx, tx, ps); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkBatches compares the unnest path and COPY (pgxcopy at a
// threshold of 50 rows) on one schema, each iteration running
// both sides in turn, in alternating order: on an org of 20,000 members
// (analyzed), the insert of 20,000 more, then an UpdateMembers and a PatchMembers of
// 10,000 of them, in batches of 100, 250, 1,000 (as the services write)
// or in one batch. The figures are medians of seconds per side and step,
// and COPY's over unnest's.
//
//	MEMBERKIT_POSTGRES_DSN=… go test ./store/sqlstore/pgxcopy -run '^$' -bench Batches -benchtime 7x
func BenchmarkBatches(b *testing.B) {
	db := postgres(b)
	plain, err := sqlstore.New(db, sqlstore.Postgres, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := plain.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	copying, err := sqlstore.New(db, sqlstore.Postgres, &sqlstore.Options{Copier: pgxcopy.New(), CopyThreshold: 50})
	if err != nil {
		b.Fatal(err)
	}
	sides := []*sqlstore.Store{plain, copying}
	steps := []string{"insert", "update", "patch"}
	for _, batch := range []int{100, 250, 1000, 20_000} {
		name := fmt.Sprintf("batch=%d", batch)
		if batch == 20_000 {
			name = "batch=whole"
		}
		b.Run(name, func(b *testing.B) {
			took := map[string][]float64{}
			rep := 0
			for b.Loop() {
				for k := range sides {
					side := (k + rep) % 2
					st := sides[side]
					org := newOrg(b, st)
					insert(b, st, org, 0, 20_000, 5000)
					if _, err := db.Exec("ANALYZE"); err != nil {
						b.Fatal(err)
					}
					t0 := time.Now()
					ms := insert(b, st, org, 20_000, 20_000, batch)
					t1 := time.Now()
					change(b, st, org, ms, batch, false)
					t2 := time.Now()
					change(b, st, org, ms, batch, true)
					t3 := time.Now()
					for i, d := range []time.Duration{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2)} {
						key := steps[i] + "-" + []string{"unnest", "copy"}[side]
						took[key] = append(took[key], d.Seconds())
					}
				}
				rep++
			}
			for _, step := range steps {
				u, c := median(took[step+"-unnest"]), median(took[step+"-copy"])
				b.ReportMetric(u, step+"-unnest-s")
				b.ReportMetric(c, step+"-copy-s")
				b.ReportMetric(c/u, step+"-copy/unnest")
			}
		})
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
