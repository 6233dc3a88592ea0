package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store/memstore"
)

// hashing measures an import of n rows with clear passwords on one worker
// and on every core, with the default argon2id parameters.
func hashing(ctx context.Context, n int) {
	var b strings.Builder
	b.WriteString("Nom;Prénom;Etat;Mot de passe\n")
	for i := range n {
		fmt.Fprintf(&b, "Nom%d;Prénom;Activé;mot-de-passe-%d\n", i, i)
	}
	data := b.String()
	var results []float64
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		st := memstore.New()
		svc := must(roster.New(st, nil))
		org, err := svc.CreateOrg(ctx, roster.NewOrg{Name: "Hash", Plan: membership.PremiumPlan(0), Features: []membership.Feature{membership.FeatureCSV}})
		if err != nil {
			fatal(err)
		}
		hasher := &countingHasher{Hasher: membership.NewArgon2Hasher(nil)}
		files := must(csvsync.New(st, &csvsync.Options{HashWorkers: workers, Hasher: hasher}))
		f, err := csvsync.Parse(strings.NewReader(data), nil)
		if err != nil {
			fatal(err)
		}
		t0 := time.Now()
		p, err := files.Plan(ctx, sys, org.ID, f, nil)
		if err != nil {
			fatal(err)
		}
		d := time.Since(t0)
		_ = p
		rate := float64(hasher.ops.Load()) / d.Seconds()
		results = append(results, rate)
		fmt.Printf("hashing: %d clear passwords, %d worker(s): %.1fs, %.1f hashes/s\n", n, workers, d.Seconds(), rate)
	}
	fmt.Printf("hashing speed-up on %d cores: %.2fx\n", runtime.GOMAXPROCS(0), results[1]/results[0])

}

// countingHasher counts the hashes and verifications it makes.
type countingHasher struct {
	membership.Hasher
	ops atomic.Int64
}

func (h *countingHasher) Hash(pw string) (membership.PasswordHash, error) {
	h.ops.Add(1)
	return h.Hasher.Hash(pw)
}

func (h *countingHasher) Verify(hash membership.PasswordHash, pw string) (bool, bool, error) {
	h.ops.Add(1)
	return h.Hasher.Verify(hash, pw)
}
