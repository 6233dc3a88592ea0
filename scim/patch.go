package scim

import (
	"fmt"
	"net/http"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

const schemaPatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// patchOp is one operation of a PATCH request (RFC 7644 §3.5.2).
type patchOp struct {
	op    string       // add, replace, remove (lower-cased: Entra ID writes "Replace")
	path  *filter.Path // nil: the value is an object of attributes
	raw   string       // the path as sent, for errors
	value any
}

// maxPatchOps bounds the operations of one request.
const maxPatchOps = 1000

// patchBody reads a request's PatchOp.
func patchBody(r *http.Request) ([]patchOp, error) {
	body, err := readJSON(r)
	if err != nil {
		return nil, err
	}
	return readPatch(body)
}

func readPatch(body map[string]any) ([]patchOp, error) {
	if schemas, ok := body["schemas"].([]any); ok {
		found := false
		for _, s := range schemas {
			if str, ok := s.(string); ok && strings.EqualFold(str, schemaPatchOp) {
				found = true
			}
		}
		if !found {
			return nil, badRequest("invalidSyntax", "a PATCH request's schemas must hold "+schemaPatchOp)
		}
	}
	list, ok := body["operations"].([]any)
	if !ok || len(list) == 0 {
		return nil, badRequest("invalidSyntax", "a PATCH request needs Operations, a list of operations")
	}
	if len(list) > maxPatchOps {
		return nil, &Error{Status: 413, ScimType: "tooMany", Detail: fmt.Sprintf("over %d operations in one request", maxPatchOps)}
	}
	ops := make([]patchOp, 0, len(list))
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, badRequest("invalidSyntax", fmt.Sprintf("operation %d is not an object", i+1))
		}
		opName, _ := m["op"].(string)
		o := patchOp{op: strings.ToLower(opName), value: m["value"]}
		switch o.op {
		case "add", "replace", "remove":
		default:
			return nil, badRequest("invalidSyntax", fmt.Sprintf("operation %d: op must be add, replace or remove, not %q", i+1, opName))
		}
		if raw, _ := m["path"].(string); strings.TrimSpace(raw) != "" {
			p, err := parsePath(raw)
			if err != nil {
				return nil, err
			}
			o.path, o.raw = &p, raw
		} else if o.op == "remove" {
			return nil, badRequest("noTarget", fmt.Sprintf("operation %d: remove needs a path", i+1))
		} else if _, ok := o.value.(map[string]any); !ok {
			return nil, badRequest("invalidValue", fmt.Sprintf("operation %d: without a path, value must be an object of attributes", i+1))
		}
		if o.op != "remove" && o.value == nil {
			return nil, badRequest("invalidValue", fmt.Sprintf("operation %d: %s needs a value", i+1, o.op))
		}
		ops = append(ops, o)
	}
	return ops, nil
}

func parsePath(raw string) (filter.Path, error) {
	p, err := filter.ParsePath([]byte(strings.TrimSpace(raw)))
	if err != nil {
		return p, badRequest("invalidPath", fmt.Sprintf("the path %q cannot be read: %v", raw, err))
	}
	return p, nil
}

