package csvsync_test

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/membership"
)

func parse(t *testing.T, s string) *csvsync.File {
	t.Helper()
	f, err := csvsync.Parse(strings.NewReader(s), nil)
	require.NoError(t, err)
	return f
}

func win1252(t *testing.T, s string) string {
	t.Helper()
	b, err := charmap.Windows1252.NewEncoder().String(s)
	require.NoError(t, err)
	return b
}

// Files as spreadsheets save them.
func TestParseSpreadsheetFlavours(t *testing.T) {
	want := []csvsync.Row{
		{Line: 2, Login: "zoe.lefevre", LastName: "Lefèvre", FirstName: "Zoé", Email: "zoe@example.com", PassKind: csvsync.PasswordPlaceholder, Status: membership.StatusActive},
		{Line: 3, LastName: "D'Artagnan; Jr", FirstName: "Élodie", PassKind: csvsync.PasswordBlank, Status: membership.StatusDeactivated},
	}
	cases := map[string]struct {
		data     string
		comma    rune
		encoding string
	}{
		"excel fr: windows-1252, ;, CRLF": {
			data:  win1252(t, "Identifiant;Nom;Prénom;Adresse e-mail;Mot de passe;Etat\r\nzoe.lefevre;Lefèvre;Zoé;zoe@example.com;Mot de passe crypté;Activé\r\n;\"D'Artagnan; Jr\";Élodie;;;Désactivé\r\n"),
			comma: ';', encoding: "windows-1252",
		},
		"libreoffice: utf-8 BOM, comma": {
			data:  "\uFEFFIdentifiant,Nom,Prénom,Adresse e-mail,Mot de passe,Etat\nzoe.lefevre,Lefèvre,Zoé,zoe@example.com,Mot de passe crypté,activé\n,D'Artagnan; Jr,Élodie,,,DÉSACTIVÉ\n",
			comma: ',', encoding: "utf-8 with BOM",
		},
		"tab separated, english headers, reordered": {
			data:  "Status\tFirst name\tLast name\tEmail\tLogin\tPassword\nactive\tZoé\tLefèvre\tZOE@example.com\tZoe.Lefevre\tEncrypted password\ninactive\tÉlodie\tD'Artagnan; Jr\t\t\t\n",
			comma: '\t', encoding: "utf-8",
		},
		"headers in other case and spacing, blank lines, empty rows": {
			data:  "\n IDENTIFIANT ; nom * ;  prénom ; Adresse  E-Mail ; MOT DE PASSE ; état \n\nzoe.lefevre;Lefèvre;Zoé;zoe@example.com;Mot de passe crypté;Oui\n;;;;;\n;D'Artagnan; Jr;Élodie;;;0\n",
			comma: ';', encoding: "utf-8",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := csvsync.Parse(strings.NewReader(c.data), nil)
			if name == "headers in other case and spacing, blank lines, empty rows" {
				// "D'Artagnan; Jr" unquoted with ; splits: a real problem, reported.
				var fe *csvsync.FileError
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, 6, fe.Problems[0].Line)
				assert.Equal(t, "extra_cells", fe.Problems[0].Code)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.comma, f.Comma)
			assert.Equal(t, c.encoding, f.Encoding)
			assert.True(t, f.HasLogin && f.HasEmail && f.HasPassword)
			require.Len(t, f.Rows, 2)
			for i := range want {
				assert.Equal(t, want[i].Login, f.Rows[i].Login)
				assert.Equal(t, want[i].LastName, f.Rows[i].LastName)
				assert.Equal(t, want[i].FirstName, f.Rows[i].FirstName)
				assert.Equal(t, want[i].Email, f.Rows[i].Email)
				assert.Equal(t, want[i].PassKind, f.Rows[i].PassKind)
				assert.Equal(t, want[i].Status, f.Rows[i].Status)
			}
		})
	}
}

func TestParseQuotedNewlinesAndLineNumbers(t *testing.T) {
	f := parse(t, "Nom;Prénom;Etat;Commentaire\n\"Dupont; de la Tour\";Jean;actif;\"multi\nline\nnote\"\nMartin;Paul;inactif;x\n")
	require.Len(t, f.Rows, 2)
	assert.Equal(t, "Dupont; de la Tour", f.Rows[0].LastName)
	assert.Equal(t, 2, f.Rows[0].Line)
	assert.Equal(t, 5, f.Rows[1].Line, "lines count the line breaks inside quotes")
	assert.Equal(t, []string{"Commentaire"}, f.Unknown, "unknown columns are reported")
	assert.False(t, f.HasLogin)
}

