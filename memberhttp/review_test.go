package memberhttp_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/memberhttp"
	"github.com/memberkit/memberkit/membership"
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
