package memberhttp_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

type memberOut struct {
	ID        string   `json:"id"`
	Login     string   `json:"login"`
	Email     string   `json:"email"`
	FirstName string   `json:"first_name"`
	RoleID    string   `json:"role_id"`
	RoleName  string   `json:"role_name"`
	Status    string   `json:"status"`
	Groups    []string `json:"groups"`
	Version   int64    `json:"version"`
}

type listOut struct {
	Members     []memberOut `json:"members"`
	Invitations []struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	} `json:"invitations"`
	Next string `json:"next"`
}

func TestAPIListFiltersAndCursor(t *testing.T) {
	e := newEnv(t, 0)
	var page listOut
	resp, _ := e.call(e.reader, "GET", "/api/members?group=lyon", nil, &page)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.ElementsMatch(t, []string{"rita.lecomte", "ugo.bernard"}, logins(page.Members), "group filter, case aside")

	seen := map[string]bool{}
	next := ""
	for i := 0; i < 10; i++ {
		var p listOut
		resp, _ := e.call(e.reader, "GET", "/api/members?limit=1&after="+next, nil, &p)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		for _, m := range p.Members {
			assert.False(t, seen[m.ID], "a cursor never repeats a member")
			seen[m.ID] = true
		}
		if next = p.Next; next == "" {
			break
		}
	}
	assert.Len(t, seen, 4, "the cursor walks the whole roster")

	var bad problem
	resp, _ = e.call(e.reader, "GET", "/api/members?limit=0", nil, &bad)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "limit", bad.Field)
	resp, _ = e.call(e.reader, "GET", "/api/members?status=gone", nil, &bad)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "status", bad.Field)
}

func logins(ms []memberOut) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Login)
	}
	return out
}

func TestAPIProblemsCarryCodeAndLanguage(t *testing.T) {
	e := newEnv(t, 0)
	var fr, en problem
	resp, _ := e.call(e.admin, "PUT", "/api/members/"+e.admin+"/status", map[string]string{"status": "deactivated"}, &fr)
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "last_admin", fr.Code)
	assert.Equal(t, "urn:memberkit:problem:last_admin", fr.Type)
	assert.Equal(t, 409, fr.Status)
	assert.Contains(t, fr.Detail, "administrateur")
	e.call(e.admin, "PUT", "/api/members/"+e.admin+"/status", map[string]string{"status": "deactivated"}, &en, "X-Lang", "en")
	assert.Contains(t, en.Detail, "admin")
	assert.NotEqual(t, fr.Detail, en.Detail)

	var p problem
	resp, _ = e.call(e.user, "POST", "/api/members", map[string]string{"first_name": "A", "last_name": "B"}, &p)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "the services refuse a plain user")
	assert.Equal(t, "forbidden", p.Code)

	resp, _ = e.call(e.admin, "POST", "/api/members", map[string]any{"first_name": "A", "last_name": "B", "colour": "red"}, &p)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "colour", p.Field, "an unknown field is named")
	resp, _ = e.call(e.admin, "POST", "/api/members", map[string]any{"first_name": 3}, &p)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "first_name", p.Field)
	resp, _ = e.call(e.admin, "POST", "/api/members", map[string]any{"first_name": "", "last_name": "B"}, &p)
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Equal(t, "invalid_field", p.Code)
	assert.Equal(t, "first_name", p.Field)

	resp, _ = e.call("", "GET", "/api/members", nil, &p)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "signed_out", p.Code)
	resp, _ = e.call(e.admin, "GET", "/api/nothing", nil, &p)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = e.call(e.admin, "GET", "/api/members/nobody", nil, &p)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "not_found", p.Code)
}

func TestAPIAddShowsNoPassword(t *testing.T) {
	e := newEnv(t, 0)
	var m memberOut
	resp, body := e.call(e.manager, "POST", "/api/members", map[string]any{"first_name": "Zoé", "last_name": "Lefèvre", "groups": []string{"Nantes"}}, &m)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)
	assert.Equal(t, "members/"+m.ID, resp.Header.Get("Location"))
	assert.Equal(t, "zoe.lefevre", m.Login)
	assert.Equal(t, []string{"Nantes"}, m.Groups)
	for _, secret := range []string{"password", "hash", "stamp", "$argon2"} {
		assert.NotContains(t, strings.ToLower(string(body)), secret)
	}
	got, err := e.kit.Members.Get(context.Background(), membership.SystemActor("t"), e.org, m.ID)
	require.NoError(t, err)
	assert.Empty(t, got.PasswordHash, "added without a password anyone saw: the member signs in through the host")
}

