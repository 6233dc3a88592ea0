package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

const insertMemberCols = `org_id, id, user_id, user_key, login, login_key, email, email_key, first_name, last_name, role_id, status, groups_text, search_text, last_login_at, password_hash, must_change_password, created_at, updated_at, version, security_stamp, attributes`

const nInsertMemberCols = 22

// memberArgs are a member's values in the order of insertMemberCols. The
// user ID is written twice: user_key is the unique, indexed link (NULL
// for none); user_id keeps what version 4 of the schema held.
func memberArgs(m *membership.Member, version int64) []any {
	return []any{m.OrgID, m.ID, m.UserID, nullString(m.UserID), m.Login, membership.LoginKey(m.Login), m.Email, nullString(membership.EmailKey(m.Email)),
		m.FirstName, m.LastName, m.RoleID, string(m.Status), joinGroups(m.Groups), membership.SearchText(*m),
		nullMicros(m.LastLoginAt), string(m.PasswordHash), m.MustChangePassword, micros(m.CreatedAt), micros(m.UpdatedAt), version, m.SecurityStamp,
		encodeAttributes(m.Attributes)}
}

func (t *tx) checkOwn(ms []membership.Member) error {
	for i := range ms {
		if ms[i].ID == "" || ms[i].OrgID != t.orgID {
			return fmt.Errorf("sqlstore: member %q of org %q written in org %q: %w", ms[i].ID, ms[i].OrgID, t.orgID, store.ErrNotFound)
		}
	}
	return nil
}

// batchDuplicates finds two members of one batch sharing a login, email
// or user ID.
func batchDuplicates(ms []membership.Member) error {
	logins := make(map[string]bool, len(ms))
	emails := make(map[string]bool, len(ms))
	users := make(map[string]bool)
	ids := make(map[string]bool, len(ms))
	for _, m := range ms {
		if ids[m.ID] {
			return &membership.DuplicateError{Key: "id", Value: m.ID}
		}
		ids[m.ID] = true
		lk := membership.LoginKey(m.Login)
		if lk == "" || logins[lk] {
			return &membership.DuplicateError{Key: "login", Value: m.Login}
		}
		logins[lk] = true
		if ek := membership.EmailKey(m.Email); ek != "" {
			if emails[ek] {
				return &membership.DuplicateError{Key: "email", Value: m.Email}
			}
			emails[ek] = true
		}
		if m.UserID != "" {
			if users[m.UserID] {
				return &membership.DuplicateError{Key: "user_id", Value: m.UserID}
			}
			users[m.UserID] = true
		}
	}
	return nil
}

func (t *tx) InsertMembers(ctx context.Context, ms []membership.Member) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if len(ms) == 0 {
		return nil
	}
	if err := t.checkOwn(ms); err != nil {
		return err
	}
	if err := batchDuplicates(ms); err != nil {
		return err
	}
	if err := t.insertRows(ctx, "memberkit_members", insertMemberCols, nInsertMemberCols, len(ms), func(i int) []any {
		return memberArgs(&ms[i], 1)
	}); err != nil {
		if t.s.d.isUnique(err) {
			return duplicate(err, "id", "")
		}
		return t.fail(ctx, "insert members", err)
	}
	var groups, attrs [][4]string
	for i := range ms {
		groups = appendGroupRows(groups, &ms[i])
		attrs = appendAttributeRows(attrs, &ms[i])
	}
	if err := t.insertGroups(ctx, groups); err != nil {
		return err
	}
	return t.insertAttributes(ctx, attrs)
}

func appendGroupRows(rows [][4]string, m *membership.Member) [][4]string {
	seen := map[string]bool{}
	lk := membership.LoginKey(m.Login)
	for _, g := range m.Groups {
		k := membership.GroupKey(g)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		rows = append(rows, [4]string{m.OrgID, k, lk, m.ID})
	}
	return rows
}

