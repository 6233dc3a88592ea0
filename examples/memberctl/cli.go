package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// Exit codes.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitInvalid  = 3
	exitRefused  = 4
	exitNotFound = 5
)

var actor = membership.SystemActor("memberctl")

type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	tty    bool
}

type command struct {
	group, name, summary string
	run                  func(e *env, args []string) error
}

func commands() []command {
	return []command{
		{"orgs", "create", "create an org and, optionally, its first admin", orgsCreate},
		{"members", "add", "add a member", membersAdd},
		{"members", "list", "list members", membersList},
		{"members", "deactivate", "deactivate a group, or members by ID", membersDeactivate},
		{"invite", "send", "invite an email with a role", inviteSend},
		{"invite", "resend", "resend an invitation with a new link", inviteResend},
		{"invite", "cancel", "cancel a pending invitation", inviteCancel},
		{"invite", "list", "list pending and expired invitations", inviteList},
		{"csv", "export", "write the roster as CSV", csvExport},
		{"csv", "import", "plan (--dry-run) or apply (--apply) a CSV file", csvImport},
		{"migrate", "", "apply the schema migrations", migrate},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: memberctl <group> <command> [flags]   (--help after a command for its flags)")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-20s %s\n", strings.TrimSpace(c.group+" "+c.name), c.summary)
	}
	fmt.Fprintln(w, "\nexit codes: 0 done, 1 failure, 2 usage, 3 invalid input, 4 refused by a rule, 5 not found")
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: context.Background(), stdin: stdin, stdout: stdout, stderr: stderr}
	if f, ok := stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			e.tty = true
		}
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if args[0] != c.group {
			continue
		}
		rest := args[1:]
		if c.name != "" {
			if len(rest) == 0 || rest[0] != c.name {
				continue
			}
			rest = rest[1:]
		}
		err := c.run(e, rest)
		return report(stderr, err)
	}
	fmt.Fprintf(stderr, "memberctl: unknown command %q\n\n", strings.Join(args[:min(2, len(args))], " "))
	usage(stderr)
	return exitUsage
}

func report(w io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintln(w, "memberctl:", err)
	var ue usageError
	var fe *csvsync.FileError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &fe):
		for _, l := range fe.Lines() {
			fmt.Fprintln(w, "  ", l)
		}
		return exitInvalid
	case errors.Is(err, membership.ErrInvalid):
		return exitInvalid
	case errors.Is(err, membership.ErrMemberLimit), errors.Is(err, membership.ErrLastAdmin), errors.Is(err, csvsync.ErrMassDeactivation),
		errors.Is(err, csvsync.ErrStalePlan), errors.Is(err, membership.ErrForbidden), errors.Is(err, membership.ErrFeatureDisabled),
		errors.Is(err, membership.ErrDuplicate), errors.Is(err, membership.ErrAlreadyMember), errors.Is(err, membership.ErrInvitationPending),
		errors.Is(err, membership.ErrNotPending):
		return exitRefused
	case errors.Is(err, membership.ErrNotFound):
		return exitNotFound
	}
	return exitFailure
}

