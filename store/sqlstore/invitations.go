package sqlstore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"iter"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

const invCols = `id, org_id, email, role_id, token_hash, state, invited_by, send_count, member_id, created_at, sent_at, expires_at, accepted_at, updated_at`

func scanInvitations(rows *sql.Rows) ([]membership.Invitation, error) {
	defer rows.Close()
	var out []membership.Invitation
	for rows.Next() {
		var inv membership.Invitation
		var token sql.NullString
		var state string
		var created, expires, updated int64
		var sent, accepted sql.NullInt64
		if err := rows.Scan(&inv.ID, &inv.OrgID, &inv.Email, &inv.RoleID, &token, &state, &inv.InvitedBy, &inv.SendCount, &inv.MemberID,
			&created, &sent, &expires, &accepted, &updated); err != nil {
			return nil, fmt.Errorf("sqlstore: scan invitation: %w", err)
		}
		if token.Valid {
			h, err := hex.DecodeString(token.String)
			if err != nil {
				return nil, fmt.Errorf("sqlstore: invitation %s: bad token hash: %w", inv.ID, err)
			}
			inv.TokenHash = h
		}
		inv.State = membership.InvitationState(state)
		inv.CreatedAt, inv.ExpiresAt, inv.UpdatedAt = fromMicros(created), fromMicros(expires), fromMicros(updated)
		if sent.Valid {
			inv.SentAt = fromMicros(sent.Int64)
		}
		if accepted.Valid {
			inv.AcceptedAt = fromMicros(accepted.Int64)
		}
		out = append(out, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: read invitations: %w", err)
	}
	return out, nil
}

func (t *tx) Invitation(ctx context.Context, id string) (membership.Invitation, error) {
	if err := t.check(ctx, false); err != nil {
		return membership.Invitation{}, err
	}
	rows, err := t.q.QueryContext(ctx, t.s.d.rebind(`SELECT `+invCols+` FROM memberkit_invitations WHERE org_id = ? AND id = ?`), t.orgID, id)
	if err != nil {
		return membership.Invitation{}, t.fail(ctx, "read invitation", err)
	}
	invs, err := scanInvitations(rows)
	if err != nil {
		return membership.Invitation{}, ctxErr(ctx, err)
	}
	if len(invs) == 0 {
		return membership.Invitation{}, fmt.Errorf("invitation %q: %w", id, store.ErrNotFound)
	}
	return invs[0], nil
}

func (t *tx) Invitations(ctx context.Context, q store.InvitationQuery) iter.Seq2[membership.Invitation, error] {
	return pages(ctx, t, q.After, q.Limit, firstChunk, func(after string, size int) ([]membership.Invitation, string, error) {
		where := ` WHERE org_id = ?`
		args := []any{t.orgID}
		if after != "" {
			where += ` AND id > ?`
			args = append(args, after)
		}
		if len(q.States) > 0 {
			where += ` AND state IN (` + placeholders(len(q.States)) + `)`
			for _, s := range q.States {
				args = append(args, string(s))
			}
		}
		if k := membership.EmailKey(q.Email); k != "" {
			where += ` AND email_key = ?`
			args = append(args, k)
		}
		rows, err := t.q.QueryContext(ctx, t.s.d.rebind(`SELECT `+invCols+` FROM memberkit_invitations`+where+fmt.Sprintf(` ORDER BY id LIMIT %d`, size)), args...)
		if err != nil {
			return nil, "", t.fail(ctx, "list invitations", err)
		}
		invs, err := scanInvitations(rows)
		if err != nil || len(invs) == 0 {
			return invs, "", ctxErr(ctx, err)
		}
		return invs, invs[len(invs)-1].ID, nil
	})
}

func invArgs(inv *membership.Invitation) []any {
	return []any{inv.Email, membership.EmailKey(inv.Email), inv.RoleID, nullString(hexHash(inv.TokenHash)), string(inv.State), inv.InvitedBy,
		inv.SendCount, inv.MemberID, nullMicros(inv.SentAt), micros(inv.ExpiresAt), nullMicros(inv.AcceptedAt), micros(inv.UpdatedAt)}
}

func (t *tx) InsertInvitation(ctx context.Context, inv membership.Invitation) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if inv.ID == "" || inv.OrgID != t.orgID {
		return fmt.Errorf("sqlstore: invitation %q of org %q inserted in org %q", inv.ID, inv.OrgID, t.orgID)
	}
	args := append([]any{t.orgID, inv.ID, micros(inv.CreatedAt)}, invArgs(&inv)...)
	_, err := t.q.ExecContext(ctx, t.s.d.rebind(`INSERT INTO memberkit_invitations (org_id, id, created_at, email, email_key, role_id, token_hash, state, invited_by, send_count, member_id, sent_at, expires_at, accepted_at, updated_at) VALUES (`+placeholders(15)+`)`), args...)
	if err != nil {
		if t.s.d.isUnique(err) {
			return duplicate(err, "id", "")
		}
		return t.fail(ctx, "insert invitation", err)
	}
	return nil
}

func (t *tx) UpdateInvitation(ctx context.Context, inv membership.Invitation) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if inv.OrgID != t.orgID {
		return fmt.Errorf("invitation %q: %w", inv.ID, store.ErrNotFound)
	}
	if _, err := t.Invitation(ctx, inv.ID); err != nil {
		return err
	}
	args := append(invArgs(&inv), t.orgID, inv.ID)
	_, err := t.q.ExecContext(ctx, t.s.d.rebind(`UPDATE memberkit_invitations SET email = ?, email_key = ?, role_id = ?, token_hash = ?, state = ?, invited_by = ?, send_count = ?, member_id = ?, sent_at = ?, expires_at = ?, accepted_at = ?, updated_at = ? WHERE org_id = ? AND id = ?`), args...)
	if err != nil {
		if t.s.d.isUnique(err) {
			return duplicate(err, "token", "")
		}
		return t.fail(ctx, "update invitation", err)
	}
	return nil
}

// CountOpenInvitations counts the pending invitations unexpired at now.
func (t *tx) CountOpenInvitations(ctx context.Context, now time.Time) (int, error) {
	if err := t.check(ctx, false); err != nil {
		return 0, err
	}
	var n int
	err := t.q.QueryRowContext(ctx, t.s.d.rebind(`SELECT COUNT(*) FROM memberkit_invitations WHERE org_id = ? AND state = ? AND expires_at > ?`),
		t.orgID, string(membership.InvitationPending), micros(now)).Scan(&n)
	if err != nil {
		return 0, t.fail(ctx, "count invitations", err)
	}
	return n, nil
}