func (t *tx) insertGroups(ctx context.Context, rows [][4]string) error {
	if len(rows) == 0 {
		return nil
	}
	err := t.insertRows(ctx, "memberkit_member_groups", "org_id, group_key, login_key, member_id", 4, len(rows), func(i int) []any {
		return []any{rows[i][0], rows[i][1], rows[i][2], rows[i][3]}
	})
	if err != nil {
		return t.fail(ctx, "insert member groups", err)
	}
	return nil
}

// insertRows writes n rows with the dialect's fastest batch insert.
func (t *tx) insertRows(ctx context.Context, table, cols string, ncols, n int, row func(i int) []any) error {
	return t.s.d.insertRows(ctx, t, table, cols, ncols, n, row)
}

func (t *tx) UpdateMembers(ctx context.Context, ms []membership.Member) error {
	if t.unlocked {
		if err := t.checkEdit(ctx); err != nil {
			return err
		}
		return t.editMembers(ctx, ms)
	}
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if len(ms) == 0 {
		return nil
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		if m.OrgID != t.orgID {
			return fmt.Errorf("member %q: %w", m.ID, store.ErrNotFound)
		}
		ids[i] = m.ID
	}
	if t.deferUpdate(ms) {
		return nil
	}
	cur := t.knownVersions(ids)
	if cur == nil {
		var err error
		if cur, err = t.currentVersions(ctx, ids); err != nil {
			return err
		}
	}
	seen := make(map[string]bool, len(ms))
	for _, m := range ms {
		c, ok := cur[m.ID]
		if !ok {
			return fmt.Errorf("member %q: %w", m.ID, store.ErrNotFound)
		}
		if seen[m.ID] {
			return fmt.Errorf("sqlstore: member %q twice in one batch", m.ID)
		}
		seen[m.ID] = true
		if c.version != m.Version {
			return fmt.Errorf("member %q has version %d, write carries %d: %w", m.ID, c.version, m.Version, store.ErrConflict)
		}
	}
	t.forget(ids...)
	if err := t.s.d.updateMembers(ctx, t, ms); err != nil {
		return err
	}
	// Group rows follow a changed login or group list, attribute rows
	// changed attributes.
	var changed, attrs [][4]string
	var regroup, reattr []string
	for i := range ms {
		m := &ms[i]
		c := cur[m.ID]
		if c.loginKey != membership.LoginKey(m.Login) || c.groups != joinGroups(m.Groups) {
			regroup = append(regroup, m.ID)
			changed = appendGroupRows(changed, m)
		}
		if c.attributes != encodeAttributes(m.Attributes) {
			reattr = append(reattr, m.ID)
			attrs = appendAttributeRows(attrs, m)
		}
	}
	if err := t.deleteRowsOf(ctx, "memberkit_member_groups", regroup); err != nil {
		return err
	}
	if err := t.insertGroups(ctx, changed); err != nil {
		return err
	}
	return t.rewriteAttributes(ctx, reattr, attrs)
}

// deleteRowsOf deletes the rows of members from a side table (groups,
// attributes).
func (t *tx) deleteRowsOf(ctx context.Context, table string, memberIDs []string) error {
	for part := range slices.Chunk(memberIDs, 500) {
		args := make([]any, 0, len(part)+1)
		args = append(args, t.orgID)
		for _, id := range part {
			args = append(args, id)
		}
		if _, err := t.q.ExecContext(ctx, t.s.d.rebind(`DELETE FROM `+table+` WHERE org_id = ? AND member_id IN (`+placeholders(len(part))+`)`), args...); err != nil {
			return t.fail(ctx, "update "+table, err)
		}
	}
	return nil
}

// batchCulprit is the member a multi-row statement's uniqueness error can
// be pinned on: the only one of a batch of one, none otherwise (PostgreSQL
// does not say which row of the batch collided).
func batchCulprit(n int, m membership.Member) *membership.Member {
	if n == 1 {
		return &m
	}
	return &membership.Member{}
}

func (t *tx) updateError(ctx context.Context, err error, m *membership.Member) error {
	if t.s.d.isUnique(err) {
		v := m.Login
		switch msg := err.Error(); {
		case strings.Contains(msg, "email"):
			v = m.Email
		case strings.Contains(msg, "user"):
			v = m.UserID
		}
		return duplicate(err, "id", v)
	}
	return t.fail(ctx, "update members", err)
}

