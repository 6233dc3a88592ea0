package scim

import (
	"fmt"
	"strings"
	"time"

	filter "github.com/scim2/filter-parser/v2"
)

// Filters are parsed by github.com/scim2/filter-parser (RFC 7644 §3.4.2.2's
// grammar: attribute paths, value paths, precedence of not, and, or) and
// evaluated here on a resource's lower-cased representation, so that a
// filter means the same thing on every store.

// maxFilterLen bounds a filter's length before it is parsed.
const maxFilterLen = 4096

func parseFilter(s string) (filter.Expression, error) {
	if len(s) > maxFilterLen {
		return nil, badRequest("invalidFilter", fmt.Sprintf("the filter is over %d bytes", maxFilterLen))
	}
	e, err := filter.ParseFilter([]byte(s))
	if err != nil || e == nil {
		return nil, badRequest("invalidFilter", fmt.Sprintf("the filter %q cannot be read: %v", s, err))
	}
	if err := checkFilter(e); err != nil {
		return nil, err
	}
	return e, nil
}

// checkFilter refuses comparisons that mean nothing (RFC 7644
// §3.4.2.2): ordering or substrings of a boolean, substrings of a number,
// null as a value.
func checkFilter(e filter.Expression) error {
	switch t := e.(type) {
	case *filter.LogicalExpression:
		if err := checkFilter(t.Left); err != nil {
			return err
		}
		return checkFilter(t.Right)
	case *filter.NotExpression:
		return checkFilter(t.Expression)
	case *filter.ValuePath:
		if t.ValueFilter != nil {
			return checkFilter(t.ValueFilter)
		}
	case *filter.AttributeExpression:
		op := filter.CompareOperator(strings.ToLower(string(t.Operator)))
		if op == filter.PR {
			return nil
		}
		switch t.CompareValue.(type) {
		case bool:
			if op != filter.EQ && op != filter.NE {
				return badRequest("invalidFilter", fmt.Sprintf("%v: a boolean is compared by eq or ne only", t))
			}
		case nil: // null: eq is "has no value", ne "has one"
			if op != filter.EQ && op != filter.NE {
				return badRequest("invalidFilter", fmt.Sprintf("%v: null is compared by eq or ne only", t))
			}
		case string:
		default: // a number
			if op == filter.CO || op == filter.SW || op == filter.EW {
				return badRequest("invalidFilter", fmt.Sprintf("%v: co, sw and ew compare strings", t))
			}
		}
	}
	return nil
}

// resourceSchema says how a resource type's attributes compare.
type resourceSchema struct {
	core      string          // the core schema's URN, lower-cased
	caseExact map[string]bool // attribute paths compared as they are
	dates     map[string]bool // attribute paths holding dateTime values
	multi     map[string]bool // multi-valued attributes (lists)
}

var userSchema = resourceSchema{
	core:      strings.ToLower(schemaUser),
	caseExact: map[string]bool{"id": true, "externalid": true, "meta.version": true, "groups.value": true},
	dates:     map[string]bool{"meta.created": true, "meta.lastmodified": true},
	multi:     map[string]bool{"emails": true, "groups": true},
}

var groupSchema = resourceSchema{
	core:      strings.ToLower(schemaGroup),
	caseExact: map[string]bool{"id": true, "externalid": true, "meta.version": true, "members.value": true},
	dates:     map[string]bool{"meta.created": true, "meta.lastmodified": true},
	multi:     map[string]bool{"members": true},
}

// attrPath is an attribute path, lower-cased: name, sub-attribute, and
// the extension schema it names ("" for the core schema).
type attrPath struct{ ext, name, sub string }

func (s resourceSchema) path(p filter.AttributePath) attrPath {
	out := attrPath{name: strings.ToLower(p.AttributeName), sub: strings.ToLower(p.SubAttributeName())}
	if uri := strings.ToLower(p.URI()); uri != "" && uri != s.core {
		out.ext = uri
	}
	return out
}

func (p attrPath) key() string {
	if p.sub == "" {
		return p.name
	}
	return p.name + "." + p.sub
}

// values returns the values an attribute path reaches in res: each
// element's sub-attribute (or "value") for a multi-valued attribute.
func (p attrPath) values(res map[string]any) []any {
	container := res
	if p.ext != "" {
		container, _ = res[p.ext].(map[string]any)
	}
	v, ok := container[p.name]
	if !ok || v == nil {
		return nil
	}
	pick := func(x any) any {
		if obj, ok := x.(map[string]any); ok {
			if p.sub != "" {
				return obj[p.sub]
			}
			return obj["value"]
		}
		if p.sub != "" {
			return nil
		}
		return x
	}
	if list, ok := v.([]any); ok {
		out := make([]any, 0, len(list))
		for _, x := range list {
			if y := pick(x); y != nil {
				out = append(out, y)
			}
		}
		return out
	}
	if obj, ok := v.(map[string]any); ok {
		if p.sub == "" {
			return []any{obj}
		}
		if y := obj[p.sub]; y != nil {
			return []any{y}
		}
		return nil
	}
	if p.sub != "" {
		return nil
	}
	return []any{v}
}

