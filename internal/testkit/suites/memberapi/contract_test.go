package memberapi

import (
	"context"
	"errors"
	"flag"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/internal/testkit/faultstore"
	"github.com/memberkit/memberkit/memberhttp"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// The JSON shapes the suite reads back (the document checks the rest).
type member struct {
	ID          string            `json:"id"`
	Login       string            `json:"login"`
	Email       string            `json:"email"`
	RoleID      string            `json:"role_id"`
	Status      string            `json:"status"`
	UserID      string            `json:"user_id"`
	Groups      []string          `json:"groups"`
	Attributes  map[string]string `json:"attributes"`
	LastLoginAt *time.Time        `json:"last_login_at"`
	Version     int64             `json:"version"`
}

type invitation struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Status string `json:"status"`
}

type memberPage struct {
	Members     []member     `json:"members"`
	Invitations []invitation `json:"invitations"`
	Next        string       `json:"next"`
}

type importPlan struct {
	Token   string `json:"token"`
	Adds    int    `json:"adds"`
	Updates int    `json:"updates"`
}

// TestContract runs every operation of memberhttp's OpenAPI document,
// with every answer the document says each may give, and checks each
// exchange against the document; then that no operation, and no answer
// the document declares, was left out.
func TestContract(t *testing.T) {
	c := loadContract(t)
	e := newEnv(t, c, setup{})
	ctx := context.Background()

	t.Run("document", func(t *testing.T) {
		e := e.in(t)
		a := e.expect(call{method: "GET", path: "/api/openapi.json"}, http.StatusOK)
		assert.JSONEq(t, string(memberhttp.OpenAPI()), string(a.body), "the handler serves the document the suite checks against")
	})

	// What every signed-in operation answers before any work: nobody
	// signed in, the host's Identify failing, an unsafe request from
	// another origin or with a body a form may send.
	t.Run("every operation", func(t *testing.T) {
		e := e.in(t)
		for _, op := range signedIn(e) {
			op.as = ""
			e.problem(op, http.StatusUnauthorized, "signed_out")
			op.as = "broken:x"
			e.problem(op, http.StatusInternalServerError, "internal")
			op.as = "nowhere:" + e.admin
			switch op.path {
			case "/api/export":
				e.problem(op, http.StatusForbidden, "forbidden") // may the actor export there? no
			case "/api/imports/x/apply":
				e.problem(op, http.StatusNotFound, "plan_expired")
			default:
				e.problem(op, http.StatusNotFound, "not_found")
			}
			if op.method == http.MethodGet {
				continue
			}
			op.as = e.admin
			cross := op
			cross.header = append(slices.Clip(op.header), "Origin", "https://evil.example")
			e.problem(cross, http.StatusForbidden, "cross_origin")
			form := op
			form.json, form.raw, form.ctype, form.breaks = nil, "a=b", "text/plain", true
			e.problem(form, http.StatusUnsupportedMediaType, "unsupported_media_type")
			if op.json != nil { // every JSON body is bounded
				big := op
				big.json, big.raw, big.ctype, big.breaks = nil, `{"padding":"`+strings.Repeat("x", 2<<20)+`"}`, "application/json", true
				e.problem(big, http.StatusRequestEntityTooLarge, "too_large")
			}
		}
	})

	t.Run("org", func(t *testing.T) {
		e := e.in(t)
		var org struct {
			ID         string `json:"id"`
			SeatsUsed  int    `json:"seats_used"`
			UpgradeURL string `json:"upgrade_url"`
		}
		e.expect(call{as: e.reader, method: "GET", path: "/api/org"}, http.StatusOK).decode(t, &org)
		assert.Equal(t, e.org, org.ID)
		assert.Equal(t, 5, org.SeatsUsed)
		assert.Equal(t, "https://billing.example.com/upgrade", org.UpgradeURL)
		e.problem(call{as: "user:u-stranger", method: "GET", path: "/api/org"}, http.StatusForbidden, "forbidden")
		// A member whose role grants nothing reads nothing.
		for _, path := range []string{"/api/org", "/api/members", "/api/members/" + e.user, "/api/invitations", "/api/roles",
			"/api/events", "/api/review", "/api/export"} {
			e.problem(call{as: e.guest, method: "GET", path: path}, http.StatusForbidden, "forbidden")
		}
	})

	// A member signs in through memberkit once: last_login_at shows.
	_, err := e.kit.Members.Authenticate(ctx, e.org, "rita.lecomte", "correct horse battery")
	require.NoError(t, err)

	var added member
	t.Run("members", func(t *testing.T) {
		e := e.in(t)
		a := e.expect(call{as: e.manager, method: "POST", path: "/api/members", json: map[string]any{
			"first_name": "Zoé", "last_name": "Lefèvre", "email": "zoe@example.com", "groups": []string{"Nantes"},
			"attributes": map[string]string{"department": "Ventes"}}}, http.StatusCreated)
		a.decode(t, &added)
		assert.Equal(t, "members/"+added.ID, a.header.Get("Location"))
		assert.Equal(t, "zoe.lefevre", added.Login)
		assert.Equal(t, map[string]string{"department": "Ventes"}, added.Attributes)

		var m member
		e.expect(call{as: e.reader, method: "GET", path: "/api/members/" + e.reader}, http.StatusOK).decode(t, &m)
		assert.NotNil(t, m.LastLoginAt, "rita signed in")
		e.problem(call{as: e.reader, method: "GET", path: "/api/members/nobody"}, http.StatusNotFound, "not_found")

		var page memberPage
		e.expect(call{as: e.reader, method: "GET", path: "/api/members?group=lyon&q=rita"}, http.StatusOK).decode(t, &page)
		require.Len(t, page.Members, 1)
		seen := map[string]bool{}
		for next, i := "", 0; i < 10; i++ {
			var p memberPage
			e.expect(call{as: e.reader, method: "GET", path: "/api/members?limit=2&after=" + url.QueryEscape(next)}, http.StatusOK).decode(t, &p)
			for _, m := range p.Members {
				seen[m.ID] = true
			}
			if next = p.Next; next == "" {
				break
			}
		}
		assert.Len(t, seen, 6, "the cursor walks the roster")
		e.problem(call{as: e.reader, method: "GET", path: "/api/members?limit=0", breaks: true}, http.StatusBadRequest, "invalid_request")
		e.problem(call{as: e.reader, method: "GET", path: "/api/members?limit=1001", breaks: true}, http.StatusBadRequest, "invalid_request")
		e.problem(call{as: e.reader, method: "GET", path: "/api/members?status=gone", breaks: true}, http.StatusBadRequest, "invalid_request")
		e.problem(call{as: e.reader, method: "GET", path: "/api/members?include_pending=perhaps", breaks: true}, http.StatusBadRequest, "invalid_request")

		// Refusals of an add.
		e.problem(call{as: e.user, method: "POST", path: "/api/members", json: map[string]string{"first_name": "Ann", "last_name": "Onyme"}},
			http.StatusForbidden, "forbidden")
		e.problem(call{as: e.manager, method: "POST", path: "/api/members", json: map[string]string{"first_name": "Ann", "last_name": "Onyme",
			"user_id": "u-ann"}}, http.StatusForbidden, "forbidden")
		e.problem(call{as: e.manager, method: "POST", path: "/api/members", raw: `{"first_name": "Ann",`, ctype: "application/json", breaks: true},
			http.StatusBadRequest, "invalid_request")
		p := e.problem(call{as: e.manager, method: "POST", path: "/api/members", json: map[string]any{"first_name": "Ann", "last_name": "Onyme",
			"colour": "red"}, breaks: true}, http.StatusBadRequest, "invalid_request")
		assert.Equal(t, "colour", p.Field)
		p = e.problem(call{as: e.manager, method: "POST", path: "/api/members", json: map[string]any{"first_name": 3, "last_name": "Onyme"},
			breaks: true}, http.StatusBadRequest, "invalid_request")
		assert.Equal(t, "first_name", p.Field)
		e.problem(call{as: e.manager, method: "POST", path: "/api/members", raw: "first_name=Ann", ctype: "application/x-www-form-urlencoded",
			breaks: true}, http.StatusUnsupportedMediaType, "unsupported_media_type")
		e.problem(call{as: e.manager, method: "POST", path: "/api/members", raw: `{"first_name":"Ann","last_name":"Onyme"}`, ctype: "text/plain",
			breaks: true}, http.StatusUnsupportedMediaType, "unsupported_media_type")
		p = e.problem(call{as: e.manager, method: "POST", path: "/api/members", json: map[string]string{"first_name": "", "last_name": "Onyme"}},
			http.StatusUnprocessableEntity, "invalid_field")
		assert.Equal(t, "first_name", p.Field)
		p = e.problem(call{as: e.manager, method: "POST", path: "/api/members", json: map[string]string{"first_name": "Ann", "last_name": "Onyme",
			"email": "not-an-email"}}, http.StatusUnprocessableEntity, "invalid_field")
		assert.Equal(t, "email", p.Field)
		e.problem(call{as: e.manager, method: "POST", path: "/api/members", json: map[string]string{"first_name": "Ann", "last_name": "Onyme",
			"login": "zoe.lefevre"}}, http.StatusConflict, "duplicate")
		e.problem(call{as: e.manager, method: "POST", path: "/api/members", json: map[string]string{"first_name": "Ann", "last_name": "Onyme"},
			header: []string{"Origin", "https://evil.example"}}, http.StatusForbidden, "cross_origin")

		// Edits.
		var edited member
		e.expect(call{as: e.manager, method: "PATCH", path: "/api/members/" + added.ID, json: map[string]any{"first_name": "Zoë",
			"groups": []string{"Nantes", "Paris"}, "attributes": map[string]string{"cost_center": "FR-31"}, "if_version": added.Version}},
			http.StatusOK).decode(t, &edited)
		assert.Equal(t, []string{"Nantes", "Paris"}, edited.Groups)
		assert.Equal(t, map[string]string{"department": "Ventes", "cost_center": "FR-31"}, edited.Attributes)
		e.expect(call{as: e.manager, method: "PATCH", path: "/api/members/" + added.ID, json: map[string]any{"login": nil, "email": ""}},
			http.StatusOK).decode(t, &edited)
		assert.Empty(t, edited.Email, `"" clears the email`)
		e.problem(call{as: e.manager, method: "PATCH", path: "/api/members/" + added.ID, json: map[string]any{"last_name": "X",
			"if_version": added.Version}}, http.StatusConflict, "conflict")
		e.problem(call{as: e.manager, method: "PATCH", path: "/api/members/" + added.ID, json: map[string]any{"email": "nope"}},
			http.StatusUnprocessableEntity, "invalid_field")
		e.problem(call{as: e.manager, method: "PATCH", path: "/api/members/" + added.ID, json: map[string]any{"attributes": map[string]string{"Bad Key": "x"}},
			breaks: true}, http.StatusUnprocessableEntity, "invalid_field")
		e.problem(call{as: e.manager, method: "PATCH", path: "/api/members/nobody", json: map[string]any{"last_name": "X"}},
			http.StatusNotFound, "not_found")
		e.problem(call{as: e.manager, method: "PATCH", path: "/api/members/" + added.ID, raw: "[]", ctype: "application/json", breaks: true},
			http.StatusBadRequest, "invalid_request")
		e.problem(call{as: e.manager, method: "PATCH", path: "/api/members/" + added.ID, raw: "last_name=X", ctype: "text/plain", breaks: true},
			http.StatusUnsupportedMediaType, "unsupported_media_type")
		e.problem(call{as: e.user, method: "PATCH", path: "/api/members/" + added.ID, json: map[string]any{"last_name": "X"}},
			http.StatusForbidden, "forbidden")
		e.problem(call{as: e.manager, method: "PATCH", path: "/api/members/" + e.admin, json: map[string]any{"last_name": "X"}},
			http.StatusForbidden, "forbidden")

		// Role and status.
		e.expect(call{as: e.admin, method: "PUT", path: "/api/members/" + added.ID + "/role", json: map[string]string{"role_id": e.readerRole}},
			http.StatusOK).decode(t, &edited)
		assert.Equal(t, e.readerRole, edited.RoleID)
		e.problem(call{as: e.admin, method: "PUT", path: "/api/members/" + e.admin + "/role", json: map[string]string{"role_id": membership.RoleUser}},
			http.StatusConflict, "last_admin")
		e.problem(call{as: e.admin, method: "PUT", path: "/api/members/" + added.ID + "/role", json: map[string]string{"role_id": "no-such-role"}},
			http.StatusUnprocessableEntity, "invalid_field")
		e.problem(call{as: e.admin, method: "PUT", path: "/api/members/" + added.ID + "/role", json: map[string]string{"role": "user"}, breaks: true},
			http.StatusBadRequest, "invalid_request")
		e.problem(call{as: e.admin, method: "PUT", path: "/api/members/nobody/role", json: map[string]string{"role_id": "user"}},
			http.StatusNotFound, "not_found")
		e.problem(call{as: e.manager, method: "PUT", path: "/api/members/" + added.ID + "/role", json: map[string]string{"role_id": membership.RoleAdmin}},
			http.StatusForbidden, "forbidden")

		e.expect(call{as: e.manager, method: "PUT", path: "/api/members/" + added.ID + "/status", json: map[string]string{"status": "deactivated"}},
			http.StatusOK).decode(t, &edited)
		assert.Equal(t, "deactivated", edited.Status)
		e.expect(call{as: e.manager, method: "PUT", path: "/api/members/" + added.ID + "/status", json: map[string]string{"status": "active"}},
			http.StatusOK).decode(t, &edited)
		assert.Equal(t, "active", edited.Status)
		p = e.problem(call{as: e.manager, method: "PUT", path: "/api/members/" + added.ID + "/status", json: map[string]string{"status": "gone"},
			breaks: true}, http.StatusBadRequest, "invalid_request")
		assert.Equal(t, "status", p.Field)
		e.problem(call{as: e.admin, method: "PUT", path: "/api/members/" + e.admin + "/status", json: map[string]string{"status": "deactivated"}},
			http.StatusConflict, "last_admin")
		e.problem(call{as: e.manager, method: "PUT", path: "/api/members/nobody/status", json: map[string]string{"status": "active"}},
			http.StatusNotFound, "not_found")

		// Removal.
		e.problem(call{as: e.user, method: "DELETE", path: "/api/members/" + added.ID}, http.StatusForbidden, "forbidden")
		e.problem(call{as: e.admin, method: "DELETE", path: "/api/members/" + e.admin}, http.StatusConflict, "last_admin")
		e.problem(call{as: e.admin, method: "DELETE", path: "/api/members/nobody"}, http.StatusNotFound, "not_found")
		e.expect(call{as: e.manager, method: "DELETE", path: "/api/members/" + added.ID}, http.StatusNoContent)
		e.expect(call{as: e.reader, method: "GET", path: "/api/members?status=removed"}, http.StatusOK).decode(t, &page)
		require.Len(t, page.Members, 1)
		assert.Equal(t, "removed", page.Members[0].Status)
	})

	t.Run("bulk", func(t *testing.T) {
		e := e.in(t)
		var res struct {
			Changed, Unchanged []string
			Skipped            []struct {
				Code     string `json:"code"`
				MemberID string `json:"member_id"`
			}
		}
		e.expect(call{as: e.manager, method: "POST", path: "/api/members/bulk", json: map[string]any{"action": "deactivate",
			"filter": map[string]string{"group": "Lyon"}}}, http.StatusOK).decode(t, &res)
		assert.ElementsMatch(t, []string{e.reader, e.user}, res.Changed)
		e.expect(call{as: e.manager, method: "POST", path: "/api/members/bulk", json: map[string]any{"action": "activate",
			"ids": []string{e.reader, e.user}}}, http.StatusOK).decode(t, &res)
		assert.ElementsMatch(t, []string{e.reader, e.user}, res.Changed)
		e.expect(call{as: e.manager, method: "POST", path: "/api/members/bulk", json: map[string]any{"action": "activate",
			"ids": []string{e.user}}}, http.StatusOK).decode(t, &res)
		assert.Equal(t, []string{e.user}, res.Unchanged)

		// By filter, the caller and the members above them are skipped.
		e.expect(call{as: e.manager, method: "POST", path: "/api/members/bulk", json: map[string]any{"action": "deactivate",
			"filter": map[string]string{"group": "Paris", "q": "a"}}}, http.StatusOK).decode(t, &res)
		assert.Empty(t, res.Changed)
		require.Len(t, res.Skipped, 2)
		assert.ElementsMatch(t, []string{e.admin, e.manager}, []string{res.Skipped[0].MemberID, res.Skipped[1].MemberID})

		p := e.problem(call{as: e.manager, method: "POST", path: "/api/members/bulk", json: map[string]any{"action": "deactivate",
			"ids": []string{e.user, e.admin}}}, http.StatusConflict, "bulk_refused")
		require.Len(t, p.Errors, 1)
		assert.Equal(t, e.admin, p.Errors[0].MemberID)
		e.problem(call{as: e.manager, method: "POST", path: "/api/members/bulk", json: map[string]any{"action": "explode",
			"ids": []string{e.user}}, breaks: true}, http.StatusBadRequest, "invalid_request")
		e.problem(call{as: e.manager, method: "POST", path: "/api/members/bulk", json: map[string]any{"action": "deactivate"},
			breaks: true}, http.StatusBadRequest, "invalid_request")

		// A filter that names nothing must say all.
		e.expect(call{as: e.manager, method: "POST", path: "/api/members/bulk", json: map[string]any{"action": "activate",
			"filter": map[string]any{"all": true}}}, http.StatusOK).decode(t, &res)
		assert.Empty(t, res.Changed, "nobody is deactivated")
		p = e.problem(call{as: e.manager, method: "POST", path: "/api/members/bulk", json: map[string]any{"action": "deactivate",
			"filter": map[string]any{}}, breaks: true}, http.StatusBadRequest, "invalid_request")
		assert.Equal(t, "filter.all", p.Field)
		e.problem(call{as: e.manager, method: "POST", path: "/api/members/bulk", json: map[string]any{"action": "deactivate",
			"filter": map[string]any{"group": "Lyon", "all": true}}, breaks: true}, http.StatusBadRequest, "invalid_request")
		e.problem(call{as: e.manager, method: "POST", path: "/api/members/bulk", json: map[string]any{"action": "deactivate",
			"ids": []string{e.user}, "filter": map[string]string{"group": "Lyon"}}, breaks: true}, http.StatusBadRequest, "invalid_request")
		e.problem(call{as: e.user, method: "POST", path: "/api/members/bulk", json: map[string]any{"action": "deactivate",
			"ids": []string{e.reader}}}, http.StatusForbidden, "forbidden")
	})

	var ninaInvitation string
	t.Run("invitations", func(t *testing.T) {
		e := e.in(t)
		var inv invitation
		e.expect(call{as: e.manager, method: "POST", path: "/api/invitations", json: map[string]string{"email": "nina@example.com"}},
			http.StatusCreated).decode(t, &inv)
		ninaInvitation = inv.ID
		assert.Equal(t, "pending", inv.Status)
		e.problem(call{as: e.manager, method: "POST", path: "/api/invitations", json: map[string]string{"email": "nina@example.com"}},
			http.StatusConflict, "invitation_pending")
		e.problem(call{as: e.manager, method: "POST", path: "/api/invitations", json: map[string]string{"email": "alice@example.com"}},
			http.StatusConflict, "already_member")
		e.problem(call{as: e.manager, method: "POST", path: "/api/invitations", json: map[string]string{"email": "not-an-email"}},
			http.StatusUnprocessableEntity, "invalid_field")
		e.problem(call{as: e.manager, method: "POST", path: "/api/invitations", json: map[string]string{"email": "x@example.com", "role_id": "admin"}},
			http.StatusForbidden, "forbidden")
		e.problem(call{as: e.user, method: "POST", path: "/api/invitations", json: map[string]string{"email": "x@example.com"}},
			http.StatusForbidden, "forbidden")
		e.problem(call{as: e.manager, method: "POST", path: "/api/invitations", json: map[string]any{"email": "x@example.com", "cc": "y"},
			breaks: true}, http.StatusBadRequest, "invalid_request")

		// The host's sender fails: the invitation is saved, 502.
		e.sender.failWith(errors.New("smtp: connection refused"))
		e.problem(call{as: e.manager, method: "POST", path: "/api/invitations", json: map[string]string{"email": "omar@example.com"}},
			http.StatusBadGateway, "send_failed")
		var list struct {
			Invitations []invitation `json:"invitations"`
		}
		e.expect(call{as: e.reader, method: "GET", path: "/api/invitations"}, http.StatusOK).decode(t, &list)
		require.Len(t, list.Invitations, 2)
		omar := list.Invitations[1]
		assert.Equal(t, "omar@example.com", omar.Email)
		e.problem(call{as: e.manager, method: "POST", path: "/api/invitations/" + omar.ID + "/resend"}, http.StatusBadGateway, "send_failed")
		e.sender.failWith(nil)
		e.expect(call{as: e.manager, method: "POST", path: "/api/invitations/" + omar.ID + "/resend"}, http.StatusOK).decode(t, &inv)
		assert.Equal(t, omar.ID, inv.ID)
		e.problem(call{as: e.manager, method: "POST", path: "/api/invitations/nope/resend"}, http.StatusNotFound, "not_found")
		e.problem(call{as: e.reader, method: "POST", path: "/api/invitations/" + omar.ID + "/resend"}, http.StatusForbidden, "forbidden")

		var page memberPage
		e.expect(call{as: e.reader, method: "GET", path: "/api/members?include_pending=true"}, http.StatusOK).decode(t, &page)
		assert.Len(t, page.Invitations, 2, "pending invitations on the first page")
		e.expect(call{as: e.reader, method: "GET", path: "/api/members?status=pending"}, http.StatusOK).decode(t, &page)
		assert.Len(t, page.Invitations, 2)
		assert.Empty(t, page.Members)

		// Accepting, with and without an account of the host.
		omarToken := e.sender.rec.TokenFor("omar@example.com")
		p := e.problem(call{method: "POST", path: "/api/invitations/accept", json: map[string]any{"token": omarToken, "first_name": "Omar",
			"last_name": "Sy", "password": "short"}}, http.StatusUnprocessableEntity, "invalid_field")
		assert.Equal(t, "password", p.Field)
		e.problem(call{method: "POST", path: "/api/invitations/accept", json: map[string]any{"token": omarToken, "first_name": "Omar",
			"last_name": "Sy", "as_user": true}}, http.StatusUnauthorized, "signed_out")
		e.problem(call{method: "POST", path: "/api/invitations/accept", raw: `{"token":"x"}`, ctype: "text/plain", breaks: true},
			http.StatusUnsupportedMediaType, "unsupported_media_type")
		e.problem(call{method: "POST", path: "/api/invitations/accept", raw: `{"token":`, ctype: "application/json", breaks: true},
			http.StatusBadRequest, "invalid_request")
		e.problem(call{method: "POST", path: "/api/invitations/accept", raw: `{"padding":"` + strings.Repeat("x", 2<<20) + `"}`,
			ctype: "application/json", breaks: true}, http.StatusRequestEntityTooLarge, "too_large")
		p = e.problem(call{method: "POST", path: "/api/invitations/accept", json: map[string]any{"token": omarToken, "first_name": "Omar",
			"last_name": "Sy"}, breaks: true}, http.StatusUnprocessableEntity, "invalid_field")
		assert.Equal(t, "password", p.Field, "a password, or as_user")
		p = e.problem(call{as: "user:u-omar", method: "POST", path: "/api/invitations/accept", json: map[string]any{"token": omarToken,
			"first_name": "Omar", "last_name": "Sy", "as_user": true, "password": "a long enough passphrase"}, breaks: true},
			http.StatusUnprocessableEntity, "invalid_field")
		assert.Equal(t, "password", p.Field, "not both")
		var joined member
		e.expect(call{as: "user:u-omar", method: "POST", path: "/api/invitations/accept", json: map[string]any{"token": omarToken,
			"first_name": "Omar", "last_name": "Sy", "as_user": true}}, http.StatusCreated).decode(t, &joined)
		assert.Equal(t, "u-omar", joined.UserID)
		assert.Equal(t, "active", joined.Status)
		e.problem(call{method: "POST", path: "/api/invitations/accept", json: map[string]any{"token": omarToken, "first_name": "Omar",
			"last_name": "Sy", "password": "a long enough passphrase"}}, http.StatusNotFound, "invitation_invalid")
		e.problem(call{as: e.manager, method: "DELETE", path: "/api/invitations/" + omar.ID}, http.StatusConflict, "not_pending")

		// Cancel one, accept another.
		e.expect(call{as: e.manager, method: "POST", path: "/api/invitations", json: map[string]string{"email": "paul@example.com",
			"role_id": e.readerRole}}, http.StatusCreated).decode(t, &inv)
		e.problem(call{as: e.reader, method: "DELETE", path: "/api/invitations/" + inv.ID}, http.StatusForbidden, "forbidden")
		e.expect(call{as: e.manager, method: "DELETE", path: "/api/invitations/" + inv.ID}, http.StatusNoContent)
		e.problem(call{as: e.manager, method: "DELETE", path: "/api/invitations/" + inv.ID}, http.StatusConflict, "not_pending")
		e.problem(call{as: e.manager, method: "DELETE", path: "/api/invitations/nope"}, http.StatusNotFound, "not_found")
		e.problem(call{as: e.manager, method: "POST", path: "/api/invitations/" + inv.ID + "/resend"}, http.StatusConflict, "not_pending")
		e.expect(call{as: e.manager, method: "POST", path: "/api/invitations", json: map[string]string{"email": "lea@example.com"}},
			http.StatusCreated)
		e.expect(call{method: "POST", path: "/api/invitations/accept", json: map[string]any{"token": e.sender.rec.TokenFor("lea@example.com"),
			"first_name": "Léa", "last_name": "Roux", "login": "lea", "password": "a long enough passphrase"}}, http.StatusCreated).decode(t, &joined)
		assert.Equal(t, "lea", joined.Login)

		// The address joined meanwhile; another origin may not accept.
		e.expect(call{as: e.manager, method: "POST", path: "/api/invitations", json: map[string]string{"email": "max@example.com"}},
			http.StatusCreated)
		maxToken := e.sender.rec.TokenFor("max@example.com")
		e.problem(call{method: "POST", path: "/api/invitations/accept", json: map[string]any{"token": maxToken, "first_name": "Max",
			"last_name": "Roux", "password": "a long enough passphrase"}, header: []string{"Origin", "https://evil.example"}},
			http.StatusForbidden, "cross_origin")
		e.expect(call{as: e.admin, method: "POST", path: "/api/members", json: map[string]string{"first_name": "Max", "last_name": "Roux",
			"email": "max@example.com"}}, http.StatusCreated)
		e.problem(call{method: "POST", path: "/api/invitations/accept", json: map[string]any{"token": maxToken, "first_name": "Max",
			"last_name": "Roux", "password": "a long enough passphrase"}}, http.StatusConflict, "already_member")

		// A client guessing tokens, as the host names it, is throttled.
		guess := call{method: "POST", path: "/api/invitations/accept", json: map[string]any{"token": "guessed-token", "first_name": "Eve",
			"last_name": "Guess", "password": "a long enough passphrase"}, header: []string{"X-Forwarded-For", "203.0.113.7"}}
		e.problem(guess, http.StatusNotFound, "invitation_invalid")
		e.problem(guess, http.StatusTooManyRequests, "too_many_attempts")
	})

	t.Run("idempotency", func(t *testing.T) {
		e := e.in(t)
		add := call{as: e.manager, method: "POST", path: "/api/members", json: map[string]string{"first_name": "Idem", "last_name": "Potent"},
			header: []string{"Idempotency-Key", "add-1"}}
		first := e.expect(add, http.StatusCreated)
		again := e.expect(add, http.StatusCreated)
		assert.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
		assert.Equal(t, first.header.Get("Location"), again.header.Get("Location"))
		assert.JSONEq(t, string(first.body), string(again.body), "the retry gets the first answer")
		other := add
		other.json = map[string]string{"first_name": "Other", "last_name": "Body"}
		e.problem(other, http.StatusUnprocessableEntity, "idempotency_key_reused")
		long := add
		long.header = []string{"Idempotency-Key", strings.Repeat("k", 256)}
		long.breaks = true
		p := e.problem(long, http.StatusBadRequest, "invalid_request")
		assert.Equal(t, "Idempotency-Key", p.Field)
		big := strings.Repeat("a", 1<<20)
		for _, huge := range []call{
			{as: e.manager, method: "POST", path: "/api/members", json: map[string]string{"first_name": big, "last_name": "Big"}},
			{as: e.manager, method: "POST", path: "/api/invitations", json: map[string]string{"email": big + "@example.com"}},
			{as: e.admin, method: "POST", path: "/api/roles", json: map[string]string{"name": big}},
		} {
			huge.header = []string{"Idempotency-Key", "huge"}
			e.problem(huge, http.StatusRequestEntityTooLarge, "too_large")
		}

		// A retry while the first request still runs is refused.
		invite := call{as: e.manager, method: "POST", path: "/api/invitations", json: map[string]string{"email": "slow@example.com"},
			header: []string{"Idempotency-Key", "invite-slow"}}
		started, release := e.sender.holdNext()
		done := make(chan answer, 1)
		go func() {
			a, err := e.send(invite)
			if err != nil {
				a.status = -1
			}
			done <- a
		}()
		<-started
		e.problem(invite, http.StatusConflict, "idempotency_in_progress")
		release()
		a := <-done
		e.check(invite, a)
		require.Equal(t, http.StatusCreated, a.status, "%s", a.body)
		replay := e.expect(invite, http.StatusCreated)
		assert.Equal(t, "true", replay.header.Get("Idempotent-Replayed"))

		role := call{as: e.admin, method: "POST", path: "/api/roles", json: map[string]any{"name": "Audit"},
			header: []string{"Idempotency-Key", "role-1"}}
		e.expect(role, http.StatusCreated)
		assert.Equal(t, "true", e.expect(role, http.StatusCreated).header.Get("Idempotent-Replayed"))
	})

	t.Run("roles", func(t *testing.T) {
		e := e.in(t)
		var roles struct {
			Roles []struct {
				ID      string `json:"id"`
				Builtin bool   `json:"builtin"`
			} `json:"roles"`
			Permissions []struct {
				Name string `json:"name"`
			} `json:"permissions"`
		}
		e.expect(call{as: e.reader, method: "GET", path: "/api/roles"}, http.StatusOK).decode(t, &roles)
		assert.Equal(t, membership.RoleAdmin, roles.Roles[0].ID)
		assert.True(t, roles.Roles[0].Builtin)
		assert.Len(t, roles.Permissions, len(membership.AllPermissions()))

		var role struct {
			ID          string   `json:"id"`
			Name        string   `json:"name"`
			Builtin     bool     `json:"builtin"`
			Permissions []string `json:"permissions"`
		}
		e.expect(call{as: e.admin, method: "POST", path: "/api/roles", json: map[string]any{"name": "Support",
			"permissions": []string{"members.read"}}}, http.StatusCreated).decode(t, &role)
		assert.Equal(t, []string{"members.read"}, role.Permissions)
		assert.False(t, role.Builtin)
		e.problem(call{as: e.admin, method: "POST", path: "/api/roles", json: map[string]any{"name": "Support"}}, http.StatusConflict, "duplicate")
		e.problem(call{as: e.admin, method: "POST", path: "/api/roles", json: map[string]any{"name": ""}}, http.StatusUnprocessableEntity, "invalid_field")
		e.problem(call{as: e.admin, method: "POST", path: "/api/roles", json: map[string]any{"name": "X", "permissions": []string{"no.such"}}},
			http.StatusUnprocessableEntity, "invalid_field")
		e.problem(call{as: e.admin, method: "POST", path: "/api/roles", json: map[string]any{"name": "X", "perms": []string{}}, breaks: true},
			http.StatusBadRequest, "invalid_request")
		e.problem(call{as: e.manager, method: "POST", path: "/api/roles", json: map[string]any{"name": "X"}}, http.StatusForbidden, "forbidden")

		e.expect(call{as: e.admin, method: "PUT", path: "/api/roles/" + role.ID, json: map[string]any{"name": "Support N2",
			"permissions": []string{"members.read", "audit.read"}}}, http.StatusOK).decode(t, &role)
		assert.Equal(t, "Support N2", role.Name)
		assert.Equal(t, []string{"audit.read", "members.read"}, role.Permissions)
		e.problem(call{as: e.admin, method: "PUT", path: "/api/roles/" + membership.RoleAdmin, json: map[string]any{"name": "Boss"}},
			http.StatusConflict, "builtin_role")
		e.problem(call{as: e.admin, method: "PUT", path: "/api/roles/nope", json: map[string]any{"name": "Nope"}}, http.StatusNotFound, "not_found")
		e.problem(call{as: e.admin, method: "PUT", path: "/api/roles/" + role.ID, json: map[string]any{"name": "Coordinateur"}},
			http.StatusConflict, "duplicate")
		e.problem(call{as: e.admin, method: "PUT", path: "/api/roles/" + role.ID, json: map[string]any{"name": ""}},
			http.StatusUnprocessableEntity, "invalid_field")
		e.problem(call{as: e.admin, method: "PUT", path: "/api/roles/" + role.ID, raw: "name=X", ctype: "multipart/form-data; boundary=x",
			breaks: true}, http.StatusUnsupportedMediaType, "unsupported_media_type")
		e.problem(call{as: e.admin, method: "PUT", path: "/api/roles/" + role.ID, json: []string{"name"}, breaks: true},
			http.StatusBadRequest, "invalid_request")
		e.problem(call{as: e.manager, method: "PUT", path: "/api/roles/" + role.ID, json: map[string]any{"name": "Mine"}},
			http.StatusForbidden, "forbidden")

		e.problem(call{as: e.admin, method: "DELETE", path: "/api/roles/" + e.readerRole}, http.StatusConflict, "role_in_use")
		e.problem(call{as: e.admin, method: "DELETE", path: "/api/roles/" + membership.RoleUser}, http.StatusConflict, "builtin_role")
		e.problem(call{as: e.manager, method: "DELETE", path: "/api/roles/" + role.ID}, http.StatusForbidden, "forbidden")
		e.expect(call{as: e.admin, method: "DELETE", path: "/api/roles/" + role.ID}, http.StatusNoContent)
		e.problem(call{as: e.admin, method: "DELETE", path: "/api/roles/" + role.ID}, http.StatusNotFound, "not_found")
	})

	var pendingPlan string
	t.Run("imports", func(t *testing.T) {
		e := e.in(t)
		a := e.expect(call{as: e.admin, method: "GET", path: "/api/export"}, http.StatusOK)
		assert.Equal(t, "text/csv; charset=utf-8", a.header.Get("Content-Type"))
		assert.Contains(t, a.header.Get("Content-Disposition"), "members.csv")
		export := string(a.body)
		require.True(t, strings.HasPrefix(export, "\ufeffIdentifiant;Nom;Prénom"), "%.80s", export)
		en := e.expect(call{as: e.manager, method: "GET", path: "/api/export?lang=en&comma=%2C"}, http.StatusOK)
		assert.True(t, strings.HasPrefix(strings.TrimPrefix(string(en.body), "\ufeff"), "Login,"), "%.80s", en.body)
		e.problem(call{as: e.reader, method: "GET", path: "/api/export"}, http.StatusForbidden, "forbidden")

		file := strings.Replace(export, "Bernard;Ugo", "Bernard;Hugo", 1) + "jean.dupont;Dupont;Jean;jean@example.com;;Activé;Utilisateur;Nantes\r\n"
		var plan importPlan
		e.expect(call{as: e.admin, method: "POST", path: "/api/imports", raw: file, ctype: "text/csv; charset=utf-8"},
			http.StatusCreated).decode(t, &plan)
		assert.Equal(t, 1, plan.Adds)
		assert.Equal(t, 1, plan.Updates)

		e.problem(call{as: e.manager, method: "POST", path: "/api/imports/" + plan.Token + "/apply"}, http.StatusNotFound, "plan_expired")
		var res struct {
			Added   int `json:"added"`
			Updated int `json:"updated"`
		}
		e.expect(call{as: e.admin, method: "POST", path: "/api/imports/" + plan.Token + "/apply"}, http.StatusOK).decode(t, &res)
		assert.Equal(t, 1, res.Added)
		assert.Equal(t, 1, res.Updated)
		e.problem(call{as: e.admin, method: "POST", path: "/api/imports/" + plan.Token + "/apply"}, http.StatusNotFound, "plan_expired")
		e.problem(call{as: e.admin, method: "POST", path: "/api/imports/x/apply", raw: "go", ctype: "text/plain", breaks: true},
			http.StatusUnsupportedMediaType, "unsupported_media_type")

		// A plan made stale by a change meanwhile.
		a = e.expect(call{as: e.admin, method: "GET", path: "/api/export"}, http.StatusOK)
		var stale importPlan
		e.expect(call{as: e.admin, method: "POST", path: "/api/imports", raw: strings.Replace(string(a.body), "Bernard;Hugo", "Bernard;Hugues", 1),
			ctype: "text/csv"}, http.StatusCreated).decode(t, &stale)
		e.expect(call{as: e.admin, method: "PUT", path: "/api/members/" + e.reader + "/role", json: map[string]string{"role_id": membership.RoleUser}},
			http.StatusOK)
		e.problem(call{as: e.admin, method: "POST", path: "/api/imports/" + stale.Token + "/apply"}, http.StatusConflict, "stale_plan")
		e.expect(call{as: e.admin, method: "PUT", path: "/api/members/" + e.reader + "/role", json: map[string]string{"role_id": e.readerRole}},
			http.StatusOK)

		// A file with bad lines names each.
		header := strings.SplitN(export, "\n", 2)[0]
		bad := header + "\nx.y;Y;X;not-an-email;;Activé;Utilisateur;\r\nz.z;;Zed;zed@example.com;;Activé;Utilisateur;\r\n"
		p := e.problem(call{as: e.admin, method: "POST", path: "/api/imports", raw: bad, ctype: "text/csv"},
			http.StatusUnprocessableEntity, "file_invalid")
		require.Len(t, p.Errors, 2, "one problem a line")
		assert.Equal(t, 2, p.Errors[0].Line)
		assert.Equal(t, 3, p.Errors[1].Line)
		for _, d := range p.Errors {
			assert.NotEmpty(t, d.Column)
		}

		// A file that would deactivate most of the org, unless allowed.
		few := header + "\nalice.martin;Martin;Alice;alice@example.com;;Activé;Administrateur;Paris\r\n"
		e.problem(call{as: e.admin, method: "POST", path: "/api/imports", raw: few, ctype: "text/csv"}, http.StatusConflict, "mass_deactivation")
		var mass importPlan
		e.expect(call{as: e.admin, method: "POST", path: "/api/imports?allow_mass_deactivation=true&role_id=" + e.readerRole, raw: few,
			ctype: "text/csv"}, http.StatusCreated).decode(t, &mass)
		pendingPlan = mass.Token
		e.problem(call{as: e.admin, method: "POST", path: "/api/imports?allow_mass_deactivation=perhaps", raw: few, ctype: "text/csv", breaks: true},
			http.StatusBadRequest, "invalid_request")
		e.problem(call{as: e.admin, method: "POST", path: "/api/imports?role_id=no-such-role", raw: file, ctype: "text/csv"},
			http.StatusUnprocessableEntity, "invalid_field")

		e.problem(call{as: e.admin, method: "POST", path: "/api/imports", json: map[string]string{"csv": "no"}, breaks: true},
			http.StatusUnsupportedMediaType, "unsupported_media_type")
		e.problem(call{as: e.admin, method: "POST", path: "/api/imports", raw: header + "\n" + strings.Repeat("Dupont;Jean;Activé\n", maxUpload/16),
			ctype: "text/csv"}, http.StatusRequestEntityTooLarge, "too_large")
		e.problem(call{as: e.user, method: "POST", path: "/api/imports", raw: file, ctype: "text/csv"}, http.StatusForbidden, "forbidden")
	})

	t.Run("audit", func(t *testing.T) {
		e := e.in(t)
		var page struct {
			Events []struct {
				ID   string `json:"id"`
				Type string `json:"type"`
			} `json:"events"`
			Next string `json:"next"`
		}
		e.expect(call{as: e.admin, method: "GET", path: "/api/events?limit=3"}, http.StatusOK).decode(t, &page)
		require.Len(t, page.Events, 3)
		require.NotEmpty(t, page.Next)
		first := page.Events[0].ID
		e.expect(call{as: e.admin, method: "GET", path: "/api/events?limit=3&after=" + url.QueryEscape(page.Next)}, http.StatusOK).decode(t, &page)
		require.NotEmpty(t, page.Events)
		assert.NotEqual(t, first, page.Events[0].ID)
		e.expect(call{as: e.admin, method: "GET", path: "/api/events?subject_id=" + e.user}, http.StatusOK).decode(t, &page)
		assert.NotEmpty(t, page.Events)
		all := 0
		for next, i := "", 0; i < 100; i++ {
			page.Events, page.Next = nil, "" // absent next: the last page
			e.expect(call{as: e.admin, method: "GET", path: "/api/events?limit=1000&after=" + url.QueryEscape(next)}, http.StatusOK).decode(t, &page)
			all += len(page.Events)
			if next = page.Next; next == "" {
				break
			}
		}
		assert.Greater(t, all, 30, "every event of the suite, each checked against the document")
		e.problem(call{as: e.admin, method: "GET", path: "/api/events?limit=0", breaks: true}, http.StatusBadRequest, "invalid_request")
		e.problem(call{as: e.admin, method: "GET", path: "/api/events?limit=many", breaks: true}, http.StatusBadRequest, "invalid_request")
		e.problem(call{as: e.user, method: "GET", path: "/api/events"}, http.StatusForbidden, "forbidden")

		var rev struct {
			ActiveAdmins int      `json:"active_admins"`
			Notices      []string `json:"notices"`
		}
		e.expect(call{as: e.admin, method: "GET", path: "/api/review", header: []string{"Accept-Language", "en"}}, http.StatusOK).decode(t, &rev)
		assert.Equal(t, 1, rev.ActiveAdmins)
		assert.NotEmpty(t, rev.Notices)
		e.problem(call{as: e.user, method: "GET", path: "/api/review"}, http.StatusForbidden, "forbidden")
	})

	// Eight days later: invitations expired, members idle, previews gone.
	t.Run("later", func(t *testing.T) {
		e := e.in(t)
		e.clock.Advance(8 * 24 * time.Hour)
		e.problem(call{method: "POST", path: "/api/invitations/accept", json: map[string]any{"token": e.sender.rec.TokenFor("nina@example.com"),
			"first_name": "Nina", "last_name": "Simon", "password": "a long enough passphrase"}}, http.StatusGone, "invitation_expired")
		var list struct {
			Invitations []invitation `json:"invitations"`
		}
		e.expect(call{as: e.reader, method: "GET", path: "/api/invitations"}, http.StatusOK).decode(t, &list)
		require.NotEmpty(t, list.Invitations)
		assert.Equal(t, "expired", list.Invitations[0].Status)
		var rev struct {
			Idle               []member     `json:"idle"`
			ExpiredInvitations []invitation `json:"expired_invitations"`
		}
		e.expect(call{as: e.admin, method: "GET", path: "/api/review"}, http.StatusOK).decode(t, &rev)
		assert.NotEmpty(t, rev.Idle)
		assert.NotEmpty(t, rev.ExpiredInvitations)
		var inv invitation
		e.expect(call{as: e.manager, method: "POST", path: "/api/invitations/" + ninaInvitation + "/resend"}, http.StatusOK).decode(t, &inv)
		assert.Equal(t, "pending", inv.Status)
		e.problem(call{as: e.admin, method: "POST", path: "/api/imports/" + pendingPlan + "/apply"}, http.StatusNotFound, "plan_expired")
	})

	t.Run("full plan", func(t *testing.T) {
		e := newEnv(t, c, setup{seats: 5})
		e.problem(call{as: e.admin, method: "POST", path: "/api/members", json: map[string]string{"first_name": "Ann", "last_name": "Onyme"}},
			http.StatusConflict, "member_limit")
		e.problem(call{as: e.admin, method: "POST", path: "/api/invitations", json: map[string]string{"email": "ann@example.com"}},
			http.StatusConflict, "member_limit")
		e.expect(call{as: e.admin, method: "PUT", path: "/api/members/" + e.user + "/status", json: map[string]string{"status": "deactivated"}},
			http.StatusOK)
		e.expect(call{as: e.admin, method: "POST", path: "/api/invitations", json: map[string]string{"email": "ann@example.com"}},
			http.StatusCreated)
		e.problem(call{as: e.admin, method: "PUT", path: "/api/members/" + e.user + "/status", json: map[string]string{"status": "active"}},
			http.StatusConflict, "member_limit")
		p := e.problem(call{as: e.admin, method: "POST", path: "/api/members/bulk", json: map[string]any{"action": "activate",
			"ids": []string{e.user}}}, http.StatusConflict, "bulk_refused")
		require.Len(t, p.Errors, 1)
		assert.Equal(t, "member_limit", p.Errors[0].Code)
	})

	t.Run("bare host", func(t *testing.T) {
		e := newEnv(t, c, setup{noSender: true})
		e.problem(call{as: e.admin, method: "POST", path: "/api/invitations", json: map[string]string{"email": "ann@example.com"}},
			http.StatusServiceUnavailable, "no_sender")
		require.NoError(t, e.kit.Members.SetFeatures(ctx, membership.SystemActor("test"), e.org))
		e.problem(call{as: e.admin, method: "GET", path: "/api/export"}, http.StatusForbidden, "feature_disabled")
		e.problem(call{as: e.admin, method: "POST", path: "/api/imports", raw: "Nom;Prénom;Etat\n", ctype: "text/csv"},
			http.StatusForbidden, "feature_disabled")
	})

	t.Run("database down", func(t *testing.T) {
		var ds *downStore
		e := newEnv(t, c, setup{wrap: func(s store.Store) store.Store { ds = &downStore{Store: s}; return ds }})
		e.expect(call{as: e.admin, method: "POST", path: "/api/invitations", json: map[string]string{"email": "ann@example.com"}},
			http.StatusCreated)
		var plan importPlan
		e.expect(call{as: e.admin, method: "POST", path: "/api/imports", raw: string(e.expect(call{as: e.admin, method: "GET",
			path: "/api/export"}, http.StatusOK).body), ctype: "text/csv"}, http.StatusCreated).decode(t, &plan)
		ds.down.Store(true)
		for _, op := range signedIn(e) {
			op.as = e.admin
			if op.path == "/api/imports/x/apply" {
				e.problem(op, http.StatusNotFound, "plan_expired") // no preview: the store is not asked
				continue
			}
			e.problem(op, http.StatusServiceUnavailable, "unavailable")
		}
		e.problem(call{method: "POST", path: "/api/invitations/accept", json: map[string]any{"token": e.sender.rec.TokenFor("ann@example.com"),
			"first_name": "Ann", "last_name": "Onyme", "password": "a long enough passphrase"}}, http.StatusServiceUnavailable, "unavailable")
		e.problem(call{as: e.admin, method: "POST", path: "/api/imports/" + plan.Token + "/apply"}, http.StatusServiceUnavailable, "unavailable")
	})

	t.Run("store failure", func(t *testing.T) {
		var fs *faultstore.Store
		e := newEnv(t, c, setup{wrap: func(s store.Store) store.Store { fs = faultstore.New(s); return fs }})
		fs.FailAt(1)
		e.problem(call{as: e.admin, method: "GET", path: "/api/org"}, http.StatusInternalServerError, "internal")
		add := call{as: e.admin, method: "POST", path: "/api/members", json: map[string]string{"first_name": "Ann", "last_name": "Onyme"},
			header: []string{"Idempotency-Key", "add-after-failure"}}
		fs.FailAt(1)
		e.problem(add, http.StatusInternalServerError, "internal")
		fs.FailAt(0)
		a := e.expect(add, http.StatusCreated)
		assert.Empty(t, a.header.Get("Idempotent-Replayed"), "a failure is not kept: the retry runs")
		e.expect(call{as: e.admin, method: "POST", path: "/api/invitations", json: map[string]string{"email": "bob@example.com"}},
			http.StatusCreated)
		fs.FailAt(1)
		e.problem(call{method: "POST", path: "/api/invitations/accept", json: map[string]any{"token": e.sender.rec.TokenFor("bob@example.com"),
			"first_name": "Bob", "last_name": "Morane", "password": "a long enough passphrase"}}, http.StatusInternalServerError, "internal")
	})

	t.Run("coverage", func(t *testing.T) {
		if run := flag.Lookup("test.run"); run != nil && strings.Contains(run.Value.String(), "/") {
			t.Skip("a subset of the suite ran")
		}
		if missing := c.missing(); len(missing) > 0 {
			t.Errorf("operations of the document the suite never exercised:\n  %s", strings.Join(missing, "\n  "))
		}
		// The document promises no answer the suite cannot provoke.
		if unseen := c.unseen(); len(unseen) > 0 {
			t.Errorf("answers the document declares and the suite never provoked:\n  %s", strings.Join(unseen, "\n  "))
		}
	})
}

