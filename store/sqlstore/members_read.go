package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

const memberCols = `m.id, m.org_id, COALESCE(m.user_key, ''), m.login, m.email, m.first_name, m.last_name, m.role_id, m.status, m.groups_text, m.last_login_at, m.password_hash, m.must_change_password, m.created_at, m.updated_at, m.version, m.security_stamp, m.attributes`

func scanMembers(rows *sql.Rows) ([]membership.Member, error) {
	return scanMembersAfter(rows)
}

// scanMembersAfter reads rows of memberCols preceded by columns scanned
// into lead (the same on every row), and closes them.
func scanMembersAfter(rows *sql.Rows, lead ...any) ([]membership.Member, error) {
	defer rows.Close()
	var out []membership.Member
	for rows.Next() {
		var m membership.Member
		var status, groups, hash, attrs string
		var lastLogin sql.NullInt64
		var created, updated int64
		if err := rows.Scan(append(lead, &m.ID, &m.OrgID, &m.UserID, &m.Login, &m.Email, &m.FirstName, &m.LastName, &m.RoleID,
			&status, &groups, &lastLogin, &hash, &m.MustChangePassword, &created, &updated, &m.Version, &m.SecurityStamp, &attrs)...); err != nil {
			return nil, fmt.Errorf("sqlstore: scan member: %w", err)
		}
		var err error
		if m.Attributes, err = decodeAttributes(attrs); err != nil {
			return nil, fmt.Errorf("sqlstore: member %s: attributes: %w", m.ID, err)
		}
		m.Status = membership.Status(status)
		m.Groups = splitGroups(groups)
		m.PasswordHash = membership.PasswordHash(hash)
		if lastLogin.Valid {
			m.LastLoginAt = fromMicros(lastLogin.Int64)
		}
		m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: read members: %w", err)
	}
	return out, nil
}

