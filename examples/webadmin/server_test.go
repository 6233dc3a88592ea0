package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/memberkit/memberkit/internal/testkit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

type site struct {
	st  store.Store
	org membership.Org
	url string
}

func newSite(t *testing.T) site {
	t.Helper()
	st := testdb.SQLite(t)
	hasher := membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1})
	org, err := Seed(context.Background(), st, hasher)
	require.NoError(t, err)
	srv, err := NewServer(Config{OrgID: org.ID, Store: st, Hasher: hasher})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return site{st: st, org: org, url: ts.URL}
}

func (s site) member(t *testing.T, login string) membership.Member {
	t.Helper()
	var m membership.Member
	require.NoError(t, s.st.View(context.Background(), s.org.ID, func(tx store.Tx) error {
		var err error
		m, err = tx.MemberByLogin(context.Background(), login)
		return err
	}))
	return m
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// client logs in over plain HTTP and returns the client and a CSRF token.
func client(t *testing.T, s site, login string) (*http.Client, string) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(s.url + "/login")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(body), "Connexion — "+s.org.Name, "the login page names the org")
	tok := csrfRe.FindStringSubmatch(string(body))[1]
	resp, err = c.PostForm(s.url+"/login", url.Values{"csrf": {tok}, "login": {login}, "password": {DemoPassword}})
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRe.FindStringSubmatch(string(body))
	require.NotNil(t, m, "logged in page: %s", body)
	return c, m[1]
}

