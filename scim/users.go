package scim

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
)

const (
	schemaUser       = "urn:ietf:params:scim:schemas:core:2.0:User"
	schemaEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// groupNames maps the org's directory groups by label key.
type groupNames map[string]membership.Group

func (c *call) groupNames(h *Handler) (groupNames, error) {
	gs, err := h.o.Directory.Groups(c.ctx(), c.actor, c.org)
	if err != nil {
		return nil, err
	}
	out := make(groupNames, len(gs))
	for _, g := range gs {
		out[membership.GroupKey(g.Name)] = g
	}
	return out, nil
}

// userResource is a member as a SCIM User, with lower-cased attribute
// names (as filters and patches read them; see render for the output).
func (c *call) userResource(m membership.Member, groups groupNames) map[string]any {
	res := map[string]any{
		"schemas":     []any{schemaUser},
		"id":          m.ID,
		"username":    userName(m),
		"name":        map[string]any{"givenname": m.FirstName, "familyname": m.LastName, "formatted": m.FullName()},
		"displayname": m.FullName(),
		"active":      m.Status == membership.StatusActive,
		"meta": map[string]any{"resourcetype": "User", "created": stamp(m.CreatedAt), "lastmodified": stamp(m.UpdatedAt),
			"version": etag(m.Version), "location": c.base + "/Users/" + m.ID},
	}
	if ext := m.Attributes[ExternalIDAttribute]; ext != "" {
		res["externalid"] = ext
	}
	if m.Email != "" {
		res["emails"] = []any{map[string]any{"value": m.Email, "type": "work", "primary": true}}
	}
	var gs []any
	for _, label := range m.Groups {
		if g, ok := groups[membership.GroupKey(label)]; ok {
			gs = append(gs, map[string]any{"value": g.ID, "display": g.Name, "$ref": c.base + "/Groups/" + g.ID, "type": "direct"})
		}
	}
	if len(gs) > 0 {
		res["groups"] = gs
	}
	return res
}

// member reads a member for SCIM: a removed member is not found.
func (h *Handler) member(c *call, id string) (membership.Member, error) {
	m, err := h.o.Members.Get(c.ctx(), c.actor, c.org, id)
	if err != nil {
		return m, err
	}
	if m.Status == membership.StatusRemoved {
		return m, &Error{Status: http.StatusNotFound, Detail: "no user " + id}
	}
	return m, nil
}

func (h *Handler) writeUser(c *call, status int, m membership.Member) error {
	groups, err := c.groupNames(h)
	if err != nil {
		return err
	}
	return h.writeUserWith(c, status, m, groups)
}

// writeUserWith writes m with the org's groups already read.
func (h *Handler) writeUserWith(c *call, status int, m membership.Member, groups groupNames) error {
	c.w.Header().Set("ETag", etag(m.Version))
	if status == http.StatusCreated {
		c.w.Header().Set("Location", c.base+"/Users/"+m.ID)
	}
	sel, err := parseSelection(c.r.URL.Query())
	if err != nil {
		return err
	}
	writeJSON(c.w, status, render(sel.apply(c.userResource(m, groups))))
	return nil
}

// userBody reads a request's User resource.
func userBody(r *http.Request) (userInput, error) {
	res, err := readJSON(r)
	if err != nil {
		return userInput{}, err
	}
	return readUser(res)
}

func (h *Handler) createUser(c *call) error {
	u, err := userBody(c.r)
	if err != nil {
		return err
	}
	n := roster.NewMember{Login: u.login, Email: u.email, FirstName: u.first, LastName: u.last, Password: u.password,
		NoPassword: u.password == "", Deactivated: !u.active}
	if u.externalID != "" || spelling(u.login, nil) != "" {
		n.Attributes = membership.Attributes{ExternalIDAttribute: u.externalID, UserNameAttribute: spelling(u.login, nil)}
	}
	added, err := h.o.Members.Add(c.ctx(), c.actor, c.org, n)
	if err != nil {
		return err
	}
	return h.writeUser(c, http.StatusCreated, added.Member)
}

func (h *Handler) getUser(c *call) error {
	m, err := h.member(c, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if inm := c.r.Header.Get("If-None-Match"); inm != "" && matchesETag(inm, strconv.FormatInt(m.Version, 10)) {
		c.w.Header().Set("ETag", etag(m.Version))
		c.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return h.writeUser(c, http.StatusOK, m)
}

// editUser writes u over the member at version (the PUT and the PATCH).
// A resource without active leaves the status as it is.
func (h *Handler) editUser(c *call, m membership.Member, u userInput) (membership.Member, error) {
	attrs := membership.Attributes{ExternalIDAttribute: u.externalID, UserNameAttribute: spelling(u.login, m.Attributes)} // "" removes them
	p := roster.Patch{Login: &u.login, FirstName: &u.first, LastName: &u.last, Email: &u.email, Attributes: attrs, IfVersion: m.Version}
	if u.activeSet {
		status := membership.StatusDeactivated
		if u.active {
			status = membership.StatusActive
		}
		p.Status = &status
	}
	return h.o.Members.Edit(c.ctx(), c.actor, c.org, m.ID, p)
}

func (h *Handler) replaceUser(c *call) error {
	want := ifMatch(c.r)
	u, err := userBody(c.r)
	if err != nil {
		return err
	}
	m, err := h.member(c, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := stale(want, strconv.FormatInt(m.Version, 10)); err != nil {
		return err
	}
	if want == nil {
		m.Version = 0 // PUT replaces whatever is there
	}
	m, err = h.editUser(c, m, u)
	if err != nil {
		return err
	}
	return h.writeUser(c, http.StatusOK, m)
}

// patchRetries is how often a PATCH is applied again when the member
// changed between its read and its write.
const patchRetries = 5

func (h *Handler) patchUser(c *call) error {
	want := ifMatch(c.r)
	ops, err := patchBody(c.r)
	if err != nil {
		return err
	}
	groups, err := c.groupNames(h)
	if err != nil {
		return err
	}
	for try := 0; ; try++ {
		m, err := h.member(c, c.r.PathValue("id"))
		if err != nil {
			return err
		}
		if err := stale(want, strconv.FormatInt(m.Version, 10)); err != nil {
			return err
		}
		res := c.userResource(m, groups)
		for _, op := range ops {
			if err := op.apply(res, userSchema); err != nil {
				return err
			}
		}
		u, err := readUser(res)
		if err != nil {
			return err
		}
		out, err := h.editUser(c, m, u)
		if errors.Is(err, membership.ErrConflict) && want == nil && try < patchRetries {
			continue
		}
		if err != nil {
			return err
		}
		return h.writeUserWith(c, http.StatusOK, out, groups)
	}
}

func (h *Handler) deleteUser(c *call) error {
	m, err := h.member(c, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	want := ifMatch(c.r)
	if err := stale(want, strconv.FormatInt(m.Version, 10)); err != nil {
		return err
	}
	var version int64
	if want != nil {
		version = m.Version // checked again in the removal's transaction
	}
	if _, err := h.o.Members.RemoveIf(c.ctx(), c.actor, c.org, m.ID, version); err != nil {
		if errors.Is(err, membership.ErrConflict) {
			return &Error{Status: http.StatusPreconditionFailed, Detail: "the resource changed"}
		}
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// users lists the members a filter selects, as User resources.
func (h *Handler) users(c *call, q listQuery) ([]map[string]any, int, error) {
	groups, err := c.groupNames(h)
	if err != nil {
		return nil, 0, err
	}
	var matches []map[string]any
	keep := func(m membership.Member) {
		if m.Status == membership.StatusRemoved {
			return
		}
		res := c.userResource(m, groups)
		if q.filter == nil || eval(q.filter, res, userSchema) {
			matches = append(matches, res)
		}
	}
	if q.filter == nil { // no filter: count by the store, read only up to the page asked
		total, err := h.o.Members.Count(c.ctx(), c.actor, c.org, store.MemberFilter{Statuses: []membership.Status{membership.StatusActive, membership.StatusDeactivated}})
		if err != nil {
			return nil, 0, err
		}
		need := q.startIndex - 1 + q.count
		lq := roster.ListQuery{Statuses: []membership.Status{membership.StatusActive, membership.StatusDeactivated}, Limit: roster.MaxPageSize}
		for seen := 0; seen < need; {
			page, err := h.o.Members.List(c.ctx(), c.actor, c.org, lq)
			if err != nil {
				return nil, 0, err
			}
			for _, m := range page.Members {
				if seen >= q.startIndex-1 && seen < need {
					keep(m)
				}
				seen++
			}
			if page.Next == "" {
				break
			}
			lq.After = page.Next
		}
		return matches, total, nil
	}
	switch by, value := lookup(q.filter); by {
	case "login", "email":
		m, err := h.o.Members.Find(c.ctx(), c.actor, c.org, by, value)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, 0, err
		}
		if err == nil {
			keep(m)
		}
	default:
		lq := roster.ListQuery{Statuses: []membership.Status{membership.StatusActive, membership.StatusDeactivated}, Limit: roster.MaxPageSize}
		if by == "externalid" {
			lq.Attributes = membership.Attributes{ExternalIDAttribute: value}
		}
		for {
			page, err := h.o.Members.List(c.ctx(), c.actor, c.org, lq)
			if err != nil {
				return nil, 0, err
			}
			for _, m := range page.Members {
				keep(m)
			}
			if page.Next == "" {
				break
			}
			lq.After = page.Next
		}
	}
	return window(matches, q), len(matches), nil
}
