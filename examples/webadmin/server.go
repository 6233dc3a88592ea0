package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Server is the admin page of one org. Every action runs as the member
// logged in, through the library's permission checks.
type Server struct {
	orgID   string
	store   store.Store // only to name the org on pages shown before sign-in
	members *roster.Service
	invites *invite.Service
	files   *csvsync.Service
	log     *slog.Logger
	pages   map[string]*template.Template

	mu       sync.Mutex
	sessions map[string]*session
}

type session struct {
	memberID string
	stamp    string // the member's security stamp at login, checked on each request
	csrf     string
	flash    *flash
	plans    map[string]*csvsync.Plan
	created  time.Time
}

type flash struct{ Kind, Text string }

// Config wires a Server.
type Config struct {
	OrgID   string
	Store   store.Store
	Hasher  membership.Hasher // nil: argon2id defaults
	Sender  invite.Sender     // nil: log the link
	Logger  *slog.Logger
	BaseURL string // for invitation links
}

// NewServer returns the admin page for one org.
func NewServer(cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sender := cfg.Sender
	if sender == nil {
		sender = invite.SenderFunc(func(_ context.Context, inv membership.Invitation, token string) error {
			log.Info("invitation link", "email", inv.Email, "link", cfg.BaseURL+"/join?token="+token)
			return nil
		})
	}
	inv, err := invite.New(cfg.Store, sender, &invite.Options{Hasher: cfg.Hasher})
	if err != nil {
		return nil, err
	}
	members, err := roster.New(cfg.Store, &roster.Options{Hasher: cfg.Hasher, Logger: log})
	if err != nil {
		return nil, err
	}
	files, err := csvsync.New(cfg.Store, &csvsync.Options{Hasher: cfg.Hasher})
	if err != nil {
		return nil, err
	}
	s := &Server{
		orgID:    cfg.OrgID,
		store:    cfg.Store,
		members:  members,
		invites:  inv,
		files:    files,
		log:      log,
		pages:    map[string]*template.Template{},
		sessions: map[string]*session{},
	}
	funcs := template.FuncMap{
		"join": strings.Join,
		"kind": func(k csvsync.Kind) string {
			return map[csvsync.Kind]string{csvsync.KindAdd: "Ajout", csvsync.KindUpdate: "Mise à jour", csvsync.KindReactivate: "Réactivation",
				csvsync.KindDeactivate: "Désactivation", csvsync.KindUnchanged: "Inchangé"}[k]
		},
	}
	for _, p := range []string{"login", "members", "plan", "error", "join"} {
		t, err := template.New("layout").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/"+p+".html")
		if err != nil {
			return nil, err
		}
		s.pages[p] = t
	}
	return s, nil
}

// Handler returns the HTTP routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.post(s.logout))
	mux.HandleFunc("GET /{$}", s.authed(s.membersPage))
	mux.HandleFunc("POST /members/deactivate", s.authedPost(s.bulkDeactivate))
	mux.HandleFunc("POST /members/{id}/{action}", s.authedPost(s.memberAction))
	mux.HandleFunc("POST /invitations", s.authedPost(s.inviteSend))
	mux.HandleFunc("POST /invitations/{id}/{action}", s.authedPost(s.inviteAction))
	mux.HandleFunc("GET /export.csv", s.authed(s.export))
	mux.HandleFunc("POST /import", s.authedPost(s.importPlan))
	mux.HandleFunc("POST /import/{plan}/apply", s.authedPost(s.importApply))
	mux.HandleFunc("GET /join", s.joinPage)
	mux.HandleFunc("POST /join", s.post(s.join))
	return securityHeaders(mux)
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

const cookieName = "memberkit_session"

// session returns the visitor's session, creating an anonymous one (which
// carries the CSRF token of the login form) when needed.
func (s *Server) session(w http.ResponseWriter, r *http.Request) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, err := r.Cookie(cookieName); err == nil {
		if sess, ok := s.sessions[c.Value]; ok && time.Since(sess.created) < 12*time.Hour {
			return sess
		}
	}
	id := randomID()
	sess := &session{csrf: randomID(), plans: map[string]*csvsync.Plan{}, created: time.Now()}
	s.sessions[id] = sess
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	return sess
}

// checkCSRF compares the form's token with the session's.
func checkCSRF(sess *session, r *http.Request) bool {
	got := r.FormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.csrf)) == 1
}

func (s *Server) post(h func(w http.ResponseWriter, r *http.Request, sess *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := s.session(w, r)
		r.Body = http.MaxBytesReader(w, r.Body, 64<<20)
		if !checkCSRF(sess, r) {
			http.Error(w, "CSRF token missing or invalid", http.StatusForbidden)
			return
		}
		h(w, r, sess)
	}
}

