package sqlstore

import (
	"context"
	"fmt"
	"iter"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

func (t *tx) AppendEvents(ctx context.Context, evs []membership.Event) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if err := membership.ValidateEvents(evs); err != nil {
		return err
	}
	err := t.insertRows(ctx, "memberkit_events", "org_id, id, at, type, actor, subject_id, role_before, role_after, status_before, status_after, detail, attributes", 12, len(evs), func(i int) []any {
		e := &evs[i]
		return []any{t.orgID, e.ID, micros(e.At), string(e.Type), e.Actor, e.SubjectID, e.RoleBefore, e.RoleAfter, string(e.StatusBefore), string(e.StatusAfter), e.Detail,
			encodeAttributes(e.Attributes)}
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
		rows, err := t.q.QueryContext(ctx, t.s.d.rebind(`SELECT id, org_id, at, type, actor, subject_id, role_before, role_after, status_before, status_after, detail, attributes FROM memberkit_events`+where+fmt.Sprintf(` ORDER BY id LIMIT %d`, size)), args...)
		if err != nil {
			return nil, "", t.fail(ctx, "list events", err)
		}
		defer rows.Close()
		var evs []membership.Event
		for rows.Next() {
			var e membership.Event
			var at int64
			var typ, sb, sa, attrs string
			if err := rows.Scan(&e.ID, &e.OrgID, &at, &typ, &e.Actor, &e.SubjectID, &e.RoleBefore, &e.RoleAfter, &sb, &sa, &e.Detail, &attrs); err != nil {
				return nil, "", t.fail(ctx, "scan event", err)
			}
			var err error
			if e.Attributes, err = decodeAttributes(attrs); err != nil {
				return nil, "", fmt.Errorf("sqlstore: event %s: attributes: %w", e.ID, err)
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
