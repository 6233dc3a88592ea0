// Package doccheck holds a test that every exported name of the library
// has a doc comment and every package a package comment.
package doccheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExportedNamesAreDocumented(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	dirs := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "internal" || d.Name() == "examples") && path != root {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			dirs[filepath.Dir(path)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir := range dirs {
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, dir, func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for name, pkg := range pkgs {
			hasPkgDoc := false
			for _, f := range pkg.Files {
				if f.Doc != nil {
					hasPkgDoc = true
				}
				checkFile(t, fset, f)
			}
			if !hasPkgDoc {
				t.Errorf("package %s (%s) has no package comment", name, dir)
			}
		}
	}
}

func checkFile(t *testing.T, fset *token.FileSet, f *ast.File) {
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() || d.Doc != nil {
				continue
			}
			if d.Recv != nil {
				recv := d.Recv.List[0].Type
				if s, ok := recv.(*ast.StarExpr); ok {
					recv = s.X
				}
				if id, ok := recv.(*ast.Ident); ok && !id.IsExported() {
					continue // methods of unexported types
				}
				if d.Name.Name == "Error" || d.Name.Name == "String" {
					continue // conventional methods
				}
			}
			t.Errorf("%s: func %s has no doc comment", fset.Position(d.Pos()), d.Name.Name)
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() && d.Doc == nil && s.Doc == nil {
						t.Errorf("%s: type %s has no doc comment", fset.Position(s.Pos()), s.Name.Name)
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() && d.Doc == nil && s.Doc == nil && s.Comment == nil {
							t.Errorf("%s: %s has no doc comment", fset.Position(n.Pos()), n.Name)
						}
					}
				}
			}
		}
	}
}

// The README's embedding snippet is examples/embed's run function, word
// for word, so it always compiles.
func TestReadmeSnippetIsCompiled(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", "embed", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	begin, end := strings.Index(s, "// README:begin\n"), strings.Index(s, "// README:end")
	if begin < 0 || end < begin {
		t.Fatal("markers missing in examples/embed/main.go")
	}
	snippet := strings.TrimSpace(s[begin+len("// README:begin\n") : end])
	readme, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), snippet) {
		t.Errorf("README.md does not show examples/embed's run function verbatim; paste:\n%s", snippet)
	}
	if n := strings.Count(snippet, "\n") + 1; n > 45 {
		t.Errorf("the snippet has %d lines; keep it short", n)
	}
}
