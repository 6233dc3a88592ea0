// Package browser drives memberhttp's screens in a real, headless
// Chromium through the DevTools protocol (github.com/chromedp/chromedp):
// the pages as a user sees them, with memberkit.js running under the
// pages' Content-Security-Policy, in French and in English.
//
// # README
//
// Run it with:
//
//	go test ./internal/testkit/suites/browser/ -count=1 -v
//
// It needs a Chromium: $CHROMIUM, else /usr/bin/chromium (Debian:
// apt-get install chromium), else chromium, chromium-browser or
// google-chrome on $PATH. Without one the tests skip, unless
// MEMBERKIT_BROWSER_REQUIRED=1, when they fail. The accessibility test
// also needs axe-core: run `npm ci` in this directory (package.json pins
// it; node_modules/ is not committed); without it that test skips, with
// the same rule.
//
// Each test starts its own browser (one allocator per test), headless,
// with --no-sandbox, and bounds every step (stepTimeout) and the whole
// test (testTimeout). Its French and English runs, and the second person
// of the invitation test, each have a browser context of their own (no
// cookie shared).
//
// Every screen visited is saved as a full-page PNG in $MEMBERKIT_SCREENSHOTS,
// or, when that is unset, in the directory "screenshots" of os.TempDir().
// The names are "<lang>-<screen>.png", lang being fr or en:
//
//	TestCoordinatorFlow   <lang>-members.png              the list, coordinator's view
//	                      <lang>-members-group.png        filtered by group (select, script submits)
//	                      <lang>-members-search.png       filtered by text
//	                      <lang>-members-invited.png      a pending invitation in the list
//	                      <lang>-members-deactivated.png  after the dialog-confirmed deactivation
//	                      <lang>-refused-forbidden.png    the admin's deactivation refused
//	                      <lang>-member.png               a member's page, new role chosen
//	                      <lang>-members-role.png         after the role change
//	TestAdminFlow         <lang>-member-new.png           the "add a member" form
//	                      <lang>-members-full.png         the plan-full banner
//	                      <lang>-refused-member-limit.png activation refused: plan full, upgrade link
//	                      <lang>-bulk-confirm.png         mass action on the filter: confirmation page
//	                      <lang>-bulk-filter-done.png     its result
//	                      <lang>-bulk-selected.png        rows ticked by "select all"
//	                      <lang>-bulk-selected-done.png   their mass deactivation
//	                      <lang>-confirm-nojs.png         a row action's confirmation page, script off
//	                      <lang>-refused-last-admin.png   last admin's demotion refused
//	TestImportFlow        <lang>-import.png               the import and export page
//	                      <lang>-import-plan.png          the preview with its counts
//	                      <lang>-import-applied.png       the list after "apply"
//	TestInvitationAccepted
//	                      <lang>-join.png                 the invitation page, anonymous visitor
//	                                                      (two passwords differ: refused)
//	                      <lang>-joined.png               the confirmation once joined
//	                      <lang>-members-joined.png       the admin's list with the new member
//	                      <lang>-join-as-user.png         the invitation page, host account signed in
//	                      <lang>-joined-as-user.png       its confirmation
//	TestAccessibility     <lang>-a11y-<screen>.png        each screen axe checks: members,
//	                                                      member, member-new, confirm,
//	                                                      bulk-confirm, import, import-plan,
//	                                                      roles, review, error, join,
//	                                                      join-as-user
package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/memberhttp"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store/memstore"
)

const (
	// stepTimeout bounds one browser step: a click and the page it loads.
	stepTimeout = 15 * time.Second
	// testTimeout bounds a whole test, browser start included (and the
	// go test -timeout, when sooner). A test takes 5 to 30 s on two idle
	// cores; the margin is for a loaded CI machine and -race.
	testTimeout = 4 * time.Minute
	// upgradeURL is the host's upgrade page the full plan links to.
	upgradeURL = "https://billing.example.com/upgrade"
	// password of the seeded members and of the invitees.
	password = "correct horse battery staple"
)

