package roster_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/memberkit/memberkit/internal/testkit"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store/sqlstore"
)

// BenchmarkCan asks whether a host account may use one of the host's
// permissions in a 100,000-member org (half the members in a custom role
// that holds it), through the service and through one raw indexed select
// of the member's status and role by account, prepared once, on the same
// *sql.DB. The
// service's fast path is one statement (the member by the user_key index,
// joined to its custom role) and the rules in Go.
//
//	MEMBERKIT_POSTGRES_DSN=… go test ./roster -run '^$' -bench 'Can$' -count 3
func BenchmarkCan(b *testing.B) {
	const perm membership.Permission = "commissions.create"
	cat, err := membership.NewCatalog([]membership.PermissionDef{{Name: perm, French: "Créer des commissions", English: "Create commissions"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	dbs := map[string]func(testing.TB) *sqlstore.Store{"sqlite": testdb.SQLite, "postgres": testdb.Postgres}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			st := dbs[name](b)
			role := membership.Role{ID: membership.NewID(), Name: "Commercial", Permissions: []membership.Permission{membership.PermMembersRead, perm}}
			const n = 100_000
			org := benchOrg(b, st, n, []membership.Role{role}, func(i int, m *membership.Member) {
				m.UserID = fmt.Sprintf("usr_%d", i)
				if i%2 == 0 {
					m.RoleID = role.ID
				}
			})
			svc := testkit.Roster(b, st, &roster.Options{Catalog: cat})
			q := `SELECT status, role_id FROM memberkit_members WHERE org_id = ? AND user_key = ?`
			if name == "postgres" {
				q = `SELECT status, role_id FROM memberkit_members WHERE org_id = $1 AND user_key = $2`
			}
			b.Run("memberkit", func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				for b.Loop() {
					i := r.IntN(n)
					ok, err := svc.Can(ctx, org.ID, membership.ActorUser(fmt.Sprintf("usr_%d", i)), perm)
					if err != nil || ok != (i%2 == 0) {
						b.Fatal(i, ok, err)
					}
				}
			})
			b.Run("raw", func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				stmt, err := st.DB().PrepareContext(ctx, q) // the best raw technique: prepared once
				if err != nil {
					b.Fatal(err)
				}
				defer stmt.Close()
				for b.Loop() {
					i := r.IntN(n)
					var status, roleID string
					if err := stmt.QueryRowContext(ctx, org.ID, fmt.Sprintf("usr_%d", i)).Scan(&status, &roleID); err != nil {
						b.Fatal(err)
					}
					if (roleID == role.ID) != (i%2 == 0) {
						b.Fatal("role differs")
					}
				}
			})
		})
	}
}
