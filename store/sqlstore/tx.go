package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// A streaming read fetches rows by keyset chunks: the first of firstChunk
// rows, each next one twice as large up to maxChunk. Each chunk is read
// whole before it is yielded, so callers may use the Tx while iterating,
// on every driver; growing chunks keep the number of queries of a long
// stream small (17 for 200,000 rows) and a short one cheap.
const (
	firstChunk = 1000
	maxChunk   = 16000
)

type tx struct {
	s        *Store
	q        querier
	orgID    string
	readOnly bool
	done     bool
	stmts    map[string]*sql.Stmt
}

func (t *tx) close() {
	if t.done {
		return
	}
	t.done = true
	for _, st := range t.stmts {
		_ = st.Close()
	}
	t.stmts = nil
}

func (t *tx) check(ctx context.Context, write bool) error {
	if t.done {
		return errors.New("sqlstore: transaction used after it ended")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if write && t.readOnly {
		return errors.New("sqlstore: write in a View")
	}
	return nil
}

// stmt returns a statement prepared once per transaction.
func (t *tx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := t.stmts[query]; ok {
		return st, nil
	}
	st, err := t.q.PrepareContext(ctx, t.s.d.rebind(query))
	if err != nil {
		return nil, err
	}
	if t.stmts == nil {
		t.stmts = make(map[string]*sql.Stmt)
	}
	t.stmts[query] = st
	return st, nil
}

func (t *tx) fail(ctx context.Context, what string, err error) error {
	return ctxErr(ctx, fmt.Errorf("sqlstore: %s: %w", what, err))
}

func (t *tx) OrgID() string { return t.orgID }

func (t *tx) Org(ctx context.Context) (membership.Org, error) {
	if err := t.check(ctx, false); err != nil {
		return membership.Org{}, err
	}
	return readOrg(ctx, t.s.d, t.q, t.orgID, "")
}

func (t *tx) PutOrg(ctx context.Context, org membership.Org) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if org.ID != t.orgID {
		return fmt.Errorf("org %q: %w", org.ID, store.ErrNotFound)
	}
	if err := membership.ValidateOrg(&org); err != nil {
		return err
	}
	_, err := t.q.ExecContext(ctx, t.s.d.rebind(`UPDATE memberkit_orgs SET name = ?, plan_name = ?, member_limit = ?, features = ?, roster_version = ?, updated_at = ? WHERE id = ?`),
		org.Name, org.Plan.Name, org.Plan.MemberLimit, joinFeatures(org.Features), org.RosterVersion, micros(org.UpdatedAt), t.orgID)
	if err != nil {
		return t.fail(ctx, "update org", err)
	}
	return nil
}

// ---- members ----

const memberCols = `m.id, m.org_id, m.user_id, m.login, m.email, m.first_name, m.last_name, m.role_id, m.status, m.groups_text, m.last_login_at, m.password_hash, m.must_change_password, m.created_at, m.updated_at, m.version, m.security_stamp`

const insertMemberCols = `org_id, id, user_id, login, login_key, email, email_key, first_name, last_name, role_id, status, groups_text, search_text, last_login_at, password_hash, must_change_password, created_at, updated_at, version, security_stamp`

const nInsertMemberCols = 20

func memberArgs(m *membership.Member, version int64) []any {
	return []any{m.OrgID, m.ID, m.UserID, m.Login, membership.LoginKey(m.Login), m.Email, nullString(membership.EmailKey(m.Email)),
		m.FirstName, m.LastName, m.RoleID, string(m.Status), joinGroups(m.Groups), membership.SearchText(*m),
		nullMicros(m.LastLoginAt), string(m.PasswordHash), m.MustChangePassword, micros(m.CreatedAt), micros(m.UpdatedAt), version, m.SecurityStamp}
}