// flags makes a command's flag set with the common --db flag.
func flags(e *env, name, synopsis string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("memberctl "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	def := os.Getenv("MEMBERKIT_DB")
	if def == "" {
		def = "memberkit.db"
	}
	db := fs.String("db", def, "SQLite file, postgres://… or mysql://user@tcp(host:port)/db (env MEMBERKIT_DB)")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: memberctl %s\n\nflags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs, db
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

func required(fs *flag.FlagSet, names ...string) error {
	for _, n := range names {
		if f := fs.Lookup(n); f == nil || f.Value.String() == "" {
			return usageError{fmt.Sprintf("--%s is required", n)}
		}
	}
	return nil
}

// open opens the store named by dsn and migrates it.
func open(ctx context.Context, dsn string) (*sqlstore.Store, func(), error) {
	var driver, source string
	var d sqlstore.Dialect
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		driver, source, d = "pgx", dsn, sqlstore.Postgres
	case strings.HasPrefix(dsn, "mysql://"):
		cfg, err := mysql.ParseDSN(strings.TrimPrefix(dsn, "mysql://"))
		if err != nil {
			return nil, nil, usageError{fmt.Sprintf("--db: %v", err)}
		}
		driver, source, d = "mysql", cfg.FormatDSN(), sqlstore.MySQL
	default:
		driver, d = "sqlite", sqlstore.SQLite
		source = "file:" + dsn + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)"
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return nil, nil, err
	}
	st, err := sqlstore.New(db, d, nil)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		db.Close()
		return nil, nil, err
	}
	return st, func() { db.Close() }, nil
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func migrate(e *env, args []string) error {
	fs, db := flags(e, "migrate", "migrate [--db DSN]")
	if err := parse(fs, args); err != nil {
		return err
	}
	st, closeDB, err := open(e.ctx, *db)
	if err != nil {
		return err
	}
	defer closeDB()
	v, err := st.MigrationsApplied(e.ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "schema versions applied: %v\n", v)
	return nil
}

func orgsCreate(e *env, args []string) error {
	fs, db := flags(e, "orgs create", "orgs create --name NAME [--plan free|premium] [--limit N] [--csv] [--admin-email E --admin-first F --admin-last L [--admin-password P]]")
	name := fs.String("name", "", "org name (required)")
	plan := fs.String("plan", "free", "free (3 seats) or premium")
	limit := fs.Int("limit", 0, "premium seats; 0 means unlimited")
	csvOn := fs.Bool("csv", false, "enable CSV import/export")
	email := fs.String("admin-email", "", "first admin's email")
	first := fs.String("admin-first", "", "first admin's first name")
	last := fs.String("admin-last", "", "first admin's last name")
	pw := fs.String("admin-password", "", "first admin's password; blank: a temporary one is printed")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "name"); err != nil {
		return err
	}
	p := membership.FreePlan()
	switch *plan {
	case "free":
	case "premium":
		p = membership.PremiumPlan(*limit)
	default:
		return usageError{fmt.Sprintf("--plan %q: free or premium", *plan)}
	}
	st, closeDB, err := open(e.ctx, *db)
	if err != nil {
		return err
	}
	defer closeDB()
	svc, err := roster.New(st, nil)
	if err != nil {
		return err
	}
	var feats []membership.Feature
	if *csvOn {
		feats = append(feats, membership.FeatureCSV)
	}
	org, err := svc.CreateOrg(e.ctx, roster.NewOrg{Name: *name, Plan: p, Features: feats})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, org.ID)
	if *first != "" || *last != "" || *email != "" {
		a, err := svc.Add(e.ctx, actor, org.ID, roster.NewMember{FirstName: *first, LastName: *last, Email: *email, RoleID: membership.RoleAdmin, Password: *pw})
		if err != nil {
			return fmt.Errorf("org %s created, first admin refused: %w", org.ID, err)
		}
		fmt.Fprintf(e.stderr, "admin %s added", a.Member.Login)
		if a.TemporaryPassword != "" {
			fmt.Fprintf(e.stderr, ", temporary password: %s", string(a.TemporaryPassword))
		}
		fmt.Fprintln(e.stderr)
	}
	return nil
}

func membersAdd(e *env, args []string) error {
	fs, db := flags(e, "members add", "members add --org ID --first F --last L [--email E] [--login L] [--role R] [--group G]… [--password P]")
	org := fs.String("org", "", "org ID (required)")
	first := fs.String("first", "", "first name (required)")
	last := fs.String("last", "", "last name (required)")
	email := fs.String("email", "", "email")
	login := fs.String("login", "", "login; default prenom.nom")
	role := fs.String("role", membership.RoleUser, "role ID")
	pw := fs.String("password", "", "password; blank: a temporary one is printed")
	var groups multi
	fs.Var(&groups, "group", "group label (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "org", "first", "last"); err != nil {
		return err
	}
	st, closeDB, err := open(e.ctx, *db)
	if err != nil {
		return err
	}
	defer closeDB()
	svc, err := roster.New(st, nil)
	if err != nil {
		return err
	}
	a, err := svc.Add(e.ctx, actor, *org, roster.NewMember{FirstName: *first, LastName: *last, Email: *email, Login: *login, RoleID: *role, Groups: groups, Password: *pw})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, a.Member.ID, a.Member.Login)
	if a.TemporaryPassword != "" {
		fmt.Fprintln(e.stderr, "temporary password:", string(a.TemporaryPassword))
	}
	return nil
}

