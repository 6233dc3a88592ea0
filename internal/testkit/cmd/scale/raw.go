package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// The raw lower bound of a reconcile: what a hand-written importer that
// knows its file and its database must do to write the same data as
// memberkit, and nothing more. In one transaction on one connection: lock
// the org's row, read every member once, match the file's rows by login,
// then write with the database's best technique (raw_postgres.go,
// raw_sqlite.go, raw_mysql.go):
//   - changed rows: names, email and its key, status, search text
//     (membership.SearchText, as memberkit computes it), groups text,
//     updated_at, version+1, and a new security stamp when the status
//     changes (membership.RotatesStamp);
//   - absent active members: deactivated, with a new stamp;
//   - new rows: whole member rows (the shared temporary password hashed
//     once with the same argon2id hasher, a security stamp each) and their
//     group rows;
//   - the group rows of members whose groups changed, deleted and written
//     again;
//   - one event per changed member and one for the import, numbered from
//     the org's event_seq, with memberkit's types and details;
//   - the org's active members and admins (membership.Tally over the
//     events, as memberkit counts them), roster version and event_seq.
//
// It checks no permission and no version (it holds the org's lock from
// the start) and reads nothing twice. The file is read by position in the
// export's format (Identifiant;Nom;Prénom;Adresse e-mail;Mot de passe;
// Etat;Rôle;Groupes); the Rôle and password cells are not interpreted
// (the file leaves roles as they are and carries the export's
// placeholder), which the twin comparison (verify.go) would catch.

// rawMember is a member as the raw bound reads it.
type rawMember struct {
	id, login, first, last, email, status, role, groups string
	matched                                             bool
}

// rawUpdate is a changed member row.
type rawUpdate struct {
	id, first, last, email, status, search, groups string
	stamp                                          string // "" keeps the member's stamp
}

// rawPlan is everything the bound writes.
type rawPlan struct {
	orgID     string
	now       int64 // microseconds
	actor     string
	updates   []rawUpdate
	deacts    []string // IDs of absent active members
	adds      []membership.Member
	regroup   []string    // IDs of members whose group rows are rewritten
	groupRows [][3]string // group key, login key, member ID
	events    []membership.Event
	firstSeq  int64 // seq of the first event
	tally     membership.Tally

	// The write's steps and their times, for the report.
	steps []string
	mark  time.Time
}

// step records the time of the write's step that just ended.
func (p *rawPlan) step(name string) {
	now := time.Now()
	p.steps = append(p.steps, fmt.Sprintf("%s %.2fs", name, now.Sub(p.mark).Seconds()))
	p.mark = now
}

type rawResult struct {
	total, parse, read, write, commit time.Duration
	technique                         string
	steps                             []string
	updated, deactivated, inserted    int
	groupRows, regrouped, events      int
}

// rawWriter writes a plan with one database's best technique, on the
// connection holding the transaction.
type rawWriter interface {
	technique() string
	write(ctx context.Context, c *sql.Conn, p *rawPlan) error
}

