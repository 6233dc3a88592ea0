package scim_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/scim"
	"github.com/memberkit/memberkit/store"
)

func TestGroups(t *testing.T) {
	each(t, func(t *testing.T, newStore func(t testing.TB) store.Store) {
		e := newEnv(t, newStore(t), 20)
		users := map[string]string{}
		for _, n := range []string{"ana", "ben", "cid"} {
			r := e.do("POST", "/Users", entraUser(n+"@acme.example", n, "Test", "ext-"+n))
			require.Equal(t, http.StatusCreated, r.status, r.raw)
			users[n] = r.str("id")
		}

		// Create with a member.
		r := e.do("POST", "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"displayName": "Ventes", "externalId": "g-ext", "members": []any{map[string]any{"value": users["ana"]}}})
		require.Equal(t, http.StatusCreated, r.status, r.raw)
		g := r.str("id")
		assert.Equal(t, "Ventes", r.str("displayName"))
		assert.Equal(t, users["ana"], r.str("members.0.value"))
		assert.True(t, strings.HasPrefix(r.header.Get("ETag"), `W/"1-`), r.header.Get("ETag"))
		assert.Equal(t, r.header.Get("ETag"), r.str("meta.version"))
		assert.Contains(t, e.member(users["ana"]).Groups, "Ventes", "the member carries the group's label")
		r = e.do("GET", "/Users/"+users["ana"], nil)
		assert.Equal(t, g, r.str("groups.0.value"), "a user lists its groups")
		assert.Equal(t, "Ventes", r.str("groups.0.display"))

		// The same name again: 409 uniqueness.
		r = e.do("POST", "/Groups", map[string]any{"displayName": "VENTES"})
		assert.Equal(t, http.StatusConflict, r.status)
		assert.Equal(t, "uniqueness", r.str("scimType"))

		// Entra ID: add members by value, remove by a value filter.
		r = e.do("PATCH", "/Groups/"+g, patchOp(
			op("Add", "members", []any{map[string]any{"value": users["ben"]}, map[string]any{"value": users["cid"]}}),
			op("Remove", `members[value eq "`+users["ana"]+`"]`, nil),
		))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Len(t, r.get("members"), 2)
		assert.NotContains(t, e.member(users["ana"]).Groups, "Ventes")
		assert.Contains(t, e.member(users["cid"]).Groups, "Ventes")
		// Entra ID also removes with a value list.
		r = e.do("PATCH", "/Groups/"+g, patchOp(op("Remove", "members", []any{map[string]any{"value": users["cid"]}})))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Len(t, r.get("members"), 1)

		// Okta: rename with no path; every member's label follows.
		r = e.do("PATCH", "/Groups/"+g, patchOp(op("replace", "", map[string]any{"id": g, "displayName": "Ventes France"})))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, "Ventes France", r.str("displayName"))
		assert.Contains(t, e.member(users["ben"]).Groups, "Ventes France")
		assert.NotContains(t, e.member(users["ben"]).Groups, "Ventes")
		assert.Equal(t, membership.EventGroupUpdated, e.events[len(e.events)-1].Type)

		// A member the org does not have: 400, nothing changes.
		r = e.do("PATCH", "/Groups/"+g, patchOp(op("add", "members", []any{map[string]any{"value": "nobody"}})))
		assert.Equal(t, http.StatusBadRequest, r.status)
		assert.Equal(t, "invalidValue", r.str("scimType"))

		// If-Match on a group: its tag moves with its members, whoever
		// changes them (here an admin's edit, outside SCIM).
		r = e.do("GET", "/Groups/"+g, nil)
		tag := r.header.Get("ETag")
		assert.Equal(t, http.StatusNotModified, e.do("GET", "/Groups/"+g, nil, "If-None-Match", tag).status)
		ben := e.member(users["ben"])
		_, err := e.kit.Members.Edit(e.ctx, sys, e.org.ID, ben.ID, roster.Patch{Groups: &[]string{}})
		require.NoError(t, err)
		r = e.do("GET", "/Groups/"+g, nil, "If-None-Match", tag)
		require.Equal(t, http.StatusOK, r.status, "the group changed: no 304")
		assert.Nil(t, r.get("members.0"))
		assert.NotEqual(t, tag, r.header.Get("ETag"))
		r = e.do("PATCH", "/Groups/"+g, patchOp(op("add", "members", []any{map[string]any{"value": users["ana"]}})), "If-Match", tag)
		assert.Equal(t, http.StatusPreconditionFailed, r.status)
		assert.Equal(t, http.StatusPreconditionFailed, e.do("DELETE", "/Groups/"+g, nil, "If-Match", tag).status)

		// Operations apply in order: a remove then an add of the same
		// member leaves them in; an add then a remove, out.
		r = e.do("PATCH", "/Groups/"+g, patchOp(
			op("remove", `members[value eq "`+users["ben"]+`"]`, nil),
			op("add", "members", []any{map[string]any{"value": users["ben"]}}),
			op("add", "members", []any{map[string]any{"value": users["ana"]}}),
			op("remove", "members", []any{map[string]any{"value": users["ana"]}}),
		))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Contains(t, e.member(users["ben"]).Groups, "Ventes France")
		assert.NotContains(t, e.member(users["ana"]).Groups, "Ventes France")

		// Filters and attribute selection on groups.
		r = e.do("GET", "/Groups?filter="+url.QueryEscape(`displayName eq "ventes france"`)+"&excludedAttributes=members", nil)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.EqualValues(t, 1, r.get("totalResults"))
		assert.Nil(t, r.get("Resources.0.members"))
		r = e.do("GET", "/Groups?filter="+url.QueryEscape(`members[value eq "`+users["ben"]+`"]`), nil)
		assert.EqualValues(t, 1, r.get("totalResults"))
		r = e.do("POST", "/Groups/.search", map[string]any{"filter": `externalId eq "g-ext"`})
		assert.EqualValues(t, 1, r.get("totalResults"))

		// PUT replaces the whole membership.
		r = e.do("PUT", "/Groups/"+g, map[string]any{"displayName": "Ventes France", "members": []any{map[string]any{"value": users["cid"]}}})
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Len(t, r.get("members"), 1)
		assert.Equal(t, users["cid"], r.str("members.0.value"))
		assert.NotContains(t, e.member(users["ben"]).Groups, "Ventes France")

		// DELETE takes the label off its members.
		assert.Equal(t, http.StatusNoContent, e.do("DELETE", "/Groups/"+g, nil).status)
		assert.Equal(t, http.StatusNotFound, e.do("GET", "/Groups/"+g, nil).status)
		assert.NotContains(t, e.member(users["cid"]).Groups, "Ventes France")
	})
}

func TestBaseURLAndGroupLimits(t *testing.T) {
	e := newEnv(t, testdb.Kinds()[0].New(t), 10)
	r := e.do("POST", "/Groups", map[string]any{"displayName": "Ops", "externalId": strings.Repeat("x", 257)})
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "invalidValue", r.str("scimType"))
	r = e.do("POST", "/Groups", map[string]any{"displayName": strings.Repeat("g", 256)})
	assert.Equal(t, http.StatusCreated, r.status, "a 256-character group name, as Entra ID allows")

	// Behind a proxy, the locations are the ones the host configures.
	h, err := scim.New(scim.Options{Members: e.kit.Members, Directory: e.kit.Directory, BaseURL: "https://app.example.com/scim/v2/"})
	require.NoError(t, err)
	req := httptest.NewRequest("POST", "/Users", strings.NewReader(`{"userName":"kim@acme.example"}`))
	req.Header.Set("Authorization", "Bearer "+e.token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.True(t, strings.HasPrefix(rec.Header().Get("Location"), "https://app.example.com/scim/v2/Users/"), rec.Header().Get("Location"))
}
