package memberhttp

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

// apiHandler is one endpoint of the API, called with who asks.
type apiHandler func(w http.ResponseWriter, r *http.Request, id Identity)

func (h *Handler) routeAPI() {
	m := h.mux
	m.HandleFunc("GET /api/openapi.json", h.serveOpenAPI)
	m.HandleFunc("GET /api/org", h.api(h.apiOrg))
	m.HandleFunc("GET /api/members", h.api(h.apiListMembers))
	m.HandleFunc("POST /api/members", h.api(h.idempotent(h.apiAddMember)))
	m.HandleFunc("POST /api/members/bulk", h.api(h.apiBulk))
	m.HandleFunc("GET /api/members/{id}", h.api(h.apiGetMember))
	m.HandleFunc("PATCH /api/members/{id}", h.api(h.apiEditMember))
	m.HandleFunc("PUT /api/members/{id}/role", h.api(h.apiSetRole))
	m.HandleFunc("PUT /api/members/{id}/status", h.api(h.apiSetStatus))
	m.HandleFunc("DELETE /api/members/{id}", h.api(h.apiRemoveMember))
	m.HandleFunc("GET /api/invitations", h.api(h.apiListInvitations))
	m.HandleFunc("POST /api/invitations", h.api(h.idempotent(h.apiSendInvitation)))
	m.HandleFunc("POST /api/invitations/{id}/resend", h.api(h.apiResendInvitation))
	m.HandleFunc("DELETE /api/invitations/{id}", h.api(h.apiCancelInvitation))
	m.HandleFunc("POST /api/invitations/accept", h.apiAccept)
	m.HandleFunc("GET /api/roles", h.api(h.apiRoles))
	m.HandleFunc("POST /api/roles", h.api(h.idempotent(h.apiCreateRole)))
	m.HandleFunc("PUT /api/roles/{id}", h.api(h.apiUpdateRole))
	m.HandleFunc("DELETE /api/roles/{id}", h.api(h.apiDeleteRole))
	m.HandleFunc("POST /api/imports", h.api(h.apiPlanImport)) // a preview changes nothing: no key needed
	m.HandleFunc("POST /api/imports/{token}/apply", h.api(h.apiApplyImport))
	m.HandleFunc("GET /api/export", h.api(h.apiExport))
	m.HandleFunc("GET /api/events", h.api(h.apiEvents))
	m.HandleFunc("GET /api/review", h.api(h.apiReview))
	m.HandleFunc("/api/", h.apiNotFound)
}

// api runs fn for a signed-in request. Unsafe requests must not carry
// the content types a page of another site may send without the
// browser's preflight, beside the origin check every request passes.
func (h *Handler) api(fn apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := h.identify(r)
		if err != nil {
			h.identifyFailed(w, r, id.Lang, err)
			return
		}
		if unsafe(r.Method) && simpleContentType(r) {
			writeProblem(w, r, membership.Problem{Code: "unsupported_media_type", Status: http.StatusUnsupportedMediaType,
				Message: text(id.Lang, "err.json_content_type")})
			return
		}
		fn(w, r, id)
	}
}

func (h *Handler) apiNotFound(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, membership.Problem{Code: "not_found", Status: http.StatusNotFound, Message: text(h.lang(r, ""), "err.no_route")})
}

func unsafe(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// simpleContentType tells a body a cross-site form or fetch may send
// without a preflight: a form, a multipart form, plain text, or a type
// this server cannot read. A request without a body type passes, for the
// bodiless POSTs and DELETEs: a browser sends those across sites only
// with Origin and Sec-Fetch-Site, which the origin check refuses.
func simpleContentType(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return true
	}
	return mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data" || mt == "text/plain"
}

// views returns the JSON shapes in id's language with the org's roles'
// names; a caller who may not read the roles sees the built-in names
// and role IDs.
func (h *Handler) views(ctx context.Context, id Identity) views {
	v := views{lang: id.Lang, labels: h.kit.Labels, now: h.now()}
	if roles, err := h.kit.Members.Roles(ctx, id.Actor, id.OrgID); err == nil {
		v.roles = make(map[string]membership.Role, len(roles))
		for _, r := range roles {
			v.roles[r.ID] = r
		}
	}
	return v
}

func (h *Handler) apiOrg(w http.ResponseWriter, r *http.Request, id Identity) {
	ctx := r.Context()
	org, err := h.kit.Members.Org(ctx, id.Actor, id.OrgID)
	if err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	used, limit, err := h.kit.Members.Seats(ctx, id.Actor, id.OrgID)
	if err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	writeJSON(w, http.StatusOK, orgJSON{ID: org.ID, Name: org.Name, SeatsUsed: used, SeatLimit: limit, UpgradeURL: h.opts.UpgradeURL})
}

