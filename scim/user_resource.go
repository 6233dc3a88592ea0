package scim

import (
	"cmp"
	"strconv"
	"strings"

	"github.com/memberkit/memberkit/membership"
)

// How a SCIM User resource reads into a member's fields.

// userName is the member's login as the provider spelled it.
func userName(m membership.Member) string {
	if sp := m.Attributes[UserNameAttribute]; sp != "" && membership.LoginKey(sp) == m.Login {
		return sp
	}
	return m.Login
}

// userInput is what a User resource sets on a member.
type userInput struct {
	login, first, last, email, externalID, password string
	active, activeSet                               bool
}

// readUser reads a User resource (lower-cased names) into a member's
// fields. Only userName is required; a missing name is taken from
// displayName, then from userName.
func readUser(res map[string]any) (userInput, error) {
	var u userInput
	var err error
	if u.login, err = str(res, "username"); err != nil {
		return u, err
	}
	if strings.TrimSpace(u.login) == "" {
		return u, badRequest("invalidValue", "userName is required")
	}
	name, _ := res["name"].(map[string]any)
	if u.first, err = str(name, "givenname"); err != nil {
		return u, err
	}
	if u.last, err = str(name, "familyname"); err != nil {
		return u, err
	}
	display, err := str(res, "displayname")
	if err != nil {
		return u, err
	}
	if strings.TrimSpace(u.first) == "" || strings.TrimSpace(u.last) == "" {
		first, last, _ := strings.Cut(strings.TrimSpace(display), " ")
		if first == "" {
			first, _, _ = strings.Cut(u.login, "@")
		}
		if strings.TrimSpace(u.first) == "" {
			u.first = first
		}
		if strings.TrimSpace(u.last) == "" {
			u.last = cmp.Or(strings.TrimSpace(last), "-")
		}
	}
	if u.email, err = primaryEmail(res); err != nil {
		return u, err
	}
	if u.externalID, err = str(res, "externalid"); err != nil {
		return u, err
	}
	if u.password, err = str(res, "password"); err != nil {
		return u, err
	}
	u.active = true
	if v, ok := res["active"]; ok && v != nil {
		b, ok := boolValue(v)
		if !ok {
			return u, badRequest("invalidValue", "active must be true or false")
		}
		u.active, u.activeSet = b, true
	}
	return u, nil
}

// str reads an optional string attribute.
func str(m map[string]any, key string) (string, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", badRequest("invalidValue", key+" must be a string")
	}
	return s, nil
}

// boolValue reads a boolean, also as the strings "True" and "False"
// that Microsoft Entra ID sends in PATCH operations.
func boolValue(v any) (bool, bool) {
	switch t := v.(type) {
	case bool:
		return t, true
	case string:
		b, err := strconv.ParseBool(strings.ToLower(t))
		return b, err == nil
	}
	return false, false
}

// primaryEmail picks the email a member keeps: the primary one, else the
// work one, else the first.
func primaryEmail(res map[string]any) (string, error) {
	v, ok := res["emails"]
	if !ok || v == nil {
		return "", nil
	}
	list, ok := v.([]any)
	if !ok {
		return "", badRequest("invalidValue", "emails must be a list")
	}
	pick := ""
	rank := 0
	for _, e := range list {
		em, ok := e.(map[string]any)
		if !ok {
			return "", badRequest("invalidValue", "each of emails must be an object")
		}
		value, err := str(em, "value")
		if err != nil || value == "" {
			continue
		}
		typ, _ := str(em, "type")
		primary, _ := boolValue(em["primary"])
		r := 1
		if strings.EqualFold(typ, "work") {
			r = 2
		}
		if primary {
			r = 3
		}
		if r > rank {
			pick, rank = value, r
		}
	}
	return pick, nil
}

// spelling is the userName as the provider spells it, when it differs
// from the login memberkit keeps (lower-cased): kept in
// UserNameAttribute and given back as the userName.
// The spelling is not kept when the member's attributes have no room
// left for it (membership.MaxAttributes): the userName then comes back in
// lower case, which SCIM allows (userName is not case-exact).
func spelling(userName string, attrs membership.Attributes) string {
	userName = strings.TrimSpace(userName)
	if userName == strings.ToLower(userName) {
		return ""
	}
	n := len(attrs)
	if _, ok := attrs[UserNameAttribute]; ok {
		n--
	}
	if _, ok := attrs[ExternalIDAttribute]; !ok {
		n++ // room for the external ID first
	}
	if n >= membership.MaxAttributes {
		return ""
	}
	return userName
}
