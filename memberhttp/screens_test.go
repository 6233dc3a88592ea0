package memberhttp_test

import (
	"bytes"
	"context"
	"html/template"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/memberhttp"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

func TestScreensListInBothLanguages(t *testing.T) {
	e := newEnv(t, 10)
	for lang, words := range map[string][]string{
		"fr": {"Nom", "Email", "Rôle", "Statut", "Dernière connexion", "Groupes", "Ajouter un membre", "Inviter un membre", "Action de masse", "4 membres sur 10"},
		"en": {"Name", "Email", "Role", "Status", "Last sign-in", "Groups", "Add a member", "Invite a member", "Bulk action", "4 of 10 members"},
	} {
		st, page := e.browser(e.admin, lang).get("/")
		require.Equal(t, http.StatusOK, st)
		assert.Contains(t, page, `<html lang="`+lang+`">`)
		for _, w := range words {
			assert.Contains(t, page, template.HTMLEscapeString(w), lang)
		}
	}
	_, page := e.browser(e.admin, "fr").get("/")
	assert.Regexp(t, `<option value="Lyon" >Lyon</option><option value="Paris" >Paris</option>`, page, "the group filter offers the org's groups")
}

func TestScreensRefusalsInThePage(t *testing.T) {
	e := newEnv(t, 4) // full: 4 members, 4 seats
	ctx := context.Background()
	_, err := e.kit.Members.Deactivate(ctx, membership.SystemActor("t"), e.org, e.user)
	require.NoError(t, err)
	_, err = e.kit.Members.Add(ctx, membership.SystemActor("t"), e.org, newMember("Zed", "Full"))
	require.NoError(t, err)

	for lang, want := range map[string]string{"fr": "le forfait de l&#39;entreprise est complet", "en": "the company&#39;s plan has no seat left"} {
		b := e.browser(e.manager, lang)
		_, page := b.get("/")
		assert.Contains(t, page, `id="plan-full"`, "a full plan says so on the list")
		assert.Contains(t, page, `href="https://billing.example.com/upgrade"`)
		st, _, html := b.post("/members/"+e.user+"/activate", url.Values{"back": {"group=Lyon"}})
		assert.Equal(t, http.StatusConflict, st)
		assert.Contains(t, html, want, lang)
		assert.Contains(t, html, `id="flash-upgrade"`, "the refusal links to the host's upgrade page")
		assert.Contains(t, html, `<option value="Lyon" selected>`, "the list keeps the filter it came from")
	}
	assert.Equal(t, membership.StatusDeactivated, e.status(e.user))

	b := e.browser(e.admin, "en")
	b.get("/")
	st, _, html := b.post("/members/"+e.admin+"/role", url.Values{"role": {membership.RoleUser}})
	assert.Equal(t, http.StatusConflict, st)
	assert.Contains(t, html, "the company must keep at least one active admin")
}

func TestScreensMassActionOnTheFilter(t *testing.T) {
	e := newEnv(t, 0)
	b := e.browser(e.manager, "fr")
	b.get("/?group=Lyon")
	st, _, html := b.post("/bulk", url.Values{"action": {"deactivate"}, "scope": {"filter"}, "back": {"group=Lyon"}})
	require.Equal(t, http.StatusOK, st)
	assert.Contains(t, html, "Désactiver les 2 membres correspondant au filtre ?", "the count is confirmed first")
	assert.Equal(t, membership.StatusActive, e.status(e.user), "nothing before the confirmation")
	st, loc, _ := b.post("/bulk", url.Values{"action": {"deactivate"}, "scope": {"filter"}, "back": {"group=Lyon"}, "confirm": {"1"}})
	require.Equal(t, http.StatusSeeOther, st)
	assert.Equal(t, membership.StatusDeactivated, e.status(e.user))
	assert.Equal(t, membership.StatusDeactivated, e.status(e.reader))
	assert.Equal(t, membership.StatusActive, e.status(e.admin), "outside the filter")
	_, page := b.get(strings.TrimPrefix(loc, "/team"))
	assert.Contains(t, page, "2 membre(s) désactivé(s).")

	st, _, _ = b.post("/bulk", url.Values{"action": {"activate"}, "scope": {"selected"}, "id": {e.user}})
	require.Equal(t, http.StatusSeeOther, st)
	assert.Equal(t, membership.StatusActive, e.status(e.user))
	st, _, html = b.post("/bulk", url.Values{"action": {"activate"}, "scope": {"selected"}})
	assert.Equal(t, http.StatusBadRequest, st)
	assert.Contains(t, html, "aucun membre coché")
}

func TestScreensImportPreviewThenApply(t *testing.T) {
	e := newEnv(t, 0)
	b := e.browser(e.manager, "fr")
	_, csv := b.get("/export.csv")
	file := csv + "zoe.lefevre;Lefèvre;Zoé;zoe@example.com;;Activé;Utilisateur;Nantes\r\n"
	file = strings.Replace(file, "rita.lecomte;Lecomte;Rita;rita@example.com;Mot de passe crypté;Activé;Lecteur;Lyon\r\n", "", 1)
	_, page := b.get("/import")
	assert.Contains(t, page, "Exporter les membres (CSV)")

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", b.csrf())
	fw, _ := mw.CreateFormFile("file", "membres.csv")
	_, _ = io.WriteString(fw, file)
	mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+"/team/import", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := b.client.Do(req)
	require.NoError(t, err)
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", data)
	plan := string(data)
	assert.Contains(t, plan, "Ajouts : 1")
	assert.Contains(t, plan, "Désactivations : 1")
	assert.Contains(t, plan, "Zoé Lefèvre")
	assert.Equal(t, membership.StatusActive, e.status(e.reader), "the preview writes nothing")
	tok := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(plan)
	require.Len(t, tok, 2)
	st, loc, _ := b.post("/import/apply", url.Values{"token": {tok[1]}})
	require.Equal(t, http.StatusSeeOther, st)
	assert.Equal(t, membership.StatusDeactivated, e.status(e.reader), "absent from the file: deactivated")
	_, page = b.get(strings.TrimPrefix(loc, "/team"))
	assert.Contains(t, page, "Import appliqué : 2 changement(s).")
	st, _, page = b.post("/import/apply", url.Values{"token": {tok[1]}})
	assert.Equal(t, http.StatusNotFound, st, "a preview applies once")
	assert.Contains(t, page, "cet aperçu n&#39;existe plus")
}

func TestScreensInvitationPage(t *testing.T) {
	e := newEnv(t, 0)
	b := e.browser(e.admin, "fr")
	b.get("/")
	st, _, _ := b.post("/invitations", url.Values{"email": {"lea@example.com"}, "role": {membership.RoleUser}})
	require.Equal(t, http.StatusSeeOther, st)
	_, page := b.get("/?status=pending")
	assert.Contains(t, page, "lea@example.com")
	assert.Contains(t, page, "En attente")

	token := e.sender.TokenFor("lea@example.com")
	guest := e.browser("", "fr")
	st, page = guest.get("/join?token=" + url.QueryEscape(token))
	require.Equal(t, http.StatusOK, st)
	assert.Contains(t, page, "Vous êtes invité à rejoindre Ateliers &lt;Dupont&gt; &amp; Fils avec l&#39;adresse lea@example.com.")
	assert.NotContains(t, page, `id="join-as-user"`, "nobody signed in: only the new account form")
	st, _, page = guest.post("/join", url.Values{"token": {token}, "first_name": {"Léa"}, "last_name": {"Roux"}, "password": {"a long passphrase"}, "password2": {"another one"}})
	assert.Equal(t, http.StatusUnprocessableEntity, st)
	assert.Contains(t, page, "les deux mots de passe diffèrent")
	assert.Contains(t, page, `value="Léa"`, "the form keeps what was typed")
	st, _, page = guest.post("/join", url.Values{"token": {token}, "first_name": {"Léa"}, "last_name": {"Roux"}, "password": {"a long passphrase"}, "password2": {"a long passphrase"}})
	require.Equal(t, http.StatusOK, st, page)
	assert.Contains(t, page, "Vous êtes membre de l&#39;entreprise.")
	m, err := e.kit.Members.Find(context.Background(), membership.SystemActor("t"), e.org, "email", "lea@example.com")
	require.NoError(t, err)
	assert.Equal(t, membership.StatusActive, m.Status)
	st, _ = guest.get("/join?token=" + url.QueryEscape(token))
	assert.Equal(t, http.StatusNotFound, st, "a used link is refused")
}

func TestScreensJoinAsSignedInAccount(t *testing.T) {
	var e *env
	e = newEnv(t, 0, func(o *memberhttp.Options) {
		o.Identify = func(r *http.Request) (memberhttp.Identity, error) {
			if c, err := r.Cookie("user"); err == nil {
				return memberhttp.Identity{UserID: c.Value, OrgID: "elsewhere", Actor: membership.ActorUser(c.Value)}, nil
			}
			return memberhttp.Identity{OrgID: e.org, Actor: membership.ActorMember(r.Header.Get("X-Member"))}, nil
		}
	})
	resp, _ := e.call(e.admin, "POST", "/api/invitations", map[string]string{"email": "acct@example.com"}, nil)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	token := e.sender.TokenFor("acct@example.com")
	g := e.browser("", "en")
	u, _ := url.Parse(e.srv.URL)
	g.client.Jar.SetCookies(u, []*http.Cookie{{Name: "user", Value: "account-42", Path: "/"}})
	_, page := g.get("/join?token=" + url.QueryEscape(token))
	assert.Contains(t, page, `id="join-as-user"`)
	assert.Contains(t, page, "Join with my account")
	st, _, page := g.post("/join", url.Values{"token": {token}, "as_user": {"1"}, "first_name": {"Ann"}, "last_name": {"Count"}})
	require.Equal(t, http.StatusOK, st, page)
	m, err := e.kit.Members.MemberOfUser(context.Background(), membership.SystemActor("t"), e.org, "account-42")
	require.NoError(t, err)
	assert.Equal(t, "acct@example.com", m.Email)
}

func TestScreensSignedOutAndLayout(t *testing.T) {
	layout := template.Must(template.New("layout").Parse(`{{define "layout"}}<html><body class="host">{{.OrgName}}|{{template "content" .}}</body></html>{{end}}`))
	e := newEnv(t, 0, func(o *memberhttp.Options) { o.SignInURL = "/login"; o.Layout = layout })
	st, _ := e.browser("", "fr").get("/")
	assert.Equal(t, http.StatusSeeOther, st)
	resp, err := e.browser("", "fr").client.Get(e.srv.URL + "/team/roles?x=1")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "/login?next=%2Fteam%2Froles%3Fx%3D1", resp.Header.Get("Location"))

	_, page := e.browser(e.admin, "fr").get("/")
	assert.True(t, strings.HasPrefix(page, `<html><body class="host">Ateliers &lt;Dupont&gt; &amp; Fils|`), page[:80])
	assert.Contains(t, page, `id="members"`)
}