// listQuery reads the member list's filters from the query string, the
// same for the API and the screens.
func listQuery(r *http.Request, lang membership.Lang) (roster.ListQuery, error) {
	q := r.URL.Query()
	lq := roster.ListQuery{Group: q.Get("group"), RoleID: q.Get("role"), Text: q.Get("q"), After: q.Get("after")}
	if s := q.Get("status"); s != "" {
		st, err := membership.ParseStatus(s)
		if err != nil {
			return lq, &badRequest{field: "status", msg: text(lang, "err.bad_param", "status")}
		}
		lq.Status = st
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > roster.MaxPageSize {
			return lq, &badRequest{field: "limit", msg: text(lang, "err.bad_limit", roster.MaxPageSize)}
		}
		lq.Limit = n
	}
	if s := q.Get("include_pending"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return lq, &badRequest{field: "include_pending", msg: text(lang, "err.bad_param", "include_pending")}
		}
		lq.IncludePending = b
	}
	return lq, nil
}

// filterOf is the bulk filter of a list query: every member it matches,
// on every page.
func filterOf(q roster.ListQuery) store.MemberFilter {
	f := store.MemberFilter{Group: q.Group, RoleID: q.RoleID, Text: q.Text}
	if q.Status != "" {
		f.Statuses = []membership.Status{q.Status}
	}
	return f
}

func (h *Handler) apiListMembers(w http.ResponseWriter, r *http.Request, id Identity) {
	q, err := listQuery(r, id.Lang)
	if err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	page, err := h.kit.Members.List(r.Context(), id.Actor, id.OrgID, q)
	if err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	v := h.views(r.Context(), id)
	writeJSON(w, http.StatusOK, struct {
		Members     []memberJSON     `json:"members"`
		Invitations []invitationJSON `json:"invitations"`
		Next        string           `json:"next,omitempty"`
	}{v.members(page.Members), v.invitations(page.Pending), page.Next})
}

func (h *Handler) apiGetMember(w http.ResponseWriter, r *http.Request, id Identity) {
	m, err := h.kit.Members.Get(r.Context(), id.Actor, id.OrgID, r.PathValue("id"))
	h.answerMember(w, r, id, http.StatusOK, m, err)
}

func (h *Handler) answerMember(w http.ResponseWriter, r *http.Request, id Identity, status int, m membership.Member, err error) {
	if err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	writeJSON(w, status, h.views(r.Context(), id).member(m))
}

type newMemberJSON struct {
	Login      string                `json:"login"`
	Email      string                `json:"email"`
	FirstName  string                `json:"first_name"`
	LastName   string                `json:"last_name"`
	RoleID     string                `json:"role_id"`
	Groups     []string              `json:"groups"`
	Attributes membership.Attributes `json:"attributes"`
	UserID     string                `json:"user_id"`
}

func (h *Handler) apiAddMember(w http.ResponseWriter, r *http.Request, id Identity) {
	var in newMemberJSON
	if err := decodeJSON(w, r, id.Lang, &in); err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	m, err := h.addMember(r.Context(), id, roster.NewMember{Login: in.Login, Email: in.Email, FirstName: in.FirstName, LastName: in.LastName,
		RoleID: in.RoleID, Groups: in.Groups, Attributes: in.Attributes, UserID: in.UserID})
	if err == nil {
		w.Header().Set("Location", "members/"+m.ID)
	}
	h.answerMember(w, r, id, http.StatusCreated, m, err)
}

// addMember adds a member without showing anyone a password: the member
// signs in through the host, or the kit's notifier delivers them a
// temporary password (roster.Service.ResetPassword) when it has one.
func (h *Handler) addMember(ctx context.Context, id Identity, n roster.NewMember) (membership.Member, error) {
	n.NoPassword = true
	added, err := h.kit.Members.Add(ctx, id.Actor, id.OrgID, n)
	if err != nil {
		return membership.Member{}, err
	}
	// No notifier: the member signs in through the host. A failed
	// delivery: the roster has logged it.
	err = h.kit.Members.ResetPassword(ctx, id.Actor, id.OrgID, added.Member.ID)
	if err != nil && !errors.Is(err, roster.ErrNoNotifier) && !errors.Is(err, roster.ErrNotDelivered) {
		h.log.WarnContext(ctx, "memberhttp: no temporary password for the member added", "member", added.Member.ID, "err", err)
	}
	return added.Member, nil
}

type patchJSON struct {
	FirstName  *string               `json:"first_name"`
	LastName   *string               `json:"last_name"`
	Email      *string               `json:"email"`
	Login      *string               `json:"login"`
	Groups     *[]string             `json:"groups"`
	Attributes membership.Attributes `json:"attributes"`
	IfVersion  int64                 `json:"if_version"`
}

