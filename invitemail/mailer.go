package invitemail

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/relay"
)

//go:embed templates
var builtin embed.FS

// Data is what the templates see.
type Data struct {
	Lang      membership.Lang
	OrgName   string
	Email     string // the invited address
	RoleName  string // in Lang, through Options.Labels
	Link      string // the accept link, with the token
	ExpiresAt time.Time
	Expires   string // ExpiresAt written in Lang, in UTC
}

// Templates are the subject, text and HTML of the invitation email, per
// language.
type Templates struct {
	subject, text map[membership.Lang]*texttemplate.Template
	html          map[membership.Lang]*htmltemplate.Template
}

// ParseTemplates reads the templates of each language from fsys:
// invitation.<lang>.subject.txt, invitation.<lang>.txt (text/template)
// and invitation.<lang>.html (html/template), for lang fr and en; a host
// replaces memberkit's by giving its own directory (os.DirFS, embed.FS)
// with the same six names. Each sees a [Data].
func ParseTemplates(fsys fs.FS) (*Templates, error) {
	t := &Templates{subject: map[membership.Lang]*texttemplate.Template{}, text: map[membership.Lang]*texttemplate.Template{},
		html: map[membership.Lang]*htmltemplate.Template{}}
	for _, lang := range []membership.Lang{membership.French, membership.English} {
		name := "invitation." + string(lang)
		read := func(suffix string) (string, error) {
			b, err := fs.ReadFile(fsys, name+suffix)
			if err != nil {
				return "", fmt.Errorf("invitemail: template %s%s: %w", name, suffix, err)
			}
			return string(b), nil
		}
		src, err := read(".subject.txt")
		if err != nil {
			return nil, err
		}
		if t.subject[lang], err = texttemplate.New(name + ".subject.txt").Option("missingkey=error").Parse(strings.TrimSpace(src)); err != nil {
			return nil, fmt.Errorf("invitemail: %w", err)
		}
		if src, err = read(".txt"); err != nil {
			return nil, err
		}
		if t.text[lang], err = texttemplate.New(name + ".txt").Option("missingkey=error").Parse(src); err != nil {
			return nil, fmt.Errorf("invitemail: %w", err)
		}
		if src, err = read(".html"); err != nil {
			return nil, err
		}
		if t.html[lang], err = htmltemplate.New(name + ".html").Option("missingkey=error").Parse(src); err != nil {
			return nil, fmt.Errorf("invitemail: %w", err)
		}
	}
	return t, nil
}

// DefaultTemplates returns memberkit's own templates, in French and
// English.
func DefaultTemplates() *Templates {
	sub, _ := fs.Sub(builtin, "templates")
	t, err := ParseTemplates(sub)
	if err != nil {
		panic(err) // the embedded templates are checked by the tests
	}
	return t
}

// Options configure a [Mailer].
type Options struct {
	// AcceptURL is the host's page that accepts an invitation; the
	// token is added to it as the query parameter "token" (required, an
	// absolute http or https URL).
	AcceptURL string
	// From is the sender's address, e.g. "Acme <noreply@acme.example>"
	// (required).
	From string
	// Lang chooses the language of an email; default French.
	Lang func(m invite.Mail) membership.Lang
	// Labels names the roles; zero: memberkit's names.
	Labels membership.Labels
	// Templates replace memberkit's; nil: DefaultTemplates.
	Templates *Templates
	// Transport sends the messages (required): an [*SMTP], or the host's.
	Transport Transport
	// Clock stamps the Date header; default the system clock.
	Clock membership.Clock
	// Logger receives the emails a server refused for good (5xx: they
	// are not retried); default silent.
	Logger *slog.Logger
}

// Transport sends one message, already written out, to its recipients.
type Transport interface {
	Send(ctx context.Context, from string, to []string, msg []byte) error
}

// Mailer writes and sends invitation emails.
type Mailer struct {
	inv    *invite.Service
	o      Options
	from   *mail.Address
	accept *url.URL
	clock  membership.Clock
	log    *slog.Logger
}

// New returns a mailer for the invitations of inv, which must have a
// TokenKey (invite.Options.TokenKey).
func New(inv *invite.Service, o Options) (*Mailer, error) {
	if inv == nil {
		return nil, errors.New("invitemail: nil invite.Service")
	}
	if !inv.HasTokenKey() {
		return nil, fmt.Errorf("invitemail: %w", invite.ErrNoTokenKey)
	}
	if o.Transport == nil {
		return nil, errors.New("invitemail: no Transport")
	}
	from, err := mail.ParseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("invitemail: From %q: %w", o.From, err)
	}
	u, err := url.Parse(o.AcceptURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("invitemail: AcceptURL %q is not an absolute http(s) URL", o.AcceptURL)
	}
	if o.Templates == nil {
		o.Templates = DefaultTemplates()
	}
	if o.Lang == nil {
		o.Lang = func(invite.Mail) membership.Lang { return membership.French }
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Mailer{inv: inv, o: o, from: from, accept: u, clock: membership.ClockOrSystem(o.Clock), log: log}, nil
}

