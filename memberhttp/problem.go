package memberhttp

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/memberkit/memberkit/membership"
)

// ProblemTypePrefix starts the type URI of every problem document the
// API answers; the catalogue code follows it ("urn:memberkit:problem:last_admin").
const ProblemTypePrefix = "urn:memberkit:problem:"

// problemDoc is an RFC 9457 problem document with memberkit's members:
// the catalogue code, and where it applies the field, the CSV line and
// the detail problems of a refused file or bulk action.
type problemDoc struct {
	Type     string               `json:"type"`
	Title    string               `json:"title"`
	Status   int                  `json:"status"`
	Detail   string               `json:"detail"`
	Code     string               `json:"code"`
	Field    string               `json:"field,omitempty"`
	Line     int                  `json:"line,omitempty"`
	Column   string               `json:"column,omitempty"`
	MemberID string               `json:"member_id,omitempty"`
	Errors   []membership.Problem `json:"errors,omitempty"`
}

// writeProblem answers p as application/problem+json.
func writeProblem(w http.ResponseWriter, _ *http.Request, p membership.Problem) {
	status := p.Status
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	title := http.StatusText(status)
	if status == 499 {
		title = "Client Closed Request"
	}
	doc := problemDoc{Type: ProblemTypePrefix + p.Code, Title: title, Status: status, Detail: p.Message, Code: p.Code,
		Field: p.Field, Line: p.Line, Column: p.Column, MemberID: p.MemberID, Errors: p.Details}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(doc)
}

// fail answers err, read in the caller's language, as a problem.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, lang membership.Lang, err error) {
	h.internal(r.Context(), r, err)
	writeProblem(w, r, membership.Explain(err, lang))
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// maxJSONBytes bounds a JSON request body.
const maxJSONBytes = 1 << 20

// badRequest is a request the API cannot read: its body or a parameter.
type badRequest struct {
	field string
	msg   string
}

func (e *badRequest) Error() string { return "memberhttp: " + e.msg }

// Explain makes a badRequest an invalid_field problem naming its field.
func (e *badRequest) Explain(lang membership.Lang) membership.Problem {
	return membership.Problem{Code: "invalid_request", Status: http.StatusBadRequest, Field: e.field, Message: e.msg}
}

// unsupportedType is a body the endpoint does not read.
type unsupportedType struct{ msg string }

func (e *unsupportedType) Error() string { return "memberhttp: " + e.msg }

// Explain makes unsupportedType a 415 problem.
func (e *unsupportedType) Explain(membership.Lang) membership.Problem {
	return membership.Problem{Code: "unsupported_media_type", Status: http.StatusUnsupportedMediaType, Message: e.msg}
}

// decodeJSON reads the request's JSON body into v: one object, no
// unknown member, at most maxJSONBytes.
func decodeJSON(w http.ResponseWriter, r *http.Request, lang membership.Lang, v any) error {
	if !jsonBody(r) {
		return &unsupportedType{msg: text(lang, "err.json_content_type")}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return &tooLarge{msg: text(lang, "err.body_too_large")}
		case errors.As(err, &typ):
			return &badRequest{field: typ.Field, msg: text(lang, "err.json_type", typ.Field)}
		case errors.Is(err, io.EOF):
			return &badRequest{msg: text(lang, "err.json_empty")}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return &badRequest{field: f, msg: text(lang, "err.json_unknown", f)}
		}
		return &badRequest{msg: text(lang, "err.json_syntax")}
	}
	if dec.More() {
		return &badRequest{msg: text(lang, "err.json_syntax")}
	}
	return nil
}