// required tells whether a missing browser or axe-core fails the tests
// instead of skipping them.
func required() bool { return os.Getenv("MEMBERKIT_BROWSER_REQUIRED") == "1" }

// skipOrFail skips the test with why, or fails it when the browser suite
// is required.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if required() {
		t.Fatalf("MEMBERKIT_BROWSER_REQUIRED=1 but %s", why)
	}
	t.Skip(why)
}

// bug fails the test on a memberhttp defect the flow checks for (each
// was found by this suite and fixed; the checks stay).
func bug(t *testing.T, kind, format string, args ...any) {
	t.Helper()
	t.Errorf("memberhttp bug: %s: %s", kind, fmt.Sprintf(format, args...))
}

// chromiumPath finds the browser: $CHROMIUM, /usr/bin/chromium, then
// the usual names on $PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("CHROMIUM=%s: %w", p, err)
		}
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found (set CHROMIUM, or apt-get install chromium)")
}

// screenshotDir is where the screenshots go, created once.
var screenshotDir = sync.OnceValues(func() (string, error) {
	dir := os.Getenv("MEMBERKIT_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "screenshots")
	}
	return dir, os.MkdirAll(dir, 0o755)
})

// lang is one language of the screens, with the words the tests expect.
type lang struct {
	code   string // "fr" or "en"
	accept string // the browser's Accept-Language
	w      map[string]string
}

var (
	french = lang{code: "fr", accept: "fr-FR,fr;q=0.9", w: map[string]string{
		"cols":             "Nom|Email|Rôle|Statut|Dernière connexion|Groupes|Actions",
		"seats":            "%d membres sur %d",
		"pending":          "En attente",
		"active":           "Activé",
		"deactivated":      "Désactivé",
		"invited":          "Invitation envoyée.",
		"resent":           "Invitation renvoyée.",
		"canceled":         "Invitation annulée.",
		"deactivate?":      "Désactiver %s ? Ce membre perdra immédiatement l'accès.",
		"activate?":        "Activer %s ? Ce membre occupera une place du forfait.",
		"remove?":          "Retirer %s de l'entreprise ?",
		"done.deact":       "Membre désactivé : il a perdu l'accès.",
		"done.role":        "Rôle modifié.",
		"done.added":       "Membre ajouté.",
		"done.removed":     "Membre retiré.",
		"bulk.filter":      "tous les membres correspondant au filtre",
		"bulk.confirm":     "Désactiver les %d membres correspondant au filtre ?",
		"bulk.done":        "%d membre(s) désactivé(s).",
		"full":             "Le forfait est complet",
		"upgrade":          "Passer à un forfait supérieur",
		"member_limit":     "le forfait de l'entreprise est complet",
		"last_admin":       "l'entreprise doit garder au moins un administrateur actif",
		"forbidden":        "votre rôle ne permet pas : ",
		"plan.adds":        "Ajouts : %d",
		"plan.updates":     "Mises à jour : %d",
		"plan.deacts":      "Désactivations : %d",
		"imported":         "Import appliqué : %d changement(s).",
		"join.intro":       "Vous êtes invité à rejoindre %s avec l'adresse %s.",
		"joined":           "Vous êtes membre de l'entreprise. Vous pouvez vous connecter.",
		"passwords_differ": "les deux mots de passe diffèrent",
		"confirm.title":    "Désactiver un membre",
		"error.title":      "Action impossible",
		"not_found":        "page introuvable",
	}}
	english = lang{code: "en", accept: "en-GB,en;q=0.9", w: map[string]string{
		"cols":             "Name|Email|Role|Status|Last sign-in|Groups|Actions",
		"seats":            "%d of %d members",
		"pending":          "Pending",
		"active":           "Active",
		"deactivated":      "Deactivated",
		"invited":          "Invitation sent.",
		"resent":           "Invitation sent again.",
		"canceled":         "Invitation canceled.",
		"deactivate?":      "Deactivate %s? They lose access at once.",
		"activate?":        "Activate %s? They take a seat of the plan.",
		"remove?":          "Remove %s from the company?",
		"done.deact":       "Member deactivated: they lost access.",
		"done.role":        "Role changed.",
		"done.added":       "Member added.",
		"done.removed":     "Member removed.",
		"bulk.filter":      "every member matching the filter",
		"bulk.confirm":     "Deactivate the %d members matching the filter?",
		"bulk.done":        "%d member(s) deactivated.",
		"full":             "The plan is full",
		"upgrade":          "Upgrade the plan",
		"member_limit":     "the company's plan has no seat left",
		"last_admin":       "the company must keep at least one active admin",
		"forbidden":        "your role does not allow: ",
		"plan.adds":        "Added: %d",
		"plan.updates":     "Updated: %d",
		"plan.deacts":      "Deactivated: %d",
		"imported":         "Import applied: %d change(s).",
		"join.intro":       "You are invited to join %s with the address %s.",
		"joined":           "You are a member of the company. You may sign in.",
		"passwords_differ": "the two passwords differ",
		"confirm.title":    "Deactivate a member",
		"error.title":      "Action not possible",
		"not_found":        "page not found",
	}}
	languages = []lang{french, english}
)

