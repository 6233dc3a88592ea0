// Package scim serves SCIM 2.0 (RFC 7643, RFC 7644) so that an org's
// identity provider (Okta, Microsoft Entra ID, Google, OneLogin…) keeps
// its roster in step: it creates, updates, deactivates and deletes
// members, and manages groups and their members, as they change in the
// directory.
//
// One [Handler] serves every org of a deployment; the org is the one of
// the directory token the request presents (Authorization: Bearer …),
// issued by package directory. The discovery endpoints, the same for every
// org, need no token. Mount it under a prefix:
//
//	h, _ := scim.New(scim.Options{Members: kit.Members, Directory: dir})
//	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
//
// A SCIM User is a member: userName is the login (kept in lower case,
// given back as the provider spelled it, see [UserNameAttribute]),
// name.givenName and name.familyName the names, the work (or primary)
// email the email, active whether the member is active or deactivated,
// externalId the directory's ID, kept in the member's attribute
// [ExternalIDAttribute]; DELETE removes the member (their data stays,
// and creating the same userName again brings them back). A SCIM Group
// is a [membership.Group] of package directory: its members are the
// members carrying its label, and its ETag moves with them
// ([directory.Tag]). Every write goes through the services, so the seat
// limit, the last admin, uniqueness and permissions hold as everywhere,
// each change an audit event whose actor is the token
// ("system:directory:Okta").
//
// Supported: create, get, replace (PUT), PATCH (add, replace, remove,
// with or without a path, value filters such as
// emails[type eq "work"].value, the shapes Entra ID and Okta send),
// filters (eq ne co sw ew pr gt ge lt le, and or not, grouping, value
// paths), startIndex/count paging, attributes and excludedAttributes,
// ETags (meta.version, If-Match, If-None-Match on GET), POST /.search on
// each resource type, ServiceProviderConfig, ResourceTypes, Schemas.
// Not supported, and said so in ServiceProviderConfig: bulk, sorting,
// password change (a member provisioned without a password signs in
// through the host), /Me (a token is not a user).
package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/memberkit/memberkit/directory"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// ExternalIDAttribute is the member attribute ([membership.Attributes])
// that keeps a SCIM User's externalId: filterable, exported by CSV when
// named, carried by audit events.
const ExternalIDAttribute = "scim.external_id"

// UserNameAttribute keeps a User's userName as the provider spelled it
// ("Jane.Doe@Example.com") when it differs from the member's login, which
// memberkit keeps in lower case: the userName is given back as sent, and
// still compared without regard to case.
const UserNameAttribute = "scim.user_name"

// Options configure a Handler.
type Options struct {
	// Members and Directory are the services requests go through; both
	// required, on the same store.
	Members   *roster.Service
	Directory *directory.Service
	// Lang is the language of error details; default English.
	Lang membership.Lang
	// Logger receives server-side errors; default silent.
	Logger *slog.Logger
	// MaxBodyBytes bounds a request's body; default 8 MiB (a PATCH
	// adding 5,000 members to a group is about 400 KB).
	MaxBodyBytes int64
	// MaxResults bounds a page of a list or search; default 1,000.
	MaxResults int
	// BaseURL is the absolute URL the handler is mounted at
	// ("https://app.example.com/scim/v2"), for meta.location and
	// Location. Empty: read from each request (its Host, TLS or
	// X-Forwarded-Proto, and the prefix http.StripPrefix removed); set it
	// when the handler is behind a proxy that rewrites them.
	BaseURL string
}

// Handler serves SCIM 2.0 for the orgs whose directory tokens it is
// shown. It is safe for concurrent use.
type Handler struct {
	o   Options
	mux *http.ServeMux
	log *slog.Logger
}

// New returns a Handler, or an error when a required service is missing.
func New(o Options) (*Handler, error) {
	if o.Members == nil || o.Directory == nil {
		return nil, errors.New("scim: Options.Members and Options.Directory are required")
	}
	if o.Lang == "" {
		o.Lang = membership.English
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 8 << 20
	}
	if o.MaxResults <= 0 {
		o.MaxResults = 1000
	}
	h := &Handler{o: o, mux: http.NewServeMux(), log: o.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.routes()
	return h, nil
}

// call is one authenticated request: the org and actor of its token.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	org   string
	actor membership.Actor
	base  string // absolute URL of the handler's root, for meta.location
}

type handlerFunc func(c *call) error

