package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
)

// axeSource is node_modules/axe-core/axe.min.js, installed by `npm ci`
// in this directory.
var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(filepath.Join("node_modules", "axe-core", "axe.min.js"))
	return string(b), err
})

// axeViolation is one rule axe-core found broken, with its nodes.
type axeViolation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  []any  `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

func (v axeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s <%s>", v.ID, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n      %v %s\n        %s", n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", "\n        "))
	}
	return b.String()
}

// axe injects axe-core into the page (Runtime.evaluate, which the page's
// Content-Security-Policy does not govern), runs it, saves the
// screenshot a11y-<screen>, and fails the test on every violation of
// impact serious or critical; the others are logged.
func (tb *tab) axe(screen string) {
	tb.t.Helper()
	tb.shot("a11y-" + screen)
	for _, v := range tb.runAxe(screen) {
		switch v.Impact {
		case "serious", "critical":
			tb.t.Errorf("[%s] %s (%s): accessibility violation %s", tb.lang.code, screen, tb.location(), v)
		default:
			tb.t.Logf("[%s] %s: minor accessibility finding %s", tb.lang.code, screen, v)
		}
	}
}

// runAxe injects axe-core when the page has it not yet, and returns
// what axe.run finds.
func (tb *tab) runAxe(screen string) []axeViolation {
	tb.t.Helper()
	src, err := axeSource()
	require.NoError(tb.t, err)
	if !eval[bool](tb, `typeof axe === "object"`) {
		tb.run(chromedp.Evaluate[chromedp.Void](src))
	}
	require.True(tb.t, eval[bool](tb, `typeof axe === "object" && typeof axe.run === "function"`), "axe-core injected")
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](`axe.run(document, {resultTypes: ["violations"]}).then(function (r) {
		return r.violations.map(function (v) {
			return {id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
				nodes: v.nodes.map(function (n) { return {target: n.target, html: n.html, summary: n.failureSummary}; })};
		});
	})`, chromedp.EvalAwaitPromise))
	require.NoError(tb.t, err, "axe.run on %s", screen)
	var vs []axeViolation
	require.NoError(tb.t, json.Unmarshal(raw, &vs))
	return vs
}

// axeSelfCheck makes sure axe sees a fault under the page's CSP: a field
// without a label, added for the check and removed after.
func (tb *tab) axeSelfCheck() {
	tb.t.Helper()
	tb.run(chromedp.Evaluate[chromedp.Void](`(function () {
		var i = document.createElement("input"); i.id = "mk-unlabelled"; document.querySelector("main").appendChild(i);
	})()`))
	found := false
	for _, v := range tb.runAxe("self-check") {
		for _, n := range v.Nodes {
			found = found || v.ID == "label" && fmt.Sprint(n.Target) == "[#mk-unlabelled]"
		}
	}
	assert.True(tb.t, found, "axe reports an input without a label: it runs")
	tb.run(chromedp.Evaluate[chromedp.Void](`document.getElementById("mk-unlabelled").remove()`))
}

// TestAccessibility runs axe-core (npm package axe-core, pinned in
// package.json) on every screen, in French and in English: the list
// (with a pending invitation and a deactivated member), a member's page,
// the new-member form, a row action's confirmation page, the mass
// action's confirmation page, import, its preview, roles, review, the
// invitation page (anonymous and signed in) and the error page. It also
// checks that the pages' Content-Security-Policy is in force while axe
// is injected: an inline script the test adds does not run.
func TestAccessibility(t *testing.T) {
	if _, err := axeSource(); err != nil {
		skipOrFail(t, "accessibility test skipped: axe-core is not installed (run `npm ci` in internal/testkit/suites/browser): "+err.Error())
	}
	b := startBrowser(t)
	for _, l := range languages {
		t.Run(l.code, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, 10)
			ctx := context.Background()
			denis := e.add("Denis", "Faure", membership.RoleUser, "Lille")
			_, err := e.kit.Members.Deactivate(ctx, membership.SystemActor("test"), e.org, denis)
			require.NoError(t, err)
			_, err = e.kit.Invitations.Send(ctx, membership.ActorMember(e.admin), e.org, invite.To{Email: "invitee@example.com", RoleID: membership.RoleUser})
			require.NoError(t, err)

			tb := b.newTab(t, e, l)
			tb.setCookie("member", e.admin)
			tb.ignoreInlineRefusal = true // the CSP probe below
			defer tb.checkConsole()

			tb.open("/")
			// The CSP is in force: an inline script does not run...
			assert.False(t, eval[bool](tb, `(function () {
				var s = document.createElement("script");
				s.textContent = "window.__mkInline = true";
				document.head.appendChild(s);
				return window.__mkInline === true;
			})()`), "the page's Content-Security-Policy refuses inline scripts")
			// ... the page's own script does (it shows "select all")...
			assert.False(t, eval[bool](tb, `document.getElementById("select-all").hidden`))
			// ... and axe, injected through the protocol, runs all the same.
			tb.axeSelfCheck()
			tb.axe("members")
			tb.open("/members/" + e.user)
			tb.axe("member")
			tb.open("/members/new")
			tb.axe("member-new")
			tb.open("/members/" + e.user + "/deactivate?back=" + url.QueryEscape("group=Lyon"))
			tb.axe("confirm")
			tb.open("/?group=Lyon")
			tb.run(click("#scope-filter"))
			tb.submit(click("#bulk-submit"))
			require.True(t, tb.exists("#confirm-question"))
			tb.axe("bulk-confirm")
			tb.open("/import")
			tb.axe("import")
			file := filepath.Join(t.TempDir(), "members.csv")
			require.NoError(t, os.WriteFile(file, editExport(t, l, tb.export()), 0o644))
			tb.run(chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{file}))
			tb.submit(click("#import-submit"))
			require.True(t, tb.exists("#plan-summary"))
			tb.axe("import-plan")
			tb.open("/roles")
			tb.axe("roles")
			tb.open("/review")
			tb.axe("review")
			tb.open("/nowhere")
			assert.Equal(t, l.word("error.title"), tb.text("h1"))
			assert.Contains(t, tb.flash(), l.word("not_found"))
			tb.axe("error")

			guest := b.newTab(t, e, l)
			defer guest.checkConsole()
			guest.open("/join?token=" + url.QueryEscape(e.sender.TokenFor("invitee@example.com")))
			require.True(t, guest.exists("#join-form"))
			guest.axe("join")
			guest.setCookie("user", "host-account-7")
			guest.open("/join?token=" + url.QueryEscape(e.sender.TokenFor("invitee@example.com")))
			require.True(t, guest.exists("#join-as-user"))
			guest.axe("join-as-user")
		})
	}
}
