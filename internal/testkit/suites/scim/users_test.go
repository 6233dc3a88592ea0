package scim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/scim"
	"github.com/memberkit/memberkit/store"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t, testdb.Kinds()[0].New(t), 10)
	e.token = ""
	r := e.do("GET", "/Users", nil)
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Contains(t, r.header.Get("WWW-Authenticate"), "Bearer")
	assert.Equal(t, "401", r.str("status"), "a SCIM error document: %s", r.raw)

	e.token = "mkd_not-a-token"
	assert.Equal(t, http.StatusUnauthorized, e.do("GET", "/Users", nil).status)

	// A revoked token authenticates nothing; the list shows its last use.
	issued, err := e.kit.Directory.IssueToken(e.ctx, sys, e.org.ID, "Okta")
	require.NoError(t, err)
	e.token = string(issued.Secret)
	assert.Equal(t, http.StatusOK, e.do("GET", "/Users", nil).status)
	toks, err := e.kit.Directory.Tokens(e.ctx, sys, e.org.ID)
	require.NoError(t, err)
	require.Len(t, toks, 2)
	for _, tk := range toks {
		assert.Empty(t, tk.Hint[8:], "only a hint of the secret is kept")
		if tk.ID == issued.Token.ID {
			assert.False(t, tk.LastUsedAt.IsZero(), "the token's last use is listed")
		}
	}
	_, err = e.kit.Directory.RevokeToken(e.ctx, sys, e.org.ID, issued.Token.ID)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, e.do("GET", "/Users", nil).status)

	// Issuing takes org.manage: a plain member may not.
	u, err := e.kit.Members.Add(e.ctx, sys, e.org.ID, roster_new("Paul", "User"))
	require.NoError(t, err)
	_, err = e.kit.Directory.IssueToken(e.ctx, membership.ActorMember(u.Member.ID), e.org.ID, "mine")
	assert.ErrorIs(t, err, membership.ErrForbidden)
}