func TestParseStatusWords(t *testing.T) {
	for in, want := range map[string]membership.Status{
		"activé": membership.StatusActive, "Activé(e)": membership.StatusActive, "ACTIF": membership.StatusActive, "active": membership.StatusActive,
		"oui": membership.StatusActive, "Yes": membership.StatusActive, "1": membership.StatusActive, "active ": membership.StatusActive,
		"désactivé": membership.StatusDeactivated, "DESACTIVE": membership.StatusDeactivated, "inactif": membership.StatusDeactivated,
		"inactive": membership.StatusDeactivated, "non": membership.StatusDeactivated, "no": membership.StatusDeactivated, "0": membership.StatusDeactivated,
		"Deactivated": membership.StatusDeactivated,
	} {
		got, ok := csvsync.ParseStatus(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	_, ok := csvsync.ParseStatus("peut-être")
	assert.False(t, ok)
}

// Each malformed file gets the exact, line-numbered problem.
func TestParseMalformed(t *testing.T) {
	const head = "Identifiant;Nom;Prénom;Adresse e-mail;Mot de passe;Etat\n"
	cases := []struct {
		name, data string
		want       []string // Error() fragments
		lines      []int
		codes      []string
	}{
		{"empty", "", []string{"fichier vide"}, []int{0}, []string{"empty"}},
		{"only blank lines", "\n\n \n", []string{"fichier vide"}, []int{0}, []string{"empty"}},
		{"missing required columns", "Identifiant;Adresse e-mail\nx;y@z.fr\n", []string{"colonne(s) obligatoire(s) absente(s) : Nom, Prénom, Etat"}, []int{1}, []string{"missing_columns"}},
		{"duplicate column", "Nom;Prénom;Etat;Nom\nA;B;actif;C\n", []string{`colonne « Nom » présente deux fois`}, []int{1}, []string{"dup_column"}},
		{"missing names and status", head + "jd;;;;;\n", []string{"ligne 2, colonne Nom : donnée obligatoire manquante", "ligne 2, colonne Prénom", "ligne 2, colonne Etat"}, []int{2, 2, 2}, []string{"required", "required", "required"}},
		{"bad status", head + "jd;Dupont;Jean;;;peut-être\n", []string{`ligne 2, colonne Etat : état « peut-être » inconnu`}, []int{2}, []string{"status"}},
		{"bad email", head + "jd;Dupont;Jean;jean@;;actif\n", []string{`ligne 2, colonne Adresse e-mail : adresse e-mail « jean@ » invalide`}, []int{2}, []string{"email"}},
		{"bad login", head + "jean dupont;Dupont;Jean;;;actif\n", []string{`ligne 2, colonne Identifiant : identifiant « jean dupont » invalide`}, []int{2}, []string{"login"}},
		{"short password", head + "jd;Dupont;Jean;;court;actif\n", []string{"ligne 2, colonne Mot de passe : mot de passe trop court (8 caractères minimum)"}, []int{2}, []string{"password"}},
		{"no login derivable", head + ";王;李;;;actif\n", []string{"ligne 2, colonne Identifiant : identifiant impossible à déduire"}, []int{2}, []string{"no_login"}},
		{"extra cells", head + "jd;Dupont;Jean;;;actif;surplus\n", []string{"ligne 2 : plus de cellules que de colonnes"}, []int{2}, []string{"extra_cells"}},
		{"bare quote", head + "jd;Du\"pont;Jean;;;actif\n", []string{"ligne 2 : guillemet \" au milieu d'une cellule sans guillemets"}, []int{2}, []string{"bare_quote"}},
		{"unterminated quote", head + "jd;\"Dupont;Jean;;;actif\n", []string{"ligne 2 : guillemet \" non refermé ou mal placé"}, []int{2}, []string{"unclosed_quote"}},
		{"control character", head + "jd;Du\x01pont;Jean;;;actif\n", []string{"ligne 2, colonne Nom : contient un caractère de contrôle"}, []int{2}, []string{"name"}},
		{"several rows", head + "a;A;A;;;actif\nb;;B;;;actif\nc;C;C;bad;;actif\n", []string{"ligne 3, colonne Nom", "ligne 4, colonne Adresse e-mail"}, []int{3, 4}, []string{"required", "email"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := csvsync.Parse(strings.NewReader(c.data), nil)
			assert.Nil(t, f)
			var fe *csvsync.FileError
			require.ErrorAs(t, err, &fe, "%v", err)
			assert.ErrorIs(t, err, membership.ErrInvalid)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			require.Len(t, fe.Problems, len(c.lines), "%v", fe.Problems)
			for i := range c.lines {
				assert.Equal(t, c.lines[i], fe.Problems[i].Line)
				assert.Equal(t, c.codes[i], fe.Problems[i].Code)
			}
		})
	}
}

func TestParseEnglishMessagesAndLimits(t *testing.T) {
	_, err := csvsync.Parse(strings.NewReader("Login;Last name;First name;Status\njd;;Jean;maybe\n"), &csvsync.ParseOptions{Lang: membership.English})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 2, column Last name: required value missing")
	assert.Contains(t, err.Error(), `line 2, column Status: unknown status "maybe"`)

	var rows strings.Builder
	rows.WriteString("Nom;Prénom;Etat\n")
	for i := range 11 {
		fmt.Fprintf(&rows, "N%d;P;actif\n", i)
	}
	_, err = csvsync.Parse(strings.NewReader(rows.String()), &csvsync.ParseOptions{MaxRows: 10})
	require.ErrorContains(t, err, "ligne 12 : trop de lignes (plus de 10)")

	_, err = csvsync.Parse(strings.NewReader(rows.String()), &csvsync.ParseOptions{MaxFileSize: 50})
	require.ErrorContains(t, err, "fichier trop volumineux (plus de 50 octets)")

	_, err = csvsync.Parse(strings.NewReader("Nom;Prénom;Etat\n"+strings.Repeat("x", 2000)+";P;actif\n"), nil)
	require.ErrorContains(t, err, "ligne 2, colonne Nom : cellule trop longue (2000 octets, 1024 au plus)")

	var many strings.Builder
	many.WriteString("Nom;Prénom;Etat\n")
	for range 500 {
		many.WriteString(";;\n;P;x\n")
	}
	_, err = csvsync.Parse(strings.NewReader(many.String()), &csvsync.ParseOptions{MaxProblems: 20})
	var fe *csvsync.FileError
	require.ErrorAs(t, err, &fe)
	assert.Len(t, fe.Problems, 20)
	assert.True(t, fe.Truncated, "problems are capped")
}

// A big file is checked by several goroutines, in batches: the rows and
// the problems still come in file order, and a file over MaxRows is
// refused as such whatever else is wrong with it.
func TestParseBigFileInOrder(t *testing.T) {
	var b strings.Builder
	b.WriteString("Nom;Prénom;Etat\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "Nom%d;Prénom;actif\n", i)
	}
	f := parse(t, b.String())
	require.Len(t, f.Rows, 3000)
	for i, r := range f.Rows {
		require.Equal(t, fmt.Sprintf("Nom%d", i), r.LastName)
		require.Equal(t, i+2, r.Line)
	}

	// Problems on lines spread over many batches, one of them a quote
	// encoding/csv refuses, the last one past the cap.
	b.Reset()
	b.WriteString("Nom;Prénom;Etat\n")
	var want []int
	for i := range 3000 {
		switch {
		case i%97 == 5:
			b.WriteString(";Prénom;actif\n")
			want = append(want, i+2)
		case i == 1500:
			b.WriteString("a\"b;P;actif\n")
			want = append(want, i+2)
		default:
			fmt.Fprintf(&b, "Nom%d;Prénom;actif\n", i)
		}
	}
	_, err := csvsync.Parse(strings.NewReader(b.String()), &csvsync.ParseOptions{MaxProblems: 25})
	var fe *csvsync.FileError
	require.ErrorAs(t, err, &fe)
	require.Len(t, fe.Problems, 25)
	for i, p := range fe.Problems {
		assert.Equal(t, want[i], p.Line, "problem %d", i)
	}
	assert.True(t, fe.Truncated)

	_, err = csvsync.Parse(strings.NewReader(b.String()), &csvsync.ParseOptions{MaxRows: 2000, MaxProblems: 5})
	require.ErrorAs(t, err, &fe)
	require.Len(t, fe.Problems, 1, "over MaxRows, the file is refused for that alone")
	assert.Equal(t, "too_many_rows", fe.Problems[0].Code)
	assert.False(t, fe.Truncated)
}

// A file of lines encoding/csv refuses is checked and held a batch at a
// time, not whole: parsing 4 MiB of them allocates a small multiple of
// the file, and the rows of a batch that follows one are still read.
func TestParseRefusedLinesAreBatched(t *testing.T) {
	bad := "Nom;Prénom;Etat\n" + strings.Repeat("a\"b;P;actif\n", 4<<20/len("a\"b;P;actif\n"))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := csvsync.Parse(strings.NewReader(bad), nil)
	runtime.ReadMemStats(&after)
	var fe *csvsync.FileError
	require.ErrorAs(t, err, &fe)
	assert.Len(t, fe.Problems, 100)
	assert.True(t, fe.Truncated)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20), "allocated for a 4 MiB file of refused lines")

	// A refused line as the 512th of a batch, then good rows: each keeps
	// its line.
	var b strings.Builder
	b.WriteString("Nom;Prénom;Etat\n")
	for i := range 2000 {
		if i == 511 {
			b.WriteString("a\"b;P;actif\n")
			continue
		}
		fmt.Fprintf(&b, "Nom%d;Prénom;actif\n", i)
	}
	_, err = csvsync.Parse(strings.NewReader(b.String()), nil)
	require.ErrorAs(t, err, &fe)
	require.Len(t, fe.Problems, 1)
	assert.Equal(t, 513, fe.Problems[0].Line)

	// Problems before a file found too large are dropped, and so is the
	// word that more were left out.
	big := "Nom;Prénom;Etat\n" + strings.Repeat("a\"b;P;actif\n", 5) + strings.Repeat("Nom;Prénom;actif\n", 200)
	_, err = csvsync.Parse(strings.NewReader(big), &csvsync.ParseOptions{MaxProblems: 2, MaxFileSize: 1000})
	require.ErrorAs(t, err, &fe)
	require.Len(t, fe.Problems, 1)
	assert.Equal(t, "too_large", fe.Problems[0].Code)
	assert.False(t, fe.Truncated)
}

