package memberhttp

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

func (h *Handler) apiListInvitations(w http.ResponseWriter, r *http.Request, id Identity) {
	invs, err := h.kit.Invitations.List(r.Context(), id.Actor, id.OrgID)
	if err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Invitations []invitationJSON `json:"invitations"`
	}{h.views(r.Context(), id).inviteViews(invs)})
}

func (h *Handler) apiSendInvitation(w http.ResponseWriter, r *http.Request, id Identity) {
	var in struct {
		Email  string `json:"email"`
		RoleID string `json:"role_id"`
	}
	if err := decodeJSON(w, r, id.Lang, &in); err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	inv, err := h.kit.Invitations.Send(r.Context(), id.Actor, id.OrgID, invite.To{Email: in.Email, RoleID: in.RoleID})
	h.answerInvitation(w, r, id, http.StatusCreated, inv, err)
}

// answerInvitation answers an invitation sent or resent. A sender that
// failed leaves the invitation saved: the answer is the problem, 502,
// and a resend delivers it.
func (h *Handler) answerInvitation(w http.ResponseWriter, r *http.Request, id Identity, status int, inv membership.Invitation, err error) {
	if err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	writeJSON(w, status, h.views(r.Context(), id).invitation(inv))
}

func (h *Handler) apiResendInvitation(w http.ResponseWriter, r *http.Request, id Identity) {
	inv, err := h.kit.Invitations.Resend(r.Context(), id.Actor, id.OrgID, r.PathValue("id"))
	h.answerInvitation(w, r, id, http.StatusOK, inv, err)
}