type actorHandler func(w http.ResponseWriter, r *http.Request, sess *session, actor membership.Actor)

// signedIn runs h for a session whose member is still who they were at
// login: the security stamp is checked on every request, so a member
// deactivated, removed, or whose role or password changed, is signed out
// at once.
func (s *Server) signedIn(h actorHandler) func(w http.ResponseWriter, r *http.Request, sess *session) {
	return func(w http.ResponseWriter, r *http.Request, sess *session) {
		s.mu.Lock()
		id, stamp := sess.memberID, sess.stamp
		s.mu.Unlock()
		if id == "" || s.members.CheckSession(r.Context(), s.orgID, id, stamp) != nil {
			s.mu.Lock()
			sess.memberID, sess.stamp = "", ""
			s.mu.Unlock()
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		h(w, r, sess, membership.ActorMember(id))
	}
}

func (s *Server) authed(h actorHandler) http.HandlerFunc {
	in := s.signedIn(h)
	return func(w http.ResponseWriter, r *http.Request) { in(w, r, s.session(w, r)) }
}

func (s *Server) authedPost(h actorHandler) http.HandlerFunc { return s.post(s.signedIn(h)) }

func (s *Server) setFlash(sess *session, kind, text string) {
	s.mu.Lock()
	sess.flash = &flash{Kind: kind, Text: text}
	s.mu.Unlock()
}

func (s *Server) takeFlash(sess *session) *flash {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := sess.flash
	sess.flash = nil
	return f
}

// back redirects to the page the form came from (same origin only).
func back(w http.ResponseWriter, r *http.Request) {
	target := "/"
	if ref, err := url.Parse(r.Header.Get("Referer")); err == nil && ref.Host == r.Host && ref.Path == "/" {
		target = ref.RequestURI()
	}
	if q := r.FormValue("back"); strings.HasPrefix(q, "/?") {
		target = q
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// describe turns a library error into a message for the page.
func describe(err error) string {
	var be *roster.BulkError
	switch {
	case errors.Is(err, membership.ErrLastAdmin):
		return "Refusé : l'entreprise doit garder au moins un administrateur actif."
	case errors.Is(err, membership.ErrMemberLimit):
		return "Refusé : la limite de membres de l'abonnement est atteinte."
	case errors.Is(err, membership.ErrForbidden):
		return "Refusé : votre rôle ne permet pas cette action."
	case errors.As(err, &be):
		return fmt.Sprintf("Refusé, rien n'a changé : %d membre(s) refusé(s).", len(be.Refused))
	case errors.Is(err, membership.ErrAlreadyMember):
		return "Cette adresse appartient déjà à un membre."
	case errors.Is(err, membership.ErrInvitationPending):
		return "Une invitation est déjà en attente pour cette adresse : renvoyez-la."
	case errors.Is(err, csvsync.ErrMassDeactivation):
		return "Refusé : l'import désactiverait plus de la moitié des membres actifs (fichier tronqué ?)."
	case errors.Is(err, csvsync.ErrStalePlan):
		return "La liste a changé depuis l'aperçu : recommencez l'import."
	case errors.Is(err, membership.ErrInvalid):
		return "Donnée invalide : " + err.Error()
	}
	return "Erreur : " + err.Error()
}

type pageData struct {
	Title, OrgName, CSRF string
	Me                   *membership.Member
	SeatsUsed, SeatLimit int
	Flash                *flash
	Query                query
	Statuses             []option
	Roles                []membership.Role
	Rows                 []rowView
	Next                 string
	Invitations          []invite.View
	Plan                 *csvsync.Plan
	PlanID, Token, Email string
	Problems             []string
}

type option struct{ Value, Label string }

type query struct{ Group, Status, Role, Text string }

type rowView struct {
	roster.Row
	StatusLabel string
}

func (s *Server) render(w http.ResponseWriter, page string, d pageData, code int) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	if err := s.pages[page].ExecuteTemplate(w, "layout", d); err != nil {
		s.log.Error("render", "page", page, "err", err)
	}
}

func (s *Server) base(r *http.Request, sess *session, actor membership.Actor) pageData {
	d := pageData{CSRF: sess.csrf, Flash: s.takeFlash(sess)}
	ctx := r.Context()
	// The login and join pages name the org before anyone signs in: the
	// name is read from the store, as the host's own pages would.
	if org, err := s.store.Org(ctx, s.orgID); err == nil {
		d.OrgName = org.Name
	}
	if actor.MemberID != "" {
		if me, err := s.members.Get(ctx, actor, s.orgID, actor.MemberID); err == nil {
			d.Me = &me
		}
		d.SeatsUsed, d.SeatLimit, _ = s.members.Seats(ctx, actor, s.orgID)
	}
	return d
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	sess := s.session(w, r)
	d := s.base(r, sess, membership.Actor{})
	d.Title = "Connexion"
	s.render(w, "login", d, http.StatusOK)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	sess := s.session(w, r)
	if !checkCSRF(sess, r) {
		http.Error(w, "CSRF token missing or invalid", http.StatusForbidden)
		return
	}
	m, err := s.members.Authenticate(membership.WithClient(r.Context(), clientIP(r)), s.orgID, r.FormValue("login"), r.FormValue("password"))
	switch {
	case errors.Is(err, membership.ErrTooManyAttempts):
		s.setFlash(sess, "err", "Trop de tentatives : réessayez plus tard.")
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	case errors.Is(err, membership.ErrPasswordChangeRequired):
		s.setFlash(sess, "err", "Votre mot de passe est temporaire : changez-le avant de vous connecter.")
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.setFlash(sess, "err", "Identifiant ou mot de passe incorrect.")
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	// A new session on login: the old ID (and its CSRF token) die.
	s.mu.Lock()
	for id, v := range s.sessions {
		if v == sess {
			delete(s.sessions, id)
		}
	}
	s.mu.Unlock()
	r2 := r.Clone(r.Context())
	r2.Header.Del("Cookie")
	fresh := s.session(w, r2)
	s.mu.Lock()
	fresh.memberID, fresh.stamp = m.ID, m.SecurityStamp
	s.mu.Unlock()
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, sess *session) {
	s.mu.Lock()
	for id, v := range s.sessions {
		if v == sess {
			delete(s.sessions, id)
		}
	}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) membersPage(w http.ResponseWriter, r *http.Request, sess *session, actor membership.Actor) {
	ctx := r.Context()
	d := s.base(r, sess, actor)
	d.Title = "Membres"
	q := r.URL.Query()
	d.Query = query{Group: q.Get("group"), Status: q.Get("status"), Role: q.Get("role"), Text: q.Get("q")}
	d.Statuses = []option{{"active", "Activé"}, {"deactivated", "Désactivé"}, {"pending", "En attente"}, {"removed", "Retiré"}}
	page, err := s.members.List(ctx, actor, s.orgID, roster.ListQuery{Group: d.Query.Group, RoleID: d.Query.Role, Text: d.Query.Text,
		Status: membership.Status(d.Query.Status), IncludePending: true, After: q.Get("after"), Limit: 50})
	if err != nil {
		d.Flash = &flash{"err", describe(err)}
	}
	for _, row := range page.Rows() {
		d.Rows = append(d.Rows, rowView{Row: row, StatusLabel: row.StatusLabel(membership.French)})
	}
	if page.Next != "" {
		q.Set("after", page.Next)
		d.Next = "/?" + q.Encode()
	}
	d.Roles, _ = s.members.Roles(ctx, actor, s.orgID)
	d.Invitations, _ = s.invites.List(ctx, actor, s.orgID)
	s.render(w, "members", d, http.StatusOK)
}

func (s *Server) bulkDeactivate(w http.ResponseWriter, r *http.Request, sess *session, actor membership.Actor) {
	ids := r.Form["id"]
	if len(ids) == 0 {
		s.setFlash(sess, "err", "Aucun membre sélectionné.")
		back(w, r)
		return
	}
	res, err := s.members.DeactivateMany(r.Context(), actor, s.orgID, ids)
	if err != nil {
		s.setFlash(sess, "err", describe(err))
	} else {
		s.setFlash(sess, "ok", fmt.Sprintf("%d membre(s) désactivé(s).", len(res.Changed)))
	}
	back(w, r)
}

func (s *Server) memberAction(w http.ResponseWriter, r *http.Request, sess *session, actor membership.Actor) {
	ctx, id := r.Context(), r.PathValue("id")
	var err error
	var done string
	switch r.PathValue("action") {
	case "activate":
		_, err = s.members.Activate(ctx, actor, s.orgID, id)
		done = "Membre activé."
	case "deactivate":
		_, err = s.members.Deactivate(ctx, actor, s.orgID, id)
		done = "Membre désactivé."
	case "remove":
		_, err = s.members.Remove(ctx, actor, s.orgID, id)
		done = "Membre retiré."
	case "role":
		_, err = s.members.ChangeRole(ctx, actor, s.orgID, id, r.FormValue("role"))
		done = "Rôle modifié."
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.setFlash(sess, "err", describe(err))
	} else {
		s.setFlash(sess, "ok", done)
	}
	back(w, r)
}

func (s *Server) inviteSend(w http.ResponseWriter, r *http.Request, sess *session, actor membership.Actor) {
	inv, err := s.invites.Send(r.Context(), actor, s.orgID, invite.To{Email: r.FormValue("email"), RoleID: r.FormValue("role")})
	if err != nil {
		s.setFlash(sess, "err", describe(err))
	} else {
		s.setFlash(sess, "ok", "Invitation envoyée à "+inv.Email+".")
	}
	back(w, r)
}

func (s *Server) inviteAction(w http.ResponseWriter, r *http.Request, sess *session, actor membership.Actor) {
	var err error
	switch r.PathValue("action") {
	case "resend":
		_, err = s.invites.Resend(r.Context(), actor, s.orgID, r.PathValue("id"))
	case "cancel":
		err = s.invites.Cancel(r.Context(), actor, s.orgID, r.PathValue("id"))
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.setFlash(sess, "err", describe(err))
	} else {
		s.setFlash(sess, "ok", "Invitation mise à jour.")
	}
	back(w, r)
}

func (s *Server) export(w http.ResponseWriter, r *http.Request, sess *session, actor membership.Actor) {
	// Export into memory first so that a refusal is a page, not half a file.
	var buf strings.Builder
	if _, err := s.files.Export(r.Context(), actor, s.orgID, &buf, nil); err != nil {
		s.setFlash(sess, "err", describe(err))
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="membres.csv"`)
	_, _ = io.WriteString(w, buf.String())
}

func (s *Server) importPlan(w http.ResponseWriter, r *http.Request, sess *session, actor membership.Actor) {
	file, _, err := r.FormFile("file")
	if err != nil {
		s.setFlash(sess, "err", "Choisissez un fichier CSV.")
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	defer file.Close()
	ctx := r.Context()
	d := s.base(r, sess, actor)
	// refused shows a refused file (the problems, line by line) or any
	// other refusal (a message on the list), and reports whether it did.
	refused := func(err error) bool {
		var fe *csvsync.FileError
		switch {
		case err == nil:
			return false
		case errors.As(err, &fe):
			d.Title, d.Problems = "Import refusé", fe.Lines()
			s.render(w, "error", d, http.StatusUnprocessableEntity)
		default:
			s.setFlash(sess, "err", describe(err))
			http.Redirect(w, r, "/", http.StatusSeeOther)
		}
		return true
	}
	parsed, err := s.files.Parse(ctx, actor, s.orgID, file)
	if refused(err) {
		return
	}
	plan, err := s.files.Plan(ctx, actor, s.orgID, parsed, nil)
	if refused(err) {
		return
	}
	id := randomID()
	s.mu.Lock()
	sess.plans = map[string]*csvsync.Plan{id: plan} // one pending plan per session
	s.mu.Unlock()
	d.Title, d.Plan, d.PlanID = "Aperçu de l'import", plan, id
	s.render(w, "plan", d, http.StatusOK)
}

func (s *Server) importApply(w http.ResponseWriter, r *http.Request, sess *session, actor membership.Actor) {
	s.mu.Lock()
	plan := sess.plans[r.PathValue("plan")]
	delete(sess.plans, r.PathValue("plan"))
	s.mu.Unlock()
	if plan == nil {
		s.setFlash(sess, "err", "Aperçu expiré : recommencez l'import.")
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	res, err := s.files.Apply(r.Context(), actor, s.orgID, plan, nil)
	if err != nil {
		s.setFlash(sess, "err", describe(err))
	} else {
		s.setFlash(sess, "ok", fmt.Sprintf("Import appliqué : %d ajouté(s), %d mis à jour, %d réactivé(s), %d désactivé(s), %d inchangé(s).",
			res.Added, res.Updated, res.Reactivated, res.Deactivated, res.Unchanged))
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) joinPage(w http.ResponseWriter, r *http.Request) {
	sess := s.session(w, r)
	d := s.base(r, sess, membership.Actor{})
	d.Title = "Rejoindre"
	inv, err := s.invites.Lookup(r.Context(), r.URL.Query().Get("token"))
	if err != nil {
		d.Flash = &flash{"err", "Ce lien d'invitation n'est plus valable. Demandez-en un nouveau."}
		s.render(w, "login", d, http.StatusNotFound)
		return
	}
	d.Token, d.Email = r.URL.Query().Get("token"), inv.Email
	s.render(w, "join", d, http.StatusOK)
}

func (s *Server) join(w http.ResponseWriter, r *http.Request, sess *session) {
	_, err := s.invites.Accept(r.Context(), r.FormValue("token"), invite.Details{FirstName: r.FormValue("first"), LastName: r.FormValue("last"), Password: r.FormValue("password")})
	if err != nil {
		s.setFlash(sess, "err", describe(err))
		http.Redirect(w, r, "/join?token="+url.QueryEscape(r.FormValue("token")), http.StatusSeeOther)
		return
	}
	s.setFlash(sess, "ok", "Bienvenue ! Connectez-vous.")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// clientIP names the client for the login throttle: the connection's
// address (behind a proxy, take it from the proxy's header instead).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
