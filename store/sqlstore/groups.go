package sqlstore

import (
	"context"

	"github.com/memberkit/memberkit/membership"
)

// GroupLabels reads each group key of the org once, with the labels of
// one member carrying it, and returns that member's spelling: one
// statement over the group index, then one indexed lookup per key.
func (t *tx) GroupLabels(ctx context.Context) ([]string, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	// The distinct keys come from the group index alone; each key's
	// spelling from the first member the index gives for it.
	rows, err := t.q.QueryContext(ctx, t.s.d.rebind(`SELECT k.group_key, (SELECT m.groups_text FROM memberkit_member_groups g
    JOIN memberkit_members m ON m.org_id = g.org_id AND m.id = g.member_id
    WHERE g.org_id = ? AND g.group_key = k.group_key LIMIT 1)
  FROM (SELECT DISTINCT group_key FROM memberkit_member_groups WHERE org_id = ?) k`), t.orgID, t.orgID)
	if err != nil {
		return nil, t.fail(ctx, "list group labels", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var key, groups string
		if err := rows.Scan(&key, &groups); err != nil {
			return nil, t.fail(ctx, "list group labels", err)
		}
		for _, g := range splitGroups(groups) {
			if membership.GroupKey(g) == key {
				out = append(out, g)
				break
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(ctx, "list group labels", err)
	}
	return out, nil
}