func TestDiscovery(t *testing.T) {
	e := newEnv(t, testdb.Kinds()[0].New(t), 10)
	token := e.token
	e.token = ""
	r := e.do("GET", "/ServiceProviderConfig", nil)
	require.Equal(t, http.StatusOK, r.status, "discovery needs no token")
	assert.Equal(t, http.StatusOK, e.do("GET", "/Schemas", nil).status)
	assert.Equal(t, http.StatusUnauthorized, e.do("GET", "/Users", nil).status)
	e.token = token
	r = e.do("GET", "/ServiceProviderConfig", nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, true, r.get("patch.supported"))
	assert.Equal(t, false, r.get("bulk.supported"))
	assert.Equal(t, true, r.get("filter.supported"))
	assert.Equal(t, false, r.get("sort.supported"))
	assert.Equal(t, true, r.get("etag.supported"))
	r = e.do("GET", "/ResourceTypes", nil)
	assert.EqualValues(t, 2, r.get("totalResults"))
	assert.Equal(t, "/Users", e.do("GET", "/ResourceTypes/User", nil).str("endpoint"))
	r = e.do("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "userName", r.str("attributes.0.name"))
	assert.Equal(t, http.StatusNotFound, e.do("GET", "/Schemas/urn:nope", nil).status)
	assert.Equal(t, http.StatusNotImplemented, e.do("POST", "/Bulk", map[string]any{}).status)
	assert.Equal(t, http.StatusNotImplemented, e.do("GET", "/Me", nil).status)
}

func TestUsers(t *testing.T) {
	each(t, func(t *testing.T, newStore func(t testing.TB) store.Store) {
		e := newEnv(t, newStore(t), 4)

		// Create, as Entra ID sends it.
		r := e.do("POST", "/Users", entraUser("Alice.Martin@acme.example", "Alice", "Martin", "ext-alice"))
		require.Equal(t, http.StatusCreated, r.status, r.raw)
		alice := r.str("id")
		assert.Equal(t, "Alice.Martin@acme.example", r.str("userName"), "given back as the provider spelled it")
		assert.Equal(t, "Alice", r.str("name.givenName"))
		assert.Equal(t, "ext-alice", r.str("externalId"))
		assert.Equal(t, true, r.get("active"))
		assert.Equal(t, "alice.martin@acme.example", r.str("emails.0.value"))
		assert.Equal(t, e.srv.URL+"/scim/v2/Users/"+alice, r.header.Get("Location"))
		assert.Equal(t, r.header.Get("Location"), r.str("meta.location"))
		assert.Equal(t, `W/"1"`, r.header.Get("ETag"))
		assert.Equal(t, `W/"1"`, r.str("meta.version"))
		assert.Nil(t, r.get("password"))
		m := e.member(alice)
		assert.Equal(t, "alice.martin@acme.example", m.Login, "the login is kept in lower case")
		assert.Equal(t, "ext-alice", m.Attributes[scim.ExternalIDAttribute])
		assert.Equal(t, membership.StatusActive, m.Status)
		last := e.events[len(e.events)-1]
		assert.Equal(t, membership.EventMemberAdded, last.Type)
		assert.Equal(t, "system:directory:Entra ID", last.Actor, "the token is the actor")
		_, err := e.kit.Members.Authenticate(e.ctx, e.org.ID, "alice.martin@acme.example", "")
		assert.Error(t, err, "a provisioned member has no password of memberkit's")

		// Only userName is required.
		r = e.do("POST", "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "bob@acme.example"})
		require.Equal(t, http.StatusCreated, r.status, r.raw)
		bob := r.str("id")
		assert.Equal(t, "bob", r.str("name.givenName"))

		// Uniqueness: 409 uniqueness.
		r = e.do("POST", "/Users", entraUser("ALICE.MARTIN@acme.example", "A", "M", "x"))
		assert.Equal(t, http.StatusConflict, r.status)
		assert.Equal(t, "uniqueness", r.str("scimType"))
		assert.Equal(t, "409", r.str("status"))

		// Bad input: 400 invalidValue, nothing stored.
		r = e.do("POST", "/Users", map[string]any{"userName": "no spaces allowed"})
		assert.Equal(t, http.StatusBadRequest, r.status)
		assert.Equal(t, "invalidValue", r.str("scimType"))
		r = e.do("POST", "/Users", "{not json")
		assert.Equal(t, http.StatusBadRequest, r.status)
		assert.Equal(t, "invalidSyntax", r.str("scimType"))

		// Get, ETags.
		r = e.do("GET", "/Users/"+alice, nil)
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, http.StatusNotModified, e.do("GET", "/Users/"+alice, nil, "If-None-Match", `W/"1"`).status)
		assert.Equal(t, http.StatusNotFound, e.do("GET", "/Users/nope", nil).status)

		// PATCH as Entra ID sends it: capitalised ops, "False" as a string,
		// a value filter on emails, a sub-attribute path.
		r = e.do("PATCH", "/Users/"+alice, patchOp(
			op("Replace", "active", "False"),
			op("Add", `emails[type eq "work"].value`, "alice@acme.example"),
			op("Replace", "name.familyName", "Martin-Durand"),
			op("Replace", "externalId", "ext-alice-2"),
		))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, false, r.get("active"))
		assert.Equal(t, "alice@acme.example", r.str("emails.0.value"))
		m = e.member(alice)
		assert.Equal(t, membership.StatusDeactivated, m.Status)
		assert.Equal(t, "Martin-Durand", m.LastName)
		assert.Equal(t, "alice@acme.example", m.Email)
		assert.Equal(t, "ext-alice-2", m.Attributes[scim.ExternalIDAttribute])
		assert.Equal(t, membership.EventMemberDeactivated, e.events[len(e.events)-1].Type, "one change, one event")

		// PATCH as Okta sends it: no path, an object of attributes.
		r = e.do("PATCH", "/Users/"+alice, patchOp(op("replace", "", map[string]any{"active": true})))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, membership.StatusActive, e.member(alice).Status)
		// Okta's profile update, with a dotted key.
		r = e.do("PATCH", "/Users/"+bob, patchOp(op("replace", "", map[string]any{"name.givenName": "Robert", "name.familyName": "Brun"})))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, "Robert Brun", e.member(bob).FullName())
		// remove with a path; remove without one is refused.
		r = e.do("PATCH", "/Users/"+alice, patchOp(op("remove", "externalId", nil)))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Empty(t, e.member(alice).Attributes[scim.ExternalIDAttribute])
		r = e.do("PATCH", "/Users/"+alice, patchOp(op("remove", "", nil)))
		assert.Equal(t, "noTarget", r.str("scimType"))
		r = e.do("PATCH", "/Users/"+alice, patchOp(op("replace", "emails[type eq", "x")))
		assert.Equal(t, "invalidPath", r.str("scimType"))

		// If-Match: a stale version is refused with 412, nothing changes.
		v := e.member(alice).Version
		r = e.do("PATCH", "/Users/"+alice, patchOp(op("replace", "name.givenName", "Stale")), "If-Match", `W/"1"`)
		assert.Equal(t, http.StatusPreconditionFailed, r.status)
		assert.Equal(t, "Alice", e.member(alice).FirstName)
		r = e.do("PATCH", "/Users/"+alice, patchOp(op("replace", "name.givenName", "Alicia")), "If-Match", `W/"`+itoa(v)+`"`)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, "Alicia", e.member(alice).FirstName)

		// PUT replaces.
		put := entraUser("alice.martin@acme.example", "Alice", "Martin", "ext-alice-3")
		put["active"] = false
		r = e.do("PUT", "/Users/"+alice, put)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		m = e.member(alice)
		assert.Equal(t, "Alice Martin", m.FullName())
		assert.Equal(t, membership.StatusDeactivated, m.Status)
		assert.Equal(t, "alice.martin@acme.example", m.Email)
		assert.Equal(t, "alice.martin@acme.example", r.str("userName"))
		// A PUT without active leaves the status as it is.
		delete(put, "active")
		put["name"] = map[string]any{"givenName": "Alice", "familyName": "Martin-Durand"}
		r = e.do("PUT", "/Users/"+alice, put)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, membership.StatusDeactivated, e.member(alice).Status)
		assert.Equal(t, "Martin-Durand", e.member(alice).LastName)

		// DELETE removes the member; their data stays and the same
		// userName brings them back.
		assert.Equal(t, http.StatusNoContent, e.do("DELETE", "/Users/"+bob, nil).status)
		assert.Equal(t, http.StatusNotFound, e.do("GET", "/Users/"+bob, nil).status)
		assert.Equal(t, http.StatusNotFound, e.do("DELETE", "/Users/"+bob, nil).status)
		assert.Equal(t, membership.StatusRemoved, e.member(bob).Status)
		r = e.do("POST", "/Users", map[string]any{"userName": "bob@acme.example", "name": map[string]any{"givenName": "Bob", "familyName": "Brun"}})
		require.Equal(t, http.StatusCreated, r.status, r.raw)
		assert.Equal(t, bob, r.str("id"), "the removed member is brought back")
	})
}

