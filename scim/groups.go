package scim

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/memberkit/memberkit/directory"
	"github.com/memberkit/memberkit/membership"
)

const schemaGroup = "urn:ietf:params:scim:schemas:core:2.0:Group"

// groupResource is a group as a SCIM Group. Its version (the ETag) and
// lastModified account for its members, so they are given only when its
// members were read.
func (c *call) groupResource(g membership.Group, members []membership.Member, withMembers bool) map[string]any {
	meta := map[string]any{"resourcetype": "Group", "created": stamp(g.CreatedAt), "lastmodified": stamp(g.UpdatedAt), "location": c.base + "/Groups/" + g.ID}
	res := map[string]any{
		"schemas":     []any{schemaGroup},
		"id":          g.ID,
		"displayname": g.Name,
		"meta":        meta,
	}
	if withMembers {
		last := g.UpdatedAt
		for _, m := range members {
			if m.UpdatedAt.After(last) {
				last = m.UpdatedAt
			}
		}
		meta["lastmodified"], meta["version"] = stamp(last), etagOf(directory.Tag(g, members))
	}
	if g.ExternalID != "" {
		res["externalid"] = g.ExternalID
	}
	if withMembers {
		ms := make([]any, len(members))
		for i, m := range members {
			ms[i] = map[string]any{"value": m.ID, "display": m.FullName(), "$ref": c.base + "/Users/" + m.ID, "type": "User"}
		}
		res["members"] = ms
	}
	return res
}

// groupErr reads a member a group change names but the org lacks as the
// client's mistake (400), not a missing group (404).
func groupErr(err error) error {
	var um *directory.UnknownMemberError
	if errors.As(err, &um) {
		return badRequest("invalidValue", "no user "+um.MemberID+" to put in the group")
	}
	return err
}

func (h *Handler) writeGroup(c *call, status int, id string) error {
	g, members, err := h.o.Directory.Group(c.ctx(), c.actor, c.org, id)
	if err != nil {
		return err
	}
	c.w.Header().Set("ETag", etagOf(directory.Tag(g, members)))
	if status == http.StatusCreated {
		c.w.Header().Set("Location", c.base+"/Groups/"+g.ID)
	}
	sel, err := parseSelection(c.r.URL.Query())
	if err != nil {
		return err
	}
	writeJSON(c.w, status, render(sel.apply(c.groupResource(g, members, true))))
	return nil
}

// memberIDs reads a members attribute: a list of {"value": id}.
func memberIDs(v any) ([]string, error) {
	var out []string
	for _, x := range asList(v) {
		obj, ok := x.(map[string]any)
		if !ok {
			return nil, badRequest("invalidValue", "each member must be an object with a value")
		}
		id, _ := obj["value"].(string)
		if id == "" {
			return nil, badRequest("invalidValue", "each member needs a value, the user's id")
		}
		out = append(out, id)
	}
	return out, nil
}

// groupInput is what a Group resource sets.
type groupInput struct {
	name, externalID string
	members          []string
}

// groupBody reads a request's Group resource.
func groupBody(r *http.Request) (groupInput, error) {
	var g groupInput
	res, err := readJSON(r)
	if err != nil {
		return g, err
	}
	if g.name, err = str(res, "displayname"); err != nil {
		return g, err
	}
	if strings.TrimSpace(g.name) == "" {
		return g, badRequest("invalidValue", "displayName is required")
	}
	if g.externalID, err = str(res, "externalid"); err != nil {
		return g, err
	}
	g.members, err = memberIDs(res["members"])
	return g, err
}

func (h *Handler) createGroup(c *call) error {
	in, err := groupBody(c.r)
	if err != nil {
		return err
	}
	g, err := h.o.Directory.CreateGroup(c.ctx(), c.actor, c.org, directory.NewGroup{Name: in.name, ExternalID: in.externalID, Members: in.members})
	if err != nil {
		return groupErr(err)
	}
	return h.writeGroup(c, http.StatusCreated, g.ID)
}

func (h *Handler) getGroup(c *call) error {
	id := c.r.PathValue("id")
	if inm := c.r.Header.Get("If-None-Match"); inm != "" {
		g, members, err := h.o.Directory.Group(c.ctx(), c.actor, c.org, id)
		if err != nil {
			return err
		}
		if tag := directory.Tag(g, members); matchesETag(inm, tag) {
			c.w.Header().Set("ETag", etagOf(tag))
			c.w.WriteHeader(http.StatusNotModified)
			return nil
		}
	}
	return h.writeGroup(c, http.StatusOK, id)
}

func (h *Handler) replaceGroup(c *call) error {
	want := ifMatch(c.r)
	in, err := groupBody(c.r)
	if err != nil {
		return err
	}
	id := c.r.PathValue("id")
	ch := directory.GroupChange{Name: &in.name, ExternalID: &in.externalID, Members: &in.members, IfMatch: want}
	if _, err := h.o.Directory.UpdateGroup(c.ctx(), c.actor, c.org, id, ch); err != nil {
		return groupErr(err)
	}
	return h.writeGroup(c, http.StatusOK, id)
}