// updateMembersEach runs one prepared UPDATE per member: the fastest way
// on SQLite, and the portable one.
func updateMembersEach(ctx context.Context, t *tx, ms []membership.Member) error {
	return updateEach(ctx, t, ms, `UPDATE memberkit_members SET user_id = ?, user_key = ?, attributes = ?, login = ?, login_key = ?, email = ?, email_key = ?, first_name = ?, last_name = ?, role_id = ?, status = ?, groups_text = ?, search_text = ?, last_login_at = ?, password_hash = ?, must_change_password = ?, updated_at = ?, version = ?, security_stamp = ? WHERE org_id = ? AND id = ? AND version = ?`,
		func(m *membership.Member) []any {
			return []any{m.UserID, nullString(m.UserID), encodeAttributes(m.Attributes), m.Login, membership.LoginKey(m.Login), m.Email, nullString(membership.EmailKey(m.Email)),
				m.FirstName, m.LastName, m.RoleID, string(m.Status), joinGroups(m.Groups), membership.SearchText(*m),
				nullMicros(m.LastLoginAt), string(m.PasswordHash), m.MustChangePassword, micros(m.UpdatedAt), m.Version + 1, m.SecurityStamp,
				t.orgID, m.ID, m.Version}
		})
}

// updateKeptEach writes members whose keys the transaction read and keeps
// (its deferred writes: see keepsKeys) without setting their key columns:
// SQLite rewrites the entries of every index on a column an UPDATE sets,
// changed or not, and the three unique keys were most of a Deactivate's
// write.
func updateKeptEach(ctx context.Context, t *tx, ms []membership.Member) error {
	return updateEach(ctx, t, ms, `UPDATE memberkit_members SET user_id = ?, attributes = ?, login = ?, email = ?, first_name = ?, last_name = ?, role_id = ?, status = ?, groups_text = ?, search_text = ?, last_login_at = ?, password_hash = ?, must_change_password = ?, updated_at = ?, version = ?, security_stamp = ? WHERE org_id = ? AND id = ? AND version = ?`,
		func(m *membership.Member) []any {
			return []any{m.UserID, encodeAttributes(m.Attributes), m.Login, m.Email,
				m.FirstName, m.LastName, m.RoleID, string(m.Status), joinGroups(m.Groups), membership.SearchText(*m),
				nullMicros(m.LastLoginAt), string(m.PasswordHash), m.MustChangePassword, micros(m.UpdatedAt), m.Version + 1, m.SecurityStamp,
				t.orgID, m.ID, m.Version}
		})
}

// updateEach runs query, prepared once, for each member with args(m),
// each at the Version it carries.
func updateEach(ctx context.Context, t *tx, ms []membership.Member, query string, args func(m *membership.Member) []any) error {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return t.fail(ctx, "update members", err)
	}
	for i := range ms {
		m := &ms[i]
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		res, err := st.ExecContext(ctx, args(m)...)
		if err != nil {
			return t.updateError(ctx, err, m)
		}
		if n, err := res.RowsAffected(); err == nil && n != 1 {
			return fmt.Errorf("member %q changed meanwhile: %w", m.ID, store.ErrConflict)
		}
	}
	return nil
}

func (t *tx) PatchMembers(ctx context.Context, ps []store.MemberPatch) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	seen := make(map[string]bool, len(ps))
	var reattr, regroup []string
	var attrs, groups [][4]string
	for i := range ps {
		p := &ps[i]
		if seen[p.ID] {
			return fmt.Errorf("sqlstore: member %q twice in one batch", p.ID)
		}
		seen[p.ID] = true
		t.forget(p.ID)
		m := &membership.Member{OrgID: t.orgID, ID: p.ID, Login: p.Login, Attributes: p.Attributes, Groups: p.Groups}
		if p.SetAttributes {
			reattr = append(reattr, p.ID)
			attrs = appendAttributeRows(attrs, m)
		}
		if p.SetGroups {
			regroup = append(regroup, p.ID)
			groups = appendGroupRows(groups, m)
		}
	}
	if err := t.s.d.patchMembers(ctx, t, ps); err != nil {
		return err
	}
	if err := t.deleteRowsOf(ctx, "memberkit_member_groups", regroup); err != nil {
		return err
	}
	if err := t.insertGroups(ctx, groups); err != nil {
		return err
	}
	return t.rewriteAttributes(ctx, reattr, attrs)
}

