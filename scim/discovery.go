package scim

import (
	"net/http"
	"strings"
)

// The discovery endpoints (RFC 7644 §4): what this service provider
// supports, its resource types and their schemas.

func (h *Handler) serviceProviderConfig(c *call) error {
	writeJSON(c.w, http.StatusOK, map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": "https://pkg.go.dev/github.com/memberkit/memberkit/scim",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": h.o.MaxResults},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "Directory token", "primary": true,
			"description": "A bearer token issued to the org by memberkit's directory service: Authorization: Bearer <token>",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": c.base + "/ServiceProviderConfig"},
	})
	return nil
}

func (c *call) resourceTypeList() []map[string]any {
	return []map[string]any{
		{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}, "id": "User", "name": "User", "endpoint": "/Users",
			"description": "A member of the org", "schema": schemaUser, "schemaExtensions": []any{},
			"meta": map[string]any{"resourceType": "ResourceType", "location": c.base + "/ResourceTypes/User"}},
		{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}, "id": "Group", "name": "Group", "endpoint": "/Groups",
			"description": "A group of the org's members", "schema": schemaGroup, "schemaExtensions": []any{},
			"meta": map[string]any{"resourceType": "ResourceType", "location": c.base + "/ResourceTypes/Group"}},
	}
}

func listOf(items []map[string]any) map[string]any {
	res := make([]any, len(items))
	for i, x := range items {
		res[i] = x
	}
	return map[string]any{"schemas": []string{schemaListResponse}, "totalResults": len(items), "startIndex": 1, "itemsPerPage": len(items), "Resources": res}
}

func (h *Handler) resourceTypes(c *call) error {
	writeJSON(c.w, http.StatusOK, listOf(c.resourceTypeList()))
	return nil
}

func (h *Handler) resourceType(c *call) error {
	for _, rt := range c.resourceTypeList() {
		if strings.EqualFold(rt["id"].(string), c.r.PathValue("id")) {
			writeJSON(c.w, http.StatusOK, rt)
			return nil
		}
	}
	return &Error{Status: http.StatusNotFound, Detail: "no resource type " + c.r.PathValue("id")}
}

// attr describes an attribute in a schema (RFC 7643 §7).
func attr(name, typ string, required bool, mutability, returned, uniqueness string, caseExact bool, multi bool, sub ...map[string]any) map[string]any {
	a := map[string]any{"name": name, "type": typ, "multiValued": multi, "required": required, "caseExact": caseExact,
		"mutability": mutability, "returned": returned, "uniqueness": uniqueness, "description": ""}
	if len(sub) > 0 {
		list := make([]any, len(sub))
		for i, s := range sub {
			list[i] = s
		}
		a["subAttributes"] = list
	}
	return a
}

func (c *call) schemaList() []map[string]any {
	str := func(name string) map[string]any {
		return attr(name, "string", false, "readWrite", "default", "none", false, false)
	}
	user := map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"},
		"id":      schemaUser, "name": "User", "description": "A member of the org",
		"attributes": []any{
			attr("userName", "string", true, "readWrite", "default", "server", false, false),
			attr("name", "complex", false, "readWrite", "default", "none", false, false, str("givenName"), str("familyName"),
				attr("formatted", "string", false, "readOnly", "default", "none", false, false)),
			attr("displayName", "string", false, "readOnly", "default", "none", false, false),
			attr("emails", "complex", false, "readWrite", "default", "none", false, true,
				str("value"), str("type"), attr("primary", "boolean", false, "readWrite", "default", "none", false, false)),
			attr("active", "boolean", false, "readWrite", "default", "none", false, false),
			attr("password", "string", false, "writeOnly", "never", "none", false, false),
			attr("groups", "complex", false, "readOnly", "default", "none", false, true,
				attr("value", "string", false, "readOnly", "default", "none", true, false),
				attr("display", "string", false, "readOnly", "default", "none", false, false),
				attr("$ref", "reference", false, "readOnly", "default", "none", true, false),
				attr("type", "string", false, "readOnly", "default", "none", false, false)),
		},
		"meta": map[string]any{"resourceType": "Schema", "location": c.base + "/Schemas/" + schemaUser},
	}
	group := map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"},
		"id":      schemaGroup, "name": "Group", "description": "A group of the org's members",
		"attributes": []any{
			attr("displayName", "string", true, "readWrite", "default", "server", false, false),
			attr("members", "complex", false, "readWrite", "default", "none", false, true,
				attr("value", "string", false, "immutable", "default", "none", true, false),
				attr("display", "string", false, "readOnly", "default", "none", false, false),
				attr("$ref", "reference", false, "immutable", "default", "none", true, false),
				attr("type", "string", false, "immutable", "default", "none", false, false)),
		},
		"meta": map[string]any{"resourceType": "Schema", "location": c.base + "/Schemas/" + schemaGroup},
	}
	return []map[string]any{user, group}
}

func (h *Handler) schemas(c *call) error {
	writeJSON(c.w, http.StatusOK, listOf(c.schemaList()))
	return nil
}

func (h *Handler) schema(c *call) error {
	for _, s := range c.schemaList() {
		if strings.EqualFold(s["id"].(string), c.r.PathValue("id")) {
			writeJSON(c.w, http.StatusOK, s)
			return nil
		}
	}
	return &Error{Status: http.StatusNotFound, Detail: "no schema " + c.r.PathValue("id")}
}
