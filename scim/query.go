package scim

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

const schemaListResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

// listQuery is a list or search request: its filter, its page and the
// attributes to return.
type listQuery struct {
	filter     filter.Expression // nil: every resource
	startIndex int               // 1-based
	count      int               // -1: as many as allowed
	sel        selection
}

func (h *Handler) queryParams(v url.Values) (listQuery, error) {
	q := listQuery{startIndex: 1, count: -1}
	var err error
	if f := v.Get("filter"); f != "" {
		if q.filter, err = parseFilter(f); err != nil {
			return q, err
		}
	}
	if s := v.Get("startIndex"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return q, badRequest("invalidValue", "startIndex must be an integer")
		}
		q.startIndex = max(n, 1) // RFC 7644 §3.4.2.4: less than 1 is 1
	}
	if s := v.Get("count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return q, badRequest("invalidValue", "count must be an integer")
		}
		q.count = max(n, 0) // negative is 0
	}
	if q.sel, err = parseSelection(v); err != nil {
		return q, err
	}
	q.count = h.pageSize(q.count)
	return q, nil
}

func (h *Handler) pageSize(n int) int {
	if n < 0 || n > h.o.MaxResults {
		return h.o.MaxResults
	}
	return n
}

const schemaSearchRequest = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"

// searchBody reads a POST …/.search body (RFC 7644 §3.4.3).
func (h *Handler) searchBody(r *http.Request) (listQuery, error) {
	body, err := readJSON(r)
	if err != nil {
		return listQuery{}, err
	}
	v := url.Values{}
	for key, name := range map[string]string{"filter": "filter", "startindex": "startIndex", "count": "count", "sortby": "sortBy"} {
		switch x := body[key].(type) {
		case string:
			v.Set(name, x)
		case float64:
			v.Set(name, strconv.FormatFloat(x, 'f', -1, 64))
		case nil:
		default:
			return listQuery{}, badRequest("invalidValue", name+" has the wrong type")
		}
	}
	for key, name := range map[string]string{"attributes": "attributes", "excludedattributes": "excludedAttributes"} {
		switch x := body[key].(type) {
		case []any:
			var parts []string
			for _, a := range x {
				s, ok := a.(string)
				if !ok {
					return listQuery{}, badRequest("invalidValue", name+" must be a list of strings")
				}
				parts = append(parts, s)
			}
			v.Set(name, strings.Join(parts, ","))
		case string:
			v.Set(name, x)
		case nil:
		default:
			return listQuery{}, badRequest("invalidValue", name+" must be a list of strings")
		}
	}
	return h.queryParams(v)
}

// window returns the page of matches a query asks for.
func window(all []map[string]any, q listQuery) []map[string]any {
	from := q.startIndex - 1
	if from >= len(all) || q.count == 0 {
		return nil
	}
	return all[from:min(len(all), from+q.count)]
}

// lister returns the page of resources a query selects, and how many
// it selects in all.
type lister func(*call, listQuery) ([]map[string]any, int, error)

// list serves GET on a resource type's endpoint.
func (h *Handler) list(l lister) handlerFunc {
	return func(c *call) error {
		q, err := h.queryParams(c.r.URL.Query())
		if err != nil {
			return err
		}
		return h.writeList(c, q, l)
	}
}

// search serves POST …/.search.
func (h *Handler) search(l lister) handlerFunc {
	return func(c *call) error {
		q, err := h.searchBody(c.r)
		if err != nil {
			return err
		}
		return h.writeList(c, q, l)
	}
}

func (h *Handler) writeList(c *call, q listQuery, list lister) error {
	page, total, err := list(c, q)
	if err != nil {
		return err
	}
	resources := make([]any, len(page))
	for i, res := range page {
		resources[i] = render(q.sel.apply(res))
	}
	writeJSON(c.w, http.StatusOK, map[string]any{
		"schemas":      []string{schemaListResponse},
		"totalResults": total,
		"startIndex":   q.startIndex,
		"itemsPerPage": len(resources),
		"Resources":    resources,
	})
	return nil
}