// word is the expected text of key, formatted with args.
func (l lang) word(key string, args ...any) string {
	w, ok := l.w[key]
	if !ok {
		panic("no word " + key)
	}
	if len(args) > 0 {
		return fmt.Sprintf(w, args...)
	}
	return w
}

// env is one org on a memstore kit behind memberhttp, mounted under
// /team on a test server, as harness_test.go of memberhttp builds it.
// The host's Identify reads the "member" cookie (a member ID: the actor)
// and the "user" cookie (a host account ID: Identity.UserID, and the
// actor when no member cookie is set). The language is left to the
// browser's Accept-Language.
type env struct {
	t       *testing.T
	kit     *memberkit.Kit
	srv     *httptest.Server
	sender  *invite.RecordingSender
	org     string
	orgName string
	limit   int
	admin   string // member IDs
	manager string
	reader  string
	user    string
	// role IDs of the custom roles
	managerRole, readerRole string
}

func newEnv(t *testing.T, limit int) *env {
	t.Helper()
	ctx := context.Background()
	sender := &invite.RecordingSender{}
	kit, err := memberkit.New(memstore.New(), &memberkit.Options{
		Hasher: membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1}),
		Sender: sender,
	})
	require.NoError(t, err)
	e := &env{t: t, kit: kit, sender: sender, orgName: "Ateliers <Dupont> & Fils", limit: limit}
	org, err := kit.Members.CreateOrg(ctx, roster.NewOrg{Name: e.orgName, Plan: membership.PremiumPlan(limit),
		Features: []membership.Feature{membership.FeatureCSV}})
	require.NoError(t, err)
	e.org = org.ID
	sys := membership.SystemActor("test")
	e.admin = e.add("Alice", "Martin", membership.RoleAdmin, "Paris")
	mgr, err := kit.Members.CreateRole(ctx, sys, org.ID, "Coordinateur")
	require.NoError(t, err)
	_, err = kit.Members.UpdateRole(ctx, sys, org.ID, mgr.ID, mgr.Name, []membership.Permission{membership.PermMembersRead,
		membership.PermMembersManage, membership.PermInvitationsManage, membership.PermCSVImport, membership.PermCSVExport})
	require.NoError(t, err)
	e.managerRole = mgr.ID
	e.manager = e.add("Marc", "Petit", mgr.ID, "Paris")
	rd, err := kit.Members.CreateRole(ctx, sys, org.ID, "Lecteur")
	require.NoError(t, err)
	_, err = kit.Members.UpdateRole(ctx, sys, org.ID, rd.ID, rd.Name, []membership.Permission{membership.PermMembersRead})
	require.NoError(t, err)
	e.readerRole = rd.ID
	e.reader = e.add("Rita", "Lecomte", rd.ID, "Lyon")
	e.user = e.add("Ugo", "Bernard", membership.RoleUser, "Lyon")

	h, err := memberhttp.New(kit, memberhttp.Options{
		Identify: func(r *http.Request) (memberhttp.Identity, error) {
			var id memberhttp.Identity
			if c, err := r.Cookie("user"); err == nil && c.Value != "" {
				id = memberhttp.Identity{OrgID: org.ID, Actor: membership.ActorUser(c.Value), UserID: c.Value}
			}
			if c, err := r.Cookie("member"); err == nil && c.Value != "" {
				id.OrgID, id.Actor = org.ID, membership.ActorMember(c.Value)
			}
			if id.OrgID == "" {
				return memberhttp.Identity{}, memberhttp.ErrSignedOut
			}
			return id, nil
		},
		UpgradeURL: upgradeURL,
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/team/", http.StripPrefix("/team", h))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// add seeds a member as the system; its email is first@example.com.
func (e *env) add(first, last, role string, groups ...string) string {
	e.t.Helper()
	a, err := e.kit.Members.Add(context.Background(), membership.SystemActor("test"), e.org, roster.NewMember{FirstName: first, LastName: last,
		RoleID: role, Email: strings.ToLower(first) + "@example.com", Groups: groups, Password: password})
	require.NoError(e.t, err)
	return a.Member.ID
}

// member reads a member back, as the system.
func (e *env) member(id string) membership.Member {
	e.t.Helper()
	m, err := e.kit.Members.Get(context.Background(), membership.SystemActor("test"), e.org, id)
	require.NoError(e.t, err)
	return m
}

// browser is one Chromium for one test: its first tab's context, that
// other tabs and browser contexts derive from.
type browser struct {
	ctx context.Context
}

// startBrowser starts a headless Chromium for the test, or skips it. The
// browser ends with the test.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := chromiumPath()
	if err != nil {
		skipOrFail(t, "browser test skipped: "+err.Error()+"; .ci/run installs Debian's chromium")
	}
	if _, err := screenshotDir(); err != nil {
		t.Fatalf("screenshots: %v", err)
	}
	end := time.Now().Add(testTimeout)
	if d, ok := t.Deadline(); ok && d.Before(end) {
		end = d.Add(-5 * time.Second) // fail with the browser's error, before go test panics
	}
	deadline, cancelDeadline := context.WithDeadline(context.Background(), end)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // the CI runs as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(deadline, opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		cancelDeadline()
	})
	start, cancelStart := context.WithTimeout(ctx, 30*time.Second)
	defer cancelStart()
	// Start the browser on ctx itself (its life is bound to the context of
	// the first run), but give up after 30 s.
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("starting %s: %v", path, err)
		}
	case <-start.Done():
		t.Fatalf("starting %s: no answer in 30 s", path)
	}
	return &browser{ctx: ctx}
}

