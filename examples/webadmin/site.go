package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/memberhttp"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// NewSite is the whole host: a sign-in page of its own, and memberkit's
// screens and API mounted under /team for the org. Invitation links are
// logged (a real host gives the kit an invite.Sender or invitemail).
func NewSite(st store.Store, orgID, baseURL string, log *slog.Logger, hasher membership.Hasher) (http.Handler, error) {
	kit, err := memberkit.New(st, &memberkit.Options{Hasher: hasher, Logger: log,
		Sender: invite.SenderFunc(func(_ context.Context, inv membership.Invitation, token string) error {
			log.Info("invitation", "email", inv.Email, "link", memberhttp.JoinURL(baseURL+"/team", token))
			return nil
		})})
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s := &sessions{kit: kit, orgID: orgID, key: key}
	team, err := memberhttp.New(kit, memberhttp.Options{Identify: s.identify, SignInURL: "/login", UpgradeURL: "https://example.com/pricing", Logger: log})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/team/", http.StripPrefix("/team", team))
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.Handle("GET /{$}", http.RedirectHandler("/team/", http.StatusSeeOther))
	return http.NewCrossOriginProtection().Handler(mux), nil
}

// sessions signs the member's ID and security stamp into a cookie; each
// request checks the stamp, so a member deactivated loses access at once.
type sessions struct {
	kit   *memberkit.Kit
	orgID string
	key   []byte
}

const sessionCookie = "webadmin_session"

func (s *sessions) sign(v string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(v))
	return v + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *sessions) identify(r *http.Request) (memberhttp.Identity, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return memberhttp.Identity{}, memberhttp.ErrSignedOut
	}
	i := strings.LastIndexByte(c.Value, '.')
	if i < 0 || !hmac.Equal([]byte(s.sign(c.Value[:i])), []byte(c.Value)) {
		return memberhttp.Identity{}, memberhttp.ErrSignedOut
	}
	memberID, stamp, _ := strings.Cut(c.Value[:i], "|")
	if err := s.kit.Members.CheckSession(r.Context(), s.orgID, memberID, stamp); err != nil {
		return memberhttp.Identity{}, memberhttp.ErrSignedOut
	}
	return memberhttp.Identity{OrgID: s.orgID, Actor: membership.ActorMember(memberID)}, nil
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Connexion</title>
<link rel="stylesheet" href="/team/static/memberkit.css"></head><body><main class="mk-main"><h1>Connexion</h1>
{{with .Error}}<p class="mk-flash mk-error" role="alert">{{.}}</p>{{end}}
<form method="post" action="/login" class="mk-box mk-form"><input type="hidden" name="next" value="{{.Next}}">
<label for="login">Identifiant</label><input id="login" name="login" autocomplete="username" required>
<label for="password">Mot de passe</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Se connecter</button></form></main></body></html>`))

type loginData struct{ Error, Next string }

func (s *sessions) loginPage(w http.ResponseWriter, r *http.Request) {
	_ = loginPage.Execute(w, loginData{Next: r.URL.Query().Get("next")})
}

func (s *sessions) login(w http.ResponseWriter, r *http.Request) {
	m, err := s.kit.Members.Authenticate(r.Context(), s.orgID, r.PostFormValue("login"), r.PostFormValue("password"))
	if err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		_ = loginPage.Execute(w, loginData{Error: membership.Explain(err, membership.French).Message, Next: r.PostFormValue("next")})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.sign(m.ID + "|" + m.SecurityStamp), Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// safeNext keeps a "next" address only when it is a path of this site
// under /team/: never another site ("//evil.example", "/\\evil.example",
// "/team/../\\evil.example").
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.ContainsAny(next, "\\\r\n") {
		return "/team/"
	}
	clean := path.Clean(u.Path)
	if !strings.HasPrefix(clean+"/", "/team/") {
		return "/team/"
	}
	u.Path = clean
	return u.String()
}
