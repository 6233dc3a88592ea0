package scim

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// Error is a SCIM error response (RFC 7644 §3.12): an HTTP status, a
// scimType for the 400 and 409 that have one, and a detail for people.
type Error struct {
	Status   int
	ScimType string // invalidFilter, uniqueness, invalidValue, noTarget…
	Detail   string
}

func (e *Error) Error() string {
	if e.ScimType != "" {
		return "scim: " + strconv.Itoa(e.Status) + " " + e.ScimType + ": " + e.Detail
	}
	return "scim: " + strconv.Itoa(e.Status) + ": " + e.Detail
}

// asError reads any error a request met as a SCIM error: the handler's
// own, or memberkit's through membership.Explain, in the handler's
// language.
func (h *Handler) asError(r *http.Request, err error) *Error {
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	p := membership.Explain(err, h.o.Lang)
	e := &Error{Status: p.Status, Detail: p.Message}
	switch {
	case errors.Is(err, membership.ErrDuplicate):
		e.Status, e.ScimType = http.StatusConflict, "uniqueness"
	case errors.Is(err, membership.ErrMemberLimit), errors.Is(err, membership.ErrLastAdmin):
		e.Status = http.StatusConflict
	case errors.Is(err, membership.ErrConflict):
		e.Status = http.StatusPreconditionFailed
	case errors.Is(err, membership.ErrInvalid):
		e.Status, e.ScimType = http.StatusBadRequest, "invalidValue"
		if p.Field != "" {
			e.Detail = p.Message + " (" + p.Field + ")"
		}
	case errors.Is(err, store.ErrNotFound):
		e.Status = http.StatusNotFound
	case errors.Is(err, store.ErrUnavailable):
		e.Status = http.StatusServiceUnavailable
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e.Status = http.StatusServiceUnavailable
	}
	if e.Status == 0 || e.Status >= 500 && e.Status != http.StatusServiceUnavailable && e.Status != http.StatusNotImplemented {
		h.log.ErrorContext(r.Context(), "scim: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e.Status, e.Detail = http.StatusInternalServerError, "internal error"
	}
	return e
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := h.asError(r, err)
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	body := map[string]any{"schemas": []string{schemaError}, "status": strconv.Itoa(e.Status), "detail": e.Detail}
	if e.ScimType != "" {
		body["scimType"] = e.ScimType
	}
	writeJSON(w, e.Status, body)
}

func badRequest(scimType, detail string) error {
	return &Error{Status: http.StatusBadRequest, ScimType: scimType, Detail: detail}
}
