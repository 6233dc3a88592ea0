package memberkit_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// An app that imports memberkit and uses memstore downloads no SQL driver
// and no browser tooling: a throwaway module requires memberkit (replaced
// by this checkout), and its module graph and go.sum are read.
func TestImportersSeeNoDrivers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/importer\n\ngo 1.26.0\n\nrequire github.com/memberkit/memberkit v0.0.0\n\nreplace github.com/memberkit/memberkit => "+root+"\n")
	write("main.go", `package main

import (
	"context"
	"fmt"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store/memstore"
)

func main() {
	kit, err := memberkit.New(memstore.New(), nil)
	if err != nil {
		panic(err)
	}
	org, err := kit.Members.CreateOrg(context.Background(), roster.NewOrg{Name: "Acme", Plan: membership.FreePlan()})
	fmt.Println(org.Name, err)
}
`)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("mod", "tidy")
	modules := run("list", "-m", "all")
	sum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for _, banned := range []string{"modernc.org/sqlite", "modernc.org/libc", "github.com/jackc/pgx", "github.com/go-sql-driver/mysql", "chromedp", "selenium", "github.com/lib/pq"} {
		if strings.Contains(modules, banned) || strings.Contains(string(sum), banned) {
			t.Errorf("an importer sees %s:\n%s", banned, modules)
		}
	}
	if out := run("run", "."); !strings.Contains(out, "Acme <nil>") {
		t.Errorf("the importer does not run: %s", out)
	}
	t.Logf("an importer's module graph:\n%s", modules)
}
