package csvsync

import (
	"context"
	"iter"
	"maps"
	"slices"
	"strings"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Member attributes travel in columns the caller names by their keys
// (ParseOptions.Attributes, ExportOptions.Attributes): the column's header
// is the key. A present column sets the attribute of every row; a blank
// cell removes it; an absent column leaves it as it is.

// checkAttributeKeys validates the keys a caller names and returns them
// by their header (lower case).
func checkAttributeKeys(keys []string) (map[string]string, error) {
	if len(keys) > membership.MaxAttributes {
		return nil, membership.Invalid("attributes", "too_many", len(keys), membership.MaxAttributes)
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		if !membership.ValidAttributeKey(k) {
			return nil, membership.Invalid("attributes", "attribute_key", membership.Excerpt(k, 40), membership.MaxAttributeKeyLen)
		}
		if _, known := headerAliases[headerKey(k)]; known {
			return nil, membership.Invalid("attributes", "attribute_header", k)
		}
		out[k] = k
	}
	return out, nil
}

// attributeCells reads the attribute cells of a record into row, adding a
// problem per invalid cell.
func attributeCells(f *File, rec []string, idx map[string]int, row *Row, maxLen int, probs *problems) {
	for _, k := range f.Attributes {
		i := idx[k]
		v := ""
		if i < len(rec) {
			v = rec[i]
		}
		if len(v) > maxLen {
			probs.add(row.Line, k, "field_too_long", len(v), maxLen)
			continue
		}
		v = unneutralize(strings.TrimSpace(v))
		if row.Attributes == nil {
			row.Attributes = make(membership.Attributes, len(f.Attributes))
		}
		if v == "" {
			row.Attributes[k] = ""
			continue
		}
		got, err := membership.ValidateAttributes(membership.Attributes{k: v})
		if err != nil {
			probs.add(row.Line, k, "attribute", membership.Excerpt(v, 40), reasonIn(err, probs.lang))
			continue
		}
		row.Attributes[k] = got[k]
	}
}

// memberExtra is what a plan keeps of a member beyond its summary, when
// the file can change it.
type memberExtra struct {
	attrs  membership.Attributes
	groups []string
}

// summariesWithDetails streams the roster as summaries, keeping each
// member's attributes and groups aside, in the same order: what a plan
// reads when the file has attribute or Groupes columns.
func summariesWithDetails(ctx context.Context, tx store.Tx, extra *[]memberExtra) iter.Seq2[store.MemberSummary, error] {
	return func(yield func(store.MemberSummary, error) bool) {
		for m, err := range store.Details(ctx, tx) {
			if err != nil {
				yield(store.MemberSummary{}, err)
				return
			}
			*extra = append(*extra, memberExtra{attrs: m.Attributes, groups: m.Groups})
			if !yield(m.MemberSummary, nil) {
				return
			}
		}
	}
}

// attributeChanges sets the action's attributes from the row's cells and
// lists the changes, by key. It returns false, changing nothing, when the
// member would carry more attributes than allowed.
func attributeChanges(a *Action, before, cells membership.Attributes) bool {
	after := before.Merge(cells)
	if len(after) > membership.MaxAttributes {
		return false
	}
	if after.Equal(before) {
		return true
	}
	a.setAttrs, a.attrs = true, after
	for _, k := range slices.Sorted(maps.Keys(cells)) {
		if before[k] != after[k] {
			a.Changes = append(a.Changes, Change{"attributes." + k, before[k], after[k]})
		}
	}
	return true
}
