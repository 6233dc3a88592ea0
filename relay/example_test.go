package relay_test

import (
	"context"
	"fmt"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/relay"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store/memstore"
)

// A host consumes memberkit's events through a relay: here a billing
// subscriber that counts seats from each org's events, in commit order.
// In an app, run r.Run(ctx, subscribers...) for the life of the process
// instead of calling Pass, and give r.Notify as the AfterCommit hook.
func Example() {
	ctx := context.Background()
	st := memstore.New()
	var r *relay.Relay
	kit, _ := memberkit.New(st, &memberkit.Options{AfterCommit: func(ctx context.Context, evs []membership.Event) {
		// revoke sessions here too; then wake the relay
		r.Notify(ctx, evs)
	}})
	r, _ = relay.New(st, nil)

	org, _ := kit.Members.CreateOrg(ctx, roster.NewOrg{Name: "Acme"})
	sys := membership.SystemActor("example")
	ada, _ := kit.Members.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Ada", LastName: "Lovelace", RoleID: membership.RoleAdmin, Password: "correct horse battery"})
	bob, _ := kit.Members.Add(ctx, sys, org.ID, roster.NewMember{FirstName: "Bob", LastName: "Martin", Password: "correct horse battery"})
	_, _ = kit.Members.Deactivate(ctx, membership.ActorMember(ada.Member.ID), org.ID, bob.Member.ID)

	billing := relay.Subscriber{
		Name:  "billing",
		Types: []membership.EventType{membership.EventMemberAdded, membership.EventMemberDeactivated},
		Deliver: func(ctx context.Context, b relay.Batch) error {
			for _, e := range b.Events {
				fmt.Println(e.Seq, e.Type) // a receiver keeps e.ID to ignore repeats
			}
			return nil
		},
	}
	n, err := r.Pass(ctx, billing)
	fmt.Println(n, "delivered", err)
	// Output:
	// 1 member.added
	// 2 member.added
	// 3 member.deactivated
	// 3 delivered <nil>
}
