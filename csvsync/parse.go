package csvsync

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/memberkit/memberkit/membership"
)

// ParseOptions bound what [Parse] accepts. Zero fields take the defaults.
type ParseOptions struct {
	// Lang of the problems reported; default French.
	Lang membership.Lang
	// MaxRows is the most data rows a file may have; default 1,000,000.
	MaxRows int
	// MaxFieldLen is the longest cell, in bytes; default 1,024. Header
	// cells obey it too. A cell of more than twice as many bytes stops
	// the reading at once, so memory stays bounded whatever its size.
	MaxFieldLen int
	// MaxColumns is the most cells a line may have; default 64. A line
	// with more stops the reading.
	MaxColumns int
	// MaxFileSize is the largest file, in bytes; default 256 MiB.
	MaxFileSize int64
	// MaxProblems caps the problems listed; default 100.
	MaxProblems int
	// Labels are the host's words for statuses, read in the Etat column
	// beside memberkit's own.
	Labels membership.Labels
	// Attributes names the member attributes the file may carry, each
	// in a column whose header is its key (see membership.Attributes). A
	// present column sets the attribute of every row and a blank cell
	// removes it; an absent column leaves members' attributes as they are.
	Attributes []string
}

func (o ParseOptions) withDefaults() ParseOptions {
	if o.MaxRows <= 0 {
		o.MaxRows = 1_000_000
	}
	if o.MaxFieldLen <= 0 {
		o.MaxFieldLen = 1024
	}
	if o.MaxColumns <= 0 {
		o.MaxColumns = 64
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = 256 << 20
	}
	if o.MaxProblems <= 0 {
		o.MaxProblems = 100
	}
	if o.Lang == "" {
		o.Lang = membership.French
	}
	return o
}

// PasswordKind says what a row's password cell holds.
type PasswordKind uint8

// Password cell kinds.
const (
	// PasswordBlank: existing members keep theirs; new members get a
	// temporary one and must change it at first login.
	PasswordBlank PasswordKind = iota
	// PasswordPlaceholder: the export's placeholder; unchanged.
	PasswordPlaceholder
	// PasswordHashed: an argon2id or bcrypt PHC string, stored as is.
	PasswordHashed
	// PasswordPlain: a password in clear, hashed by the plan.
	PasswordPlain
)

// Secret is a password (or hash) read from a file: a [membership.Secret],
// which prints and marshals as "[redacted]"; use string(s) for its value.
type Secret = membership.Secret

// Row is one data row of an import file, validated and normalised.
type Row struct {
	Line      int    // where the row starts in the file (1-based)
	Login     string // "" when the file gives none: the default login applies
	LastName  string
	FirstName string
	Email     string // lower case; "" when blank
	Password  Secret // set for PasswordHashed and PasswordPlain only
	PassKind  PasswordKind
	Status    membership.Status
	// Role is the Rôle cell as written (a role's ID, or its name in
	// French or English); "" keeps the member's role, or gives a new one
	// the plan's.
	Role string
	// Groups are the labels of the Groupes cell, separated by commas;
	// with a Groupes column, an empty cell means no group.
	Groups []string
	// Attributes holds the cells of the file's attribute columns, by key
	// ("" for a blank cell: the attribute is removed).
	Attributes membership.Attributes
}

// File is a parsed import file.
type File struct {
	Rows []Row
	// Header is the header line as read; Unknown lists the columns that
	// were ignored.
	Header  []string
	Unknown []string
	// HasLogin, HasEmail and HasPassword tell whether those optional
	// columns are present. An absent email column keeps emails as they
	// are; a present, blank email cell clears the member's email.
	HasLogin, HasEmail, HasPassword bool
	// HasRole and HasGroups tell whether the optional Rôle and Groupes
	// columns are present: without them, roles and groups stay as they
	// are.
	HasRole, HasGroups bool
	// Comma is the separator detected; Encoding "utf-8", "utf-8 with BOM"
	// or "windows-1252".
	Comma    rune
	Encoding string
	// Attributes lists the keys of the attribute columns found, in the
	// order of ParseOptions.Attributes.
	Attributes []string

	colName [numColumns]string
	lang    membership.Lang
	labels  membership.Labels
}

// ColumnName returns the header of a known column as the file wrote it.
func (f *File) columnName(c column) string { return f.colName[c] }

type limitReader struct {
	r     io.Reader
	n     int64
	limit int64
}

var errTooLarge = errors.New("csvsync: file too large")

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n > l.limit {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.limit-l.n+1 {
		p = p[:l.limit-l.n+1]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.limit {
		return n, errTooLarge
	}
	return n, err
}

// detectComma picks the separator that appears most often, outside
// quotes, in the header line: ';', ',' or tab.
func detectComma(head []byte) rune {
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	counts := map[byte]int{}
	inQuote := false
	for _, c := range head {
		switch {
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == ';' || c == ',' || c == '\t'):
			counts[c]++
		}
	}
	best, n := byte(';'), 0
	for _, c := range []byte{';', ',', '\t'} {
		if counts[c] > n {
			best, n = c, counts[c]
		}
	}
	return rune(best)
}

