package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

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
		r.Permissions = splitPermissions(perms)
		r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(ctx, "read roles", err)
	}
	return out, nil
}

// splitPermissions reads a role's permissions, stored joined by commas.
func splitPermissions(s string) []membership.Permission {
	if s == "" {
		return nil
	}
	var out []membership.Permission
	for _, p := range strings.Split(s, ",") {
		out = append(out, membership.Permission(p))
	}
	return out
}

// role returns a custom role of the org.
func (t *tx) role(ctx context.Context, id string) (membership.Role, error) {
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
	if _, err := t.role(ctx, r.ID); err == nil {
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