func TestAPIIdempotencyKey(t *testing.T) {
	e := newEnv(t, 0)
	body := map[string]string{"email": "new@example.com", "role_id": "user"}
	var first, again map[string]any
	r1, _ := e.call(e.manager, "POST", "/api/invitations", body, &first, "Idempotency-Key", "k1")
	r2, _ := e.call(e.manager, "POST", "/api/invitations", body, &again, "Idempotency-Key", "k1")
	require.Equal(t, http.StatusCreated, r1.StatusCode)
	assert.Equal(t, http.StatusCreated, r2.StatusCode)
	assert.Equal(t, first, again, "the retry gets the first answer")
	assert.Equal(t, "true", r2.Header.Get("Idempotent-Replayed"))
	assert.Len(t, e.sender.All(), 1, "one invitation sent, not two")

	var p problem
	r3, _ := e.call(e.manager, "POST", "/api/invitations", map[string]string{"email": "other@example.com"}, &p, "Idempotency-Key", "k1")
	assert.Equal(t, http.StatusUnprocessableEntity, r3.StatusCode)
	assert.Equal(t, "idempotency_key_reused", p.Code)
	r4, _ := e.call(e.admin, "POST", "/api/invitations", map[string]string{"email": "third@example.com"}, nil, "Idempotency-Key", "k1")
	assert.Equal(t, http.StatusCreated, r4.StatusCode, "keys are per actor")

	// Concurrent retries with one key add one member.
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := e.call(e.admin, "POST", "/api/members", map[string]string{"first_name": "Idem", "last_name": "Potent"}, nil, "Idempotency-Key", "add-1")
			codes[i] = r.StatusCode
		}()
	}
	wg.Wait()
	n, err := e.kit.Members.Count(context.Background(), membership.SystemActor("t"), e.org, store.MemberFilter{Text: "potent"})
	require.NoError(t, err)
	assert.Equal(t, 1, n, "codes %v", codes)
	for _, c := range codes {
		assert.Contains(t, []int{http.StatusCreated, http.StatusConflict}, c)
	}
}

func TestAPIBulkByFilterAndIDs(t *testing.T) {
	e := newEnv(t, 0)
	var res struct {
		Changed, Unchanged []string
		Skipped            []struct {
			Code     string `json:"code"`
			MemberID string `json:"member_id"`
		}
	}
	resp, body := e.call(e.manager, "POST", "/api/members/bulk", map[string]any{"action": "deactivate", "filter": map[string]string{"group": "Lyon"}}, &res)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.ElementsMatch(t, []string{e.reader, e.user}, res.Changed)
	resp, _ = e.call(e.manager, "POST", "/api/members/bulk", map[string]any{"action": "activate", "ids": []string{e.user, e.reader}}, &res)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.ElementsMatch(t, []string{e.reader, e.user}, res.Changed)

	var p problem
	resp, _ = e.call(e.manager, "POST", "/api/members/bulk", map[string]any{"action": "deactivate", "ids": []string{e.admin}}, &p)
	assert.Equal(t, http.StatusConflict, resp.StatusCode, "a manager cannot touch an admin: the bulk is refused whole")
	assert.Equal(t, "bulk_refused", p.Code)
	require.NotEmpty(t, p.Errors)
	assert.Equal(t, e.admin, p.Errors[0].MemberID)
	resp, _ = e.call(e.manager, "POST", "/api/members/bulk", map[string]any{"action": "explode", "ids": []string{e.user}}, &p)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "action", p.Field)
	resp, _ = e.call(e.manager, "POST", "/api/members/bulk", map[string]any{"action": "deactivate"}, &p)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "neither IDs nor a filter")
}

