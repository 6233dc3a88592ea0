package memberhttp_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/memberhttp"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// status reads a member's status as stored.
func (e *env) status(id string) membership.Status {
	e.t.Helper()
	m, err := e.kit.Members.Get(context.Background(), membership.SystemActor("t"), e.org, id)
	require.NoError(e.t, err)
	return m.Status
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	e := newEnv(t, 0)
	b := e.browser(e.admin, "fr")
	for _, path := range []string{"/", "/members/new", "/import", "/roles", "/review", "/join?token=nope", "/nowhere", "/api/members", "/api/openapi.json"} {
		req, _ := http.NewRequest("GET", e.srv.URL+"/team"+path, nil)
		req.Header.Set("X-Member", e.admin)
		resp, err := b.client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		assert.Contains(t, csp, "script-src 'self'", path)
		assert.NotContains(t, csp, "unsafe-inline", path)
		assert.Contains(t, csp, "frame-ancestors 'none'", path)
		assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"), path)
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), path)
		if path != "/api/openapi.json" {
			assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"), path)
		}
	}
	_, page := b.get("/")
	assert.NotContains(t, page, "<script>", "no inline script")
	assert.NotContains(t, page, " onclick=", "no inline handler")
}

func TestSecurityCrossOriginAndFormToken(t *testing.T) {
	e := newEnv(t, 0)
	b := e.browser(e.admin, "fr")
	b.get("/") // sets the form token
	tok := b.csrf()
	send := func(headers map[string]string, form url.Values) int {
		req, _ := http.NewRequest("POST", e.srv.URL+"/team/members/"+e.user+"/deactivate", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := b.client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusForbidden, send(map[string]string{"Sec-Fetch-Site": "cross-site"}, url.Values{"csrf": {tok}}),
		"a page of another site, even with the token")
	assert.Equal(t, http.StatusForbidden, send(map[string]string{"Origin": "https://evil.example"}, url.Values{"csrf": {tok}}))
	assert.Equal(t, http.StatusForbidden, send(nil, url.Values{}), "no Origin and no token: an old browser's forged form")
	assert.Equal(t, http.StatusForbidden, send(nil, url.Values{"csrf": {strings.Repeat("A", 43)}}), "a wrong token")
	assert.Equal(t, membership.StatusActive, e.status(e.user), "nothing changed")
	assert.Equal(t, http.StatusSeeOther, send(map[string]string{"Sec-Fetch-Site": "same-origin"}, url.Values{"csrf": {tok}}))
	assert.Equal(t, membership.StatusDeactivated, e.status(e.user))

	// The API refuses the bodies a page of another site sends without a
	// preflight, and cross-site requests.
	for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"} {
		req, _ := http.NewRequest("PUT", e.srv.URL+"/team/api/members/"+e.user+"/status", strings.NewReader(`{"status":"active"}`))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("X-Member", e.admin)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode, ct)
	}
	resp, _ := e.call(e.admin, "PUT", "/api/members/"+e.user+"/status", map[string]string{"status": "active"}, nil, "Sec-Fetch-Site", "cross-site")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, membership.StatusDeactivated, e.status(e.user), "nothing changed")
}

func TestSecurityPermissionsAreTheServices(t *testing.T) {
	e := newEnv(t, 0)
	b := e.browser(e.user, "fr")
	_, page := b.get("/")
	assert.NotContains(t, page, `id="bulk"`, "a plain user sees no mass action")
	st, _, html := b.post("/members/"+e.reader+"/deactivate", url.Values{})
	assert.Equal(t, http.StatusForbidden, st, "the forged form meets the service's check")
	assert.Contains(t, html, "votre rôle ne permet pas")
	assert.Equal(t, membership.StatusActive, e.status(e.reader))

	m := e.browser(e.manager, "fr")
	m.get("/")
	st, _, html = m.post("/members/"+e.admin+"/remove", url.Values{})
	assert.Equal(t, http.StatusForbidden, st, "a manager cannot remove an admin")
	assert.Contains(t, html, `id="flash"`)
	assert.Equal(t, membership.StatusActive, e.status(e.admin))
}