// groupChange translates a PATCH of a group into one change, applied in
// one transaction: members added and removed by ID (what Entra ID and
// Okta send), a new name, a new external ID.
func groupChange(ops []patchOp) (directory.GroupChange, error) {
	var ch directory.GroupChange
	setName := func(v any) error {
		s, ok := v.(string)
		if !ok {
			return badRequest("invalidValue", "displayName must be a string")
		}
		ch.Name = &s
		return nil
	}
	setExt := func(v any) error {
		s, ok := v.(string)
		if !ok && v != nil {
			return badRequest("invalidValue", "externalId must be a string")
		}
		ch.ExternalID = &s
		return nil
	}
	setMembers := func(op string, v any) error {
		ids, err := memberIDs(v)
		if err != nil {
			return err
		}
		// Operations apply in order (RFC 7644 §3.5.2): a later add undoes
		// an earlier remove of the same member, and the other way round.
		switch op {
		case "add":
			ch.Remove = without(ch.Remove, ids)
			ch.Add = append(ch.Add, ids...)
		case "replace":
			ch.Members, ch.Add, ch.Remove = &ids, nil, nil
		case "remove":
			ch.Add = without(ch.Add, ids)
			ch.Remove = append(ch.Remove, ids...)
		}
		return nil
	}
	for _, o := range ops {
		if o.path == nil {
			for k, v := range o.value.(map[string]any) {
				var err error
				switch strings.TrimPrefix(k, strings.ToLower(schemaGroup)+":") {
				case "displayname":
					err = setName(v)
				case "externalid":
					err = setExt(v)
				case "members":
					err = setMembers(o.op, v)
				case "id", "schemas", "meta":
				default:
					err = badRequest("invalidPath", "a group has no attribute "+k+" to change")
				}
				if err != nil {
					return ch, err
				}
			}
			continue
		}
		ap := groupSchema.path(o.path.AttributePath)
		if ap.ext != "" {
			return ch, badRequest("invalidPath", "a group has no extension attribute "+o.raw)
		}
		switch {
		case ap.name == "members" && o.path.ValueExpression != nil:
			if o.op != "remove" {
				return ch, badRequest("invalidPath", o.raw+": members are added by value, not by a filter")
			}
			ids, ok := valueIDs(o.path.ValueExpression)
			if !ok {
				return ch, badRequest("invalidFilter", o.raw+": select members by value eq \"<id>\" (joined by or)")
			}
			ch.Add = without(ch.Add, ids)
			ch.Remove = append(ch.Remove, ids...)
		case ap.name == "members" && ap.sub == "":
			if o.op == "remove" && o.value == nil { // every member
				empty := []string{}
				ch.Members, ch.Add, ch.Remove = &empty, nil, nil
				continue
			}
			if err := setMembers(o.op, o.value); err != nil {
				return ch, err
			}
		case ap.name == "displayname" && ap.sub == "":
			if o.op == "remove" {
				return ch, badRequest("mutability", "displayName is required")
			}
			if err := setName(o.value); err != nil {
				return ch, err
			}
		case ap.name == "externalid" && ap.sub == "":
			v := o.value
			if o.op == "remove" {
				v = ""
			}
			if err := setExt(v); err != nil {
				return ch, err
			}
		default:
			return ch, badRequest("invalidPath", "a group has no attribute "+o.raw+" to change")
		}
	}
	return ch, nil
}

// valueIDs reads `value eq "a" or value eq "b"` as the IDs it names.
func valueIDs(e filter.Expression) ([]string, bool) {
	switch t := e.(type) {
	case *filter.LogicalExpression:
		if t.Operator != filter.OR {
			return nil, false
		}
		l, ok1 := valueIDs(t.Left)
		r, ok2 := valueIDs(t.Right)
		return append(l, r...), ok1 && ok2
	case *filter.AttributeExpression:
		v, ok := t.CompareValue.(string)
		if !ok || !strings.EqualFold(t.AttributePath.AttributeName, "value") || t.AttributePath.SubAttribute != nil || !strings.EqualFold(string(t.Operator), "eq") {
			return nil, false
		}
		return []string{v}, true
	}
	return nil, false
}

func (h *Handler) patchGroup(c *call) error {
	want := ifMatch(c.r)
	ops, err := patchBody(c.r)
	if err != nil {
		return err
	}
	ch, err := groupChange(ops)
	if err != nil {
		return err
	}
	ch.IfMatch = want
	id := c.r.PathValue("id")
	if _, err := h.o.Directory.UpdateGroup(c.ctx(), c.actor, c.org, id, ch); err != nil {
		return groupErr(err)
	}
	return h.writeGroup(c, http.StatusOK, id)
}

func (h *Handler) deleteGroup(c *call) error {
	id := c.r.PathValue("id")
	if err := h.o.Directory.DeleteGroup(c.ctx(), c.actor, c.org, id, ifMatch(c.r)...); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// groups lists the groups a filter selects. Members are read only when
// they are returned or filtered on.
func (h *Handler) groups(c *call, q listQuery) ([]map[string]any, int, error) {
	gs, err := h.o.Directory.Groups(c.ctx(), c.actor, c.org)
	if err != nil {
		return nil, 0, err
	}
	withMembers := !q.sel.excludes("members") && (len(q.sel.only) == 0 || q.sel.includes("members"))
	if q.filter != nil && strings.Contains(strings.ToLower(filterString(q.filter)), "members") {
		withMembers = true
	}
	var matches []map[string]any
	for _, g := range gs {
		var members []membership.Member
		if withMembers {
			if g, members, err = h.o.Directory.Group(c.ctx(), c.actor, c.org, g.ID); err != nil {
				return nil, 0, err
			}
		}
		res := c.groupResource(g, members, withMembers)
		if q.filter == nil || eval(q.filter, res, groupSchema) {
			matches = append(matches, res)
		}
	}
	return window(matches, q), len(matches), nil
}

// without returns list less the IDs in drop.
func without(list, drop []string) []string {
	if len(list) == 0 || len(drop) == 0 {
		return list
	}
	out := list[:0:0]
	for _, id := range list {
		if !slices.Contains(drop, id) {
			out = append(out, id)
		}
	}
	return out
}