func TestScreensRolesAndReview(t *testing.T) {
	e := newEnv(t, 0)
	b := e.browser(e.admin, "fr")
	_, page := b.get("/roles")
	assert.Contains(t, page, "Rôle intégré")
	st, _, _ := b.post("/roles", url.Values{"name": {"Support"}, "perm": {"members.read", "audit.read"}})
	require.Equal(t, http.StatusSeeOther, st)
	roles, err := e.kit.Members.Roles(context.Background(), membership.SystemActor("t"), e.org)
	require.NoError(t, err)
	var found bool
	for _, r := range roles {
		if r.Name == "Support" {
			found = true
			assert.Equal(t, []membership.Permission{membership.PermAuditRead, membership.PermMembersRead}, r.Permissions)
		}
	}
	assert.True(t, found)
	st, _, page = b.post("/roles", url.Values{"name": {"Support"}})
	assert.Equal(t, http.StatusConflict, st, "a duplicate name is refused in the page")
	assert.Contains(t, page, "déjà utilisé")

	_, page = b.get("/review")
	assert.Contains(t, page, `id="review-notices"`, "a single admin is a notice")
	n, err := e.kit.Members.Count(context.Background(), membership.SystemActor("t"), e.org, store.MemberFilter{})
	require.NoError(t, err)
	assert.Contains(t, page, "membres actifs", n)
}

