package proof

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/memberkit/memberkit/internal/testkit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit"
	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/domains"
	"github.com/memberkit/memberkit/invite"
	"github.com/memberkit/memberkit/invitemail"
	"github.com/memberkit/memberkit/memberhttp"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/relay"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
	"github.com/memberkit/memberkit/store/memstore"
	"github.com/memberkit/memberkit/store/sqlstore"
	"github.com/memberkit/memberkit/webhook"
)

// Markers planted in every secret a value can hold.
const (
	markHash  = "$argon2id$v=19$m=19456,t=2,p=1$MARKERSALTMARKERSALT$MARKERHASHMARKERHASH"
	markPlain = "MARKER-CLEAR-PASSWORD"
	markTemp  = "MARKER-TEMPORARY-PASSWORD"
	markToken = "MARKER-INVITATION-TOKEN"
)

// libraryPackages are the directories whose exported types an importing
// app may hold.
var libraryPackages = []string{".", "membership", "store", "roster", "invite", "csvsync", "domains", "store/memstore", "store/sqlstore", "relay", "webhook", "invitemail", "memberhttp"}

// exportedStructs lists "pkg.Type" for every exported struct type of the
// library, read from the source.
func exportedStructs(t *testing.T) []string {
	root := filepath.Join("..", "..", "..")
	var out []string
	for _, dir := range libraryPackages {
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, filepath.Join(root, dir), func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
		require.NoError(t, err)
		for _, p := range pkgs {
			for _, f := range p.Files {
				for _, d := range f.Decls {
					g, ok := d.(*ast.GenDecl)
					if !ok {
						continue
					}
					for _, s := range g.Specs {
						ts, ok := s.(*ast.TypeSpec)
						if !ok {
							continue
						}
						if _, isStruct := ts.Type.(*ast.StructType); isStruct && ts.Name.IsExported() {
							out = append(out, p.Name+"."+ts.Name.Name)
						}
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// samples holds a value of every exported struct type, with every secret
// it can carry set to a marker.
func samples(t *testing.T) map[string]any {
	member := membership.Member{ID: "m1", Login: "jean", PasswordHash: markHash, SecurityStamp: "stamp"}
	row := csvsync.Row{Line: 2, Login: "jean", Password: markPlain, PassKind: csvsync.PasswordPlain}
	st := memstore.New()
	org, err := testkit.Roster(t, st, &roster.Options{Hasher: fastHasher()}).CreateOrg(t.Context(), roster.NewOrg{Name: "Secrets", Features: []membership.Feature{membership.FeatureCSV}})
	require.NoError(t, err)
	added, err := testkit.Roster(t, st, &roster.Options{Hasher: fastHasher()}).Add(t.Context(), sys, org.ID, roster.NewMember{FirstName: "Ada", LastName: "Admin", RoleID: membership.RoleAdmin, Password: markPlain})
	require.NoError(t, err)
	f, err := csvsync.Parse(strings.NewReader("Identifiant;Nom;Prénom;Mot de passe;Etat\nada.admin;Admin;Ada;"+markPlain+";actif\n;Neuf;Noé;;actif\n"), nil)
	require.NoError(t, err)
	files := testkit.CSV(t, st, &csvsync.Options{Hasher: fastHasher()})
	plan, err := files.Plan(t.Context(), sys, org.ID, f, &csvsync.PlanOptions{TemporaryPassword: markTemp})
	require.NoError(t, err)
	result := &csvsync.Result{TemporaryPasswords: map[string]membership.Secret{"x": markTemp}}
	return map[string]any{
		"membership.SystemClock": membership.SystemClock{}, "membership.FakeClock": membership.NewFakeClock(t0()),
		"membership.ValidationError": membership.ValidationError{}, "membership.DuplicateError": membership.DuplicateError{},
		"membership.LimitError": membership.LimitError{}, "membership.ForbiddenError": membership.ForbiddenError{},
		"membership.ThrottleError": membership.ThrottleError{}, "membership.Event": membership.Event{},
		"membership.Actor": membership.Actor{}, "membership.LimitedHasher": membership.LimitHasher(fastHasher(), 1),
		"membership.Invitation": membership.Invitation{TokenHash: []byte("hash of a token, not the token")},
		"membership.Member":     member, "membership.Counts": membership.Counts{}, "membership.Plan": membership.Plan{},
		"membership.Org": org, "membership.Argon2Params": membership.Argon2Params{}, "membership.Argon2Hasher": membership.NewArgon2Hasher(nil),
		"membership.Authority": membership.Authority{Member: &member}, "membership.Role": membership.Role{},
		"membership.SessionState": membership.SessionState{}, "membership.Attempts": membership.Attempts{},
		"membership.ThrottlePolicy": membership.ThrottlePolicy{}, "membership.Tally": membership.Tally{},
		"store.MemberSummary": store.MemberSummary{}, "store.MemberDetail": store.MemberDetail{}, "store.MemberPatch": store.MemberPatch{PasswordHash: markHash},
		"store.MemberFilter": store.MemberFilter{}, "store.MemberQuery": store.MemberQuery{}, "store.InvitationQuery": store.InvitationQuery{},
		"store.EventQuery": store.EventQuery{}, "store.FeedPosition": store.FeedPosition{}, "store.FeedCursor": store.FeedCursor{}, "store.SubscriberState": store.SubscriberState{},
		"store.Membership": store.Membership{Org: org, Member: member}, "store.Access": store.Access{}, "store.Preload": store.Preload{},
		"membership.Domain": membership.Domain{Name: "exemple.fr", Token: "tok"}, "membership.Group": membership.Group{Name: "Ventes"}, "membership.DirectoryToken": membership.DirectoryToken{Name: "Okta", Hint: "mkd_abcd"}, "membership.PermissionDef": membership.PermissionDef{},
		"membership.Catalog": membership.Catalog{},
		"membership.Labels":  membership.Labels{}, "csvsync.MassDeactivationError": csvsync.MassDeactivationError{}, "roster.Notice": roster.Notice{},
		"membership.Problem":  membership.Problem{Details: []membership.Problem{{Message: "m"}}},
		"membership.Sentinel": *membership.NewSentinel("c", 500, "t"), "memberkit.Options": memberkit.Options{}, "memberkit.Kit": memberkit.Kit{},
		"roster.PasswordChangeRequiredError": roster.PasswordChangeRequiredError{Member: member}, "roster.Refusal": roster.Refusal{},
		"roster.BulkError": roster.BulkError{}, "roster.BulkResult": roster.BulkResult{}, "roster.ListQuery": roster.ListQuery{},
		"roster.Row": roster.Row{}, "roster.Page": roster.Page{Members: []membership.Member{member}}, "roster.Report": roster.Report{Idle: []membership.Member{member}},
		"roster.Workspace":    roster.Workspace{Org: org, Me: &member},
		"memberhttp.Identity": memberhttp.Identity{}, "memberhttp.Options": memberhttp.Options{}, "memberhttp.Handler": memberhttp.Handler{},
		"roster.Options": roster.Options{}, "roster.Service": testkit.Roster(t, st, nil), "roster.NewOrg": roster.NewOrg{},
		"roster.NewMember": roster.NewMember{}, "roster.Added": roster.Added{Member: member, TemporaryPassword: markTemp}, "roster.Patch": roster.Patch{},
		"invite.Details": invite.Details{}, "invite.Options": invite.Options{}, "invite.Service": &invite.Service{}, "invite.To": invite.To{},
		"domains.Joiner": domains.Joiner{}, "domains.Options": domains.Options{}, "domains.Service": &domains.Service{},
		"domains.Suggestion": domains.Suggestion{}, "roster.Membership": roster.Membership{Org: org, Member: member},
		"invite.View": invite.View{}, "invite.Sent": invite.Sent{Token: markToken}, "invite.RecordingSender": &invite.RecordingSender{},
		"invite.SendError":     invite.SendError{},
		"csvsync.ApplyOptions": csvsync.ApplyOptions{}, "csvsync.Outcome": csvsync.Outcome{}, "csvsync.Result": result,
		"csvsync.ExportOptions": csvsync.ExportOptions{}, "csvsync.Problem": csvsync.Problem{}, "csvsync.FileError": csvsync.FileError{},
		"csvsync.ParseOptions": csvsync.ParseOptions{}, "csvsync.Row": row, "csvsync.File": f, "csvsync.PlanOptions": csvsync.PlanOptions{},
		"csvsync.Change": csvsync.Change{}, "csvsync.Action": plan.Actions[0], "csvsync.Plan": plan,
		"csvsync.Options": csvsync.Options{}, "csvsync.Service": files,
		"memstore.Store": st, "sqlstore.Migration": sqlstore.Migration{}, "sqlstore.Options": sqlstore.Options{}, "sqlstore.Store": &sqlstore.Store{},
		"added member":     added,
		"invite.Mail":      invite.Mail{Invitation: membership.Invitation{TokenHash: []byte("hash")}, Token: markToken},
		"relay.Subscriber": relay.Subscriber{Name: "hooks"}, "relay.Batch": relay.Batch{Events: []membership.Event{{ID: "e"}}},
		"relay.Options": relay.Options{}, "relay.DeliveryError": relay.DeliveryError{Err: fmt.Errorf("boom")}, "relay.Relay": &relay.Relay{},
		"webhook.Payload": webhook.Payload{Events: []webhook.Event{{ID: "e"}}}, "webhook.Event": webhook.Event{},
		"webhook.Endpoint": webhook.Endpoint{URL: "https://x.example", Secrets: []membership.Secret{markToken}}, "webhook.StatusError": webhook.StatusError{},
		"invitemail.Data":    invitemail.Data{Link: "https://x.example/accept?token=" + "(the link carries the token by design)"},
		"invitemail.Options": invitemail.Options{}, "invitemail.Templates": invitemail.DefaultTemplates(), "invitemail.Mailer": &invitemail.Mailer{},
		"invitemail.SMTP": invitemail.SMTP{Addr: "smtp.example:587", Username: "u", Password: markPlain}, "invitemail.PermanentError": invitemail.PermanentError{},
	}
}

func t0() time.Time { return authT0 }

// Password hashes and CSV passwords (clear ones, temporary ones, tokens)
// never appear in the encoding/json, encoding/xml or encoding/gob output,
// nor in the fmt output, of any exported type of the library. A new
// exported type fails this test until a sample of it is added.
func TestSecretsInNoSerialisation(t *testing.T) {
	all := samples(t)
	for _, name := range exportedStructs(t) {
		if _, ok := all[name]; !ok {
			t.Errorf("exported type %s has no sample here: add one, with every secret it can hold set to a marker", name)
		}
	}
	for name, v := range all {
		var outs []string
		if b, err := json.Marshal(v); err == nil {
			outs = append(outs, string(b))
		}
		if b, err := xml.Marshal(v); err == nil {
			outs = append(outs, string(b))
		}
		var g bytes.Buffer
		if err := gob.NewEncoder(&g).Encode(v); err == nil {
			outs = append(outs, g.String())
		}
		outs = append(outs, fmt.Sprintf("%v|%+v|%#v", v, v, v))
		for _, o := range outs {
			for _, m := range []string{"MARKERHASH", markPlain, markTemp, markToken} {
				assert.NotContains(t, o, m, "%s leaks a secret", name)
			}
		}
	}
}
