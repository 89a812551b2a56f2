package gomod

import (
	"context"
	"fmt"
	"go/importer"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	yaegi "github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/gocvx/gocvx/internal/testenv"
)

// writeModule writes a module of files (name → text) into a new folder.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// offline returns a workspace whose go command may not use the network.
func offline(t *testing.T, extra ...string) *Workspace {
	t.Helper()
	if _, err := GoTool(); err != nil {
		t.Fatal(err)
	}
	w, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	env = append(env, extra...)
	w.Env = func() []string { return env }
	return w
}

// stdOnly is what a kernel with the standard library compiled in provides.
var stdOnly = Kernel{Compiled: func(p string) bool { return !strings.Contains(strings.Split(p, "/")[0], ".") && p != "unsafe" }}

const libGoMod = "module example.com/lib\n\ngo 1.21\n"

// lib is a local module with a type, methods, a function and a generic one.
var lib = map[string]string{
	"go.mod": libGoMod,
	"lib.go": `// Package lib is a test package.
package lib

import "strings"

// Counter counts words.
type Counter struct{ n map[string]int }

func New() *Counter { return &Counter{n: map[string]int{}} }

func (c *Counter) Add(text string) {
	for _, w := range strings.Fields(text) {
		c.n[w]++
	}
}

func (c *Counter) Count(w string) int { return c.n[w] }

// Sum adds numbers of any kind.
func Sum[T int | float64](xs ...T) T {
	var s T
	for _, x := range xs {
		s += x
	}
	return s
}
`,
	"lib_other.go": "//go:build ignore\n// +build ignore\n\npackage lib\n\nfunc Broken() { this does not compile }\n",
	"sub/sub.go":   "package sub\n\nimport \"example.com/lib\"\n\nfunc Twice(x int) int { return lib.Sum(x, x) }\n",
}