// tab is one page of the browser, in a language, with what a test needs
// to drive it.
type tab struct {
	t    *testing.T
	ctx  context.Context
	e    *env
	lang lang
	// accept is how the next JavaScript dialogs are answered; dialogs
	// receives their messages.
	accept  atomic.Bool
	dialogs chan string
	// console keeps the page's console errors and exceptions.
	mu      sync.Mutex
	console []string
	// ignoreInlineRefusal: the test adds an inline script on purpose, that
	// the CSP refuses.
	ignoreInlineRefusal bool
}

// newTab opens a tab for test t in a new browser context of its own:
// no cookie shared with the other tabs, as a person on another computer.
// Its requests carry l's Accept-Language. It closes when t ends.
func (b *browser) newTab(t *testing.T, e *env, l lang) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx, e: e, lang: l, dialogs: make(chan string, 8)}
	tb.accept.Store(true)
	// The first run opens the tab and binds its life to the context it
	// gets: ctx itself, not a step's (the allocator's deadline bounds it).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	step, cancelStep := context.WithTimeout(ctx, stepTimeout)
	defer cancelStep()
	if _, err := chromedp.Call(step, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("network.enable: %v", err)
	}
	if _, err := chromedp.Call(step, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": l.accept}}); err != nil {
		t.Fatalf("Accept-Language: %v", err)
	}
	// Answer the page's confirm() dialogs from another goroutine: a dialog
	// blocks the click that opened it.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			select {
			case tb.dialogs <- ev.Message:
			default:
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: tb.accept.Load()})
		}
	}()
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				tb.mu.Lock()
				tb.console = append(tb.console, fmt.Sprintf("%s (%s:%d)", m.String(), m.URL, m.Line+1))
				tb.mu.Unlock()
			}
		}
	}()
	return tb
}

