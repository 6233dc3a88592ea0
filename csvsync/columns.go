package csvsync

import (
	"strings"

	"github.com/memberkit/memberkit/membership"
)

// column identifies one of the file's known columns.
type column int

const (
	colLogin column = iota
	colLastName
	colFirstName
	colEmail
	colPassword
	colStatus
	colRole
	colGroups
	numColumns
)

// Headers are the column titles an export writes, in order.
type Headers [numColumns]string

// FrenchHeaders are the titles of the product page.
var frenchHeaders = Headers{"Identifiant", "Nom", "Prénom", "Adresse e-mail", "Mot de passe", "Etat", "Rôle", "Groupes"}

// englishHeaders are their English equivalents.
var englishHeaders = Headers{"Login", "Last name", "First name", "Email", "Password", "Status", "Role", "Groups"}

// HeadersFor returns the export titles in a language.
func HeadersFor(lang membership.Lang) Headers {
	if lang == membership.English {
		return englishHeaders
	}
	return frenchHeaders
}

// Password placeholders written by exports; an import reads either as
// "unchanged".
const (
	PlaceholderFR = "Mot de passe crypté"
	PlaceholderEN = "Encrypted password"
)

// Placeholder returns the export's password placeholder in a language.
func Placeholder(lang membership.Lang) string {
	if lang == membership.English {
		return PlaceholderEN
	}
	return PlaceholderFR
}

// headerAliases maps a header's key (see headerKey) to its column.
var headerAliases = map[string]column{
	"identifiant": colLogin, "identifiantdeconnexion": colLogin, "login": colLogin, "username": colLogin, "utilisateur": colLogin, "userid": colLogin,
	"nom": colLastName, "nomdefamille": colLastName, "lastname": colLastName, "surname": colLastName, "familyname": colLastName,
	"prenom": colFirstName, "firstname": colFirstName, "givenname": colFirstName,
	"adresseemail": colEmail, "adressemail": colEmail, "email": colEmail, "mail": colEmail, "courriel": colEmail, "emailaddress": colEmail, "adresseelectronique": colEmail,
	"motdepasse": colPassword, "password": colPassword, "mdp": colPassword, "pass": colPassword,
	"etat": colStatus, "status": colStatus, "statut": colStatus, "state": colStatus, "actif": colStatus,
	"role":    colRole,
	"groupes": colGroups, "groups": colGroups,
}

// headerKey folds a header for matching: case, accents, spaces,
// punctuation and a trailing "(obligatoire)" or "*" do not matter.
func headerKey(h string) string {
	h = membership.Fold(h)
	if i := strings.IndexAny(h, "*"); i > 0 {
		h = h[:i]
	}
	if i := strings.Index(h, "(obligatoire"); i > 0 {
		h = h[:i]
	}
	if i := strings.Index(h, "(required"); i > 0 {
		h = h[:i]
	}
	var b strings.Builder
	for _, r := range h {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// statusWords maps an Etat cell, folded and reduced to letters and
// digits, to a status.
var statusWords = map[string]membership.Status{
	"active": membership.StatusActive, "activee": membership.StatusActive, "activated": membership.StatusActive,
	"actif": membership.StatusActive, "actifs": membership.StatusActive, "oui": membership.StatusActive, "yes": membership.StatusActive,
	"1": membership.StatusActive, "true": membership.StatusActive, "vrai": membership.StatusActive, "enabled": membership.StatusActive,
	"desactive": membership.StatusDeactivated, "desactivee": membership.StatusDeactivated, "deactivated": membership.StatusDeactivated,
	"inactif": membership.StatusDeactivated, "inactive": membership.StatusDeactivated, "non": membership.StatusDeactivated, "no": membership.StatusDeactivated,
	"0": membership.StatusDeactivated, "false": membership.StatusDeactivated, "faux": membership.StatusDeactivated, "disabled": membership.StatusDeactivated,
}

// ParseStatus reads an Etat cell: activé/désactivé, actif/inactif,
// active/inactive, oui/non, yes/no, 1/0, in any case, with or without
// accents ("Activé(e)" too).
func ParseStatus(s string) (membership.Status, bool) {
	switch s { // the export's own labels, without folding
	case "Activé", "Active":
		return membership.StatusActive, true
	case "Désactivé", "Deactivated":
		return membership.StatusDeactivated, true
	}
	st, ok := statusWords[headerKey(s)]
	return st, ok
}

// parseStatus reads an Etat cell: the host's words, then ParseStatus's.
func parseStatus(s string, l membership.Labels) (membership.Status, bool) {
	if len(l.Status) > 0 {
		if st, err := l.ParseStatus(s); err == nil && (st == membership.StatusActive || st == membership.StatusDeactivated) {
			return st, true
		}
	}
	return ParseStatus(s)
}

var foldedPlaceholders = [2]string{membership.Fold(PlaceholderFR), membership.Fold(PlaceholderEN)}

// isPlaceholder reports the export's password placeholder, in either
// language, whatever its case.
func isPlaceholder(s string) bool {
	if s == PlaceholderFR || s == PlaceholderEN {
		return true
	}
	f := membership.Fold(s)
	return f == foldedPlaceholders[0] || f == foldedPlaceholders[1]
}

// isFormulaStart reports characters that make a spreadsheet evaluate a
// cell.
func isFormulaStart(c byte) bool {
	return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r'
}

// neutralize prefixes an apostrophe to cells a spreadsheet would run as a
// formula — and to cells that already start with apostrophes followed by
// such a character, so that unneutralize is its exact inverse.
func neutralize(s string) string {
	t := strings.TrimLeft(s, "'")
	if t != "" && isFormulaStart(t[0]) {
		return "'" + s
	}
	return s
}

// unneutralize undoes neutralize.
func unneutralize(s string) string {
	if !strings.HasPrefix(s, "'") {
		return s
	}
	t := strings.TrimLeft(s, "'")
	if t != "" && isFormulaStart(t[0]) {
		return s[1:]
	}
	return s
}
