package membership_test

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/membership"
)

func TestCatalog(t *testing.T) {
	cat, err := membership.NewCatalog([]membership.PermissionDef{
		{Name: "commissions.create", French: "Créer des commissions", English: "Create commissions"},
		{Name: "reports:view"},
	}, []membership.Permission{"reports:view"})
	require.NoError(t, err)
	assert.True(t, cat.Known("commissions.create"))
	assert.True(t, cat.Known(membership.PermMembersRead))
	assert.False(t, cat.Known("commissions.delete"))
	assert.Equal(t, append(membership.AllPermissions(), "commissions.create", "reports:view"), cat.Permissions())
	assert.Equal(t, "Créer des commissions", cat.Label("commissions.create", membership.French))
	assert.Equal(t, "Create commissions", cat.Label("commissions.create", membership.English))
	assert.Equal(t, "reports:view", cat.Label("reports:view", membership.English), "no label: the name")
	assert.Equal(t, "Inviter", cat.Label(membership.PermInvitationsManage, membership.French))

	admin, ok := cat.BuiltinRole(membership.RoleAdmin)
	require.True(t, ok)
	assert.True(t, admin.Has("commissions.create"), "admin holds every declared permission")
	user, _ := cat.BuiltinRole(membership.RoleUser)
	assert.Equal(t, []membership.Permission{"reports:view"}, user.Permissions, "the user role holds what the host chose")
	plainUser, _ := membership.BuiltinRole(membership.RoleUser)
	assert.Equal(t, []membership.Permission{membership.PermMembersRead}, plainUser.Permissions, "without a catalog: members.read")

	r := membership.Role{ID: "r1", Name: "Sales", Permissions: []membership.Permission{"commissions.create", membership.PermMembersRead, "commissions.create"}}
	require.NoError(t, cat.ValidateRole(&r))
	assert.Equal(t, []membership.Permission{"commissions.create", membership.PermMembersRead}, r.Permissions, "sorted, no duplicates")
	assert.ErrorIs(t, membership.ValidateRole(&r), membership.ErrInvalid, "memberkit alone does not know the host's")
	got, unknown := cat.Effective(membership.Role{Permissions: []membership.Permission{"gone.away", membership.PermMembersRead}})
	assert.Equal(t, []membership.Permission{membership.PermMembersRead}, got.Permissions)
	assert.Equal(t, []membership.Permission{"gone.away"}, unknown)

	for _, bad := range [][]membership.PermissionDef{
		{{Name: "Commissions"}}, {{Name: "1abc"}}, {{Name: ""}}, {{Name: "a b"}}, {{Name: membership.Permission(strings.Repeat("a", 65))}},
		{{Name: "x.y"}, {Name: "x.y"}}, {{Name: membership.PermMembersRead}},
	} {
		_, err := membership.NewCatalog(bad, nil)
		assert.ErrorIs(t, err, membership.ErrInvalid, "%v", bad)
	}
	_, err = membership.NewCatalog(nil, []membership.Permission{"undeclared"})
	assert.ErrorIs(t, err, membership.ErrInvalid)
}