// eval reports whether res matches e.
func eval(e filter.Expression, res map[string]any, s resourceSchema) bool {
	switch t := e.(type) {
	case *filter.LogicalExpression:
		if t.Operator == filter.AND {
			return eval(t.Left, res, s) && eval(t.Right, res, s)
		}
		return eval(t.Left, res, s) || eval(t.Right, res, s)
	case *filter.NotExpression:
		return !eval(t.Expression, res, s)
	case *filter.AttributeExpression:
		p := s.path(t.AttributePath)
		return compareAll(t.Operator, p.values(res), t.CompareValue, s.caseExact[p.key()] || s.caseExact[p.name+".value"] && p.sub == "", s.dates[p.key()])
	case *filter.ValuePath:
		p := s.path(t.AttributePath)
		container := res
		if p.ext != "" {
			container, _ = res[p.ext].(map[string]any)
		}
		list, _ := container[p.name].([]any)
		sub := resourceSchema{core: s.core, caseExact: map[string]bool{}, dates: map[string]bool{}}
		for k := range s.caseExact {
			if rest, ok := strings.CutPrefix(k, p.name+"."); ok {
				sub.caseExact[rest] = true
			}
		}
		for _, x := range list {
			if obj, ok := x.(map[string]any); ok && (t.ValueFilter == nil || eval(t.ValueFilter, obj, sub)) {
				return true
			}
		}
		return false
	}
	return false
}

// compareAll applies op to the values of an attribute: true when any
// value matches; "ne" when none is equal; "pr" when there is one.
func compareAll(op filter.CompareOperator, vals []any, want any, caseExact, date bool) bool {
	op = filter.CompareOperator(strings.ToLower(string(op)))
	switch op {
	case filter.PR:
		for _, v := range vals {
			if s, ok := v.(string); !ok || s != "" {
				return true
			}
		}
		return false
	case filter.NE:
		return !compareAll(filter.EQ, vals, want, caseExact, date)
	}
	if want == nil { // eq null: no value
		return op == filter.EQ && !compareAll(filter.PR, vals, nil, caseExact, date)
	}
	for _, v := range vals {
		if compare(op, v, want, caseExact, date) {
			return true
		}
	}
	return false
}

func compare(op filter.CompareOperator, have, want any, caseExact, date bool) bool {
	switch h := have.(type) {
	case string:
		w, ok := want.(string)
		if !ok {
			return false
		}
		if date {
			ht, err1 := time.Parse(time.RFC3339Nano, h)
			wt, err2 := time.Parse(time.RFC3339Nano, w)
			if err1 == nil && err2 == nil {
				return order(op, ht.Compare(wt))
			}
		}
		if !caseExact {
			h, w = strings.ToLower(h), strings.ToLower(w)
		}
		switch op {
		case filter.CO:
			return strings.Contains(h, w)
		case filter.SW:
			return strings.HasPrefix(h, w)
		case filter.EW:
			return strings.HasSuffix(h, w)
		}
		return order(op, strings.Compare(h, w))
	case bool:
		w, ok := want.(bool)
		return ok && op == filter.EQ && h == w
	case float64:
		var w float64
		switch x := want.(type) {
		case int:
			w = float64(x)
		case float64:
			w = x
		default:
			return false
		}
		switch {
		case h < w:
			return order(op, -1)
		case h > w:
			return order(op, 1)
		}
		return order(op, 0)
	}
	return false
}

// order reads a comparison's result for eq, gt, ge, lt, le.
func order(op filter.CompareOperator, c int) bool {
	switch op {
	case filter.EQ:
		return c == 0
	case filter.GT:
		return c > 0
	case filter.GE:
		return c >= 0
	case filter.LT:
		return c < 0
	case filter.LE:
		return c <= 0
	}
	return false
}

// lookup finds in a filter an equality the store answers by an index:
// userName, an email, or externalId, alone or in an "and". The filter is
// still applied to what the index returns.
func lookup(e filter.Expression) (by, value string) {
	switch t := e.(type) {
	case *filter.LogicalExpression:
		if t.Operator != filter.AND {
			return "", ""
		}
		if by, value = lookup(t.Left); by != "" {
			return by, value
		}
		return lookup(t.Right)
	case *filter.AttributeExpression:
		v, ok := t.CompareValue.(string)
		if !ok || !strings.EqualFold(string(t.Operator), string(filter.EQ)) {
			return "", ""
		}
		p := userSchema.path(t.AttributePath)
		switch {
		case p.ext != "":
		case p.name == "username" && p.sub == "":
			return "login", v
		case p.name == "emails" && (p.sub == "" || p.sub == "value"):
			return "email", v
		case p.name == "externalid" && p.sub == "":
			return "externalid", v
		}
	case *filter.ValuePath:
		p := userSchema.path(t.AttributePath)
		if p.ext != "" || p.name != "emails" {
			return "", ""
		}
		if ae, ok := t.ValueFilter.(*filter.AttributeExpression); ok && strings.EqualFold(ae.AttributePath.AttributeName, "value") && ae.AttributePath.SubAttribute == nil {
			if v, ok := ae.CompareValue.(string); ok && strings.EqualFold(string(ae.Operator), "eq") {
				return "email", v
			}
		}
	}
	return "", ""
}
