package memberhttp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/memberhttp"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store/memstore"
)

func TestAPIBulkEmptyFilterNeedsAll(t *testing.T) {
	e := newEnv(t, 0)
	var p problem
	resp, _ := e.call(e.admin, "POST", "/api/members/bulk", map[string]any{"action": "deactivate", "filter": map[string]any{}}, &p)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "an empty filter is the whole org: refused unless said so")
	assert.Equal(t, "filter.all", p.Field)
	assert.Equal(t, membership.StatusActive, e.status(e.user))
	var res struct{ Changed []string }
	resp, _ = e.call(e.admin, "POST", "/api/members/bulk", map[string]any{"action": "deactivate", "filter": map[string]any{"all": true}}, &res)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Len(t, res.Changed, 3, "everyone but the actor")
}

func TestAPIRoleCreatedWholeOrNotAtAll(t *testing.T) {
	e := newEnv(t, 0)
	var p problem
	resp, _ := e.call(e.admin, "POST", "/api/roles", map[string]any{"name": "Half", "permissions": []string{"no.such.perm"}}, &p)
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Equal(t, "permissions", p.Field)
	roles, err := e.kit.Members.Roles(context.Background(), membership.SystemActor("t"), e.org)
	require.NoError(t, err)
	for _, r := range roles {
		assert.NotEqual(t, "Half", r.Name, "no half-made role left behind")
	}
	resp, _ = e.call(e.admin, "POST", "/api/roles", map[string]any{"name": "Half", "permissions": []string{"members.read"}}, nil)
	assert.Equal(t, http.StatusCreated, resp.StatusCode, "the name is still free")
}

func TestAPIPreviewAppliesOnceUnderRace(t *testing.T) {
	e := newEnv(t, 0)
	_, csv := e.call(e.manager, "GET", "/api/export", nil, nil)
	file := string(csv) + "new.one;One;New;new@example.com;;Activé;Utilisateur;\r\n"
	var first, second struct{ Token string }
	e.call(e.manager, "POST", "/api/imports", file, &first)
	resp, _ := e.call(e.manager, "POST", "/api/imports", file, &second)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	resp, _ = e.call(e.manager, "POST", "/api/imports/"+first.Token+"/apply", nil, nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "a user's new preview replaces the previous one")

	codes := make([]int, 6)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := e.call(e.manager, "POST", "/api/imports/"+second.Token+"/apply", nil, nil)
			codes[i] = r.StatusCode
		}()
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		if c == http.StatusOK {
			ok++
		}
	}
	assert.Equal(t, 1, ok, "one apply among racing ones: %v", codes)
}

func TestIdentifyFailureIsNotSignedOut(t *testing.T) {
	e := newEnv(t, 0, func(o *memberhttp.Options) {
		o.SignInURL = "/login"
		o.Identify = func(*http.Request) (memberhttp.Identity, error) {
			return memberhttp.Identity{}, errors.New("session store down")
		}
	})
	var p problem
	resp, _ := e.call("x", "GET", "/api/members", nil, &p)
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Equal(t, "internal", p.Code)
	assert.NotContains(t, p.Detail, "session store", "the host's error stays in its logs")
	st, page := e.browser("", "fr").get("/")
	assert.Equal(t, http.StatusInternalServerError, st, "no redirect to sign in")
	assert.NotContains(t, page, "session store")
}

func TestSecurityFormTokenCookieOverHTTPS(t *testing.T) {
	e := newEnv(t, 0)
	req, _ := http.NewRequest("GET", e.srv.URL+"/team/", nil)
	req.Header.Set("X-Member", e.admin)
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	c := resp.Header.Get("Set-Cookie")
	assert.True(t, strings.HasPrefix(c, "__Host-memberkit_csrf="), c)
	assert.Contains(t, c, "Secure")
	assert.Contains(t, c, "SameSite=Lax")

	for _, ct := range []string{"text/plain; x", "text/plain;charset=utf-8", "application/x-www-form-urlencoded;"} {
		resp, _ := e.call(e.admin, "POST", "/api/invitations/nobody/resend", nil, nil, "Content-Type", ct)
		assert.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode, ct)
	}
}

