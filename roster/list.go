package roster

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// DefaultPageSize is the page size of [Service.List] when none is given.
const DefaultPageSize = 50

// MaxPageSize bounds a page.
const MaxPageSize = 1000

// ListQuery selects a page of the roster, with the filters of the product
// page's member list: ListQuery{Group: "Paris", Text: "dupont",
// IncludePending: true}.
type ListQuery struct {
	Group string // members carrying this group label (case-insensitive)
	// Status lists members of one status; "" lists active and
	// deactivated members (removed members leave the normal list), and
	// membership.StatusPending lists pending invitations only.
	Status membership.Status
	RoleID string
	Text   string // in first name, last name, login or email; case and accents ignored
	// IncludePending adds the pending, unexpired invitations that match
	// RoleID and Text to the first page (Page.Pending, first in
	// Page.Rows), when Status is "" and no Group is asked (invitations
	// have no groups): the product page's list in one call.
	IncludePending bool

	// Less common filters: several statuses (taking Status's place; add
	// membership.StatusPending for invitations), a host account, host
	// attributes, given IDs.
	Statuses   []membership.Status
	UserID     string
	Attributes membership.Attributes
	IDs        []string

	// After is the Next cursor of the previous page; "" for the first.
	After string
	// Limit is the page size; default DefaultPageSize, at most MaxPageSize.
	Limit int
}

// filter returns the store filter of the query, and whether it asks for
// pending invitations.
func (q ListQuery) filter() (store.MemberFilter, bool) {
	f := store.MemberFilter{Group: q.Group, RoleID: q.RoleID, Text: q.Text, UserID: q.UserID,
		Attributes: q.Attributes.Normalized(), IDs: q.IDs, Statuses: slices.Clone(q.Statuses)}
	if len(f.Statuses) == 0 && q.Status != "" {
		f.Statuses = []membership.Status{q.Status}
	}
	pending := q.IncludePending && len(f.Statuses) == 0
	if len(f.Statuses) == 0 {
		f.Statuses = []membership.Status{membership.StatusActive, membership.StatusDeactivated}
	} else if slices.Contains(f.Statuses, membership.StatusPending) {
		pending = true
		f.Statuses = slices.DeleteFunc(f.Statuses, func(s membership.Status) bool { return s == membership.StatusPending })
	}
	return f, pending
}

// Row is one line of the roster as the product pages show it: name,
// email, role, status, last login. Pending invitations are rows too.
type Row struct {
	MemberID     string // empty for an invitation
	InvitationID string // empty for a member
	Login        string
	Name         string
	Email        string
	RoleID       string
	// Role is the role RoleID names (its name for screens:
	// membership.Labels.RoleName says it in either language).
	Role        membership.Role
	Status      membership.Status // StatusPending for an invitation
	Groups      []string
	Attributes  membership.Attributes
	LastLoginAt time.Time
	ExpiresAt   time.Time // invitations only
}

// StatusLabel returns the status as shown to users ("Activé", "En attente"…).
func (r Row) StatusLabel(lang membership.Lang) string { return r.Status.Label(lang) }

// Page is one page of the roster.
type Page struct {
	Members []membership.Member
	// Pending holds the pending, unexpired invitations matching the
	// query, on the first page only, when the query asks for them.
	Pending []membership.Invitation
	// Next is the cursor of the next page; "" when this is the last.
	Next string

	roles map[string]membership.Role // the org's roles, for Rows
}

// Rows returns the page as display rows: pending invitations first, then
// members.
func (p Page) Rows() []Row {
	rows := make([]Row, 0, len(p.Pending)+len(p.Members))
	for _, inv := range p.Pending {
		rows = append(rows, Row{InvitationID: inv.ID, Email: inv.Email, RoleID: inv.RoleID, Role: p.role(inv.RoleID), Status: membership.StatusPending, ExpiresAt: inv.ExpiresAt})
	}
	for _, m := range p.Members {
		rows = append(rows, Row{MemberID: m.ID, Login: m.Login, Name: m.FullName(), Email: m.Email, RoleID: m.RoleID, Role: p.role(m.RoleID),
			Status: m.Status, Groups: m.Groups, Attributes: m.Attributes, LastLoginAt: m.LastLoginAt})
	}
	return rows
}