// consoleErrors returns the errors the page's console showed, but the
// "Failed to load resource" of the refusals' 4xx answers, which the
// screens send on purpose.
func (tb *tab) consoleErrors() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []string
	for _, m := range tb.console {
		if strings.Contains(m, "Failed to load resource: the server responded with a status of 4") ||
			tb.ignoreInlineRefusal && strings.Contains(m, "inline script") && strings.Contains(m, "Content Security Policy") {
			continue
		}
		out = append(out, m)
	}
	return out
}

// checkConsole fails the test on a script error or a CSP refusal seen
// so far.
func (tb *tab) checkConsole() {
	tb.t.Helper()
	if errs := tb.consoleErrors(); len(errs) > 0 {
		tb.t.Errorf("[%s] console errors:\n  %s", tb.lang.code, strings.Join(errs, "\n  "))
	}
}

// run runs steps with the step timeout, failing the test on an error.
func (tb *tab) run(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatalf("[%s] browser step failed at %s: %v", tb.lang.code, tb.location(), err)
	}
}

// location is the page's address, for messages.
func (tb *tab) location() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return loc
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("[%s] evaluating %s at %s: %v", tb.lang.code, expr, tb.location(), err)
	}
	return v
}

// call sends one protocol command to the tab, with the step timeout.
func call[P, R any](tb *tab, cmd cdp.Command[P, R], params P) R {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	r, err := chromedp.Call(ctx, cmd, params)
	if err != nil {
		tb.t.Fatalf("[%s] %s: %v", tb.lang.code, cmd.Method, err)
	}
	return r
}

// setCookie sets a cookie of the test server in the tab's browser
// context.
func (tb *tab) setCookie(name, value string) {
	tb.t.Helper()
	call(tb, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: tb.e.srv.URL + "/"})
}

// open loads a page under /team.
func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.run(chromedp.Navigate(tb.e.srv.URL + "/team" + path))
	tb.waitLoaded()
}

// submit runs steps that leave the page (a click on a submit button, a
// select that submits its form) and waits until the next page is loaded.
func (tb *tab) submit(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	tb.run(append([]chromedp.Action[chromedp.Void]{chromedp.Evaluate[chromedp.Void](`window.__mkOldPage = true`)}, steps...)...)
	tb.waitFor(`!window.__mkOldPage && document.readyState === "complete"`)
	tb.waitLoaded()
}

// waitLoaded waits for the page's deferred script to have run.
func (tb *tab) waitLoaded() {
	tb.t.Helper()
	tb.waitFor(`document.readyState === "complete"`)
}

