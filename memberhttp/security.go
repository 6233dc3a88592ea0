package memberhttp

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/memberkit/memberkit/membership"
)

// csrfCookie holds the token every form of the screens repeats: a
// browser sends the cookie, but a page of another site can neither read
// it nor set the form field to match. Over HTTPS it carries the __Host-
// prefix, which no sibling subdomain can set.
const csrfCookie = "memberkit_csrf"

// secureRequest tells a request the browser made over HTTPS, directly or
// through a proxy that says so.
func secureRequest(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func csrfCookieName(r *http.Request) string {
	if secureRequest(r) {
		return "__Host-" + csrfCookie
	}
	return csrfCookie
}

// csrfTokenLen is the length of a token: 32 random bytes in base64.
const csrfTokenLen = 43

// secure sets the headers every answer carries and refuses unsafe
// requests from other origins before any handler runs.
func (h *Handler) secure(next http.Handler) (http.Handler, error) {
	csp := "default-src 'self'; script-src 'self'; style-src 'self'" + h.styleOrigin() +
		"; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
	cop := http.NewCrossOriginProtection()
	for _, o := range h.opts.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("memberhttp: Options.TrustedOrigins: %w", err)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			hd.Set("Cache-Control", "no-store")
		}
		if err := cop.Check(r); err != nil {
			h.refuseOrigin(w, r)
			return
		}
		next.ServeHTTP(w, r)
	}), nil
}

// styleOrigin allows the host's stylesheet when it lives on another
// origin.
func (h *Handler) styleOrigin() string {
	u, err := url.Parse(h.opts.Stylesheet)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return " " + u.Scheme + "://" + u.Host
}

func (h *Handler) refuseOrigin(w http.ResponseWriter, r *http.Request) {
	lang := h.lang(r, "")
	p := membership.Problem{Code: "cross_origin", Status: http.StatusForbidden, Message: text(lang, "err.cross_origin")}
	if isAPI(r) {
		writeProblem(w, r, p)
		return
	}
	h.errorPage(w, r, lang, p)
}

// csrfToken returns the visitor's form token, setting its cookie when the
// browser has none yet.
func csrfToken(w http.ResponseWriter, r *http.Request) string {
	name := csrfCookieName(r)
	if c, err := r.Cookie(name); err == nil && len(c.Value) == csrfTokenLen {
		return c.Value
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	// Lax, not Strict: a visitor arriving from an email's link keeps the
	// token of the forms open in other tabs.
	http.SetCookie(w, &http.Cookie{Name: name, Value: tok, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: secureRequest(r)})
	// The same request may render a form: let it read the new token.
	r.AddCookie(&http.Cookie{Name: name, Value: tok})
	return tok
}

// checkCSRF compares the form's token with the cookie's, after the
// origin check: where a browser sends neither Sec-Fetch-Site nor Origin
// the token is what stops a forged form.
func checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookieName(r))
	if err != nil || len(c.Value) != csrfTokenLen {
		return false
	}
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(c.Value)) == 1
}

// isAPI tells the JSON API's paths from the screens'.
func isAPI(r *http.Request) bool {
	return r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/")
}

// jsonBody tells whether an unsafe API request declares a JSON body: a
// page of another site can send a form or plain text without asking, but
// not application/json, which needs the browser's preflight.
func jsonBody(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(strings.ToLower(ct))
	return ct == "application/json" || strings.HasSuffix(ct, "+json")
}

// acceptLanguage reads the first of French or English the browser
// prefers; French when it names neither.
func acceptLanguage(h string) membership.Lang {
	best, bestQ := membership.French, -1.0
	for part := range strings.SplitSeq(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			q = parseQ(v)
		}
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		var l membership.Lang
		switch base {
		case "fr":
			l = membership.French
		case "en":
			l = membership.English
		default:
			continue
		}
		if q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}

func parseQ(v string) float64 {
	switch {
	case v == "1" || strings.HasPrefix(v, "1."):
		return 1
	case strings.HasPrefix(v, "0."):
		q, frac := 0.0, 0.1
		for _, c := range v[2:] {
			if c < '0' || c > '9' {
				break
			}
			q += float64(c-'0') * frac
			frac /= 10
		}
		return q
	}
	return 0
}

func trimSlash(s string) string { return strings.TrimRight(s, "/") }

func queryEscape(s string) string { return url.QueryEscape(s) }

// mib writes a size in whole MiB, rounded up: a bound of 512 KiB reads
// "1 MiB", never "0".
func mib(n int64) int64 { return (n + 1<<20 - 1) >> 20 }