// patchMembersEach runs one prepared UPDATE per patch: SQLite's fastest
// way, and the portable one.
func patchMembersEach(ctx context.Context, t *tx, ps []store.MemberPatch) error {
	var plain, withHash *sql.Stmt
	for i := range ps {
		p := &ps[i]
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		args := []any{p.Email, nullString(membership.EmailKey(p.Email)), p.FirstName, p.LastName, string(p.Status), patchSearchText(p), micros(p.UpdatedAt), p.SecurityStamp,
			p.SetAttributes, encodeAttributes(p.Attributes), p.RoleID, p.SetGroups, joinGroups(p.Groups)}
		var st *sql.Stmt
		var err error
		if p.PasswordHash == "" {
			if plain == nil {
				plain, err = t.stmt(ctx, `UPDATE memberkit_members SET email = ?, email_key = ?, first_name = ?, last_name = ?, status = ?, search_text = ?, updated_at = ?, security_stamp = COALESCE(NULLIF(?, ''), security_stamp), attributes = CASE WHEN ? THEN ? ELSE attributes END, role_id = COALESCE(NULLIF(?, ''), role_id), groups_text = CASE WHEN ? THEN ? ELSE groups_text END, version = version + 1 WHERE org_id = ? AND id = ? AND version = ? AND login_key = ?`)
			}
			st = plain
		} else {
			if withHash == nil {
				withHash, err = t.stmt(ctx, `UPDATE memberkit_members SET email = ?, email_key = ?, first_name = ?, last_name = ?, status = ?, search_text = ?, updated_at = ?, security_stamp = COALESCE(NULLIF(?, ''), security_stamp), attributes = CASE WHEN ? THEN ? ELSE attributes END, role_id = COALESCE(NULLIF(?, ''), role_id), groups_text = CASE WHEN ? THEN ? ELSE groups_text END, version = version + 1, password_hash = ?, must_change_password = ? WHERE org_id = ? AND id = ? AND version = ? AND login_key = ?`)
			}
			st = withHash
			args = append(args, string(p.PasswordHash), false)
		}
		if err != nil {
			return t.fail(ctx, "patch members", err)
		}
		res, err := st.ExecContext(ctx, append(args, t.orgID, p.ID, p.Version, membership.LoginKey(p.Login))...)
		if err != nil {
			return t.updateError(ctx, err, &membership.Member{Login: p.Login, Email: p.Email})
		}
		if n, err := res.RowsAffected(); err == nil && n != 1 {
			return t.patchMismatch(ctx, ps[i:i+1])
		}
	}
	return nil
}

func patchSearchText(p *store.MemberPatch) string {
	return membership.SearchText(membership.Member{FirstName: p.FirstName, LastName: p.LastName, Login: p.Login, Email: p.Email})
}

// patchMismatch says which patch of ps no longer matches its member, once
// an UPDATE has touched fewer rows than it should.
func (t *tx) patchMismatch(ctx context.Context, ps []store.MemberPatch) error {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	cur, err := t.currentVersions(ctx, ids)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if _, ok := cur[p.ID]; !ok {
			return fmt.Errorf("member %q: %w", p.ID, store.ErrNotFound)
		}
	}
	for _, p := range ps {
		// A patch the statement applied shows Version+1.
		if c := cur[p.ID]; c.version != p.Version+1 || c.loginKey != membership.LoginKey(p.Login) {
			return fmt.Errorf("member %q has version %d, patch carries %d: %w", p.ID, c.version, p.Version, store.ErrConflict)
		}
	}
	return fmt.Errorf("sqlstore: %d members changed meanwhile: %w", len(ps), store.ErrConflict)
}
