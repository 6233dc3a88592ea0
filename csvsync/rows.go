package csvsync

import (
	"strings"
	"unicode/utf8"

	"github.com/memberkit/memberkit/membership"
)

// readRow validates one data record of the file into a Row; problems go
// to probs with the record's line and the cell's column.
func (f *File) readRow(rec []string, idx [numColumns]int, line int, o ParseOptions, probs *problems) Row {
	row := Row{Line: line}
	get := func(c column) string {
		if i := idx[c]; i >= 0 && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	text := func(c column) string { return unneutralize(strings.TrimSpace(get(c))) }
	var err2 error
	if row.LastName, err2 = membership.ValidateName("last_name", text(colLastName)); err2 != nil {
		nameProblem(probs, line, f.colName[colLastName], text(colLastName), err2)
	}
	if row.FirstName, err2 = membership.ValidateName("first_name", text(colFirstName)); err2 != nil {
		nameProblem(probs, line, f.colName[colFirstName], text(colFirstName), err2)
	}
	if v := text(colEmail); v != "" {
		if row.Email, err2 = membership.ValidateEmail(v); err2 != nil {
			probs.add(line, f.colName[colEmail], "email", v)
		}
	}
	if v := text(colLogin); v != "" {
		if row.Login, err2 = membership.ValidateLogin(v); err2 != nil {
			probs.add(line, f.colName[colLogin], "login", v)
		}
	} else if row.FirstName != "" && row.LastName != "" && membership.DefaultLogin(row.FirstName, row.LastName) == "" {
		probs.add(line, f.colName[colLogin], "no_login")
	}
	if v := strings.TrimSpace(get(colStatus)); v == "" {
		probs.add(line, f.colName[colStatus], "required")
	} else if st, ok := parseStatus(v, o.Labels); ok {
		row.Status = st
	} else {
		probs.add(line, f.colName[colStatus], "status", v)
	}
	pw := get(colPassword)
	switch t := strings.TrimSpace(pw); {
	case t == "":
		row.PassKind = PasswordBlank
	case isPlaceholder(t):
		row.PassKind = PasswordPlaceholder
	case membership.IsPasswordHash(t):
		row.PassKind, row.Password = PasswordHashed, Secret(t)
	default:
		if !utf8.ValidString(pw) {
			probs.add(line, f.colName[colPassword], "password_utf8")
		} else if err := membership.ValidatePassword(pw); err != nil {
			probs.add(line, f.colName[colPassword], "password", membership.MinPasswordLen)
		}
		row.PassKind, row.Password = PasswordPlain, Secret(pw)
	}

	if f.HasRole {
		row.Role = text(colRole)
	}
	if f.HasGroups {
		var err error
		if row.Groups, err = membership.ValidateGroups(splitGroups(text(colGroups))); err != nil {
			probs.add(line, f.colName[colGroups], "groups", reasonIn(err, probs.lang))
		}
	}
	return row
}

// splitGroups reads a Groupes cell: one label per line when the cell has
// several lines (what the export writes when a label holds a comma),
// else labels separated by commas (what people type).
func splitGroups(cell string) []string {
	if cell == "" {
		return nil
	}
	if strings.ContainsAny(cell, "\r\n") {
		return strings.FieldsFunc(cell, func(r rune) bool { return r == '\n' || r == '\r' })
	}
	return strings.Split(cell, ",")
}

// joinGroups writes a Groupes cell that splitGroups reads back exactly:
// labels separated by ", ", or one per line when a label holds a comma
// (labels never hold a line break).
func joinGroups(groups []string) string {
	for _, g := range groups {
		if strings.Contains(g, ",") {
			return strings.Join(groups, "\n")
		}
	}
	return strings.Join(groups, ", ")
}