// selection is the attributes and excludedAttributes of a request, as
// lower-cased paths ("emails", "name.givenname").
type selection struct {
	only, except []string
}

func parseSelection(v url.Values) (selection, error) {
	var s selection
	split := func(raw string) []string {
		var out []string
		for _, p := range strings.Split(raw, ",") {
			p = strings.ToLower(strings.TrimSpace(p))
			for _, urn := range []string{strings.ToLower(schemaUser) + ":", strings.ToLower(schemaGroup) + ":"} {
				p = strings.TrimPrefix(p, urn)
			}
			if p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	s.only, s.except = split(v.Get("attributes")), split(v.Get("excludedAttributes"))
	return s, nil
}

// always are returned whatever the selection (RFC 7643 §7, returned
// "always").
var always = map[string]bool{"id": true, "schemas": true}

// apply keeps what the selection asks for. A sub-attribute path
// (name.givenName, emails.value) selects that sub-attribute of the
// complex attribute, or of each value of a multi-valued one.
func (s selection) apply(res map[string]any) map[string]any {
	if len(s.only) > 0 {
		out := make(map[string]any)
		for k, v := range res {
			if always[k] {
				out[k] = v
			}
		}
		for _, p := range s.only {
			top, sub, nested := strings.Cut(p, ".")
			v, ok := res[top]
			if !ok {
				continue
			}
			if !nested {
				out[top] = v
				continue
			}
			switch t := v.(type) {
			case map[string]any:
				if x, ok := t[sub]; ok {
					o, _ := out[top].(map[string]any)
					if o == nil {
						o = map[string]any{}
						out[top] = o
					}
					o[sub] = x
				}
			case []any:
				kept, _ := out[top].([]any)
				if kept == nil {
					kept = make([]any, len(t))
					for i := range kept {
						kept[i] = map[string]any{}
					}
				}
				for i, x := range t {
					if obj, ok := x.(map[string]any); ok {
						if y, ok := obj[sub]; ok {
							kept[i].(map[string]any)[sub] = y
						}
					}
				}
				out[top] = kept
			}
		}
		return out
	}
	for _, p := range s.except {
		top, sub, nested := strings.Cut(p, ".")
		if always[top] {
			continue
		}
		if !nested {
			delete(res, top)
			continue
		}
		switch t := res[top].(type) {
		case map[string]any:
			res[top] = withoutKey(t, sub)
		case []any:
			out := make([]any, len(t))
			for i, x := range t {
				if obj, ok := x.(map[string]any); ok {
					out[i] = withoutKey(obj, sub)
				} else {
					out[i] = x
				}
			}
			res[top] = out
		}
	}
	return res
}

// withoutKey returns a copy of obj less key.
func withoutKey(obj map[string]any, key string) map[string]any {
	c := make(map[string]any, len(obj))
	for k, v := range obj {
		if k != key {
			c[k] = v
		}
	}
	return c
}

// canonical spells the attributes as the schemas do, for responses.
var canonical = map[string]string{
	"username": "userName", "givenname": "givenName", "familyname": "familyName", "displayname": "displayName",
	"externalid": "externalId", "resourcetype": "resourceType", "lastmodified": "lastModified",
}

// render returns res with its attribute names spelled as the schemas do.
func render(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			if n, ok := canonical[k]; ok {
				k = n
			}
			out[k] = render(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = render(x)
		}
		return out
	}
	return v
}

// includes reports whether the selection asks for attribute p or one of
// its sub-attributes (members, members.value).
func (s selection) includes(p string) bool {
	return slices.ContainsFunc(s.only, func(x string) bool { return x == p || strings.HasPrefix(x, p+".") })
}
func (s selection) excludes(p string) bool { return slices.Contains(s.except, p) }

func filterString(e filter.Expression) string { return fmt.Sprint(e) }