func TestSecurityEscapesMemberText(t *testing.T) {
	e := newEnv(t, 0)
	hostile := `<script>alert(1)</script>`
	_, err := e.kit.Members.Add(context.Background(), membership.SystemActor("t"), e.org, roster.NewMember{
		FirstName: hostile, LastName: `"><img src=x onerror=alert(2)>`, Login: "hostile", Groups: []string{`<b>g</b>`}, NoPassword: true})
	require.NoError(t, err)
	b := e.browser(e.admin, "fr")
	_, page := b.get("/")
	assert.NotContains(t, page, hostile)
	assert.NotContains(t, page, `<img src=x`)
	assert.NotContains(t, page, `<b>g</b>`)
	assert.Contains(t, page, "&lt;script&gt;alert(1)&lt;/script&gt;")
	assert.Contains(t, page, "Ateliers &lt;Dupont&gt; &amp; Fils", "the org's name too")
}

func TestSecurityUploadBounded(t *testing.T) {
	e := newEnv(t, 0, func(o *memberhttp.Options) { o.MaxUploadBytes = 1 << 10 })
	big := strings.Repeat("a;b;c;d@example.com;;Activé;Utilisateur;\r\n", 200)
	var p problem
	resp, _ := e.call(e.manager, "POST", "/api/imports", "Identifiant;Nom;Prénom;Adresse e-mail;Mot de passe;Etat;Rôle;Groupes\r\n"+big, &p)
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Equal(t, "too_large", p.Code)

	b := e.browser(e.manager, "fr")
	b.get("/import")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", b.csrf())
	fw, _ := mw.CreateFormFile("file", "big.csv")
	_, _ = fw.Write([]byte(strings.Repeat("x", 200<<10)))
	mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+"/team/import", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := b.client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)

	big = `{"first_name":"` + strings.Repeat("x", 2<<20) + `"}`
	req, _ = http.NewRequest("POST", e.srv.URL+"/team/api/members", strings.NewReader(big))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Member", e.admin)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "JSON bodies are bounded to 1 MiB")
}

// TestSecurityNoSecretInAnyAnswer walks the pages and API answers after
// members were added, invited and imported, and looks for any password
// hash, invitation token or security stamp.
func TestSecurityNoSecretInAnyAnswer(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	resp, _ := e.call(e.admin, "POST", "/api/invitations", map[string]string{"email": "sec@example.com"}, nil)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	token := e.sender.TokenFor("sec@example.com")
	var secrets []string
	require.NoError(t, e.kit.Store.View(ctx, e.org, func(tx store.Tx) error {
		for _, id := range []string{e.admin, e.manager, e.user, e.reader} {
			m, err := tx.Member(ctx, id)
			require.NoError(t, err)
			secrets = append(secrets, m.SecurityStamp, string(m.PasswordHash))
		}
		return nil
	}))
	secrets = append(secrets, token, "$argon2id")
	b := e.browser(e.admin, "fr")
	var bodies []string
	for _, p := range []string{"/", "/?status=pending", "/members/new", "/import", "/roles", "/review", "/members/" + e.user + "/remove"} {
		_, html := b.get(p)
		bodies = append(bodies, html)
	}
	for _, p := range []string{"/api/members?include_pending=true", "/api/members/" + e.user, "/api/invitations", "/api/events?limit=1000", "/api/review", "/api/export", "/api/roles"} {
		_, body := e.call(e.admin, "GET", p, nil, nil)
		bodies = append(bodies, string(body))
	}
	for _, body := range bodies {
		for _, s := range secrets {
			require.NotEmpty(t, s)
			assert.NotContains(t, body, s)
		}
	}
}