func TestSeatsAndLastAdmin(t *testing.T) {
	each(t, func(t *testing.T, newStore func(t testing.TB) store.Store) {
		e := newEnv(t, newStore(t), 2) // the admin and one more
		r := e.do("POST", "/Users", entraUser("u1@acme.example", "U", "One", "1"))
		require.Equal(t, http.StatusCreated, r.status, r.raw)
		u1 := r.str("id")
		// The plan is full: 409 with a clear detail, nothing stored.
		r = e.do("POST", "/Users", entraUser("u2@acme.example", "U", "Two", "2"))
		assert.Equal(t, http.StatusConflict, r.status)
		assert.Contains(t, r.str("detail"), "seat")
		// Deactivated users take no seat: they may be created…
		inactive := entraUser("u2@acme.example", "U", "Two", "2")
		inactive["active"] = false
		r = e.do("POST", "/Users", inactive)
		require.Equal(t, http.StatusCreated, r.status, r.raw)
		u2 := r.str("id")
		// …but not activated while the plan is full.
		r = e.do("PATCH", "/Users/"+u2, patchOp(op("replace", "active", true)))
		assert.Equal(t, http.StatusConflict, r.status)
		assert.Equal(t, membership.StatusDeactivated, e.member(u2).Status)
		r = e.do("PATCH", "/Users/"+u1, patchOp(op("replace", "active", false)))
		require.Equal(t, http.StatusOK, r.status)
		r = e.do("PATCH", "/Users/"+u2, patchOp(op("replace", "active", true)))
		require.Equal(t, http.StatusOK, r.status, r.raw)

		// The last admin stays: deactivating or deleting them is refused.
		r = e.do("PATCH", "/Users/"+e.admin.ID, patchOp(op("replace", "active", "False")))
		assert.Equal(t, http.StatusConflict, r.status)
		assert.Contains(t, r.str("detail"), "admin")
		assert.Equal(t, http.StatusConflict, e.do("DELETE", "/Users/"+e.admin.ID, nil).status)
		assert.Equal(t, membership.StatusActive, e.member(e.admin.ID).Status)
	})
}

