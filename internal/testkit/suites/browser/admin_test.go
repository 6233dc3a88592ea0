package browser

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// adminEnv is newEnv with a fuller org: two more members in Nantes, a
// deactivated member in Lille, and Diane, whose custom role "Direction"
// holds every permission but is not the admin role (she may demote the
// only admin, Alice, and be refused). 7 of limit seats are taken.
type adminEnv struct {
	*env
	paul, nina, denis, diane string
}

func newAdminEnv(t *testing.T, limit int) *adminEnv {
	t.Helper()
	e := &adminEnv{env: newEnv(t, limit)}
	ctx, sys := context.Background(), membership.SystemActor("test")
	e.paul = e.add("Paul", "Girard", membership.RoleUser, "Nantes")
	e.nina = e.add("Nina", "Moreau", membership.RoleUser, "Nantes")
	e.denis = e.add("Denis", "Faure", membership.RoleUser, "Lille")
	_, err := e.kit.Members.Deactivate(ctx, sys, e.org, e.denis)
	require.NoError(t, err)
	dir, err := e.kit.Members.CreateRole(ctx, sys, e.org, "Direction")
	require.NoError(t, err)
	_, err = e.kit.Members.UpdateRole(ctx, sys, e.org, dir.ID, dir.Name, e.kit.Catalog.Permissions())
	require.NoError(t, err)
	e.diane = e.add("Diane", "Leroy", dir.ID, "Siège")
	return e
}