func (h *Handler) apiEditMember(w http.ResponseWriter, r *http.Request, id Identity) {
	var in patchJSON
	if err := decodeJSON(w, r, id.Lang, &in); err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	m, err := h.kit.Members.Edit(r.Context(), id.Actor, id.OrgID, r.PathValue("id"), roster.Patch{FirstName: in.FirstName,
		LastName: in.LastName, Email: in.Email, Login: in.Login, Groups: in.Groups, Attributes: in.Attributes, IfVersion: in.IfVersion})
	h.answerMember(w, r, id, http.StatusOK, m, err)
}

func (h *Handler) apiSetRole(w http.ResponseWriter, r *http.Request, id Identity) {
	var in struct {
		RoleID string `json:"role_id"`
	}
	if err := decodeJSON(w, r, id.Lang, &in); err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	m, err := h.kit.Members.ChangeRole(r.Context(), id.Actor, id.OrgID, r.PathValue("id"), in.RoleID)
	h.answerMember(w, r, id, http.StatusOK, m, err)
}

func (h *Handler) apiSetStatus(w http.ResponseWriter, r *http.Request, id Identity) {
	var in struct {
		Status membership.Status `json:"status"`
	}
	if err := decodeJSON(w, r, id.Lang, &in); err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	var m membership.Member
	var err error
	switch in.Status {
	case membership.StatusActive:
		m, err = h.kit.Members.Activate(r.Context(), id.Actor, id.OrgID, r.PathValue("id"))
	case membership.StatusDeactivated:
		m, err = h.kit.Members.Deactivate(r.Context(), id.Actor, id.OrgID, r.PathValue("id"))
	default:
		err = &badRequest{field: "status", msg: text(id.Lang, "err.bad_status")}
	}
	h.answerMember(w, r, id, http.StatusOK, m, err)
}

func (h *Handler) apiRemoveMember(w http.ResponseWriter, r *http.Request, id Identity) {
	if _, err := h.kit.Members.Remove(r.Context(), id.Actor, id.OrgID, r.PathValue("id")); err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type bulkRequest struct {
	Action string   `json:"action"`
	IDs    []string `json:"ids"`
	Filter *struct {
		Group  string            `json:"group"`
		Status membership.Status `json:"status"`
		RoleID string            `json:"role_id"`
		Text   string            `json:"q"`
		// All must be set for a filter that names nothing: the whole org.
		All bool `json:"all"`
	} `json:"filter"`
}

func (h *Handler) apiBulk(w http.ResponseWriter, r *http.Request, id Identity) {
	var in bulkRequest
	if err := decodeJSON(w, r, id.Lang, &in); err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	if (in.Filter == nil) == (in.IDs == nil) {
		h.fail(w, r, id.Lang, &badRequest{field: "ids", msg: text(id.Lang, "err.bulk_target")})
		return
	}
	var q roster.ListQuery
	if f := in.Filter; f != nil {
		q = roster.ListQuery{Group: f.Group, Status: f.Status, RoleID: f.RoleID, Text: f.Text}
		// A status alone narrows nothing: every member is active or not.
		if empty := q.Group == "" && q.RoleID == "" && q.Text == ""; empty != f.All {
			h.fail(w, r, id.Lang, &badRequest{field: "filter.all", msg: text(id.Lang, "err.bulk_all")})
			return
		}
	}
	res, err := h.bulk(r.Context(), id, strings.TrimSpace(in.Action), in.IDs, in.Filter != nil, q)
	if err != nil {
		h.fail(w, r, id.Lang, err)
		return
	}
	writeJSON(w, http.StatusOK, views{lang: id.Lang}.bulk(res))
}

// bulk activates or deactivates the given members, or every member a
// filter matches: the screens' mass action and the API's.
func (h *Handler) bulk(ctx context.Context, id Identity, action string, ids []string, byFilter bool, q roster.ListQuery) (roster.BulkResult, error) {
	m := h.kit.Members
	switch {
	case action == "deactivate" && byFilter:
		return m.DeactivateWhere(ctx, id.Actor, id.OrgID, filterOf(q))
	case action == "activate" && byFilter:
		return m.ActivateWhere(ctx, id.Actor, id.OrgID, filterOf(q))
	case action == "deactivate":
		return m.DeactivateMany(ctx, id.Actor, id.OrgID, ids)
	case action == "activate":
		return m.ActivateMany(ctx, id.Actor, id.OrgID, ids)
	}
	return roster.BulkResult{}, &badRequest{field: "action", msg: text(id.Lang, "err.bulk_action")}
}
