package memberhttp

import (
	"time"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
)

// The API's JSON shapes: snake_case names, times in RFC 3339, no password
// hash, token hash or security stamp. The OpenAPI document describes each.

type memberJSON struct {
	ID          string                `json:"id"`
	Login       string                `json:"login"`
	Email       string                `json:"email,omitempty"`
	FirstName   string                `json:"first_name"`
	LastName    string                `json:"last_name"`
	RoleID      string                `json:"role_id"`
	RoleName    string                `json:"role_name"`
	Status      membership.Status     `json:"status"`
	StatusLabel string                `json:"status_label"`
	Groups      []string              `json:"groups"`
	Attributes  membership.Attributes `json:"attributes,omitempty"`
	UserID      string                `json:"user_id,omitempty"`
	LastLoginAt *time.Time            `json:"last_login_at,omitempty"`
	CreatedAt   time.Time             `json:"created_at"`
	UpdatedAt   time.Time             `json:"updated_at"`
	Version     int64                 `json:"version"`
}

type invitationJSON struct {
	ID          string    `json:"id"`
	Email       string    `json:"email"`
	RoleID      string    `json:"role_id"`
	RoleName    string    `json:"role_name"`
	Status      string    `json:"status"`
	StatusLabel string    `json:"status_label"`
	InvitedBy   string    `json:"invited_by"`
	SendCount   int       `json:"send_count"`
	CreatedAt   time.Time `json:"created_at"`
	SentAt      time.Time `json:"sent_at"`
	ExpiresAt   time.Time `json:"expires_at"`
}

type roleJSON struct {
	ID          string                  `json:"id"`
	Name        string                  `json:"name"`
	Builtin     bool                    `json:"builtin"`
	Permissions []membership.Permission `json:"permissions"`
}

type permissionJSON struct {
	Name  membership.Permission `json:"name"`
	Label string                `json:"label"`
}

type eventJSON struct {
	ID           string               `json:"id"`
	Seq          int64                `json:"seq,omitempty"`
	At           time.Time            `json:"at"`
	Type         membership.EventType `json:"type"`
	Actor        string               `json:"actor"`
	SubjectID    string               `json:"subject_id,omitempty"`
	RoleBefore   string               `json:"role_before,omitempty"`
	RoleAfter    string               `json:"role_after,omitempty"`
	StatusBefore membership.Status    `json:"status_before,omitempty"`
	StatusAfter  membership.Status    `json:"status_after,omitempty"`
	Detail       string               `json:"detail,omitempty"`
}

type bulkJSON struct {
	Changed   []string             `json:"changed"`
	Unchanged []string             `json:"unchanged"`
	Skipped   []membership.Problem `json:"skipped"`
}

type actionJSON struct {
	Kind    csvsync.Kind      `json:"kind"`
	Line    int               `json:"line,omitempty"`
	Member  string            `json:"member_id,omitempty"`
	Login   string            `json:"login"`
	Name    string            `json:"name"`
	Email   string            `json:"email,omitempty"`
	Status  membership.Status `json:"status"`
	Changes string            `json:"changes,omitempty"`
}

type planJSON struct {
	Token            string       `json:"token"`
	ExpiresAt        time.Time    `json:"expires_at"`
	Adds             int          `json:"adds"`
	Updates          int          `json:"updates"`
	Reactivations    int          `json:"reactivations"`
	Deactivations    int          `json:"deactivations"`
	Unchanged        int          `json:"unchanged"`
	SeatsBefore      int          `json:"seats_before"`
	SeatsAfter       int          `json:"seats_after"`
	SeatLimit        int          `json:"seat_limit"`
	Warnings         []string     `json:"warnings"`
	Actions          []actionJSON `json:"actions"`
	ActionsTruncated bool         `json:"actions_truncated"`
}

// maxPlanActions bounds the actions a plan's JSON lists.
const maxPlanActions = 1000

type importResultJSON struct {
	Added       int `json:"added"`
	Updated     int `json:"updated"`
	Reactivated int `json:"reactivated"`
	Deactivated int `json:"deactivated"`
	Unchanged   int `json:"unchanged"`
	// PasswordsWithheld counts the new members given a random temporary
	// password, which no response carries.
	PasswordsWithheld int `json:"passwords_withheld"`
}

type orgJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	SeatsUsed  int    `json:"seats_used"`
	SeatLimit  int    `json:"seat_limit"`
	UpgradeURL string `json:"upgrade_url,omitempty"`
}

