package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type ctl struct {
	t  *testing.T
	db string
}

func (c ctl) run(args ...string) (int, string, string) {
	c.t.Helper()
	var out, errb bytes.Buffer
	code := run(append(args, "--db", c.db), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func (c ctl) ok(args ...string) string {
	c.t.Helper()
	code, out, errs := c.run(args...)
	require.Equal(c.t, exitOK, code, "memberctl %v: %s", args, errs)
	return out
}

func TestMemberctl(t *testing.T) {
	dir := t.TempDir()
	c := ctl{t: t, db: filepath.Join(dir, "mk.db")}
	org := strings.TrimSpace(c.ok("orgs", "create", "--name", "Acme", "--plan", "premium", "--limit", "5", "--csv",
		"--admin-first", "Alice", "--admin-last", "Admin", "--admin-password", "alice-password"))
	require.Len(t, org, 36)
	c.ok("members", "add", "--org", org, "--first", "Bob", "--last", "Martin", "--group", "Paris")
	c.ok("members", "add", "--org", org, "--first", "Zoé", "--last", "Lefèvre", "--group", "Paris", "--email", "zoe@example.com")
	out := c.ok("members", "list", "--org", org, "--group", "paris")
	assert.Contains(t, out, "bob.martin")
	assert.Contains(t, out, "zoe.lefevre")
	assert.NotContains(t, out, "alice.admin")

	out = c.ok("invite", "send", "--org", org, "--email", "new@example.com")
	assert.Contains(t, out, "new@example.com https://app.example.com/join?token=")
	out = c.ok("invite", "list", "--org", org)
	assert.Contains(t, out, "pending")
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	c.ok("invite", "resend", "--org", org, "--id", id)
	c.ok("invite", "cancel", "--org", org, "--id", id)
	code, _, errs := c.run("invite", "cancel", "--org", org, "--id", id)
	assert.Equal(t, exitRefused, code, errs)

	out = c.ok("members", "deactivate", "--org", org, "--group", "Paris")
	assert.Contains(t, out, "deactivated 2")

	csvFile := filepath.Join(dir, "roster.csv")
	c.ok("csv", "export", "--org", org, "--out", csvFile)
	data, err := os.ReadFile(csvFile)
	require.NoError(t, err)
	assert.Contains(t, string(data), "bob.martin;Martin;Bob;;Mot de passe crypté;Désactivé")

	edited := strings.Replace(string(data), "bob.martin;Martin;Bob;;Mot de passe crypté;Désactivé", "bob.martin;Martin;Bob;;Mot de passe crypté;Activé", 1) +
		";Nouveau;Jean;jean@example.com;;Activé\r\n"
	require.NoError(t, os.WriteFile(csvFile, []byte(edited), 0o600))
	out = c.ok("csv", "import", "--org", org, "--file", csvFile, "--dry-run")
	assert.Contains(t, out, "plan: 1 to add, 0 to update, 1 to reactivate, 0 to deactivate, 2 unchanged")
	assert.Contains(t, out, "dry run: nothing changed")
	report := filepath.Join(dir, "report.csv")
	out = c.ok("csv", "import", "--org", org, "--file", csvFile, "--apply", "--report", report)
	assert.Contains(t, out, "applied: 1 added, 0 updated, 1 reactivated")
	assert.Contains(t, out, "temporary password jean.nouveau ")
	rep, err := os.ReadFile(report)
	require.NoError(t, err)
	assert.Contains(t, string(rep), "Réactivation;bob.martin")

	// Exit codes scripts can test.
	code, _, errs = c.run("members", "list")
	assert.Equal(t, exitUsage, code, "missing --org")
	assert.Contains(t, errs, "--org is required")
	code, _, _ = c.run("nope")
	assert.Equal(t, exitUsage, code)
	code, _, errs = c.run("csv", "import", "--help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, errs, "-dry-run")

	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("Nom;Prénom;Etat\nDupont;;actif\n"), 0o600))
	code, _, errs = c.run("csv", "import", "--org", org, "--file", bad, "--dry-run")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errs, "ligne 2, colonne Prénom : donnée obligatoire manquante")

	code, _, errs = c.run("csv", "import", "--org", org, "--file", bad, "--dry-run", "--lang", "en")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errs, "line 2, column Prénom: required value missing")

	truncated := filepath.Join(dir, "truncated.csv")
	require.NoError(t, os.WriteFile(truncated, []byte("Identifiant;Nom;Prénom;Etat\nalice.admin;Admin;Alice;actif\n"), 0o600))
	code, _, errs = c.run("csv", "import", "--org", org, "--file", truncated, "--apply")
	assert.Equal(t, exitRefused, code, "a truncated file must not wipe the company: %s", errs)

	c.ok("members", "add", "--org", org, "--first", "C", "--last", "D")
	c.ok("members", "add", "--org", org, "--first", "E", "--last", "F") // 5 of 5 seats
	code, _, errs = c.run("members", "add", "--org", org, "--first", "G", "--last", "H")
	assert.Equal(t, exitRefused, code, "seat limit: %s", errs)
	code, _, _ = c.run("members", "list", "--org", "no-such-org")
	assert.Equal(t, exitNotFound, code)
}
