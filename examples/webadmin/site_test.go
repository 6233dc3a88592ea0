package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
)

// The demo signs in with memberkit's credentials and serves the mounted
// screens; a member deactivated meanwhile is signed out at once.
func TestSiteSignsInAndMounts(t *testing.T) {
	st := testdb.SQLite(t)
	hasher := membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1})
	ctx := context.Background()
	org, err := Seed(ctx, st, hasher)
	require.NoError(t, err)
	h, err := NewSite(st, org.ID, "http://example.test", slog.New(slog.DiscardHandler), hasher)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}

	resp, err := c.Get(srv.URL + "/team/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "/login", resp.Request.URL.Path, "signed out: sent to the host's sign-in page")

	resp, err = c.PostForm(srv.URL+"/login", url.Values{"login": {"lea.moreau"}, "password": {DemoPassword}})
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(page), "Membres de l&#39;entreprise")
	assert.Contains(t, string(page), "Paul Martin")
	assert.NotContains(t, string(page), `id="nav-roles"`, "the Support role does not manage roles")

	rs, err := roster.New(st, &roster.Options{Hasher: hasher})
	require.NoError(t, err)
	lea, err := rs.Find(ctx, membership.SystemActor("t"), org.ID, "login", "lea.moreau")
	require.NoError(t, err)
	_, err = rs.Deactivate(ctx, membership.SystemActor("t"), org.ID, lea.ID)
	require.NoError(t, err)
	resp, err = c.Get(srv.URL + "/team/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "/login", resp.Request.URL.Path, "deactivated: signed out at once")
}

// The sign-in page sends back only to a page of the mounted screens.
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/team/roles?x=1":         "/team/roles?x=1",
		"/team":                   "/team",
		"":                        "/team/",
		"//evil.example/team/":    "/team/",
		"https://evil.example/":   "/team/",
		"/team/../\\evil.example": "/team/",
		"/team/../evil":           "/team/",
		"/\\evil.example":         "/team/",
	} {
		assert.Equal(t, want, safeNext(in), in)
	}
}
