package membership

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

// Every entry of the catalogue says the same thing in both languages:
// both present, the same verbs in the same order, no Go quoting in the
// French (French quotes « » instead).
func TestCatalogueComplete(t *testing.T) {
	check := func(code string, m [2]string) {
		if m[0] == "" || m[1] == "" {
			t.Errorf("%s: a language is missing", code)
		}
		fr, en := verb.FindAllString(m[0], -1), verb.FindAllString(m[1], -1)
		norm := func(vs []string) string {
			return strings.NewReplacer("%q", "%s", "%c", "%s").Replace(strings.Join(vs, " "))
		}
		if norm(fr) != norm(en) {
			t.Errorf("%s: verbs differ: %v / %v", code, fr, en)
		}
		if strings.Contains(m[0], "%q") {
			t.Errorf("%s: French uses %%q; write « %%s »", code)
		}
		if strings.HasPrefix(m[0], "memberkit:") || strings.HasPrefix(m[1], "memberkit:") {
			t.Errorf("%s: a message for people has a prefix", code)
		}
	}
	for code, m := range catalogue {
		check(code, m)
	}
	for code, m := range csvMessages {
		check("csv."+code, m)
	}
}

// Every message code the library's source uses is in the catalogue:
// membership.Invalid and invalid (validation reasons), csvsync's problems
// and messages, and the sentinels.
func TestEveryCodeInTheCatalogue(t *testing.T) {
	root := filepath.Join("..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "examples" || d.Name() == "testdata") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			name := ""
			switch fn := call.Fun.(type) {
			case *ast.Ident:
				name = fn.Name
			case *ast.SelectorExpr:
				name = fn.Sel.Name
			}
			arg := -1
			prefix := ""
			switch name {
			case "invalid", "Invalid":
				arg = 1
			case "NewSentinel":
				arg = 0
			case "msg":
				arg, prefix = 1, "csv."
			case "Message":
				arg = 1
			case "note":
				arg, prefix = 0, "notice."
			case "add":
				if strings.Contains(path, "csvsync") {
					arg, prefix = 2, "csv."
				}
			}
			if arg < 0 || len(call.Args) <= arg {
				return true
			}
			lit, ok := call.Args[arg].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			code, _ := strconv.Unquote(lit.Value)
			if !inCatalogue(prefix + code) {
				t.Errorf("%s: code %q is not in the catalogue", fset.Position(lit.Pos()), prefix+code)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func inCatalogue(code string) bool {
	if _, ok := catalogue[code]; ok {
		return true
	}
	k, csv := strings.CutPrefix(code, "csv.")
	_, ok := csvMessages[k]
	return csv && ok
}
