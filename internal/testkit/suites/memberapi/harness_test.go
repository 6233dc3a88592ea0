package memberapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	vErrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/router"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/pb33f/libopenapi/orderedmap"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/memberhttp"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/memstore"
)

// The contract is memberhttp's OpenAPI document, the validator built on
// it, and the operations the suite exercised. Every answer of the suite
// goes through check: its request and its response are validated against
// the document (path, method, parameters, body; status documented, content
// type, body schema in strict mode: a property the document does not
// declare fails too).
type contract struct {
	model     *v3.Document
	validator validator.Validator
	// lenient is the validator without the strict mode, for the one
	// answer whose members the document leaves open: the document itself.
	lenient validator.Validator
	router  router.Router

	mu        sync.Mutex
	exercised map[string]int // "METHOD /api/path/{template}" → answers checked
	answered  map[string]int // "METHOD /api/path/{template} STATUS" → answers checked
}

// securityHeaders are set by the handler on every answer and are not the
// API's business: the strict mode ignores them.
var securityHeaders = []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
	"Referrer-Policy", "Cross-Origin-Opener-Policy"}

func loadContract(t testing.TB) *contract {
	t.Helper()
	doc, err := libopenapi.NewDocument(memberhttp.OpenAPI())
	require.NoError(t, err, "the document parses")
	model, err := doc.BuildV3Model()
	require.NoError(t, err, "the document builds as OpenAPI 3")
	opts := []config.Option{config.WithFormatAssertions(), config.WithRejectUndeclaredRequestBody()}
	v, errs := validator.NewValidator(doc, slices.Concat(opts, []config.Option{config.WithStrictMode(),
		config.WithStrictIgnoredHeadersExtra(securityHeaders...)})...)
	require.Empty(t, errs, "the validator accepts the document")
	lenient, errs := validator.NewValidator(doc, opts...)
	require.Empty(t, errs, "the validator accepts the document")
	return &contract{model: &model.Model, validator: v, lenient: lenient,
		router: router.NewRouter(&model.Model, router.WithPathOnlyMatching()), exercised: map[string]int{},
		answered: map[string]int{}}
}

// operations lists every "METHOD /path" the document declares.
func (c *contract) operations() []string {
	var out []string
	for path, item := range c.model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// unseen lists the answers the document declares that no exchange gave,
// "METHOD /path STATUS".
func (c *contract) unseen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for path, item := range c.model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			for code := range op.Responses.Codes.KeysFromOldest() {
				if k := strings.ToUpper(method) + " " + path + " " + code; c.answered[k] == 0 {
					out = append(out, k)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// missing lists the operations of the document no answer exercised.
func (c *contract) missing() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, op := range c.operations() {
		if c.exercised[op] == 0 {
			out = append(out, op)
		}
	}
	return out
}

// env is one org on a memstore kit behind memberhttp, mounted under /team
// on a test server, as a host mounts it. Identify reads a bearer token:
// "member:ID" acts as that member, "user:ID" is a host account that is
// no member, "nowhere:ID" names an org that does not exist, "broken:…"
// makes Identify fail. The host names the client by X-Forwarded-For, for
// the invitation tokens' throttle.
type env struct {
	t      *testing.T
	c      *contract
	kit    *memberkit.Kit
	clock  *membership.FakeClock
	sender *sender
	srv    *httptest.Server
	org    string

	admin, manager, reader, user string // member IDs
	guest                        string // a member whose role grants nothing
	managerRole, readerRole      string // custom role IDs
}

// setup varies an env: seats of the plan (0 unlimited), no invitation
// sender, a wrapper of the store (to inject failures).
type setup struct {
	seats    int
	noSender bool
	wrap     func(store.Store) store.Store
}

// t0 is when every env starts.
var t0 = time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)

// maxUpload bounds the imported files of the test handler.
const maxUpload = 64 << 10

func newEnv(t *testing.T, c *contract, s setup) *env {
	t.Helper()
	ctx := context.Background()
	var st store.Store = memstore.New()
	if s.wrap != nil {
		st = s.wrap(st)
	}
	e := &env{t: t, c: c, clock: membership.NewFakeClock(t0), sender: &sender{}}
	opts := &memberkit.Options{
		Clock:     e.clock,
		Hasher:    membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1}),
		IdleAfter: 7 * 24 * time.Hour,
		// One invalid token is free; the next must wait an hour.
		TokenThrottle: membership.ThrottlePolicy{FreeFailures: 1, BaseDelay: time.Hour, MaxDelay: time.Hour, LockAfter: 5},
	}
	if !s.noSender {
		opts.Sender = e.sender
	}
	kit, err := memberkit.New(st, opts)
	require.NoError(t, err)
	e.kit = kit
	sys := membership.SystemActor("test")
	org, err := kit.Members.CreateOrg(ctx, roster.NewOrg{Name: "Ateliers Dupont", Plan: membership.PremiumPlan(s.seats)})
	require.NoError(t, err)
	e.org = org.ID
	require.NoError(t, kit.Members.SetFeatures(ctx, sys, org.ID, membership.FeatureCSV))
	add := func(first, last, role string, groups ...string) string {
		a, err := kit.Members.Add(ctx, sys, org.ID, roster.NewMember{FirstName: first, LastName: last, RoleID: role,
			Email: strings.ToLower(first) + "@example.com", Groups: groups, Password: "correct horse battery"})
		require.NoError(t, err)
		return a.Member.ID
	}
	role := func(name string, perms ...membership.Permission) string {
		r, err := kit.Members.CreateRole(ctx, sys, org.ID, name)
		require.NoError(t, err)
		_, err = kit.Members.UpdateRole(ctx, sys, org.ID, r.ID, r.Name, perms)
		require.NoError(t, err)
		return r.ID
	}
	e.admin = add("Alice", "Martin", membership.RoleAdmin, "Paris")
	e.managerRole = role("Coordinateur", membership.PermMembersRead, membership.PermMembersManage,
		membership.PermInvitationsManage, membership.PermCSVImport, membership.PermCSVExport)
	e.manager = add("Marc", "Petit", e.managerRole, "Paris")
	e.readerRole = role("Lecteur", membership.PermMembersRead)
	e.reader = add("Rita", "Lecomte", e.readerRole, "Lyon")
	e.user = add("Ugo", "Bernard", membership.RoleUser, "Lyon")
	e.guest = add("Gaston", "Lagaffe", role("Invité"), "Bruxelles")

	h, err := memberhttp.New(kit, memberhttp.Options{
		Identify: func(r *http.Request) (memberhttp.Identity, error) {
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			kind, id, _ := strings.Cut(tok, ":")
			switch {
			case !ok || id == "":
				return memberhttp.Identity{}, memberhttp.ErrSignedOut
			case kind == "broken":
				return memberhttp.Identity{}, errors.New("the host's session store is unreachable")
			case kind == "nowhere": // an org the host names that does not exist
				return memberhttp.Identity{OrgID: "no-such-org", Actor: membership.ActorMember(id)}, nil
			case kind == "user":
				return memberhttp.Identity{OrgID: org.ID, Actor: membership.ActorUser(id), UserID: id}, nil
			}
			return memberhttp.Identity{OrgID: org.ID, Actor: membership.ActorMember(id)}, nil
		},
		UpgradeURL:     "https://billing.example.com/upgrade",
		MaxUploadBytes: maxUpload,
		Clock:          e.clock,
	})
	require.NoError(t, err)
	named := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := r.Header.Get("X-Forwarded-For"); c != "" {
			r = r.WithContext(membership.WithClient(r.Context(), c))
		}
		h.ServeHTTP(w, r)
	})
	mux := http.NewServeMux()
	mux.Handle("/team/", http.StripPrefix("/team", named))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// downStore is a store whose database stops answering on demand: every