// role returns the role with that ID, or one that carries only the ID.
func (p Page) role(id string) membership.Role {
	if r, ok := p.roles[id]; ok {
		return r
	}
	return membership.Role{ID: id, Name: id}
}

// List returns a page of the roster (permission members.read), members in
// login order, with keyset pagination: pages stay complete and free of
// duplicates while the roster changes.
func (s *Service) List(ctx context.Context, actor membership.Actor, orgID string, q ListQuery) (Page, error) {
	var page Page
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	f, wantPending := q.filter()
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersRead); err != nil {
			return err
		}
		roles, err := svc.NewRoles(tx, s.cat).All(ctx)
		if err != nil {
			return err
		}
		page.roles = make(map[string]membership.Role, len(roles))
		for _, r := range roles {
			page.roles[r.ID] = r
		}
		if wantPending && q.After == "" && f.Group == "" && len(f.IDs) == 0 {
			now := s.clock.Now()
			text := membership.SearchQuery(f.Text)
			for inv, err := range tx.Invitations(ctx, store.InvitationQuery{States: []membership.InvitationState{membership.InvitationPending}}) {
				if err != nil {
					return err
				}
				if !inv.Open(now) || (f.RoleID != "" && inv.RoleID != f.RoleID) || (text != "" && !strings.Contains(membership.SearchQuery(inv.Email), text)) {
					continue
				}
				inv.TokenHash = nil
				page.Pending = append(page.Pending, inv)
			}
		}
		if len(f.Statuses) == 0 { // only pending asked for
			return nil
		}
		for m, err := range tx.Members(ctx, store.MemberQuery{MemberFilter: f, After: q.After, Limit: limit + 1}) {
			if err != nil {
				return err
			}
			page.Members = append(page.Members, svc.Public(m))
		}
		return nil
	})
	if err != nil {
		return Page{}, err
	}
	if len(page.Members) > limit {
		page.Members = page.Members[:limit]
		page.Next = page.Members[limit-1].Login
	}
	return page, nil
}

// Count counts the members matching f (permission members.read); no
// status means active and deactivated.
func (s *Service) Count(ctx context.Context, actor membership.Actor, orgID string, f store.MemberFilter) (int, error) {
	if len(f.Statuses) == 0 {
		f.Statuses = []membership.Status{membership.StatusActive, membership.StatusDeactivated}
	}
	f.Attributes = f.Attributes.Normalized()
	var n int
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersRead); err != nil {
			return err
		}
		var err error
		n, err = store.CountMembers(ctx, tx, f)
		return err
	})
	return n, err
}

// Seats reports the seats used and the plan's limit (permission
// members.read).
func (s *Service) Seats(ctx context.Context, actor membership.Actor, orgID string) (used, limit int, err error) {
	err = s.st.View(ctx, orgID, func(tx store.Tx) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersRead); err != nil {
			return err
		}
		org, c, err := svc.OrgCounts(ctx, tx, s.clock.Now())
		if err != nil {
			return err
		}
		used, limit = c.SeatsUsed(), org.Plan.MemberLimit
		return nil
	})
	return used, limit, err
}

// Events streams the org's audit events (permission audit.read).
func (s *Service) Events(ctx context.Context, actor membership.Actor, orgID string, q store.EventQuery) ([]membership.Event, error) {
	var out []membership.Event
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermAuditRead); err != nil {
			return err
		}
		var err error
		out, err = store.Collect(tx.Events(ctx, q))
		return err
	})
	return out, err
}

// Groups returns the group labels the org's members carry (permission
// members.read), sorted, each once whatever its case, in the
// spelling of one member: the choices of a screen's group filter.
func (s *Service) Groups(ctx context.Context, actor membership.Actor, orgID string) ([]string, error) {
	var out []string
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		if _, err := svc.Authorize(ctx, tx, s.cat, actor, membership.PermMembersRead); err != nil {
			return err
		}
		var err error
		out, err = store.GroupLabels(ctx, tx)
		return err
	})
	return out, err
}
