// Package csvsync keeps an org's roster in step with a CSV file, the way
// coordinators work: export the members, edit the file in a spreadsheet,
// import it back. Members in the file and not in the org are added, those
// in both are updated, and those absent from the file are deactivated.
//
// # Export
//
// [Service.Export] streams the roster as
//
//	Identifiant;Nom;Prénom;Adresse e-mail;Mot de passe;Etat;Rôle;Groupes
//
// (then the attribute columns ExportOptions.Attributes names) in UTF-8
// with a BOM and ";" separators, so that a French spreadsheet
// opens it as is (English headers, another separator and no BOM are
// options). The password column holds the placeholder "Mot de passe crypté",
// never a hash. Cells a spreadsheet would run as a formula (starting with
// =, +, -, @, a tab or a carriage return) are prefixed with an apostrophe,
// which the import removes, so that a round trip is exact.
//
// # Import: parse, plan, apply
//
// [Parse] reads a file as real spreadsheets save it: UTF-8 with or without
// BOM, UTF-16 with a BOM (Excel's "Texte Unicode") or Windows-1252, ";",
// "," or tab separators (detected from the header), CRLF or LF, quoted
// cells with separators and line breaks inside. The encoding is decided
// for the whole file from its first 64 KiB (a byte order mark, or bytes
// that are not UTF-8 with no UTF-8 sequence among them for
// Windows-1252); bytes not valid in it are a problem at their line and
// column, never a replacement character stored. Every row is validated and every
// problem reported with its line and column, in French or English.
//
// # Columns
//
// Nom, Prénom and Etat are required; the others are optional, and a
// column that is absent leaves its field as it is. Headers are matched
// whatever their case, accents, spaces, punctuation, order and a trailing
// "*" or "(obligatoire)"/"(required)"; these spellings are read:
//
//	Identifiant   identifiant, identifiant de connexion, login, username, utilisateur, user id
//	Nom           nom, nom de famille, last name, surname, family name
//	Prénom        prénom, first name, given name
//	Adresse e-mail  adresse e-mail, adresse mail, email, mail, courriel, email address, adresse électronique
//	Mot de passe  mot de passe, password, mdp, pass
//	Etat          état, status, statut, state, actif
//	Rôle          rôle, role
//	Groupes       groupes, groups
//
// Etat reads Activé/Désactivé, actif/inactif, active/inactive, oui/non,
// yes/no, 1/0 and the host's own words (ParseOptions.Labels). Rôle names a
// role by its ID or its name (a built-in role's in French or English); a
// blank cell keeps the member's role, or gives a new member the plan's.
// Groupes lists labels separated by commas, or one per line (the export
// writes one per line when a label holds a comma); a blank cell, in a
// Groupes column, means no group. Rôle and Groupes read only these
// spellings, so that a file's own "Profil" or "Équipe" column is not
// taken for them. Columns named in ParseOptions.Attributes carry member
// attributes. Any other column is ignored and reported.
//
// [Service.Plan] matches rows to members — by Identifiant, else by email,
// else by the default login prenom.nom — and classifies each row (add,
// update with the fields before and after, reactivate, deactivate,
// unchanged) and each active member absent from the file (deactivate). An
// ambiguous file is refused, never guessed: two rows for one member, or a
// row matching two members, is an error naming the lines. The seat limit,
// the last-admin rule and a guard against mass deactivation (a truncated
// file must not wipe a company) are checked on the plan. Passwords are
// hashed here, in parallel, before any lock is taken: a blank password or
// the export placeholder costs nothing.
//
// Rows are bounded as they are read: a cell of more than twice
// ParseOptions.MaxFieldLen bytes, or a line of more than MaxColumns cells,
// stops the reading at once with the line named, so a hostile file costs
// no more memory than its first bounded cells; messages show at most an
// excerpt of what the file held. Password hashes in the file must be
// strong (bcrypt cost 10 or more, argon2id with OWASP's parameters) unless
// PlanOptions.AllowWeakHashes says otherwise.
//
// The plan applies the rules of least privilege: a member actor may only
// change, re-password or deactivate members whose role's every permission
// it holds (other rows are problems naming their line, and the error
// matches [membership.ErrForbidden]), may only give a role it holds
// entirely, by the Rôle column or as new members' default, and never
// changes its own role. Apply checks the actor's power again.
//
// [Service.Apply] writes the plan in one store transaction, all or
// nothing, and refuses a plan made stale by changes since
// ([ErrStalePlan]). Applying the same file twice changes nothing the
// second time.
package csvsync
