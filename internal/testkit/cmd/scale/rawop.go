package main

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// rawOps runs the raw transaction of one single operation on a connection
// of its own, taken from the same *sql.DB (same driver, same settings) as
// the store's: it writes what memberkit's operation writes — the member's
// row (only the columns that change, updated_at and version+1), one event
// numbered from the org's event_seq, and the org's counters, roster
// version and event_seq — with the database's best single-transaction
// technique:
//   - PostgreSQL: BEGIN, one statement whose data-modifying CTEs update
//     the org (returning the new event_seq) and the member and insert the
//     event, COMMIT: three round trips;
//   - SQLite: BEGIN IMMEDIATE, three statements prepared once on the
//     connection (org, member, event), COMMIT;
//   - MySQL: BEGIN, the same three prepared statements, COMMIT.
//
// Or, "row only": BEGIN, the member's row alone, COMMIT.
type rawOps struct {
	d     sqlstore.Dialect
	c     *sql.Conn
	orgID string
	actor string
	stmts map[string]*sql.Stmt
}

func newRawOps(ctx context.Context, tg target, orgID, actor string) *rawOps {
	return &rawOps{d: tg.d, c: must(tg.db.Conn(ctx)), orgID: orgID, actor: actor, stmts: map[string]*sql.Stmt{}}
}

func (r *rawOps) close() {
	for _, st := range r.stmts {
		st.Close()
	}
	r.c.Close()
}

// stmt returns q (in ? form) prepared once on the connection.
func (r *rawOps) stmt(ctx context.Context, q string) *sql.Stmt {
	if st, ok := r.stmts[q]; ok {
		return st
	}
	st, err := r.c.PrepareContext(ctx, rebind(r.d, q))
	if err != nil {
		fatalf("raw op: prepare %s: %v", q, err)
	}
	r.stmts[q] = st
	return st
}

// rawSingle is one operation's write.
type rawSingle struct {
	memberID string
	set      []string // "column = ?" of the member's update
	args     []any    // their values
	insert   *membership.Member
	dActive  int
	event    membership.Event
}

// run runs the operation's raw transaction (the member's row alone when
// rowOnly) and returns its time, from BEGIN to the end of COMMIT.
func (r *rawOps) run(ctx context.Context, op rawSingle, rowOnly bool) time.Duration {
	now := time.Now().UnixMicro()
	// The member's statement.
	var mq string
	var margs []any
	var gq string
	var gargs []any
	if m := op.insert; m != nil {
		mq = `INSERT INTO memberkit_members (` + memberCols + `) VALUES (` + strings.TrimSuffix(strings.Repeat("?, ", 22), ", ") + `)`
		margs = memberRow(m)
		if len(m.Groups) > 0 && !rowOnly {
			gq = `INSERT INTO memberkit_member_groups (org_id, group_key, login_key, member_id) VALUES (?, ?, ?, ?)`
			gargs = []any{r.orgID, membership.GroupKey(m.Groups[0]), membership.LoginKey(m.Login), m.ID}
		}
	} else {
		mq = `UPDATE memberkit_members SET ` + strings.Join(op.set, ", ") + `, updated_at = ?, version = version + 1 WHERE org_id = ? AND id = ?`
		margs = append(append(append([]any(nil), op.args...), now), r.orgID, op.memberID)
	}
	orgSet := `event_seq = event_seq + 1, roster_version = roster_version + 1`
	var oargs []any
	if op.dActive != 0 {
		orgSet += `, active_members = active_members + ?`
		oargs = append(oargs, op.dActive)
	}
	e := &op.event
	evArgs := []any{r.orgID, membership.NewID(), now, string(e.Type), r.actor, op.memberID, e.RoleBefore, e.RoleAfter, string(e.StatusBefore), string(e.StatusAfter), e.Detail}

	begin := "BEGIN"
	if r.d == sqlstore.SQLite {
		begin = "BEGIN IMMEDIATE"
	}
	t0 := time.Now()
	if _, err := r.c.ExecContext(ctx, begin); err != nil {
		fatalf("raw op: begin: %v", err)
	}
	exec := func(q string, args ...any) {
		if _, err := r.stmt(ctx, q).ExecContext(ctx, args...); err != nil {
			_, _ = r.c.ExecContext(ctx, "ROLLBACK")
			fatalf("raw op: %s: %v", q, err)
		}
	}
	switch {
	case rowOnly:
		exec(mq, margs...)
	case r.d == sqlstore.Postgres:
		// One statement: the org's row first (its lock, as memberkit
		// takes it first), the member, the event numbered from the org's
		// new event_seq; the event is inserted only if the member's
		// statement touched its row.
		q := `WITH o AS (UPDATE memberkit_orgs SET ` + orgSet + ` WHERE id = ? RETURNING event_seq), ` +
			`m AS (` + mq + ` RETURNING id)`
		args := append(append(append([]any(nil), oargs...), r.orgID), margs...)
		if gq != "" {
			q += `, g AS (` + gq + `)`
			args = append(args, gargs...)
		}
		q += ` INSERT INTO memberkit_events (` + eventCols + `) SELECT ?, ?, CAST(? AS BIGINT), ?, ?, ?, ?, ?, ?, ?, ?, '', o.event_seq FROM o, m`
		exec(q, append(args, evArgs...)...)
	default:
		exec(`UPDATE memberkit_orgs SET `+orgSet+` WHERE id = ?`, append(oargs, r.orgID)...)
		exec(mq, margs...)
		if gq != "" {
			exec(gq, gargs...)
		}
		exec(`INSERT INTO memberkit_events (`+eventCols+`) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', event_seq FROM memberkit_orgs WHERE id = ?`, append(evArgs, r.orgID)...)
	}
	if _, err := r.c.ExecContext(ctx, "COMMIT"); err != nil {
		fatalf("raw op: commit: %v", err)
	}
	return time.Since(t0)
}
