package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// The directory's tokens and groups (store.Directory), one row each in
// memberkit_directory_tokens and memberkit_groups (migration 7).

var (
	_ store.Directory   = (*Store)(nil)
	_ store.DirectoryTx = (*tx)(nil)
)

const tokenCols = `org_id, id, name, token_hash, hint, created_by, created_at, last_used_at, revoked_at`

func scanTokens(rows *sql.Rows, err error) ([]membership.DirectoryToken, error) {
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read directory tokens: %w", err)
	}
	defer rows.Close()
	var out []membership.DirectoryToken
	for rows.Next() {
		var d membership.DirectoryToken
		var hash string
		var created, used, revoked int64
		if err := rows.Scan(&d.OrgID, &d.ID, &d.Name, &hash, &d.Hint, &d.CreatedBy, &created, &used, &revoked); err != nil {
			return nil, fmt.Errorf("sqlstore: read directory tokens: %w", err)
		}
		if d.Hash, err = hex.DecodeString(hash); err != nil {
			return nil, fmt.Errorf("sqlstore: read directory tokens: token %s: %w", d.ID, err)
		}
		d.CreatedAt, d.LastUsedAt, d.RevokedAt = fromMicros(created), fromMicros(used), fromMicros(revoked)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: read directory tokens: %w", err)
	}
	return out, nil
}

func (t *tx) DirectoryTokens(ctx context.Context) ([]membership.DirectoryToken, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	ds, err := scanTokens(t.q.QueryContext(ctx, t.s.d.rebind(`SELECT `+tokenCols+` FROM memberkit_directory_tokens WHERE org_id = ? ORDER BY id`), t.orgID))
	if err != nil {
		return nil, t.fail(ctx, "read directory tokens", err)
	}
	return ds, nil
}

func (t *tx) PutDirectoryToken(ctx context.Context, d membership.DirectoryToken) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if d.ID == "" || len(d.Hash) == 0 {
		return errors.New("sqlstore: directory token without ID or hash")
	}
	// A token's last use is moved outside the org's lock
	// (TouchDirectoryToken): never move it back.
	err := t.upsert(ctx,
		`UPDATE memberkit_directory_tokens SET name = ?, token_hash = ?, hint = ?, created_by = ?, last_used_at = CASE WHEN last_used_at > ? THEN last_used_at ELSE ? END, revoked_at = ? WHERE org_id = ? AND id = ?`,
		[]any{d.Name, hexHash(d.Hash), d.Hint, d.CreatedBy, micros(d.LastUsedAt), micros(d.LastUsedAt), micros(d.RevokedAt), t.orgID, d.ID},
		`memberkit_directory_tokens`, d.ID,
		`INSERT INTO memberkit_directory_tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		[]any{t.orgID, d.ID, d.Name, hexHash(d.Hash), d.Hint, d.CreatedBy, micros(d.CreatedAt), micros(d.LastUsedAt), micros(d.RevokedAt)})
	if err != nil {
		if t.s.d.isUnique(err) {
			return duplicate(err, "token", "")
		}
		return t.fail(ctx, "write directory token", err)
	}
	return nil
}

// upsert runs update, and insert when no row of table has the org and id:
// MySQL reports 0 rows affected when an update changes nothing, so the
// row's existence is asked, not inferred.
func (t *tx) upsert(ctx context.Context, update string, uargs []any, table, id, insert string, iargs []any) error {
	res, err := t.q.ExecContext(ctx, t.s.d.rebind(update), uargs...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var exists int
	if err := t.q.QueryRowContext(ctx, t.s.d.rebind(`SELECT COUNT(*) FROM `+table+` WHERE org_id = ? AND id = ?`), t.orgID, id).Scan(&exists); err != nil || exists > 0 {
		return err
	}
	_, err = t.q.ExecContext(ctx, t.s.d.rebind(insert), iargs...)
	return err
}

const groupCols = `org_id, id, name, external_id, created_at, updated_at, version`

func (t *tx) Groups(ctx context.Context) ([]membership.Group, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	rows, err := t.q.QueryContext(ctx, t.s.d.rebind(`SELECT `+groupCols+` FROM memberkit_groups WHERE org_id = ? ORDER BY id`), t.orgID)
	if err != nil {
		return nil, t.fail(ctx, "read groups", err)
	}
	defer rows.Close()
	var out []membership.Group
	for rows.Next() {
		var g membership.Group
		var created, updated int64
		if err := rows.Scan(&g.OrgID, &g.ID, &g.Name, &g.ExternalID, &created, &updated, &g.Version); err != nil {
			return nil, t.fail(ctx, "read groups", err)
		}
		g.CreatedAt, g.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(ctx, "read groups", err)
	}
	return out, nil
}

func (t *tx) PutGroup(ctx context.Context, g membership.Group) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if g.ID == "" || g.Name == "" {
		return errors.New("sqlstore: group without ID or name")
	}
	key := membership.GroupKey(g.Name)
	err := t.upsert(ctx,
		`UPDATE memberkit_groups SET name = ?, name_key = ?, external_id = ?, updated_at = ?, version = ? WHERE org_id = ? AND id = ?`,
		[]any{g.Name, key, g.ExternalID, micros(g.UpdatedAt), g.Version, t.orgID, g.ID},
		`memberkit_groups`, g.ID,
		`INSERT INTO memberkit_groups (`+groupCols+`, name_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		[]any{t.orgID, g.ID, g.Name, g.ExternalID, micros(g.CreatedAt), micros(g.UpdatedAt), g.Version, key})
	if err != nil {
		if t.s.d.isUnique(err) {
			return duplicate(err, "group", g.Name)
		}
		return t.fail(ctx, "write group", err)
	}
	return nil
}

