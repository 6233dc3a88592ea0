package sqlstore

import (
	"strings"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// The batch UPDATEs of PostgreSQL (postgres_bulk.go) and MySQL
// (mysql_bulk.go) join the members to a set of rows v, one per member
// written, and assign from them: the shapes of those rows and the
// assignments are the same on both, only the statement around them
// differs.

// writeCols are the columns of writeRow, as a batch UPDATE reads them.
const writeCols = `org_id, id, version, user_id, user_key, attributes, login, login_key, email, email_key, first_name, last_name, role_id, status, groups_text, search_text, last_login_at, password_hash, must_change_password, updated_at, security_stamp`

// writeRow is a whole member's write in the order of writeCols.
func writeRow(m *membership.Member) []any {
	return []any{m.OrgID, m.ID, m.Version, m.UserID, nullString(m.UserID), encodeAttributes(m.Attributes), m.Login, membership.LoginKey(m.Login), m.Email, nullString(membership.EmailKey(m.Email)),
		m.FirstName, m.LastName, m.RoleID, string(m.Status), joinGroups(m.Groups), membership.SearchText(*m),
		nullMicros(m.LastLoginAt), string(m.PasswordHash), m.MustChangePassword, micros(m.UpdatedAt), m.SecurityStamp}
}

// memberSets assign a whole member from its row v, matched at the
// version v carries.
var memberSets = [][2]string{
	{"user_id", "v.user_id"}, {"user_key", "v.user_key"}, {"attributes", "v.attributes"}, {"login", "v.login"}, {"login_key", "v.login_key"},
	{"email", "v.email"}, {"email_key", "v.email_key"}, {"first_name", "v.first_name"}, {"last_name", "v.last_name"}, {"role_id", "v.role_id"},
	{"status", "v.status"}, {"groups_text", "v.groups_text"}, {"search_text", "v.search_text"}, {"last_login_at", "v.last_login_at"},
	{"password_hash", "v.password_hash"}, {"must_change_password", "v.must_change_password"}, {"updated_at", "v.updated_at"},
	{"security_stamp", "v.security_stamp"}, {"version", "v.version + 1"},
}

// patchCols are the columns of patchRow.
const patchCols = `org_id, id, version, login_key, email, email_key, first_name, last_name, status, search_text, updated_at, password_hash, security_stamp, set_attributes, attributes, role_id, set_groups, groups_text`

// patchRow is a patch of a member of org orgID in the order of patchCols.
func patchRow(orgID string, p *store.MemberPatch) []any {
	return []any{orgID, p.ID, p.Version, membership.LoginKey(p.Login), p.Email, nullString(membership.EmailKey(p.Email)), p.FirstName, p.LastName,
		string(p.Status), patchSearchText(p), micros(p.UpdatedAt), nullString(string(p.PasswordHash)), nullString(p.SecurityStamp),
		p.SetAttributes, encodeAttributes(p.Attributes), nullString(p.RoleID), p.SetGroups, joinGroups(p.Groups)}
}

// patchSets assign a patch from its row v to the member m it matched.
// Each reads no column of m but its own, so that the order in which the
// database makes them (MySQL does not promise one in a multi-table
// UPDATE) cannot matter.
var patchSets = [][2]string{
	{"email", "v.email"}, {"email_key", "v.email_key"}, {"first_name", "v.first_name"}, {"last_name", "v.last_name"},
	{"status", "v.status"}, {"search_text", "v.search_text"}, {"updated_at", "v.updated_at"},
	{"password_hash", "COALESCE(v.password_hash, m.password_hash)"},
	{"must_change_password", "m.must_change_password AND v.password_hash IS NULL"},
	{"security_stamp", "COALESCE(v.security_stamp, m.security_stamp)"},
	{"attributes", "CASE WHEN v.set_attributes THEN v.attributes ELSE m.attributes END"},
	{"role_id", "COALESCE(v.role_id, m.role_id)"},
	{"groups_text", "CASE WHEN v.set_groups THEN v.groups_text ELSE m.groups_text END"},
	{"version", "m.version + 1"},
}

// setClause renders assignments as "col = expr, …", each column after
// prefix ("m." where the statement names two tables).
func setClause(prefix string, sets [][2]string) string {
	var b strings.Builder
	for i, s := range sets {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(prefix + s[0] + " = " + s[1])
	}
	return b.String()
}
