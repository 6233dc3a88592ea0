package membership

import (
	"strings"
	"time"
)

// EventType names what an audit [Event] records.
type EventType string

// Event types.
const (
	EventMemberAdded           EventType = "member.added"
	EventMemberUpdated         EventType = "member.updated"
	EventMemberActivated       EventType = "member.activated"
	EventMemberDeactivated     EventType = "member.deactivated"
	EventMemberRemoved         EventType = "member.removed"
	EventMemberRestored        EventType = "member.restored"
	EventMemberRoleChanged     EventType = "member.role_changed"
	EventMemberPasswordChanged EventType = "member.password_changed"
	EventMemberLoggedIn        EventType = "member.logged_in"
	EventMemberLoginFailed     EventType = "member.login_failed" // a wrong password, an unknown login or a member who may not log in
	EventMemberLockedOut       EventType = "member.locked_out"   // a login locked after repeated failures
	EventMemberJoined          EventType = "member.joined"       // joined by a verified email domain (auto-join)
	EventRoleCreated           EventType = "role.created"
	EventRoleUpdated           EventType = "role.updated"
	EventRoleDeleted           EventType = "role.deleted"
	EventInvitationSent        EventType = "invitation.sent"
	EventInvitationResent      EventType = "invitation.resent"
	EventInvitationCanceled    EventType = "invitation.canceled"
	EventInvitationAccepted    EventType = "invitation.accepted"
	EventInvitationExpired     EventType = "invitation.expired_refused"
	EventInvitationRefused     EventType = "invitation.refused" // its sender may no longer grant its role
	EventCSVImported           EventType = "csv.imported"
	EventOrgUpdated            EventType = "org.updated"
	EventDomainClaimed         EventType = "domain.claimed"
	EventDomainVerified        EventType = "domain.verified"
	EventDomainUpdated         EventType = "domain.updated" // its policy or join role changed
	EventDomainRemoved         EventType = "domain.removed"
	EventGroupCreated          EventType = "group.created"          // a directory's group (Group) was created
	EventGroupUpdated          EventType = "group.updated"          // its name, external ID or members changed
	EventGroupDeleted          EventType = "group.deleted"          // its label was taken off its members
	EventTokenIssued           EventType = "directory_token.issued" // a directory token (DirectoryToken) was issued
	EventTokenRevoked          EventType = "directory_token.revoked"
)

// IsMember reports whether events of this type record a change to one
// member (their SubjectID is the member's ID).
func (t EventType) IsMember() bool { return strings.HasPrefix(string(t), "member.") }

// ValidateEvents checks events before they are stored: each has an ID
// and a type. Stores call it in AppendEvents.
func ValidateEvents(evs []Event) error {
	for i, e := range evs {
		if e.ID == "" || e.Type == "" {
			return invalid("events", "event_incomplete", i)
		}
	}
	return nil
}

// ChangesRoster reports whether an event of this type records a change to
// the org's members, roles or invitations. Logins, failed logins, lockouts
// password changes and domain changes do not: a CSV plan made before them
// stays valid.
func (t EventType) ChangesRoster() bool {
	switch t {
	case EventMemberLoggedIn, EventMemberLoginFailed, EventMemberLockedOut, EventMemberPasswordChanged,
		EventInvitationExpired, EventInvitationRefused,
		EventDomainClaimed, EventDomainVerified, EventDomainUpdated, EventDomainRemoved,
		EventTokenIssued, EventTokenRevoked:
		return false
	}
	return true
}

// Event is an audit record appended in the same transaction as the change
// it describes. It never carries a password or a hash.
type Event struct {
	ID        string
	OrgID     string
	At        time.Time
	Type      EventType
	Actor     string // Actor.String() of who did it
	SubjectID string // member, invitation or role concerned

	RoleBefore, RoleAfter     string
	StatusBefore, StatusAfter Status
	Detail                    string // free text: which fields changed, why
	// Attributes are, on a member event, the member's host attributes
	// after the change (see [Member.Attributes]), when the change read or
	// set them: every service does, but a CSV import only when its file
	// has attribute columns.
	Attributes Attributes
	// Seq is the event's position in its org's log, set by a store that
	// keeps a feed (store.Feed): 1 for the org's first event, then each
	// next one, with no gap, in commit order. Zero on an event not yet
	// stored, and on stores without a feed.
	Seq int64
}
