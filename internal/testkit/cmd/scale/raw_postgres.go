package main

import (
	"context"
	"database/sql"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/memberkit/memberkit/membership"
)

// pgWriter writes the raw bound on PostgreSQL: updates as UPDATE … FROM
// unnest(…) with one native array per column (pgx sends []string and
// []int64 as binary arrays), deactivations as one UPDATE … WHERE id =
// ANY($n) with the new stamp made by the server (16 random bytes of
// gen_random_uuid() in base64url, the shape of
// membership.NewSecurityStamp), inserts by COPY (pgx's CopyFrom through
// database/sql's Conn.Raw) or, with -pginsert unnest, by INSERT … SELECT
// FROM unnest(…).
type pgWriter struct {
	copy bool
}

func (w *pgWriter) technique() string {
	ins := "COPY"
	if !w.copy {
		ins = "INSERT … SELECT FROM unnest"
	}
	return "UPDATE … FROM unnest, UPDATE … = ANY, " + ins
}

func (w *pgWriter) write(ctx context.Context, c *sql.Conn, p *rawPlan) error {
	for part := range slices.Chunk(p.updates, *pgChunkFlag) {
		n := len(part)
		ids, first, last, email, emailKey, status, search, groups, stamp := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		for i, u := range part {
			ids[i], first[i], last[i], email[i], emailKey[i], status[i], search[i], groups[i], stamp[i] = u.id, u.first, u.last, u.email, membership.EmailKey(u.email), u.status, u.search, u.groups, u.stamp
		}
		if _, err := c.ExecContext(ctx, `UPDATE memberkit_members AS m SET first_name = v.first, last_name = v.last, email = v.email, email_key = NULLIF(v.email_key, ''), `+
			`status = v.status, search_text = v.search, groups_text = v.groups, security_stamp = COALESCE(NULLIF(v.stamp, ''), m.security_stamp), updated_at = $2, version = m.version + 1 `+
			`FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[]) AS v(id, first, last, email, email_key, status, search, groups, stamp) `+
			`WHERE m.org_id = $1 AND m.id = v.id`, p.orgID, p.now, ids, first, last, email, emailKey, status, search, groups, stamp); err != nil {
			return err
		}
	}
	p.step("updates")
	if len(p.deacts) > 0 {
		if _, err := c.ExecContext(ctx, `UPDATE memberkit_members SET status = 'deactivated', security_stamp = rtrim(translate(encode(uuid_send(gen_random_uuid()), 'base64'), '+/', '-_'), '='), `+
			`updated_at = $2, version = version + 1 WHERE org_id = $1 AND id = ANY($3::text[])`, p.orgID, p.now, p.deacts); err != nil {
			return err
		}
	}
	p.step("deactivations")
	if len(p.regroup) > 0 {
		if _, err := c.ExecContext(ctx, `DELETE FROM memberkit_member_groups WHERE org_id = $1 AND member_id = ANY($2::text[])`, p.orgID, p.regroup); err != nil {
			return err
		}
		p.step("group rows deleted")
	}
	if w.copy {
		return w.copyAll(ctx, c, p)
	}
	return w.unnestAll(ctx, c, p)
}

func (w *pgWriter) copyAll(ctx context.Context, c *sql.Conn, p *rawPlan) error {
	return c.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		if len(p.adds) > 0 {
			if _, err := pc.CopyFrom(ctx, pgx.Identifier{"memberkit_members"}, splitCols(memberCols), pgx.CopyFromSlice(len(p.adds), func(i int) ([]any, error) {
				row := memberRow(&p.adds[i])
				for j, v := range row {
					if ns, ok := v.(sql.NullString); ok {
						row[j] = nil
						if ns.Valid {
							row[j] = ns.String
						}
					}
				}
				return row, nil
			})); err != nil {
				return err
			}
			p.step("members inserted")
		}
		if len(p.groupRows) > 0 {
			if _, err := pc.CopyFrom(ctx, pgx.Identifier{"memberkit_member_groups"}, []string{"org_id", "group_key", "login_key", "member_id"}, pgx.CopyFromSlice(len(p.groupRows), func(i int) ([]any, error) {
				g := &p.groupRows[i]
				return []any{p.orgID, g[0], g[1], g[2]}, nil
			})); err != nil {
				return err
			}
			p.step("group rows inserted")
		}
		_, err := pc.CopyFrom(ctx, pgx.Identifier{"memberkit_events"}, splitCols(eventCols), pgx.CopyFromSlice(len(p.events), func(i int) ([]any, error) {
			return eventRow(p.orgID, &p.events[i], p.firstSeq+int64(i)), nil
		}))
		p.step("events")
		return err
	})
}