func TestAttributesValidation(t *testing.T) {
	_, err := membership.ValidateAttributes(membership.Attributes{"e\u0301": ""})
	require.Error(t, err, "an invalid key is refused even with an empty value")
	got, err := membership.ValidateAttributes(membership.Attributes{"site": "  Lyon ", "team": "", "note": "E\u0301lodie"})
	require.NoError(t, err)
	assert.Equal(t, membership.Attributes{"site": "Lyon", "note": "\u00c9lodie"}, got, "trimmed, NFC, empty dropped")
	got, err = membership.ValidateAttributes(membership.Attributes{"team": ""})
	require.NoError(t, err)
	assert.Nil(t, got)

	field := func(a membership.Attributes) string {
		t.Helper()
		_, err := membership.ValidateAttributes(a)
		var ve *membership.ValidationError
		require.True(t, errors.As(err, &ve), "%v", err)
		return ve.Field
	}
	assert.Equal(t, "attributes.site", field(membership.Attributes{"site": strings.Repeat("x", 257)}))
	assert.Equal(t, "attributes.site", field(membership.Attributes{"site": "a\x00b"}))
	assert.Equal(t, "attributes.site", field(membership.Attributes{"site": "Ly\u200bon"}))
	assert.Equal(t, "attributes", field(membership.Attributes{"Site": "x"}))
	many := membership.Attributes{}
	for i := range membership.MaxAttributes + 1 {
		many[string(rune('a'+i))] = "v"
	}
	assert.Equal(t, "attributes", field(many))

	a := membership.Attributes{"site": "Lyon", "team": "Rouge"}
	assert.Equal(t, membership.Attributes{"site": "Paris"}, a.Merge(membership.Attributes{"site": "Paris", "team": ""}))
	assert.Equal(t, membership.Attributes{"site": "Lyon", "team": "Rouge"}, a, "Merge leaves its receiver")
	assert.Nil(t, a.Merge(membership.Attributes{"site": "", "team": ""}))

	// They marshal in JSON and XML, and XML reads back.
	m := membership.Member{ID: "m1", Attributes: a}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"Attributes":{"site":"Lyon","team":"Rouge"}`)
	x, err := xml.Marshal(m)
	require.NoError(t, err)
	assert.Contains(t, string(x), `<Attributes><attribute key="site">Lyon</attribute><attribute key="team">Rouge</attribute></Attributes>`)
	var back membership.Member
	require.NoError(t, xml.Unmarshal(x, &back))
	assert.Equal(t, a, back.Attributes)
}

func TestDomainsAndAccountActors(t *testing.T) {
	for in, want := range map[string]string{"Conance.FR": "conance.fr", "conance.fr.": "conance.fr", "exämple.fr": "xn--exmple-cua.fr", " a-b.c.io ": "a-b.c.io"} {
		got, err := membership.ValidateDomainName(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	for _, bad := range []string{"", "localhost", "-a.fr", "a..fr", "ab--cd.fr", "exa\u200bmple.fr", "a b.fr", strings.Repeat("a", 64) + ".fr"} {
		_, err := membership.ValidateDomainName(bad)
		assert.ErrorIs(t, err, membership.ErrInvalid, "%q", bad)
	}
	assert.Equal(t, "conance.fr", membership.EmailDomain("jean@conance.fr"))
	assert.Equal(t, membership.RoleUser, membership.Domain{}.JoinRole())
	assert.NotEqual(t, membership.NewDomainToken(), membership.NewDomainToken())

	u := membership.ActorUser("u-42")
	assert.Equal(t, "user:u-42", u.String())
	assert.Equal(t, u, membership.ParseActor(u.String()))
	assert.False(t, u.IsSystem())
	assert.Equal(t, membership.Actor{}, membership.ParseActor("user:"))

	// An account acts as its member of the org; the member must be the
	// account's and active.
	m := membership.Member{ID: "m1", UserID: "u-42", Status: membership.StatusActive}
	role := membership.Role{Permissions: []membership.Permission{membership.PermMembersRead}}
	a := membership.Authority{Actor: u, Member: &m, Role: &role}
	assert.NoError(t, a.Require(membership.PermMembersRead))
	assert.Equal(t, membership.ActorMember("m1"), a.Acting())
	other := m
	other.UserID = "u-7"
	assert.ErrorIs(t, membership.Authority{Actor: u, Member: &other, Role: &role}.Require(membership.PermMembersRead), membership.ErrForbidden)
	assert.ErrorIs(t, membership.Authority{Actor: u}.Require(membership.PermMembersRead), membership.ErrForbidden)

	for _, bad := range []string{" lead", "trail ", "tab\tinside", "nul\x00", "\xff\xfe", strings.Repeat("u", 129)} {
		assert.ErrorIs(t, membership.ValidateUserID(bad), membership.ErrInvalid, "%q", bad)
	}
	for _, good := range []string{"user_2abcDEF-123|auth0", "Zoé Martin", "42"} {
		assert.NoError(t, membership.ValidateUserID(good), good)
	}
}