func (h *Handler) routes() {
	route := func(pattern string, fn handlerFunc) {
		h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { h.serve(w, r, fn) })
	}
	// The discovery endpoints say only what this code supports, the same
	// for every org: they need no token (RFC 7644 §4 lets a client read
	// them before it is configured).
	public := func(pattern string, fn handlerFunc) {
		h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			if err := fn(&call{w: w, r: r, base: h.base(r)}); err != nil {
				h.writeError(w, r, err)
			}
		})
	}
	public("GET /ServiceProviderConfig", h.serviceProviderConfig)
	public("GET /ResourceTypes", h.resourceTypes)
	public("GET /ResourceTypes/{id}", h.resourceType)
	public("GET /Schemas", h.schemas)
	public("GET /Schemas/{id}", h.schema)
	for _, p := range []string{"/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/{id}", "/Schemas", "/Schemas/{id}"} {
		public(p, func(c *call) error {
			c.w.Header().Set("Allow", "GET")
			return &Error{Status: http.StatusMethodNotAllowed, Detail: c.r.Method + " is not allowed here; allowed: GET"}
		})
	}
	route("GET /Users", h.list(h.users))
	route("POST /Users/.search", h.search(h.users))
	route("POST /Users", h.createUser)
	route("GET /Users/{id}", h.getUser)
	route("PUT /Users/{id}", h.replaceUser)
	route("PATCH /Users/{id}", h.patchUser)
	route("DELETE /Users/{id}", h.deleteUser)
	route("GET /Groups", h.list(h.groups))
	route("POST /Groups/.search", h.search(h.groups))
	route("POST /Groups", h.createGroup)
	route("GET /Groups/{id}", h.getGroup)
	route("PUT /Groups/{id}", h.replaceGroup)
	route("PATCH /Groups/{id}", h.patchGroup)
	route("DELETE /Groups/{id}", h.deleteGroup)
	notImplemented := func(what string) handlerFunc {
		return func(*call) error {
			return &Error{Status: http.StatusNotImplemented, Detail: what + " is not supported by this service provider (see /ServiceProviderConfig)"}
		}
	}
	notAllowed := func(allow string) handlerFunc {
		return func(c *call) error {
			c.w.Header().Set("Allow", allow)
			return &Error{Status: http.StatusMethodNotAllowed, Detail: c.r.Method + " is not allowed here; allowed: " + allow}
		}
	}
	// Patterns without a method catch the methods the ones above lack.
	route("/Users", notAllowed("GET, POST"))
	route("/Users/{id}", notAllowed("GET, PUT, PATCH, DELETE"))
	route("/Groups", notAllowed("GET, POST"))
	route("/Groups/{id}", notAllowed("GET, PUT, PATCH, DELETE"))
	route("/Bulk", notImplemented("Bulk"))
	route("/Me", notImplemented("/Me"))
	route("POST /.search", notImplemented("Searching across resource types"))
	route("/", func(*call) error {
		return &Error{Status: http.StatusNotFound, Detail: "no such endpoint"}
	})
}

// ServeHTTP authenticates the request by its bearer token and serves it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, fn handlerFunc) {
	w.Header().Set("Cache-Control", "no-store")
	secret, ok := bearer(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scim"`)
		h.writeError(w, r, &Error{Status: http.StatusUnauthorized, Detail: "a directory token is required: Authorization: Bearer <token>"})
		return
	}
	tok, err := h.o.Directory.Authenticate(r.Context(), secret)
	if err != nil {
		if errors.Is(err, directory.ErrInvalidToken) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="scim", error="invalid_token"`)
		}
		h.writeError(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.o.MaxBodyBytes)
	c := &call{w: w, r: r, org: tok.OrgID, actor: tok.Actor(), base: h.base(r)}
	if err := fn(c); err != nil {
		h.writeError(w, r, err)
	}
}

// base is the absolute URL of the handler's root: Options.BaseURL, or
// read from the request.
func (h *Handler) base(r *http.Request) string {
	if b := strings.TrimSuffix(h.o.BaseURL, "/"); b != "" {
		return b
	}
	return baseURL(r)
}

func bearer(r *http.Request) (string, bool) {
	scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	secret = strings.TrimSpace(secret)
	return secret, secret != ""
}

// baseURL is the absolute URL of the handler's root: the request's
// scheme and host, and its path before what the handler routes (which
// http.StripPrefix took away from URL.Path but not from RequestURI).
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	full := r.RequestURI
	if i := strings.IndexByte(full, '?'); i >= 0 {
		full = full[:i]
	}
	prefix := strings.TrimSuffix(full, r.URL.Path)
	if prefix == full && r.URL.Path != "" && r.URL.Path != "/" { // not a suffix: routed as is
		prefix = ""
	}
	return scheme + "://" + r.Host + strings.TrimSuffix(prefix, "/")
}

// Content types SCIM speaks.
const (
	contentType = "application/scim+json"
	schemaError = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// readJSON decodes a request body into a map whose attribute names are
// lower-cased (SCIM's are case-insensitive).
func readJSON(r *http.Request) (map[string]any, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != contentType && mt != "application/json") {
			return nil, &Error{Status: http.StatusUnsupportedMediaType, Detail: "send application/scim+json"}
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, ScimType: "tooMany", Detail: fmt.Sprintf("the request body is over %d bytes", mb.Limit)}
		}
		return nil, err
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, &Error{Status: http.StatusBadRequest, ScimType: "invalidSyntax", Detail: "the body is not valid JSON: " + err.Error()}
	}
	m, ok := lowerKeys(v).(map[string]any)
	if !ok {
		return nil, &Error{Status: http.StatusBadRequest, ScimType: "invalidSyntax", Detail: "the body must be a JSON object"}
	}
	return m, nil
}

// lowerKeys returns v with every object key lower-cased.
func lowerKeys(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[strings.ToLower(k)] = lowerKeys(x)
		}
		return out
	case []any:
		for i := range t {
			t[i] = lowerKeys(t[i])
		}
	}
	return v
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// ctx is the request's context.
func (c *call) ctx() context.Context { return c.r.Context() }

// isUnavailable reports a store that did not answer.
func isUnavailable(err error) bool { return errors.Is(err, store.ErrUnavailable) }
