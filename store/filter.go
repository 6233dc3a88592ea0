package store

import (
	"strings"

	"github.com/memberkit/memberkit/membership"
)

// Matches reports whether m passes the filter. Stores that filter in
// memory use it, so that every store filters the same way.
func (f MemberFilter) Matches(m membership.Member) bool {
	if len(f.Statuses) > 0 && !containsStatus(f.Statuses, m.Status) {
		return false
	}
	if f.RoleID != "" && m.RoleID != f.RoleID {
		return false
	}
	if f.Group != "" && !membership.HasGroupKey(m, membership.GroupKey(f.Group)) {
		return false
	}
	if f.Text != "" && !strings.Contains(membership.SearchText(m), membership.SearchQuery(f.Text)) {
		return false
	}
	if f.UserID != "" && m.UserID != f.UserID {
		return false
	}
	for k, v := range f.Attributes {
		if m.Attributes[k] != v {
			return false
		}
	}
	if len(f.IDs) > 0 {
		found := false
		for _, id := range f.IDs {
			if id == m.ID {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func containsStatus(ss []membership.Status, s membership.Status) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
