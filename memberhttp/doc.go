// Package memberhttp serves the member-management screens and a JSON API
// of a [memberkit.Kit] as one http.Handler, which a host mounts under a
// prefix of its own:
//
//	h, err := memberhttp.New(kit, memberhttp.Options{
//		Identify: func(r *http.Request) (memberhttp.Identity, error) {
//			s, ok := sessions.From(r) // the host's own sessions
//			if !ok {
//				return memberhttp.Identity{}, memberhttp.ErrSignedOut
//			}
//			return memberhttp.Identity{OrgID: s.OrgID, Actor: membership.ActorUser(s.UserID), UserID: s.UserID}, nil
//		},
//		UpgradeURL: "/billing",
//	})
//	mux.Handle("/team/", http.StripPrefix("/team", h))
//
// # Screens
//
// Server-rendered pages in French and English, usable without
// JavaScript, with a small script of memberkit's own for comfort (no
// build step, no inline script):
//
//   - / — the member list: Nom, Email, Rôle, Statut (Actif, Désactivé,
//     En attente), Dernière connexion, groups; the seats used against the
//     plan; filters by group (chosen from the org's groups), status, role
//     and text; "Ajouter un membre"; "Inviter un membre" with a role;
//     resend and cancel of pending invitations; role change; deactivate,
//     activate and remove with a confirmation; the mass action on the
//     members ticked or on everyone the filter matches.
//   - /members/new — the add form.
//   - /import — export, and import with a preview of the plan (/import
//     then /import/apply): nothing is written before the user confirms.
//   - /roles — custom roles holding memberkit's and the host's
//     permissions.
//   - /review — the single admin, the dormant members, the expired
//     invitations.
//   - /join?token=… — the invitation page the email links to ([JoinURL]):
//     it shows the org and the address, and creates the account or joins
//     as the host account signed in (Identity.UserID).
//
// Every refusal of the services (the plan is full, the last admin, a
// forbidden act) is shown in the page in the user's language; a full
// plan links to Options.UpgradeURL ("Besoin de plus de membres ?"). The
// screens hide the controls the actor's role does not open, but it is
// the services that refuse: a forged request meets the same checks.
//
// Options.Layout replaces the page around the content: a template that
// defines "layout" and calls {{template "content" .}}. Its data has
// Lang, Title, AppTitle, Base (the mount point, for links), OrgName,
// SeatsUsed, SeatLimit, Full, UpgradeURL, Stylesheet, Flash, CSRF,
// Section (the tab: members, import, roles, review; "" outside them),
// Nav (which tabs the actor's role opens) and Content (the page's own).
// Options.Stylesheet adds the host's CSS after memberkit's own. The
// pages' Content-Security-Policy allows scripts, styles and images from
// the page's own origin only (and the stylesheet's): a layout that loads
// a script of its own serves it from the same origin, never inline.
//
// # JSON API
//
// Under /api/, over the same services: members (list with a cursor and
// filters, get, add, edit, role, status, remove, bulk by IDs or by
// filter), invitations (list, send, resend, cancel, accept), roles,
// import (upload a CSV → the plan with its token → apply), export,
// events and the review. Its OpenAPI 3.1 document is served at
// /api/openapi.json ([OpenAPI]). Errors are RFC 9457 problem documents
// (application/problem+json) whose "code" is the catalogue's
// ([membership.Explain]) and "detail" its message in the caller's
// language, with the field, the CSV line or the refused members where
// there are some. A POST that creates something (a member, an
// invitation, a role, an import plan) honours an Idempotency-Key header:
// a retry with the same key and body gets the first answer again instead
// of acting twice (a server error, a panic or a client gone frees the
// key). A bulk action on an empty filter, the whole org, must say
// "all": true. An import preview is kept for its user until it is
// applied, replaced by the user's next upload, or expires.
//
// # Security
//
// Every unsafe request passes Go's [http.CrossOriginProtection]
// (Options.TrustedOrigins adds origins); the forms carry a token matched
// against a cookie (__Host- prefixed over HTTPS), for browsers that send
// neither Sec-Fetch-Site nor Origin, and the API refuses the bodies a
// page of another site could send without a preflight (forms, plain
// text, unreadable types).
// Every page has a Content-Security-Policy without inline script and
// frames refused, nosniff and no-store; every string a member or a file
// provides is escaped: by html/template, and in the member list's rows,
// which are written in Go for speed, by html.EscapeString (text and
// quoted attributes) after url.PathEscape in links. Uploads are bounded by
// Options.MaxUploadBytes, other bodies to 1 MiB. No page or answer
// carries a password, a hash, a token or a security stamp: members added
// through the screens get no password shown (the kit's notifier delivers
// a temporary one when it has one), and an import's random temporary
// passwords are counted, never returned.
//
// # Several processes
//
// Import previews and idempotency keys live in the memory of the process
// that made them, for Options.PlanTTL and Options.IdempotencyTTL: behind
// a load balancer, route a user's requests to one process (sticky
// sessions), or an apply on another process answers 404 plan_expired and
// the user uploads again. Everything else is in the database.
package memberhttp