func TestParsePasswordKinds(t *testing.T) {
	h, err := membership.NewArgon2Hasher(&membership.Argon2Params{Memory: 64, Time: 1, Threads: 1}).Hash("x")
	require.NoError(t, err)
	f := parse(t, "Nom;Prénom;Etat;Mot de passe\nA;A;actif;\nB;B;actif;mot de passe CRYPTÉ\nC;C;actif;"+string(h)+"\nD;D;actif;  un mot de passe  \n")
	kinds := []csvsync.PasswordKind{csvsync.PasswordBlank, csvsync.PasswordPlaceholder, csvsync.PasswordHashed, csvsync.PasswordPlain}
	for i, k := range kinds {
		assert.Equal(t, k, f.Rows[i].PassKind, "row %d", i)
	}
	assert.Equal(t, "  un mot de passe  ", string(f.Rows[3].Password), "clear passwords are kept exactly")
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", f.Rows, f.Rows, f.Rows), "un mot de passe", "a parsed file prints no password")
}

func TestParseNeverPanics(t *testing.T) {
	inputs := [][]byte{nil, []byte("\xEF\xBB\xBF"), []byte("\"\n\""), bytes.Repeat([]byte{0xff}, 100), []byte("Nom;Prénom;Etat\n\"\"\"\n"), []byte("Nom\x00;Prénom;Etat\n")}
	for _, in := range inputs {
		f, err := csvsync.Parse(bytes.NewReader(in), nil)
		if err != nil {
			var fe *csvsync.FileError
			assert.ErrorAs(t, err, &fe, "%q", in)
			continue
		}
		assert.Empty(t, f.Rows, "%q", in)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("Identifiant;Nom;Prénom;Adresse e-mail;Mot de passe;Etat\r\nzoe;Lefèvre;Zoé;zoe@example.com;Mot de passe crypté;Activé\r\n"))
	f.Add([]byte("\uFEFFNom,Prénom,Etat\n\"a\nb\",c,oui\n"))
	f.Add([]byte("Status\tFirst name\tLast name\nactive\tA\tB\n"))
	f.Add([]byte("Nom;Prénom;Etat\n'=cmd;x;1\n"))
	f.Add([]byte("Nom;Prénom;Etat\n\xe9t\xe9;x;non\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := csvsync.Parse(bytes.NewReader(data), &csvsync.ParseOptions{MaxRows: 1000})
		if err != nil {
			var fe *csvsync.FileError
			if !errors.As(err, &fe) || len(fe.Problems) == 0 {
				t.Fatalf("error without problems: %v", err)
			}
			return
		}
		for _, r := range file.Rows {
			if r.Line < 1 || r.LastName == "" || r.FirstName == "" || !r.Status.Valid() {
				t.Fatalf("invalid row accepted: %+v", r)
			}
		}
	})
}

