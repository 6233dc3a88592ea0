package main

import (
	"context"
	"database/sql"
	"strings"

	"github.com/memberkit/memberkit/membership"
)

// mysqlWriter writes the raw bound on MariaDB/MySQL with multi-row
// statements of up to mysqlChunk rows, each full-size statement prepared
// once and reused (go-sql-driver/mysql otherwise prepares and closes a
// statement per call): changed rows by INSERT … ON DUPLICATE KEY UPDATE
// (the row's key always exists, so each row updates), deactivations by
// UPDATE … WHERE id IN (…) with the new stamp made by the server (16
// random bytes in base64url), inserts by multi-row INSERT. On MariaDB
// 10.11, 10,000 changed rows of a 100,000-member org took a median
// 0.46 s by INSERT … ON DUPLICATE KEY UPDATE and 2.37 s by a prepared
// single-row UPDATE each (memberkit's way on MySQL).
type mysqlWriter struct{}

// mysqlChunk is the rows per statement (memberkit's batch too).
const mysqlChunk = 1000

func (mysqlWriter) technique() string {
	return "multi-row INSERT … ON DUPLICATE KEY UPDATE, UPDATE … IN, multi-row INSERT"
}

// execRows runs head + rows × one + tail in statements of at most
// mysqlChunk rows of ncols values each.
func execRows(ctx context.Context, c *sql.Conn, head, one, tail string, ncols, n int, row func(i int) []any) error {
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	per := min(mysqlChunk, 60000/ncols)
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		args := make([]any, 0, (end-start)*ncols)
		for i := start; i < end; i++ {
			args = append(args, row(i)...)
		}
		q := head + strings.TrimSuffix(strings.Repeat(one+", ", end-start), ", ") + tail
		var err error
		if end-start == per {
			if full == nil {
				if full, err = c.PrepareContext(ctx, q); err != nil {
					return err
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = c.ExecContext(ctx, q, args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (mysqlWriter) write(ctx context.Context, c *sql.Conn, p *rawPlan) error {
	if err := execRows(ctx, c,
		`INSERT INTO memberkit_members (org_id, id, user_id, login, login_key, email, email_key, first_name, last_name, role_id, status, groups_text, search_text, password_hash, must_change_password, created_at, updated_at, version, security_stamp) VALUES `,
		`(?, ?, '', ?, ?, ?, ?, ?, ?, '', ?, ?, ?, '', 0, 0, ?, 0, ?)`,
		` ON DUPLICATE KEY UPDATE first_name = VALUES(first_name), last_name = VALUES(last_name), email = VALUES(email), email_key = VALUES(email_key), status = VALUES(status), `+
			`groups_text = VALUES(groups_text), search_text = VALUES(search_text), security_stamp = IF(VALUES(security_stamp) = '', security_stamp, VALUES(security_stamp)), `+
			`updated_at = VALUES(updated_at), version = version + 1`,
		13, len(p.updates), func(i int) []any {
			u := &p.updates[i]
			return []any{p.orgID, u.id, "", "", u.email, nullIfEmpty(membership.EmailKey(u.email)), u.first, u.last, u.status, u.groups, u.search, p.now, u.stamp}
		}); err != nil {
		return err
	}
	p.step("updates")
	stamp := `REPLACE(REPLACE(TRIM(TRAILING '=' FROM TO_BASE64(RANDOM_BYTES(16))), '+', '-'), '/', '_')`
	for start := 0; start < len(p.deacts); start += mysqlChunk {
		part := p.deacts[start:min(start+mysqlChunk, len(p.deacts))]
		args := []any{p.now, p.orgID}
		for _, id := range part {
			args = append(args, id)
		}
		if _, err := c.ExecContext(ctx, `UPDATE memberkit_members SET status = 'deactivated', security_stamp = `+stamp+`, updated_at = ?, version = version + 1 WHERE org_id = ? AND id IN (`+
			strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ")+`)`, args...); err != nil {
			return err
		}
	}
	p.step("deactivations")
	for start := 0; start < len(p.regroup); start += mysqlChunk {
		part := p.regroup[start:min(start+mysqlChunk, len(p.regroup))]
		args := []any{p.orgID}
		for _, id := range part {
			args = append(args, id)
		}
		if _, err := c.ExecContext(ctx, `DELETE FROM memberkit_member_groups WHERE org_id = ? AND member_id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ")+`)`, args...); err != nil {
			return err
		}
	}
	p.step("group rows deleted")
	if err := execRows(ctx, c, `INSERT INTO memberkit_members (`+memberCols+`) VALUES `, `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ``,
		22, len(p.adds), func(i int) []any { return memberRow(&p.adds[i]) }); err != nil {
		return err
	}
	p.step("members inserted")
	if err := execRows(ctx, c, `INSERT INTO memberkit_member_groups (org_id, group_key, login_key, member_id) VALUES `, `(?, ?, ?, ?)`, ``,
		4, len(p.groupRows), func(i int) []any { g := &p.groupRows[i]; return []any{p.orgID, g[0], g[1], g[2]} }); err != nil {
		return err
	}
	p.step("group rows inserted")
	defer p.step("events")
	return execRows(ctx, c, `INSERT INTO memberkit_events (`+eventCols+`) VALUES `, `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ``,
		13, len(p.events), func(i int) []any { return eventRow(p.orgID, &p.events[i], p.firstSeq+int64(i)) })
}
