package csvsync_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memberkit/memberkit/internal/testkit"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/internal/testkit/gen"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store/memstore"
)

// peakHeap samples the live heap (as measured by the last GC, so garbage
// not yet collected does not count) until stop is closed.
func peakHeap(stop <-chan struct{}) *atomic.Uint64 {
	var peak atomic.Uint64
	go func() {
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return &peak
}

// BenchmarkPlanApply reconciles an org of N members on memstore with a
// file in which 10% of the rows changed, 2% are new and 2% are absent.
// The 1,000,000-member case runs with MEMBERKIT_BENCH_1M=1.
//
//	go test ./csvsync -run '^$' -bench PlanApply -benchmem -benchtime 1x
func BenchmarkPlanApply(b *testing.B) {
	sizes := []int{100_000}
	if os.Getenv("MEMBERKIT_BENCH_1M") != "" {
		sizes = append(sizes, 1_000_000)
	}
	for _, n := range sizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			ctx := context.Background()
			hasher := membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1})
			for b.Loop() {
				b.StopTimer()
				st := memstore.New()
				hash, _ := hasher.Hash("shared-password")
				org, err := gen.Org(ctx, st, n, hash)
				if err != nil {
					b.Fatal(err)
				}
				svc := testkit.CSV(b, st, &csvsync.Options{Hasher: hasher})
				sys := membership.SystemActor("bench")
				var exp bytes.Buffer
				if _, err := svc.Export(ctx, sys, org.ID, &exp, nil); err != nil {
					b.Fatal(err)
				}
				var edited strings.Builder
				if _, _, _, err := gen.Edit(&edited, exp.String(), 10, 2, 2); err != nil {
					b.Fatal(err)
				}
				data := edited.String()
				exp = bytes.Buffer{}
				runtime.GC()
				baseSample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
				metrics.Read(baseSample)
				base := baseSample[0].Value.Uint64()
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Add(1)
				peak := peakHeap(stop)
				b.StartTimer()

				file, err := csvsync.Parse(strings.NewReader(data), nil)
				if err != nil {
					b.Fatal(err)
				}
				plan, err := svc.Plan(ctx, sys, org.ID, file, &csvsync.PlanOptions{TemporaryPassword: "tempeos"})
				if err != nil {
					b.Fatal(err)
				}
				res, err := svc.Apply(ctx, sys, org.ID, plan, nil)
				if err != nil {
					b.Fatal(err)
				}

				b.StopTimer()
				close(stop)
				wg.Done()
				b.ReportMetric(float64(peak.Load()-min(peak.Load(), base))/(1<<20), "peak-live-MiB")
				b.ReportMetric(float64(res.Updated+res.Added+res.Deactivated+res.Reactivated), "changes")
				b.StartTimer()
			}
		})
	}
}

// BenchmarkParse parses a 100,000-row export (9 MiB) with 10% of rows
// edited, against encoding/csv reading the same bytes.
//
//	go test ./csvsync -run '^$' -bench Parse -benchmem
func BenchmarkParse(b *testing.B) {
	var rows strings.Builder
	rows.WriteString("\uFEFFIdentifiant;Nom;Prénom;Email;Mot de passe;Etat\r\n")
	for i := range 100_000 {
		m := gen.Member("org", i, time.Time{}, "")
		rows.WriteString(m.Login + ";" + m.LastName + ";" + m.FirstName + ";" + m.Email + ";;Activé\r\n")
	}
	data := []byte(rows.String())
	b.Run("memberkit", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			f, err := csvsync.Parse(bytes.NewReader(data), nil)
			if err != nil || len(f.Rows) != 100_000 {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-csv", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			r := csv.NewReader(bytes.NewReader(data))
			r.Comma = ';'
			recs, err := r.ReadAll()
			if err != nil || len(recs) != 100_001 {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkParseHostile parses files meant to exhaust the server: a
// 24 MiB header of one cell, 24 MiB of header cells, and a 50 MB quoted
// cell on a data row. Each is refused as soon as a bound is passed; see
// B/op for the memory it took.
//
//	go test ./csvsync -run '^$' -bench ParseHostile -benchmem -count 3
func BenchmarkParseHostile(b *testing.B) {
	files := map[string]string{
		"header-24MiB-one-cell": strings.Repeat("N", 24<<20),
		"header-24MiB-columns":  strings.Repeat("a;", 12<<20),
		"row-50MB-quoted-cell":  "Nom;Prénom;Etat\nA;B;actif\nC;\"" + strings.Repeat("x\n", 25<<20) + "\";actif\n",
	}
	for _, name := range []string{"header-24MiB-one-cell", "header-24MiB-columns", "row-50MB-quoted-cell"} {
		data := files[name]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := csvsync.Parse(strings.NewReader(data), nil); err == nil {
					b.Fatal("a hostile file was accepted")
				}
			}
		})
	}
}