func TestScreensMemberPageEditsAgainstItsVersion(t *testing.T) {
	e := newEnv(t, 0)
	b := e.browser(e.manager, "fr")
	st, page := b.get("/members/" + e.user)
	require.Equal(t, http.StatusOK, st)
	assert.Contains(t, page, `value="Ugo"`)
	version := regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(page)
	require.Len(t, version, 2)
	form := url.Values{"first_name": {"Hugo"}, "last_name": {"Bernard"}, "email": {"hugo@example.com"}, "login": {"hugo.bernard"},
		"groups": {"Lyon, Nantes"}, "version": {version[1]}}
	st, loc, _ := b.post("/members/"+e.user, form)
	require.Equal(t, http.StatusSeeOther, st)
	_, page = b.get(strings.TrimPrefix(loc, "/team"))
	assert.Contains(t, page, "Modifications enregistrées.")
	m, err := e.kit.Members.Get(context.Background(), membership.SystemActor("t"), e.org, e.user)
	require.NoError(t, err)
	assert.Equal(t, []string{"Lyon", "Nantes"}, m.Groups)
	st, _, page = b.post("/members/"+e.user, form)
	assert.Equal(t, http.StatusConflict, st, "the same form again: the member changed since")
	assert.Contains(t, page, "modifié entre-temps")

	st, loc, _ = b.post("/members/"+e.user+"/role", url.Values{"role": {membership.RoleAdmin}})
	assert.Equal(t, http.StatusForbidden, st, "a manager cannot grant admin")
	assert.Empty(t, loc)
}

