package membership

import (
	"fmt"
	"strings"
)

// The one catalogue of what memberkit says to people, in French and
// English: the messages of every error code (see [Explain]), the reasons
// of validation errors, the problems of CSV files, field names and
// notices. Each entry is a fmt format; the arguments come from the error.

var catalogue = map[string][2]string{
	// Error codes ([Problem.Code]).
	"invalid_field":            {"donnée invalide", "invalid input"},
	"invalid_field_detail":     {"%s : %s", "%s: %s"},
	"not_found":                {"introuvable : il n'existe pas ou plus dans cette entreprise", "not found: it does not exist, or no longer, in this company"},
	"duplicate":                {"déjà utilisé", "already taken"},
	"duplicate_field":          {"%s : déjà utilisé", "%s: already taken"},
	"duplicate_value":          {"%s : « %s » est déjà utilisé", "%s: %q is already taken"},
	"conflict":                 {"modifié entre-temps par quelqu'un d'autre : rechargez et recommencez", "changed meanwhile by someone else: reload and try again"},
	"forbidden":                {"vous n'avez pas le droit de faire cela", "you are not allowed to do this"},
	"forbidden_permission":     {"votre rôle ne permet pas : %s", "your role does not allow: %s"},
	"password_change_required": {"changez d'abord votre mot de passe temporaire", "change your temporary password first"},
	"last_admin":               {"l'entreprise doit garder au moins un administrateur actif", "the company must keep at least one active admin"},
	"member_limit":             {"le forfait de l'entreprise est complet", "the company's plan has no seat left"},
	"member_limit_detail":      {"le forfait de l'entreprise est complet : %d places sur %d utilisées, %d de plus demandées", "the company's plan has no seat left: %d of %d seats used, %d more asked"},
	"feature_disabled":         {"cette fonction n'est pas incluse dans le forfait de l'entreprise", "this feature is not included in the company's plan"},
	"role_in_use":              {"ce rôle est encore attribué : changez d'abord le rôle des membres et invitations qui l'ont", "this role is still given: change the role of its members and invitations first"},
	"builtin_role":             {"les rôles Administrateur et Utilisateur ne se modifient pas", "the Administrator and User roles cannot be changed"},
	"invalid_credentials":      {"identifiant ou mot de passe incorrect", "wrong login or password"},
	"already_member":           {"cette personne est déjà membre de l'entreprise", "this person is already a member of the company"},
	"invitation_pending":       {"une invitation est déjà en attente pour cette adresse : renvoyez-la", "an invitation is already pending for this address: resend it"},
	"invitation_invalid":       {"ce lien d'invitation n'est pas valable", "this invitation link is not valid"},
	"invitation_expired":       {"ce lien d'invitation a expiré : demandez qu'on vous l'envoie à nouveau", "this invitation link has expired: ask for it to be sent again"},
	"not_pending":              {"cette invitation n'est plus en attente", "this invitation is no longer pending"},
	"too_many_attempts":        {"trop de tentatives : réessayez plus tard", "too many attempts: try again later"},
	"too_many_attempts_detail": {"trop de tentatives : réessayez dans %s", "too many attempts: try again in %s"},
	"session_invalid":          {"votre session a pris fin : reconnectez-vous", "your session has ended: sign in again"},
	"domain_restricted":        {"l'entreprise n'invite que des adresses de ses domaines vérifiés", "the company invites only addresses at its verified domains"},
	"domain_not_proven":        {"l'enregistrement DNS qui prouve ce domaine est introuvable", "the DNS record that proves this domain was not found"},
	"stale_plan":               {"la liste des membres a changé depuis l'aperçu : refaites l'aperçu", "the roster changed since the preview: preview again"},
	"mass_deactivation":        {"l'import désactiverait trop de membres : confirmez que le fichier est complet", "the import would deactivate too many members: confirm the file is complete"},
	"mass_deactivation_detail": {"l'import désactiverait %d des %d membres actifs (plus de %.0f %%) : confirmez que le fichier est complet", "the import would deactivate %d of %d active members (more than %.0f%%): confirm the file is complete"},
	"no_sender":                {"l'envoi d'invitations n'est pas configuré", "sending invitations is not set up"},
	"no_notifier":              {"l'envoi des mots de passe temporaires n'est pas configuré", "sending temporary passwords is not set up"},
	"not_delivered":            {"le mot de passe temporaire n'a pas pu être envoyé", "the temporary password could not be sent"},
	"send_failed":              {"l'invitation est enregistrée mais n'a pas pu être envoyée : renvoyez-la", "the invitation is saved but could not be sent: resend it"},
	"no_token_key":             {"les invitations ne peuvent pas être envoyées par courriel : la clé des jetons manque", "invitations cannot be emailed: the token key is missing"},
	"unavailable":              {"la base de données n'a pas répondu ; rien n'a été modifié, réessayez", "the database did not answer; nothing was changed, try again"},
	"no_directory":             {"ce stockage ne garde ni jetons d'annuaire ni groupes", "this store keeps no directory tokens or groups"},
	"invalid_token":            {"jeton d'annuaire inconnu ou révoqué", "unknown or revoked directory token"},
	"lease_lost":               {"la livraison de ces événements a été reprise par un autre processus", "another process took over delivering these events"},
	"not_migrated":             {"la base de données n'est pas prête (migrations non appliquées)", "the database is not ready (migrations not applied)"},
	"file_invalid":             {"le fichier a des problèmes", "the file has problems"},
	"file_invalid_detail":      {"le fichier a %s problème(s) : rien n'a changé", "the file has %s problem(s): nothing changed"},
	"bulk_refused":             {"action refusée : rien n'a changé", "action refused: nothing changed"},
	"bulk_refused_detail":      {"action refusée pour %d membre(s) : rien n'a changé", "action refused for %d member(s): nothing changed"},
	"canceled":                 {"demande interrompue", "request canceled"},
	"timeout":                  {"le délai est dépassé : réessayez", "the time limit was reached: try again"},
	"internal":                 {"erreur interne : réessayez plus tard", "internal error: try again later"},
	"malformed_hash":           {"le mot de passe enregistré est illisible : demandez qu'on le réinitialise", "the stored password cannot be read: ask for it to be reset"},

	// Notices of a roster review (roster.Notice).
	"notice.no_admin":            {"l'entreprise n'a aucun administrateur actif", "the company has no active admin"},
	"notice.one_admin":           {"un seul administrateur actif : ajoutez-en un deuxième pour ne pas rester bloqué en son absence", "only one active admin: add a second one to avoid being locked out when they are away"},
	"notice.idle":                {"%d membre(s) actif(s) ne se sont pas connectés depuis %d jours : retirez ceux qui sont partis", "%d active member(s) have not logged in for %d days: remove those who left"},
	"notice.expired_invitations": {"%d invitation(s) expirée(s) : renvoyez-les ou annulez-les", "%d invitation(s) expired: resend or cancel them"},
	"notice.unknown_permissions": {"%d rôle(s) personnalisé(s) nomment des permissions que l'application ne déclare plus, et ne les donnent pas", "%d custom role(s) name permissions the app no longer declares, which they do not grant"},
	"notice.seats_full":          {"les %d places du forfait sont toutes prises", "all %d seats of the plan are used"},

	// Validation reasons ([ValidationError.Code]).
	"required":              {"obligatoire", "required"},
	"secret_length":         {"de %d à %d octets", "%d to %d bytes"},
	"groups_too_long":       {"les groupes font %d octets en tout, plus que %d", "the groups take %d bytes in all, more than %d"},
	"not_utf8":              {"texte illisible (encodage non valide)", "not valid UTF-8"},
	"max_bytes":             {"%d octets au plus", "at most %d bytes"},
	"max_chars":             {"%d caractères au plus", "at most %d characters"},
	"too_many_chars":        {"%d caractères, %d au plus", "%d characters, at most %d allowed"},
	"too_many_bytes":        {"%d octets, %d au plus", "%d bytes, at most %d allowed"},
	"too_many":              {"%d valeurs, %d au plus", "%d values, at most %d allowed"},
	"control_char":          {"contient un caractère de contrôle", "contains a control character"},
	"invisible_char":        {"contient un caractère invisible ou qui change le sens du texte (U+%04X)", "contains an invisible or direction-changing character (U+%04X)"},
	"spaces_at_ends":        {"commence ou finit par une espace", "starts or ends with a space"},
	"member_limit_negative": {"0 (illimité) ou plus", "0 (unlimited) or more"},
	"feature_name":          {"un nom de fonction fait de 1 à 32 octets", "a feature name is 1 to 32 bytes"},
	"password_short":        {"%d caractères au moins", "at least %d characters"},
	"password_same":         {"le nouveau mot de passe doit différer de l'actuel", "the new password must differ from the current one"},
	"password_or_account":   {"obligatoire, sauf pour un compte de l'application", "required unless an account of the application is given"},
	"password_with_account": {"un compte qui se connecte par l'application n'a pas de mot de passe ici", "an account that signs in through the application has no password here"},
	"hash_malformed":        {"empreinte %s mal formée", "malformed %s hash"},
	"hash_unknown":          {"ni une empreinte argon2id ni une empreinte bcrypt", "not an argon2id or bcrypt hash"},
	"argon2_weak":           {"empreinte argon2id trop faible (m=%d Kio, t=%d ; au moins m=%d Kio et m×t ≥ %d)", "argon2id hash too weak (m=%d KiB, t=%d; at least m=%d KiB and m×t ≥ %d)"},
	"argon2_costly":         {"empreinte argon2id trop coûteuse à vérifier à chaque connexion (m=%d Kio, t=%d, p=%d ; au plus m=%d Kio, t=%d, p=%d)", "argon2id hash too costly to verify at each login (m=%d KiB, t=%d, p=%d; at most m=%d KiB, t=%d, p=%d)"},
	"bcrypt_weak":           {"empreinte bcrypt trop faible (coût %d, au moins %d)", "bcrypt hash too weak (cost %d, at least %d)"},
	"bcrypt_costly":         {"empreinte bcrypt trop coûteuse à vérifier à chaque connexion (coût %d, au plus %d)", "bcrypt hash too costly to verify at each login (cost %d, at most %d)"},
	"event_incomplete":      {"l'événement %d n'a pas d'identifiant ou de type", "event %d has no ID or no type"},
	"attribute_key":         {"« %s » n'est pas une clé d'attribut (a-z, 0-9 et . _ -, 1 à %d octets, une lettre d'abord)", "%q is not an attribute key (a-z, 0-9 and . _ -, 1 to %d bytes, a letter first)"},
	"attribute_header":      {"« %s » est l'en-tête d'une colonne du fichier", "%q is the header of one of the file's own columns"},
	"permission_name":       {"permission déclarée n°%d : « %s » n'est pas un nom de permission (a-z, 0-9 et . _ : -, 1 à 64, une lettre d'abord)", "declared permission %d: %q is not a permission name (a-z, 0-9 and . _ : -, 1 to 64, a letter first)"},
	"permission_twice":      {"permission « %s » déclarée deux fois, ou propre à memberkit", "permission %q declared twice, or one of memberkit's"},
	"permission_undeclared": {"« %s » n'est pas une permission déclarée", "%q is not a declared permission"},
	"email_shape":           {"« %s » n'est pas une adresse de la forme nom@domaine", "%q is not an address of the form name@domain"},
	"email_local_long":      {"partie avant @ de plus de 64 octets", "local part longer than 64 bytes"},
	"email_dots":            {"« %s » a des points mal placés", "%q has misplaced dots"},
	"email_char":            {"« %s » contient un caractère interdit dans une adresse", "%q contains a character not allowed in an address"},
	"login_chars":           {"« %s » : seulement a-z, 0-9 et . _ - @ +, une lettre ou un chiffre à chaque bout", "%q: only a-z, 0-9 and . _ - @ + inside, a letter or digit at each end"},
	"login_underivable":     {"impossible à déduire des nom et prénom : indiquez-le", "cannot be derived from the names: give one"},
	"group_label":           {"libellé « %s » : %d caractères au plus", "label %q: at most %d characters"},
	"status_unknown":        {"état « %s » inconnu", "unknown status %q"},
	"role_unknown":          {"pas de rôle « %s » dans cette entreprise", "no role %q in this company"},
	"join_admin":            {"l'adhésion par domaine ne donne jamais le rôle administrateur", "joining by domain never gives the admin role"},
	"join_manager":          {"le rôle « %s » permet %s : l'adhésion par domaine ne donne aucun droit de gestion", "role %q holds %s: joining by domain never gives a management permission"},
	"domain_invalid":        {"« %s » n'est pas un nom de domaine valable", "%q is not a valid domain name"},
	"domain_dot":            {"le domaine « %s » n'a pas de point", "domain %q needs a dot"},
	"domain_char":           {"le domaine « %s » contient « %c »", "domain %q contains %q"},
	"policy_unknown":        {"règle de domaine « %s » inconnue", "unknown domain policy %q"},
	"comma":                 {"« %c » ne peut pas séparer les cellules", "%q cannot separate cells"},
	"no_file":               {"aucun fichier : lisez-en un d'abord", "no file: parse one first"},
	"ttl_range":             {"%s n'est pas entre %s et %s", "%s is not between %s and %s"},

	// Field names ([ValidationError.Field]).
	"field.id":           {"Identifiant interne", "ID"},
	"field.member_limit": {"Nombre de places", "Seats"},
	"field.features":     {"Fonctions", "Features"},
	"field.password":     {"Mot de passe", "Password"},
	"field.events":       {"Événements", "Events"},
	"field.attributes":   {"Attributs", "Attributes"},
	"field.attribute":    {"Attribut %s", "Attribute %s"},
	"field.permissions":  {"Permissions", "Permissions"},
	"field.permission":   {"Permission", "Permission"},
	"field.role_id":      {"Rôle", "Role"},
	"field.role":         {"Rôle", "Role"},
	"field.role_name":    {"Nom du rôle", "Role name"},
	"field.org_name":     {"Nom de l'entreprise", "Company name"},
	"field.email":        {"Adresse e-mail", "Email"},
	"field.login":        {"Identifiant", "Login"},
	"field.groups":       {"Groupes", "Groups"},
	"field.status":       {"État", "Status"},
	"field.user_id":      {"Compte", "Account"},
	"field.domain":       {"Domaine", "Domain"},
	"field.first_name":   {"Prénom", "First name"},
	"field.last_name":    {"Nom", "Last name"},
	"field.comma":        {"Séparateur", "Separator"},
	"field.file":         {"Fichier", "File"},
	"field.policy":       {"Règle", "Policy"},
	"field.ttl":          {"Durée de validité", "Validity"},
	"field.token":        {"Lien", "Link"},
	"field.org":          {"Entreprise", "Company"},
	"field.group":        {"Groupe", "Group"},
	"field.token_name":   {"Nom du jeton", "Token name"},
}

// Message returns the catalogue's text for code in lang, formatted with
// args; a code it does not know is returned as it is.
func Message(lang Lang, code string, args ...any) string {
	m, ok := catalogue[code]
	if !ok {
		if k, csv := strings.CutPrefix(code, "csv."); csv {
			m, ok = csvMessages[k]
		} else if k, ui := strings.CutPrefix(code, "ui."); ui {
			m, ok = screenMessages[k]
		}
		if !ok {
			return code
		}
	}
	f := m[0]
	if lang == English {
		f = m[1]
	}
	if len(args) == 0 {
		return f
	}
	return fmt.Sprintf(f, args...)
}

// FieldName returns how a field is named to people: "Prénom", "Attribut
// site"; a field the catalogue does not know is returned as it is.
func FieldName(lang Lang, field string) string {
	if k, ok := strings.CutPrefix(field, "attributes."); ok {
		return Message(lang, "field.attribute", k)
	}
	if _, ok := catalogue["field."+field]; ok {
		return Message(lang, "field."+field)
	}
	return field
}
