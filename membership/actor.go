package membership

import "strings"

// Actor is who performs a mutating call: a member of the org, whose role
// must grant the permission, or the system (host automation, imports run by
// the host), which is always allowed.
type Actor struct {
	MemberID string
	System   string // label of the automation when MemberID is empty
}

// ActorMember is the actor for a member acting in their own org.
func ActorMember(memberID string) Actor { return Actor{MemberID: memberID} }

// SystemActor is the actor for host automation; label says which
// ("nightly-sync", "signup"); it is recorded in events.
func SystemActor(label string) Actor {
	if label == "" {
		label = "system"
	}
	return Actor{System: label}
}

// ParseActor reads back what [Actor.String] wrote: "member:<id>" or
// "system:<label>". Anything else is the actor named by nobody.
func ParseActor(s string) Actor {
	if id, ok := strings.CutPrefix(s, "member:"); ok && id != "" {
		return ActorMember(id)
	}
	if label, ok := strings.CutPrefix(s, "system:"); ok && label != "" {
		return SystemActor(label)
	}
	return Actor{}
}

// IsSystem reports whether the actor is host automation.
func (a Actor) IsSystem() bool { return a.MemberID == "" && a.System != "" }

// String returns "member:<id>" or "system:<label>", as recorded in events.
func (a Actor) String() string {
	if a.MemberID != "" {
		return "member:" + a.MemberID
	}
	if a.System != "" {
		return "system:" + a.System
	}
	return "nobody"
}
