package appliance

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// allFlows lists every menu's entries.
func allFlows() []entry { return slices.Concat(menuFlows, accountFlows) }

// flowOfFile returns the flow a file of the package belongs to (its name
// is the flow's, or starts with it and "_"), or "" for the machine's files.
func flowOfFile(path string) string {
	base := filepath.Base(path)
	for _, e := range allFlows() {
		if base == e.name+".go" || strings.HasPrefix(base, e.name+"_") {
			return e.name
		}
	}
	return ""
}

// typeCheck type-checks the package's files (tests left out) and returns
// where every identifier's object is used.
func typeCheck(t *testing.T) (*token.FileSet, *types.Package, map[*ast.Ident]types.Object, []string) {
	t.Helper()
	fset := token.NewFileSet()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	conf := types.Config{Importer: exportImporter(t, fset)}
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}}
	pkg, err := conf.Check("github.com/nhikiosk/nhikiosk/appliance", fset, files, info)
	if err != nil {
		t.Fatalf("type-check the package: %v", err)
	}
	return fset, pkg, info.Uses, paths
}

// TestFlowsKeepToThemselves checks the package's shape (issue 22): no file
// of a flow refers to a name declared in another flow's files; the
// machine's files refer to none declared in a flow's, except flows.go,
// where the flows are listed; and a flow reaches the machine and the
// session only through the wizard it is handed (no Machine or session
// field, no Machine method, no wizard.m or view.m). Names are resolved by
// type-checking, so fields, methods and constants count, and a local
// variable that happens to share a name does not.
func TestFlowsKeepToThemselves(t *testing.T) {
	fset, pkg, uses, paths := typeCheck(t)
	seen := map[string]bool{}
	fail := func(at token.Position, name, format string, args ...any) {
		if k := at.Filename + "|" + name; !seen[k] {
			seen[k] = true
			t.Errorf("%s: "+format, append([]any{at}, args...)...)
		}
	}
	for id, obj := range uses {
		if obj.Pkg() != pkg || !obj.Pos().IsValid() {
			continue
		}
		at, decl := fset.Position(id.Pos()), filepath.Base(fset.Position(obj.Pos()).Filename)
		from, to := flowOfFile(at.Filename), flowOfFile(decl)
		switch {
		case from != "" && reachesMachine(obj, decl):
			fail(at, obj.Name(), "flow %s uses %s (%s) instead of the wizard", from, obj.Name(), decl)
		case to == "" || from == to || filepath.Base(at.Filename) == "flows.go":
		case from == "":
			fail(at, obj.Name(), "the machine refers to %s of flow %s", obj.Name(), to)
		default:
			fail(at, obj.Name(), "flow %s refers to %s of flow %s", from, obj.Name(), to)
		}
	}
	for _, e := range allFlows() {
		if flowOfFile(e.name+".go") != e.name || !slices.Contains(paths, e.name+".go") {
			t.Errorf("flow %s has no file %s.go", e.name, e.name)
		}
	}
}

// reachesMachine reports whether obj, declared in file decl, is the
// machine's or the session's own: a field of Machine or session, a method
// of Machine, or the machine inside a wizard or a view.
func reachesMachine(obj types.Object, decl string) bool {
	switch obj := obj.(type) {
	case *types.Var:
		if !obj.IsField() {
			return false
		}
		return decl == "machine.go" || decl == "session.go" || (obj.Name() == "m" && (decl == "wizard.go" || decl == "view.go"))
	case *types.Func:
		recv := obj.Type().(*types.Signature).Recv()
		return recv != nil && types.TypeString(recv.Type(), nil) == "*github.com/nhikiosk/nhikiosk/appliance.Machine"
	}
	return false
}

// exportImporter imports the package's dependencies from the export data
// the go command built for them (much faster than type-checking them from
// source).
func exportImporter(t *testing.T, fset *token.FileSet) types.Importer {
	t.Helper()
	out, err := exec.Command("go", "list", "-export", "-deps", "-f", "{{if .Export}}{{.ImportPath}}={{.Export}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -export: %v", err)
	}
	exports := map[string]string{}
	for sc := bufio.NewScanner(bytes.NewReader(out)); sc.Scan(); {
		if path, file, ok := strings.Cut(sc.Text(), "="); ok {
			exports[path] = file
		}
	}
	return importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) { return os.Open(exports[path]) })
}

// TestScreensBelongToOneFlow checks that every flow's screens are its own:
// none is shared, none belongs to another flow (going to a screen returns
// to the flow that owns it).
func TestScreensBelongToOneFlow(t *testing.T) {
	owner := map[ScreenID]string{}
	for _, e := range allFlows() {
		for s := range e.new().screens() {
			if _, ok := sharedScreens[s]; ok {
				t.Errorf("flow %s claims the shared screen %s", e.name, s)
			}
			if o, ok := owner[s]; ok && o != e.name {
				t.Errorf("screen %s belongs to flows %s and %s", s, o, e.name)
			}
			owner[s] = e.name
		}
	}
}
