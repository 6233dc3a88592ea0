package memberhttp

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/memberkit/memberkit/membership"
)

// screenHandler is one screen, called with who asks and the page's
// frame already filled.
type screenHandler func(w http.ResponseWriter, r *http.Request, id Identity, d *pageData)

func (h *Handler) routeScreens() {
	m := h.mux
	m.Handle("GET /static/", serveStatic())
	m.HandleFunc("GET /{$}", h.screen("members", h.membersPage))
	m.HandleFunc("GET /members/new", h.screen("members", h.newMemberPage))
	m.HandleFunc("POST /members", h.screen("members", h.addMemberForm))
	m.HandleFunc("GET /members/{id}/{action}", h.screen("members", h.confirmPage))
	m.HandleFunc("POST /members/{id}/{action}", h.screen("members", h.memberForm))
	m.HandleFunc("POST /bulk", h.screen("members", h.bulkForm))
	m.HandleFunc("POST /invitations", h.screen("members", h.inviteForm))
	m.HandleFunc("POST /invitations/{id}/{action}", h.screen("members", h.invitationForm))
	m.HandleFunc("GET /import", h.screen("import", h.importPage))
	m.HandleFunc("POST /import", h.screen("import", h.importForm))
	m.HandleFunc("POST /import/apply", h.screen("import", h.applyForm))
	m.HandleFunc("GET /export.csv", h.screen("import", h.exportFile))
	m.HandleFunc("GET /roles", h.screen("roles", h.rolesPage))
	m.HandleFunc("POST /roles", h.screen("roles", h.createRoleForm))
	m.HandleFunc("POST /roles/{id}", h.screen("roles", h.updateRoleForm))
	m.HandleFunc("POST /roles/{id}/delete", h.screen("roles", h.deleteRoleForm))
	m.HandleFunc("GET /review", h.screen("review", h.reviewPage))
	m.HandleFunc("GET /join", h.joinPage)
	m.HandleFunc("POST /join", h.joinForm)
	m.HandleFunc("/", h.notFoundPage)
}

func (h *Handler) notFoundPage(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		h.apiNotFound(w, r)
		return
	}
	lang := h.lang(r, "")
	h.errorPage(w, r, lang, membership.Problem{Code: "not_found", Status: http.StatusNotFound, Message: text(lang, "err.no_route")})
}

// screen runs fn for a signed-in visitor: a POST must carry the form
// token, and its body is bounded.
func (h *Handler) screen(section string, fn screenHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := h.identify(r)
		if err != nil {
			h.signedOut(w, r, id.Lang)
			return
		}
		limit := int64(maxJSONBytes)
		if r.URL.Path == "/import" {
			limit = h.opts.MaxUploadBytes + 64<<10
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			if err := parseForm(r); err != nil {
				h.errorPage(w, r, id.Lang, membership.Problem{Code: "too_large", Status: http.StatusRequestEntityTooLarge,
					Message: text(id.Lang, "err.upload_too_large", h.opts.MaxUploadBytes>>20)})
				return
			}
			if !checkCSRF(r) {
				h.errorPage(w, r, id.Lang, membership.Problem{Code: "csrf", Status: http.StatusForbidden, Message: text(id.Lang, "err.csrf")})
				return
			}
		}
		d := h.frame(w, r, id, section)
		fn(w, r, id, d)
	}
}

// parseForm reads a urlencoded or multipart body.
func parseForm(r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		return r.ParseMultipartForm(8 << 20)
	}
	return r.ParseForm()
}

// signedOut sends a visitor nobody signed in to the host's sign-in page.
func (h *Handler) signedOut(w http.ResponseWriter, r *http.Request, lang membership.Lang) {
	if h.opts.SignInURL != "" && r.Method == http.MethodGet {
		next := base(r) + r.URL.RequestURI()
		sep := "?"
		if strings.Contains(h.opts.SignInURL, "?") {
			sep = "&"
		}
		http.Redirect(w, r, h.opts.SignInURL+sep+"next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	h.errorPage(w, r, lang, membership.Problem{Code: "signed_out", Status: http.StatusUnauthorized, Message: text(lang, "err.signed_out")})
}

// frame fills what every page shows: the org, the seats, the sections
// the actor's role opens. A read refused here (a member without
// members.read) leaves the frame empty; the page's own call says why.
func (h *Handler) frame(w http.ResponseWriter, r *http.Request, id Identity, section string) *pageData {
	ctx := r.Context()
	d := &pageData{Lang: id.Lang, Base: base(r), CSRF: csrfToken(w, r), Section: section}
	if org, err := h.kit.Members.Org(ctx, id.Actor, id.OrgID); err == nil {
		d.OrgName = org.Name
	}
	d.SeatsUsed, d.SeatLimit, _ = h.kit.Members.Seats(ctx, id.Actor, id.OrgID)
	perms := h.actorPermissions(ctx, id)
	d.Nav = nav{Manage: perms[membership.PermMembersManage], Invite: perms[membership.PermInvitationsManage],
		Roles: perms[membership.PermRolesManage], Import: perms[membership.PermCSVImport], Export: perms[membership.PermCSVExport],
		Audit: perms[membership.PermAuditRead]}
	return d
}

// actorPermissions returns what the actor's role grants, to decide which
// controls to show.
func (h *Handler) actorPermissions(ctx context.Context, id Identity) map[membership.Permission]bool {
	out := map[membership.Permission]bool{}
	perms, _ := h.kit.Members.Permissions(ctx, id.OrgID, id.Actor)
	for _, p := range perms {
		out[p] = true
	}
	return out
}

// backQuery keeps the list's filters from a form's "back" field, and
// nothing else.
func backQuery(s string) url.Values {
	in, _ := url.ParseQuery(s)
	out := url.Values{}
	for _, k := range []string{"group", "status", "role", "q", "after"} {
		if v := in.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	return out
}

// done sends the browser back to the list with its filters and a
// message of the catalogue (post, redirect, get).
func done(w http.ResponseWriter, r *http.Request, path, key string, n int) {
	q := backQuery(r.PostFormValue("back"))
	q.Set("done", key)
	if n >= 0 {
		q.Set("n", strconv.Itoa(n))
	}
	http.Redirect(w, r, base(r)+path+"?"+q.Encode(), http.StatusSeeOther)
}

// doneFlash reads the message a redirect asked for; only the
// catalogue's "done." keys are shown.
func doneFlash(r *http.Request, lang membership.Lang) *flash {
	key := r.URL.Query().Get("done")
	if key == "" || !hasText("done."+key) {
		return nil
	}
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	return &flash{Text: text(lang, "done."+key, n)}
}

// refuse shows a refusal on the list page, with the filters the form
// came from, in the user's language, with the problem's status.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, id Identity, d *pageData, err error) {
	h.internal(r.Context(), r, err)
	p := membership.Explain(err, id.Lang)
	d.Flash = problemFlash(p)
	q := backQuery(r.PostFormValue("back"))
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = q.Encode()
	h.renderMembers(w, r2, id, d, p.Status)
}
