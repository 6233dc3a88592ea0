package main

import (
	"context"
	"database/sql"

	"github.com/memberkit/memberkit/membership"
)

// sqliteWriter writes the raw bound on SQLite with single-row statements
// prepared once and reused in the transaction: on modernc SQLite the
// fastest way (multi-row statements pay a statement journal; see
// PERFORMANCE.md).
type sqliteWriter struct{}

func (sqliteWriter) technique() string { return "prepared single-row statements" }

func (sqliteWriter) write(ctx context.Context, c *sql.Conn, p *rawPlan) error {
	prep := func(q string) (*sql.Stmt, error) { return c.PrepareContext(ctx, q) }
	if len(p.updates) > 0 {
		st, err := prep(`UPDATE memberkit_members SET first_name = ?, last_name = ?, email = ?, email_key = ?, status = ?, search_text = ?, groups_text = ?, ` +
			`security_stamp = COALESCE(NULLIF(?, ''), security_stamp), updated_at = ?, version = version + 1 WHERE org_id = ? AND id = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, u := range p.updates {
			if _, err := st.ExecContext(ctx, u.first, u.last, u.email, nullIfEmpty(membership.EmailKey(u.email)), u.status, u.search, u.groups, u.stamp, p.now, p.orgID, u.id); err != nil {
				return err
			}
		}
	}
	p.step("updates")
	if len(p.deacts) > 0 {
		st, err := prep(`UPDATE memberkit_members SET status = 'deactivated', security_stamp = ?, updated_at = ?, version = version + 1 WHERE org_id = ? AND id = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, id := range p.deacts {
			if _, err := st.ExecContext(ctx, membership.NewSecurityStamp(), p.now, p.orgID, id); err != nil {
				return err
			}
		}
	}
	p.step("deactivations")
	if len(p.regroup) > 0 {
		st, err := prep(`DELETE FROM memberkit_member_groups WHERE org_id = ? AND member_id = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, id := range p.regroup {
			if _, err := st.ExecContext(ctx, p.orgID, id); err != nil {
				return err
			}
		}
	}
	p.step("group rows deleted")
	if len(p.adds) > 0 {
		st, err := prep(`INSERT INTO memberkit_members (` + memberCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := range p.adds {
			if _, err := st.ExecContext(ctx, memberRow(&p.adds[i])...); err != nil {
				return err
			}
		}
	}
	p.step("members inserted")
	if len(p.groupRows) > 0 {
		st, err := prep(`INSERT INTO memberkit_member_groups (org_id, group_key, login_key, member_id) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, g := range p.groupRows {
			if _, err := st.ExecContext(ctx, p.orgID, g[0], g[1], g[2]); err != nil {
				return err
			}
		}
	}
	p.step("group rows inserted")
	st, err := prep(`INSERT INTO memberkit_events (` + eventCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for i := range p.events {
		if _, err := st.ExecContext(ctx, eventRow(p.orgID, &p.events[i], p.firstSeq+int64(i))...); err != nil {
			return err
		}
	}
	p.step("events")
	return nil
}
