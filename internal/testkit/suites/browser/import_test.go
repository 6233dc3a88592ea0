package browser

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/membership"
)

// TestImportFlow imports a file in French and in English: the export
// (fetched with the browser's cookies) edited to add Nina, move Ugo to a
// second group and drop Rita, uploaded through the file input; the
// preview counts one of each; applying it says so and the list shows it.
func TestImportFlow(t *testing.T) {
	b := startBrowser(t)
	for _, l := range languages {
		t.Run(l.code, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, 10)
			tb := b.newTab(t, e, l)
			tb.setCookie("member", e.admin)
			defer tb.checkConsole()

			tb.open("/import")
			assert.True(t, tb.exists("#export"), "the export link")
			assert.True(t, tb.exists("#import-form"))
			tb.shot("import")

			file := filepath.Join(t.TempDir(), "members-"+l.code+".csv")
			require.NoError(t, os.WriteFile(file, editExport(t, l, tb.export()), 0o644))
			tb.run(chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{file}))
			tb.submit(click("#import-submit"))
			assert.Equal(t, l.word("plan.adds", 1), tb.text("#plan-adds"))
			assert.Equal(t, l.word("plan.updates", 1), tb.text("#plan-updates"))
			assert.Equal(t, l.word("plan.deacts", 1), tb.text("#plan-deactivations"))
			assert.True(t, tb.exists("#apply-submit"))
			// Alice stays the only admin: the preview warns, in the page's
			// language.
			warn := map[string]string{"fr": "un seul administrateur actif restera : il est conseillé d'en avoir deux",
				"en": "only one active admin will be left: two are advised"}
			switch got := tb.texts("#plan-warnings li"); {
			case l.code == "en" && slices.Equal(got, []string{warn["fr"]}):
				bug(t, "preview language", "the English import preview shows its warnings in French: %q (csvsync.Service.Parse parses in the kit's language; memberhttp.planImport does not pass the user's)", got)
			default:
				assert.Equal(t, []string{warn[l.code]}, got)
			}
			assert.Equal(t, membership.StatusActive, e.member(e.reader).Status, "nothing changes before apply")
			tb.shot("import-plan")

			tb.submit(click("#apply-submit"))
			assert.Equal(t, l.word("imported", 3), tb.flash())
			assert.Equal(t, "active", tb.rowStatus("nina@example.com"))
			assert.Equal(t, "deactivated", tb.rowStatus("rita@example.com"))
			assert.Contains(t, tb.rowText("ugo@example.com"), "Marseille")
			assert.Equal(t, membership.StatusDeactivated, e.member(e.reader).Status)
			assert.Contains(t, e.member(e.user).Groups, "Marseille")
			tb.shot("import-applied")
		})
	}
}

// export fetches /team/export.csv with Go's client, carrying the tab's
// cookies and language, as the export link would.
func (tb *tab) export() []byte {
	tb.t.Helper()
	res := call(tb, network.GetCookies, network.GetCookiesParams{URLs: []string{tb.e.srv.URL + "/team/"}})
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, tb.e.srv.URL+"/team/export.csv", nil)
	require.NoError(tb.t, err)
	for _, c := range res.Cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	req.Header.Set("Accept-Language", tb.lang.accept)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(tb.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(tb.t, err)
	require.Equal(tb.t, http.StatusOK, resp.StatusCode, "%s", body)
	require.Contains(tb.t, resp.Header.Get("Content-Type"), "text/csv")
	return body
}

// editExport adds Nina (Ugo's role and status, group Marseille), adds
// Marseille to Ugo's groups and drops Rita's line, keeping the file's
// headers, separator and byte-order mark.
func editExport(t *testing.T, l lang, data []byte) []byte {
	t.Helper()
	bom := []byte("\uFEFF")
	hasBOM := bytes.HasPrefix(data, bom)
	data = bytes.TrimPrefix(data, bom)
	first, _, _ := bytes.Cut(data, []byte("\n"))
	comma := ','
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		comma = ';'
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = comma
	records, err := r.ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, records)
	headers := csvsync.HeadersFor(membership.Lang(l.code))
	col := func(i int) int {
		j := slices.Index(records[0], headers[i])
		require.GreaterOrEqual(t, j, 0, "header %q in %q", headers[i], records[0])
		return j
	}
	// The columns, in csvsync's order: login, last name, first name,
	// email, password, status, role, groups.
	login, last, firstName, email, pw, groups := col(0), col(1), col(2), col(3), col(4), col(7)
	out := [][]string{records[0]}
	var ugo []string
	for _, rec := range records[1:] {
		switch rec[email] {
		case "rita@example.com":
			continue
		case "ugo@example.com":
			rec[groups] += ", Marseille"
			ugo = rec
		}
		out = append(out, rec)
	}
	require.NotNil(t, ugo, "Ugo in the export")
	nina := slices.Clone(ugo)
	nina[login], nina[last], nina[firstName], nina[email], nina[pw], nina[groups] = "", "Lefebvre", "Nina", "nina@example.com", "", "Marseille"
	out = append(out, nina)
	var buf bytes.Buffer
	if hasBOM {
		buf.Write(bom)
	}
	w := csv.NewWriter(&buf)
	w.Comma = comma
	require.NoError(t, w.WriteAll(out))
	t.Logf("imported file (%s):\n%s", l.code, strings.TrimSpace(buf.String()))
	return buf.Bytes()
}
