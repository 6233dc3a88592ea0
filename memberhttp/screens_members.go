package memberhttp

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
)

// membersContent is the member list's own data.
type membersContent struct {
	Rows     []rowView
	Roles    []option
	Grants   []option // the roles the actor may give, for the forms
	Groups   []string
	Statuses []option
	Group    string
	Status   string
	Role     string
	Text     string
	Back     string // the filters, for the forms to come back to
	// BackParam carries them in a link's query ("back=…").
	BackParam template.URL
	Next      template.URL // the next page's query, "" on the last
	Filtered  bool
	Actions   bool // the actor may act on rows: the actions column
	RowsHTML  template.HTML
	Words     rowWords
}

// rowWords are the words every row repeats, looked up once.
type rowWords struct{ Deactivate, Activate, Remove, Resend, Cancel string }

// rowView is one line of the list, flat and with its words and choices
// computed here: templates look fields up by reflection, and each call
// or comparison in a template costs more than in Go.
type rowView struct {
	MemberID, InvitationID, Login, Name, Email  string
	Status                                      membership.Status
	RoleName, StatusLabel, LastLogin, GroupList string
	Select                                      string // the checkbox's label
	Confirm                                     string // the question before a deactivation or an activation
	ConfirmRm                                   string // the question before a removal
	Expires                                     string
	Verb                                        string // "deactivate" or "activate"
	VerbLabel                                   string
	CanAct                                      bool // a member the actor may select, deactivate, remove
	CanInvite                                   bool // an invitation the actor may resend or cancel
}

type option struct{ Value, Label string }

func (h *Handler) membersPage(w http.ResponseWriter, r *http.Request, id Identity, d *pageData) {
	d.Flash = doneFlash(r, id.Lang)
	h.renderMembers(w, r, id, d, http.StatusOK)
}

// renderMembers shows the list with the request's filters.
func (h *Handler) renderMembers(w http.ResponseWriter, r *http.Request, id Identity, d *pageData, status int) {
	ctx := r.Context()
	d.Title = text(id.Lang, "page.members")
	q, err := listQuery(r, id.Lang)
	if err != nil {
		d.Flash = problemFlash(membership.Explain(err, id.Lang))
		status = http.StatusBadRequest
	}
	q.Limit = h.opts.PageSize
	q.IncludePending = q.Status == "" && q.Group == ""
	c := &membersContent{Group: q.Group, Status: string(q.Status), Role: q.RoleID, Text: q.Text,
		Filtered: q.Group != "" || q.Status != "" || q.RoleID != "" || q.Text != ""}
	back := url.Values{}
	for k, v := range map[string]string{"group": q.Group, "status": string(q.Status), "role": q.RoleID, "q": q.Text} {
		if v != "" {
			back.Set(k, v)
		}
	}
	c.Back = back.Encode()
	c.Words = rowWords{text(id.Lang, "action.deactivate"), text(id.Lang, "action.activate"), text(id.Lang, "action.remove"),
		text(id.Lang, "action.resend"), text(id.Lang, "action.cancel_invitation")}
	c.BackParam = template.URL(url.Values{"back": {c.Back}}.Encode())
	page, err := h.kit.Members.List(ctx, id.Actor, id.OrgID, q)
	if err != nil {
		p := membership.Explain(err, id.Lang)
		if d.Flash == nil {
			d.Flash = problemFlash(p)
		}
		d.Content = c
		h.render(w, max(status, p.Status), "members", d)
		return
	}
	d.await()
	c.Actions = d.Nav.Manage || d.Nav.Invite
	roles := h.roleOptions(d)
	c.Roles, c.Grants = roles.all, roles.grants
	c.Groups = h.groupChoices(ctx, id)
	for _, st := range []membership.Status{membership.StatusActive, membership.StatusDeactivated, membership.StatusPending} {
		c.Statuses = append(c.Statuses, option{string(st), h.kit.Labels.StatusLabel(st, id.Lang)})
	}
	self := d.self
	labels := map[membership.Status]string{}
	selectText, removeText := textWith(id.Lang, "bulk.select"), textWith(id.Lang, "confirm.remove")
	confirmText := map[string]func(string) string{"deactivate": textWith(id.Lang, "confirm.deactivate"), "activate": textWith(id.Lang, "confirm.activate")}
	for _, row := range page.Rows() {
		label, ok := labels[row.Status]
		if !ok {
			label = h.kit.Labels.StatusLabel(row.Status, id.Lang)
			labels[row.Status] = label
		}
		v := rowView{MemberID: row.MemberID, InvitationID: row.InvitationID, Login: row.Login, Name: row.Name, Email: row.Email,
			Status: row.Status, RoleName: roles.name(row.RoleID), StatusLabel: label, GroupList: strings.Join(row.Groups, ", ")}
		if row.MemberID != "" {
			v.CanAct = d.Nav.Manage && row.MemberID != self && roles.mayActOn[row.RoleID]
			v.LastLogin = formatDate(id.Lang, row.LastLoginAt)
			v.Select = selectText(row.Name)
			v.Verb, v.VerbLabel = "deactivate", c.Words.Deactivate
			if row.Status != membership.StatusActive {
				v.Verb, v.VerbLabel = "activate", c.Words.Activate
			}
			v.Confirm, v.ConfirmRm = confirmText[v.Verb](row.Name), removeText(row.Name)
		} else {
			v.CanInvite = d.Nav.Invite
			v.LastLogin = "—"
			v.Expires = text(id.Lang, "invitation.expires", formatDate(id.Lang, row.ExpiresAt))
		}
		c.Rows = append(c.Rows, v)
	}
	if page.Next != "" {
		next := url.Values{}
		for k, v := range back {
			next[k] = v
		}
		next.Set("after", page.Next)
		c.Next = template.URL(next.Encode())
	}
	c.RowsHTML = rowsHTML(d, c)
	d.Content = c
	h.render(w, status, "members", d)
}

