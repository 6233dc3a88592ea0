package csvsync

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// How a file's bytes become text. Spreadsheets write UTF-8 (with or
// without a byte order mark), UTF-16 with a BOM (Excel's "Texte Unicode",
// tab-separated), or Windows-1252 (older Excel "CSV"). The encoding is
// decided once for the whole file, from its first bytes: a BOM says it;
// otherwise bytes that are not UTF-8, with no UTF-8 sequence among them,
// mean Windows-1252. A UTF-8 file with a few stray bytes stays UTF-8, and
// those bytes are a problem named by line and column, never a silent
// replacement character.

// headSize is how much of a file is looked at to decide its encoding and
// separator.
const headSize = 64 << 10

// openText returns the file's text as UTF-8, buffered, with the name of
// the encoding it was read in and its first bytes (for the separator).
// Errors are reading errors (the size limit included).
func openText(r io.Reader) (*bufio.Reader, string, []byte, error) {
	br := bufio.NewReaderSize(r, headSize)
	bom, _ := br.Peek(3)
	var dec transform.Transformer
	enc := "utf-8"
	switch {
	case bytes.HasPrefix(bom, []byte("\xEF\xBB\xBF")):
		_, _ = br.Discard(3)
		enc = "utf-8 with BOM"
	case bytes.HasPrefix(bom, []byte("\xFF\xFE")):
		dec, enc = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder(), "utf-16le with BOM"
	case bytes.HasPrefix(bom, []byte("\xFE\xFF")):
		dec, enc = unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder(), "utf-16be with BOM"
	default:
		head, err := br.Peek(headSize)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, "", nil, err
		}
		if looksWindows1252(head, len(head) == headSize) {
			dec, enc = charmap.Windows1252.NewDecoder(), "windows-1252"
		}
	}
	if dec != nil {
		br = bufio.NewReaderSize(transform.NewReader(br, dec), headSize)
	}
	head, err := br.Peek(headSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, "", nil, err
	}
	return br, enc, head, nil
}

// looksWindows1252 reports bytes that are not UTF-8 while no multi-byte
// UTF-8 sequence is among them. A sequence cut at the end of a truncated
// head counts for nothing.
func looksWindows1252(head []byte, truncated bool) bool {
	bad, multi := 0, 0
	for i := 0; i < len(head); {
		r, n := utf8.DecodeRune(head[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			if truncated && len(head)-i < utf8.UTFMax && !utf8.FullRune(head[i:]) {
				i = len(head)
				continue
			}
			bad++
		case n > 1:
			multi++
		}
		i += n
	}
	return bad > 0 && multi == 0
}

// invalidCell returns the index of the first cell of rec that is not
// valid UTF-8 or holds U+FFFD (bytes that were not the file's encoding,
// or that its decoder could not map), or -1.
func invalidCell(rec []string) int {
	for i, c := range rec {
		if !utf8.ValidString(c) || strings.ContainsRune(c, utf8.RuneError) {
			return i
		}
	}
	return -1
}