func TestScreensShowOnlyWhatTheActorMayDo(t *testing.T) {
	e := newEnv(t, 0)
	b := e.browser(e.manager, "fr")
	_, page := b.get("/")
	assert.NotContains(t, page, `value="`+e.admin+`" form="bulk"`, "a manager may not select an admin")
	assert.NotContains(t, page, `/members/`+e.admin+`/deactivate`)
	assert.Contains(t, page, `value="`+e.user+`" form="bulk"`)
	st, loc, _ := b.post("/invitations", url.Values{"email": {"n@example.com"}, "role": {membership.RoleUser}})
	require.Equal(t, http.StatusSeeOther, st)
	_, page = b.get(strings.TrimPrefix(loc, "/team"))
	assert.Contains(t, page, "Invitation envoyée.")
	assert.NotContains(t, page, "%!", "a message without a count is not formatted with one")

	token := e.sender.TokenFor("n@example.com")
	_, page = e.browser("", "fr").get("/join?token=" + url.QueryEscape(token))
	assert.NotContains(t, page, `id="seats"`, "the invitation page shows no seat count")
}

func TestImportSpeaksTheUsersLanguage(t *testing.T) {
	e := newEnv(t, 0)
	_, csv := e.call(e.manager, "GET", "/api/export", nil, nil)
	file := strings.Replace(string(csv), "Groupes\r\n", "Groupes;Couleur\r\n", 1)
	var fr, en struct{ Warnings []string }
	resp, body := e.call(e.manager, "POST", "/api/imports", file, &fr)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)
	resp, body = e.call(e.manager, "POST", "/api/imports", file, &en, "X-Lang", "en")
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)
	require.NotEmpty(t, fr.Warnings)
	require.NotEmpty(t, en.Warnings)
	assert.NotEqual(t, fr.Warnings, en.Warnings, "the ignored column is reported in each user's language")
}

func TestExportNeedsTheCSVFeature(t *testing.T) {
	e := newEnv(t, 0)
	require.NoError(t, e.kit.Members.SetFeatures(context.Background(), membership.SystemActor("t"), e.org))
	var p problem
	resp, _ := e.call(e.manager, "GET", "/api/export", nil, &p)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, "feature_disabled", p.Code, "refused before any byte, not an empty file")
	_, page := e.browser(e.manager, "fr").get("/")
	assert.NotContains(t, page, `id="nav-import"`)
	_, page = e.browser(e.manager, "fr").get("/import")
	assert.Contains(t, page, "cette fonction n&#39;est pas incluse dans le forfait", "the page says why, and where to upgrade")
	assert.Contains(t, page, `id="flash-upgrade"`)
	assert.NotContains(t, page, `id="import-form"`)
}