func TestCSRFAndPermissions(t *testing.T) {
	s := newSite(t)
	paul := s.member(t, "paul.martin")
	pia := s.member(t, "pia.bernard")

	admin, tok := client(t, s, "alice.durand")
	resp, err := admin.PostForm(s.url+"/members/deactivate", url.Values{"id": {paul.ID}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "no CSRF token")
	resp, err = admin.PostForm(s.url+"/members/deactivate", url.Values{"id": {paul.ID}, "csrf": {"forged"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "wrong CSRF token")
	assert.Equal(t, membership.StatusActive, s.member(t, "paul.martin").Status)

	// A member with the user role is refused by the library's permission check.
	user, utok := client(t, s, "paul.martin")
	resp, err = user.PostForm(s.url+"/members/deactivate", url.Values{"id": {pia.ID}, "csrf": {utok}})
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(body), "votre rôle ne permet pas cette action")
	assert.Equal(t, membership.StatusActive, s.member(t, "pia.bernard").Status)

	// The admin's token works; the last-admin rule shows as a message.
	resp, err = admin.PostForm(s.url+"/members/deactivate", url.Values{"id": {paul.ID}, "csrf": {tok}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, membership.StatusDeactivated, s.member(t, "paul.martin").Status)

	// Logged out: redirected to the login page.
	anon := &http.Client{}
	resp, err = anon.Get(s.url + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "/login", resp.Request.URL.Path)
}

// A member deactivated by an admin loses access at once: the next request
// of their open session goes to the login page.
func TestSessionEndsOnDeactivation(t *testing.T) {
	s := newSite(t)
	paul := s.member(t, "paul.martin")
	pc, _ := client(t, s, "paul.martin")
	resp, err := pc.Get(s.url + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "/", resp.Request.URL.Path, "signed in")
	admin, tok := client(t, s, "alice.durand")
	resp, err = admin.PostForm(s.url+"/members/"+paul.ID+"/deactivate", url.Values{"csrf": {tok}})
	require.NoError(t, err)
	resp.Body.Close()
	resp, err = pc.Get(s.url + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "/login", resp.Request.URL.Path, "signed out at once")
}

// The escalation the security review found over HTTP: a member whose
// custom role may manage members tries to make themselves admin, to
// promote another member to admin, and to deactivate an admin. Every
// attempt is refused in the page and changes nothing.
func TestNoEscalationOverHTTP(t *testing.T) {
	s := newSite(t)
	lea, alice, paul := s.member(t, "lea.moreau"), s.member(t, "alice.durand"), s.member(t, "paul.martin")
	support, tok := client(t, s, "lea.moreau")
	post := func(path string, form url.Values) string {
		form.Set("csrf", tok)
		resp, err := support.PostForm(s.url+path, form)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(body)
	}
	body := post("/members/"+lea.ID+"/role", url.Values{"role": {membership.RoleAdmin}})
	assert.Contains(t, body, "votre rôle ne permet pas cette action")
	assert.Equal(t, lea.RoleID, s.member(t, "lea.moreau").RoleID, "no self-promotion")
	post("/members/"+paul.ID+"/role", url.Values{"role": {membership.RoleAdmin}})
	assert.Equal(t, membership.RoleUser, s.member(t, "paul.martin").RoleID, "no promotion of an accomplice")
	post("/members/"+alice.ID+"/deactivate", url.Values{})
	assert.Equal(t, membership.StatusActive, s.member(t, "alice.durand").Status, "no acting on an admin")
	post("/invitations", url.Values{"email": {"accomplice@evil.example"}, "role": {membership.RoleAdmin}})
	body = post("/members/"+paul.ID+"/deactivate", url.Values{})
	assert.Equal(t, membership.StatusDeactivated, s.member(t, "paul.martin").Status, "within its power, the support role works")
	assert.NotContains(t, body, "accomplice@evil.example", "no admin invitation was sent")
}

// The coordinator's session in a real browser: log in, filter by group,
// select two members, deactivate them, upload a CSV, confirm, see the
// result.
func TestBrowserEndToEnd(t *testing.T) {
	b := startBrowser(t)
	s := newSite(t)
	ctx := context.Background()

	b.open(s.url + "/login")
	b.typeInto("#login", "alice.durand")
	b.typeInto("#password", DemoPassword)
	b.click("#login-submit")
	b.waitText("#me", "Alice Durand")
	assert.Equal(t, 7, b.count("#members tbody tr"))

	// Filter by group.
	b.typeInto("#f-group", "Paris")
	b.click("#filter-submit")
	b.waitText("#members", "pierre.petit")
	require.Equal(t, 3, b.count("#members tbody tr"), "Paris has three members")

	// Select two members and deactivate them.
	b.click(`tr[data-login="paul.martin"] input.select`)
	b.click(`tr[data-login="pia.bernard"] input.select`)
	b.click("#bulk-deactivate")
	b.waitText("#flash", "2 membre(s) désactivé(s).")
	assert.Equal(t, "deactivated", b.attr(`tr[data-login="paul.martin"]`, "data-status"))
	assert.Equal(t, "active", b.attr(`tr[data-login="pierre.petit"]`, "data-status"))
	assert.Equal(t, membership.StatusDeactivated, s.member(t, "pia.bernard").Status)

	// Upload an edited roster: Pia back, a newcomer.
	var buf bytes.Buffer
	_, err := testkit.CSV(t, s.st, nil).Export(ctx, membership.SystemActor("test"), s.org.ID, &buf, nil)
	require.NoError(t, err)
	edited := strings.Replace(buf.String(), "pia.bernard;Bernard;Pia;pia@conance.example;Mot de passe crypté;Désactivé", "pia.bernard;Bernard;Pia;pia@conance.example;Mot de passe crypté;Activé", 1)
	edited += "ines.garcia;García;Inès;ines@conance.example;;Activé\r\n"
	path := filepath.Join(t.TempDir(), "membres.csv")
	require.NoError(t, os.WriteFile(path, []byte(edited), 0o600))
	b.typeInto("#import-file", path)
	b.click("#import-submit")
	b.waitText("#plan-summary", "à ajouter")
	summary := b.text("#plan-summary")
	assert.Contains(t, summary, "1 à ajouter")
	assert.Contains(t, summary, "1 à réactiver")
	assert.Contains(t, b.text("#plan"), "ines.garcia")
	_, err = s.st.Org(ctx, s.org.ID)
	require.NoError(t, err)
	assert.Equal(t, membership.StatusDeactivated, s.member(t, "pia.bernard").Status, "nothing changes before confirmation")

	b.click("#import-confirm")
	b.waitText("#flash", "Import appliqué : 1 ajouté(s), 0 mis à jour, 1 réactivé(s)")
	b.waitText("#members", "ines.garcia")
	assert.Equal(t, "active", b.attr(`tr[data-login="pia.bernard"]`, "data-status"))
	assert.Equal(t, membership.StatusActive, s.member(t, "ines.garcia").Status)

	shot := filepath.Join(t.TempDir(), "webadmin.png")
	if dir := os.Getenv("MEMBERKIT_SCREENSHOT_DIR"); dir != "" {
		shot = filepath.Join(dir, "webadmin.png")
	}
	b.screenshot(shot)
	st, err := os.Stat(shot)
	require.NoError(t, err)
	assert.Greater(t, st.Size(), int64(10_000), "a real screenshot")
	t.Logf("screenshot: %s", shot)
}
