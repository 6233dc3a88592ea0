package membership

import "strings"

// Actor is who performs a call: a member of the org, whose role must grant
// the permission; a host account ([ActorUser]), resolved to its member in
// the org inside the call's transaction; or the system (host automation,
// imports run by the host), which is always allowed.
type Actor struct {
	MemberID string
	// UserID names the host's account when MemberID is empty: the
	// services act as that account's member in the org they are asked
	// about, so a session need hold only the account's ID. An account
	// with no active member in the org is refused like any unauthorized
	// actor.
	UserID string
	System string // label of the automation when MemberID and UserID are empty
}

// ActorMember is the actor for a member acting in their own org.
func ActorMember(memberID string) Actor { return Actor{MemberID: memberID} }

// ActorUser is the actor for the host account userID, acting through its
// membership of whichever org a call names.
func ActorUser(userID string) Actor { return Actor{UserID: userID} }

// SystemActor is the actor for host automation; label says which
// ("nightly-sync", "signup"); it is recorded in events.
func SystemActor(label string) Actor {
	if label == "" {
		label = "system"
	}
	return Actor{System: label}
}

// ParseActor reads back what [Actor.String] wrote: "member:<id>",
// "user:<id>" or "system:<label>". Anything else is the actor named by
// nobody.
func ParseActor(s string) Actor {
	if id, ok := strings.CutPrefix(s, "member:"); ok && id != "" {
		return ActorMember(id)
	}
	if id, ok := strings.CutPrefix(s, "user:"); ok && id != "" {
		return ActorUser(id)
	}
	if label, ok := strings.CutPrefix(s, "system:"); ok && label != "" {
		return SystemActor(label)
	}
	return Actor{}
}

// IsSystem reports whether the actor is host automation.
func (a Actor) IsSystem() bool { return a.MemberID == "" && a.UserID == "" && a.System != "" }

// String returns "member:<id>", "user:<id>" or "system:<label>", as
// recorded in events.
func (a Actor) String() string {
	switch {
	case a.MemberID != "":
		return "member:" + a.MemberID
	case a.UserID != "":
		return "user:" + a.UserID
	case a.System != "":
		return "system:" + a.System
	}
	return "nobody"
}