// Hostile files cannot exhaust the server: a cell or a line that grows
// past its bound stops the reading at once, with the line named, and no
// message echoes more than an excerpt of the input.
func TestParseBoundedInput(t *testing.T) {
	var ms runtime.MemStats
	allocated := func(f func()) uint64 {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		f()
		runtime.ReadMemStats(&ms)
		return ms.TotalAlloc - before
	}
	huge := strings.Repeat("N", 24<<20) // a 24 MiB header cell
	var err error
	used := allocated(func() { _, err = csvsync.Parse(strings.NewReader(huge), nil) })
	var fe *csvsync.FileError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "cell_too_long", fe.Problems[0].Code)
	assert.Equal(t, 1, fe.Problems[0].Line)
	assert.Less(t, used, uint64(1<<20), "a 24 MiB header is refused with bounded allocation")
	assert.Less(t, len(err.Error()), 300)

	wide := strings.Repeat("a;", 12<<20) // 24 MiB of columns
	used = allocated(func() { _, err = csvsync.Parse(strings.NewReader(wide), nil) })
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "too_many_columns", fe.Problems[0].Code)
	assert.Less(t, used, uint64(1<<20))

	// A 50 MB quoted cell spanning lines, on line 3 of the file.
	file := "Nom;Prénom;Etat\nA;B;actif\nC;\"" + strings.Repeat("x\n", 25<<20) + "\";actif\n"
	used = allocated(func() { _, err = csvsync.Parse(strings.NewReader(file), nil) })
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "cell_too_long", fe.Problems[0].Code)
	assert.Equal(t, 3, fe.Problems[0].Line)
	assert.Equal(t, "Prénom", fe.Problems[0].Column)
	assert.Less(t, used, uint64(1<<20))

	// A long header cell, inside the hard bound, is refused like a long data cell.
	_, err = csvsync.Parse(strings.NewReader("Nom;Prénom;Etat;"+strings.Repeat("h", 1500)+"\n"), nil)
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "field_too_long", fe.Problems[0].Code)
	assert.Equal(t, 1, fe.Problems[0].Line)

	// Messages show an excerpt of what the file held, never all of it.
	long := strings.Repeat("peut-être", 100)
	_, err = csvsync.Parse(strings.NewReader("Nom;Prénom;Etat\nA;B;"+long+"\n"), nil)
	require.ErrorAs(t, err, &fe)
	assert.Less(t, len(fe.Problems[0].Message), 200)
	assert.Contains(t, fe.Problems[0].Message, "…")
}

// Carriage returns alone are cell content to encoding/csv: they count
// toward the cell's bound too.
func TestParseBoundedCarriageReturns(t *testing.T) {
	file := "Nom;Prénom;Etat\nA;" + strings.Repeat("x\r", 2<<20) + ";actif\n"
	_, err := csvsync.Parse(strings.NewReader(file), nil)
	var fe *csvsync.FileError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "cell_too_long", fe.Problems[0].Code)
	assert.Equal(t, 2, fe.Problems[0].Line)
	f := parse(t, "Nom;Prénom;Etat\r\nDupont;Jean;actif\r\n")
	assert.Equal(t, "Dupont", f.Rows[0].LastName, "CRLF still ends lines")
}
