package roster_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/memberkit/memberkit/internal/testkit"
	"github.com/memberkit/memberkit/internal/testkit/gen"
	"github.com/memberkit/memberkit/internal/testkit/testdb"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/roster"
	"github.com/memberkit/memberkit/store"
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
			org := membership.Org{ID: membership.NewID(), Name: "Bench", Plan: membership.PremiumPlan(0)}
			if err := st.CreateOrg(ctx, org); err != nil {
				b.Fatal(err)
			}
			role := membership.Role{ID: membership.NewID(), OrgID: org.ID, Name: "Commercial", Permissions: []membership.Permission{membership.PermMembersRead, perm}}
			const n = 100_000
			now := time.Now().UTC()
			if err := st.Update(ctx, org.ID, func(tx store.Tx) error {
				if err := tx.PutRole(ctx, role); err != nil {
					return err
				}
				batch := make([]membership.Member, 0, 5000)
				for i := range n {
					m := gen.Member(org.ID, i, now, "")
					m.Status, m.UserID = membership.StatusActive, fmt.Sprintf("usr_%d", i)
					if i%2 == 0 {
						m.RoleID = role.ID
					}
					if batch = append(batch, m); len(batch) == cap(batch) || i == n-1 {
						if err := tx.InsertMembers(ctx, batch); err != nil {
							return err
						}
						batch = batch[:0]
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			_, _ = st.DB().ExecContext(ctx, "ANALYZE")
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