func membersList(e *env, args []string) error {
	fs, db := flags(e, "members list", "members list --org ID [--group G] [--status S] [--role R] [--q TEXT] [--pending] [--limit N] [--after LOGIN]")
	org := fs.String("org", "", "org ID (required)")
	group := fs.String("group", "", "only this group")
	status := fs.String("status", "", "active, deactivated or removed")
	role := fs.String("role", "", "only this role")
	q := fs.String("q", "", "text in name, login or email")
	pending := fs.Bool("pending", false, "list pending invitations too")
	limit := fs.Int("limit", 50, "page size")
	after := fs.String("after", "", "login of the last member of the previous page")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "org"); err != nil {
		return err
	}
	lq := roster.ListQuery{Group: *group, RoleID: *role, Text: *q, IncludePending: *pending, Limit: *limit, After: *after}
	if *status != "" {
		st, err := membership.ParseStatus(*status)
		if err != nil {
			return usageError{fmt.Sprintf("--status: %v", err)}
		}
		lq.Status = st
		if *pending {
			lq.Statuses = []membership.Status{st, membership.StatusPending}
		}
	}
	st, closeDB, err := open(e.ctx, *db)
	if err != nil {
		return err
	}
	defer closeDB()
	svc, err := roster.New(st, nil)
	if err != nil {
		return err
	}
	page, err := svc.List(e.ctx, actor, *org, lq)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "LOGIN\tNAME\tEMAIL\tROLE\tSTATUS\tGROUPS\tLAST LOGIN")
	for _, r := range page.Rows() {
		last := "-"
		if !r.LastLoginAt.IsZero() {
			last = r.LastLoginAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", orDash(r.Login), orDash(r.Name), orDash(r.Email), r.RoleID, r.Status, orDash(strings.Join(r.Groups, ",")), last)
	}
	w.Flush()
	if page.Next != "" {
		fmt.Fprintf(e.stderr, "more: --after %s\n", page.Next)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func membersDeactivate(e *env, args []string) error {
	fs, db := flags(e, "members deactivate", "members deactivate --org ID (--group G | --id ID…)")
	org := fs.String("org", "", "org ID (required)")
	group := fs.String("group", "", "deactivate every active member of this group")
	var ids multi
	fs.Var(&ids, "id", "member ID (repeatable); all or nothing")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "org"); err != nil {
		return err
	}
	if (*group == "") == (len(ids) == 0) {
		return usageError{"give --group or --id, not both"}
	}
	st, closeDB, err := open(e.ctx, *db)
	if err != nil {
		return err
	}
	defer closeDB()
	svc, err := roster.New(st, nil)
	if err != nil {
		return err
	}
	var res roster.BulkResult
	if *group != "" {
		res, err = svc.DeactivateWhere(e.ctx, actor, *org, store.MemberFilter{Group: *group})
	} else {
		res, err = svc.DeactivateMany(e.ctx, actor, *org, ids)
	}
	if err != nil {
		var be *roster.BulkError
		if errors.As(err, &be) {
			for _, r := range be.Refused {
				fmt.Fprintf(e.stderr, "  refused %s: %v\n", r.MemberID, r.Err)
			}
		}
		return err
	}
	fmt.Fprintf(e.stdout, "deactivated %d, already inactive %d\n", len(res.Changed), len(res.Unchanged))
	return nil
}

// printSender prints the invitation link: memberctl has no mailer.
type printSender struct {
	w    io.Writer
	base string
}

func (p printSender) SendInvitation(_ context.Context, inv membership.Invitation, token string) error {
	fmt.Fprintf(p.w, "%s %s%s\n", inv.Email, p.base, token)
	return nil
}

func inviteService(e *env, dsn, base string) (*invite.Service, func(), error) {
	st, closeDB, err := open(e.ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	svc, err := invite.New(st, printSender{w: e.stdout, base: base}, nil)
	if err != nil {
		closeDB()
		return nil, nil, err
	}
	return svc, closeDB, nil
}

const defaultLinkBase = "https://app.example.com/join?token="

func inviteSend(e *env, args []string) error {
	fs, db := flags(e, "invite send", "invite send --org ID --email E [--role R] [--link-base URL]")
	org := fs.String("org", "", "org ID (required)")
	email := fs.String("email", "", "email to invite (required)")
	role := fs.String("role", membership.RoleUser, "role ID")
	base := fs.String("link-base", defaultLinkBase, "the link printed is this followed by the token")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "org", "email"); err != nil {
		return err
	}
	svc, closeDB, err := inviteService(e, *db, *base)
	if err != nil {
		return err
	}
	defer closeDB()
	_, err = svc.Send(e.ctx, actor, *org, invite.To{Email: *email, RoleID: *role})
	return err
}

func inviteResend(e *env, args []string) error {
	fs, db := flags(e, "invite resend", "invite resend --org ID --id INVITATION [--link-base URL]")
	org := fs.String("org", "", "org ID (required)")
	id := fs.String("id", "", "invitation ID (required)")
	base := fs.String("link-base", defaultLinkBase, "the link printed is this followed by the token")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "org", "id"); err != nil {
		return err
	}
	svc, closeDB, err := inviteService(e, *db, *base)
	if err != nil {
		return err
	}
	defer closeDB()
	_, err = svc.Resend(e.ctx, actor, *org, *id)
	return err
}