// waitFor polls a JavaScript condition until it holds; evaluation
// errors while a page comes and goes are retried.
func (tb *tab) waitFor(cond string) {
	tb.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		if tb.ctx.Err() != nil {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	tb.t.Fatalf("[%s] waited %s for %s at %s (last error: %v)", tb.lang.code, stepTimeout, cond, tb.location(), last)
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// click clicks the element a CSS selector finds.
func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }

// fill sets a field's value, with the input and change events typing
// sends (typing each key is slower; see typeText).
func fill(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.SetValue(chromedp.CSS(sel), text)
}

// typeText types text into an empty field, key by key.
func typeText(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.Clear(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
}

// text is the visible text of the element a CSS selector finds ("" when
// none does).
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return eval[string](tb, `(function(){var e=document.querySelector(`+jsString(sel)+`);return e?e.innerText.trim():""})()`)
}

// exists tells whether a CSS selector finds an element.
func (tb *tab) exists(sel string) bool {
	tb.t.Helper()
	return eval[bool](tb, `document.querySelector(`+jsString(sel)+`) !== null`)
}

// count is the number of elements a CSS selector finds.
func (tb *tab) count(sel string) int {
	tb.t.Helper()
	return eval[int](tb, `document.querySelectorAll(`+jsString(sel)+`).length`)
}

// texts are the visible texts of every element a CSS selector finds.
func (tb *tab) texts(sel string) []string {
	tb.t.Helper()
	return eval[[]string](tb, `Array.from(document.querySelectorAll(`+jsString(sel)+`), function(e){return e.innerText.trim()})`)
}

// flash is the page's message (#flash), "" when none. A message
// formatted with arguments it does not take fails the test.
func (tb *tab) flash() string {
	tb.t.Helper()
	s := tb.text("#flash")
	if strings.Contains(s, "%!") {
		bug(tb.t, "doneFlash", "the page shows %q (a format suffix)", s)
	}
	return s
}

// findRow is a JavaScript function that returns the list's row whose
// cell reads email (members and pending invitations alike), or null.
const findRow = `(function(email){return Array.from(document.querySelectorAll("#members tbody tr")).find(function(r){
	return Array.from(r.cells).some(function(c){return c.innerText.trim() === email})}) || null})`

// emailCell finds the cell of a row that holds an email.
const emailCell = `(function(r){var c=Array.from(r.cells).find(function(c){return /^[^\s@]+@[^\s@]+$/.test(c.innerText.trim())});return c?c.innerText.trim():""})`

// row marks the list's row of an email and returns a CSS selector for
// it, to click in it; the test fails when the list has no such row.
func (tb *tab) row(email string) string {
	tb.t.Helper()
	ok := eval[bool](tb, `(function(){var r=`+findRow+`(`+jsString(email)+`);if(!r)return false;r.setAttribute("data-mk-test",`+jsString(email)+`);return true})()`)
	if !ok {
		tb.t.Fatalf("[%s] no row of %s in the list at %s", tb.lang.code, email, tb.location())
	}
	return fmt.Sprintf(`#members tr[data-mk-test=%s]`, jsString(email))
}

// rowStatus is the data-status of the list's row of an email, "" when the
// list has no such row.
func (tb *tab) rowStatus(email string) string {
	tb.t.Helper()
	return eval[string](tb, `(function(){var r=`+findRow+`(`+jsString(email)+`);return r?r.dataset.status:""})()`)
}

// rowText is the visible text of the list's row of an email.
func (tb *tab) rowText(email string) string {
	tb.t.Helper()
	return eval[string](tb, `(function(){var r=`+findRow+`(`+jsString(email)+`);return r?r.innerText:""})()`)
}

// emails are the list's rows, in order.
func (tb *tab) emails() []string {
	tb.t.Helper()
	return eval[[]string](tb, `Array.from(document.querySelectorAll("#members tbody tr"), `+emailCell+`).filter(Boolean)`)
}

// dialog returns the message of the next JavaScript dialog.
func (tb *tab) dialog() string {
	tb.t.Helper()
	select {
	case m := <-tb.dialogs:
		return m
	case <-time.After(stepTimeout):
		tb.t.Fatalf("[%s] no dialog opened at %s", tb.lang.code, tb.location())
		return ""
	}
}

// fullPNG is chromedp.FullScreenshot(100) (a PNG of the whole page,
// beyond the viewport) with the protocol's optimizeForSpeed: about two
// and a half times faster here, for a somewhat larger file.
func fullPNG(ctx context.Context, t *chromedp.Target) ([]byte, error) {
	yes := true
	r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng,
		CaptureBeyondViewport: &yes, FromSurface: &yes, OptimizeForSpeed: &yes})
	return r.Data, err
}

// shot saves a full-page PNG named <lang>-<name>.png.
func (tb *tab) shot(name string) {
	tb.t.Helper()
	dir, _ := screenshotDir()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.Action[[]byte](fullPNG))
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(dir, tb.lang.code+"-"+name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Logf("screenshot %s", file)
}

// lang tells the page's language attribute.
func (tb *tab) htmlLang() string {
	tb.t.Helper()
	return eval[string](tb, `document.documentElement.lang`)
}
