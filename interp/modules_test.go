package interp

import (
	"context"
	"fmt"
	"go/types"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	yaegi "github.com/traefik/yaegi/interp"
	"gonum.org/v1/gonum/mat"

	"github.com/gocvx/gocvx/interp/gomod"
	"github.com/gocvx/gocvx/interp/symbols"
)

// localGraph resolves the packages of a local module made of files, offline.
func localGraph(t *testing.T, files map[string]string, paths ...string) *gomod.Graph {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w, err := gomod.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Offline: the gonum a package imports comes from the module cache that
	// built this test.
	env := append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod")
	w.Env = func() []string { return env }
	ctx := context.Background()
	if _, err := w.UseLocal(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(files["go.mod"], "gonum") {
		if _, err := w.Go(ctx, nil, "mod", "edit", "-require=gonum.org/v1/gonum@v0.17.0"); err != nil {
			t.Fatal(err)
		}
	}
	g, err := w.Resolve(ctx, nil, gomod.Kernel{Compiled: theImporter().has}, paths)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestSourceSharesCompiledTypes checks that a package from source that uses
// gonum's mat gets the compiled package's types, in the type checker and in
// the interpreter, and that its imports of slices get the engine's Go 1.26
// version.
func TestSourceSharesCompiledTypes(t *testing.T) {
	g := localGraph(t, map[string]string{
		"go.mod": "module example.com/linalg\n\ngo 1.21\n\nrequire gonum.org/v1/gonum v0.17.0\n",
		"linalg.go": `package linalg

import (
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Trace is the sum of the diagonal of a square matrix.
func Trace(m *mat.Dense) float64 {
	r, _ := m.Dims()
	s := 0.0
	for i := 0; i < r; i++ {
		s += m.At(i, i)
	}
	return s
}

// Scaled wraps a matrix.
type Scaled struct {
	M *mat.Dense
	K float64
}

func (s Scaled) At(i, j int) float64 { return s.K * s.M.At(i, j) }

// Sorted is the diagonal, sorted.
func Sorted(m *mat.Dense) []float64 {
	r, _ := m.Dims()
	var d []float64
	for i := 0; i < r; i++ {
		d = append(d, m.At(i, i))
	}
	slices.SortFunc(d, func(a, b float64) int { return int(a - b) })
	return d
}
`,
	}, "example.com/linalg")
	tree := newSourceTree()
	tree.add(g)
	pkg, err := tree.im.Import("example.com/linalg")
	if err != nil {
		t.Fatal(err)
	}
	matPkg, err := theImporter().Import("gonum.org/v1/gonum/mat")
	if err != nil {
		t.Fatal(err)
	}
	param := pkg.Scope().Lookup("Trace").Type().(*types.Signature).Params().At(0).Type()
	if !types.Identical(param, types.NewPointer(matPkg.Scope().Lookup("Dense").Type())) {
		t.Fatalf("Trace takes %v, not the compiled *mat.Dense", param)
	}
	if err := probe(context.Background(), g, g.Order); err != nil {
		t.Fatal(err)
	}

	yi := yaegi.New(yaegi.Options{SourcecodeFilesystem: tree.fs, Stdout: io.Discard, Stderr: io.Discard})
	if err := yi.Use(symbols.All()); err != nil {
		t.Fatal(err)
	}
	if _, err := yi.Compile(yaegiCmp); err != nil {
		t.Fatal(err)
	}
	for _, p := range sourceOrder {
		text, _ := sourceText(p)
		if _, err := yi.Eval(yaegiSource(p, text)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := yi.Eval(`import "example.com/linalg"`); err != nil {
		t.Fatal(err)
	}
	v, err := yi.Eval(`linalg.Trace`)
	if err != nil {
		t.Fatal(err)
	}
	trace, ok := v.Interface().(func(*mat.Dense) float64)
	if !ok {
		t.Fatalf("linalg.Trace is a %T", v.Interface())
	}
	if got := trace(mat.NewDense(2, 2, []float64{1, 2, 3, 4})); got != 5 {
		t.Fatalf("Trace = %v, want 5", got)
	}
	v, err = yi.Eval(`linalg.Sorted`)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(v.Interface().(func(*mat.Dense) []float64)(mat.NewDense(3, 3, []float64{9, 0, 0, 0, 1, 0, 0, 0, 5}))); got != "[1 5 9]" {
		t.Fatalf("Sorted = %v", got)
	}
}

// TestProbeRefusesACrash checks that a package on which yaegi overflows its
// stack is refused, and the process lives: when it compiles the package (an
// instance declared in it) and when a cell would instantiate its types.
func TestProbeRefusesACrash(t *testing.T) {
	const tree = `package tree

// The shape of github.com/google/btree v1.1's generic nodes.
type items[T any] []T

type node[T any] struct {
	items    items[T]
	children items[*node[T]]
	cow      *copyOnWrite[T]
}

type copyOnWrite[T any] struct{ free *freeList[T] }

type freeList[T any] struct{ nodes []*node[T] }

type Tree[T any] struct{ root *node[T] }

func New[T any]() *Tree[T] { return &Tree[T]{} }
`
	for _, c := range []struct{ name, extra, want string }{
		{"instance in the package", "\n// Ints is an instance, as btree's non-generic BTree is.\ntype Ints struct{ *Tree[int] }\n", "while it compiles ("},
		{"instance in a cell", "", "when New[int] is instantiated ("},
	} {
		g := localGraph(t, map[string]string{"go.mod": "module example.com/tree\n\ngo 1.21\n", "tree.go": tree + c.extra}, "example.com/tree")
		err := probe(context.Background(), g, g.Order)
		if err == nil || !strings.HasPrefix(err.Error(), "package example.com/tree crashes the interpreter (yaegi v0.16.1) "+c.want) || !strings.Contains(err.Error(), gomod.Alternative) {
			t.Errorf("%s: probe = %v, want the crash refused", c.name, err)
		}
	}
}
