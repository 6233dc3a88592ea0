package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// What crosses orgs: the memberships of a host account, the owner of a
// verified domain, and the access of an actor read in one statement.

var _ store.AccessReader = (*Store)(nil)

// Memberships returns every member of a host account, in any org, with
// its org, by the index on user_key.
func (s *Store) Memberships(ctx context.Context, userID string) ([]store.Membership, error) {
	if userID == "" {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT `+memberCols+` FROM memberkit_members m WHERE m.user_key = ? ORDER BY m.org_id`), userID)
	if err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("sqlstore: memberships: %w", err))
	}
	ms, err := scanMembers(rows)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	out := make([]store.Membership, 0, len(ms))
	for _, m := range ms {
		if m.UserID != userID { // a collation that ignores trailing spaces
			continue
		}
		org, err := readOrg(ctx, s.d, s.db, m.OrgID, "")
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, store.Membership{Org: org, Member: m})
	}
	return out, nil
}

// DomainOwner returns the verified claim of a domain, by its unique index.
func (s *Store) DomainOwner(ctx context.Context, name string) (membership.Domain, error) {
	ds, err := scanDomains(s.db.QueryContext(ctx, s.d.rebind(`SELECT `+domainCols+` FROM memberkit_domains WHERE verified_name = ?`), name))
	if err != nil {
		return membership.Domain{}, ctxErr(ctx, err)
	}
	if len(ds) == 0 || ds[0].Name != name {
		return membership.Domain{}, fmt.Errorf("verified domain %q: %w", name, store.ErrNotFound)
	}
	return ds[0], nil
}

// Access reads what a permission check needs of an actor's member and
// its custom role, in one statement by primary key (or by the user_key
// index).
func (s *Store) Access(ctx context.Context, orgID string, actor membership.Actor) (store.Access, error) {
	where, arg := "m.id = ?", actor.MemberID
	if arg == "" {
		where, arg = "m.user_key = ?", actor.UserID
	}
	var a store.Access
	if arg == "" {
		return a, fmt.Errorf("member of %s: %w", actor, store.ErrNotFound)
	}
	var gotOrg, userKey, status string
	var perms sql.NullString
	// The role's permissions by a scalar subquery on its primary key: one
	// statement, and a plan SQLite makes as fast as a lone select's.
	row, err := s.queryRow(ctx, `SELECT m.org_id, m.id, m.user_key, m.role_id, m.status, m.must_change_password, `+
		`(SELECT r.permissions FROM memberkit_roles r WHERE r.org_id = m.org_id AND r.id = m.role_id) FROM memberkit_members m WHERE m.org_id = ? AND `+where, orgID, arg)
	if err != nil {
		return a, err
	}
	var uk sql.NullString
	err = row.Scan(&gotOrg, &a.MemberID, &uk, &a.RoleID, &status, &a.MustChangePassword, &perms)
	userKey = uk.String
	if errors.Is(err, sql.ErrNoRows) || err == nil && (gotOrg != orgID || actor.MemberID != "" && a.MemberID != actor.MemberID || actor.MemberID == "" && userKey != actor.UserID) {
		return store.Access{}, fmt.Errorf("member of %s: %w", actor, store.ErrNotFound)
	}
	if err != nil {
		return store.Access{}, ctxErr(ctx, fmt.Errorf("sqlstore: access: %w", err))
	}
	a.UserID, a.Status = userKey, membership.Status(status)
	if perms.Valid {
		a.Role = &membership.Role{ID: a.RoleID, OrgID: orgID, Permissions: splitPermissions(perms.String)}
	}
	return a, nil
}

const domainCols = `org_id, name, token, verified_at, policy, role_id, created_at, updated_at`

func scanDomains(rows *sql.Rows, err error) ([]membership.Domain, error) {
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read domains: %w", err)
	}
	defer rows.Close()
	var out []membership.Domain
	for rows.Next() {
		var d membership.Domain
		var verified sql.NullInt64
		var policy string
		var created, updated int64
		if err := rows.Scan(&d.OrgID, &d.Name, &d.Token, &verified, &policy, &d.RoleID, &created, &updated); err != nil {
			return nil, fmt.Errorf("sqlstore: read domains: %w", err)
		}
		d.VerifiedAt, d.Policy = fromMicros(verified.Int64), membership.DomainPolicy(policy)
		d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: read domains: %w", err)
	}
	return out, nil
}

func (t *tx) Domains(ctx context.Context) ([]membership.Domain, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	ds, err := scanDomains(t.q.QueryContext(ctx, t.s.d.rebind(`SELECT `+domainCols+` FROM memberkit_domains WHERE org_id = ? ORDER BY name`), t.orgID))
	if err != nil {
		return nil, t.fail(ctx, "read domains", err)
	}
	return ds, nil
}

func (t *tx) PutDomain(ctx context.Context, d membership.Domain) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if d.Name == "" {
		return errors.New("sqlstore: domain without name")
	}
	verifiedName := ""
	if d.Verified() {
		verifiedName = d.Name
	}
	args := []any{d.Token, nullMicros(d.VerifiedAt), nullString(verifiedName), string(d.Policy), d.RoleID, micros(d.UpdatedAt), t.orgID, d.Name}
	res, err := t.q.ExecContext(ctx, t.s.d.rebind(`UPDATE memberkit_domains SET token = ?, verified_at = ?, verified_name = ?, policy = ?, role_id = ?, updated_at = ? WHERE org_id = ? AND name = ?`), args...)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			var exists int
			err = t.q.QueryRowContext(ctx, t.s.d.rebind(`SELECT COUNT(*) FROM memberkit_domains WHERE org_id = ? AND name = ?`), t.orgID, d.Name).Scan(&exists)
			if err == nil && exists == 0 { // MySQL reports 0 rows when nothing changed: insert only when there is none
				_, err = t.q.ExecContext(ctx, t.s.d.rebind(`INSERT INTO memberkit_domains (`+domainCols+`, verified_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
					t.orgID, d.Name, d.Token, nullMicros(d.VerifiedAt), string(d.Policy), d.RoleID, micros(d.CreatedAt), micros(d.UpdatedAt), nullString(verifiedName))
			}
		}
	}
	if err != nil {
		if t.s.d.isUnique(err) {
			return duplicate(err, "domain", d.Name)
		}
		return t.fail(ctx, "write domain", err)
	}
	return nil
}

func (t *tx) DeleteDomain(ctx context.Context, name string) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, t.s.d.rebind(`DELETE FROM memberkit_domains WHERE org_id = ? AND name = ?`), t.orgID, name)
	if err != nil {
		return t.fail(ctx, "delete domain", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("domain %q: %w", name, store.ErrNotFound)
	}
	return nil
}
