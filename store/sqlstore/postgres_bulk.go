package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// updateMembersPostgres updates members by UPDATE … FROM unnest(…), up to
// pgArrayBatch per statement, one array per column: the one bulk
// technique of PostgreSQL writes, as for inserts and patches. A batch
// large enough for the Copier goes through a temporary table instead.
func updateMembersPostgres(ctx context.Context, t *tx, ms []membership.Member) error {
	if ct := t.copier(len(ms)); ct != nil {
		ok, err := t.copyTemp(ctx, ct, pgTempMembers, writeCols, len(ms), func(i int) []any { return writeRow(&ms[i]) })
		if err != nil {
			return t.updateError(ctx, err, batchCulprit(len(ms), ms[0]))
		}
		if ok {
			res, err := t.q.ExecContext(ctx, t.s.d.rebind(pgUpdateMembersFrom(pgTempMembers+` AS v`)), t.orgID)
			if err != nil {
				return t.updateError(ctx, err, batchCulprit(len(ms), ms[0]))
			}
			return membersChanged(res, len(ms))
		}
	}
	for part := range slices.Chunk(ms, pgArrayBatch) {
		q, args, err := pgUpdateMembers(t.orgID, part)
		if err != nil {
			return err
		}
		res, err := t.q.ExecContext(ctx, t.s.d.rebind(q), args...)
		if err != nil {
			return t.updateError(ctx, err, batchCulprit(len(part), part[0]))
		}
		if err := membersChanged(res, len(part)); err != nil {
			return err
		}
	}
	return nil
}

// membersChanged checks that an UPDATE of n members matched them all:
// one that did not had moved meanwhile.
func membersChanged(res sql.Result, n int) error {
	if got, err := res.RowsAffected(); err == nil && int(got) != n {
		return fmt.Errorf("%d of %d members changed meanwhile: %w", n-int(got), n, store.ErrConflict)
	}
	return nil
}

// The temporary tables of the Copier's updates and patches.
const (
	pgTempMembers = "memberkit_copy_members"
	pgTempPatches = "memberkit_copy_patches"
)

// The UPDATEs of members read the org's ID from a column of their rows,
// not from a parameter: m.org_id = v.org_id AND m.id = v.id, with
// v.org_id = ? on the rows, so that PostgreSQL reads each member by its
// primary key whatever its statistics say of the org. Compared with
// m.org_id = ?, on an org loaded after the last ANALYZE, it joined the
// org's every member by hash instead (pgxcopy's
// BenchmarkDeactivationShapes, 1,000 deactivations in an org of 100,000:
// unnest 188 and 139 ms, with the column 80 and 57; a temporary table 194
// and 134, with the column 51 and 42; on fresh statistics all within the
// noise of each other, 60–120 ms).

// pgUpdateMembers is the UPDATE … FROM unnest(…) of whole members, with
// ? placeholders, each member matched at the Version it carries.
func pgUpdateMembers(orgID string, ms []membership.Member) (string, []any, error) {
	unnest, args, err := pgUnnest(writeCols, len(ms), func(i int) []any { return writeRow(&ms[i]) })
	if err != nil {
		return "", nil, err
	}
	return pgUpdateMembersFrom(unnest + ` AS v(` + writeCols + `)`), append(args, orgID), nil
}

// pgUpdateMembersFrom is the UPDATE of whole members from the rows of
// writeCols that from names v; its last placeholder is the org's ID,
// which every row must carry.
func pgUpdateMembersFrom(from string) string {
	return `UPDATE memberkit_members AS m SET ` + setClause("", memberSets) + ` FROM ` + from + ` ` +
		`WHERE m.org_id = v.org_id AND m.id = v.id AND m.version = v.version AND v.org_id = ?`
}

// pgPatchFrom is the UPDATE of patches from the rows of patchCols that
// from names v; its last placeholder is the org's ID, which every row
// must carry.
func pgPatchFrom(from string) string {
	return `UPDATE memberkit_members AS m SET ` + setClause("", patchSets) + ` FROM ` + from + ` ` +
		`WHERE m.org_id = v.org_id AND m.id = v.id AND m.version = v.version AND m.login_key = v.login_key AND v.org_id = ?`
}

// patchMembersPostgres writes up to pgArrayBatch patches per UPDATE … FROM
// unnest(…); a batch large enough for the Copier goes through a temporary
// table instead.
func patchMembersPostgres(ctx context.Context, t *tx, ps []store.MemberPatch) error {
	if len(ps) == 0 {
		return nil
	}
	if ct := t.copier(len(ps)); ct != nil {
		ok, err := t.copyTemp(ctx, ct, pgTempPatches, patchCols, len(ps), func(i int) []any { return patchRow(t.orgID, &ps[i]) })
		if err != nil {
			return t.updateError(ctx, err, batchCulprit(len(ps), membership.Member{Login: ps[0].Login, Email: ps[0].Email}))
		}
		if ok {
			return patchBatch(ctx, t, ps, pgPatchFrom(pgTempPatches+` AS v`), []any{t.orgID})
		}
	}
	for part := range slices.Chunk(ps, pgArrayBatch) {
		unnest, args, err := pgUnnest(patchCols, len(part), func(i int) []any { return patchRow(t.orgID, &part[i]) })
		if err != nil {
			return err
		}
		if err := patchBatch(ctx, t, part, pgPatchFrom(unnest+` AS v(`+patchCols+`)`), append(args, t.orgID)); err != nil {
			return err
		}
	}
	return nil
}

