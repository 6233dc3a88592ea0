// Package webhook sends memberkit's events to a URL as signed HTTP POSTs,
// following the Standard Webhooks specification
// (https://www.standardwebhooks.com), and gives receivers the function
// that checks them.
//
// [Subscriber] makes a relay subscriber (package relay): each batch of one
// org's events is POSTed as a JSON [Payload] with three headers:
//
//	webhook-id:        msg_<org>_<first seq>-<last seq>
//	webhook-timestamp: Unix seconds
//	webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">
//
// one signature per secret, so that a secret can be rotated: sign with
// the new and the old one until the receiver has moved. Secrets are
// "whsec_" followed by base64 ([NewSecret]).
//
// # Payload, version 1
//
//	{
//	  "type": "memberkit.events",
//	  "version": 1,
//	  "org_id": "…",
//	  "events": [
//	    {"id": "0193…", "seq": 42, "org_id": "…", "type": "member.deactivated",
//	     "at": "2026-11-24T09:00:00Z", "actor": "member:…", "subject_id": "…",
//	     "role_before": "user", "role_after": "user",
//	     "status_before": "active", "status_after": "deactivated",
//	     "detail": "…", "attributes": {"team": "paris"}}
//	  ]
//	}
//
// Events of one org arrive in seq order, at least once, and a batch sent
// again may hold more events than the first time (so another
// webhook-id): a receiver deduplicates by event ID (or keeps the last seq
// per org), not by webhook-id, and ignores repeats. Empty
// fields are left out. A field may be added within version 1; a change
// of meaning makes version 2.
//
// # Receiving
//
// [Receive] (or [Verify] on a body already read) checks the signature and
// the timestamp (within five minutes either way), then decodes:
//
//	p, err := webhook.Receive(r, []membership.Secret{secret}, time.Now())
//	if err != nil { http.Error(w, "bad signature", http.StatusUnauthorized); return }
//	keep(p.Events) // idempotent by Event.ID
//	w.WriteHeader(http.StatusNoContent)
package webhook