// rebind turns ? into $n for PostgreSQL.
func rebind(d sqlstore.Dialect, q string) string {
	if d != sqlstore.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// beginRaw opens a write transaction on c the way each database's
// writers must: BEGIN IMMEDIATE on SQLite (the one writer), BEGIN
// elsewhere, where the org's row is then locked.
func beginRaw(ctx context.Context, c *sql.Conn, d sqlstore.Dialect) error {
	begin := "BEGIN"
	if d == sqlstore.SQLite {
		begin = "BEGIN IMMEDIATE"
	}
	_, err := c.ExecContext(ctx, begin)
	return err
}

func rawReconcile(ctx context.Context, tg target, orgID string, data []byte, hasher membership.Hasher) rawResult {
	var w rawWriter
	switch tg.d {
	case sqlstore.Postgres:
		w = &pgWriter{copy: *pgInsertFlag == "copy"}
	case sqlstore.SQLite:
		w = sqliteWriter{}
	case sqlstore.MySQL:
		w = mysqlWriter{}
	}
	t0 := time.Now()
	// The shared temporary password is hashed while the roster is read,
	// as memberkit's plan does.
	type hashed struct {
		h   membership.PasswordHash
		err error
	}
	hashc := make(chan hashed, 1)
	go func() {
		h, err := hasher.Hash(tempPassword)
		hashc <- hashed{h, err}
	}()
	type row struct {
		line  int
		cells []string
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))))
	r.Comma = ';'
	r.FieldsPerRecord = -1
	var rows []row
	for i := 0; ; i++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fatal(err)
		}
		if i == 0 {
			continue // the header
		}
		line, _ := r.FieldPos(0)
		rows = append(rows, row{line, rec})
	}
	cell := func(rec []string, i int) string {
		if i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	tRead := time.Now()

	c := must(tg.db.Conn(ctx))
	defer c.Close()
	if err := beginRaw(ctx, c, tg.d); err != nil {
		fatal(err)
	}
	committed := false
	defer func() {
		if !committed {
			_, _ = c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	lock := "SELECT event_seq FROM memberkit_orgs WHERE id = ?"
	if tg.d != sqlstore.SQLite {
		lock += " FOR UPDATE"
	}
	var seq int64
	if err := c.QueryRowContext(ctx, rebind(tg.d, lock), orgID).Scan(&seq); err != nil {
		fatal(err)
	}
	// The fastest bare read we found per database: PostgreSQL scans the
	// table (bitmap heap scan); SQLite reads in ID order, which is the
	// order rows were stored in (a plain WHERE walks an index and jumps
	// around the table: 8.0 s against 7.1 s for read and match at 1,000,000).
	read := "SELECT id, login, first_name, last_name, email, status, role_id, groups_text FROM memberkit_members WHERE org_id = ?"
	if tg.d == sqlstore.SQLite {
		read += " ORDER BY id"
	}
	q, err := c.QueryContext(ctx, rebind(tg.d, read), orgID)
	if err != nil {
		fatal(err)
	}
	var members []rawMember
	byLogin := make(map[string]int32, len(rows))
	for q.Next() {
		var m rawMember
		if err := q.Scan(&m.id, &m.login, &m.first, &m.last, &m.email, &m.status, &m.role, &m.groups); err != nil {
			fatal(err)
		}
		byLogin[membership.LoginKey(m.login)] = int32(len(members))
		members = append(members, m)
	}
	if err := q.Err(); err != nil {
		fatal(err)
	}
	q.Close()

	now := store.Time(time.Now())
	p := &rawPlan{orgID: orgID, now: now.UnixMicro(), actor: sys.String(), firstSeq: seq + 1}
	event := func(typ membership.EventType, subject, roleBefore, roleAfter string, before, after membership.Status, detail string) {
		p.events = append(p.events, membership.Event{ID: membership.NewID(), OrgID: orgID, At: now, Type: typ, Actor: p.actor, SubjectID: subject,
			RoleBefore: roleBefore, RoleAfter: roleAfter, StatusBefore: before, StatusAfter: after, Detail: detail})
	}
	var added, updated, reactivated, deactivated, unchanged int
	var addRows []row
	for _, rw := range rows {
		rec := rw.cells
		status := membership.StatusActive
		if strings.HasPrefix(cell(rec, 5), "D") {
			status = membership.StatusDeactivated
		}
		i, ok := byLogin[membership.LoginKey(cell(rec, 0))]
		if !ok {
			addRows = append(addRows, rw)
			continue
		}
		m := &members[i]
		m.matched = true
		last, first, email := cell(rec, 1), cell(rec, 2), cell(rec, 3)
		var fields []string
		if last != m.last {
			fields = append(fields, "last_name")
		}
		if first != m.first {
			fields = append(fields, "first_name")
		}
		if email != m.email {
			fields = append(fields, "email")
		}
		if string(status) != m.status {
			fields = append(fields, "status")
		}
		groups := m.groups
		var newGroups []string
		if len(rec) > 7 {
			var err error
			if newGroups, err = membership.ValidateGroups(splitGroupsCell(cell(rec, 7))); err != nil {
				fatal(err)
			}
			if !sameGroups(splitStored(m.groups), newGroups) {
				fields = append(fields, "groups")
				groups = strings.Join(newGroups, "\n")
				p.regroup = append(p.regroup, m.id)
				p.groupRows = appendGroupRows(p.groupRows, m.login, m.id, newGroups)
			}
		}
		if len(fields) == 0 {
			unchanged++
			continue
		}
		before := membership.Member{Status: membership.Status(m.status), RoleID: m.role}
		after := membership.Member{Status: status, RoleID: m.role}
		u := rawUpdate{id: m.id, first: first, last: last, email: email, status: string(status), groups: groups,
			search: membership.SearchText(membership.Member{FirstName: first, LastName: last, Login: m.login, Email: email})}
		if membership.RotatesStamp(before, after) {
			u.stamp = membership.NewSecurityStamp()
		}
		p.updates = append(p.updates, u)
		typ := membership.EventMemberUpdated
		switch {
		case status == membership.StatusActive && before.Status != membership.StatusActive:
			typ = membership.EventMemberActivated
			reactivated++
		case status == membership.StatusDeactivated && before.Status == membership.StatusActive:
			typ = membership.EventMemberDeactivated
			deactivated++
		default:
			updated++
		}
		event(typ, m.id, m.role, m.role, before.Status, status, fmt.Sprintf("csv line %d: %s", rw.line, strings.Join(fields, ", ")))
	}
	var absent []*rawMember
	for i := range members {
		if m := &members[i]; !m.matched && m.status == string(membership.StatusActive) {
			absent = append(absent, m)
		}
	}
	slices.SortFunc(absent, func(a, b *rawMember) int {
		return strings.Compare(membership.LoginKey(a.login), membership.LoginKey(b.login))
	})
	for _, m := range absent {
		p.deacts = append(p.deacts, m.id)
		event(membership.EventMemberDeactivated, m.id, m.role, m.role, membership.StatusActive, membership.StatusDeactivated, "csv: absent from the file")
		deactivated++
	}
	h := <-hashc
	if h.err != nil {
		fatal(h.err)
	}
	for _, rw := range addRows {
		rec := rw.cells
		status := membership.StatusActive
		if strings.HasPrefix(cell(rec, 5), "D") {
			status = membership.StatusDeactivated
		}
		m := membership.Member{ID: membership.NewID(), OrgID: orgID, Login: cell(rec, 0), Email: cell(rec, 3), FirstName: cell(rec, 2), LastName: cell(rec, 1),
			RoleID: membership.RoleUser, Status: status, PasswordHash: h.h, MustChangePassword: true, CreatedAt: now, UpdatedAt: now,
			SecurityStamp: membership.NewSecurityStamp()}
		if len(rec) > 7 {
			var err error
			if m.Groups, err = membership.ValidateGroups(splitGroupsCell(cell(rec, 7))); err != nil {
				fatal(err)
			}
			p.groupRows = appendGroupRows(p.groupRows, m.Login, m.ID, m.Groups)
		}
		p.adds = append(p.adds, m)
		event(membership.EventMemberAdded, m.ID, "", m.RoleID, "", m.Status, fmt.Sprintf("csv line %d", rw.line))
		added++
	}
	if len(p.events) > 0 {
		event(membership.EventCSVImported, orgID, "", "", "", "", fmt.Sprintf("added %d, updated %d, reactivated %d, deactivated %d, unchanged %d",
			added, updated, reactivated, deactivated, unchanged))
	}
	for _, e := range p.events {
		p.tally.Event(e)
	}

	tWrite := time.Now()
	p.mark = tWrite
	if len(p.events) > 0 {
		if err := w.write(ctx, c, p); err != nil {
			fatalf("raw %s: %v", tg.kind, err)
		}
		if _, err := c.ExecContext(ctx, rebind(tg.d, "UPDATE memberkit_orgs SET roster_version = roster_version + 1, active_members = active_members + ?, active_admins = active_admins + ?, event_seq = ? WHERE id = ?"),
			p.tally.Active, p.tally.Admins, seq+int64(len(p.events)), orgID); err != nil {
			fatal(err)
		}
		p.step("org")
	}
	tCommit := time.Now()
	if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
		fatal(err)
	}
	committed = true
	end := time.Now()
	return rawResult{total: end.Sub(t0), parse: tRead.Sub(t0), read: tWrite.Sub(tRead), write: tCommit.Sub(tWrite), commit: end.Sub(tCommit),
		technique: w.technique(), steps: p.steps, updated: len(p.updates), deactivated: len(p.deacts), inserted: len(p.adds),
		groupRows: len(p.groupRows), regrouped: len(p.regroup), events: len(p.events)}
}

// splitGroupsCell reads a Groupes cell as csvsync does: one label per line
// when the cell has several lines, else labels separated by commas.
func splitGroupsCell(cell string) []string {
	if cell == "" {
		return nil
	}
	if strings.ContainsAny(cell, "\r\n") {
		return strings.FieldsFunc(cell, func(r rune) bool { return r == '\n' || r == '\r' })
	}
	return strings.Split(cell, ",")
}

// splitStored reads a groups_text column (labels joined by newlines).
func splitStored(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// sameGroups reports whether two lists hold the same labels, without
// regard to order or case.
func sameGroups(a, b []string) bool {
	key := func(gs []string) []string {
		out := make([]string, len(gs))
		for i, g := range gs {
			out[i] = membership.GroupKey(g)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(key(a), key(b))
}

// appendGroupRows adds a member's group rows, one per distinct group key.
func appendGroupRows(rows [][3]string, login, id string, groups []string) [][3]string {
	lk := membership.LoginKey(login)
	seen := map[string]bool{}
	for _, g := range groups {
		k := membership.GroupKey(g)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		rows = append(rows, [3]string{k, lk, id})
	}
	return rows
}

func nullIfEmpty(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// memberRow is a new member's values in the order of memberCols.
func memberRow(m *membership.Member) []any {
	return []any{m.OrgID, m.ID, m.UserID, nullIfEmpty(m.UserID), m.Login, membership.LoginKey(m.Login), m.Email, nullIfEmpty(membership.EmailKey(m.Email)),
		m.FirstName, m.LastName, m.RoleID, string(m.Status), strings.Join(m.Groups, "\n"), membership.SearchText(*m),
		nil, string(m.PasswordHash), m.MustChangePassword, m.CreatedAt.UnixMicro(), m.UpdatedAt.UnixMicro(), int64(1), m.SecurityStamp, ""}
}

const memberCols = "org_id, id, user_id, user_key, login, login_key, email, email_key, first_name, last_name, role_id, status, groups_text, search_text, last_login_at, password_hash, must_change_password, created_at, updated_at, version, security_stamp, attributes"

const eventCols = "org_id, id, at, type, actor, subject_id, role_before, role_after, status_before, status_after, detail, attributes, seq"

// eventRow is an event's values in the order of eventCols.
func eventRow(orgID string, e *membership.Event, seq int64) []any {
	return []any{orgID, e.ID, e.At.UnixMicro(), string(e.Type), e.Actor, e.SubjectID, e.RoleBefore, e.RoleAfter, string(e.StatusBefore), string(e.StatusAfter), e.Detail, "", seq}
}

// splitCols splits a column list.
func splitCols(cols string) []string { return strings.Split(cols, ", ") }