func inviteCancel(e *env, args []string) error {
	fs, db := flags(e, "invite cancel", "invite cancel --org ID --id INVITATION")
	org := fs.String("org", "", "org ID (required)")
	id := fs.String("id", "", "invitation ID (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "org", "id"); err != nil {
		return err
	}
	svc, closeDB, err := inviteService(e, *db, "")
	if err != nil {
		return err
	}
	defer closeDB()
	if err := svc.Cancel(e.ctx, actor, *org, *id); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "canceled", *id)
	return nil
}

func inviteList(e *env, args []string) error {
	fs, db := flags(e, "invite list", "invite list --org ID")
	org := fs.String("org", "", "org ID (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "org"); err != nil {
		return err
	}
	svc, closeDB, err := inviteService(e, *db, "")
	if err != nil {
		return err
	}
	defer closeDB()
	views, err := svc.List(e.ctx, actor, *org)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tEMAIL\tROLE\tSTATUS\tEXPIRES\tSENT")
	for _, v := range views {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\n", v.ID, v.Email, v.RoleID, v.Status, v.ExpiresAt.UTC().Format(time.RFC3339), v.SendCount)
	}
	return w.Flush()
}

func csvExport(e *env, args []string) error {
	fs, db := flags(e, "csv export", "csv export --org ID [--out FILE] [--lang fr|en] [--comma ;]")
	org := fs.String("org", "", "org ID (required)")
	out := fs.String("out", "-", "file to write; - for standard output")
	lang := fs.String("lang", "fr", "headers and labels: fr or en")
	comma := fs.String("comma", ";", "separator: ; , or tab")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "org"); err != nil {
		return err
	}
	opts := &csvsync.ExportOptions{Lang: membership.Lang(*lang)}
	switch *comma {
	case ";", ",":
		opts.Comma = rune((*comma)[0])
	case "tab", "\\t", "\t":
		opts.Comma = '\t'
	default:
		return usageError{fmt.Sprintf("--comma %q: ; , or tab", *comma)}
	}
	st, closeDB, err := open(e.ctx, *db)
	if err != nil {
		return err
	}
	defer closeDB()
	w := e.stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	files, err := csvsync.New(st, nil)
	if err != nil {
		return err
	}
	n, err := files.Export(e.ctx, actor, *org, w, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "exported %d members\n", n)
	return nil
}

