package csvsync

import (
	"errors"
	"fmt"

	"github.com/memberkit/memberkit/membership"
)

// Errors of this package; match them with errors.Is.
var (
	// ErrStalePlan: the roster changed between Plan and Apply; plan again.
	ErrStalePlan = errors.New("memberkit: the roster changed since the import was planned; plan it again")
	// ErrMassDeactivation: the plan would deactivate more members than
	// PlanOptions.MaxDeactivateRatio allows; a truncated file is the usual
	// cause. Set PlanOptions.AllowMassDeactivation to proceed.
	ErrMassDeactivation = errors.New("memberkit: the import would deactivate too many members")
)

func word(lang membership.Lang, fr, en string) string {
	if lang == membership.English {
		return en
	}
	return fr
}

// messages: code → French, English.
var messages = map[string][2]string{
	"required":            {"donnée obligatoire manquante", "required value missing"},
	"status":              {"état %q inconnu (attendu : Activé ou Désactivé)", "unknown status %q (expected Active or Deactivated)"},
	"email":               {"adresse e-mail %q invalide", "invalid email address %q"},
	"login":               {"identifiant %q invalide (lettres a-z, chiffres et . _ - @ + seulement)", "invalid login %q (letters a-z, digits and . _ - @ + only)"},
	"name":                {"%s", "%s"},
	"password":            {"mot de passe trop court (%d caractères minimum)", "password too short (at least %d characters)"},
	"password_utf8":       {"mot de passe illisible (encodage)", "password unreadable (encoding)"},
	"field_too_long":      {"cellule trop longue (%d octets, %d au plus)", "cell too long (%d bytes, at most %d)"},
	"extra_cells":         {"plus de cellules que de colonnes", "more cells than columns"},
	"cell_too_long":       {"cellule trop longue (plus de %d octets, %d au plus) : lecture arrêtée", "cell too long (more than %d bytes, at most %d): reading stopped"},
	"too_many_columns":    {"trop de cellules sur la ligne (%d au plus) : lecture arrêtée", "too many cells on the line (at most %d): reading stopped"},
	"syntax":              {"ligne CSV mal formée : %v", "malformed CSV line: %v"},
	"no_login":            {"identifiant impossible à déduire des nom et prénom : indiquez-le", "cannot derive a login from the names: give one"},
	"missing_columns":     {"colonne(s) obligatoire(s) absente(s) : %s (en-tête lu : %s)", "missing required column(s): %s (header read: %s)"},
	"dup_column":          {"colonne %q présente deux fois", "column %q appears twice"},
	"empty":               {"fichier vide : aucune ligne d'en-tête", "empty file: no header line"},
	"too_large":           {"fichier trop volumineux (plus de %d octets)", "file too large (more than %d bytes)"},
	"too_many_rows":       {"trop de lignes (plus de %d)", "too many rows (more than %d)"},
	"same_member":         {"même membre que la ligne %d (%s)", "same member as line %d (%s)"},
	"two_members":         {"correspond à deux membres : %s par l'identifiant et %s par l'adresse e-mail", "matches two members: %s by login and %s by email"},
	"email_taken":         {"adresse e-mail %q déjà utilisée par %s", "email %q already used by %s"},
	"email_dup_row":       {"adresse e-mail %q déjà utilisée ligne %d", "email %q already used on line %d"},
	"self":                {"l'auteur de l'import ne peut pas se désactiver lui-même", "the member running the import cannot deactivate themselves"},
	"read":                {"lecture impossible : %v", "cannot read: %v"},
	"beyond_power":        {"le membre %s a le rôle %q, qui détient %s que votre rôle n'a pas : vous ne pouvez pas le modifier", "member %s has role %q, which holds %s that your role lacks: you cannot change them"},
	"credentials":         {"vous ne pouvez pas définir le mot de passe ou l'adresse e-mail de %s (rôle %q) : il faut un rôle supérieur au sien, et son propre mot de passe se change avec l'ancien", "you cannot set the password or email of %s (role %q): it takes a role above theirs, and one's own password is changed with the current one"},
	"weak_hash":           {"empreinte de mot de passe trop faible (bcrypt de coût 10 au moins, ou argon2id aux paramètres OWASP)", "password hash too weak (bcrypt of cost 10 or more, or argon2id with OWASP parameters)"},
	"login_is_email":      {"l'identifiant %q est l'adresse e-mail d'un autre membre (%s)", "login %q is another member's email (%s)"},
	"attribute":           {"valeur %q invalide : %s", "invalid value %q: %s"},
	"too_many_attributes": {"%s aurait plus de %d attributs", "%s would have more than %d attributes"},
	"email_is_login":      {"l'adresse e-mail %q est l'identifiant d'un autre membre (%s)", "email %q is another member's login (%s)"},
}

func msg(lang membership.Lang, code string, args ...any) string {
	m, ok := messages[code]
	if !ok {
		return code
	}
	f := m[0]
	if lang == membership.English {
		f = m[1]
	}
	if len(args) == 0 {
		return f
	}
	return fmt.Sprintf(f, args...)
}