func TestFiltersAndPaging(t *testing.T) {
	each(t, func(t *testing.T, newStore func(t testing.TB) store.Store) {
		e := newEnv(t, newStore(t), 20)
		ids := map[string]string{}
		for _, n := range []string{"carla", "dan", "eve", "frank", "gina"} {
			r := e.do("POST", "/Users", entraUser(n+"@acme.example", n, "Test", "ext-"+n))
			require.Equal(t, http.StatusCreated, r.status, r.raw)
			ids[n] = r.str("id")
		}
		r := e.do("PATCH", "/Users/"+ids["eve"], patchOp(op("replace", "active", false)))
		require.Equal(t, http.StatusOK, r.status)

		count := func(f string) int {
			t.Helper()
			r := e.do("GET", "/Users?filter="+url.QueryEscape(f), nil)
			require.Equal(t, http.StatusOK, r.status, "%s: %s", f, r.raw)
			n, _ := r.get("totalResults").(float64)
			return int(n)
		}
		assert.Equal(t, 1, count(`userName eq "carla@acme.example"`))
		assert.Equal(t, 1, count(`USERNAME Eq "CARLA@ACME.EXAMPLE"`), "names and operators without regard to case")
		assert.Equal(t, 0, count(`userName eq "nobody@acme.example"`))
		assert.Equal(t, 1, count(`externalId eq "ext-dan"`))
		assert.Equal(t, 0, count(`externalId eq "EXT-DAN"`), "externalId is case-exact")
		assert.Equal(t, 1, count(`emails[type eq "work" and value eq "gina@acme.example"]`))
		assert.Equal(t, 1, count(`emails.value eq "gina@acme.example"`))
		assert.Equal(t, 5, count(`userName ew "@acme.example"`))
		assert.Equal(t, 2, count(`userName sw "d" or userName sw "e"`))
		assert.Equal(t, 1, count(`name.givenName co "ank"`))
		assert.Equal(t, 5, count(`userName ne "ada"`))
		assert.Equal(t, 6, count(`externalId pr or userName eq "ada"`))
		assert.Equal(t, 1, count(`active eq false`))
		assert.Equal(t, 5, count(`not (active eq false)`))
		assert.Equal(t, 1, count(`active eq true and (userName sw "c" or userName sw "e")`))
		assert.Equal(t, 6, count(`meta.lastModified gt "2000-01-01T00:00:00Z"`))
		assert.Equal(t, 0, count(`meta.created lt "2000-01-01T00:00:00Z"`))
		assert.Equal(t, 1, count(`displayName eq "frank Test"`))

		assert.Equal(t, 1, count(`externalId eq null`), "null: no value (the admin)")
		assert.Equal(t, 5, count(`externalId ne null`))
		for _, bad := range []string{`userName eq`, `active gt true`, `active co true`, `userName gt null`, `(userName eq "a"`, `userName zz "a"`} {
			r = e.do("GET", "/Users?filter="+url.QueryEscape(bad), nil)
			assert.Equal(t, http.StatusBadRequest, r.status, bad)
			assert.Equal(t, "invalidFilter", r.str("scimType"), bad)
		}

		// Paging: startIndex is 1-based, count the page size.
		r = e.do("GET", "/Users?startIndex=2&count=2", nil)
		require.Equal(t, http.StatusOK, r.status)
		assert.EqualValues(t, 6, r.get("totalResults"))
		assert.EqualValues(t, 2, r.get("itemsPerPage"))
		assert.EqualValues(t, 2, r.get("startIndex"))
		assert.Len(t, r.get("Resources"), 2)
		assert.Equal(t, "carla@acme.example", r.str("Resources.0.userName"), "ordered by userName")
		r = e.do("GET", "/Users?startIndex=7", nil)
		assert.EqualValues(t, 0, r.get("itemsPerPage"))
		r = e.do("GET", "/Users?count=0", nil)
		assert.EqualValues(t, 6, r.get("totalResults"))
		assert.Nil(t, r.get("Resources.0"))

		// Attribute selection.
		r = e.do("GET", "/Users?attributes=userName&filter="+url.QueryEscape(`userName eq "dan@acme.example"`), nil)
		assert.Equal(t, "dan@acme.example", r.str("Resources.0.userName"))
		assert.NotEmpty(t, r.str("Resources.0.id"), "id is always returned")
		assert.Nil(t, r.get("Resources.0.name"))
		r = e.do("GET", "/Users/"+ids["dan"]+"?excludedAttributes=emails,name.givenName", nil)
		assert.Nil(t, r.get("emails"))
		assert.Nil(t, r.get("name.givenName"))
		assert.Equal(t, "Test", r.str("name.familyName"))

		// POST /.search.
		r = e.do("POST", "/Users/.search", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
			"filter": `userName sw "f"`, "attributes": []string{"userName"}, "startIndex": 1, "count": 10})
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.EqualValues(t, 1, r.get("totalResults"))
		assert.Equal(t, "frank@acme.example", r.str("Resources.0.userName"))
	})
}

