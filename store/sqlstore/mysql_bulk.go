package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// mysqlUpdateBatch is the most members per batch UPDATE on MySQL: 500
// rows of 21 parameters stay far within the 65,535 of a statement, and
// measured no slower than 1,000 (see BENCHMARKS.md, issue 16).
const mysqlUpdateBatch = 500

// mysqlJoinMin is the fewest members written by a join: a single
// operation's one or two members keep the plain UPDATE of their row,
// prepared once per transaction, which the server plans more cheaply.
const mysqlJoinMin = 8

// updateMembersMySQL updates members mysqlUpdateBatch at a time, each
// batch one UPDATE joining the members to a derived table of their rows
// (mysqlJoin). Against one prepared UPDATE per member, it saves a round
// trip per member, which is most of a reconcile's writes.
func updateMembersMySQL(ctx context.Context, t *tx, ms []membership.Member) error {
	if len(ms) < mysqlJoinMin {
		return updateMembersEach(ctx, t, ms)
	}
	for part := range slices.Chunk(ms, mysqlUpdateBatch) {
		q, args := mysqlJoin(t, writeCols, memberSets, len(part), func(i int) []any { return writeRow(&part[i]) }, "m.version = v.version")
		res, err := mysqlExec(ctx, t, q, len(part), args)
		if err != nil {
			return t.updateError(ctx, err, batchCulprit(len(part), part[0]))
		}
		if err := membersChanged(res, len(part)); err != nil {
			return err
		}
	}
	return nil
}

// patchMembersMySQL writes patches mysqlUpdateBatch at a time, as
// updateMembersMySQL does whole members.
func patchMembersMySQL(ctx context.Context, t *tx, ps []store.MemberPatch) error {
	if len(ps) < mysqlJoinMin {
		return patchMembersEach(ctx, t, ps)
	}
	for part := range slices.Chunk(ps, mysqlUpdateBatch) {
		q, args := mysqlJoin(t, patchCols, patchSets, len(part), func(i int) []any { return patchRow(t.orgID, &part[i]) },
			"m.version = v.version AND m.login_key = "+mysqlBin("v.login_key"))
		res, err := mysqlExec(ctx, t, q, len(part), args)
		if err != nil {
			return t.updateError(ctx, err, batchCulprit(len(part), membership.Member{Login: part[0].Login, Email: part[0].Email}))
		}
		if n, err := res.RowsAffected(); err == nil && int(n) != len(part) {
			return t.patchMismatch(ctx, part)
		}
	}
	return nil
}

// mysqlExec runs q, prepared once per transaction when it writes a
// full batch of n (a reconcile sends many); a shorter one is prepared,
// run and closed by the driver, as any statement with parameters.
func mysqlExec(ctx context.Context, t *tx, q string, n int, args []any) (sql.Result, error) {
	if n < mysqlUpdateBatch {
		return t.q.ExecContext(ctx, q, args...)
	}
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// mysqlJoin is the UPDATE of n members of t's org from rows of cols
// (comma-separated, the first the org's ID, the second the member's),
// given as a derived table v of SELECTs joined by UNION ALL, assigning
// sets; match adds to the join's condition. It returns the statement and
// its parameters.
//
// The derived table's strings take the connection's collation, which
// MySQL will not compare with the columns' utf8mb4_bin: the keys are
// converted (mysqlBin) on v's side, so that each member is still read
// by its primary key.
func mysqlJoin(t *tx, cols string, sets [][2]string, n int, row func(i int) []any, match string) (string, []any) {
	names := strings.Split(cols, ", ")
	args := make([]any, 0, n*len(names)+1)
	var b strings.Builder
	b.WriteString("UPDATE memberkit_members AS m JOIN (SELECT ")
	for c, name := range names {
		if c > 0 {
			b.WriteString(", ")
		}
		b.WriteString("? AS " + name)
	}
	one := " UNION ALL SELECT " + placeholders(len(names))
	for i := range n {
		if i > 0 {
			b.WriteString(one)
		}
		args = append(args, row(i)...)
	}
	b.WriteString(") AS v ON m.org_id = ? AND m.id = " + mysqlBin("v.id") + " AND " + match + " SET " + setClause("m.", sets))
	return b.String(), append(args, t.orgID)
}

// mysqlBin is a string of a derived table in the collation of the
// members' keys.
func mysqlBin(col string) string {
	return "CONVERT(" + col + " USING utf8mb4) COLLATE utf8mb4_bin"
}
