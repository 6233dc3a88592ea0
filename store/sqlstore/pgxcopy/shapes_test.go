package pgxcopy_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// pgArray is a PostgreSQL array literal of ss.
func pgArray(ss []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`)
	}
	b.WriteByte('}')
	return b.String()
}

// BenchmarkDeactivationShapes times one UPDATE deactivating 1,000 members
// of an org of 100,000, each checked at its version, in the shapes a
// bulk deactivation could take on PostgreSQL:
//
//   - unnest: UPDATE … FROM unnest(…) of whole members (20 arrays) WHERE
//     m.org_id = $org AND m.id = v.id, the store's statement until the
//     org's ID became a column (unnest+org);
//   - unnest+org: the same with the org's ID as one more array, joined
//     m.org_id = v.org_id AND m.id = v.id, and v.org_id = $org: what
//     UpdateMembers and PatchMembers send;
//   - unnest+values: the org's ID from a one-row VALUES instead;
//   - unnest+any: unnest with AND m.id = ANY($ids);
//   - narrow: UPDATE … FROM unnest(ids, versions, stamps), status and
//     time as scalars (what a store could send only if it knew that
//     nothing else changed);
//   - any+in: WHERE id = ANY($ids) AND (id, version) IN (SELECT *
//     FROM unnest($ids, $versions));
//   - any: WHERE id = ANY($ids), no version check (a bound);
//   - temp, temp+any, temp+org: UPDATE … FROM a temporary table of the
//     whole members (the Copier's path) joined by m.org_id = $org, with
//     m.id = ANY(ARRAY(SELECT id FROM it)), or by its org_id column (what
//     the store sends);
//
// with the org's statistics fresh (analyzed after the load) and stale
// (the org loaded after the last ANALYZE, as right after an import).
// Each iteration runs each shape once, in rotating order, in a
// transaction rolled back; the figures are medians in ms.
//
//	MEMBERKIT_POSTGRES_DSN=… go test ./store/sqlstore/pgxcopy -run '^$' -bench DeactivationShapes -benchtime 7x
func BenchmarkDeactivationShapes(b *testing.B) {
	for _, stats := range []string{"fresh", "stale"} {
		b.Run("stats="+stats, func(b *testing.B) {
			ctx := context.Background()
			db := postgres(b)
			st, err := sqlstore.New(db, sqlstore.Postgres, nil)
			if err != nil {
				b.Fatal(err)
			}
			if err := st.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			if stats == "stale" {
				insert(b, st, newOrg(b, st), 500_000, 40_000, 5000)
				if _, err := db.Exec("ANALYZE"); err != nil {
					b.Fatal(err)
				}
			}
			org := newOrg(b, st)
			ms := insert(b, st, org, 0, 100_000, 5000)
			if stats == "fresh" {
				if _, err := db.Exec("ANALYZE"); err != nil {
					b.Fatal(err)
				}
			}
			took := map[string][]float64{}
			rep := 0
			for b.Loop() {
				shapes := deactivationShapes(org, ms[(rep%10)*10_000:(rep%10+1)*10_000])
				for k := range shapes {
					sh := shapes[(k+rep)%len(shapes)]
					took[sh.name] = append(took[sh.name], runShape(b, db, sh))
				}
				rep++
			}
			for name, ds := range took {
				b.ReportMetric(median(ds), name+"-ms")
			}
		})
	}
}

type shape struct {
	name  string
	setup string // run first, untimed (fills the temporary table)
	q     string
	args  []any
}

// runShape runs sh in a transaction rolled back and returns the time of
// its UPDATE in ms.
func runShape(b *testing.B, db *sql.DB, sh shape) float64 {
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	var setupArgs []any
	if sh.setup != "" {
		setupArgs = sh.args
		if _, err := tx.ExecContext(ctx, `CREATE TEMPORARY TABLE memberkit_copy_members (org_id text, id text, version bigint, user_id text, user_key text, attributes text, login text, login_key text, email text, email_key text, first_name text, last_name text, role_id text, status text, groups_text text, search_text text, last_login_at bigint, password_hash text, must_change_password boolean, updated_at bigint, security_stamp text) ON COMMIT DROP`); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, sh.setup, setupArgs[:21]...); err != nil {
			b.Fatal(sh.name, err)
		}
		sh.args = sh.args[20:]
	}
	t0 := time.Now()
	res, err := tx.ExecContext(ctx, sh.q, sh.args...)
	d := time.Since(t0)
	if err != nil {
		b.Fatal(sh.name, err)
	}
	if n, _ := res.RowsAffected(); n != 1000 {
		b.Fatalf("%s: %d rows", sh.name, n)
	}
	return float64(d.Microseconds()) / 1000
}

// deactivationShapes are the shapes deactivating every tenth member of
// ms.
func deactivationShapes(org string, ms []membership.Member) []shape {
	const cols = `id, version, user_id, user_key, attributes, login, login_key, email, email_key, first_name, last_name, role_id, status, groups_text, search_text, last_login_at, password_hash, must_change_password, updated_at, security_stamp`
	types := []string{"text", "bigint", "text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "bigint", "text", "boolean", "bigint", "text"}
	now := time.Now().UnixMicro()
	colv := make([][]string, len(types))
	var ids, versions, stamps []string
	for i := 0; i < len(ms); i += 10 {
		m := ms[i]
		stamp := membership.NewSecurityStamp()
		row := []string{m.ID, fmt.Sprint(m.Version), "", "", "", m.Login, m.Login, m.Email, m.Email, m.FirstName, m.LastName, m.RoleID, "deactivated",
			strings.Join(m.Groups, "\n"), "jeanne martin " + m.Login, "0", string(m.PasswordHash), "false", fmt.Sprint(now), stamp}
		for c := range row {
			colv[c] = append(colv[c], row[c])
		}
		ids = append(ids, m.ID)
		versions = append(versions, fmt.Sprint(m.Version))
		stamps = append(stamps, stamp)
	}
	var ph []string
	var arrays []any
	for c, typ := range types {
		ph = append(ph, fmt.Sprintf("$%d::%s[]", c+1, typ))
		arrays = append(arrays, pgArray(colv[c]))
	}
	set := `SET user_id = v.user_id, user_key = NULLIF(v.user_key, ''), attributes = v.attributes, login = v.login, login_key = v.login_key, email = v.email, email_key = v.email_key, ` +
		`first_name = v.first_name, last_name = v.last_name, role_id = v.role_id, status = v.status, groups_text = v.groups_text, search_text = v.search_text, ` +
		`last_login_at = NULLIF(v.last_login_at, 0), password_hash = v.password_hash, must_change_password = v.must_change_password, updated_at = v.updated_at, ` +
		`security_stamp = v.security_stamp, version = v.version + 1`
	unnest := `UPDATE memberkit_members AS m ` + set + ` FROM unnest(` + strings.Join(ph, ", ") + `) AS v(` + cols + `) WHERE m.org_id = $21 AND m.id = v.id AND m.version = v.version`
	fill := `INSERT INTO memberkit_copy_members SELECT $21, * FROM unnest(` + strings.Join(ph, ", ") + `)`
	temp := `UPDATE memberkit_members AS m ` + set + ` FROM memberkit_copy_members AS v WHERE m.org_id = $1 AND m.id = v.id AND m.version = v.version`
	tempOrg := `UPDATE memberkit_members AS m ` + set + ` FROM memberkit_copy_members AS v WHERE m.org_id = v.org_id AND m.id = v.id AND m.version = v.version AND v.org_id = $1`
	orgs := make([]string, len(ids))
	for i := range orgs {
		orgs[i] = org
	}
	unnestOrg := `UPDATE memberkit_members AS m ` + set + ` FROM unnest($22::text[], ` + strings.Join(ph, ", ") + `) AS v(org_id, ` + cols + `) WHERE m.org_id = v.org_id AND m.id = v.id AND m.version = v.version AND v.org_id = $21`
	with := func(extra ...any) []any { return append(append([]any{}, arrays...), extra...) }
	return []shape{
		{name: "unnest", q: unnest, args: with(org)},
		{name: "unnest+org", q: unnestOrg, args: with(org, pgArray(orgs))},
		{name: "unnest+values", q: `UPDATE memberkit_members AS m ` + set + ` FROM (VALUES ($21::text)) AS o(org_id), unnest(` + strings.Join(ph, ", ") + `) AS v(` + cols + `) WHERE m.org_id = o.org_id AND m.id = v.id AND m.version = v.version`, args: with(org)},
		{name: "unnest+any", q: unnest + ` AND m.id = ANY($22::text[])`, args: with(org, pgArray(ids))},
		{name: "narrow", q: `UPDATE memberkit_members AS m SET status = $1, updated_at = $2, security_stamp = v.stamp, version = m.version + 1 FROM unnest($3::text[], $4::bigint[], $5::text[]) AS v(id, version, stamp) WHERE m.org_id = $6 AND m.id = v.id AND m.version = v.version`,
			args: []any{"deactivated", now, pgArray(ids), pgArray(versions), pgArray(stamps), org}},
		{name: "any+in", q: `UPDATE memberkit_members AS m SET status = $1, updated_at = $2, version = m.version + 1 WHERE m.org_id = $5 AND m.id = ANY($3::text[]) AND (m.id, m.version) IN (SELECT * FROM unnest($3::text[], $4::bigint[]))`,
			args: []any{"deactivated", now, pgArray(ids), pgArray(versions), org}},
		{name: "any", q: `UPDATE memberkit_members AS m SET status = $1, updated_at = $2, version = m.version + 1 WHERE m.org_id = $4 AND m.id = ANY($3::text[])`,
			args: []any{"deactivated", now, pgArray(ids), org}},
		{name: "temp", setup: fill, q: temp, args: with(org)},
		{name: "temp+any", setup: fill, q: temp + ` AND m.id = ANY(ARRAY(SELECT id FROM memberkit_copy_members))`, args: with(org)},
		{name: "temp+org", setup: fill, q: tempOrg, args: with(org)},
	}
}