// signedIn returns a request of each operation that needs a caller (who
// is left to the caller), valid for the document.
func signedIn(e *env) []call {
	csv := "Nom;Prénom;Etat\nMartin;Alice;Activé\n"
	return []call{
		{method: "GET", path: "/api/org"},
		{method: "GET", path: "/api/members"},
		{method: "POST", path: "/api/members", json: map[string]string{"first_name": "Ann", "last_name": "Onyme"}},
		{method: "POST", path: "/api/members/bulk", json: map[string]any{"action": "activate", "ids": []string{e.user}}},
		{method: "GET", path: "/api/members/" + e.user},
		{method: "PATCH", path: "/api/members/" + e.user, json: map[string]string{"first_name": "Hugo"}},
		{method: "PUT", path: "/api/members/" + e.user + "/role", json: map[string]string{"role_id": e.readerRole}},
		{method: "PUT", path: "/api/members/" + e.user + "/status", json: map[string]string{"status": "deactivated"}},
		{method: "DELETE", path: "/api/members/" + e.user},
		{method: "GET", path: "/api/invitations"},
		{method: "POST", path: "/api/invitations", json: map[string]string{"email": "ann@example.com"}},
		{method: "POST", path: "/api/invitations/x/resend"},
		{method: "DELETE", path: "/api/invitations/x"},
		{method: "GET", path: "/api/roles"},
		{method: "POST", path: "/api/roles", json: map[string]any{"name": "Support"}},
		{method: "PUT", path: "/api/roles/" + e.readerRole, json: map[string]any{"name": "Lecteurs"}},
		{method: "DELETE", path: "/api/roles/" + e.readerRole},
		{method: "POST", path: "/api/imports", raw: csv, ctype: "text/csv"},
		{method: "POST", path: "/api/imports/x/apply"},
		{method: "GET", path: "/api/export"},
		{method: "GET", path: "/api/events"},
		{method: "GET", path: "/api/review"},
	}
}

// in returns e reporting to t, a subtest.
func (e *env) in(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// The document is a valid OpenAPI 3.1 document, and it names every route
// of the API the handler registers, no more.
func TestDocument(t *testing.T) {
	c := loadContract(t)
	assert.Equal(t, "3.1.0", c.model.Version)
	ok, errs := c.validator.ValidateDocument()
	assert.True(t, ok, "the document breaks the OpenAPI 3.1 schema:%s", describe(errs))

	routes := registeredRoutes(t)
	require.NotEmpty(t, routes)
	assert.ElementsMatch(t, routes, c.operations(), "memberhttp's API routes and the document's operations")
}
