package memberhttp

import (
	"net/http"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
)

func (h *Handler) importPage(w http.ResponseWriter, r *http.Request, id Identity, d *pageData) {
	d.Title = text(id.Lang, "page.import")
	d.Flash = doneFlash(r, id.Lang)
	if d.await(); !d.csv {
		// "Si cette fonctionnalité n'est pas active pour votre entreprise":
		// say so, with the host's upgrade page.
		d.Flash = problemFlash(membership.Explain(membership.ErrFeatureDisabled, id.Lang))
		d.Flash.Upgrade = true
	}
	d.Content = map[string]any{"MaxMiB": h.opts.MaxUploadBytes >> 20}
	h.render(w, http.StatusOK, "import", d)
}

// importForm reads the uploaded file and shows the plan: nothing is
// written until the user applies it.
func (h *Handler) importForm(w http.ResponseWriter, r *http.Request, id Identity, d *pageData) {
	d.Title = text(id.Lang, "page.import")
	fail := func(err error) {
		h.internal(r.Context(), r, err)
		p := membership.Explain(err, id.Lang)
		d.Flash = problemFlash(p)
		d.Content = map[string]any{"MaxMiB": h.opts.MaxUploadBytes >> 20}
		h.render(w, p.Status, "import", d)
	}
	file, _, err := r.FormFile("file")
	if err != nil {
		fail(&badRequest{field: "file", msg: text(id.Lang, "err.no_file")})
		return
	}
	defer file.Close()
	opts := &csvsync.PlanOptions{AllowMassDeactivation: r.PostFormValue("allow_mass") == "1"}
	tok, exp, plan, err := h.planImport(r, id, file, opts)
	if err != nil {
		fail(err)
		return
	}
	v := views{lang: id.Lang, labels: h.kit.Labels}
	p := v.plan(tok, exp, plan)
	kinds := map[csvsync.Kind]string{}
	for _, k := range []csvsync.Kind{csvsync.KindAdd, csvsync.KindUpdate, csvsync.KindReactivate, csvsync.KindDeactivate, csvsync.KindUnchanged} {
		kinds[k] = k.Text(id.Lang)
	}
	d.Title = text(id.Lang, "page.plan")
	d.Content = map[string]any{"Plan": p, "Kinds": kinds, "Changes": plan.Changes(), "Full": plan.SeatLimit > 0 && plan.SeatsAfter > plan.SeatLimit}
	h.render(w, http.StatusOK, "plan", d)
}

func (h *Handler) applyForm(w http.ResponseWriter, r *http.Request, id Identity, d *pageData) {
	res, err := h.applyImport(r, id, r.PostFormValue("token"))
	if err != nil {
		h.internal(r.Context(), r, err)
		d.Title = text(id.Lang, "page.import")
		d.Flash = problemFlash(membership.Explain(err, id.Lang))
		d.Content = map[string]any{"MaxMiB": h.opts.MaxUploadBytes >> 20}
		h.render(w, membership.Explain(err, id.Lang).Status, "import", d)
		return
	}
	h.done(w, r, "/", "imported", res.Added+res.Updated+res.Reactivated+res.Deactivated)
}

func (h *Handler) exportFile(w http.ResponseWriter, r *http.Request, id Identity, _ *pageData) {
	h.export(w, r, id, h.exportOptions(r, id.Lang), func(p membership.Problem) { h.errorPage(w, r, id.Lang, p) })
}

// roleView is a custom role on the roles page.
type roleView struct {
	roleJSON
	Builtin bool
}

func (h *Handler) rolesPage(w http.ResponseWriter, r *http.Request, id Identity, d *pageData) {
	d.Flash = doneFlash(r, id.Lang)
	h.renderRoles(w, r, id, d, http.StatusOK)
}

func (h *Handler) renderRoles(w http.ResponseWriter, r *http.Request, id Identity, d *pageData, status int) {
	d.Title = text(id.Lang, "page.roles")
	roles, err := h.kit.Members.Roles(r.Context(), id.Actor, id.OrgID)
	if err != nil && d.Flash == nil {
		d.Flash = problemFlash(membership.Explain(err, id.Lang))
		status = membership.Explain(err, id.Lang).Status
	}
	v := views{lang: id.Lang, labels: h.kit.Labels}
	var list []roleJSON
	for _, ro := range roles {
		list = append(list, v.role(ro))
	}
	perms := h.permissions(id.Lang)
	labels := make(map[membership.Permission]string, len(perms))
	for _, p := range perms {
		labels[p.Name] = p.Label
	}
	d.Content = map[string]any{"Roles": list, "Permissions": perms, "Labels": labels}
	h.render(w, status, "roles", d)
}

func (h *Handler) roleFailed(w http.ResponseWriter, r *http.Request, id Identity, d *pageData, err error) {
	h.internal(r.Context(), r, err)
	p := membership.Explain(err, id.Lang)
	d.Flash = problemFlash(p)
	h.renderRoles(w, r, id, d, p.Status)
}

func formPermissions(r *http.Request) []membership.Permission {
	out := []membership.Permission{}
	for _, p := range r.PostForm["perm"] {
		out = append(out, membership.Permission(p))
	}
	return out
}

func (h *Handler) createRoleForm(w http.ResponseWriter, r *http.Request, id Identity, d *pageData) {
	_, err := h.createRole(r.Context(), id, r.PostFormValue("name"), formPermissions(r))
	if err != nil {
		h.roleFailed(w, r, id, d, err)
		return
	}
	h.done(w, r, "/roles", "role_created", -1)
}

