package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"iter"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// AppendEvents checks evs, numbers them after the org's last event and
// defers their write to the next statement or the commit.
func (t *tx) AppendEvents(ctx context.Context, evs []membership.Event) error {
	if err := t.checkEdit(ctx); err != nil {
		return err
	}
	if err := membership.ValidateEvents(evs); err != nil {
		return err
	}
	if len(t.pend.events) == 0 {
		t.pend.firstSeq = t.seq + 1
	}
	t.pend.events = append(t.pend.events, evs...)
	t.seq += int64(len(evs))
	return nil
}

// insertEvents writes events numbered from first.
func (t *tx) insertEvents(ctx context.Context, evs []membership.Event, first int64) error {
	err := t.insertRows(ctx, "memberkit_events", eventInsertCols, 13, len(evs), func(i int) []any {
		return eventArgs(t.orgID, &evs[i], first+int64(i))
	})
	if err != nil {
		if t.s.d.isUnique(err) {
			return duplicate(err, "id", "")
		}
		return t.fail(ctx, "append events", err)
	}
	return nil
}

const eventInsertCols = "org_id, id, at, type, actor, subject_id, role_before, role_after, status_before, status_after, detail, attributes, seq"

// eventArgs are an event's values in the order of eventInsertCols.
func eventArgs(orgID string, e *membership.Event, seq int64) []any {
	return []any{orgID, e.ID, micros(e.At), string(e.Type), e.Actor, e.SubjectID, e.RoleBefore, e.RoleAfter, string(e.StatusBefore), string(e.StatusAfter), e.Detail,
		encodeAttributes(e.Attributes), seq}
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
		rows, err := t.q.QueryContext(ctx, t.s.d.rebind(`SELECT `+eventCols+` FROM memberkit_events`+where+fmt.Sprintf(` ORDER BY id LIMIT %d`, size)), args...)
		if err != nil {
			return nil, "", t.fail(ctx, "list events", err)
		}
		defer rows.Close()
		evs, err := scanEvents(rows)
		if err != nil {
			return nil, "", t.fail(ctx, "list events", err)
		}
		if len(evs) == 0 {
			return nil, "", nil
		}
		return evs, evs[len(evs)-1].ID, nil
	})
}

const eventCols = `id, org_id, at, type, actor, subject_id, role_before, role_after, status_before, status_after, detail, attributes, seq`

// scanEvents reads rows of eventCols and closes them.
func scanEvents(rows *sql.Rows) ([]membership.Event, error) {
	defer rows.Close()
	var evs []membership.Event
	for rows.Next() {
		var e membership.Event
		var at int64
		var typ, sb, sa, attrs string
		if err := rows.Scan(&e.ID, &e.OrgID, &at, &typ, &e.Actor, &e.SubjectID, &e.RoleBefore, &e.RoleAfter, &sb, &sa, &e.Detail, &attrs, &e.Seq); err != nil {
			return nil, fmt.Errorf("scan event: %w", err)
		}
		var err error
		if e.Attributes, err = decodeAttributes(attrs); err != nil {
			return nil, fmt.Errorf("sqlstore: event %s: attributes: %w", e.ID, err)
		}
		e.At, e.Type, e.StatusBefore, e.StatusAfter = fromMicros(at), membership.EventType(typ), membership.Status(sb), membership.Status(sa)
		evs = append(evs, e)
	}
	return evs, rows.Err()
}