// transaction fails with store.ErrUnavailable.
type downStore struct {
	store.Store
	down atomic.Bool
}

func (s *downStore) Update(ctx context.Context, orgID string, fn func(tx store.Tx) error) error {
	if s.down.Load() {
		return fmt.Errorf("downstore: %w", store.ErrUnavailable)
	}
	return s.Store.Update(ctx, orgID, fn)
}

func (s *downStore) InvitationByTokenHash(ctx context.Context, h []byte) (membership.Invitation, error) {
	if s.down.Load() {
		return membership.Invitation{}, fmt.Errorf("downstore: %w", store.ErrUnavailable)
	}
	return s.Store.InvitationByTokenHash(ctx, h)
}

func (s *downStore) View(ctx context.Context, orgID string, fn func(tx store.Tx) error) error {
	if s.down.Load() {
		return fmt.Errorf("downstore: %w", store.ErrUnavailable)
	}
	return s.Store.View(ctx, orgID, fn)
}

// sender records invitations, and fails or holds a send on demand.
type sender struct {
	rec     invite.RecordingSender
	mu      sync.Mutex
	fail    error
	hold    chan struct{} // the next send waits for it to close
	entered chan struct{} // closed when that send started
}

func (s *sender) SendInvitation(ctx context.Context, inv membership.Invitation, token string) error {
	s.mu.Lock()
	fail, hold, entered := s.fail, s.hold, s.entered
	s.hold, s.entered = nil, nil
	s.mu.Unlock()
	if entered != nil {
		close(entered)
	}
	if hold != nil {
		<-hold
	}
	if fail != nil {
		return fail
	}
	return s.rec.SendInvitation(ctx, inv, token)
}

