package memberhttp

import (
	"errors"
	"mime/multipart"
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
	m.HandleFunc("GET /members/{id}", h.screen("members", h.memberPage))
	m.HandleFunc("POST /members/{id}", h.screen("members", h.editMemberForm))
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
			h.identifyFailed(w, r, id.Lang, err)
			return
		}
		limit := int64(maxJSONBytes)
		if r.URL.Path == "/import" {
			limit = h.opts.MaxUploadBytes + 64<<10
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			if err := parseForm(r); err != nil {
				h.errorPage(w, r, id.Lang, formProblem(err, id.Lang, h.opts.MaxUploadBytes))
				return
			}
			if !checkCSRF(r) {
				h.errorPage(w, r, id.Lang, membership.Problem{Code: "csrf", Status: http.StatusForbidden, Message: text(id.Lang, "err.csrf")})
				return
			}
		}
		d := h.frame(w, r, id, section)
		defer d.await() // the read ends before the request does
		fn(w, r, id, d)
	}
}

// formProblem tells a body too large from one the server cannot read.
func formProblem(err error, lang membership.Lang, maxUpload int64) membership.Problem {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || errors.Is(err, multipart.ErrMessageTooLarge) {
		return membership.Problem{Code: "too_large", Status: http.StatusRequestEntityTooLarge, Message: text(lang, "err.upload_too_large", mib(maxUpload))}
	}
	return membership.Problem{Code: "invalid_request", Status: http.StatusBadRequest, Message: text(lang, "err.bad_form")}
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
		next := h.base(r) + r.URL.RequestURI()
		sep := "?"
		if strings.Contains(h.opts.SignInURL, "?") {
			sep = "&"
		}
		http.Redirect(w, r, h.opts.SignInURL+sep+"next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	h.errorPage(w, r, lang, membership.Problem{Code: "signed_out", Status: http.StatusUnauthorized, Message: text(lang, "err.signed_out")})
}

// frame starts filling what every page shows: the org, the seats, the
// sections the actor's role opens, from one read
// (roster.Service.Workspace). The read runs beside the page's own calls
// (a list page's List), and pageData.await waits for it. A read refused
// here (a member without members.read) leaves the frame empty; the page's
// own call says why.
func (h *Handler) frame(w http.ResponseWriter, r *http.Request, id Identity, section string) *pageData {
	d := &pageData{Lang: id.Lang, Base: h.base(r), CSRF: csrfToken(w, r), Section: section, frameDone: make(chan struct{})}
	go func() {
		defer close(d.frameDone)
		f := &d.frameRead
		f.perms = map[membership.Permission]bool{}
		ws, err := h.kit.Members.Workspace(r.Context(), id.Actor, id.OrgID)
		if err != nil {
			return
		}
		f.ws = ws
		for _, p := range ws.Permissions {
			f.perms[p] = true
		}
	}()
	return d
}

// await waits for the frame's read and fills the page's fields from it;
// it may be called any number of times.
func (d *pageData) await() {
	if d.frameDone == nil || d.awaited {
		return
	}
	<-d.frameDone
	d.awaited = true
	f := &d.frameRead
	d.perms, d.roles = f.perms, f.ws.Roles
	d.OrgName, d.SeatsUsed, d.SeatLimit = f.ws.Org.Name, f.ws.SeatsUsed, f.ws.SeatLimit
	if f.ws.Me != nil {
		d.self = f.ws.Me.ID
	}
	p, csv := d.perms, f.ws.Org.Has(membership.FeatureCSV)
	d.csv = csv
	d.Nav = nav{Manage: p[membership.PermMembersManage], Invite: p[membership.PermInvitationsManage],
		Roles: p[membership.PermRolesManage], Import: csv && p[membership.PermCSVImport], Export: csv && p[membership.PermCSVExport],
		Audit: p[membership.PermAuditRead]}
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
func (h *Handler) done(w http.ResponseWriter, r *http.Request, path, key string, n int) {
	q := backQuery(r.PostFormValue("back"))
	q.Set("done", key)
	if n >= 0 {
		q.Set("n", strconv.Itoa(n))
	}
	http.Redirect(w, r, h.base(r)+path+"?"+q.Encode(), http.StatusSeeOther)
}

// doneFlash reads the message a redirect asked for; only the
// catalogue's "done." keys are shown.
func doneFlash(r *http.Request, lang membership.Lang) *flash {
	key := r.URL.Query().Get("done")
	if key == "" || !hasText("done."+key) {
		return nil
	}
	if !r.URL.Query().Has("n") {
		return &flash{Text: text(lang, "done."+key)}
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