type reviewJSON struct {
	ActiveMembers      int                                `json:"active_members"`
	ActiveAdmins       int                                `json:"active_admins"`
	SeatsUsed          int                                `json:"seats_used"`
	SeatLimit          int                                `json:"seat_limit"`
	Idle               []memberJSON                       `json:"idle"`
	ExpiredInvitations []invitationJSON                   `json:"expired_invitations"`
	UnknownPermissions map[string][]membership.Permission `json:"unknown_permissions"`
	Notices            []string                           `json:"notices"`
}

// views turns the services' values into the API's shapes, in one
// language, naming roles as the org names them.
type views struct {
	lang   membership.Lang
	labels membership.Labels
	roles  map[string]membership.Role
	now    time.Time
}

func (v views) roleName(id string) string {
	if r, ok := v.roles[id]; ok {
		return v.labels.RoleName(r, v.lang)
	}
	if r, ok := membership.BuiltinRole(id); ok {
		return v.labels.RoleName(r, v.lang)
	}
	return id
}

func (v views) member(m membership.Member) memberJSON {
	j := memberJSON{ID: m.ID, Login: m.Login, Email: m.Email, FirstName: m.FirstName, LastName: m.LastName,
		RoleID: m.RoleID, RoleName: v.roleName(m.RoleID), Status: m.Status, StatusLabel: v.labels.StatusLabel(m.Status, v.lang),
		Groups: nonNil(m.Groups), Attributes: m.Attributes, UserID: m.UserID, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, Version: m.Version}
	if !m.LastLoginAt.IsZero() {
		t := m.LastLoginAt
		j.LastLoginAt = &t
	}
	return j
}

func (v views) members(ms []membership.Member) []memberJSON {
	out := make([]memberJSON, len(ms))
	for i, m := range ms {
		out[i] = v.member(m)
	}
	return out
}

func (v views) invitation(inv membership.Invitation) invitationJSON {
	st := inv.DisplayStatus(v.now)
	label := v.labels.StatusLabel(membership.StatusPending, v.lang)
	if st != string(membership.StatusPending) {
		label = text(v.lang, "invitation."+st)
	}
	return invitationJSON{ID: inv.ID, Email: inv.Email, RoleID: inv.RoleID, RoleName: v.roleName(inv.RoleID), Status: st,
		StatusLabel: label, InvitedBy: inv.InvitedBy, SendCount: inv.SendCount, CreatedAt: inv.CreatedAt, SentAt: inv.SentAt, ExpiresAt: inv.ExpiresAt}
}

func (v views) invitations(invs []membership.Invitation) []invitationJSON {
	out := make([]invitationJSON, len(invs))
	for i, inv := range invs {
		out[i] = v.invitation(inv)
	}
	return out
}

func (v views) inviteViews(invs []invite.View) []invitationJSON {
	out := make([]invitationJSON, len(invs))
	for i, inv := range invs {
		out[i] = v.invitation(inv.Invitation)
	}
	return out
}

func (v views) role(r membership.Role) roleJSON {
	return roleJSON{ID: r.ID, Name: v.labels.RoleName(r, v.lang), Builtin: r.OrgID == "", Permissions: nonNil(r.Permissions)}
}

func (v views) bulk(b roster.BulkResult) bulkJSON {
	out := bulkJSON{Changed: nonNil(b.Changed), Unchanged: nonNil(b.Unchanged), Skipped: []membership.Problem{}}
	for _, s := range b.Skipped {
		p := membership.Explain(s.Err, v.lang)
		p.MemberID = s.MemberID
		out.Skipped = append(out.Skipped, p)
	}
	return out
}

func event(e membership.Event) eventJSON {
	return eventJSON{ID: e.ID, Seq: e.Seq, At: e.At, Type: e.Type, Actor: e.Actor, SubjectID: e.SubjectID, RoleBefore: e.RoleBefore,
		RoleAfter: e.RoleAfter, StatusBefore: e.StatusBefore, StatusAfter: e.StatusAfter, Detail: e.Detail}
}

func (v views) plan(token string, expires time.Time, p *csvsync.Plan) planJSON {
	j := planJSON{Token: token, ExpiresAt: expires, Adds: p.Adds, Updates: p.Updates, Reactivations: p.Reactivations,
		Deactivations: p.Deactivations, Unchanged: p.Unchanged, SeatsBefore: p.SeatsBefore, SeatsAfter: p.SeatsAfter,
		SeatLimit: p.SeatLimit, Warnings: nonNil(p.Warnings), Actions: []actionJSON{}}
	for i, a := range p.Actions {
		if i == maxPlanActions {
			j.ActionsTruncated = true
			break
		}
		j.Actions = append(j.Actions, actionJSON{Kind: a.Kind, Line: a.Line, Member: a.MemberID, Login: a.Login, Name: a.Name,
			Email: a.Email, Status: a.Status, Changes: a.Changes.Text(v.lang, v.labels)})
	}
	return j
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