func (t *tx) oneMember(ctx context.Context, where string, arg any, what string) (membership.Member, error) {
	if err := t.check(ctx, false); err != nil {
		return membership.Member{}, err
	}
	rows, err := t.q.QueryContext(ctx, t.s.d.rebind(`SELECT `+memberCols+` FROM memberkit_members m WHERE m.org_id = ? AND `+where), t.orgID, arg)
	if err != nil {
		return membership.Member{}, t.fail(ctx, "read member", err)
	}
	ms, err := scanMembers(rows)
	if err != nil {
		return membership.Member{}, ctxErr(ctx, err)
	}
	if len(ms) == 0 {
		return membership.Member{}, fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return ms[0], nil
}

func (t *tx) Member(ctx context.Context, id string) (membership.Member, error) {
	if m, ok := t.cached(id, false); ok {
		return m, t.check(ctx, false)
	}
	m, err := t.oneMember(ctx, "m.id = ?", id, fmt.Sprintf("member %q", id))
	if err == nil && m.ID != id { // a collation that ignores trailing spaces
		return membership.Member{}, fmt.Errorf("member %q: %w", id, store.ErrNotFound)
	}
	return m, err
}

func (t *tx) MemberByLogin(ctx context.Context, login string) (membership.Member, error) {
	return t.oneMember(ctx, "m.login_key = ?", membership.LoginKey(login), fmt.Sprintf("member with login %q", login))
}

func (t *tx) MemberByEmail(ctx context.Context, email string) (membership.Member, error) {
	k := membership.EmailKey(email)
	if k == "" {
		return membership.Member{}, fmt.Errorf("member with email %q: %w", email, store.ErrNotFound)
	}
	return t.oneMember(ctx, "m.email_key = ?", k, fmt.Sprintf("member with email %q", email))
}

func (t *tx) MemberByUserID(ctx context.Context, userID string) (membership.Member, error) {
	if userID == "" {
		return membership.Member{}, fmt.Errorf("member of no user: %w", store.ErrNotFound)
	}
	if m, ok := t.cached(userID, true); ok {
		return m, t.check(ctx, false)
	}
	m, err := t.oneMember(ctx, "m.user_key = ?", userID, fmt.Sprintf("member of user %q", userID))
	if err == nil && m.UserID != userID { // a collation that ignores trailing spaces
		return membership.Member{}, fmt.Errorf("member of user %q: %w", userID, store.ErrNotFound)
	}
	return m, err
}

// likeEscape escapes LIKE wildcards with '!'.
func likeEscape(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}

// memberQuery builds the FROM … WHERE of a member query and the column the
// result is ordered by. ids, when not nil, restricts to those IDs.
func (t *tx) memberQuery(f store.MemberFilter, ids []string, after string) (string, string, []any) {
	var b strings.Builder
	var args []any
	order := "m.login_key"
	switch {
	case f.Group != "" && t.s.d.name() == Postgres:
		// The group's rows in login order, each member by its key: a
		// lateral subquery the planner may not flatten (OFFSET 0), so
		// that no estimate of the member filters turns it into a hash
		// join over the whole org. With a plain join, PostgreSQL chose
		// by status on statistics lagging a bulk import (3.1 s for a
		// 5,000-member group), and with the status as an expression a
		// hash join over all members on fresh statistics (142 ms for
		// 50 rows of an 11,000-member group at 100,000 members; 0.65 ms
		// this way; see BENCHMARKS.md).
		b.WriteString(` FROM memberkit_member_groups g JOIN LATERAL (SELECT * FROM memberkit_members m WHERE m.org_id = g.org_id AND m.id = g.member_id OFFSET 0) m ON TRUE WHERE g.org_id = ? AND g.group_key = ?`)
		args = append(args, t.orgID, membership.GroupKey(f.Group))
		order = "g.login_key"
	case f.Group != "":
		b.WriteString(` FROM memberkit_member_groups g JOIN memberkit_members m ON m.org_id = g.org_id AND m.id = g.member_id WHERE g.org_id = ? AND g.group_key = ?`)
		args = append(args, t.orgID, membership.GroupKey(f.Group))
		order = "g.login_key"
	default:
		b.WriteString(` FROM memberkit_members m WHERE m.org_id = ?`)
		args = append(args, t.orgID)
	}
	if after != "" {
		b.WriteString(" AND " + order + " > ?")
		args = append(args, membership.LoginKey(after))
	}
	if len(f.Statuses) > 0 {
		status := "m.status"
		if f.Group != "" && t.s.d.name() != Postgres {
			// Read through the group's index, each member by its key: as
			// an expression, the status offers the planner no index of
			// its own to prefer.
			status = "COALESCE(m.status, '')"
		}
		b.WriteString(" AND " + status + " IN (" + placeholders(len(f.Statuses)) + ")")
		for _, s := range f.Statuses {
			args = append(args, string(s))
		}
	}
	if f.RoleID != "" {
		b.WriteString(" AND m.role_id = ?")
		args = append(args, f.RoleID)
	}
	if f.Text != "" {
		b.WriteString(" AND m.search_text LIKE ? ESCAPE '!'")
		args = append(args, "%"+likeEscape(membership.SearchQuery(f.Text))+"%")
	}
	if f.UserID != "" {
		b.WriteString(" AND m.user_key = ?")
		args = append(args, f.UserID)
	}
	args = attributeFilter(&b, args, f)
	if ids != nil {
		b.WriteString(" AND m.id IN (" + placeholders(len(ids)) + ")")
		for _, id := range ids {
			args = append(args, id)
		}
	}
	return b.String(), order, args
}

func (t *tx) Members(ctx context.Context, q store.MemberQuery) iter.Seq2[membership.Member, error] {
	if len(q.IDs) > 0 {
		return func(yield func(membership.Member, error) bool) {
			if err := t.check(ctx, false); err != nil {
				yield(membership.Member{}, err)
				return
			}
			ms, err := t.membersByIDs(ctx, q)
			if err != nil {
				yield(membership.Member{}, err)
				return
			}
			for _, m := range ms {
				if !yield(m, nil) {
					return
				}
			}
		}
	}
	return pages(ctx, t, q.After, q.Limit, firstChunk, func(after string, size int) ([]membership.Member, string, error) {
		from, order, args := t.memberQuery(q.MemberFilter, nil, after)
		rows, err := t.q.QueryContext(ctx, t.s.d.rebind(`SELECT `+memberCols+from+` ORDER BY `+order+fmt.Sprintf(` LIMIT %d`, size)), args...)
		if err != nil {
			return nil, "", t.fail(ctx, "list members", err)
		}
		ms, err := scanMembers(rows)
		if err != nil || len(ms) == 0 {
			return ms, "", ctxErr(ctx, err)
		}
		return ms, ms[len(ms)-1].Login, nil
	})
}

func (t *tx) membersByIDs(ctx context.Context, q store.MemberQuery) ([]membership.Member, error) {
	ids := slices.Clone(q.IDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var out []membership.Member
	for part := range slices.Chunk(ids, 500) {
		from, _, args := t.memberQuery(q.MemberFilter, part, q.After)
		rows, err := t.q.QueryContext(ctx, t.s.d.rebind(`SELECT `+memberCols+from), args...)
		if err != nil {
			return nil, t.fail(ctx, "list members", err)
		}
		ms, err := scanMembers(rows)
		if err != nil {
			return nil, ctxErr(ctx, err)
		}
		out = append(out, ms...)
	}
	slices.SortFunc(out, func(a, b membership.Member) int {
		return cmp.Compare(membership.LoginKey(a.Login), membership.LoginKey(b.Login))
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func (t *tx) CountMembers(ctx context.Context, f store.MemberFilter) (int, error) {
	if err := t.check(ctx, false); err != nil {
		return 0, err
	}
	parts := [][]string{nil}
	if len(f.IDs) > 0 {
		ids := slices.Clone(f.IDs)
		slices.Sort(ids)
		parts = slices.Collect(slices.Chunk(slices.Compact(ids), 500))
	}
	total := 0
	for _, part := range parts {
		from, _, args := t.memberQuery(f, part, "")
		var n int
		if err := t.q.QueryRowContext(ctx, t.s.d.rebind(`SELECT COUNT(*)`+from), args...).Scan(&n); err != nil {
			return 0, t.fail(ctx, "count members", err)
		}
		total += n
	}
	return total, nil
}

func (t *tx) MemberSummaries(ctx context.Context) iter.Seq2[store.MemberSummary, error] {
	return func(yield func(store.MemberSummary, error) bool) {
		for d, err := range t.roster(ctx, false) {
			if !yield(d.MemberSummary, err) || err != nil {
				return
			}
		}
	}
}

func (t *tx) MemberDetails(ctx context.Context) iter.Seq2[store.MemberDetail, error] {
	return t.roster(ctx, true)
}

// roster reads the whole roster, with groups and attributes when details
// is set: big chunks from the start, in ID order, which is the order rows
// were stored in (IDs are UUIDv7), so that the table is read front to
// back rather than in login order.
func (t *tx) roster(ctx context.Context, details bool) iter.Seq2[store.MemberDetail, error] {
	cols := `id, login, email, first_name, last_name, role_id, status, version`
	if details {
		cols += `, groups_text, attributes`
	}
	return pages(ctx, t, "", 0, maxChunk, func(after string, size int) ([]store.MemberDetail, string, error) {
		q := `SELECT ` + cols + ` FROM memberkit_members WHERE org_id = ?`
		args := []any{t.orgID}
		if after != "" {
			q += ` AND id > ?`
			args = append(args, after)
		}
		rows, err := t.q.QueryContext(ctx, t.s.d.rebind(q+fmt.Sprintf(` ORDER BY id LIMIT %d`, size)), args...)
		if err != nil {
			return nil, "", t.fail(ctx, "list members", err)
		}
		defer rows.Close()
		out := make([]store.MemberDetail, 0, size)
		for rows.Next() {
			var m store.MemberDetail
			var status, groups, attrs string
			dest := []any{&m.ID, &m.Login, &m.Email, &m.FirstName, &m.LastName, &m.RoleID, &status, &m.Version}
			if details {
				dest = append(dest, &groups, &attrs)
			}
			if err := rows.Scan(dest...); err != nil {
				return nil, "", ctxErr(ctx, fmt.Errorf("sqlstore: scan member: %w", err))
			}
			m.Status, m.Groups = membership.Status(status), splitGroups(groups)
			if m.Attributes, err = decodeAttributes(attrs); err != nil {
				return nil, "", fmt.Errorf("sqlstore: member %s: attributes: %w", m.ID, err)
			}
			out = append(out, m)
		}
		if err := rows.Err(); err != nil {
			return nil, "", ctxErr(ctx, fmt.Errorf("sqlstore: read members: %w", err))
		}
		if len(out) == 0 {
			return out, "", nil
		}
		return out, out[len(out)-1].ID, nil
	})
}

type current struct {
	version    int64
	loginKey   string
	groups     string
	attributes string
}

func (t *tx) currentVersions(ctx context.Context, ids []string) (map[string]current, error) {
	out := make(map[string]current, len(ids))
	for part := range slices.Chunk(ids, 500) {
		args := make([]any, 0, len(part)+1)
		args = append(args, t.orgID)
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := t.q.QueryContext(ctx, t.s.d.rebind(`SELECT id, version, login_key, groups_text, attributes FROM memberkit_members WHERE org_id = ? AND id IN (`+placeholders(len(part))+`)`), args...)
		if err != nil {
			return nil, t.fail(ctx, "read versions", err)
		}
		for rows.Next() {
			var id string
			var c current
			if err := rows.Scan(&id, &c.version, &c.loginKey, &c.groups, &c.attributes); err != nil {
				rows.Close()
				return nil, t.fail(ctx, "read versions", err)
			}
			out[id] = c
		}
		if err := rows.Close(); err != nil {
			return nil, t.fail(ctx, "read versions", err)
		}
		if err := rows.Err(); err != nil {
			return nil, t.fail(ctx, "read versions", err)
		}
	}
	return out, nil
}