// Parse reads an import file. Every problem found is reported in one
// [*FileError] (up to ParseOptions.MaxProblems), each with its line and
// column; a file with any problem yields no rows, and a file over
// MaxRows is refused for that alone. Records are checked on other
// goroutines than the one reading r (GOMAXPROCS-1 of them, 1 to 4), in
// batches; what Parse returns is the same as a single loop's. Parse does
// no I/O but reading r, and never panics on hostile input.
func Parse(r io.Reader, opts *ParseOptions) (*File, error) {
	var o ParseOptions
	if opts != nil {
		o = *opts
	}
	o = o.withDefaults()
	attrKeys, err := checkAttributeKeys(o.Attributes)
	if err != nil {
		return nil, err
	}
	attrIdx := map[string]int{}
	probs := &problems{max: o.MaxProblems, lang: o.Lang}
	lr := &limitReader{r: r, limit: o.MaxFileSize}
	f := &File{lang: o.Lang, labels: o.Labels}
	br, enc, head, err := openText(lr)
	f.Encoding = enc
	if err != nil {
		if errors.Is(err, errTooLarge) {
			probs.add(0, "", "too_large", o.MaxFileSize)
		} else {
			probs.add(0, "", "read")
		}
		return nil, probs.err()
	}
	f.Comma = detectComma(head)
	cr := csv.NewReader(newGuard(br, f.Comma, 2*o.MaxFieldLen+8, o.MaxColumns))
	cr.Comma = f.Comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	// Header: the first non-blank record.
	var idx [numColumns]int
	for i := range idx {
		idx[i] = -1
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			probs.add(0, "", "empty")
			return nil, probs.err()
		}
		if err != nil {
			return nil, readFailure(probs, err, o, f)
		}
		if blank(rec) {
			continue
		}
		for i, h := range rec {
			if len(h) > o.MaxFieldLen {
				line, _ := cr.FieldPos(i)
				probs.add(line, "", "field_too_long", len(h), o.MaxFieldLen)
				continue
			}
			if !utf8.ValidString(h) {
				line, _ := cr.FieldPos(i)
				probs.add(line, "", "invalid_encoding", "UTF-8")
				continue
			}
			h = strings.TrimSpace(h)
			f.Header = append(f.Header, h)
			if k, ok := attrKeys[strings.ToLower(h)]; ok {
				if _, dup := attrIdx[k]; dup {
					probs.add(1, h, "dup_column", h)
				}
				attrIdx[k] = i
				continue
			}
			c, ok := headerAliases[headerKey(h)]
			if !ok {
				if h != "" {
					f.Unknown = append(f.Unknown, h)
				}
				continue
			}
			if idx[c] >= 0 {
				probs.add(1, h, "dup_column", h)
				continue
			}
			idx[c] = i
			f.colName[c] = h
		}
		break
	}
	var missing []string
	for _, c := range []column{colLastName, colFirstName, colStatus} {
		if idx[c] < 0 {
			missing = append(missing, HeadersFor(o.Lang)[c])
		}
	}
	if len(missing) > 0 {
		probs.add(1, "", "missing_columns", strings.Join(missing, ", "), strings.Join(f.Header, string(f.Comma)))
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	f.HasLogin, f.HasEmail, f.HasPassword = idx[colLogin] >= 0, idx[colEmail] >= 0, idx[colPassword] >= 0
	f.HasRole, f.HasGroups = idx[colRole] >= 0, idx[colGroups] >= 0
	for _, k := range o.Attributes {
		if _, ok := attrIdx[k]; ok && !slices.Contains(f.Attributes, k) {
			f.Attributes = append(f.Attributes, k)
		}
	}

	rows, err := f.readRecords(cr, idx, attrIdx, o, probs)
	if err != nil {
		return nil, err
	}
	f.Rows = rows
	return f, nil
}

func readFailure(p *problems, err error, o ParseOptions, f *File) error {
	var ge *guardError
	switch {
	case errors.Is(err, errTooLarge):
		p.list, p.truncated = nil, false
		p.add(0, "", "too_large", o.MaxFileSize)
	case errors.As(err, &ge) && ge.tooLong:
		col := ""
		if ge.col < len(f.Header) {
			col = f.Header[ge.col]
		}
		p.add(ge.line, col, "cell_too_long", 2*o.MaxFieldLen+8, o.MaxFieldLen)
	case errors.As(err, &ge):
		p.add(ge.line, "", "too_many_columns", o.MaxColumns)
	default:
		p.add(0, "", "read")
	}
	return p.err()
}

// syntaxCode names what encoding/csv found wrong with a line, so that the
// problem is said in the file's language, not in encoding/csv's.
func syntaxCode(err error) string {
	switch {
	case errors.Is(err, csv.ErrBareQuote):
		return "bare_quote"
	case errors.Is(err, csv.ErrQuote):
		return "unclosed_quote"
	}
	return "malformed"
}

func nameProblem(p *problems, line int, col, v string, err error) {
	if v == "" {
		p.add(line, col, "required")
		return
	}
	p.add(line, col, "name", reasonIn(err, p.lang))
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}