func TestLocalModule(t *testing.T) {
	ctx := context.Background()
	w := offline(t)
	dir := writeModule(t, lib)
	mp, err := w.UseLocal(ctx, dir)
	if err != nil || mp != "example.com/lib" {
		t.Fatalf("UseLocal = %q, %v", mp, err)
	}
	if !strings.Contains(w.GoMod(), "replace example.com/lib => "+dir) {
		t.Fatalf("go.mod lacks the replace:\n%s", w.GoMod())
	}
	g, err := w.Resolve(ctx, nil, stdOnly, []string{"example.com/lib/sub"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(g.Order, " ") != "example.com/lib example.com/lib/sub" {
		t.Fatalf("order = %v", g.Order)
	}
	p := g.Packages["example.com/lib"]
	if !p.Local || p.Name != "lib" || strings.Join(p.GoFiles, " ") != "lib.go" {
		t.Fatalf("package = %+v", p)
	}

	// The type checker and yaegi read the same packages.
	im := NewImporter(importer.ForCompiler(token.NewFileSet(), "source", nil))
	im.Add(g)
	tp, err := im.Import("example.com/lib/sub")
	if err != nil {
		t.Fatal(err)
	}
	if tp.Scope().Lookup("Twice") == nil {
		t.Fatalf("sub has no Twice: %v", tp.Scope().Names())
	}
	// Twice calls lib.Sum(x, x): yaegi gets lib.Sum[int](x, x).
	src := &SourceFS{Transform: im.Source}
	src.Add(g)
	yi := yaegi.New(yaegi.Options{SourcecodeFilesystem: src})
	if err := yi.Use(stdlib.Symbols); err != nil {
		t.Fatal(err)
	}
	if b, err := src.ReadFile("src/example.com/lib/sub/sub.go"); err != nil || !strings.Contains(string(b), "lib.Sum[int](x, x)") {
		t.Fatalf("sub.go as yaegi reads it: %s, %v", b, err)
	}
	if _, err := yi.Eval(`import ("example.com/lib"; "example.com/lib/sub")`); err != nil {
		t.Fatal(err)
	}
	if _, err := yi.Eval(`func f() int { c := lib.New(); c.Add("a b a"); return c.Count("a")*100 + sub.Twice(3)*10 + lib.Sum[int](1, 2) }`); err != nil {
		t.Fatal(err)
	}
	v, err := yi.Eval(`f()`)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Interface(); got != 263 {
		t.Fatalf("interpreted lib: %v, want 263", got)
	}

	// An edit is seen; dropping the module forgets it.
	if g.Stale() {
		t.Fatal("stale before any edit")
	}
	later := time.Now().Add(2 * time.Second)
	name := filepath.Join(dir, "lib.go")
	if err := os.WriteFile(name, []byte(lib["lib.go"]+"\nfunc Added() int { return 7 }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(name, later, later)
	if !g.Stale() {
		t.Fatal("an edit of a local package is not seen")
	}
	if _, err := w.DropLocal(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(w.GoMod(), "example.com/lib") {
		t.Fatalf("go.mod still names the module:\n%s", w.GoMod())
	}
}

// TestRefusals checks that each kind of package the interpreter cannot run is
// refused with its name, the reason and the alternative.
func TestRefusals(t *testing.T) {
	ctx := context.Background()
	files := map[string]string{
		"go.mod":          "module example.com/bad\n\ngo 1.23\n",
		"cgo/c.go":        "package cgo\n\n// int two() { return 2; }\nimport \"C\"\n\nfunc Two() int { return int(C.two()) }\n",
		"cgo/util.go":     "package cgo\n\n// Other code that does not need cgo.\nfunc helper() {}\n",
		"asm/a.go":        "package asm\n\nfunc Add(a, b int) int\n",
		"asm/a_amd64.s":   "TEXT ·Add(SB),4,$0\n\tRET\n",
		"asm/a_arm64.s":   "TEXT ·Add(SB),4,$0\n\tRET\n",
		"unsafe/u.go":     "package unsafe\n\nimport \"unsafe\"\n\nfunc Size() uintptr { return unsafe.Sizeof(0) }\n",
		"link/l.go":       "package link\n\nimport _ \"unsafe\"\n\n//go:linkname now runtime.nanotime\nfunc now() int64\n",
		"embed/e.go":      "package embed\n\nimport _ \"embed\"\n\n//go:embed e.txt\nvar Text string\n",
		"embed/e.txt":     "hello",
		"user/u.go":       "package user\n\nimport \"example.com/bad/cgo\"\n\nfunc Four() int { return 2 * cgo.Two() }\n",
		"rangefunc/r.go":  "package rangefunc\n\nfunc Sum(seq func(func(int) bool)) (s int) {\n\tfor i := range seq {\n\t\ts += i\n\t}\n\treturn\n}\n",
		"rangeset/r.go":   "package rangeset\n\nfunc Last(n int) (i int) {\n\tfor i = range n {\n\t}\n\treturn\n}\n",
		"loopmod/l.go":    "package loopmod\n\nfunc Funcs() (fs []func() int) {\n\tfor i := 0; i < 3; i++ {\n\t\tfs = append(fs, func() int { return i })\n\t\ti++\n\t}\n\treturn\n}\n",
		"badtypes/b.go":   "package badtypes\n\nvar X int = \"a string\"\n",
		"newstd/n.go":     "package newstd\n\nimport \"unique\"\n\nvar H = unique.Make(1)\n",
		"fine/f.go":       "package fine\n\nfunc Ok() bool { return true }\n",
		"fine/f_cgo.go":   "//go:build cgo\n\npackage fine\n\nimport \"C\"\n",
		"fine/f_nocgo.go": "//go:build !cgo\n\npackage fine\n",
	}
	dir := writeModule(t, files)
	w := offline(t)
	if _, err := w.UseLocal(ctx, dir); err != nil {
		t.Fatal(err)
	}
	k := Kernel{Compiled: func(p string) bool { return stdOnly.Compiled(p) && p != "unique" }}
	im := NewImporter(importer.ForCompiler(token.NewFileSet(), "source", nil))
	for _, c := range []struct{ pkg, want string }{
		{"cgo", `package example.com/bad/cgo needs cgo (its Go files import "C"), which the interpreter cannot run; wrap it in a compiled package`},
		{"asm", "package example.com/bad/asm needs assembly (a_amd64.s) and has no pure-Go fallback under the build tags purego,noasm"},
		{"unsafe", "package example.com/bad/unsafe imports unsafe"},
		{"link", "package example.com/bad/link uses //go:linkname (l.go)"},
		{"embed", "package example.com/bad/embed embeds files with //go:embed"},
		{"user", `package example.com/bad/user imports example.com/bad/cgo needs cgo (its Go files import "C")`},
		{"newstd", "package example.com/bad/newstd imports the standard package unique, which interpreted code does not have"},
		{"rangefunc", "package example.com/bad/rangefunc uses range over a function (r.go:4), which the interpreter (yaegi, ≈ Go 1.21) cannot run"},
		{"rangeset", "package example.com/bad/rangeset uses range over an integer assigning an existing variable (r.go:4)"},
		{"loopmod", "package example.com/bad/loopmod uses a three-clause loop whose body changes the variable i that a closure captures"},
		{"badtypes", "package example.com/bad/badtypes does not compile in the kernel:\n\t" + filepath.Join(dir, "badtypes", "b.go") + ":3:13: cannot use \"a string\""},
		{"fine", ""},
	} {
		ip := "example.com/bad/" + c.pkg
		g, err := w.Resolve(ctx, nil, k, []string{ip})
		if err == nil {
			im.Add(g)
			_, err = im.Import(ip)
		}
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.pkg, err)
		case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want)):
			t.Errorf("%s: got %v\nwant %s…", c.pkg, err, c.want)
		}
	}
}

// TestNoProxy checks the error when no module proxy may be used and the
// module cache is empty.
func TestNoProxy(t *testing.T) {
	w := offline(t, "GOMODCACHE="+t.TempDir(), "GOFLAGS=-mod=mod -modcacherw")
	_, err := w.Resolve(context.Background(), nil, stdOnly, []string{"github.com/montanaflynn/stats"})
	if err == nil || !strings.Contains(err.Error(), "github.com/montanaflynn/stats") || !strings.Contains(err.Error(), "GOPROXY=off") {
		t.Fatalf("got %v, want the go command's error naming the package and GOPROXY=off", err)
	}
}

func TestTimeLimitAndInterrupt(t *testing.T) {
	w := offline(t, TimeoutEnv+"=1ns")
	_, err := w.Go(context.Background(), nil, "env", "GOVERSION")
	if err == nil || !strings.Contains(err.Error(), "no answer within 1ns") || !strings.Contains(err.Error(), TimeoutEnv) {
		t.Fatalf("got %v, want the time limit's error", err)
	}
	w = offline(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.Go(ctx, nil, "env", "GOVERSION"); err == nil || !strings.HasSuffix(err.Error(), "interrupted") {
		t.Fatalf("got %v, want interrupted", err)
	}
}

func TestLocate(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	a, err := Locate("/home/u/work/Spirals notebook.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Locate("/home/u/other/Spirals notebook.ipynb")
	if a == b || !strings.Contains(filepath.Base(a), "Spirals_notebook-") {
		t.Fatalf("Locate gave %q and %q", a, b)
	}
	own := t.TempDir()
	if err := Use("/home/u/work/Spirals notebook.ipynb", own); err != nil {
		t.Fatal(err)
	}
	if c, _ := Locate("/home/u/work/Spirals notebook.ipynb"); c != own {
		t.Fatalf("after Use, Locate = %q, want %q", c, own)
	}
	if err := Use("/home/u/work/Spirals notebook.ipynb", ""); err != nil {
		t.Fatal(err)
	}
	if c, _ := Locate("/home/u/work/Spirals notebook.ipynb"); c != a {
		t.Fatalf("after Use(\"\"), Locate = %q, want %q", c, a)
	}
	if err := Use("x.ipynb", filepath.Join(own, "missing")); err == nil {
		t.Fatal("Use accepted a folder that does not exist")
	}
}

func TestSemverLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		less bool
	}{
		{"v0.16.0", "v0.17.0", true}, {"v0.17.0", "v0.17.0", false}, {"v1.0.0", "v0.17.0", false},
		{"v0.17.0-rc1", "v0.17.0", true}, {"v0.17.1", "v0.17.0", false}, {"v0.9.3", "v0.17.0", true},
	} {
		if got := semverLess(c.a, c.b); got != c.less {
			t.Errorf("semverLess(%s, %s) = %v", c.a, c.b, got)
		}
	}
}

// TestProxyModule resolves a module from the proxy, pins a version, upgrades
// it, and runs it on yaegi.
func TestProxyModule(t *testing.T) {
	testenv.RequireGoProxy(t)
	ctx := context.Background()
	w, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Go(ctx, nil, "get", "github.com/montanaflynn/stats@v0.13.0"); err != nil {
		t.Fatal(err)
	}
	g, err := w.Resolve(ctx, nil, stdOnly, []string{"github.com/montanaflynn/stats"})
	if err != nil {
		t.Fatal(err)
	}
	if v := strings.Join(g.Versions(), " "); v != "github.com/montanaflynn/stats@v0.13.0" {
		t.Fatalf("versions after go get @v0.13.0: %s", v)
	}
	if _, err := w.Go(ctx, nil, "get", "github.com/montanaflynn/stats@v0.14.0"); err != nil {
		t.Fatal(err)
	}
	if !g.Stale() {
		t.Fatal("the graph is not stale after an upgrade")
	}
	if g, err = w.Resolve(ctx, nil, stdOnly, []string{"github.com/montanaflynn/stats"}); err != nil {
		t.Fatal(err)
	}
	if v := strings.Join(g.Versions(), " "); v != "github.com/montanaflynn/stats@v0.14.0" {
		t.Fatalf("versions after the upgrade: %s", v)
	}
	src := &SourceFS{}
	src.Add(g)
	yi := yaegi.New(yaegi.Options{SourcecodeFilesystem: src})
	if err := yi.Use(stdlib.Symbols); err != nil {
		t.Fatal(err)
	}
	v, err := yi.Eval(`import "github.com/montanaflynn/stats"`)
	if err != nil {
		t.Fatal(err, v)
	}
	if _, err := yi.Eval(`func median() float64 { m, _ := stats.Median(stats.Float64Data{3, 1, 2, 10}); return m }`); err != nil {
		t.Fatal(err)
	}
	v, err = yi.Eval(`median()`)
	if err != nil || v.Interface() != 2.5 {
		t.Fatalf("stats.Median = %v, %v; want 2.5", v, err)
	}

	// An unknown module is the go command's error, promptly.
	_, err = w.Resolve(ctx, nil, stdOnly, []string{"github.com/gocvx-test-nonexistent/nothing"})
	if err == nil || !strings.Contains(err.Error(), "github.com/gocvx-test-nonexistent/nothing") {
		t.Fatalf("unknown module: %v", err)
	}
}

// TestModernized runs on yaegi a package that uses what Go 1.22 added (range
// over integers, min, max, clear, per-iteration loop variables), rewritten
// for it, and compares with what Go computes.
func TestModernized(t *testing.T) {
	ctx := context.Background()
	dir := writeModule(t, map[string]string{
		"go.mod": "module example.com/modern\n\ngo 1.23\n",
		"m.go": `package modern

import (
	"fmt"
	"math"
	"strings"
	"time"
)

type Count uint8

const Biggest = max(3, 7, 5)

const Smallest = min(2.5, 1.0)

func Ranges() string {
	var b strings.Builder
	for i := range 3 {
		fmt.Fprint(&b, i)
	}
	for range Count(2) {
		b.WriteString("x")
	}
	var n Count = 2
	for i := range n {
		var c Count = i // i has n's type
		fmt.Fprint(&b, c)
	}
	var fs []func() int
	for i := range 3 {
		fs = append(fs, func() int { return i })
	}
	for _, f := range fs {
		fmt.Fprint(&b, f())
	}
	return b.String()
}

func Loops() string {
	var fs []func() int
	for i := 0; i < 3; i++ {
		fs = append(fs, func() int { return i * 10 })
	}
	var ps []*string
	for _, s := range []string{"a", "b"} {
		ps = append(ps, &s)
	}
	out := ""
	for _, f := range fs {
		out += fmt.Sprint(f(), " ")
	}
	return out + *ps[0] + *ps[1]
}

func MinMax(x float64) string {
	lo, hi := 0.0, 1.0
	d := time.Second
	return fmt.Sprint(max(lo, min(x, hi)), " ", min(3, 1, 2), " ", max("pear", "apple"), " ", min(math.NaN(), 1), " ", max(d, 2*time.Second), " ", Biggest, " ", Smallest)
}

type Item interface{ Less(Item) bool }

type Int int

func (a Int) Less(b Item) bool { return a < b.(Int) }

type Pair struct{ A, B int }

func (p Pair) Sum() int { return p.A + p.B }

func keep(it Item) Item { return it }

func Boxes() string {
	var a []any
	var its []Item
	m := map[int]any{}
	var kept, assigned, ret, lits, sent []Item
	ch := make(chan Item, 3)
	pairs := []any{}
	box := func(i int) Item { return -Int(i) }
	for i := 0; i < 3; i++ {
		a = append(a, Int(i))
		its = append(its, Int(i)+10)
		m[i] = Int(i) * 2
		kept = append(kept, keep(Int(i)))
		var it Item
		it = Int(i) + 100
		assigned = append(assigned, it)
		ret = append(ret, box(i))
		lits = append(lits, []Item{Int(i)}...)
		ch <- Int(i)
		sent = append(sent, <-ch)
		pairs = append(pairs, Pair(struct{ A, B int }{i, i}))
	}
	return fmt.Sprint(a[0].(Int), its[0].(Int), m[0].(Int), kept[0].(Int), assigned[0].(Int), ret[1].(Int), lits[0].(Int), sent[0].(Int), pairs[0].(Pair).Sum())
}

func clearAll[M ~map[K]V, K comparable, V any](m M) { clear(m) }

func zero[S ~[]E, E any](s S) { clear(s) }

func Clear() string {
	m := map[string]int{"a": 1, "b": 2}
	s := []int{1, 2, 3}
	clear(m)
	clear(s[1:])
	m2 := map[int]bool{1: true}
	clearAll(m2)
	s2 := []string{"x", "y"}
	zero(s2)
	return fmt.Sprint(len(m), s, len(m2), len(s2[0]))
}
`,
	})
	w := offline(t)
	if _, err := w.UseLocal(ctx, dir); err != nil {
		t.Fatal(err)
	}
	g, err := w.Resolve(ctx, nil, stdOnly, []string{"example.com/modern"})
	if err != nil {
		t.Fatal(err)
	}
	im := NewImporter(importer.ForCompiler(token.NewFileSet(), "source", nil))
	im.Add(g)
	src := &SourceFS{Transform: im.Source}
	src.Add(g)
	yi := yaegi.New(yaegi.Options{SourcecodeFilesystem: src})
	if err := yi.Use(stdlib.Symbols); err != nil {
		t.Fatal(err)
	}
	if _, err := yi.Eval(`import "example.com/modern"`); err != nil {
		b, _ := src.ReadFile("src/example.com/modern/m.go")
		t.Fatalf("%v\n%s", err, b)
	}
	for _, c := range []struct{ call, want string }{
		{"modern.Ranges()", "012xx01012"},
		{"modern.Loops()", "0 10 20 ab"},
		{"modern.MinMax(0.5)", "0.5 1 pear NaN 2s 7 1"},
		{"modern.MinMax(3)", "1 1 pear NaN 2s 7 1"},
		{"modern.Clear()", "0 [1 0 0] 0 0"},
		{"modern.Boxes()", "0 10 0 0 100 -1 0 0 0"},
	} {
		v, err := yi.Eval(c.call)
		if err != nil {
			t.Errorf("%s: %v", c.call, err)
			continue
		}
		if got := fmt.Sprint(v.Interface()); got != c.want {
			t.Errorf("%s = %q, want %q", c.call, got, c.want)
		}
	}
}
