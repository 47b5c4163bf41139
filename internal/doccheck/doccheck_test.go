// Package doccheck checks that go doc reads as a manual for every package of
// the module: each has a package comment, and every exported name (function,
// method of an exported type, type, constant and variable) has a doc comment
// (a group's comment covers the names of its group; Error, String and the
// other methods of well-known interfaces are documented by those). CI runs it
// with the tests; it fails naming each undocumented identifier.
package doccheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// wellKnown are methods whose doc is their interface's (error, fmt.Stringer,
// errors.Is/As/Unwrap, the encoding and net/http interfaces): go doc users
// know what they do.
var wellKnown = map[string]bool{
	"Error": true, "String": true, "GoString": true, "Format": true, "Unwrap": true, "Is": true, "As": true,
	"MarshalText": true, "UnmarshalText": true, "MarshalJSON": true, "UnmarshalJSON": true,
	"MarshalBinary": true, "UnmarshalBinary": true, "ServeHTTP": true,
}

// root is the module's root, two levels up.
const root = "../.."

// skipped are the directories whose packages are programs, benchmarks or
// fixtures, not APIs. (Nested modules with an API, such as protoactor/, are
// checked with the rest: this reads source, it builds nothing.)
func skipped(rel string) bool {
	first := strings.Split(rel, string(filepath.Separator))[0]
	switch first {
	case "examples", "bench", ".git", ".ci":
		return true
	}
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if part == "testdata" || strings.HasPrefix(part, ".") || strings.HasPrefix(part, "_") {
			return true
		}
	}
	return false
}

func TestExportedNamesAreDocumented(t *testing.T) {
	var missing []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if rel != "." && skipped(rel) {
			return filepath.SkipDir
		}
		missing = append(missing, checkDir(t, path, rel)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(missing)
	for _, m := range missing {
		t.Errorf("undocumented: %s", m)
	}
}

// checkDir returns the undocumented names of the package in dir.
func checkDir(t *testing.T, dir, rel string) []string {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if ast.IsGenerated(f) || f.Name.Name == "main" {
			continue
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil
	}
	var missing []string
	hasPackageDoc := false
	for _, f := range files {
		if f.Doc != nil {
			hasPackageDoc = true
		}
		for _, decl := range f.Decls {
			missing = append(missing, checkDecl(fset, rel, decl)...)
		}
	}
	if !hasPackageDoc {
		missing = append(missing, rel+": package comment")
	}
	return missing
}

func checkDecl(fset *token.FileSet, rel string, decl ast.Decl) []string {
	where := func(n ast.Node, what string) string {
		p := fset.Position(n.Pos())
		return filepath.Join(rel, filepath.Base(p.Filename)) + ":" + itoa(p.Line) + ": " + what
	}
	switch d := decl.(type) {
	case *ast.FuncDecl:
		if !d.Name.IsExported() || d.Doc != nil {
			return nil
		}
		if d.Recv != nil {
			recv := receiverType(d.Recv.List[0].Type)
			if !ast.IsExported(recv) || wellKnown[d.Name.Name] {
				return nil // not in go doc, or documented by its interface
			}
			return []string{where(d, "method "+recv+"."+d.Name.Name)}
		}
		return []string{where(d, "func "+d.Name.Name)}
	case *ast.GenDecl:
		if d.Tok == token.IMPORT {
			return nil
		}
		var missing []string
		for _, spec := range d.Specs {
			switch s := spec.(type) {
			case *ast.TypeSpec:
				if s.Name.IsExported() && s.Doc == nil && s.Comment == nil && d.Doc == nil {
					missing = append(missing, where(s, "type "+s.Name.Name))
				}
			case *ast.ValueSpec:
				if s.Doc != nil || s.Comment != nil || d.Doc != nil {
					continue
				}
				for _, n := range s.Names {
					if n.IsExported() {
						missing = append(missing, where(n, d.Tok.String()+" "+n.Name))
					}
				}
			}
		}
		return missing
	}
	return nil
}

func receiverType(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return receiverType(t.X)
	case *ast.IndexExpr:
		return receiverType(t.X)
	case *ast.IndexListExpr:
		return receiverType(t.X)
	case *ast.Ident:
		return t.Name
	}
	return ""
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