func TestMethodsAndPrimaryEmail(t *testing.T) {
	e := newEnv(t, testdb.Kinds()[0].New(t), 10)
	r := e.do("DELETE", "/Users", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, r.status)
	assert.Equal(t, "GET, POST", r.header.Get("Allow"))
	assert.Equal(t, "405", r.str("status"))
	assert.Equal(t, http.StatusMethodNotAllowed, e.do("POST", "/Groups/x", map[string]any{}).status)
	assert.Equal(t, http.StatusNotFound, e.do("GET", "/Nothing", nil).status)

	r = e.do("POST", "/Users", entraUser("hugo@acme.example", "Hugo", "Test", "h"))
	require.Equal(t, http.StatusCreated, r.status)
	id := r.str("id")
	// Okta adds a new primary email: it becomes the member's email.
	r = e.do("PATCH", "/Users/"+id, patchOp(op("add", "emails", []any{map[string]any{"value": "hugo.test@acme.example", "type": "work", "primary": true}})))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "hugo.test@acme.example", e.member(id).Email)
}

func TestPatchAndSelectionEdges(t *testing.T) {
	e := newEnv(t, testdb.Kinds()[0].New(t), 10)
	r := e.do("POST", "/Users", entraUser("iris@acme.example", "Iris", "Test", "i"))
	require.Equal(t, http.StatusCreated, r.status)
	id := r.str("id")

	// replace with a filter that selects nothing: 400 noTarget (add adds).
	r = e.do("PATCH", "/Users/"+id, patchOp(op("replace", `emails[type eq "home"].value`, "home@acme.example")))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "noTarget", r.str("scimType"))
	assert.Equal(t, "iris@acme.example", e.member(id).Email)

	// A sub-attribute of a multi-valued attribute applies to each value.
	r = e.do("PATCH", "/Users/"+id, patchOp(op("replace", "emails.value", "iris.test@acme.example")))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "iris.test@acme.example", e.member(id).Email)

	// …and is selected in each value.
	r = e.do("GET", "/Users/"+id+"?attributes=emails.value", nil)
	assert.Equal(t, "iris.test@acme.example", r.str("emails.0.value"))
	assert.Nil(t, r.get("emails.0.type"))
	r = e.do("GET", "/Users/"+id+"?excludedAttributes=emails.type", nil)
	assert.Equal(t, "iris.test@acme.example", r.str("emails.0.value"))
	assert.Nil(t, r.get("emails.0.type"))

	// If-Match may list several tags.
	v := e.member(id).Version
	r = e.do("PATCH", "/Users/"+id, patchOp(op("replace", "name.givenName", "Irène")), "If-Match", `W/"999", W/"`+itoa(v)+`"`)
	require.Equal(t, http.StatusOK, r.status, r.raw)
}