func TestAPIBulkFilterStatusNarrows(t *testing.T) {
	e := newEnv(t, 0)
	var p problem
	resp, _ := e.call(e.admin, "POST", "/api/members/bulk", map[string]any{"action": "deactivate", "filter": map[string]any{"status": "deactivated"}}, &p)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "a status alone names nobody in particular: the all rule holds")
	var res struct{ Changed []string }
	resp, _ = e.call(e.admin, "POST", "/api/members/bulk", map[string]any{"action": "deactivate", "filter": map[string]any{"group": "Lyon", "status": "deactivated"}}, &res)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, res.Changed, "the deactivated of Lyon: nobody to deactivate")
	assert.Equal(t, membership.StatusActive, e.status(e.user))
}

// Two mounts in one process, each on its own kit (one with the host's
// own permissions), and one mount serving two orgs by the identity.
func TestSeveralMountsAndOrgs(t *testing.T) {
	ctx := context.Background()
	a := newEnv(t, 0)
	cat, err := membership.NewCatalog([]membership.PermissionDef{{Name: "commissions.create", French: "Créer des commissions", English: "Create commissions"}}, nil)
	require.NoError(t, err)
	kit2, err := memberkit.New(memstore.New(), &memberkit.Options{Catalog: cat})
	require.NoError(t, err)
	sys := membership.SystemActor("t")
	var admins = map[string]string{}
	for _, name := range []string{"Globex", "Initech"} {
		org, err := kit2.Members.CreateOrg(ctx, roster.NewOrg{Name: name})
		require.NoError(t, err)
		m, err := kit2.Members.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Ada", LastName: name, RoleID: membership.RoleAdmin, NoPassword: true})
		require.NoError(t, err)
		admins[org.ID] = m.Member.ID
	}
	h2, err := memberhttp.New(kit2, memberhttp.Options{Identify: func(r *http.Request) (memberhttp.Identity, error) {
		org := r.Header.Get("X-Org")
		return memberhttp.Identity{OrgID: org, Actor: membership.ActorMember(admins[org])}, nil
	}})
	require.NoError(t, err)
	ha, err := memberhttp.New(a.kit, memberhttp.Options{Identify: func(*http.Request) (memberhttp.Identity, error) {
		return memberhttp.Identity{OrgID: a.org, Actor: membership.ActorMember(a.admin)}, nil
	}})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/a/", http.StripPrefix("/a", ha))
	mux.Handle("/b/", http.StripPrefix("/b", h2))
	get := func(path, org string) string {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("X-Org", org)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		return rec.Body.String()
	}
	assert.Contains(t, get("/a/", ""), "Ateliers &lt;Dupont&gt;")
	assert.Contains(t, get("/a/", ""), `href="/a/members/new"`, "links under its own mount")
	for org := range admins {
		page := get("/b/", org)
		assert.Contains(t, page, `href="/b/roles"`)
		other := "Globex"
		if strings.Contains(page, "Globex") {
			other = "Initech"
		}
		assert.NotContains(t, page, "Ada "+other, "one org's page shows none of the other's")
	}
	var org string
	for o := range admins {
		org = o
	}
	assert.Contains(t, get("/b/roles", org), "Créer des commissions", "custom roles offer the host's permissions")
}

// "Il peut être réinvité ultérieurement": a removed member invited again
// comes back through the invitation.
func TestRemovedMemberReinvited(t *testing.T) {
	e := newEnv(t, 0)
	resp, _ := e.call(e.admin, "DELETE", "/api/members/"+e.user, nil, nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp, _ = e.call(e.admin, "POST", "/api/invitations", map[string]string{"email": "ugo@example.com"}, nil)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var m memberOut
	resp, body := e.call("", "POST", "/api/invitations/accept", map[string]string{"token": e.sender.TokenFor("ugo@example.com"),
		"first_name": "Ugo", "last_name": "Bernard", "password": "a long enough passphrase"}, &m)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)
	assert.Equal(t, e.user, m.ID, "the same member, restored")
	assert.Equal(t, "active", m.Status)
}