// roleSet is the org's roles as the forms offer them.
type roleSet struct {
	all, grants []option
	names       map[string]string
	// mayActOn holds the roles whose every permission the actor holds:
	// the members it may deactivate, remove or give another role.
	mayActOn map[string]bool
}

func (s roleSet) name(id string) string {
	if n, ok := s.names[id]; ok {
		return n
	}
	return id
}

// roleOptions lists the org's roles, and the ones the actor may grant
// (every permission of which it holds) for the add, invite and role
// forms.
func (h *Handler) roleOptions(d *pageData) roleSet {
	d.await()
	s := roleSet{names: map[string]string{}, mayActOn: map[string]bool{}}
	for _, ro := range d.roles {
		name := h.kit.Labels.RoleName(ro, d.Lang)
		s.names[ro.ID] = name
		s.all = append(s.all, option{ro.ID, name})
		eff, _ := h.kit.Catalog.Effective(ro)
		grantable := true
		for _, p := range eff.Permissions {
			grantable = grantable && d.perms[p]
		}
		if ro.ID == membership.RoleAdmin {
			grantable = len(d.perms) == len(h.kit.Catalog.Permissions())
		}
		if grantable {
			s.grants = append(s.grants, option{ro.ID, name})
			s.mayActOn[ro.ID] = true
		}
	}
	return s
}

// groupCache keeps each org's group labels for a short while: the
// filter's choices need not be exact to the second, and reading them
// scans the group index.
type groupCache struct {
	mu   sync.Mutex
	orgs map[string]cachedGroups
}

type cachedGroups struct {
	labels []string
	at     time.Time
}

// groupTTL is how long a list of group labels is reused.
const groupTTL = 30 * time.Second

func (h *Handler) groupChoices(ctx context.Context, id Identity) []string {
	now := h.now()
	h.groups.mu.Lock()
	c, ok := h.groups.orgs[id.OrgID]
	h.groups.mu.Unlock()
	if ok && now.Sub(c.at) < groupTTL {
		return c.labels
	}
	labels, err := h.kit.Members.Groups(ctx, id.Actor, id.OrgID)
	if err != nil {
		return nil
	}
	h.groups.mu.Lock()
	if h.groups.orgs == nil || len(h.groups.orgs) > maxCached {
		h.groups.orgs = map[string]cachedGroups{}
	}
	h.groups.orgs[id.OrgID] = cachedGroups{labels, now}
	h.groups.mu.Unlock()
	return labels
}

func (h *Handler) newMemberPage(w http.ResponseWriter, r *http.Request, id Identity, d *pageData) {
	d.Title = text(id.Lang, "page.member_new")
	roles := h.roleOptions(d)
	d.Content = map[string]any{"Grants": roles.grants, "Form": url.Values{"role": {membership.RoleUser}}}
	h.render(w, http.StatusOK, "member_new", d)
}

func (h *Handler) addMemberForm(w http.ResponseWriter, r *http.Request, id Identity, d *pageData) {
	f := r.PostForm
	n := roster.NewMember{FirstName: f.Get("first_name"), LastName: f.Get("last_name"), Email: f.Get("email"), Login: f.Get("login"),
		RoleID: f.Get("role"), Groups: splitList(f.Get("groups"))}
	if _, err := h.addMember(r.Context(), id, n); err != nil {
		d.Title = text(id.Lang, "page.member_new")
		d.Flash = problemFlash(membership.Explain(err, id.Lang))
		d.Content = map[string]any{"Grants": h.roleOptions(d).grants, "Form": f}
		h.render(w, membership.Explain(err, id.Lang).Status, "member_new", d)
		return
	}
	h.done(w, r, "/", "added", -1)
}

// splitList reads a comma-separated list of groups.
func splitList(s string) []string {
	var out []string
	for g := range strings.SplitSeq(s, ",") {
		if g = strings.TrimSpace(g); g != "" {
			out = append(out, g)
		}
	}
	return out
}

