package csvsync_test

import (
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/memberkit/memberkit/csvsync"
	"github.com/memberkit/memberkit/membership"
)

// utf16File encodes s as Excel's "Texte Unicode" does: UTF-16 with a
// byte order mark.
func utf16File(s string, bigEndian bool) string {
	var b strings.Builder
	put := func(u uint16) {
		if bigEndian {
			b.WriteByte(byte(u >> 8))
			b.WriteByte(byte(u))
		} else {
			b.WriteByte(byte(u))
			b.WriteByte(byte(u >> 8))
		}
	}
	put(0xFEFF)
	for _, u := range utf16.Encode([]rune(s)) {
		put(u)
	}
	return b.String()
}

func TestUTF16Files(t *testing.T) {
	src := "Identifiant\tNom\tPrénom\tAdresse e-mail\tEtat\r\nzoe.lefevre\tLefèvre\tZoé\tzoe@exemple.fr\tActivé\r\n\tNguyễn\tThị Minh\t\tDésactivé\r\n"
	for name, big := range map[string]bool{"utf-16le with BOM": false, "utf-16be with BOM": true} {
		f, err := csvsync.Parse(strings.NewReader(utf16File(src, big)), nil)
		require.NoError(t, err, name)
		assert.Equal(t, name, f.Encoding)
		assert.Equal(t, '\t', f.Comma)
		require.Len(t, f.Rows, 2)
		assert.Equal(t, "Lefèvre", f.Rows[0].LastName)
		assert.Equal(t, "Thị Minh", f.Rows[1].FirstName)
		assert.Equal(t, membership.StatusDeactivated, f.Rows[1].Status)
	}
}

// A UTF-8 file with one byte that is not UTF-8 is refused at that line
// and column, not read with a replacement character; a Windows-1252 file
// is read as such.
func TestEncodingDecidedForTheFile(t *testing.T) {
	utf8WithStray := "Nom;Prénom;Etat\nLefèvre;Zoé;actif\nDupont;J\xe9r\xf4me;actif\n"
	_, err := csvsync.Parse(strings.NewReader(utf8WithStray), nil)
	var fe *csvsync.FileError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "invalid_encoding", fe.Problems[0].Code)
	assert.Equal(t, 3, fe.Problems[0].Line)
	assert.Equal(t, "Prénom", fe.Problems[0].Column)
	assert.Equal(t, "octets invalides en UTF-8 : enregistrez le fichier en UTF-8", fe.Problems[0].Message)

	win := "Nom;Pr\xe9nom;Etat\nLef\xe8vre;Zo\xe9;activ\xe9\n"
	f, err := csvsync.Parse(strings.NewReader(win), nil)
	require.NoError(t, err)
	assert.Equal(t, "windows-1252", f.Encoding)
	assert.Equal(t, "Zoé", f.Rows[0].FirstName)
	assert.Equal(t, []string{"Nom", "Prénom", "Etat"}, f.Header)
}

// Bytes a decoder could not map are refused too, not stored as U+FFFD.
func TestUndecodableBytesRefused(t *testing.T) {
	win := "Nom;Pr\xe9nom;Etat\nJean\x81;Zo\xe9;actif\n" // 0x81 has no character in Windows-1252
	_, err := csvsync.Parse(strings.NewReader(win), nil)
	var fe *csvsync.FileError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "invalid_encoding", fe.Problems[0].Code)
	assert.Equal(t, "Nom", fe.Problems[0].Column)
}
