package memberhttp

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
)

// Identity is who asks, as the host knows them: the org whose roster the
// request works on, the actor the services check permissions of, and the
// language of the pages and messages.
type Identity struct {
	// OrgID is the org the request works on (the host's org switcher
	// decides it).
	OrgID string
	// Actor is who acts: membership.ActorUser(accountID) for a host with
	// its own accounts, membership.ActorMember(memberID) for one that
	// signs members in with memberkit. The services check its permissions
	// on every call; the screens hide nothing they would allow.
	Actor membership.Actor
	// UserID is the host account signed in, if any: the invitation page
	// offers to join as this account instead of creating one.
	UserID string
	// Lang of the pages and messages; "" means Options.Lang, then the
	// request's Accept-Language.
	Lang membership.Lang
}

// ErrSignedOut is what an Identify function returns for a request with
// nobody signed in: the API answers 401 and the screens send the browser
// to Options.SignInURL, or answer 401.
var ErrSignedOut = errors.New("memberhttp: nobody signed in")

// Options configure a [Handler]. Identify is required.
type Options struct {
	// Identify tells who asks, from the request (the host's session
	// cookie, its bearer token). Return ErrSignedOut for a request nobody
	// signed: the API answers 401 and the screens go to SignInURL. Any
	// other error is the host's failure: 500, logged. The invitation page
	// calls it too, and treats any error as an anonymous visitor.
	Identify func(r *http.Request) (Identity, error)
	// Lang is the language when the Identity names none; "" means the
	// request's Accept-Language, French unless it prefers English.
	Lang membership.Lang
	// Title heads every page; default "Membres" / "Members".
	Title string
	// Stylesheet is the URL of the host's CSS, linked after memberkit's
	// own so that it may restyle the pages.
	Stylesheet string
	// Layout, when set, wraps every page: a template that defines
	// "layout" and calls {{template "content" .}} where the page goes
	// (see the package documentation for the data it receives).
	Layout *template.Template
	// UpgradeURL is the host's page where an org buys more seats; a full
	// plan's message links to it ("Besoin de plus de membres ?").
	UpgradeURL string
	// SignInURL is where a signed-out visitor of the screens is sent,
	// with the page they asked for in its "next" query parameter; ""
	// answers 401.
	SignInURL string
	// AfterJoinURL is where the invitation page sends a new member once
	// they joined; "" shows a confirmation page. A path of this site
	// ("/welcome"): the pages' Content-Security-Policy lets forms lead
	// nowhere else.
	AfterJoinURL string
	// BasePath is where the handler is mounted as browsers see it
	// ("/team"), for the pages' links; "" reads it from the request (its
	// original URI less the path http.StripPrefix left), which a proxy
	// rewriting paths would mislead.
	BasePath string
	// TrustedOrigins are other origins whose pages may send unsafe
	// requests ("https://admin.example.com"), beside same-origin ones
	// (http.CrossOriginProtection.AddTrustedOrigin).
	TrustedOrigins []string
	// MaxUploadBytes bounds an imported CSV file; default 32 MiB. Other
	// request bodies are bounded to 1 MiB.
	MaxUploadBytes int64
	// PageSize is the number of rows of the member list; default 50.
	PageSize int
	// PlanTTL is how long an import preview may be applied; default 30
	// minutes. Previews live in this process's memory: a host with
	// several processes routes one user's requests to one process, or
	// the apply answers 404 and the user uploads again.
	PlanTTL time.Duration
	// IdempotencyTTL is how long the answer of a POST sent with an
	// Idempotency-Key is replayed for the same key; default 24 hours.
	// Like previews, the keys live in this process's memory.
	IdempotencyTTL time.Duration
	// Logger receives the errors answered as 500; default silent.
	Logger *slog.Logger
	// Clock tells the time of previews' and keys' expiry; default the
	// system clock. The services keep the kit's own.
	Clock membership.Clock
}

// Handler serves the member-management screens and the JSON API of a
// [memberkit.Kit]. Make it with [New]; it is safe for concurrent use.
type Handler struct {
	kit    *memberkit.Kit
	opts   Options
	log    *slog.Logger
	mux    *http.ServeMux
	root   http.Handler
	pages  *pages
	plans  *planCache
	idem   *idempotency
	groups groupCache
	// pageSize is the size of the last page rendered, to size the next
	// one's buffer.
	pageSize atomic.Int64
	now      func() time.Time
}

