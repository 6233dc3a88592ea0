package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// verifyTwins checks that the raw bound wrote the same data as memberkit:
// the twin orgs started equal, so after the reconcile their member rows
// (every column but IDs, times and the stamp's value), group rows, events
// (all but IDs, times and seq order) and counters must be equal, and each
// org's events numbered 1…n. A difference ends the program: a bound that
// writes less is no bound.
func verifyTwins(ctx context.Context, tg target, mkOrg, rawOrg string) {
	mk, raw := snapshot(ctx, tg, mkOrg), snapshot(ctx, tg, rawOrg)
	for _, part := range []struct {
		name     string
		mk, raw  []string
		describe string
	}{
		{"members", mk.members, raw.members, "login key, login, names, email, email key, status, role, groups text, search text, version, must change, hash (its parameters), attributes, user ID, has stamp, updated since created"},
		{"group rows", mk.groups, raw.groups, "login key, group key"},
		{"events", mk.events, raw.events, "type, subject's login key, roles and statuses before and after, detail, attributes"},
		{"org", mk.org, raw.org, "roster version, active members, active admins, event seq, event count, seq range"},
	} {
		if !slices.Equal(part.mk, part.raw) {
			n := 0
			for i := range max(len(part.mk), len(part.raw)) {
				var a, b string
				if i < len(part.mk) {
					a = part.mk[i]
				}
				if i < len(part.raw) {
					b = part.raw[i]
				}
				if a != b {
					fmt.Printf("  memberkit: %q\n  raw:       %q\n", a, b)
					if n++; n == 5 {
						break
					}
				}
			}
			fatalf("verify: the raw bound's %s differ from memberkit's (%d against %d; compared: %s)", part.name, len(part.raw), len(part.mk), part.describe)
		}
	}
	fmt.Printf("verify: the twin orgs hold the same data (%d members, %d group rows, %d events, org %s)\n", len(mk.members), len(mk.groups), len(mk.events), strings.Join(mk.org, " "))
}

type orgSnapshot struct {
	members, groups, events, org []string
}

func snapshot(ctx context.Context, tg target, orgID string) orgSnapshot {
	var s orgSnapshot
	rows := func(q string, n int) []string {
		r, err := tg.db.QueryContext(ctx, rebind(tg.d, q), orgID)
		if err != nil {
			fatalf("verify: %v", err)
		}
		defer r.Close()
		var out []string
		vals := make([]any, n)
		ptrs := make([]any, n)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for r.Next() {
			if err := r.Scan(ptrs...); err != nil {
				fatalf("verify: %v", err)
			}
			parts := make([]string, n)
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				parts[i] = fmt.Sprint(v)
			}
			out = append(out, strings.Join(parts, " | "))
		}
		if err := r.Err(); err != nil {
			fatalf("verify: %v", err)
		}
		return out
	}
	s.members = rows(`SELECT login_key, login, first_name, last_name, email, COALESCE(email_key, ''), status, role_id, groups_text, search_text, version, `+
		`CASE WHEN must_change_password THEN 1 ELSE 0 END, password_hash, attributes, user_id, COALESCE(user_key, ''), `+
		`CASE WHEN security_stamp <> '' THEN 1 ELSE 0 END, CASE WHEN updated_at <> created_at THEN 1 ELSE 0 END, CASE WHEN last_login_at IS NULL THEN 1 ELSE 0 END `+
		`FROM memberkit_members WHERE org_id = ? ORDER BY login_key`, 19)
	s.groups = rows(`SELECT g.login_key, g.group_key, CASE WHEN m.id IS NULL THEN 'no such member' ELSE 'member' END FROM memberkit_member_groups g `+
		`LEFT JOIN memberkit_members m ON m.org_id = g.org_id AND m.id = g.member_id AND m.login_key = g.login_key WHERE g.org_id = ? ORDER BY g.login_key, g.group_key`, 3)
	s.events = rows(`SELECT e.type, COALESCE(m.login_key, CASE WHEN e.subject_id = e.org_id THEN '(org)' ELSE '(unknown)' END), e.role_before, e.role_after, e.status_before, e.status_after, e.detail, e.attributes, e.actor `+
		`FROM memberkit_events e LEFT JOIN memberkit_members m ON m.org_id = e.org_id AND m.id = e.subject_id WHERE e.org_id = ?`, 9)
	// A new member's hash is of the same temporary password, with its
	// own salt: compared up to the salt.
	for i, r := range s.members {
		f := strings.Split(r, " | ")
		if h := f[12]; strings.Count(h, "$") >= 5 {
			f[12] = h[:strings.LastIndex(h[:strings.LastIndex(h, "$")], "$")] + "$(salt)$(digest)"
		}
		s.members[i] = strings.Join(f, " | ")
	}
	slices.Sort(s.events)
	s.org = rows(`SELECT o.roster_version, o.active_members, o.active_admins, o.event_seq, `+
		`(SELECT COUNT(*) FROM memberkit_events e WHERE e.org_id = o.id), (SELECT COUNT(DISTINCT seq) FROM memberkit_events e WHERE e.org_id = o.id), `+
		`(SELECT COALESCE(MIN(seq), 0) FROM memberkit_events e WHERE e.org_id = o.id), (SELECT COALESCE(MAX(seq), 0) FROM memberkit_events e WHERE e.org_id = o.id) `+
		`FROM memberkit_orgs o WHERE o.id = ?`, 8)
	// The counters against a count of the rows.
	s.org = append(s.org, rows(`SELECT SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'active' AND role_id = 'admin' THEN 1 ELSE 0 END) FROM memberkit_members WHERE org_id = ?`, 2)...)
	return s
}
