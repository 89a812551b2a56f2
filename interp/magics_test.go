package interp

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocvx/gocvx/cellio"
)

// cellRun is what one executed cell left.
type cellRun struct {
	out    cellio.Outcome
	stdout string
	stderr string
}

func (r cellRun) value() string {
	if r.out.Value == nil {
		return ""
	}
	t, _ := r.out.Value.Data["text/plain"].(string)
	return t
}

func (r cellRun) err() string {
	if r.out.Error == nil {
		return ""
	}
	return r.out.Error.Name + ": " + r.out.Error.Value
}

// cellRunner executes cells in one session, numbered from 1.
type cellRunner struct {
	t *testing.T
	s *Session
	n int
}

func newCellRunner(t *testing.T, opts Options) *cellRunner {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &cellRunner{t: t, s: s}
}

func (r *cellRunner) run(code string, in cellio.Input) cellRun {
	r.n++
	rec := &recorder{}
	out := r.s.Execute(context.Background(), cellio.Cell{Code: code, Number: r.n, Output: rec, Input: in})
	return cellRun{out, rec.stdout.String(), rec.stderr.String()}
}

type inputLines []string

func (l *inputLines) ReadLine(prompt string, password bool) (string, error) {
	if len(*l) == 0 {
		return "", os.ErrClosed
	}
	s := (*l)[0]
	*l = (*l)[1:]
	return s, nil
}

func TestMagics(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	r := newCellRunner(t, Options{})
	for _, c := range []struct {
		name, code                     string
		in                             inputLines
		stdout, stderr, value, errText string // stdout/stderr: substrings, in order, separated by |
	}{
		{name: "env set", code: "%env GOCVX_MAGIC_TEST=42", stdout: "env: GOCVX_MAGIC_TEST=42"},
		{name: "env in Go and shell", code: "x := os.Getenv(\"GOCVX_MAGIC_TEST\")\n!echo shell:$GOCVX_MAGIC_TEST\nx", stdout: "shell:42", value: "42"},
		{name: "shell in the working directory", code: "!pwd", stdout: dir},
		{name: "shell stdin", code: "!read a; read b; echo \"$b-$a\"", in: inputLines{"one", "two"}, stdout: "two-one"},
		{name: "shell exit status", code: "!exit 3\ny := 1", stderr: "[exit status 3]"},
		{name: "sh cell", code: "%%sh\necho a\necho b >&2\n", stdout: "a", stderr: "b"},
		{name: "time", code: "%time z := x + \"!\"\nz", stdout: "CPU times: user |Wall time: ", value: "42!"},
		{name: "cell time", code: "%%time\nw := 2\nfmt.Println(w * 21)", stdout: "42\n|CPU times: user |Wall time: "},
		{name: "who", code: "%who", stdout: "w\tx\ty\tz\n"},
		{name: "whos", code: "%whos", stdout: "Variable   Type     Data/Info\n|w          int      2\n|x          string   42\n"},
		{name: "positions kept", code: "!true\nq := undefinedName", errText: "CompileError: Cell11:2:6: undefined: undefinedName"},
		{name: "unknown magic", code: "%nothing", errText: "MagicError: line 1: unknown magic %nothing; %help lists the magics"},
		{name: "reset", code: "%reset\n%who", stdout: "Interactive namespace is empty."},
		{name: "after reset", code: "x", errText: "CompileError: Cell14:1:1: undefined: x"},
	} {
		in := c.in
		got := r.run(c.code, &in)
		if got.err() != c.errText || got.value() != c.value {
			t.Errorf("%s: error %q value %q; want %q, %q\nstdout %q\nstderr %q", c.name, got.err(), got.value(), c.errText, c.value, got.stdout, got.stderr)
		}
		for _, want := range []struct{ got, want string }{{got.stdout, c.stdout}, {got.stderr, c.stderr}} {
			rest := want.got
			for _, part := range strings.Split(want.want, "|") {
				i := strings.Index(rest, part)
				if i < 0 {
					t.Errorf("%s: output %q lacks %q (in order)", c.name, want.got, part)
					break
				}
				rest = rest[i+len(part):]
			}
		}
	}
}

func TestMagicHelpAndEditorRequests(t *testing.T) {
	r := newCellRunner(t, Options{})
	got := r.run("%help", nil)
	if got.out.Page == nil || !strings.Contains(got.out.Page.Data["text/plain"].(string), "%go get MODULE[@VERSION]") {
		t.Fatalf("%%help: %+v", got.out)
	}
	r.run("type point struct{ X, Y float64 }\np := point{1, 2}", nil)
	code := "!ls\n%time q := p."
	c := r.s.Complete(code, len([]rune(code)))
	if !contains(c.Matches, "X") {
		t.Errorf("completion after %%time: %v", c.Matches)
	}
	c = r.s.Complete("%wh", 3)
	if strings.Join(c.Matches, " ") != "%who %whos" || c.Start != 0 || c.End != 3 {
		t.Errorf("completion of a magic: %+v", c)
	}
	for _, k := range []struct{ code, status string }{
		{"!ls", "complete"}, {"%%sh\nfor x in a; do", "complete"}, {"%time for i := 0; i < 3; i++ {", "incomplete"},
		{"x := 1\n!echo", "complete"}, {"%%time\nfunc f() {", "incomplete"}, {"%%bogus", "invalid"},
	} {
		if status, _ := r.s.IsComplete(k.code); status != k.status {
			t.Errorf("IsComplete(%q) = %s, want %s", k.code, status, k.status)
		}
	}
}