func (h *Handler) updateRoleForm(w http.ResponseWriter, r *http.Request, id Identity, d *pageData) {
	if _, err := h.kit.Members.UpdateRole(r.Context(), id.Actor, id.OrgID, r.PathValue("id"), r.PostFormValue("name"), formPermissions(r)); err != nil {
		h.roleFailed(w, r, id, d, err)
		return
	}
	h.done(w, r, "/roles", "role_updated", -1)
}

func (h *Handler) deleteRoleForm(w http.ResponseWriter, r *http.Request, id Identity, d *pageData) {
	if err := h.kit.Members.DeleteRole(r.Context(), id.Actor, id.OrgID, r.PathValue("id")); err != nil {
		h.roleFailed(w, r, id, d, err)
		return
	}
	h.done(w, r, "/roles", "role_deleted", -1)
}

func (h *Handler) reviewPage(w http.ResponseWriter, r *http.Request, id Identity, d *pageData) {
	d.Title = text(id.Lang, "page.review")
	rep, err := h.kit.Members.Review(r.Context(), id.Actor, id.OrgID)
	if err != nil {
		d.Flash = problemFlash(membership.Explain(err, id.Lang))
		h.render(w, membership.Explain(err, id.Lang).Status, "review", d)
		return
	}
	v := h.views(r.Context(), id)
	var notices []string
	for _, n := range rep.Notices {
		notices = append(notices, n.Text(id.Lang))
	}
	d.Content = map[string]any{"Report": rep, "Idle": v.members(rep.Idle), "Expired": v.invitations(rep.ExpiredInvitations), "Notices": notices}
	h.render(w, http.StatusOK, "review", d)
}

// joinContent is the invitation page's data.
type joinContent struct {
	Token     string
	Email     string
	SignedIn  bool // a host account is signed in: offer to join as it
	FirstName string
	LastName  string
	Login     string
}

// joinPage shows the org and the email an invitation is for, and the
// form that accepts it. Nobody needs to be signed in.
func (h *Handler) joinPage(w http.ResponseWriter, r *http.Request) {
	h.renderJoin(w, r, http.StatusOK, r.URL.Query().Get("token"), nil, nil)
}

func (h *Handler) renderJoin(w http.ResponseWriter, r *http.Request, status int, token string, fl *flash, form *joinContent) {
	w.Header().Set("Referrer-Policy", "no-referrer") // the token is in the URL
	lang := h.lang(r, "")
	signed := false
	if id, err := h.opts.Identify(r); err == nil {
		lang = h.lang(r, id.Lang)
		signed = id.UserID != ""
	}
	d := &pageData{Lang: lang, Base: h.base(r), CSRF: csrfToken(w, r), Title: text(lang, "page.join"), Flash: fl}
	inv, err := h.kit.Invitations.Lookup(r.Context(), token)
	if err != nil {
		h.errorPage(w, r, lang, membership.Explain(err, lang))
		return
	}
	if org, err := h.kit.Store.Org(r.Context(), inv.OrgID); err == nil {
		d.OrgName = org.Name
	}
	c := joinContent{Token: token, Email: inv.Email, SignedIn: signed}
	if form != nil {
		c.FirstName, c.LastName, c.Login = form.FirstName, form.LastName, form.Login
	}
	d.Content = c
	h.render(w, status, "join", d)
}

// joinForm accepts the invitation: with names and a password, or as the
// host account signed in.
func (h *Handler) joinForm(w http.ResponseWriter, r *http.Request) {
	lang := h.lang(r, "")
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBytes)
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, lang, formProblem(err, lang, h.opts.MaxUploadBytes))
		return
	}
	if !checkCSRF(r) {
		h.errorPage(w, r, lang, membership.Problem{Code: "csrf", Status: http.StatusForbidden, Message: text(lang, "err.csrf")})
		return
	}
	f := r.PostForm
	token := f.Get("token")
	d := invite.Details{FirstName: f.Get("first_name"), LastName: f.Get("last_name"), Login: f.Get("login"), Password: f.Get("password")}
	var err error
	if f.Get("as_user") == "1" {
		id, ierr := h.opts.Identify(r)
		if ierr != nil || id.UserID == "" {
			h.renderJoin(w, r, http.StatusUnauthorized, token, &flash{Error: true, Text: text(lang, "err.signed_out")}, nil)
			return
		}
		_, err = h.kit.Invitations.AcceptAsUser(r.Context(), token, id.UserID, d)
	} else {
		if f.Get("password") != f.Get("password2") {
			h.renderJoin(w, r, http.StatusUnprocessableEntity, token, &flash{Error: true, Text: text(lang, "err.passwords_differ")},
				&joinContent{FirstName: d.FirstName, LastName: d.LastName, Login: d.Login})
			return
		}
		_, err = h.kit.Invitations.Accept(r.Context(), token, d)
	}
	if err != nil {
		p := membership.Explain(err, lang)
		h.renderJoin(w, r, p.Status, token, problemFlash(p), &joinContent{FirstName: d.FirstName, LastName: d.LastName, Login: d.Login})
		return
	}
	if h.opts.AfterJoinURL != "" {
		http.Redirect(w, r, h.opts.AfterJoinURL, http.StatusSeeOther)
		return
	}
	h.render(w, http.StatusOK, "joined", &pageData{Lang: lang, Base: h.base(r), Title: text(lang, "page.joined")})
}
