package interp

import (
	"embed"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"reflect"
	"runtime"
	"strings"
)

// The generic standard packages (cmp, iter, slices, maps) come from source: yaegi
// v0.16.1 ships the Go 1.22 sources of some of them and cannot run its sorting
// functions, and extracted symbol tables cannot hold generics. stdsrc holds the
// Go 1.26 API of these packages written for the interpreter; the same text is
// what the type checker sees, and yaegi compiles it under a path of its own
// ("gocvxslices"), so that it does not collide with yaegi's built-in versions.

//go:embed stdsrc/*.go.txt
var stdsrc embed.FS

// sourcePackageNames lists the packages that cells get from source: import path
// → name, in dependency order for sourceOrder.
var sourcePackageNames = map[string]string{"cmp": "cmp", "iter": "iter", "maps": "maps", "slices": "slices"}

var sourceOrder = []string{"cmp", "iter", "maps", "slices"}

// yaegiPath is the path under which yaegi knows a package.
func yaegiPath(p string) string {
	if n := sourcePackageNames[p]; n != "" {
		return "gocvx" + n
	}
	return p
}

func sourceText(p string) (string, error) {
	b, err := stdsrc.ReadFile("stdsrc/" + p + ".go.txt")
	return string(b), err
}

type importerFunc func(string) (*types.Package, error)

func (f importerFunc) Import(p string) (*types.Package, error) { return f(p) }

// sourcePackage type-checks a source package; nil, nil when p is not one. It
// is called with im.mu held.
func (im *symbolImporter) sourcePackage(p string) (*types.Package, error) {
	if sourcePackageNames[p] == "" {
		return nil, nil
	}
	src, err := sourceText(p)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, p+".go", src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	conf := types.Config{Importer: importerFunc(im.importLocked), GoVersion: "go1.26"}
	pkg, err := conf.Check(p, fset, []*ast.File{f}, nil)
	if err != nil {
		return nil, fmt.Errorf("interp: checking the source of %s: %v", p, err)
	}
	return pkg, nil
}

// yaegiSource rewrites a source package for yaegi: its own name and imports of
// the other source packages under their yaegi paths.
func yaegiSource(p, src string) string {
	src = strings.Replace(src, "package "+sourcePackageNames[p], "package gocvx"+sourcePackageNames[p], 1)
	for q, n := range sourcePackageNames {
		src = strings.ReplaceAll(src, "import "+fmt.Sprintf("%q", q), "import "+n+" "+fmt.Sprintf("%q", yaegiPath(q)))
		src = strings.ReplaceAll(src, "\n\t"+fmt.Sprintf("%q", q)+"\n", "\n\t"+n+" "+fmt.Sprintf("%q", yaegiPath(q))+"\n")
	}
	return src
}

// sourceDeps lists the source packages each one imports.
var sourceDeps = map[string][]string{"maps": {"iter"}, "slices": {"cmp", "iter"}}

// useSources compiles into the interpreter the source packages that src (a
// chunk about to be compiled) refers to, with their dependencies, once.
func (s *Session) useSources(src string) error {
	var need func(p string) error
	need = func(p string) error {
		if s.ysources[p] {
			return nil
		}
		for _, d := range sourceDeps[p] {
			if err := need(d); err != nil {
				return err
			}
		}
		text, err := sourceText(p)
		if err != nil {
			return err
		}
		if err := s.ypkgs.useImports(p+".go", []byte(text)); err != nil {
			return err
		}
		if !s.ycmp {
			if _, err := s.yi.Compile(yaegiCmp); err != nil {
				return fmt.Errorf("interp: compiling yaegi's cmp: %v", err)
			}
			s.ycmp = true
		}
		if _, err := safeEval(s.yi, yaegiSource(p, text), declaresOnly); err != nil {
			return fmt.Errorf("interp: compiling the source of %s: %v", p, err)
		}
		s.ysources[p] = true
		return nil
	}
	for _, p := range sourceOrder {
		if strings.Contains(src, yaegiPath(p)) || s.modules.usesStd(p) {
			if err := need(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// eval compiles and runs a chunk of cell code, after the source packages it uses;
// runs says whether it may run code of a cell (see safeEval). A stop of the
// interpreter (the guard's, between cells) ends first: the functions the chunk
// declares take the run id of the moment (see control).
func (s *Session) eval(src string, runs bool) (reflect.Value, error) {
	s.settle()
	if err := s.useSources(src); err != nil {
		return reflect.Value{}, err
	}
	return safeEval(s.yi, src, runs)
}

// evalFunc is eval for a chunk that declares the function fn (runFunc or
// replayFunc). The chunk's files leave the interpreter's file set once its code
// is collected: after a later chunk redefines fn, when no declaration, closure
// or goroutine of the chunk remains. (Every node of a chunk reaches every other
// through its parent and children, so the function's node lives exactly as
// long as any code of the chunk.)
func (s *Session) evalFunc(src, fn string, runs bool) (reflect.Value, error) {
	s.settle()
	if err := s.useSources(src); err != nil {
		return reflect.Value{}, err
	}
	v, files, err := safeEvalFiles(s.yi, src, runs)
	if err == nil {
		if p := symbolNode(s.yi, fn); p != nil && len(files) > 0 {
			runtime.AddCleanup((*byte)(p), chunkFiles.remove, chunkFiles{s.yi.FileSet(), files})
		}
	}
	return v, err
}
