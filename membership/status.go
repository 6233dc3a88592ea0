package membership

import "fmt"

// Status is the state of a member. A member is active, deactivated or
// removed; [StatusPending] only appears in listings that mix pending
// invitations with members and is never stored on a member.
type Status string

// Member statuses.
const (
	// StatusActive: the member may log in and counts against seats.
	StatusActive Status = "active"
	// StatusDeactivated: the member cannot log in, stays listed, and does
	// not use a seat.
	StatusDeactivated Status = "deactivated"
	// StatusRemoved: the member lost access and left the normal list; the
	// record and its data stay, and re-adding or re-inviting the same
	// login or email brings it back.
	StatusRemoved Status = "removed"
	// StatusPending: a pending invitation, shown in a roster listing.
	StatusPending Status = "pending"
)

// Lang selects the language of user-facing labels and messages.
type Lang string

// Supported languages.
const (
	French  Lang = "fr"
	English Lang = "en"
)

// Valid reports whether s is a status a member may have.
func (s Status) Valid() bool {
	return s == StatusActive || s == StatusDeactivated || s == StatusRemoved
}

// Label returns the status as the product pages show it: "Activé",
// "Désactivé", "Retiré", "En attente" in French; "Active", "Deactivated",
// "Removed", "Pending" in English.
func (s Status) Label(lang Lang) string {
	fr := lang != English
	switch s {
	case StatusActive:
		return pick(fr, "Activé", "Active")
	case StatusDeactivated:
		return pick(fr, "Désactivé", "Deactivated")
	case StatusRemoved:
		return pick(fr, "Retiré", "Removed")
	case StatusPending:
		return pick(fr, "En attente", "Pending")
	}
	return string(s)
}

func pick(fr bool, a, b string) string {
	if fr {
		return a
	}
	return b
}

// ParseStatus reads a member status from a stored or typed value: the
// status constants, or the labels of [Status.Label] in either language
// (without regard to case or accents).
func ParseStatus(s string) (Status, error) {
	switch foldKey(s) {
	case "active", "activated", "actif", "activee":
		return StatusActive, nil
	case "deactivated", "desactive", "desactivee", "inactive", "inactif", "disabled":
		return StatusDeactivated, nil
	case "removed", "retire", "retiree":
		return StatusRemoved, nil
	case "pending", "en attente":
		return StatusPending, nil
	}
	return "", fmt.Errorf("%w: unknown status %q", ErrInvalid, s)
}
