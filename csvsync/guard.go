package csvsync

import "io"

// guard reads a file ahead of encoding/csv and stops it as soon as a cell
// grows past maxCell bytes or a record past maxCols cells. encoding/csv
// keeps a whole record in memory before it returns it; without the guard a
// file of one 24 MiB header cell would cost tens of MiB before any check
// could refuse it. The guard follows the CSV quoting rules the reader
// applies (a quote opens a quoted cell only at its start, "" inside one is
// a quote), so it counts cells and lines exactly as the reader will.
type guard struct {
	r       io.Reader
	comma   byte
	maxCell int
	maxCols int
	line    int // 1-based physical line of the byte being read
	start   int // the line the current record starts on
	cell    int // bytes in the current cell
	col     int // 0-based index of the current cell
	state   uint8
	cr      bool // a carriage return was just read outside quotes
	failure *guardError
}

const (
	gStart    = iota // at the start of a cell
	gUnquoted        // inside an unquoted cell
	gQuoted          // inside a quoted cell
	gQuote           // a quote seen inside a quoted cell: closing, or the first of ""
)

// guardError says where the guard stopped the reading: the line the
// record starts on, and the cell's index.
type guardError struct {
	line, col int
	tooLong   bool // a cell too long; otherwise too many cells
}

func (e *guardError) Error() string {
	if e.tooLong {
		return "csvsync: cell too long"
	}
	return "csvsync: too many cells"
}

func newGuard(r io.Reader, comma rune, maxCell, maxCols int) *guard {
	return &guard{r: r, comma: byte(comma), maxCell: maxCell, maxCols: maxCols, line: 1, start: 1}
}

func (g *guard) Read(p []byte) (int, error) {
	if g.failure != nil {
		return 0, g.failure
	}
	n, err := g.r.Read(p)
	for i := 0; i < n; i++ {
		c := p[i]
		var stop bool
		if !g.cr && ((g.state == gUnquoted && c != g.comma && c != '\n' && c != '\r') || (g.state == gQuoted && c != '"' && c != '\n')) {
			stop = g.grow() // the common case, inline: a byte inside a cell
		} else {
			stop = g.step(c)
		}
		if stop {
			// Hand the reader only what came before: it never sees the
			// cell that broke the limit.
			return i, g.failure
		}
	}
	return n, err
}

// step moves the state machine by one byte and reports a violation.
func (g *guard) step(c byte) bool {
	if g.cr {
		// A carriage return ends a line only before a line feed; alone,
		// encoding/csv keeps it in the cell, so it counts.
		g.cr = false
		if c != '\n' {
			if g.state == gStart {
				g.state = gUnquoted
			}
			if g.grow() {
				return true
			}
		}
	}
	switch g.state {
	case gStart:
		switch c {
		case '"':
			g.state = gQuoted
			return false
		case g.comma:
			return g.nextCell()
		case '\n':
			g.nextRecord()
			return false
		case '\r':
			g.cr = true
			return false
		}
		g.state = gUnquoted
		return g.grow()
	case gUnquoted:
		switch c {
		case g.comma:
			return g.nextCell()
		case '\n':
			g.nextRecord()
			return false
		case '\r':
			g.cr = true
			return false
		}
		return g.grow()
	case gQuoted:
		if c == '"' {
			g.state = gQuote
			return false
		}
		if c == '\n' {
			g.line++
		}
		return g.grow()
	default: // gQuote
		switch c {
		case '"':
			g.state = gQuoted
			return g.grow()
		case g.comma:
			return g.nextCell()
		case '\n':
			g.nextRecord()
			return false
		case '\r':
			g.cr = true
			return false
		}
		g.state = gUnquoted // the reader will report the stray quote
		return g.grow()
	}
}

func (g *guard) grow() bool {
	g.cell++
	if g.cell > g.maxCell {
		g.failure = &guardError{line: g.start, col: g.col, tooLong: true}
		return true
	}
	return false
}

func (g *guard) nextCell() bool {
	g.state, g.cell = gStart, 0
	g.col++
	if g.col >= g.maxCols {
		g.failure = &guardError{line: g.start, col: g.col}
		return true
	}
	return false
}

func (g *guard) nextRecord() {
	g.state, g.cell, g.col = gStart, 0, 0
	g.line++
	g.start = g.line
}
