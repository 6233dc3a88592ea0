package browser

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
)

// TestCoordinatorFlow is a coordinator's day, in French and in English:
// the list and its columns and seats, the group filter the script submits,
// the text filter, an invitation with a role (pending), resent then
// canceled, a deactivation confirmed in the script's dialog (a dismissed
// dialog first changes nothing), the admin's row without controls and its
// deactivation, forced through the confirmation page, refused in
// the page, and a role change on the member's page.
func TestCoordinatorFlow(t *testing.T) {
	b := startBrowser(t)
	for _, l := range languages {
		t.Run(l.code, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, 10)
			tb := b.newTab(t, e, l)
			tb.setCookie("member", e.manager)
			defer tb.checkConsole()

			// The list: columns, seats, every member.
			tb.open("/")
			assert.Equal(t, l.code, tb.htmlLang())
			var cols []string
			for _, c := range tb.texts("#members thead th") {
				if c != "" {
					cols = append(cols, c)
				}
			}
			assert.Equal(t, strings.Split(l.word("cols"), "|"), cols)
			assert.Equal(t, l.word("seats", 4, 10), tb.text("#seats"))
			assert.ElementsMatch(t, []string{"alice@example.com", "marc@example.com", "rita@example.com", "ugo@example.com"}, tb.emails())
			assert.Equal(t, "Ateliers <Dupont> & Fils", tb.text("#org-name"), "the org's name, escaped once")
			tb.shot("members")

			// Filter by group: choosing it submits the form (memberkit.js).
			tb.submit(chromedp.SetValue(chromedp.CSS("#f-group"), "Lyon"))
			assert.Contains(t, tb.location(), "group=Lyon")
			assert.ElementsMatch(t, []string{"rita@example.com", "ugo@example.com"}, tb.emails())
			assert.Equal(t, "Lyon", eval[string](tb, `document.getElementById("f-group").value`))
			tb.shot("members-group")

			// Reset, then filter by text.
			tb.submit(click("#filter-reset"))
			assert.Len(t, tb.emails(), 4)
			tb.run(typeText("#f-q", "lecomte"))
			tb.submit(click("#filter-submit"))
			assert.Equal(t, []string{"rita@example.com"}, tb.emails())
			tb.shot("members-search")
			tb.submit(click("#filter-reset"))

			// Invite with a role: a pending row, a seat taken.
			const invitee = "nouveau@example.com"
			tb.run(fill("#invite-email", invitee), chromedp.SetValue(chromedp.CSS("#invite-role"), e.readerRole))
			tb.submit(click("#invite-submit"))
			assert.Equal(t, l.word("invited"), tb.flash())
			assert.Equal(t, "pending", tb.rowStatus(invitee))
			assert.Contains(t, tb.text(tb.row(invitee)+" .mk-status"), l.word("pending"))
			assert.Contains(t, tb.rowText(invitee), "Lecteur", "the invitation's role")
			assert.Equal(t, l.word("seats", 5, 10), tb.text("#seats"))
			first := e.sender.TokenFor(invitee)
			require.NotEmpty(t, first, "the invitation was sent")
			assert.Equal(t, e.readerRole, e.sender.All()[len(e.sender.All())-1].Invitation.RoleID)
			tb.shot("members-invited")

			// Resend: a new email, a new token.
			tb.submit(click(tb.row(invitee) + ` form[action$="/resend"] button`))
			assert.Equal(t, l.word("resent"), tb.flash())
			assert.Equal(t, "pending", tb.rowStatus(invitee))
			assert.Len(t, e.sender.All(), 2)
			assert.NotEqual(t, first, e.sender.TokenFor(invitee))

			// Cancel: the row and its seat are gone.
			tb.submit(click(tb.row(invitee) + ` form[action$="/cancel"] button`))
			assert.Equal(t, l.word("canceled"), tb.flash())
			assert.Empty(t, tb.rowStatus(invitee))
			assert.Equal(t, l.word("seats", 4, 10), tb.text("#seats"))

			// Deactivate through the dialog: dismissed, nothing happens...
			deactivate := tb.row("ugo@example.com") + ` a[data-post$="/deactivate"]`
			tb.accept.Store(false)
			tb.run(chromedp.Evaluate[chromedp.Void](`window.__mkStay = true`), click(deactivate))
			assert.Equal(t, l.word("deactivate?", "Ugo Bernard"), tb.dialog())
			time.Sleep(300 * time.Millisecond)
			assert.True(t, eval[bool](tb, `window.__mkStay === true`), "a dismissed dialog leaves the page")
			assert.Equal(t, membership.StatusActive, e.member(e.user).Status)
			// ... accepted, the script posts the form.
			tb.accept.Store(true)
			tb.submit(click(deactivate))
			assert.Equal(t, l.word("deactivate?", "Ugo Bernard"), tb.dialog())
			assert.Equal(t, l.word("done.deact"), tb.flash())
			assert.Equal(t, "deactivated", tb.rowStatus("ugo@example.com"))
			assert.Equal(t, l.word("deactivated"), tb.text(tb.row("ugo@example.com")+" .mk-status"))
			assert.Equal(t, membership.StatusDeactivated, e.member(e.user).Status)
			assert.Equal(t, l.word("seats", 3, 10), tb.text("#seats"))
			tb.shot("members-deactivated")

			// A coordinator may not act on an admin: the list offers no
			// control on the admin's row, and the confirmation page, reached
			// by its address, is refused in the page when confirmed.
			assert.False(t, tb.exists(tb.row("alice@example.com")+` a[data-post$="/deactivate"]`), "no action on a row the role may not touch")
			assert.False(t, tb.exists(tb.row("alice@example.com")+` input.mk-select`))
			tb.open("/members/" + e.admin + "/deactivate")
			tb.submit(click("#confirm-yes"))
			assert.Contains(t, tb.flash(), l.word("forbidden"))
			assert.Equal(t, "alert", eval[string](tb, `document.getElementById("flash").getAttribute("role")`))
			assert.Equal(t, "active", tb.rowStatus("alice@example.com"))
			assert.Equal(t, membership.StatusActive, e.member(e.admin).Status)
			tb.shot("refused-forbidden")

			// Change a role, on the member's page: the name links to it.
			tb.submit(click(tb.row("rita@example.com") + ` a[href$="/members/` + e.reader + `"]`))
			assert.Equal(t, "Rita Lecomte", tb.text("h1"))
			tb.run(chromedp.SetValue(chromedp.CSS("#member-role"), e.managerRole))
			tb.shot("member")
			tb.submit(click("#role-submit"))
			assert.Equal(t, l.word("done.role"), tb.flash())
			assert.Equal(t, e.managerRole, e.member(e.reader).RoleID)
			assert.Contains(t, tb.text("main"), "Coordinateur")
			tb.shot("members-role")
		})
	}
}