func TestReviewEdges(t *testing.T) {
	e := newEnv(t, testdb.Kinds()[0].New(t), 10)
	// A user created without an email gets one by Entra's Replace.
	r := e.do("POST", "/Users", map[string]any{"userName": "nomail@acme.example"})
	require.Equal(t, http.StatusCreated, r.status)
	id := r.str("id")
	r = e.do("PATCH", "/Users/"+id, patchOp(op("Replace", `emails[type eq "work"].value`, "nomail.real@acme.example")))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "nomail.real@acme.example", e.member(id).Email)

	// An If-Match with no usable tag matches nothing.
	r = e.do("PATCH", "/Users/"+id, patchOp(op("replace", "name.givenName", "X")), "If-Match", `W/""`)
	assert.Equal(t, http.StatusPreconditionFailed, r.status)
	// DELETE checks If-Match in the removal's transaction.
	assert.Equal(t, http.StatusPreconditionFailed, e.do("DELETE", "/Users/"+id, nil, "If-Match", `W/"1"`).status)
	assert.Equal(t, membership.StatusActive, e.member(id).Status)
	assert.Equal(t, http.StatusNoContent, e.do("DELETE", "/Users/"+id, nil, "If-Match", `W/"`+itoa(e.member(id).Version)+`"`).status)

	// Discovery takes GET only.
	assert.Equal(t, http.StatusMethodNotAllowed, e.do("POST", "/ServiceProviderConfig", map[string]any{}).status)

	// A group's ETag does not move when a member signs in; a list asking
	// for members.value gets the members.
	pw, err := e.kit.Members.Add(e.ctx, sys, e.org.ID, roster.NewMember{Login: "signs.in", FirstName: "Signs", LastName: "In", Password: "correct horse battery"})
	require.NoError(t, err)
	r = e.do("POST", "/Groups", map[string]any{"displayName": "Logins", "members": []any{map[string]any{"value": pw.Member.ID}}})
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	tag := r.header.Get("ETag")
	_, err = e.kit.Members.Authenticate(e.ctx, e.org.ID, "signs.in", "correct horse battery")
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotModified, e.do("GET", "/Groups/"+r.str("id"), nil, "If-None-Match", tag).status)
	r = e.do("GET", "/Groups?attributes=members.value", nil)
	assert.Equal(t, pw.Member.ID, r.str("Resources.0.members.0.value"))
	assert.Nil(t, r.get("Resources.0.members.0.display"))

	// The userName's spelling is not kept when the member's attributes
	// are full; the userName then comes back in lower case.
	attrs := membership.Attributes{}
	for i := range membership.MaxAttributes - 1 {
		attrs[fmt.Sprintf("k%02d", i)] = "v"
	}
	full, err := e.kit.Members.Add(e.ctx, sys, e.org.ID, roster.NewMember{Login: "full", FirstName: "Full", LastName: "Attrs", NoPassword: true, Attributes: attrs})
	require.NoError(t, err)
	r = e.do("PUT", "/Users/"+full.Member.ID, map[string]any{"userName": "Full", "externalId": "ext-full", "name": map[string]any{"givenName": "Full", "familyName": "Attrs"}})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "full", r.str("userName"))
	assert.Equal(t, "ext-full", r.str("externalId"))
}
