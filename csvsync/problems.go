package csvsync

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/memberkit/memberkit/membership"
)

// Problems found in a file, by Parse or Plan: collected in one list,
// capped, each message from the catalogue (messages.go) in the file's
// language, and returned as one FileError.

// Problem is one thing wrong with an import file.
type Problem struct {
	Line    int    // 1-based line in the file; 0 for the file as a whole
	Column  string // the column's header as written in the file, if any
	Code    string // stable identifier, e.g. "required", "email"
	Message string // in the language of the options
}

// FileError reports an import file refused as a whole: nothing was
// changed. It matches membership.ErrInvalid, and membership.ErrForbidden
// when a row would change a member the actor may not act on, or
// deactivate the actor.
type FileError struct {
	Problems  []Problem
	Truncated bool // more problems were found than listed
	Lang      membership.Lang
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString("memberkit: ")
	b.WriteString(msg(e.Lang, "refused", len(e.Problems)))
	if e.Truncated {
		b.WriteString("+")
	}
	for i, p := range e.Problems {
		if i == 10 {
			fmt.Fprintf(&b, "; …")
			break
		}
		b.WriteString("; ")
		b.WriteString(e.format(p))
	}
	return b.String()
}

func (e *FileError) format(p Problem) string {
	switch {
	case p.Line > 0 && p.Column != "":
		return msg(e.Lang, "at", msg(e.Lang, "line_column", p.Line, p.Column), p.Message)
	case p.Line > 0:
		return msg(e.Lang, "at", msg(e.Lang, "line", p.Line), p.Message)
	}
	return p.Message
}

// Explain reads the refusal as a membership.Problem: code file_invalid,
// status 422, one detail per problem with its line and column, each
// message in the language the file was parsed in.
func (e *FileError) Explain(lang membership.Lang) membership.Problem {
	n := strconv.Itoa(len(e.Problems))
	if e.Truncated {
		n += "+"
	}
	p := membership.Problem{Code: "file_invalid", Status: http.StatusUnprocessableEntity, Message: membership.Message(lang, "file_invalid_detail", n)}
	for _, pr := range e.Problems {
		p.Details = append(p.Details, membership.Problem{Code: pr.Code, Status: http.StatusUnprocessableEntity, Message: pr.Message, Line: pr.Line, Column: pr.Column})
	}
	return p
}

// Lines returns each problem as one line of text, for display.
func (e *FileError) Lines() []string {
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = e.format(p)
	}
	return out
}

// Is reports whether target is membership.ErrInvalid, or
// membership.ErrForbidden when a problem is a member the actor may not act
// on (code "beyond_power"), whose credentials it may not set
// ("credentials"), a role it may not give ("role_beyond"), its own role
// ("role_self") or its own deactivation ("self").
func (e *FileError) Is(target error) bool {
	if target == membership.ErrInvalid {
		return true
	}
	if target == membership.ErrForbidden {
		for _, p := range e.Problems {
			switch p.Code {
			case "beyond_power", "self", "credentials", "role_beyond", "role_self":
				return true
			}
		}
	}
	return false
}

type problems struct {
	list      []Problem
	max       int
	truncated bool
	lang      membership.Lang
}

// excerptLen is the most characters a message shows of a value read from
// the file.
const excerptLen = 64

func (p *problems) add(line int, col, code string, args ...any) {
	if len(p.list) >= p.max {
		p.truncated = true
		return
	}
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = membership.Excerpt(s, excerptLen)
		}
	}
	p.list = append(p.list, Problem{Line: line, Column: membership.Excerpt(col, excerptLen), Code: code, Message: msg(p.lang, code, args...)})
}

// reasonIn says why a value was refused, in lang: a validation error's
// reason from the catalogue, without its field (the problem names the
// column).
func reasonIn(err error, lang membership.Lang) string {
	var ve *membership.ValidationError
	if errors.As(err, &ve) {
		return ve.ReasonIn(lang)
	}
	return membership.Explain(err, lang).Message
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &FileError{Problems: p.list, Truncated: p.truncated, Lang: p.lang}
}
