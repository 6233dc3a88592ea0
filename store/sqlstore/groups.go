package sqlstore

import (
	"context"

	"github.com/memberkit/memberkit/membership"
)

// GroupLabels reads each group key of the org once, with the labels of
// one member carrying it, and returns that member's spelling: one
// statement over the group index, however many members share a group.
func (t *tx) GroupLabels(ctx context.Context) ([]string, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	rows, err := t.q.QueryContext(ctx, t.s.d.rebind(`SELECT g.group_key, m.groups_text FROM
  (SELECT group_key, MIN(member_id) AS mid FROM memberkit_member_groups WHERE org_id = ? GROUP BY group_key) g
  JOIN memberkit_members m ON m.org_id = ? AND m.id = g.mid`), t.orgID, t.orgID)
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