// confirmPage asks before a deactivation, an activation or a removal;
// with the script, the list asks in a dialog and skips this page.
func (h *Handler) confirmPage(w http.ResponseWriter, r *http.Request, id Identity, d *pageData) {
	action := r.PathValue("action")
	if action != "deactivate" && action != "activate" && action != "remove" {
		h.notFoundPage(w, r)
		return
	}
	m, err := h.kit.Members.Get(r.Context(), id.Actor, id.OrgID, r.PathValue("id"))
	if err != nil {
		h.errorPage(w, r, id.Lang, membership.Explain(err, id.Lang))
		return
	}
	d.Title = text(id.Lang, "confirm."+action+".title")
	d.Content = map[string]any{"Action": action, "Path": "/members/" + m.ID + "/" + action,
		"Question": text(id.Lang, "confirm."+action, m.FirstName+" "+m.LastName)}
	confirmBack(d, backQuery(r.URL.Query().Get("back")))
	h.render(w, http.StatusOK, "confirm", d)
}

// memberForm runs one action on one member.
func (h *Handler) memberForm(w http.ResponseWriter, r *http.Request, id Identity, d *pageData) {
	ctx, mid := r.Context(), r.PathValue("id")
	var err error
	switch action := r.PathValue("action"); action {
	case "deactivate":
		_, err = h.kit.Members.Deactivate(ctx, id.Actor, id.OrgID, mid)
	case "activate":
		_, err = h.kit.Members.Activate(ctx, id.Actor, id.OrgID, mid)
	case "remove":
		_, err = h.kit.Members.Remove(ctx, id.Actor, id.OrgID, mid)
	case "role":
		_, err = h.kit.Members.ChangeRole(ctx, id.Actor, id.OrgID, mid, r.PostFormValue("role"))
	default:
		h.notFoundPage(w, r)
		return
	}
	if err != nil {
		h.refuse(w, r, id, d, err)
		return
	}
	h.done(w, r, "/", r.PathValue("action"), -1)
}

// bulkForm runs the mass action on the selected members, or on everyone
// the filter matches once the user confirmed it with the count shown.
func (h *Handler) bulkForm(w http.ResponseWriter, r *http.Request, id Identity, d *pageData) {
	f := r.PostForm
	action := f.Get("action")
	byFilter := f.Get("scope") == "filter"
	q, err := listQuery(&http.Request{URL: &url.URL{RawQuery: backQuery(f.Get("back")).Encode()}}, id.Lang)
	if err != nil {
		h.refuse(w, r, id, d, err)
		return
	}
	if byFilter && f.Get("confirm") != "1" {
		n, err := h.kit.Members.Count(r.Context(), id.Actor, id.OrgID, filterOf(q))
		if err != nil {
			h.refuse(w, r, id, d, err)
			return
		}
		d.Title = text(id.Lang, "confirm.bulk.title")
		d.Content = map[string]any{"Action": action, "Path": "/bulk", "Scope": "filter", "Question": text(id.Lang, "confirm.bulk."+bulkVerb(action), n)}
		confirmBack(d, backQuery(f.Get("back")))
		h.render(w, http.StatusOK, "confirm", d)
		return
	}
	ids := f["id"]
	if !byFilter && len(ids) == 0 {
		h.refuse(w, r, id, d, &badRequest{field: "id", msg: text(id.Lang, "err.none_selected")})
		return
	}
	res, err := h.bulk(r.Context(), id, action, ids, byFilter, q)
	if err != nil {
		h.refuse(w, r, id, d, err)
		return
	}
	h.done(w, r, "/", "bulk_"+bulkVerb(action), len(res.Changed))
}

// confirmBack gives a confirmation page the list's filters, for its
// form and its cancel link.
func confirmBack(d *pageData, q url.Values) {
	c := d.Content.(map[string]any)
	c["Back"], c["BackURL"] = q.Encode(), template.URL(q.Encode())
}

func bulkVerb(action string) string {
	if action == "activate" {
		return "activate"
	}
	return "deactivate"
}

func (h *Handler) inviteForm(w http.ResponseWriter, r *http.Request, id Identity, d *pageData) {
	_, err := h.kit.Invitations.Send(r.Context(), id.Actor, id.OrgID, invite.To{Email: r.PostFormValue("email"), RoleID: r.PostFormValue("role")})
	if err != nil {
		h.refuse(w, r, id, d, err)
		return
	}
	h.done(w, r, "/", "invited", -1)
}

func (h *Handler) invitationForm(w http.ResponseWriter, r *http.Request, id Identity, d *pageData) {
	var err error
	switch r.PathValue("action") {
	case "resend":
		_, err = h.kit.Invitations.Resend(r.Context(), id.Actor, id.OrgID, r.PathValue("id"))
	case "cancel":
		err = h.kit.Invitations.Cancel(r.Context(), id.Actor, id.OrgID, r.PathValue("id"))
	default:
		h.notFoundPage(w, r)
		return
	}
	if err != nil {
		h.refuse(w, r, id, d, err)
		return
	}
	h.done(w, r, "/", r.PathValue("action")+"_invitation", -1)
}
