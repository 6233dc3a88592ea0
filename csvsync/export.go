package csvsync

import (
	"bufio"
	"context"
	"encoding/csv"
	"io"

	"github.com/memberkit/memberkit/internal/svc"
	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// ExportOptions shape an export. A nil *ExportOptions means French
// headers, ";" separators, a UTF-8 BOM and CRLF line ends — what a French
// spreadsheet opens correctly.
type ExportOptions struct {
	// Lang of the headers, the Etat labels and the password placeholder.
	Lang membership.Lang
	// Comma separates cells; default ';'.
	Comma rune
	// NoBOM leaves out the UTF-8 byte order mark.
	NoBOM bool
	// LF ends lines with "\n" instead of "\r\n".
	LF bool
	// Filter selects the members; no status means active and
	// deactivated. Removed members are never exported.
	Filter store.MemberFilter
	// Labels are the host's words for the statuses written in the Etat
	// column ("Actif"); an import given the same Labels reads them back.
	Labels membership.Labels
	// Attributes names member attributes to write, each in a column
	// after Etat whose header is its key; an import that names the same
	// keys reads them back.
	Attributes []string
}

// Export writes the roster as CSV to w (permission csv.export and the
// org's CSV feature, else [membership.ErrFeatureDisabled]). It streams:
// memory stays flat whatever the roster's size. It returns the number of
// members written.
func (s *Service) Export(ctx context.Context, actor membership.Actor, orgID string, w io.Writer, opts *ExportOptions) (int, error) {
	var o ExportOptions
	if opts != nil {
		o = *opts
	}
	if o.Comma == 0 {
		o.Comma = ';'
	}
	if o.Comma == '"' || o.Comma == '\r' || o.Comma == '\n' || o.Comma == '\'' {
		return 0, membership.Invalid("comma", "comma", o.Comma)
	}
	if _, err := checkAttributeKeys(o.Attributes); err != nil {
		return 0, err
	}
	f := o.Filter
	f.Attributes = f.Attributes.Normalized()
	var statuses []membership.Status
	for _, st := range f.Statuses {
		if st == membership.StatusActive || st == membership.StatusDeactivated {
			statuses = append(statuses, st)
		}
	}
	if len(statuses) == 0 {
		statuses = []membership.Status{membership.StatusActive, membership.StatusDeactivated}
	}
	f.Statuses = statuses
	n := 0
	err := s.st.View(ctx, orgID, func(tx store.Tx) error {
		if _, err := s.authorize(ctx, tx, actor, membership.PermCSVExport); err != nil {
			return err
		}
		roles, err := svc.NewRoles(tx, s.cat).All(ctx)
		if err != nil {
			return err
		}
		roleName := make(map[string]string, len(roles))
		for _, r := range roles {
			roleName[r.ID] = o.Labels.RoleName(r, o.Lang)
		}
		bw := bufio.NewWriterSize(w, 64<<10)
		if !o.NoBOM {
			if _, err := bw.WriteString("\uFEFF"); err != nil {
				return err
			}
		}
		cw := csv.NewWriter(bw)
		cw.Comma = o.Comma
		cw.UseCRLF = !o.LF
		h := HeadersFor(o.Lang)
		if err := cw.Write(append(h[:], o.Attributes...)); err != nil {
			return err
		}
		placeholder := Placeholder(o.Lang)
		rec := make([]string, int(numColumns)+len(o.Attributes))
		for m, err := range tx.Members(ctx, store.MemberQuery{MemberFilter: f}) {
			if err != nil {
				return err
			}
			rec[colLogin] = neutralize(m.Login)
			rec[colLastName] = neutralize(m.LastName)
			rec[colFirstName] = neutralize(m.FirstName)
			rec[colEmail] = neutralize(m.Email)
			rec[colPassword] = placeholder
			rec[colStatus] = o.Labels.StatusLabel(m.Status, o.Lang)
			rec[colRole] = neutralize(roleName[m.RoleID])
			rec[colGroups] = neutralize(joinGroups(m.Groups))
			for i, k := range o.Attributes {
				rec[int(numColumns)+i] = neutralize(m.Attributes[k])
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
			n++
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
