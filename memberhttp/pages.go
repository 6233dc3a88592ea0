package memberhttp

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// screens lists the pages, each a template of its own over the layout.
var screens = []string{"members", "member", "member_new", "confirm", "import", "plan", "roles", "review", "join", "joined", "error"}

// pages holds the parsed templates of the screens.
type pages struct {
	byName map[string]*template.Template
}

// funcs are the templates' helpers; t reads the catalogue.
var funcs = template.FuncMap{
	"t":    func(lang membership.Lang, key string, args ...any) string { return text(lang, key, args...) },
	"date": formatDate,
	"join": strings.Join,
	"has": func(list []membership.Permission, p membership.Permission) bool {
		for _, q := range list {
			if q == p {
				return true
			}
		}
		return false
	},
}

// formatDate writes a time as people of lang read it, in UTC; "—" for
// never.
func formatDate(lang membership.Lang, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if lang == membership.English {
		return t.UTC().Format("Jan 2, 2006 15:04")
	}
	return t.UTC().Format("02/01/2006 15:04")
}

func newPages(layout *template.Template) (*pages, error) {
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range screens {
		var t *template.Template
		var err error
		if layout != nil {
			if t, err = layout.Clone(); err == nil {
				t, err = t.Funcs(funcs).ParseFS(templateFiles, "templates/"+name+".html")
			}
		} else {
			t, err = template.New("layout").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html")
		}
		if err != nil {
			return nil, err
		}
		p.byName[name] = t
	}
	return p, nil
}

// pageData is what every page's template receives: the layout's fields,
// and the page's own in Content.
type pageData struct {
	Lang       membership.Lang
	Title      string // the page's heading
	AppTitle   string // Options.Title, or "Membres"
	Base       string // where the handler is mounted, for links
	CSRF       string
	OrgName    string
	SeatsUsed  int
	SeatLimit  int
	UpgradeURL string
	Stylesheet string
	Section    string // the tab the page belongs to
	Flash      *flash
	Nav        nav
	Content    any

	perms map[membership.Permission]bool // what the actor may do, for the forms
	roles []membership.Role              // the org's roles
	self  string                         // the actor's member ID
	csv   bool                           // the org's plan has the CSV feature

	frameDone chan struct{} // closed when frameRead is filled
	frameRead struct {
		ws    roster.Workspace
		perms map[membership.Permission]bool
	}
	awaited bool
}

// nav says which sections the actor's role opens. The screens hide what
// the role cannot do, but only the services' checks keep it from being
// done.
type nav struct {
	Manage, Invite, Roles, Import, Export, Audit bool
}

// Full tells whether the plan has no seat left.
func (d pageData) Full() bool { return d.SeatLimit > 0 && d.SeatsUsed >= d.SeatLimit }

// flash is the message a page shows above its content.
type flash struct {
	Error   bool
	Text    string
	Details []string
	// Upgrade offers the host's upgrade page (a full plan).
	Upgrade bool
}

// base returns where the handler is mounted: Options.BasePath, or read
// from the request's original URI and the path left by http.StripPrefix.
func (h *Handler) base(r *http.Request) string {
	if h.opts.BasePath != "" {
		return h.opts.BasePath
	}
	u, err := url.ParseRequestURI(r.RequestURI)
	if err != nil {
		return ""
	}
	if p, ok := strings.CutSuffix(u.Path, r.URL.Path); ok {
		return p
	}
	return ""
}

// render writes a page with status.
func (h *Handler) render(w http.ResponseWriter, status int, name string, d *pageData) {
	d.await()
	if d.AppTitle == "" {
		d.AppTitle = h.opts.Title
		if d.AppTitle == "" {
			d.AppTitle = text(d.Lang, "app.title")
		}
	}
	d.UpgradeURL, d.Stylesheet = h.opts.UpgradeURL, h.opts.Stylesheet
	var buf bytes.Buffer
	buf.Grow(int(h.pageSize.Load())) // the last page's size: no regrowing
	if err := h.pages.byName[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		h.log.Error("memberhttp: page failed", "page", name, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h.pageSize.Store(int64(min(buf.Len(), 1<<20)))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage shows a problem on a page of its own.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, lang membership.Lang, p membership.Problem) {
	d := &pageData{Lang: lang, Base: h.base(r), Title: text(lang, "page.error"), Flash: problemFlash(p)}
	h.render(w, p.Status, "error", d)
}

// problemFlash shows a problem: its message, and each detail (a refused
// file's lines, a bulk action's refused members).
func problemFlash(p membership.Problem) *flash {
	f := &flash{Error: true, Text: p.Message, Upgrade: p.Code == "member_limit"}
	for i, d := range p.Details {
		if i == 20 {
			f.Details = append(f.Details, "…")
			break
		}
		f.Details = append(f.Details, d.Message)
	}
	return f
}

// serveStatic serves the script and the stylesheet.
func serveStatic() http.Handler {
	sub, _ := fs.Sub(staticFiles, "static")
	fsrv := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}