func TestShellInterrupt(t *testing.T) {
	r := newCellRunner(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	rec := &recorder{}
	go func() {
		// Interrupt once the trap is set.
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			rec.mu.Lock()
			ready := strings.Contains(rec.stdout.String(), "ready")
			rec.mu.Unlock()
			if ready {
				break
			}
		}
		cancel()
	}()
	out := r.s.Execute(ctx, cellio.Cell{Code: "!trap 'echo got INT; exit 1' INT; echo ready; sleep 30 & wait", Number: 1, Output: rec})
	if out.Error == nil || out.Error.Name != "Interrupted" || !strings.Contains(rec.stdout.String(), "got INT") {
		t.Fatalf("interrupted shell: %+v, stdout %q", out.Error, rec.stdout.String())
	}
	if got := r.run("1 + 1", nil); got.value() != "2" {
		t.Fatalf("the session after an interrupted command: %+v", got)
	}
}

// TestLocalModuleInCells imports a local module in cells, with a type, a
// method, a generic function and a type of gonum, then edits it and imports
// it again; offline (GOPROXY=off), from a module folder of its own.
func TestLocalModuleInCells(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	lib := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(lib, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/stats\n\ngo 1.23\n\nrequire gonum.org/v1/gonum v0.17.0\n")
	write("stats.go", `package stats

import "gonum.org/v1/gonum/mat"

// Acc accumulates numbers.
type Acc struct{ n int; sum float64 }

func (a *Acc) Add(x float64) { a.n++; a.sum += x }
func (a *Acc) Mean() float64 { return a.sum / float64(a.n) }

// Max of any ordered values.
func Max[T int | float64](xs ...T) T {
	m := xs[0]
	for _, x := range xs[1:] {
		m = max(m, x)
	}
	return m
}

// Trace of a square matrix.
func Trace(m *mat.Dense) float64 {
	r, _ := m.Dims()
	s := 0.0
	for i := range r {
		s += m.At(i, i)
	}
	return s
}

const Version = 1

var errEmpty = errorString{"empty"}

type errorString struct{ s string }

func (e errorString) Error() string { return e.s }

// Check fails on no data.
func Check(xs []float64) error {
	if len(xs) == 0 {
		return errEmpty
	}
	return nil
}
`)
	r := newCellRunner(t, Options{Notebook: filepath.Join(t.TempDir(), "analysis.ipynb")})
	if got := r.run("%go work use "+lib, nil); got.err() != "" || !strings.Contains(got.stdout, "example.com/stats comes from "+lib) {
		t.Fatalf("%%go work use: %+v", got)
	}
	got := r.run(`import "example.com/stats"
var a stats.Acc
a.Add(2); a.Add(4)
fmt.Println(a.Mean(), stats.Max(3, 9, 4), stats.Max(1.5, 0.5))
stats.Trace(mat.NewDense(2, 2, []float64{1, 2, 3, 4}))`, nil)
	if got.err() != "" || got.stdout != "3 9 1.5\n" || got.value() != "5" {
		t.Fatalf("using the module: %+v", got)
	}
	for range 2 { // the second from the cache of compiled cells
		if got := r.run("stats.Version", nil); got.value() != "1" {
			t.Fatalf("stats.Version = %+v", got)
		}
	}
	if c := r.s.Complete("stats.Ma", 8); !contains(c.Matches, "Max") {
		t.Errorf("completion of a package from source: %v", c.Matches)
	}
	if b, ok := r.s.Inspect("stats.Trace", 9, 0); !ok || !strings.Contains(b.Data["text/plain"].(string), "Trace of a square matrix.") {
		t.Errorf("inspection of a package from source: %v %v", b.Data, ok)
	}
	// An edit is picked up by the next cell: a fresh interpreter, the cells
	// replayed.
	later := time.Now().Add(2 * time.Second)
	write("stats.go", strings.Replace(strings.Replace(readFile(t, filepath.Join(lib, "stats.go")), "const Version = 1", "const Version = 2", 1), "func (a *Acc) Mean", "func (a *Acc) Count() int { return a.n }\n\nfunc (a *Acc) Mean", 1))
	os.Chtimes(filepath.Join(lib, "stats.go"), later, later)
	if got := r.run("stats.Version", nil); got.err() != "" || got.value() != "2" {
		t.Fatalf("a cell run again after the edit: %+v", got)
	}
	if got := r.run("fmt.Println(a.Count())\nstats.Version", nil); got.err() != "" || got.value() != "2" || got.stdout != "2\n" {
		t.Fatalf("after the edit: %+v", got)
	}
	if got := r.run("%go mod", nil); !strings.Contains(got.stdout, "replace example.com/stats => "+lib) {
		t.Fatalf("%%go mod: %+v", got)
	}
	// A second package from source, imported later, gets its own globals
	// (yaegi would give it the first one's frame slots).
	second := t.TempDir()
	os.WriteFile(filepath.Join(second, "go.mod"), []byte("module example.com/second\n\ngo 1.21\n"), 0o644)
	os.WriteFile(filepath.Join(second, "second.go"), []byte("package second\n\nvar Table = []struct{ A, B float64 }{{1, 2}}\n\nfunc First() float64 { return Table[0].A }\n"), 0o644)
	if got := r.run("%go work use "+second, nil); got.err() != "" {
		t.Fatalf("%%go work use: %+v", got)
	}
	if got := r.run("import \"example.com/second\"\nfmt.Println(second.First(), stats.Check(nil))", nil); got.err() != "" || got.stdout != "1 empty\n" {
		t.Fatalf("a second local package: %+v", got)
	}
	// A package that needs the network, with GOPROXY=off, is the go
	// command's error at the import.
	got = r.run(`import "github.com/montanaflynn/stats/nothere"`, nil)
	if !strings.HasPrefix(got.err(), "CompileError: Cell10:1:8: ") || !strings.Contains(got.err(), "GOPROXY=off") {
		t.Fatalf("an import without the proxy: %q", got.err())
	}
}

func readFile(t *testing.T, name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMain keeps the module folders of the tests' sessions out of the user's
// cache.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gocvx-interp-test-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestProbeRemembered checks that a kernel started again for the same
// notebook does not probe the same packages again, and does after an edit.
func TestProbeRemembered(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("GOPROXY", "off")
	lib := t.TempDir()
	os.WriteFile(filepath.Join(lib, "go.mod"), []byte("module example.com/p\n\ngo 1.21\n"), 0o644)
	os.WriteFile(filepath.Join(lib, "p.go"), []byte("package p\n\nfunc N() int { return 1 }\n"), 0o644)
	nb := filepath.Join(t.TempDir(), "nb.ipynb")
	use := func(want string) {
		t.Helper()
		r := newCellRunner(t, Options{Notebook: nb})
		r.run("%go work use "+lib, nil)
		if got := r.run("import \"example.com/p\"\np.N()", nil); got.value() != want {
			t.Fatalf("p.N() = %+v, want %s", got, want)
		}
	}
	n0 := probeRuns.Load()
	use("1")
	use("1")
	if n := probeRuns.Load() - n0; n != 1 {
		t.Fatalf("%d probes for the same packages in two sessions, want 1", n)
	}
	later := time.Now().Add(2 * time.Second)
	os.WriteFile(filepath.Join(lib, "p.go"), []byte("package p\n\nfunc N() int { return 2 }\n"), 0o644)
	os.Chtimes(filepath.Join(lib, "p.go"), later, later)
	use("2")
	if n := probeRuns.Load() - n0; n != 2 {
		t.Fatalf("%d probes after an edit, want 2", n)
	}
}

// TestModuleFolder names a module folder for the notebook and goes back to
// the default one.
func TestModuleFolder(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("GOPROXY", "off")
	own := t.TempDir()
	r := newCellRunner(t, Options{Notebook: filepath.Join(t.TempDir(), "nb.ipynb")})
	def := r.run("%go mod", nil)
	if !strings.HasPrefix(def.stdout, "module folder: "+os.Getenv("XDG_CACHE_HOME")) {
		t.Fatalf("default folder: %+v", def)
	}
	if got := r.run("%go mod use "+own, nil); got.stdout != "module folder: "+own+"\n" {
		t.Fatalf("%%go mod use: %+v", got)
	}
	if got := r.run("%go get example.com/nothing@none", nil); got.err() != "" {
		t.Fatalf("%%go get in the named folder: %+v", got)
	}
	if _, err := os.Stat(filepath.Join(own, "go.mod")); err != nil {
		t.Fatalf("no go.mod in the named folder: %v", err)
	}
	if got := r.run("%go mod use", nil); !strings.HasPrefix(def.stdout, got.stdout) {
		t.Fatalf("back to the default folder: %+v, want %q", got, def.stdout)
	}
	if got := r.run("%go frobnicate", nil); !strings.Contains(got.err(), "usage: %go get") {
		t.Fatalf("a wrong %%go command: %+v", got)
	}
}