// apply applies the operation to a resource's lower-cased representation.
func (o patchOp) apply(res map[string]any, s resourceSchema) error {
	if o.path == nil { // {"op":"replace","value":{"active":false,"name.givenName":"Ana"}}
		for k, v := range o.value.(map[string]any) {
			p, err := parsePath(k)
			if err != nil {
				return err
			}
			if err := (patchOp{op: o.op, path: &p, raw: k, value: v}).apply(res, s); err != nil {
				return err
			}
		}
		return nil
	}
	ap := s.path(o.path.AttributePath)
	container := res
	if ap.ext != "" {
		ext, _ := res[ap.ext].(map[string]any)
		if ext == nil {
			if o.op == "remove" {
				return nil
			}
			ext = map[string]any{}
			res[ap.ext] = ext
		}
		container = ext
	}
	if o.path.ValueExpression != nil {
		return o.applyFiltered(container, ap, s)
	}
	sub := ap.sub
	if sub == "" && o.path.SubAttribute != nil {
		sub = strings.ToLower(*o.path.SubAttribute)
	}
	if list, ok := container[ap.name].([]any); ok && sub != "" { // emails.value: each value
		for _, x := range list {
			if obj, ok := x.(map[string]any); ok {
				if o.op == "remove" {
					delete(obj, sub)
				} else {
					obj[sub] = o.value
				}
			}
		}
		return nil
	}
	if sub != "" { // name.givenName
		obj, _ := container[ap.name].(map[string]any)
		if o.op == "remove" {
			if obj != nil {
				delete(obj, sub)
			}
			return nil
		}
		if obj == nil {
			obj = map[string]any{}
			container[ap.name] = obj
		}
		obj[sub] = o.value
		return nil
	}
	switch o.op {
	case "remove":
		delete(container, ap.name)
	case "add":
		old, exists := container[ap.name]
		switch {
		case s.multi[ap.name] || isList(old):
			list, _ := old.([]any)
			added := asList(o.value)
			if anyPrimary(added) { // one primary value at most (RFC 7643 §2.4)
				for _, x := range list {
					if obj, ok := x.(map[string]any); ok {
						delete(obj, "primary")
					}
				}
			}
			container[ap.name] = append(list, added...)
		case exists && isObject(old) && isObject(o.value):
			merge(old.(map[string]any), o.value.(map[string]any))
		default:
			container[ap.name] = o.value
		}
	case "replace":
		old := container[ap.name]
		if isObject(old) && isObject(o.value) && !s.multi[ap.name] {
			merge(old.(map[string]any), o.value.(map[string]any))
		} else if s.multi[ap.name] {
			container[ap.name] = asList(o.value)
		} else {
			container[ap.name] = o.value
		}
	}
	return nil
}

// applyFiltered applies the operation to the elements of a multi-valued
// attribute its value filter selects: emails[type eq "work"].value.
func (o patchOp) applyFiltered(container map[string]any, ap attrPath, s resourceSchema) error {
	list, _ := container[ap.name].([]any)
	sub := ""
	if o.path.SubAttribute != nil {
		sub = strings.ToLower(*o.path.SubAttribute)
	}
	elemSchema := resourceSchema{caseExact: map[string]bool{}, dates: map[string]bool{}}
	if s.caseExact[ap.name+".value"] {
		elemSchema.caseExact["value"] = true
	}
	matched := false
	kept := list[:0:0]
	for _, x := range list {
		obj, ok := x.(map[string]any)
		if !ok || !eval(o.path.ValueExpression, obj, elemSchema) {
			kept = append(kept, x)
			continue
		}
		matched = true
		switch {
		case o.op == "remove" && sub == "":
			continue // dropped
		case o.op == "remove":
			delete(obj, sub)
		case sub != "":
			obj[sub] = o.value
		case isObject(o.value):
			merge(obj, o.value.(map[string]any))
		default:
			return badRequest("invalidValue", fmt.Sprintf("%s: the value must be an object", o.raw))
		}
		kept = append(kept, obj)
	}
	container[ap.name] = kept
	if matched || o.op == "remove" {
		return nil
	}
	if o.op == "replace" && len(list) > 0 { // RFC 7644 §3.5.2.3
		return badRequest("noTarget", fmt.Sprintf("%s selects none of the values there are", o.raw))
	}
	// Nothing matched: emails[type eq "work"].value adds a work email, by
	// add, or by replace when the user has no email at all (an attribute
	// without a value is replaced as by an add, RFC 7644 §3.5.2.3), as
	// Entra ID sends it for a user created without one.
	ae, ok := o.path.ValueExpression.(*filter.AttributeExpression)
	if !ok || !strings.EqualFold(string(ae.Operator), "eq") || ae.AttributePath.SubAttribute != nil {
		return badRequest("noTarget", fmt.Sprintf("%s selects nothing", o.raw))
	}
	obj := map[string]any{strings.ToLower(ae.AttributePath.AttributeName): ae.CompareValue}
	switch {
	case sub != "":
		obj[sub] = o.value
	case isObject(o.value):
		merge(obj, o.value.(map[string]any))
	default:
		return badRequest("invalidValue", fmt.Sprintf("%s: the value must be an object", o.raw))
	}
	container[ap.name] = append(kept, obj)
	return nil
}

func isList(v any) bool   { _, ok := v.([]any); return ok }
func isObject(v any) bool { _, ok := v.(map[string]any); return ok }

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		dst[k] = v
	}
}

func anyPrimary(list []any) bool {
	for _, x := range list {
		if obj, ok := x.(map[string]any); ok {
			if p, _ := boolValue(obj["primary"]); p {
				return true
			}
		}
	}
	return false
}
