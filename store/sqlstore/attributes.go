package sqlstore

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Member attributes are kept twice: as JSON in the member's row (read with
// the member) and one row per key in memberkit_member_attributes, indexed
// by (org, key, value), which the key=value filters of a listing use.

// encodeAttributes returns the JSON object of the attributes ("" for
// none); encoding/json writes keys sorted, so equal maps encode equally.
func encodeAttributes(a membership.Attributes) string {
	if len(a) == 0 {
		return ""
	}
	b, err := json.Marshal(map[string]string(a))
	if err != nil { // a map of strings always encodes
		panic(err)
	}
	return string(b)
}

func decodeAttributes(s string) (membership.Attributes, error) {
	if s == "" {
		return nil, nil
	}
	var a membership.Attributes
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return nil, err
	}
	if len(a) == 0 {
		return nil, nil
	}
	return a, nil
}

func appendAttributeRows(rows [][4]string, m *membership.Member) [][4]string {
	for _, k := range slices.Sorted(maps.Keys(m.Attributes)) {
		if v := m.Attributes[k]; v != "" {
			rows = append(rows, [4]string{m.OrgID, m.ID, k, v})
		}
	}
	return rows
}

func (t *tx) insertAttributes(ctx context.Context, rows [][4]string) error {
	if len(rows) == 0 {
		return nil
	}
	err := t.insertRows(ctx, "memberkit_member_attributes", "org_id, member_id, attr_key, attr_value", 4, len(rows), func(i int) []any {
		return []any{rows[i][0], rows[i][1], rows[i][2], rows[i][3]}
	})
	if err != nil {
		return t.fail(ctx, "insert member attributes", err)
	}
	return nil
}

// rewriteAttributes replaces the attribute rows of members.
func (t *tx) rewriteAttributes(ctx context.Context, memberIDs []string, rows [][4]string) error {
	if err := t.deleteRowsOf(ctx, "memberkit_member_attributes", memberIDs); err != nil {
		return err
	}
	return t.insertAttributes(ctx, rows)
}

// attributeFilter appends to a member query the conditions of a key=value
// filter: a member carries every pair (a pair with an empty value: does
// not carry the key).
func attributeFilter(b *strings.Builder, args []any, f store.MemberFilter) []any {
	for _, k := range slices.Sorted(maps.Keys(f.Attributes)) {
		v := f.Attributes[k]
		if v == "" {
			b.WriteString(" AND NOT EXISTS (SELECT 1 FROM memberkit_member_attributes a WHERE a.org_id = m.org_id AND a.member_id = m.id AND a.attr_key = ?)")
			args = append(args, k)
			continue
		}
		b.WriteString(" AND EXISTS (SELECT 1 FROM memberkit_member_attributes a WHERE a.org_id = m.org_id AND a.member_id = m.id AND a.attr_key = ? AND a.attr_value = ?)")
		args = append(args, k, v)
	}
	return args
}
