package memberapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// memberhttpDir is the package's source, in this repository (the testkit
// module replaces memberkit by ../..).
var memberhttpDir = filepath.Join("..", "..", "..", "..", "memberhttp")

// registeredRoutes reads memberhttp's source for the API routes it
// registers: every HandleFunc or Handle whose pattern is "METHOD /api/…".
// The catch-all "/api/" (no method) answers 404 and is no operation.
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(memberhttpDir, "*.go"))
	require.NoError(t, err)
	var routes []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		require.Equal(t, "memberhttp", f.Name.Name, "%s", name)
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			pattern, err := strconv.Unquote(lit.Value)
			require.NoError(t, err)
			method, path, ok := strings.Cut(pattern, " ")
			if ok && strings.HasPrefix(path, "/api/") && slices.Contains(httpMethods, method) {
				routes = append(routes, method+" "+path)
			}
			return true
		})
	}
	slices.Sort(routes)
	return routes
}

var httpMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions}