func (s *sender) failWith(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

// holdNext makes the next send wait until release is called; started is
// closed once it waits.
func (s *sender) holdNext() (started <-chan struct{}, release func()) {
	hold, entered := make(chan struct{}), make(chan struct{})
	s.mu.Lock()
	s.hold, s.entered = hold, entered
	s.mu.Unlock()
	return entered, func() { close(hold) }
}

// call is one API request, its path under the mount point /team.
type call struct {
	// as is who asks: a member ID, "user:ID" for a host account that is
	// no member, "broken:x" for an Identify that fails, "" signed out.
	as     string
	method string
	path   string
	json   any    // a JSON body (application/json)
	raw    string // or a raw body, of type ctype ("" sends none)
	ctype  string
	header []string // name, value, …
	// breaks marks a request the document does not allow (a bad
	// parameter, an unknown field, a wrong content type): the validator
	// must refuse it, and the answer must still be documented.
	breaks bool
}

func (c call) String() string { return c.method + " " + c.path }

// answer is what the server said.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// decode reads the JSON answer into v, a pointer, zeroed first: a member
// the answer omits must not keep an earlier value.
func (a answer) decode(t testing.TB, v any) {
	t.Helper()
	reflect.ValueOf(v).Elem().SetZero()
	require.NoError(t, json.Unmarshal(a.body, v), "%s", a.body)
}

// problem is a problem document as the API answers it.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	Field  string `json:"field"`
	Errors []struct {
		Code     string `json:"code"`
		Line     int    `json:"line"`
		Column   string `json:"column"`
		MemberID string `json:"member_id"`
	} `json:"errors"`
}

// body returns the request's body bytes and content type.
func (c call) body() ([]byte, string, error) {
	switch {
	case c.json != nil:
		b, err := json.Marshal(c.json)
		return b, "application/json", err
	case c.raw != "" || c.ctype != "":
		return []byte(c.raw), c.ctype, nil
	}
	return nil, "", nil
}

func (c call) request(base string) (*http.Request, error) {
	body, ctype, err := c.body()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(c.method, base+c.path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.as != "" {
		tok := c.as
		if !strings.Contains(tok, ":") {
			tok = "member:" + tok
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(c.header); i += 2 {
		req.Header.Set(c.header[i], c.header[i+1])
	}
	return req, nil
}

// send makes the request; it is safe from any goroutine.
func (e *env) send(c call) (answer, error) {
	req, err := c.request(e.srv.URL + "/team")
	if err != nil {
		return answer{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: data}, err
}

// do sends c, checks the exchange against the document and returns the
// answer.
func (e *env) do(c call) answer {
	e.t.Helper()
	a, err := e.send(c)
	require.NoError(e.t, err, "%s", c)
	e.check(c, a)
	return a
}

// expect does c and requires the status.
func (e *env) expect(c call, status int) answer {
	e.t.Helper()
	a := e.do(c)
	require.Equal(e.t, status, a.status, "%s: %s", c, a.body)
	return a
}

// problem does c and requires a problem document of that status and code.
func (e *env) problem(c call, status int, code string) problem {
	e.t.Helper()
	a := e.expect(c, status)
	var p problem
	a.decode(e.t, &p)
	require.Equal(e.t, code, p.Code, "%s: %s", c, a.body)
	require.Equal(e.t, status, p.Status)
	require.Equal(e.t, memberhttp.ProblemTypePrefix+code, p.Type)
	return p
}

// check validates one exchange against the document, as the handler saw
// it (the mount point stripped), and counts its operation.
func (e *env) check(c call, a answer) {
	e.t.Helper()
	errorf := func(format string, args ...any) {
		e.t.Helper()
		e.t.Errorf("%s → %d: "+format, append([]any{c, a.status}, args...)...)
	}
	newReq := func() *http.Request {
		req, err := c.request("http://api.test")
		require.NoError(e.t, err)
		return req
	}
	req := newReq()
	route, err := e.c.router.FindRoute(req)
	if err != nil || route.Operation == nil {
		errorf("no operation of the document: %v", err)
		return
	}
	e.c.mu.Lock()
	op := strings.ToUpper(route.Method) + " " + route.Path
	e.c.exercised[op]++
	e.c.answered[op+" "+strconv.Itoa(a.status)]++
	e.c.mu.Unlock()

	v := e.c.validator
	if route.Path == "/api/openapi.json" {
		v = e.c.lenient
	}
	ok, errs := v.ValidateHttpRequest(req)
	switch {
	case c.breaks && ok:
		errorf("the document allows this request, which the suite sends as one it does not")
	case !c.breaks && !ok:
		errorf("the request breaks the document:%s", describe(errs))
	}

	req = newReq()
	resp := &http.Response{StatusCode: a.status, Header: a.header, Body: io.NopCloser(bytes.NewReader(a.body)), Request: req}
	if ok, errs := v.ValidateHttpResponse(req, resp); !ok {
		errorf("the response breaks the document:%s\nbody: %s", describe(errs), excerpt(a.body))
	}
	// The validator skips a body the document does not declare (a 204):
	// there must be none.
	if r := route.Operation.Responses.Codes.GetOrZero(strconv.Itoa(a.status)); r != nil && orderedmap.Len(r.Content) == 0 && len(a.body) > 0 {
		errorf("the document declares no body, the answer has one: %s", excerpt(a.body))
	}
}

func describe(errs []*vErrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  - %s: %s", e.Message, e.Reason)
		for _, s := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n      %s at %s (%s)", s.Reason, s.FieldPath, s.KeywordLocation)
		}
	}
	return b.String()
}

func excerpt(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}
