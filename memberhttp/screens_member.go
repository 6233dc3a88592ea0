package memberhttp

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
)

// memberContent is one member's page: details to edit, role, status.
type memberContent struct {
	Member memberJSON
	Grants []option
	Form   url.Values
	Active bool
	Self   bool
}

// memberPage shows one member, with the forms that edit them.
func (h *Handler) memberPage(w http.ResponseWriter, r *http.Request, id Identity, d *pageData) {
	d.Flash = doneFlash(r, id.Lang)
	h.renderMember(w, r, id, d, http.StatusOK, nil)
}

func (h *Handler) renderMember(w http.ResponseWriter, r *http.Request, id Identity, d *pageData, status int, form url.Values) {
	ctx := r.Context()
	m, err := h.kit.Members.Get(ctx, id.Actor, id.OrgID, r.PathValue("id"))
	if err != nil {
		h.errorPage(w, r, id.Lang, membership.Explain(err, id.Lang))
		return
	}
	roles := h.roleOptions(d)
	v := views{lang: id.Lang, labels: h.kit.Labels, roles: map[string]membership.Role{}}
	for _, o := range roles.all {
		v.roles[o.Value] = membership.Role{ID: o.Value, Name: o.Label}
	}
	mj := v.member(m)
	mj.RoleName = roles.name(m.RoleID)
	if form == nil {
		form = url.Values{"first_name": {m.FirstName}, "last_name": {m.LastName}, "email": {m.Email}, "login": {m.Login},
			"groups": {strings.Join(m.Groups, ", ")}, "version": {itoa(m.Version)}}
	}
	d.Title = m.FirstName + " " + m.LastName
	d.Content = memberContent{Member: mj, Grants: roles.grants, Form: form, Active: m.Status == membership.StatusActive,
		Self: m.ID == d.self}
	h.render(w, status, "member", d)
}

// editMemberForm saves a member's details, against the version the form
// was made from: a change made meanwhile is refused, not overwritten.
func (h *Handler) editMemberForm(w http.ResponseWriter, r *http.Request, id Identity, d *pageData) {
	f := r.PostForm
	first, last, email, login := f.Get("first_name"), f.Get("last_name"), f.Get("email"), f.Get("login")
	groups := splitList(f.Get("groups"))
	p := roster.Patch{FirstName: &first, LastName: &last, Email: &email, Login: &login, Groups: &groups, IfVersion: atoi64(f.Get("version"))}
	if _, err := h.kit.Members.Edit(r.Context(), id.Actor, id.OrgID, r.PathValue("id"), p); err != nil {
		h.internal(r.Context(), r, err)
		pr := membership.Explain(err, id.Lang)
		d.Flash = problemFlash(pr)
		h.renderMember(w, r, id, d, pr.Status, f)
		return
	}
	h.done(w, r, "/members/"+r.PathValue("id"), "saved", -1)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// atoi64 reads a form's version; anything else is 0, which checks
// nothing.
func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