func (h *Handler) apiCancelInvitation(w http.ResponseWriter, r *http.Request, id Identity) {
	if err := h.kit.Invitations.Cancel(r.Context(), id.Actor, id.OrgID, r.PathValue("id")); err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type acceptJSON struct {
	Token     string `json:"token"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Login     string `json:"login"`
	Password  string `json:"password"`
	// AsUser joins as the host account signed in (Identify's UserID)
	// instead of creating a memberkit login.
	AsUser bool `json:"as_user"`
}

// apiAccept accepts an invitation: the invitee is not a member yet, so
// the request needs no identity unless it joins as the signed-in account.
func (h *Handler) apiAccept(w http.ResponseWriter, r *http.Request) {
	lang := h.lang(r, "")
	var in acceptJSON
	if err := decodeJSON(w, r, lang, &in); err != nil {
		h.fail(w, r, lang, err)
		return
	}
	d := invite.Details{FirstName: in.FirstName, LastName: in.LastName, Login: in.Login, Password: in.Password}
	var m membership.Member
	var err error
	if in.AsUser {
		id, ierr := h.opts.Identify(r)
		if ierr == nil && id.UserID == "" {
			ierr = ErrSignedOut
		}
		if ierr != nil {
			h.identifyFailed(w, r, lang, ierr)
			return
		}
		m, err = h.kit.Invitations.AcceptAsUser(r.Context(), in.Token, id.UserID, d)
	} else {
		m, err = h.kit.Invitations.Accept(r.Context(), in.Token, d)
	}
	if err != nil {
		h.fail(w, r, lang, err)
		return
	}
	writeJSON(w, http.StatusCreated, views{lang: lang, labels: h.kit.Labels}.member(m))
}

func (h *Handler) apiRoles(w http.ResponseWriter, r *http.Request, id Identity) {
	roles, err := h.kit.Members.Roles(r.Context(), id.Actor, id.OrgID)
	if err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	v := views{lang: id.Lang, labels: h.kit.Labels}
	out := struct {
		Roles       []roleJSON       `json:"roles"`
		Permissions []permissionJSON `json:"permissions"`
	}{Roles: []roleJSON{}}
	for _, ro := range roles {
		out.Roles = append(out.Roles, v.role(ro))
	}
	out.Permissions = h.permissions(id.Lang)
	writeJSON(w, http.StatusOK, out)
}

// permissions lists every permission a custom role may hold, memberkit's
// and the host's, with its label.
func (h *Handler) permissions(lang membership.Lang) []permissionJSON {
	var out []permissionJSON
	for _, p := range h.kit.Catalog.Permissions() {
		out = append(out, permissionJSON{Name: p, Label: h.kit.Catalog.Label(p, lang)})
	}
	return out
}

type roleInput struct {
	Name        string                  `json:"name"`
	Permissions []membership.Permission `json:"permissions"`
}

func (h *Handler) apiCreateRole(w http.ResponseWriter, r *http.Request, id Identity) {
	var in roleInput
	if err := decodeJSON(w, r, id.Lang, &in); err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	role, err := h.createRole(r.Context(), id, in.Name, in.Permissions)
	h.answerRole(w, r, id, http.StatusCreated, role, err)
}

// createRole creates a role with its permissions. The permissions are
// checked against the catalog first, and a role whose permissions the
// actor may not grant is taken back, so that a refusal leaves no
// half-made role behind.
func (h *Handler) createRole(ctx context.Context, id Identity, name string, perms []membership.Permission) (membership.Role, error) {
	for _, p := range perms {
		if !h.kit.Catalog.Known(p) {
			return membership.Role{}, membership.Invalid("permissions", "permission_undeclared", membership.Excerpt(string(p), 64))
		}
	}
	role, err := h.kit.Members.CreateRole(ctx, id.Actor, id.OrgID, name)
	if err != nil || len(perms) == 0 {
		return role, err
	}
	updated, err := h.kit.Members.UpdateRole(ctx, id.Actor, id.OrgID, role.ID, role.Name, perms)
	if err != nil {
		_ = h.kit.Members.DeleteRole(ctx, id.Actor, id.OrgID, role.ID)
		return membership.Role{}, err
	}
	return updated, nil
}

func (h *Handler) answerRole(w http.ResponseWriter, r *http.Request, id Identity, status int, role membership.Role, err error) {
	if err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	writeJSON(w, status, views{lang: id.Lang, labels: h.kit.Labels}.role(role))
}

func (h *Handler) apiUpdateRole(w http.ResponseWriter, r *http.Request, id Identity) {
	var in roleInput
	if err := decodeJSON(w, r, id.Lang, &in); err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	role, err := h.kit.Members.UpdateRole(r.Context(), id.Actor, id.OrgID, r.PathValue("id"), in.Name, nonNil(in.Permissions))
	h.answerRole(w, r, id, http.StatusOK, role, err)
}

func (h *Handler) apiDeleteRole(w http.ResponseWriter, r *http.Request, id Identity) {
	if err := h.kit.Members.DeleteRole(r.Context(), id.Actor, id.OrgID, r.PathValue("id")); err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiPlanImport reads a CSV body and answers the plan's preview with the
// token that applies it.
func (h *Handler) apiPlanImport(w http.ResponseWriter, r *http.Request, id Identity) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "text/csv" {
		writeProblem(w, r, membership.Problem{Code: "unsupported_media_type", Status: http.StatusUnsupportedMediaType, Message: text(id.Lang, "err.csv_content_type")})
		return
	}
	q := r.URL.Query()
	opts := &csvsync.PlanOptions{RoleID: q.Get("role_id")}
	if s := q.Get("allow_mass_deactivation"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			h.fail(w, r, id.Lang, &badRequest{field: "allow_mass_deactivation", msg: text(id.Lang, "err.bad_param", "allow_mass_deactivation")})
			return
		}
		opts.AllowMassDeactivation = b
	}
	tok, exp, plan, err := h.planImport(r, id, r.Body, opts)
	if err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	writeJSON(w, http.StatusCreated, views{lang: id.Lang, labels: h.kit.Labels}.plan(tok, exp, plan))
}

// planImport parses and plans an uploaded file, bounded to
// MaxUploadBytes, and keeps the plan for its token.
func (h *Handler) planImport(r *http.Request, id Identity, body io.Reader, opts *csvsync.PlanOptions) (string, time.Time, *csvsync.Plan, error) {
	limited := &capped{r: body, left: h.opts.MaxUploadBytes}
	f, err := h.kit.CSV.ParseIn(r.Context(), id.Actor, id.OrgID, id.Lang, limited)
	if limited.over {
		return "", time.Time{}, nil, &tooLarge{msg: text(id.Lang, "err.upload_too_large", mib(h.opts.MaxUploadBytes))}
	}
	if err != nil {
		return "", time.Time{}, nil, err
	}
	plan, err := h.kit.CSV.Plan(r.Context(), id.Actor, id.OrgID, f, opts)
	if err != nil {
		return "", time.Time{}, nil, err
	}
	tok, exp := h.plans.put(id, plan)
	return tok, exp, plan, nil
}

// capped reads at most left bytes and tells when the body had more.
type capped struct {
	r    io.Reader
	left int64
	over bool
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			c.over = true
			return 0, errUploadTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

var errUploadTooLarge = errors.New("memberhttp: upload over the bound")

// tooLarge is an upload over the handler's bound.
type tooLarge struct{ msg string }

func (e *tooLarge) Error() string { return "memberhttp: " + e.msg }

// Explain makes tooLarge a 413 problem.
func (e *tooLarge) Explain(membership.Lang) membership.Problem {
	return membership.Problem{Code: "too_large", Status: http.StatusRequestEntityTooLarge, Message: e.msg}
}

func (h *Handler) apiApplyImport(w http.ResponseWriter, r *http.Request, id Identity) {
	res, err := h.applyImport(r, id, r.PathValue("token"))
	if err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	writeJSON(w, http.StatusOK, importResultJSON{Added: res.Added, Updated: res.Updated, Reactivated: res.Reactivated,
		Deactivated: res.Deactivated, Unchanged: res.Unchanged, PasswordsWithheld: len(res.TemporaryPasswords)})
}

// applyImport applies the plan a token names, once: the token is spent
// whether the apply succeeds or not (a stale plan must be made again).
func (h *Handler) applyImport(r *http.Request, id Identity, token string) (*csvsync.Result, error) {
	plan, ok := h.plans.take(id, token)
	if !ok {
		return nil, &planGone{lang: id.Lang}
	}
	res, err := h.kit.CSV.Apply(r.Context(), id.Actor, id.OrgID, plan, nil)
	if err != nil {
		return nil, err
	}
	clear(res.TemporaryPasswords) // never shown: see importResultJSON
	return res, nil
}

// planGone is a preview token unknown, expired, spent or another's.
type planGone struct{ lang membership.Lang }

func (e *planGone) Error() string { return "memberhttp: import preview unknown or expired" }

// Explain makes planGone a 404 problem.
func (e *planGone) Explain(lang membership.Lang) membership.Problem {
	return membership.Problem{Code: "plan_expired", Status: http.StatusNotFound, Message: text(lang, "err.plan_gone")}
}

// exportOptions are the query's export options: the language of the
// headers and the separator.
func (h *Handler) exportOptions(r *http.Request, lang membership.Lang) *csvsync.ExportOptions {
	opts := &csvsync.ExportOptions{Lang: lang, Labels: h.kit.Labels}
	if l := r.URL.Query().Get("lang"); l == "en" || l == "fr" {
		opts.Lang = membership.Lang(l)
	}
	if r.URL.Query().Get("comma") == "," {
		opts.Comma = ','
	}
	return opts
}

func (h *Handler) apiExport(w http.ResponseWriter, r *http.Request, id Identity) {
	h.export(w, r, id, h.exportOptions(r, id.Lang), func(p membership.Problem) { writeProblem(w, r, p) })
}

// export writes the roster as a CSV attachment. The permission is
// checked before the first byte, so a refusal is still a problem answer.
func (h *Handler) export(w http.ResponseWriter, r *http.Request, id Identity, opts *csvsync.ExportOptions, refuse func(membership.Problem)) {
	ok, err := h.kit.Members.Can(r.Context(), id.OrgID, id.Actor, membership.PermCSVExport)
	if err == nil && !ok {
		err = membership.ErrForbidden
	}
	if err == nil {
		var org membership.Org
		if org, err = h.kit.Members.Org(r.Context(), id.Actor, id.OrgID); err == nil && !org.Has(membership.FeatureCSV) {
			err = membership.ErrFeatureDisabled
		}
	}
	if err != nil {
		h.internal(r.Context(), r, err)
		refuse(membership.Explain(err, id.Lang))
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="members.csv"`)
	if _, err := h.kit.CSV.Export(r.Context(), id.Actor, id.OrgID, w, opts); err != nil {
		h.internal(r.Context(), r, err) // headers are gone: the truncated file is the only sign
	}
}

