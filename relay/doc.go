// Package relay delivers memberkit's audit events after commit, durably:
// nothing a transaction committed is lost when the process dies between
// the commit and the delivery.
//
// Every change the services make appends its events in the same
// transaction (see membership.Event); a store that keeps a feed
// ([store.Feed]: memstore, and sqlstore from schema version 6) numbers
// each org's events 1, 2, 3… in commit order (Event.Seq). A [Relay] reads
// them after a cursor kept in the store per subscriber and org, hands them
// to the subscriber's Deliver in batches, and moves the cursor only once
// Deliver has returned nil. So:
//
//   - delivery is at least once: a crash after Deliver and before the
//     cursor moves delivers that batch again. Receivers deduplicate by
//     Event.ID (stable, unique) or by (OrgID, Seq);
//   - each org's events arrive in commit order; orgs are independent;
//   - only committed events are ever delivered;
//   - an org whose delivery fails backs off on its own (exponential,
//     with jitter) while the subscriber's other orgs go on; after
//     Options.MaxFailures failures in a row the subscriber is disabled
//     until Resume; a subscriber can be paused, and replayed from any
//     Seq.
//
// Several relays, in several processes, can serve the same subscribers on
// PostgreSQL or MySQL/MariaDB: an org's cursor is leased to one relay at a
// time (Options.Lease), and a relay moves it only while its lease holds.
// On SQLite and memstore, run the relays of a store in one process.
//
// # Consuming events
//
// A host declares its subscribers, each with a stable name, and runs the
// relay for as long as the process lives:
//
//	r, err := relay.New(st, nil)
//	…
//	hooks, err := webhook.Subscriber("hooks", endpoint) // signed HTTP POSTs
//	…
//	go r.Run(ctx,
//		relay.Subscriber{Name: "billing", Deliver: func(ctx context.Context, b relay.Batch) error {
//			return billing.SyncSeats(ctx, b.OrgID, b.Events) // idempotent by Event.ID
//		}},
//		hooks,
//		mailer.Subscriber("invitation-mail"), // invitemail: invitation email by SMTP
//	)
//
// Give r.Notify as the services' AfterCommit hook (memberkit.Options) and
// events leave as soon as they are committed rather than at the next poll.
package relay