func (t *tx) DeleteGroup(ctx context.Context, id string) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, t.s.d.rebind(`DELETE FROM memberkit_groups WHERE org_id = ? AND id = ?`), t.orgID, id)
	if err != nil {
		return t.fail(ctx, "delete group", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("group %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// DirectoryTokenByHash finds a token of any org by the unique index on
// its hash.
func (s *Store) DirectoryTokenByHash(ctx context.Context, hash []byte) (membership.DirectoryToken, error) {
	ds, err := scanTokens(s.db.QueryContext(ctx, s.d.rebind(`SELECT `+tokenCols+` FROM memberkit_directory_tokens WHERE token_hash = ?`), hexHash(hash)))
	if err != nil {
		return membership.DirectoryToken{}, ctxErr(ctx, err)
	}
	if len(ds) == 0 || !bytes.Equal(ds[0].Hash, hash) {
		return membership.DirectoryToken{}, fmt.Errorf("directory token: %w", store.ErrNotFound)
	}
	return ds[0], nil
}

// TouchDirectoryToken moves a token's last use forward, in one statement
// outside any transaction of the org.
func (s *Store) TouchDirectoryToken(ctx context.Context, orgID, id string, at time.Time) error {
	us := micros(at)
	res, err := s.db.ExecContext(ctx, s.d.rebind(`UPDATE memberkit_directory_tokens SET last_used_at = ? WHERE org_id = ? AND id = ? AND last_used_at < ?`), us, orgID, id, us)
	if err != nil {
		return ctxErr(ctx, fmt.Errorf("sqlstore: touch directory token: %w", err))
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		var exists int
		if err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM memberkit_directory_tokens WHERE org_id = ? AND id = ?`), orgID, id).Scan(&exists); err != nil {
			return ctxErr(ctx, fmt.Errorf("sqlstore: touch directory token: %w", err))
		}
		if exists == 0 {
			return fmt.Errorf("directory token %q: %w", id, store.ErrNotFound)
		}
	}
	return nil
}