// TestAdminFlow is an admin's work, in French and in English: a member
// added through /members/new fills the plan (banner and upgrade link);
// an activation is then refused in the page with member_limit and the
// host's upgrade link; a mass deactivation of everyone a group filter
// matches, confirmed on a page that shows the count; "select all" ticks
// the page's rows for a mass deactivation of the selection; a row action
// without the script goes through its confirmation page; a removal
// through its dialog; and the last admin's demotion is refused with its
// message.
func TestAdminFlow(t *testing.T) {
	b := startBrowser(t)
	for _, l := range languages {
		t.Run(l.code, func(t *testing.T) {
			t.Parallel()
			e := newAdminEnv(t, 8)
			tb := b.newTab(t, e.env, l)
			tb.setCookie("member", e.admin)
			defer tb.checkConsole()

			// Add a member: the last seat.
			tb.open("/")
			assert.Equal(t, l.word("seats", 7, 8), tb.text("#seats"))
			assert.False(t, tb.exists("#plan-full"))
			tb.submit(click("#add-member"))
			assert.True(t, strings.HasSuffix(tb.location(), "/team/members/new"), tb.location())
			tb.run(fill("#add-first", "Nadia"), fill("#add-last", "Roux"), fill("#add-email", "nadia@example.com"), fill("#add-groups", "Nantes"))
			assert.Equal(t, membership.RoleUser, eval[string](tb, `document.getElementById("add-role").value`), "user is the default role")
			tb.shot("member-new")
			tb.submit(click("#add-submit"))
			assert.Equal(t, l.word("done.added"), tb.flash())
			assert.Equal(t, "active", tb.rowStatus("nadia@example.com"))
			assert.Equal(t, l.word("seats", 8, 8), tb.text("#seats"))
			assert.Contains(t, tb.text("#plan-full"), l.word("full"))
			assert.Equal(t, upgradeURL, eval[string](tb, `document.querySelector("#plan-full a#upgrade").href`))
			tb.shot("members-full")

			// Activate Denis: refused, in the page, with the upgrade link.
			tb.submit(click(tb.row("denis@example.com") + ` a[data-post$="/activate"]`))
			assert.Equal(t, l.word("activate?", "Denis Faure"), tb.dialog())
			assert.Contains(t, tb.flash(), l.word("member_limit"))
			assert.Equal(t, "alert", eval[string](tb, `document.getElementById("flash").getAttribute("role")`))
			assert.Equal(t, l.word("upgrade"), tb.text("#flash-upgrade"))
			assert.Equal(t, upgradeURL, eval[string](tb, `document.getElementById("flash-upgrade").href`))
			assert.Equal(t, "deactivated", tb.rowStatus("denis@example.com"))
			assert.Equal(t, l.code, tb.htmlLang())
			assert.Equal(t, membership.StatusDeactivated, e.member(e.denis).Status)
			tb.shot("refused-member-limit")

			// Mass action on everyone the filter matches: a confirmation page
			// with the count, then the group's members are deactivated.
			tb.open("/")
			tb.submit(chromedp.SetValue(chromedp.CSS("#f-group"), "Nantes"))
			assert.ElementsMatch(t, []string{"paul@example.com", "nina@example.com", "nadia@example.com"}, tb.emails())
			assert.Equal(t, l.word("bulk.filter"), tb.text(`label[for="scope-filter"]`))
			tb.run(click("#scope-filter"))
			tb.submit(click("#bulk-submit"))
			assert.Equal(t, l.word("bulk.confirm", 3), tb.text("#confirm-question"))
			assert.Equal(t, 3, e.mustCount(membership.StatusActive, "Nantes"), "nothing changed before the confirmation")
			tb.shot("bulk-confirm")
			tb.submit(click("#confirm-yes"))
			assert.Equal(t, l.word("bulk.done", 3), tb.flash())
			assert.Contains(t, tb.location(), "group=Nantes", "back to the filtered list")
			for _, m := range []string{"paul@example.com", "nina@example.com", "nadia@example.com"} {
				assert.Equal(t, "deactivated", tb.rowStatus(m), m)
			}
			assert.Equal(t, 0, e.mustCount(membership.StatusActive, "Nantes"))
			assert.Equal(t, l.word("seats", 5, 8), tb.text("#seats"))
			tb.shot("bulk-filter-done")

			// "Select all" ticks the page's rows; mass deactivation of the
			// selection.
			tb.submit(chromedp.SetValue(chromedp.CSS("#f-group"), "Lyon"))
			assert.ElementsMatch(t, []string{"rita@example.com", "ugo@example.com"}, tb.emails())
			assert.False(t, eval[bool](tb, `document.getElementById("select-all").hidden`), "the script shows the select-all box")
			assert.Equal(t, 0, tb.count("input.mk-select:checked"))
			tb.run(click("#select-all"))
			assert.Equal(t, 2, tb.count("input.mk-select:checked"))
			assert.Equal(t, tb.count("input.mk-select"), tb.count("input.mk-select:checked"))
			assert.True(t, eval[bool](tb, `document.getElementById("scope-selected").checked`))
			tb.shot("bulk-selected")
			tb.submit(click("#bulk-submit"))
			assert.Equal(t, l.word("bulk.done", 2), tb.flash())
			assert.Equal(t, "deactivated", tb.rowStatus("rita@example.com"))
			assert.Equal(t, "deactivated", tb.rowStatus("ugo@example.com"))
			assert.Equal(t, membership.StatusDeactivated, e.member(e.reader).Status)
			assert.Equal(t, membership.StatusDeactivated, e.member(e.user).Status)
			tb.shot("bulk-selected-done")

			// Without the script, a row action asks on a page of its own.
			call(tb, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			tb.open("/?group=Paris")
			assert.True(t, eval[bool](tb, `document.getElementById("select-all").hidden`), "no script ran")
			tb.submit(click(tb.row("marc@example.com") + ` a[data-post$="/deactivate"]`))
			assert.Contains(t, tb.location(), "/team/members/"+e.manager+"/deactivate")
			assert.Equal(t, l.word("confirm.title"), tb.text("h1"))
			assert.Equal(t, l.word("deactivate?", "Marc Petit"), tb.text("#confirm-question"))
			tb.shot("confirm-nojs")
			tb.submit(click("#confirm-yes"))
			assert.Equal(t, l.word("done.deact"), tb.flash())
			assert.Contains(t, tb.location(), "group=Paris", "back to the filtered list")
			assert.Equal(t, "deactivated", tb.rowStatus("marc@example.com"))
			call(tb, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false})

			// Remove, with the script again: its own dialog; the row leaves
			// the list.
			tb.open("/?group=Paris")
			tb.submit(click(tb.row("marc@example.com") + ` a[data-post$="/remove"]`))
			assert.Equal(t, l.word("remove?", "Marc Petit"), tb.dialog())
			assert.Equal(t, l.word("done.removed"), tb.flash())
			assert.Empty(t, tb.rowStatus("marc@example.com"))
			assert.Equal(t, membership.StatusRemoved, e.member(e.manager).Status)

			// The last admin's demotion, by Diane (every permission, not an
			// admin): refused, in the page.
			tb.setCookie("member", e.diane)
			tb.open("/members/" + e.admin)
			tb.run(chromedp.SetValue(chromedp.CSS("#member-role"), membership.RoleUser))
			tb.submit(click("#role-submit"))
			assert.Contains(t, tb.flash(), l.word("last_admin"))
			assert.Equal(t, "alert", eval[string](tb, `document.getElementById("flash").getAttribute("role")`))
			assert.False(t, tb.exists("#flash-upgrade"), "no upgrade link for another refusal")
			assert.Equal(t, l.code, tb.htmlLang())
			assert.Equal(t, membership.RoleAdmin, e.member(e.admin).RoleID)
			tb.shot("refused-last-admin")
		})
	}
}

// mustCount counts the members of a group with a status, as the system.
func (e *env) mustCount(st membership.Status, group string) int {
	e.t.Helper()
	n, err := e.kit.Members.Count(context.Background(), membership.SystemActor("test"), e.org,
		store.MemberFilter{Statuses: []membership.Status{st}, Group: group})
	require.NoError(e.t, err)
	return n
}