// Subscriber returns the relay subscriber, named name, that mails the
// invitations of invitation.sent and invitation.resent events, one event
// per delivery, skipping those whose token is dead ([invite.Service.ToMail]).
// An invitation committed before a crash is mailed once the relay runs
// again; a failure to send is retried after the relay's backoff.
func (m *Mailer) Subscriber(name string) relay.Subscriber {
	return relay.Subscriber{Name: name, BatchSize: 1,
		Types: []membership.EventType{membership.EventInvitationSent, membership.EventInvitationResent},
		Deliver: func(ctx context.Context, b relay.Batch) error {
			for _, e := range b.Events {
				mm, ok, err := m.inv.ToMail(ctx, e)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				if err := m.Send(ctx, mm); err != nil {
					var pe *PermanentError
					if errors.As(err, &pe) {
						// Sending it again would fail the same way: the
						// invitation stays pending, to be corrected and resent.
						m.log.WarnContext(ctx, "memberkit: invitation email refused by the server", "org", mm.Org.ID, "invitation", mm.Invitation.ID, "err", err)
						continue
					}
					return err
				}
			}
			return nil
		}}
}

// Link returns the accept link of a token.
func (m *Mailer) Link(token membership.Secret) string {
	u := *m.accept
	q := u.Query()
	q.Set("token", string(token))
	u.RawQuery = q.Encode()
	return u.String()
}

// Send writes the email of mm and hands it to the transport.
func (m *Mailer) Send(ctx context.Context, mm invite.Mail) error {
	msg, err := m.Message(mm)
	if err != nil {
		return err
	}
	return m.o.Transport.Send(ctx, m.from.Address, []string{mm.Invitation.Email}, msg)
}

// Message writes out the email of mm: headers, then a text and an HTML
// part (multipart/alternative), quoted-printable.
func (m *Mailer) Message(mm invite.Mail) ([]byte, error) {
	lang := m.o.Lang(mm)
	if lang != membership.English {
		lang = membership.French
	}
	d := Data{Lang: lang, OrgName: mm.Org.Name, Email: mm.Invitation.Email, RoleName: m.o.Labels.RoleName(mm.Role, lang),
		Link: m.Link(mm.Token), ExpiresAt: mm.Invitation.ExpiresAt.UTC(), Expires: when(mm.Invitation.ExpiresAt, lang)}
	t := m.o.Templates
	var subject, text, html bytes.Buffer
	if err := t.subject[lang].Execute(&subject, d); err != nil {
		return nil, fmt.Errorf("invitemail: subject: %w", err)
	}
	if err := t.text[lang].Execute(&text, d); err != nil {
		return nil, fmt.Errorf("invitemail: text: %w", err)
	}
	if err := t.html[lang].Execute(&html, d); err != nil {
		return nil, fmt.Errorf("invitemail: html: %w", err)
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", m.from.String())
	header("To", (&mail.Address{Address: mm.Invitation.Email}).String())
	header("Subject", mime.QEncoding.Encode("utf-8", strings.Join(strings.Fields(subject.String()), " ")))
	header("Date", m.clock.Now().UTC().Format(time.RFC1123Z))
	_, domain, _ := strings.Cut(m.from.Address, "@")
	header("Message-ID", fmt.Sprintf("<%s@%s>", mm.EventID, domain)) // the same for a mail sent twice
	header("MIME-Version", "1.0")
	header("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")
	for _, part := range []struct {
		typ  string
		body []byte
	}{{"text/plain; charset=utf-8", text.Bytes()}, {"text/html; charset=utf-8", html.Bytes()}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {part.typ}, "Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write(bytes.ReplaceAll(part.body, []byte("\n"), []byte("\r\n"))); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var months = map[membership.Lang][12]string{
	membership.French:  {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
	membership.English: {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
}

// when writes a time in the language, in UTC.
func when(t time.Time, lang membership.Lang) string {
	t = t.UTC()
	if lang == membership.English {
		return fmt.Sprintf("%s %d, %d at %02d:%02d (UTC)", months[lang][t.Month()-1], t.Day(), t.Year(), t.Hour(), t.Minute())
	}
	return fmt.Sprintf("%d %s %d à %02d:%02d (UTC)", t.Day(), months[lang][t.Month()-1], t.Year(), t.Hour(), t.Minute())
}
