package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/scim"
	"github.com/memberkit/memberkit/store"
)

var sys = membership.SystemActor("test")

// env is one org served by a SCIM handler, with its provider's token.
type env struct {
	t      testing.TB
	ctx    context.Context
	kit    *memberkit.Kit
	org    membership.Org
	admin  membership.Member
	srv    *httptest.Server
	token  string
	events []membership.Event
}

func fastHasher() membership.Hasher {
	return membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 16})
}

func newEnv(t testing.TB, st store.Store, seats int) *env {
	e := &env{t: t, ctx: context.Background()}
	kit, err := memberkit.New(st, &memberkit.Options{Hasher: fastHasher(), AfterCommit: func(_ context.Context, evs []membership.Event) {
		e.events = append(e.events, evs...)
	}})
	require.NoError(t, err)
	require.NotNil(t, kit.Directory, "the store keeps a directory")
	e.kit = kit
	e.org, err = kit.Members.CreateOrg(e.ctx, roster.NewOrg{Name: "Acme", Plan: membership.PremiumPlan(seats), Features: []membership.Feature{membership.FeatureCSV}})
	require.NoError(t, err)
	added, err := kit.Members.Add(e.ctx, sys, e.org.ID, roster.NewMember{FirstName: "Ada", LastName: "Admin", Login: "ada", RoleID: membership.RoleAdmin, Password: "correct horse battery"})
	require.NoError(t, err)
	e.admin = added.Member
	issued, err := kit.Directory.IssueToken(e.ctx, sys, e.org.ID, "Entra ID")
	require.NoError(t, err)
	e.token = string(issued.Secret)
	h, err := scim.New(scim.Options{Members: kit.Members, Directory: kit.Directory})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// resp is a response: its status, headers and decoded body.
type resp struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r resp) str(path string) string {
	v := r.get(path)
	s, _ := v.(string)
	return s
}

// get walks a dotted path; a number indexes a list.
func (r resp) get(path string) any {
	var v any = r.body
	for _, part := range strings.Split(path, ".") {
		switch t := v.(type) {
		case map[string]any:
			v = t[part]
		case []any:
			var i int
			if _, err := fmt.Sscan(part, &i); err != nil || i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

func (e *env) do(method, path string, body any, headers ...string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			data, err := json.Marshal(b)
			require.NoError(e.t, err)
			rd = bytes.NewReader(data)
		}
	}
	req, err := http.NewRequest(method, e.srv.URL+"/scim/v2"+path, rd)
	require.NoError(e.t, err)
	req.Header.Set("Authorization", "Bearer "+e.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	out := resp{status: res.StatusCode, header: res.Header, raw: string(data)}
	if len(data) > 0 {
		require.NoError(e.t, json.Unmarshal(data, &out.body), "body: %s", data)
		assert.Equal(e.t, "application/scim+json", res.Header.Get("Content-Type"))
	}
	return out
}

// entraUser is the User Microsoft Entra ID creates (its documented
// request, https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups).
func entraUser(userName, given, family, external string) map[string]any {
	return map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
		"externalId": external,
		"userName":   userName,
		"active":     true,
		"emails":     []any{map[string]any{"primary": true, "type": "work", "value": userName}},
		"meta":       map[string]any{"resourceType": "User"},
		"name":       map[string]any{"formatted": given + " " + family, "familyName": family, "givenName": given},
		"roles":      []any{},
	}
}

func patchOp(ops ...map[string]any) map[string]any {
	list := make([]any, len(ops))
	for i, o := range ops {
		list[i] = o
	}
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": list}
}

func op(kind, path string, value any) map[string]any {
	o := map[string]any{"op": kind}
	if path != "" {
		o["path"] = path
	}
	if value != nil {
		o["value"] = value
	}
	return o
}

func (e *env) member(id string) membership.Member {
	e.t.Helper()
	m, err := e.kit.Members.Get(e.ctx, sys, e.org.ID, id)
	require.NoError(e.t, err)
	return m
}

// each runs f on every store kind (the variants hide the optional
// store.Directory the handler needs, so they are left out).
func each(t *testing.T, f func(t *testing.T, newStore func(t testing.TB) store.Store)) {
	for _, k := range testdb.Kinds() {
		t.Run(k.Name, func(t *testing.T) { f(t, k.New) })
	}
}

func itoa(v int64) string { return fmt.Sprint(v) }

func roster_new(first, last string) roster.NewMember {
	return roster.NewMember{FirstName: first, LastName: last, Password: "correct horse battery"}
}