func (h *Handler) apiEvents(w http.ResponseWriter, r *http.Request, id Identity) {
	q := r.URL.Query()
	eq := store.EventQuery{After: q.Get("after"), SubjectID: q.Get("subject_id"), Limit: 100}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			h.fail(w, r, id.Lang, &badRequest{field: "limit", msg: text(id.Lang, "err.bad_limit", 1000)})
			return
		}
		eq.Limit = n
	}
	evs, err := h.kit.Members.Events(r.Context(), id.Actor, id.OrgID, eq)
	if err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	out := struct {
		Events []eventJSON `json:"events"`
		Next   string      `json:"next,omitempty"`
	}{Events: []eventJSON{}}
	for _, e := range evs {
		out.Events = append(out.Events, event(e))
	}
	if len(evs) == eq.Limit {
		out.Next = evs[len(evs)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) apiReview(w http.ResponseWriter, r *http.Request, id Identity) {
	rep, err := h.kit.Members.Review(r.Context(), id.Actor, id.OrgID)
	if err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	v := h.views(r.Context(), id)
	out := reviewJSON{ActiveMembers: rep.ActiveMembers, ActiveAdmins: rep.ActiveAdmins, SeatsUsed: rep.SeatsUsed, SeatLimit: rep.SeatLimit,
		Idle: v.members(rep.Idle), ExpiredInvitations: v.invitations(rep.ExpiredInvitations), UnknownPermissions: rep.UnknownPermissions, Notices: []string{}}
	if out.UnknownPermissions == nil {
		out.UnknownPermissions = map[string][]membership.Permission{}
	}
	for _, n := range rep.Notices {
		out.Notices = append(out.Notices, n.Text(id.Lang))
	}
	writeJSON(w, http.StatusOK, out)
}
