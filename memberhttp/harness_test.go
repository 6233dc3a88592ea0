package memberhttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/memberhttp"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store/memstore"
)

// env is one org on a memstore kit behind the handler, mounted under
// /team on a test server. The test identity is the member named by the
// X-Member header or the "member" cookie.
type env struct {
	t       *testing.T
	kit     *memberkit.Kit
	srv     *httptest.Server
	sender  *invite.RecordingSender
	org     string
	admin   string // member IDs
	manager string
	user    string
	reader  string // a custom role with members.read only
}

func newEnv(t *testing.T, limit int, opts ...func(*memberhttp.Options)) *env {
	t.Helper()
	ctx := context.Background()
	sender := &invite.RecordingSender{}
	kit, err := memberkit.New(memstore.New(), &memberkit.Options{
		Hasher: membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1}),
		Sender: sender,
	})
	require.NoError(t, err)
	sys := membership.SystemActor("test")
	org, err := kit.Members.CreateOrg(ctx, roster.NewOrg{Name: "Ateliers <Dupont> & Fils", Plan: membership.PremiumPlan(limit),
		Features: []membership.Feature{membership.FeatureCSV}})
	require.NoError(t, err)
	add := func(first, last, role string, groups ...string) string {
		a, err := kit.Members.Add(ctx, sys, org.ID, roster.NewMember{FirstName: first, LastName: last, RoleID: role,
			Email: strings.ToLower(first) + "@example.com", Groups: groups, Password: "correct horse battery"})
		require.NoError(t, err)
		return a.Member.ID
	}
	e := &env{t: t, kit: kit, sender: sender, org: org.ID}
	e.admin = add("Alice", "Martin", membership.RoleAdmin, "Paris")
	mgr, err := kit.Members.CreateRole(ctx, sys, org.ID, "Coordinateur")
	require.NoError(t, err)
	_, err = kit.Members.UpdateRole(ctx, sys, org.ID, mgr.ID, mgr.Name, []membership.Permission{membership.PermMembersRead,
		membership.PermMembersManage, membership.PermInvitationsManage, membership.PermCSVImport, membership.PermCSVExport})
	require.NoError(t, err)
	e.manager = add("Marc", "Petit", mgr.ID, "Paris")
	rd, err := kit.Members.CreateRole(ctx, sys, org.ID, "Lecteur")
	require.NoError(t, err)
	_, err = kit.Members.UpdateRole(ctx, sys, org.ID, rd.ID, rd.Name, []membership.Permission{membership.PermMembersRead})
	require.NoError(t, err)
	e.reader = add("Rita", "Lecomte", rd.ID, "Lyon")
	e.user = add("Ugo", "Bernard", membership.RoleUser, "Lyon")
	o := memberhttp.Options{
		Identify: func(r *http.Request) (memberhttp.Identity, error) {
			id := r.Header.Get("X-Member")
			if c, err := r.Cookie("member"); err == nil && id == "" {
				id = c.Value
			}
			if id == "" {
				return memberhttp.Identity{}, memberhttp.ErrSignedOut
			}
			return memberhttp.Identity{OrgID: org.ID, Actor: membership.ActorMember(id), Lang: membership.Lang(r.Header.Get("X-Lang"))}, nil
		},
		UpgradeURL: "https://billing.example.com/upgrade",
	}
	for _, f := range opts {
		f(&o)
	}
	h, err := memberhttp.New(kit, o)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/team/", http.StripPrefix("/team", h))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// call sends one API request as member and decodes a JSON answer into out
// (when not nil); it returns the response, body already read.
func (e *env) call(member, method, path string, body any, out any, headers ...string) (*http.Response, []byte) {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "text/csv"
	default:
		buf, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd, ct = bytes.NewReader(buf), "application/json"
	}
	req, err := http.NewRequest(method, e.srv.URL+"/team"+path, rd)
	require.NoError(e.t, err)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if member != "" {
		req.Header.Set("X-Member", member)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	if out != nil && len(data) > 0 {
		require.NoError(e.t, json.Unmarshal(data, out), "%s", data)
	}
	return resp, data
}

// problem is a problem document as the API answers it.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	Field  string `json:"field"`
	Line   int    `json:"line"`
	Errors []struct {
		Code     string `json:"code"`
		Message  string `json:"message"`
		Line     int    `json:"line"`
		MemberID string `json:"member_id"`
	} `json:"errors"`
}

// browser is a cookie-keeping client signed in as one member, that does
// not follow redirects (the tests read them).
type browser struct {
	e      *env
	client *http.Client
}

func (e *env) browser(member string, lang string) *browser {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(e.srv.URL)
	if member != "" {
		jar.SetCookies(u, []*http.Cookie{{Name: "member", Value: member, Path: "/"}})
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: langTransport(lang)}
	return &browser{e: e, client: c}
}

type langTransport string

func (l langTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if l != "" {
		r.Header.Set("Accept-Language", string(l))
	}
	return http.DefaultTransport.RoundTrip(r)
}

// get fetches a page and returns its status and HTML.
func (b *browser) get(path string) (int, string) {
	b.e.t.Helper()
	resp, err := b.client.Get(b.e.srv.URL + "/team" + path)
	require.NoError(b.e.t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// csrf reads the form token the server set.
func (b *browser) csrf() string {
	u, _ := url.Parse(b.e.srv.URL + "/team/")
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "memberkit_csrf" {
			return c.Value
		}
	}
	b.e.t.Fatal("no form token: fetch a page first")
	return ""
}

// post sends a form with the token, as the page would, from the same
// origin; it returns the status, the Location and the HTML.
func (b *browser) post(path string, form url.Values) (int, string, string) {
	b.e.t.Helper()
	if form.Get("csrf") == "" {
		form.Set("csrf", b.csrf())
	}
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+"/team"+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.client.Do(req)
	require.NoError(b.e.t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(data)
}

func newMember(first, last string) roster.NewMember {
	return roster.NewMember{FirstName: first, LastName: last, NoPassword: true}
}
