package memberhttp

import (
	_ "embed"
	"net/http"
	"slices"
)

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI 3.1 document of the JSON API, as the
// handler serves it at /api/openapi.json: a copy, for a host that
// publishes it or generates a client from it. Its server URL is
// relative: a client resolves it against where it fetched the document.
func OpenAPI() []byte { return slices.Clone(openAPI) }

func (h *Handler) serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(openAPI)
}
