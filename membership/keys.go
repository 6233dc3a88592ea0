package membership

import "strings"

// The comparison keys of identifiers: logins, emails and group labels are
// unique and matched without regard to case; stores index these keys.

// LoginKey is the case-insensitive comparison key of a login.
func LoginKey(login string) string { return strings.ToLower(strings.TrimSpace(login)) }

// EmailKey is the case-insensitive comparison key of an email; "" for none.
func EmailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// GroupKey is the case-insensitive comparison key of a group label.
func GroupKey(g string) string { return strings.ToLower(strings.TrimSpace(g)) }

// HasGroupKey reports whether m carries a group whose [GroupKey] is key.
func HasGroupKey(m Member, key string) bool {
	for _, g := range m.Groups {
		if GroupKey(g) == key {
			return true
		}
	}
	return false
}

// SearchText is the text a listing's text filter is looked for in: first
// name, last name, login and email, folded (lower case, no accents).
func SearchText(m Member) string {
	return Fold(m.FirstName + " " + m.LastName + " " + m.Login + " " + m.Email)
}

// SearchQuery folds a text filter the same way as [SearchText].
func SearchQuery(text string) string { return Fold(text) }