func csvImport(e *env, args []string) error {
	fs, db := flags(e, "csv import", "csv import --org ID --file FILE (--dry-run | --apply) [--temp-password P] [--allow-mass-deactivation] [--report FILE] [--lang fr|en]")
	org := fs.String("org", "", "org ID (required)")
	file := fs.String("file", "", "CSV file; - for standard input (required)")
	dry := fs.Bool("dry-run", false, "print the plan, change nothing")
	apply := fs.Bool("apply", false, "apply the plan")
	temp := fs.String("temp-password", "", "password given to new members without one; blank: random, printed once")
	allowMass := fs.Bool("allow-mass-deactivation", false, "allow deactivating more than half of the active members")
	reportFile := fs.String("report", "", "write the per-row outcome as CSV to this file")
	lang := fs.String("lang", "fr", "language of the problems reported: fr or en")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "org", "file"); err != nil {
		return err
	}
	if *dry == *apply {
		return usageError{"give exactly one of --dry-run and --apply"}
	}
	st, closeDB, err := open(e.ctx, *db)
	if err != nil {
		return err
	}
	defer closeDB()
	var in io.Reader = e.stdin
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	svc, err := csvsync.New(st, &csvsync.Options{Parse: csvsync.ParseOptions{Lang: membership.Lang(*lang)}})
	if err != nil {
		return err
	}
	parsed, err := svc.Parse(e.ctx, actor, *org, in)
	if err != nil {
		return err
	}
	bar := e.progress("hashing passwords")
	plan, err := svc.Plan(e.ctx, actor, *org, parsed, &csvsync.PlanOptions{TemporaryPassword: *temp, AllowMassDeactivation: *allowMass, Progress: bar})
	e.endProgress(bar)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "plan: %d to add, %d to update, %d to reactivate, %d to deactivate, %d unchanged\n",
		plan.Adds, plan.Updates, plan.Reactivations, plan.Deactivations, plan.Unchanged)
	for _, w := range plan.Warnings {
		fmt.Fprintln(e.stdout, "warning:", w)
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	for _, a := range plan.Actions {
		line := "-"
		if a.Line > 0 {
			line = fmt.Sprint(a.Line)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", line, a.Kind, a.Login, a.Changes)
	}
	tw.Flush()
	if *dry {
		fmt.Fprintln(e.stdout, "dry run: nothing changed")
		return nil
	}
	bar = e.progress("writing")
	res, err := svc.Apply(e.ctx, actor, *org, plan, &csvsync.ApplyOptions{Progress: bar})
	e.endProgress(bar)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "applied: %d added, %d updated, %d reactivated, %d deactivated, %d unchanged\n",
		res.Added, res.Updated, res.Reactivated, res.Deactivated, res.Unchanged)
	for login, pw := range res.TemporaryPasswords {
		fmt.Fprintf(e.stdout, "temporary password %s %s\n", login, string(pw))
	}
	if *reportFile != "" {
		f, err := os.Create(*reportFile)
		if err != nil {
			return err
		}
		defer f.Close()
		return res.WriteReport(f, nil)
	}
	return nil
}

// progress returns a progress callback drawing a bar on stderr when it is
// a terminal, or nil.
func (e *env) progress(label string) func(done, total int) {
	if !e.tty {
		return nil
	}
	return func(done, total int) {
		if total == 0 {
			return
		}
		const width = 30
		n := done * width / total
		fmt.Fprintf(e.stderr, "\r%-18s [%s%s] %d/%d", label, strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total)
	}
}

func (e *env) endProgress(bar func(int, int)) {
	if bar != nil {
		fmt.Fprintln(e.stderr)
	}
}