func TestAPIImportPreviewThenApplyOnce(t *testing.T) {
	e := newEnv(t, 0)
	resp, csv := e.call(e.manager, "GET", "/api/export", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
	file := string(csv) + "zoe.lefevre;Lefèvre;Zoé;zoe@example.com;;Activé;Utilisateur;Nantes\r\n"
	file = strings.Replace(file, "Bernard;Ugo", "Bernard;Hugo", 1)

	var plan struct {
		Token   string `json:"token"`
		Adds    int    `json:"adds"`
		Updates int    `json:"updates"`
		Actions []struct {
			Kind string `json:"kind"`
		} `json:"actions"`
	}
	resp, body := e.call(e.manager, "POST", "/api/imports", file, &plan)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)
	assert.Equal(t, 1, plan.Adds)
	assert.Equal(t, 1, plan.Updates)
	assert.NotEmpty(t, plan.Token)
	n, _ := e.kit.Members.Count(context.Background(), membership.SystemActor("t"), e.org, store.MemberFilter{})
	assert.Equal(t, 4, n, "a preview writes nothing")

	var p problem
	resp, _ = e.call(e.admin, "POST", "/api/imports/"+plan.Token+"/apply", nil, &p)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "another user cannot apply the manager's preview")
	var res map[string]int
	resp, body = e.call(e.manager, "POST", "/api/imports/"+plan.Token+"/apply", nil, &res)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Equal(t, 1, res["added"])
	assert.Equal(t, 1, res["updated"])
	assert.NotContains(t, string(body), "temporary")
	resp, _ = e.call(e.manager, "POST", "/api/imports/"+plan.Token+"/apply", nil, &p)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "a preview applies once")
	assert.Equal(t, "plan_expired", p.Code)

	bad := strings.SplitN(string(csv), "\n", 2)[0] + "\nx.y;Y;X;not-an-email;;Activé;Utilisateur;\r\n"
	resp, _ = e.call(e.manager, "POST", "/api/imports", bad, &p)
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Equal(t, "file_invalid", p.Code)
	require.NotEmpty(t, p.Errors)
	assert.Equal(t, 2, p.Errors[0].Line, "the problem names the CSV line")

	resp, _ = e.call(e.manager, "POST", "/api/imports", map[string]string{"csv": "no"}, &p)
	assert.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode)
}

func TestAPIInvitationAcceptedWithoutIdentity(t *testing.T) {
	e := newEnv(t, 0)
	var inv struct{ ID string }
	resp, _ := e.call(e.admin, "POST", "/api/invitations", map[string]string{"email": "nina@example.com"}, &inv)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	token := e.sender.TokenFor("nina@example.com")
	var p problem
	resp, _ = e.call("", "POST", "/api/invitations/accept", map[string]string{"token": token, "first_name": "Nina", "last_name": "Simon", "password": "short"}, &p)
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Equal(t, "password", p.Field)
	var m memberOut
	resp, body := e.call("", "POST", "/api/invitations/accept", map[string]string{"token": token, "first_name": "Nina", "last_name": "Simon",
		"password": "a long enough passphrase"}, &m)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)
	assert.Equal(t, "nina@example.com", m.Email)
	assert.Equal(t, "active", m.Status)
	resp, _ = e.call("", "POST", "/api/invitations/accept", map[string]string{"token": token, "first_name": "Nina", "last_name": "Simon",
		"password": "a long enough passphrase"}, &p)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "a link works once")
	assert.Equal(t, "invitation_invalid", p.Code)
}

func TestAPIEventsReviewRoles(t *testing.T) {
	e := newEnv(t, 0)
	var role struct {
		ID          string   `json:"id"`
		Permissions []string `json:"permissions"`
	}
	resp, body := e.call(e.admin, "POST", "/api/roles", map[string]any{"name": "Support", "permissions": []string{"members.read"}}, &role)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)
	assert.Equal(t, []string{"members.read"}, role.Permissions)
	resp, _ = e.call(e.admin, "PUT", "/api/roles/"+role.ID, map[string]any{"name": "Support N2", "permissions": []string{"members.read", "audit.read"}}, &role)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Len(t, role.Permissions, 2)
	resp, _ = e.call(e.admin, "DELETE", "/api/roles/"+role.ID, nil, nil)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)

	var evs struct {
		Events []struct{ Type string } `json:"events"`
		Next   string                  `json:"next"`
	}
	resp, _ = e.call(e.admin, "GET", "/api/events?limit=2", nil, &evs)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Len(t, evs.Events, 2)
	assert.NotEmpty(t, evs.Next)
	var p problem
	resp, _ = e.call(e.user, "GET", "/api/events", nil, &p)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	var rev struct {
		ActiveAdmins int      `json:"active_admins"`
		Notices      []string `json:"notices"`
	}
	resp, _ = e.call(e.admin, "GET", "/api/review", nil, &rev, "X-Lang", "en")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, 1, rev.ActiveAdmins)
	assert.NotEmpty(t, rev.Notices, "a single admin is a notice")
}

func TestAPIOpenAPIServed(t *testing.T) {
	e := newEnv(t, 0)
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	resp, _ := e.call("", "GET", "/api/openapi.json", nil, &doc)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "3.1.0", doc.OpenAPI)
	for _, p := range []string{"/api/members", "/api/invitations", "/api/imports", "/api/roles"} {
		assert.Contains(t, doc.Paths, p, fmt.Sprint("documented: ", p))
	}
}
