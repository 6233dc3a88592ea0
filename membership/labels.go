package membership

// Labels are a host's own words for what memberkit shows people: the
// statuses ("Actif" where memberkit says "Activé") and the names of the
// built-in roles, for one language. What they leave out reads as
// memberkit says it. The zero Labels use memberkit's words.
type Labels struct {
	Status map[Status]string
	Roles  map[string]string // built-in role ID → name
}

// StatusLabel returns how s is shown: the host's word, else
// [Status.Label] in lang.
func (l Labels) StatusLabel(s Status, lang Lang) string {
	if w, ok := l.Status[s]; ok && w != "" {
		return w
	}
	return s.Label(lang)
}

// RoleName returns how r is named: the host's word for a built-in role,
// else memberkit's name for it in lang ("Administrateur",
// "Administrator"), else the custom role's own name.
func (l Labels) RoleName(r Role, lang Lang) string {
	if w, ok := l.Roles[r.ID]; ok && w != "" {
		return w
	}
	switch r.ID {
	case RoleAdmin:
		return pick(lang != English, "Administrateur", "Administrator")
	case RoleUser:
		return pick(lang != English, "Utilisateur", "User")
	}
	return r.Name
}

// ParseStatus reads a status as people write it: the host's words first,
// then those [ParseStatus] knows.
func (l Labels) ParseStatus(s string) (Status, error) {
	k := foldKey(s)
	for st, w := range l.Status {
		if w != "" && foldKey(w) == k {
			return st, nil
		}
	}
	return ParseStatus(s)
}
