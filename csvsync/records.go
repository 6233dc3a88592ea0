package csvsync

import (
	"encoding/csv"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/memberkit/memberkit/membership"
)

// The data records of a file are read by one goroutine, as encoding/csv
// must, and checked by others: a record's checks (names, emails, logins,
// statuses, groups, attributes) cost more than reading it, and they need
// nothing but the record. Records go to the checkers in batches; the
// rows and problems come back in file order, so that the result is the
// one a single loop over the records would give.

// recordBatch is the records of a batch, end to end, with where each
// ends, its line, and the syntax problem encoding/csv found on the line
// ("" for a record).
type recordBatch struct {
	cells  []string
	ends   []int
	lines  []int
	syntax []string
}

// push appends a record (or, with rec nil, the syntax problem found on
// line) to b; a full batch goes to send and push returns the next one.
// Refused lines count towards a batch like records, so that a file of
// nothing else is still checked, and held, a batch at a time.
func (b *recordBatch) push(rec []string, line int, syntax string, send func(*recordBatch)) *recordBatch {
	b.cells = append(b.cells, rec...)
	b.lines, b.syntax, b.ends = append(b.lines, line), append(b.syntax, syntax), append(b.ends, len(b.cells))
	if len(b.lines) < recordsPerBatch {
		return b
	}
	send(b)
	return &recordBatch{cells: make([]string, 0, len(b.cells))}
}

// recordsPerBatch balances the cost of a hand-over against the work each
// batch carries.
const recordsPerBatch = 512

// checked is what the checks of a batch found.
type checked struct {
	rows  []Row
	probs problems
}

// readRecords reads the data records after the header and checks them
// into rows, or gives every problem found (up to MaxProblems) as a
// *FileError.
func (f *File) readRecords(cr *csv.Reader, idx [numColumns]int, attrIdx map[string]int, o ParseOptions, probs *problems) ([]Row, error) {
	workers := max(1, min(runtime.GOMAXPROCS(0)-1, 4))
	jobs := make(chan func(), workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				j()
			}
		})
	}
	// Results in file order: the merger takes each batch's channel in
	// turn and waits for its checks.
	order := make(chan chan checked, 2*workers)
	var batches [][]Row // checked rows, in file order, until no problem is found
	merged := make(chan struct{})
	go func() {
		defer close(merged)
		for out := range order {
			c := <-out
			for _, p := range c.probs.list {
				if len(probs.list) >= probs.max {
					probs.truncated = true
					break
				}
				probs.list = append(probs.list, p)
			}
			probs.truncated = probs.truncated || c.probs.truncated
			if len(probs.list) == 0 {
				batches = append(batches, c.rows)
			} else {
				batches = nil
			}
		}
	}()
	send := func(b *recordBatch) {
		out := make(chan checked, 1)
		order <- out
		jobs <- func() { out <- f.checkBatch(b, idx, attrIdx, o, probs.max, probs.lang) }
	}
	finish := func() {
		close(jobs)
		close(order)
		<-merged
		wg.Wait()
	}

	nrows := 0
	b := &recordBatch{}
	// The whole file is read even once the problems fill their list, so
	// that what a file gives does not depend on how far the checks are:
	// a file over MaxRows is refused as such, and Truncated says whether
	// problems were left out.
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			var ge *guardError
			if errors.As(err, &pe) && !errors.Is(err, errTooLarge) && !errors.As(err, &ge) {
				b = b.push(nil, pe.StartLine, syntaxCode(pe.Err), send)
				continue
			}
			send(b)
			finish()
			return nil, readFailure(probs, err, o, f)
		}
		if blank(rec) {
			continue
		}
		line, _ := cr.FieldPos(0)
		if nrows++; nrows > o.MaxRows {
			finish()
			probs.list, probs.truncated = nil, false
			probs.add(line, "", "too_many_rows", o.MaxRows)
			return nil, probs.err()
		}
		b = b.push(rec, line, "", send)
	}
	send(b)
	finish()
	if err := probs.err(); err != nil {
		return nil, err
	}
	n := 0
	for _, b := range batches {
		n += len(b)
	}
	rows := make([]Row, 0, n) // each row copied once, into a slice of the exact size
	for _, b := range batches {
		rows = append(rows, b...)
	}
	return rows, nil
}

// checkBatch checks the records of a batch, its problems listed up to
// maxProblems.
func (f *File) checkBatch(b *recordBatch, idx [numColumns]int, attrIdx map[string]int, o ParseOptions, maxProblems int, lang membership.Lang) checked {
	records := 0
	for _, s := range b.syntax {
		if s == "" {
			records++
		}
	}
	c := checked{rows: make([]Row, 0, records), probs: problems{max: maxProblems, lang: lang}}
	start := 0
	for i, line := range b.lines {
		rec := b.cells[start:b.ends[i]]
		start = b.ends[i]
		if b.syntax[i] != "" {
			c.probs.add(line, "", b.syntax[i])
			continue
		}
		if row, ok := f.checkRecord(rec, idx, attrIdx, line, o, &c.probs); ok && len(c.probs.list) == 0 {
			c.rows = append(c.rows, row)
		}
	}
	return c
}

// checkRecord checks one data record into a Row; problems go to probs
// with the record's line and the cell's column. It returns false when
// the record is refused before its cells are read.
func (f *File) checkRecord(rec []string, idx [numColumns]int, attrIdx map[string]int, line int, o ParseOptions, probs *problems) (Row, bool) {
	for i := len(f.Header); i < len(rec); i++ {
		if strings.TrimSpace(rec[i]) != "" {
			probs.add(line, "", "extra_cells")
			break
		}
	}
	if i := invalidCell(rec); i >= 0 {
		col := ""
		if i < len(f.Header) {
			col = f.Header[i]
		}
		probs.add(line, col, "invalid_encoding", "UTF-8")
		return Row{}, false
	}
	tooLong := false
	for c := column(0); c < numColumns; c++ {
		if i := idx[c]; i >= 0 && i < len(rec) && len(rec[i]) > o.MaxFieldLen {
			probs.add(line, f.colName[c], "field_too_long", len(rec[i]), o.MaxFieldLen)
			tooLong = true
		}
	}
	if tooLong {
		return Row{}, false
	}
	row := f.readRow(rec, idx, line, o, probs)
	attributeCells(f, rec, attrIdx, &row, o.MaxFieldLen, probs)
	return row, true
}