// patchBatch runs the UPDATE q of the patches ps and checks that it matched
// them all.
func patchBatch(ctx context.Context, t *tx, ps []store.MemberPatch, q string, args []any) error {
	res, err := t.q.ExecContext(ctx, t.s.d.rebind(q), args...)
	if err != nil {
		return t.updateError(ctx, err, batchCulprit(len(ps), membership.Member{Login: ps[0].Login, Email: ps[0].Email}))
	}
	if n, err := res.RowsAffected(); err == nil && int(n) != len(ps) {
		return t.patchMismatch(ctx, ps)
	}
	return nil
}

// pgUnnest builds "unnest(?::type[], …)", placeholders to rebind, for n
// rows of the columns cols (comma-separated), one array literal per
// column, each column's type from the Go type of its values.
func pgUnnest(cols string, n int, row func(i int) []any) (string, []any, error) {
	ncols := strings.Count(cols, ",") + 1
	arrays := make([]pgArray, ncols)
	types := make([]string, ncols)
	for i := range n {
		for c, v := range row(i) {
			typ, err := arrays[c].addValue(v)
			if err != nil {
				return "", nil, fmt.Errorf("sqlstore: column %d: %w", c+1, err)
			}
			types[c] = typ
		}
	}
	var b strings.Builder
	args := make([]any, ncols)
	b.WriteString("unnest(")
	for c := range arrays {
		if c > 0 {
			b.WriteString(", ")
		}
		b.WriteString("?::" + types[c] + "[]")
		args[c] = arrays[c].String()
	}
	b.WriteString(")")
	return b.String(), args, nil
}

// insertRowsPostgres writes up to pgArrayBatch rows per INSERT … SELECT FROM
// unnest(…), one array parameter per column; a batch large enough for the
// Copier goes by COPY instead.
func insertRowsPostgres(ctx context.Context, t *tx, table, cols string, n int, row func(i int) []any) error {
	if ct := t.copier(n); ct != nil {
		if ok, err := t.copyRows(ctx, ct, table, cols, n, row); ok {
			return err
		}
	}
	for start := 0; start < n; start += pgArrayBatch {
		end := min(start+pgArrayBatch, n)
		unnest, args, err := pgUnnest(cols, end-start, func(i int) []any { return row(start + i) })
		if err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
		if _, err := t.q.ExecContext(ctx, t.s.d.rebind("INSERT INTO "+table+" ("+cols+") SELECT * FROM "+unnest), args...); err != nil {
			return err
		}
	}
	return nil
}

// pgArrayBatch is the rows per array statement: measured on a
// 100,000-member reconcile, 5,000-row statements were slower than 1,000.
const pgArrayBatch = 1000

// pgArray builds a PostgreSQL array literal, sent as one text parameter
// and cast in SQL ($1::text[]): any driver can pass it, and the server
// parses one parameter for a whole column of a batch.
type pgArray struct {
	b strings.Builder
}

// addValue appends a value of one of the Go types the store binds and
// returns its PostgreSQL type.
func (a *pgArray) addValue(v any) (string, error) {
	switch v := v.(type) {
	case string:
		a.add(v)
		return "text", nil
	case sql.NullString:
		if !v.Valid {
			a.null()
		} else {
			a.add(v.String)
		}
		return "text", nil
	case int64:
		a.addInt(v)
		return "bigint", nil
	case int:
		a.addInt(int64(v))
		return "bigint", nil
	case sql.NullInt64:
		if !v.Valid {
			a.null()
		} else {
			a.addInt(v.Int64)
		}
		return "bigint", nil
	case bool:
		a.sep()
		a.b.WriteString(strconv.FormatBool(v))
		return "boolean", nil
	}
	return "", fmt.Errorf("no PostgreSQL array for %T", v)
}

// pgType is the PostgreSQL type of a value of one of the Go types the
// store binds, as addValue gives it.
func pgType(v any) (string, error) {
	switch v.(type) {
	case string, sql.NullString:
		return "text", nil
	case int64, int, sql.NullInt64:
		return "bigint", nil
	case bool:
		return "boolean", nil
	}
	return "", fmt.Errorf("no PostgreSQL type for %T", v)
}

func (a *pgArray) sep() {
	if a.b.Len() == 0 {
		a.b.WriteByte('{')
	} else {
		a.b.WriteByte(',')
	}
}

// add appends a text element, quoted; only '"' and '\' need escaping.
func (a *pgArray) add(s string) {
	a.sep()
	a.b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			a.b.WriteByte('\\')
		}
		a.b.WriteByte(s[i])
	}
	a.b.WriteByte('"')
}

// addOrNull appends s, or NULL when s is empty.
func (a *pgArray) addOrNull(s string) {
	if s == "" {
		a.null()
		return
	}
	a.add(s)
}

func (a *pgArray) null() {
	a.sep()
	a.b.WriteString("NULL")
}

func (a *pgArray) addInt(v int64) {
	a.sep()
	a.b.WriteString(strconv.FormatInt(v, 10))
}

func (a *pgArray) String() string {
	if a.b.Len() == 0 {
		return "{}"
	}
	return a.b.String() + "}"
}
