// Package gen makes realistic, deterministic rosters for benchmarks and
// load tests: French and international names with accents, groups and
// roles, and the CSV files a coordinator would import.
package gen

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

var firstNames = []string{"Zoé", "Élodie", "François", "Jean-Pierre", "Anaïs", "Loïc", "Hélène", "Jérôme", "Chloé", "Noël",
	"Søren", "Łukasz", "Ægir", "Björn", "José", "María", "Günther", "Siobhán", "Nguyễn", "Ana", "Marie", "Pierre", "Lucas",
	"Léa", "Hugo", "Inès", "Mathéo", "Camille", "Gaëlle", "Raphaël", "O'Neil", "Dónal", "Zoë", "Çağla", "Ådne"}

var lastNames = []string{"Martin", "Bernard", "Dubois", "Lefèvre-Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
	"Leroy", "Moreau", "Simon", "Laurent", "Lefèbvre", "Michel", "García", "D'Artagnan", "O'Brien", "Straße", "Kierkegaard",
	"Đorđević", "Müller", "Nuñez", "de la Tour", "Le Goff", "Bénard", "Gauthier", "Chevalier", "Faure", "Rousseau", "Blanc",
	"Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clément"}

var groups = []string{"Paris", "Lyon", "Marseille", "Lille", "Bordeaux", "Nantes", "Ventes", "Support", "R&D", "Direction"}

// Groups returns the group labels the generator uses.
func Groups() []string { return append([]string(nil), groups...) }

// Member returns the i-th member of a generated org: unique login and
// email, one or two groups, 1% admins, 8% deactivated.
func Member(orgID string, i int, now time.Time, hash membership.PasswordHash) membership.Member {
	r := rand.New(rand.NewPCG(uint64(i), 42))
	first := firstNames[r.IntN(len(firstNames))]
	last := lastNames[r.IntN(len(lastNames))]
	login := fmt.Sprintf("%s.%d", membership.DefaultLogin(first, last), i)
	m := membership.Member{
		ID: membership.NewID(), OrgID: orgID, Login: login, Email: login + "@example.com",
		FirstName: first, LastName: last, RoleID: membership.RoleUser, Status: membership.StatusActive,
		Groups: []string{groups[i%len(groups)]}, PasswordHash: hash, CreatedAt: now, UpdatedAt: now,
	}
	if i%7 == 0 {
		m.Groups = append(m.Groups, groups[(i/7)%len(groups)])
		if m.Groups[0] == m.Groups[1] {
			m.Groups = m.Groups[:1]
		}
	}
	if i%100 == 0 {
		m.RoleID = membership.RoleAdmin
	}
	if i%13 == 5 {
		m.Status = membership.StatusDeactivated
	}
	return m
}

// Org creates an org with n members in st, in batches, without hashing a
// password per member (they share one hash). It returns the org.
func Org(ctx context.Context, st store.Store, n int, hash membership.PasswordHash) (membership.Org, error) {
	now := time.Now().UTC()
	org := membership.Org{ID: membership.NewID(), Name: "Generated", Plan: membership.PremiumPlan(0),
		Features: []membership.Feature{membership.FeatureCSV}, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateOrg(ctx, org); err != nil {
		return org, err
	}
	const batch = 5000
	for start := 0; start < n; start += batch {
		ms := make([]membership.Member, 0, batch)
		for i := start; i < min(start+batch, n); i++ {
			ms = append(ms, Member(org.ID, i, now, hash))
		}
		// Written straight to the store, as a bulk load would: the org's
		// counters, which the services keep, are moved here in the same
		// transaction.
		err := st.Update(ctx, org.ID, func(tx store.Tx) error {
			if err := tx.InsertMembers(ctx, ms); err != nil {
				return err
			}
			var t membership.Tally
			for _, m := range ms {
				t.Change(membership.Member{}, m)
			}
			o, err := tx.Org(ctx)
			if err != nil {
				return err
			}
			o.ActiveMembers += t.Active
			o.ActiveAdmins += t.Admins
			return tx.PutOrg(ctx, o)
		})
		if err != nil {
			return org, err
		}
	}
	return st.Org(ctx, org.ID)
}

// Edit rewrites an exported roster (French headers, ";") the way a
// coordinator would: changedPct of the rows get a new last name,
// newPct new rows are appended, absentPct rows are dropped. It returns the
// numbers of rows changed, added and dropped.
func Edit(w io.Writer, export string, changedPct, newPct, absentPct int) (changed, added, dropped int, err error) {
	lines := strings.Split(strings.TrimRight(export, "\r\n"), "\r\n")
	if len(lines) > 0 {
		lines[0] = strings.TrimPrefix(lines[0], "\uFEFF")
	}
	if _, err := io.WriteString(w, lines[0]+"\r\n"); err != nil {
		return 0, 0, 0, err
	}
	rows := lines[1:]
	for i, l := range rows {
		switch {
		case absentPct > 0 && i%100 >= 50 && i%100 < 50+absentPct:
			dropped++
			continue
		case changedPct > 0 && i%100 >= 100-changedPct:
			cells := strings.Split(l, ";")
			if len(cells) >= 3 {
				cells[1] = cells[1] + "-Modifié"
				l = strings.Join(cells, ";")
				changed++
			}
		}
		if _, err := io.WriteString(w, l+"\r\n"); err != nil {
			return changed, added, dropped, err
		}
	}
	nNew := len(rows) * newPct / 100
	for i := range nNew {
		first := firstNames[i%len(firstNames)]
		last := lastNames[(i/len(firstNames))%len(lastNames)]
		if _, err := fmt.Fprintf(w, "nouveau.%d;%s;%s;nouveau.%d@example.org;;Activé\r\n", i, last, first, i); err != nil {
			return changed, added, dropped, err
		}
		added++
	}
	return changed, added, dropped, nil
}