func scanMembers(rows *sql.Rows) ([]membership.Member, error) {
	defer rows.Close()
	var out []membership.Member
	for rows.Next() {
		var m membership.Member
		var status, groups, hash string
		var lastLogin sql.NullInt64
		var created, updated int64
		if err := rows.Scan(&m.ID, &m.OrgID, &m.UserID, &m.Login, &m.Email, &m.FirstName, &m.LastName, &m.RoleID,
			&status, &groups, &lastLogin, &hash, &m.MustChangePassword, &created, &updated, &m.Version, &m.SecurityStamp); err != nil {
			return nil, fmt.Errorf("sqlstore: scan member: %w", err)
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
	return t.oneMember(ctx, "m.id = ?", id, fmt.Sprintf("member %q", id))
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
	if f.Group != "" {
		b.WriteString(` FROM memberkit_member_groups g JOIN memberkit_members m ON m.org_id = g.org_id AND m.id = g.member_id WHERE g.org_id = ? AND g.group_key = ?`)
		args = append(args, t.orgID, membership.GroupKey(f.Group))
		order = "g.login_key"
	} else {
		b.WriteString(` FROM memberkit_members m WHERE m.org_id = ?`)
		args = append(args, t.orgID)
	}
	if after != "" {
		b.WriteString(" AND " + order + " > ?")
		args = append(args, membership.LoginKey(after))
	}
	if len(f.Statuses) > 0 {
		b.WriteString(" AND m.status IN (" + placeholders(len(f.Statuses)) + ")")
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
	if ids != nil {
		b.WriteString(" AND m.id IN (" + placeholders(len(ids)) + ")")
		for _, id := range ids {
			args = append(args, id)
		}
	}
	return b.String(), order, args
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// pages streams rows by keyset chunks. fetch reads at most size rows after
// the key after and returns them with the key of the last one. Each chunk
// is read whole before it is yielded.
func pages[T any](ctx context.Context, t *tx, after string, limit, first int, fetch func(after string, size int) ([]T, string, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		n, next := 0, first
		for {
			if err := t.check(ctx, false); err != nil {
				yield(zero, err)
				return
			}
			size := next
			next = min(2*next, maxChunk)
			if limit > 0 {
				size = min(size, limit-n)
			}
			chunk, last, err := fetch(after, size)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, v := range chunk {
				if !yield(v, nil) {
					return
				}
			}
			n += len(chunk)
			if len(chunk) < size || (limit > 0 && n >= limit) {
				return
			}
			after = last
		}
	}
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

func (t *tx) Counts(ctx context.Context, now time.Time) (membership.Counts, error) {
	if err := t.check(ctx, false); err != nil {
		return membership.Counts{}, err
	}
	var c membership.Counts
	err := t.q.QueryRowContext(ctx, t.s.d.rebind(`SELECT active_members, active_admins FROM memberkit_orgs WHERE id = ?`), t.orgID).Scan(&c.ActiveMembers, &c.ActiveAdmins)
	if err != nil {
		return c, t.fail(ctx, "count members", err)
	}
	err = t.q.QueryRowContext(ctx, t.s.d.rebind(`SELECT COUNT(*) FROM memberkit_invitations WHERE org_id = ? AND state = ? AND expires_at > ?`),
		t.orgID, string(membership.InvitationPending), micros(now)).Scan(&c.PendingInvitations)
	if err != nil {
		return c, t.fail(ctx, "count invitations", err)
	}
	return c, nil
}

func (t *tx) checkOwn(ms []membership.Member) error {
	for i := range ms {
		if ms[i].ID == "" || ms[i].OrgID != t.orgID {
			return fmt.Errorf("sqlstore: member %q of org %q written in org %q: %w", ms[i].ID, ms[i].OrgID, t.orgID, store.ErrNotFound)
		}
	}
	return nil
}

// moveCounts keeps the org's counts of active members and admins in step
// with a member write, in the same transaction.
func (t *tx) moveCounts(ctx context.Context, active, admins int) error {
	if active == 0 && admins == 0 {
		return nil
	}
	_, err := t.q.ExecContext(ctx, t.s.d.rebind(`UPDATE memberkit_orgs SET active_members = active_members + ?, active_admins = active_admins + ? WHERE id = ?`), active, admins, t.orgID)
	if err != nil {
		return t.fail(ctx, "count members", err)
	}
	return nil
}

// batchDuplicates finds two members of one batch sharing a login or email.
func batchDuplicates(ms []membership.Member) error {
	logins := make(map[string]bool, len(ms))
	emails := make(map[string]bool, len(ms))
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
	var groups [][4]string
	var active, admins int
	for i := range ms {
		groups = appendGroupRows(groups, &ms[i])
		active += membership.SeatDelta(membership.Member{}, ms[i])
		admins += membership.AdminDelta(membership.Member{}, ms[i])
	}
	if err := t.moveCounts(ctx, active, admins); err != nil {
		return err
	}
	return t.insertGroups(ctx, groups)
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

// insertRows writes n rows: a prepared single-row INSERT reused on SQLite
// (faster there than multi-row statements), multi-row INSERTs elsewhere.
func (t *tx) insertRows(ctx context.Context, table, cols string, ncols, n int, row func(i int) []any) error {
	one := "(" + placeholders(ncols) + ")"
	if t.s.d == SQLite {
		st, err := t.stmt(ctx, "INSERT INTO "+table+" ("+cols+") VALUES "+one)
		if err != nil {
			return err
		}
		for i := range n {
			if i%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if _, err := st.ExecContext(ctx, row(i)...); err != nil {
				return err
			}
		}
		return nil
	}
	if t.s.d == Postgres {
		return t.insertRowsPostgres(ctx, table, cols, ncols, n, row)
	}
	per := t.s.d.maxBatch(ncols)
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		args := make([]any, 0, (end-start)*ncols)
		for i := start; i < end; i++ {
			args = append(args, row(i)...)
		}
		q := "INSERT INTO " + table + " (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", end-start), ", ")
		var err error
		if end-start == per {
			var st *sql.Stmt
			if st, err = t.stmt(ctx, q); err == nil {
				_, err = st.ExecContext(ctx, args...)
			}
		} else {
			_, err = t.q.ExecContext(ctx, t.s.d.rebind(q), args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

type current struct {
	version  int64
	loginKey string
	groups   string
	status   membership.Status
	roleID   string
}

func (t *tx) currentVersions(ctx context.Context, ids []string) (map[string]current, error) {
	out := make(map[string]current, len(ids))
	for part := range slices.Chunk(ids, 500) {
		args := make([]any, 0, len(part)+1)
		args = append(args, t.orgID)
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := t.q.QueryContext(ctx, t.s.d.rebind(`SELECT id, version, login_key, groups_text, status, role_id FROM memberkit_members WHERE org_id = ? AND id IN (`+placeholders(len(part))+`)`), args...)
		if err != nil {
			return nil, t.fail(ctx, "read versions", err)
		}
		for rows.Next() {
			var id string
			var c current
			var status string
			if err := rows.Scan(&id, &c.version, &c.loginKey, &c.groups, &status, &c.roleID); err != nil {
				rows.Close()
				return nil, t.fail(ctx, "read versions", err)
			}
			c.status = membership.Status(status)
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

func (t *tx) UpdateMembers(ctx context.Context, ms []membership.Member) error {
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
	cur, err := t.currentVersions(ctx, ids)
	if err != nil {
		return err
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
	if t.s.d == Postgres {
		if err := t.updateMembersPostgres(ctx, ms); err != nil {
			return err
		}
	} else if err := t.updateMembersEach(ctx, ms); err != nil {
		return err
	}
	// Group rows follow a changed login or group list.
	var changed [][4]string
	var regroup []string
	var active, admins int
	for i := range ms {
		m := &ms[i]
		c := cur[m.ID]
		before := membership.Member{Status: c.status, RoleID: c.roleID}
		active += membership.SeatDelta(before, *m)
		admins += membership.AdminDelta(before, *m)
		if c.loginKey != membership.LoginKey(m.Login) || c.groups != joinGroups(m.Groups) {
			regroup = append(regroup, m.ID)
			changed = appendGroupRows(changed, m)
		}
	}
	for part := range slices.Chunk(regroup, 500) {
		args := make([]any, 0, len(part)+1)
		args = append(args, t.orgID)
		for _, id := range part {
			args = append(args, id)
		}
		if _, err := t.q.ExecContext(ctx, t.s.d.rebind(`DELETE FROM memberkit_member_groups WHERE org_id = ? AND member_id IN (`+placeholders(len(part))+`)`), args...); err != nil {
			return t.fail(ctx, "update member groups", err)
		}
	}
	if err := t.insertGroups(ctx, changed); err != nil {
		return err
	}
	return t.moveCounts(ctx, active, admins)
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
		if strings.Contains(err.Error(), "email") {
			v = m.Email
		}
		return duplicate(err, "id", v)
	}
	return t.fail(ctx, "update members", err)
}

// updateMembersEach runs one prepared UPDATE per member: the fastest way
// on SQLite, and the portable one.
func (t *tx) updateMembersEach(ctx context.Context, ms []membership.Member) error {
	st, err := t.stmt(ctx, `UPDATE memberkit_members SET user_id = ?, login = ?, login_key = ?, email = ?, email_key = ?, first_name = ?, last_name = ?, role_id = ?, status = ?, groups_text = ?, search_text = ?, last_login_at = ?, password_hash = ?, must_change_password = ?, updated_at = ?, version = ?, security_stamp = ? WHERE org_id = ? AND id = ? AND version = ?`)
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
		res, err := st.ExecContext(ctx, m.UserID, m.Login, membership.LoginKey(m.Login), m.Email, nullString(membership.EmailKey(m.Email)),
			m.FirstName, m.LastName, m.RoleID, string(m.Status), joinGroups(m.Groups), membership.SearchText(*m),
			nullMicros(m.LastLoginAt), string(m.PasswordHash), m.MustChangePassword, micros(m.UpdatedAt), m.Version+1, m.SecurityStamp,
			t.orgID, m.ID, m.Version)
		if err != nil {
			return t.updateError(ctx, err, m)
		}
		if n, err := res.RowsAffected(); err == nil && n != 1 {
			return fmt.Errorf("member %q changed meanwhile: %w", m.ID, store.ErrConflict)
		}
	}
	return nil
}

// updateMembersPostgres updates up to 1,000 members per statement with
// UPDATE … FROM (VALUES …): one round trip instead of one per member.
func (t *tx) updateMembersPostgres(ctx context.Context, ms []membership.Member) error {
	const cols = 18
	for part := range slices.Chunk(ms, 1000) {
		var b strings.Builder
		b.WriteString(`UPDATE memberkit_members AS m SET user_id = v.user_id, login = v.login, login_key = v.login_key, email = v.email, email_key = v.email_key, first_name = v.first_name, last_name = v.last_name, role_id = v.role_id, status = v.status, groups_text = v.groups_text, search_text = v.search_text, last_login_at = v.last_login_at, password_hash = v.password_hash, must_change_password = v.must_change_password, updated_at = v.updated_at, security_stamp = v.security_stamp, version = v.version + 1 FROM (VALUES `)
		args := make([]any, 0, len(part)*cols+1)
		for i := range part {
			m := &part[i]
			if i > 0 {
				b.WriteString(", ")
			}
			n := len(args)
			fmt.Fprintf(&b, "($%d::varchar, $%d::bigint, $%d::varchar, $%d::varchar, $%d::varchar, $%d::varchar, $%d::varchar, $%d::text, $%d::text, $%d::varchar, $%d::varchar, $%d::text, $%d::text, $%d::bigint, $%d::text, $%d::boolean, $%d::bigint, $%d::varchar)",
				n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+11, n+12, n+13, n+14, n+15, n+16, n+17, n+18)
			args = append(args, m.ID, m.Version, m.UserID, m.Login, membership.LoginKey(m.Login), m.Email, nullString(membership.EmailKey(m.Email)),
				m.FirstName, m.LastName, m.RoleID, string(m.Status), joinGroups(m.Groups), membership.SearchText(*m),
				nullMicros(m.LastLoginAt), string(m.PasswordHash), m.MustChangePassword, micros(m.UpdatedAt), m.SecurityStamp)
		}
		fmt.Fprintf(&b, `) AS v(id, version, user_id, login, login_key, email, email_key, first_name, last_name, role_id, status, groups_text, search_text, last_login_at, password_hash, must_change_password, updated_at, security_stamp) WHERE m.org_id = $%d AND m.id = v.id AND m.version = v.version`, len(args)+1)
		args = append(args, t.orgID)
		res, err := t.q.ExecContext(ctx, b.String(), args...)
		if err != nil {
			return t.updateError(ctx, err, batchCulprit(len(part), part[0]))
		}
		if n, err := res.RowsAffected(); err == nil && int(n) != len(part) {
			return fmt.Errorf("%d of %d members changed meanwhile: %w", len(part)-int(n), len(part), store.ErrConflict)
		}
	}
	return nil
}

func (t *tx) MemberSummaries(ctx context.Context) iter.Seq2[store.MemberSummary, error] {
	// Whole-roster reads: big chunks from the start, in ID order, which
	// is the order rows were stored in (IDs are UUIDv7), so the table is
	// read front to back rather than in login order.
	return pages(ctx, t, "", 0, maxChunk, func(after string, size int) ([]store.MemberSummary, string, error) {
		q := `SELECT id, login, email, first_name, last_name, role_id, status, version FROM memberkit_members WHERE org_id = ?`
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
		out := make([]store.MemberSummary, 0, size)
		for rows.Next() {
			var m store.MemberSummary
			var status string
			if err := rows.Scan(&m.ID, &m.Login, &m.Email, &m.FirstName, &m.LastName, &m.RoleID, &status, &m.Version); err != nil {
				return nil, "", ctxErr(ctx, fmt.Errorf("sqlstore: scan member: %w", err))
			}
			m.Status = membership.Status(status)
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

func (t *tx) PatchMembers(ctx context.Context, ps []store.MemberPatch) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	seen := make(map[string]bool, len(ps))
	var active, admins int
	for i := range ps {
		p := &ps[i]
		if seen[p.ID] {
			return fmt.Errorf("sqlstore: member %q twice in one batch", p.ID)
		}
		seen[p.ID] = true
		active += membership.SeatDelta(membership.Member{Status: p.OldStatus}, membership.Member{Status: p.Status})
		admins += membership.AdminDelta(membership.Member{Status: p.OldStatus, RoleID: p.RoleID}, membership.Member{Status: p.Status, RoleID: p.RoleID})
	}
	var err error
	if t.s.d == Postgres {
		err = t.patchMembersPostgres(ctx, ps)
	} else {
		err = t.patchMembersEach(ctx, ps)
	}
	if err != nil {
		return err
	}
	return t.moveCounts(ctx, active, admins)
}

// patchMembersEach runs one prepared UPDATE per patch.
func (t *tx) patchMembersEach(ctx context.Context, ps []store.MemberPatch) error {
	var plain, withHash *sql.Stmt
	for i := range ps {
		p := &ps[i]
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		args := []any{p.Email, nullString(membership.EmailKey(p.Email)), p.FirstName, p.LastName, string(p.Status), patchSearchText(p), micros(p.UpdatedAt), p.SecurityStamp}
		var st *sql.Stmt
		var err error
		if p.PasswordHash == "" {
			if plain == nil {
				plain, err = t.stmt(ctx, `UPDATE memberkit_members SET email = ?, email_key = ?, first_name = ?, last_name = ?, status = ?, search_text = ?, updated_at = ?, security_stamp = COALESCE(NULLIF(?, ''), security_stamp), version = version + 1 WHERE org_id = ? AND id = ? AND version = ? AND login_key = ? AND role_id = ? AND status = ?`)
			}
			st = plain
		} else {
			if withHash == nil {
				withHash, err = t.stmt(ctx, `UPDATE memberkit_members SET email = ?, email_key = ?, first_name = ?, last_name = ?, status = ?, search_text = ?, updated_at = ?, security_stamp = COALESCE(NULLIF(?, ''), security_stamp), version = version + 1, password_hash = ?, must_change_password = ? WHERE org_id = ? AND id = ? AND version = ? AND login_key = ? AND role_id = ? AND status = ?`)
			}
			st = withHash
			args = append(args, string(p.PasswordHash), false)
		}
		if err != nil {
			return t.fail(ctx, "patch members", err)
		}
		res, err := st.ExecContext(ctx, append(args, t.orgID, p.ID, p.Version, membership.LoginKey(p.Login), p.RoleID, string(p.OldStatus))...)
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
		if c := cur[p.ID]; c.version != p.Version+1 || c.loginKey != membership.LoginKey(p.Login) || c.roleID != p.RoleID || c.status != p.Status {
			return fmt.Errorf("member %q has version %d, patch carries %d: %w", p.ID, c.version, p.Version, store.ErrConflict)
		}
	}
	return fmt.Errorf("sqlstore: %d members changed meanwhile: %w", len(ps), store.ErrConflict)
}

// patchMembersPostgres writes up to pgArrayBatch patches per UPDATE … FROM
// unnest(…): one array parameter per column, so PostgreSQL parses eleven
// parameters per statement instead of eleven per member.
func (t *tx) patchMembersPostgres(ctx context.Context, ps []store.MemberPatch) error {
	const q = `UPDATE memberkit_members AS m SET email = v.email, email_key = v.email_key, first_name = v.first_name, last_name = v.last_name, status = v.status, search_text = v.search_text, updated_at = v.updated_at, password_hash = COALESCE(v.password_hash, m.password_hash), must_change_password = m.must_change_password AND v.password_hash IS NULL, security_stamp = COALESCE(v.security_stamp, m.security_stamp), version = m.version + 1 ` +
		`FROM unnest($1::varchar[], $2::bigint[], $3::varchar[], $4::varchar[], $5::varchar[], $6::text[], $7::text[], $8::varchar[], $9::text[], $10::bigint[], $11::text[], $12::varchar[], $13::varchar[], $14::varchar[]) ` +
		`AS v(id, version, login_key, email, email_key, first_name, last_name, status, search_text, updated_at, password_hash, role_id, old_status, security_stamp) ` +
		`WHERE m.org_id = $15 AND m.id = v.id AND m.version = v.version AND m.login_key = v.login_key AND m.role_id = v.role_id AND m.status = v.old_status`
	for part := range slices.Chunk(ps, pgArrayBatch) {
		var id, version, loginKey, email, emailKey, first, last, status, search, updated, hash, role, oldStatus, stamp pgArray
		for i := range part {
			p := &part[i]
			id.add(p.ID)
			version.addInt(p.Version)
			loginKey.add(membership.LoginKey(p.Login))
			email.add(p.Email)
			emailKey.addOrNull(membership.EmailKey(p.Email))
			first.add(p.FirstName)
			last.add(p.LastName)
			status.add(string(p.Status))
			search.add(patchSearchText(p))
			updated.addInt(micros(p.UpdatedAt))
			hash.addOrNull(string(p.PasswordHash))
			role.add(p.RoleID)
			oldStatus.add(string(p.OldStatus))
			stamp.addOrNull(p.SecurityStamp)
		}
		res, err := t.q.ExecContext(ctx, q, id.String(), version.String(), loginKey.String(), email.String(), emailKey.String(),
			first.String(), last.String(), status.String(), search.String(), updated.String(), hash.String(), role.String(), oldStatus.String(), stamp.String(), t.orgID)
		if err != nil {
			return t.updateError(ctx, err, batchCulprit(len(part), membership.Member{Login: part[0].Login, Email: part[0].Email}))
		}
		if n, err := res.RowsAffected(); err == nil && int(n) != len(part) {
			return t.patchMismatch(ctx, part)
		}
	}
	return nil
}

// insertRowsPostgres writes up to pgArrayBatch rows per INSERT … SELECT FROM
// unnest(…), one array parameter per column; each column's SQL type
// comes from the Go type of its values.
func (t *tx) insertRowsPostgres(ctx context.Context, table, cols string, ncols, n int, row func(i int) []any) error {
	for start := 0; start < n; start += pgArrayBatch {
		end := min(start+pgArrayBatch, n)
		arrays := make([]pgArray, ncols)
		types := make([]string, ncols)
		for i := start; i < end; i++ {
			for c, v := range row(i) {
				typ, err := arrays[c].addValue(v)
				if err != nil {
					return fmt.Errorf("sqlstore: %s column %d: %w", table, c+1, err)
				}
				types[c] = typ
			}
		}
		var b strings.Builder
		args := make([]any, ncols)
		b.WriteString("INSERT INTO " + table + " (" + cols + ") SELECT * FROM unnest(")
		for c := range arrays {
			if c > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d::%s[]", c+1, types[c])
			args[c] = arrays[c].String()
		}
		b.WriteString(")")
		if _, err := t.q.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// addValue appends a value of one of the Go types the store binds and
// returns its PostgreSQL type.
func (a *pgArray) addValue(v any) (string, error) {
	switch v := v.(type) {
	case string:
		a.add(v)
		return "text", nil
	case sql.NullString:
		if !v.Valid {
			a.null()
		} else {
			a.add(v.String)
		}
		return "text", nil
	case int64:
		a.addInt(v)
		return "bigint", nil
	case int:
		a.addInt(int64(v))
		return "bigint", nil
	case sql.NullInt64:
		if !v.Valid {
			a.null()
		} else {
			a.addInt(v.Int64)
		}
		return "bigint", nil
	case bool:
		a.sep()
		a.b.WriteString(strconv.FormatBool(v))
		return "boolean", nil
	}
	return "", fmt.Errorf("no PostgreSQL array for %T", v)
}

// pgArrayBatch is the rows per array statement: measured on a
// 100,000-member reconcile, 5,000-row statements were slower than 1,000.
const pgArrayBatch = 1000

// pgArray builds a PostgreSQL array literal, sent as one text parameter
// and cast in SQL ($1::text[]): any driver can pass it, and the server
// parses one parameter for a whole column of a batch.
type pgArray struct {
	b strings.Builder
}

func (a *pgArray) sep() {
	if a.b.Len() == 0 {
		a.b.WriteByte('{')
	} else {
		a.b.WriteByte(',')
	}
}

// add appends a text element, quoted; only '"' and '\' need escaping.
func (a *pgArray) add(s string) {
	a.sep()
	a.b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			a.b.WriteByte('\\')
		}
		a.b.WriteByte(s[i])
	}
	a.b.WriteByte('"')
}

// addOrNull appends s, or NULL when s is empty.
func (a *pgArray) addOrNull(s string) {
	if s == "" {
		a.null()
		return
	}
	a.add(s)
}

func (a *pgArray) null() {
	a.sep()
	a.b.WriteString("NULL")
}

func (a *pgArray) addInt(v int64) {
	a.sep()
	a.b.WriteString(strconv.FormatInt(v, 10))
}

func (a *pgArray) String() string {
	if a.b.Len() == 0 {
		return "{}"
	}
	return a.b.String() + "}"
}

// ---- roles ----

func (t *tx) scanRoles(ctx context.Context, where string, args ...any) ([]membership.Role, error) {
	rows, err := t.q.QueryContext(ctx, t.s.d.rebind(`SELECT id, org_id, name, permissions, created_at, updated_at FROM memberkit_roles WHERE org_id = ?`+where+` ORDER BY id`), append([]any{t.orgID}, args...)...)
	if err != nil {
		return nil, t.fail(ctx, "read roles", err)
	}
	defer rows.Close()
	var out []membership.Role
	for rows.Next() {
		var r membership.Role
		var perms string
		var created, updated int64
		if err := rows.Scan(&r.ID, &r.OrgID, &r.Name, &perms, &created, &updated); err != nil {
			return nil, t.fail(ctx, "read roles", err)
		}
		if perms != "" {
			for _, p := range strings.Split(perms, ",") {
				r.Permissions = append(r.Permissions, membership.Permission(p))
			}
		}
		r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(ctx, "read roles", err)
	}
	return out, nil
}

func (t *tx) Role(ctx context.Context, id string) (membership.Role, error) {
	if err := t.check(ctx, false); err != nil {
		return membership.Role{}, err
	}
	rs, err := t.scanRoles(ctx, " AND id = ?", id)
	if err != nil {
		return membership.Role{}, err
	}
	if len(rs) == 0 {
		return membership.Role{}, fmt.Errorf("role %q: %w", id, store.ErrNotFound)
	}
	return rs[0], nil
}

func (t *tx) Roles(ctx context.Context) ([]membership.Role, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	return t.scanRoles(ctx, "")
}

func (t *tx) PutRole(ctx context.Context, r membership.Role) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if r.ID == "" {
		return errors.New("sqlstore: role without ID")
	}
	perms := make([]string, len(r.Permissions))
	for i, p := range r.Permissions {
		perms[i] = string(p)
	}
	res, err := t.q.ExecContext(ctx, t.s.d.rebind(`UPDATE memberkit_roles SET name = ?, permissions = ?, updated_at = ? WHERE org_id = ? AND id = ?`),
		r.Name, strings.Join(perms, ","), micros(r.UpdatedAt), t.orgID, r.ID)
	if err != nil {
		return t.fail(ctx, "update role", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	if _, err := t.Role(ctx, r.ID); err == nil {
		return nil // MySQL reports 0 rows when nothing changed
	}
	_, err = t.q.ExecContext(ctx, t.s.d.rebind(`INSERT INTO memberkit_roles (org_id, id, name, permissions, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`),
		t.orgID, r.ID, r.Name, strings.Join(perms, ","), micros(r.CreatedAt), micros(r.UpdatedAt))
	if err != nil {
		if t.s.d.isUnique(err) {
			return duplicate(err, "role", r.ID)
		}
		return t.fail(ctx, "insert role", err)
	}
	return nil
}

func (t *tx) DeleteRole(ctx context.Context, id string) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, t.s.d.rebind(`DELETE FROM memberkit_roles WHERE org_id = ? AND id = ?`), t.orgID, id)
	if err != nil {
		return t.fail(ctx, "delete role", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("role %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// ---- invitations ----

const invCols = `id, org_id, email, role_id, token_hash, state, invited_by, send_count, member_id, created_at, sent_at, expires_at, accepted_at, updated_at`

func scanInvitations(rows *sql.Rows) ([]membership.Invitation, error) {
	defer rows.Close()
	var out []membership.Invitation
	for rows.Next() {
		var inv membership.Invitation
		var token sql.NullString
		var state string
		var created, expires, updated int64
		var sent, accepted sql.NullInt64
		if err := rows.Scan(&inv.ID, &inv.OrgID, &inv.Email, &inv.RoleID, &token, &state, &inv.InvitedBy, &inv.SendCount, &inv.MemberID,
			&created, &sent, &expires, &accepted, &updated); err != nil {
			return nil, fmt.Errorf("sqlstore: scan invitation: %w", err)
		}
		if token.Valid {
			h, err := hex.DecodeString(token.String)
			if err != nil {
				return nil, fmt.Errorf("sqlstore: invitation %s: bad token hash: %w", inv.ID, err)
			}
			inv.TokenHash = h
		}
		inv.State = membership.InvitationState(state)
		inv.CreatedAt, inv.ExpiresAt, inv.UpdatedAt = fromMicros(created), fromMicros(expires), fromMicros(updated)
		if sent.Valid {
			inv.SentAt = fromMicros(sent.Int64)
		}
		if accepted.Valid {
			inv.AcceptedAt = fromMicros(accepted.Int64)
		}
		out = append(out, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: read invitations: %w", err)
	}
	return out, nil
}

func (t *tx) Invitation(ctx context.Context, id string) (membership.Invitation, error) {
	if err := t.check(ctx, false); err != nil {
		return membership.Invitation{}, err
	}
	rows, err := t.q.QueryContext(ctx, t.s.d.rebind(`SELECT `+invCols+` FROM memberkit_invitations WHERE org_id = ? AND id = ?`), t.orgID, id)
	if err != nil {
		return membership.Invitation{}, t.fail(ctx, "read invitation", err)
	}
	invs, err := scanInvitations(rows)
	if err != nil {
		return membership.Invitation{}, ctxErr(ctx, err)
	}
	if len(invs) == 0 {
		return membership.Invitation{}, fmt.Errorf("invitation %q: %w", id, store.ErrNotFound)
	}
	return invs[0], nil
}

func (t *tx) Invitations(ctx context.Context, q store.InvitationQuery) iter.Seq2[membership.Invitation, error] {
	return pages(ctx, t, q.After, q.Limit, firstChunk, func(after string, size int) ([]membership.Invitation, string, error) {
		where := ` WHERE org_id = ?`
		args := []any{t.orgID}
		if after != "" {
			where += ` AND id > ?`
			args = append(args, after)
		}
		if len(q.States) > 0 {
			where += ` AND state IN (` + placeholders(len(q.States)) + `)`
			for _, s := range q.States {
				args = append(args, string(s))
			}
		}
		if k := membership.EmailKey(q.Email); k != "" {
			where += ` AND email_key = ?`
			args = append(args, k)
		}
		rows, err := t.q.QueryContext(ctx, t.s.d.rebind(`SELECT `+invCols+` FROM memberkit_invitations`+where+fmt.Sprintf(` ORDER BY id LIMIT %d`, size)), args...)
		if err != nil {
			return nil, "", t.fail(ctx, "list invitations", err)
		}
		invs, err := scanInvitations(rows)
		if err != nil || len(invs) == 0 {
			return invs, "", ctxErr(ctx, err)
		}
		return invs, invs[len(invs)-1].ID, nil
	})
}

func invArgs(inv *membership.Invitation) []any {
	return []any{inv.Email, membership.EmailKey(inv.Email), inv.RoleID, nullString(hexHash(inv.TokenHash)), string(inv.State), inv.InvitedBy,
		inv.SendCount, inv.MemberID, nullMicros(inv.SentAt), micros(inv.ExpiresAt), nullMicros(inv.AcceptedAt), micros(inv.UpdatedAt)}
}

func (t *tx) InsertInvitation(ctx context.Context, inv membership.Invitation) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if inv.ID == "" || inv.OrgID != t.orgID {
		return fmt.Errorf("sqlstore: invitation %q of org %q inserted in org %q", inv.ID, inv.OrgID, t.orgID)
	}
	args := append([]any{t.orgID, inv.ID, micros(inv.CreatedAt)}, invArgs(&inv)...)
	_, err := t.q.ExecContext(ctx, t.s.d.rebind(`INSERT INTO memberkit_invitations (org_id, id, created_at, email, email_key, role_id, token_hash, state, invited_by, send_count, member_id, sent_at, expires_at, accepted_at, updated_at) VALUES (`+placeholders(15)+`)`), args...)
	if err != nil {
		if t.s.d.isUnique(err) {
			return duplicate(err, "id", "")
		}
		return t.fail(ctx, "insert invitation", err)
	}
	return nil
}

func (t *tx) UpdateInvitation(ctx context.Context, inv membership.Invitation) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if inv.OrgID != t.orgID {
		return fmt.Errorf("invitation %q: %w", inv.ID, store.ErrNotFound)
	}
	if _, err := t.Invitation(ctx, inv.ID); err != nil {
		return err
	}
	args := append(invArgs(&inv), t.orgID, inv.ID)
	_, err := t.q.ExecContext(ctx, t.s.d.rebind(`UPDATE memberkit_invitations SET email = ?, email_key = ?, role_id = ?, token_hash = ?, state = ?, invited_by = ?, send_count = ?, member_id = ?, sent_at = ?, expires_at = ?, accepted_at = ?, updated_at = ? WHERE org_id = ? AND id = ?`), args...)
	if err != nil {
		if t.s.d.isUnique(err) {
			return duplicate(err, "token", "")
		}
		return t.fail(ctx, "update invitation", err)
	}
	return nil
}

// ---- events ----

func (t *tx) AppendEvents(ctx context.Context, evs []membership.Event) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	for _, e := range evs {
		if e.ID == "" {
			return errors.New("sqlstore: event without ID")
		}
	}
	err := t.insertRows(ctx, "memberkit_events", "org_id, id, at, type, actor, subject_id, role_before, role_after, status_before, status_after, detail", 11, len(evs), func(i int) []any {
		e := &evs[i]
		return []any{t.orgID, e.ID, micros(e.At), string(e.Type), e.Actor, e.SubjectID, e.RoleBefore, e.RoleAfter, string(e.StatusBefore), string(e.StatusAfter), e.Detail}
	})
	if err != nil {
		if t.s.d.isUnique(err) {
			return duplicate(err, "id", "")
		}
		return t.fail(ctx, "append events", err)
	}
	return nil
}

func (t *tx) Events(ctx context.Context, q store.EventQuery) iter.Seq2[membership.Event, error] {
	return pages(ctx, t, q.After, q.Limit, firstChunk, func(after string, size int) ([]membership.Event, string, error) {
		where := ` WHERE org_id = ?`
		args := []any{t.orgID}
		if after != "" {
			where += ` AND id > ?`
			args = append(args, after)
		}
		if q.SubjectID != "" {
			where += ` AND subject_id = ?`
			args = append(args, q.SubjectID)
		}
		if len(q.Types) > 0 {
			where += ` AND type IN (` + placeholders(len(q.Types)) + `)`
			for _, ty := range q.Types {
				args = append(args, string(ty))
			}
		}
		rows, err := t.q.QueryContext(ctx, t.s.d.rebind(`SELECT id, org_id, at, type, actor, subject_id, role_before, role_after, status_before, status_after, detail FROM memberkit_events`+where+fmt.Sprintf(` ORDER BY id LIMIT %d`, size)), args...)
		if err != nil {
			return nil, "", t.fail(ctx, "list events", err)
		}
		defer rows.Close()
		var evs []membership.Event
		for rows.Next() {
			var e membership.Event
			var at int64
			var typ, sb, sa string
			if err := rows.Scan(&e.ID, &e.OrgID, &at, &typ, &e.Actor, &e.SubjectID, &e.RoleBefore, &e.RoleAfter, &sb, &sa, &e.Detail); err != nil {
				return nil, "", t.fail(ctx, "scan event", err)
			}
			e.At, e.Type, e.StatusBefore, e.StatusAfter = fromMicros(at), membership.EventType(typ), membership.Status(sb), membership.Status(sa)
			evs = append(evs, e)
		}
		if err := rows.Err(); err != nil {
			return nil, "", t.fail(ctx, "list events", err)
		}
		if len(evs) == 0 {
			return nil, "", nil
		}
		return evs, evs[len(evs)-1].ID, nil
	})
}

// ---- encoding ----

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func hexHash(h []byte) string {
	if len(h) == 0 {
		return ""
	}
	return hex.EncodeToString(h)
}

// Groups are stored joined by a newline; labels never contain control
// characters (membership.ValidateGroups).
func joinGroups(gs []string) string { return strings.Join(gs, "\n") }

func splitGroups(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
