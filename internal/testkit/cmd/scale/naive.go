package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"strings"
	"time"

	"github.com/memberkit/memberkit/membership"
)

// naiveReconcile is the reconcile a first version written by hand would
// make, on PostgreSQL: per row, select by login, then update or insert,
// each statement committed on its own, and the absent deactivated at the
// end. It writes less than memberkit (no event, no search text, no
// version check): its time is an upper reference, not a bound.
func naiveReconcile(ctx context.Context, tg target, orgID string, data []byte) time.Duration {
	t0 := time.Now()
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))))
	r.Comma = ';'
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		fatal(err)
	}
	rows = rows[1:]
	seen := map[string]bool{}
	sel := `SELECT id FROM memberkit_members WHERE org_id = $1 AND login_key = $2`
	upd := `UPDATE memberkit_members SET last_name = $1, first_name = $2, email = $3, email_key = $4, status = $5 WHERE id = $6 AND org_id = $7`
	ins := `INSERT INTO memberkit_members (org_id, id, user_id, login, login_key, email, email_key, first_name, last_name, role_id, status, groups_text, search_text, password_hash, must_change_password, created_at, updated_at, version) ` +
		`VALUES ($1, $2, '', $3, $4, $5, $6, $7, $8, 'user', $9, '', '', '', true, 0, 0, 1)`
	for _, rec := range rows {
		login := rec[0]
		seen[login] = true
		status := "active"
		if strings.HasPrefix(rec[5], "D") {
			status = "deactivated"
		}
		var id string
		err := tg.db.QueryRowContext(ctx, sel, orgID, login).Scan(&id)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tg.db.ExecContext(ctx, ins, orgID, membership.NewID(), login, login, rec[3], rec[3], rec[2], rec[1], status); err != nil {
				fatal(err)
			}
		case err != nil:
			fatal(err)
		default:
			if _, err := tg.db.ExecContext(ctx, upd, rec[1], rec[2], rec[3], strings.ToLower(rec[3]), status, id, orgID); err != nil {
				fatal(err)
			}
		}
	}
	all, err := tg.db.QueryContext(ctx, `SELECT login FROM memberkit_members WHERE org_id = $1`, orgID)
	if err != nil {
		fatal(err)
	}
	var absent []string
	for all.Next() {
		var l string
		_ = all.Scan(&l)
		if !seen[l] {
			absent = append(absent, l)
		}
	}
	all.Close()
	for _, l := range absent {
		if _, err := tg.db.ExecContext(ctx, `UPDATE memberkit_members SET status = 'deactivated' WHERE org_id = $1 AND login_key = $2`, orgID, l); err != nil {
			fatal(err)
		}
	}
	return time.Since(t0)
}