func (w *pgWriter) unnestAll(ctx context.Context, c *sql.Conn, p *rawPlan) error {
	for part := range slices.Chunk(p.adds, *pgChunkFlag) {
		n := len(part)
		cols := make([][]string, 14)
		for j := range cols {
			cols[j] = make([]string, n)
		}
		mustChange := make([]bool, n)
		for i := range part {
			m := &part[i]
			row := memberRow(m)
			// id, login, login_key, email, email_key, first, last, role, status, groups, search, hash, stamp, attributes
			for j, k := range []int{1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 20, 21} {
				switch v := row[k].(type) {
				case string:
					cols[j][i] = v
				case sql.NullString:
					cols[j][i] = v.String
				}
			}
			mustChange[i] = m.MustChangePassword
		}
		args := []any{p.orgID, p.now}
		for _, col := range cols {
			args = append(args, col)
		}
		args = append(args, mustChange)
		if _, err := c.ExecContext(ctx, `INSERT INTO memberkit_members (`+memberCols+`) SELECT $1, v.id, '', NULL, v.login, v.login_key, v.email, NULLIF(v.email_key, ''), v.first, v.last, v.role, v.status, `+
			`v.groups, v.search, NULL, v.hash, v.must, $2, $2, 1, v.stamp, v.attrs `+
			`FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::boolean[]) `+
			`AS v(id, login, login_key, email, email_key, first, last, role, status, groups, search, hash, stamp, attrs, must)`, args...); err != nil {
			return err
		}
	}
	p.step("members inserted")
	for part := range slices.Chunk(p.groupRows, *pgChunkFlag) {
		keys, logins, ids := make([]string, len(part)), make([]string, len(part)), make([]string, len(part))
		for i, g := range part {
			keys[i], logins[i], ids[i] = g[0], g[1], g[2]
		}
		if _, err := c.ExecContext(ctx, `INSERT INTO memberkit_member_groups (org_id, group_key, login_key, member_id) SELECT $1, v.k, v.l, v.m FROM unnest($2::text[], $3::text[], $4::text[]) AS v(k, l, m)`,
			p.orgID, keys, logins, ids); err != nil {
			return err
		}
	}
	p.step("group rows inserted")
	for start := 0; start < len(p.events); start += *pgChunkFlag {
		part := p.events[start:min(start+*pgChunkFlag, len(p.events))]
		n := len(part)
		ids, at, typ, actor, subject, rb, ra, sb, sa, detail := make([]string, n), make([]int64, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		for i := range part {
			e := &part[i]
			ids[i], at[i], typ[i], actor[i], subject[i], rb[i], ra[i], sb[i], sa[i], detail[i] = e.ID, e.At.UnixMicro(), string(e.Type), e.Actor, e.SubjectID, e.RoleBefore, e.RoleAfter, string(e.StatusBefore), string(e.StatusAfter), e.Detail
		}
		if _, err := c.ExecContext(ctx, `INSERT INTO memberkit_events (`+eventCols+`) SELECT $1, v.id, v.at, v.type, v.actor, v.subject, v.rb, v.ra, v.sb, v.sa, v.detail, '', $2 + v.n - 1 `+
			`FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[]) WITH ORDINALITY AS v(id, at, type, actor, subject, rb, ra, sb, sa, detail, n)`,
			p.orgID, p.firstSeq+int64(start), ids, at, typ, actor, subject, rb, ra, sb, sa, detail); err != nil {
			return err
		}
	}
	p.step("events")
	return nil
}