// New returns the handler of kit's members, invitations, roles and
// imports. Mount it under a prefix of the host's with http.StripPrefix:
//
//	h, err := memberhttp.New(kit, opts)
//	…
//	mux.Handle("/team/", http.StripPrefix("/team", h))
//
// The screens are at the prefix's root, the JSON API under /api/ (its
// OpenAPI document at /api/openapi.json) and the invitation page at
// /join?token=…, the link invitation emails carry (see [JoinURL]).
func New(kit *memberkit.Kit, opts Options) (*Handler, error) {
	if kit == nil || kit.Members == nil {
		return nil, errors.New("memberhttp: nil kit")
	}
	if opts.Identify == nil {
		return nil, errors.New("memberhttp: Options.Identify is required")
	}
	if opts.MaxUploadBytes <= 0 {
		opts.MaxUploadBytes = 32 << 20
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 50
	}
	opts.BasePath = trimSlash(opts.BasePath)
	opts.PlanTTL = cmpOr(opts.PlanTTL, 30*time.Minute)
	opts.IdempotencyTTL = cmpOr(opts.IdempotencyTTL, 24*time.Hour)
	clock := membership.ClockOrSystem(opts.Clock)
	h := &Handler{kit: kit, opts: opts, log: svc.Logger(opts.Logger), mux: http.NewServeMux(), now: clock.Now}
	var err error
	if h.pages, err = newPages(opts.Layout); err != nil {
		return nil, err
	}
	h.plans = newPlanCache(opts.PlanTTL, h.now)
	h.idem = newIdempotency(opts.IdempotencyTTL, h.now)
	h.routeAPI()
	h.routeScreens()
	if h.root, err = h.secure(h.mux); err != nil {
		return nil, err
	}
	return h, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// ServeHTTP serves the screens and the API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.root.ServeHTTP(w, r)
}

// JoinURL is the invitation page's address for token, under base: the
// URL where the handler is mounted, as the invitee's browser reaches it
// ("https://app.example.com/team"). An invite.Sender or an
// invitemail template puts it in the email.
func JoinURL(base, token string) string {
	return trimSlash(base) + "/join?token=" + queryEscape(token)
}

// identify runs the host's Identify and settles the language.
func (h *Handler) identify(r *http.Request) (Identity, error) {
	id, err := h.opts.Identify(r)
	if err != nil {
		return Identity{Lang: h.lang(r, "")}, err
	}
	if id.OrgID == "" || id.Actor == (membership.Actor{}) {
		return Identity{Lang: h.lang(r, "")}, ErrSignedOut
	}
	id.Lang = h.lang(r, id.Lang)
	return id, nil
}

// identifyFailed answers a request Identify did not accept: 401 for
// nobody signed in, 500 (logged) for anything else, so that the host's
// outage does not pass for a signed-out user.
func (h *Handler) identifyFailed(w http.ResponseWriter, r *http.Request, lang membership.Lang, err error) {
	p := membership.Problem{Code: "signed_out", Status: http.StatusUnauthorized, Message: text(lang, "err.signed_out")}
	if !errors.Is(err, ErrSignedOut) {
		h.log.ErrorContext(r.Context(), "memberhttp: Identify failed", "method", r.Method, "path", r.URL.Path, "err", err)
		p = membership.Explain(err, lang)
		p.Code, p.Status, p.Message = "internal", http.StatusInternalServerError, membership.Message(lang, "internal")
	}
	if isAPI(r) {
		writeProblem(w, r, p)
		return
	}
	if p.Status == http.StatusUnauthorized {
		h.signedOut(w, r, lang)
		return
	}
	h.errorPage(w, r, lang, p)
}

// lang picks the language: the identity's, the options', then the
// request's Accept-Language.
func (h *Handler) lang(r *http.Request, l membership.Lang) membership.Lang {
	switch {
	case l == membership.English || l == membership.French:
		return l
	case h.opts.Lang == membership.English || h.opts.Lang == membership.French:
		return h.opts.Lang
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

// internal logs an unexpected error once, with the request it broke.
func (h *Handler) internal(ctx context.Context, r *http.Request, err error) {
	if membership.Explain(err, membership.English).Status >= 500 {
		h.log.ErrorContext(ctx, "memberhttp: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
}
