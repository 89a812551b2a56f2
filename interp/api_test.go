package interp

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gocvx/gocvx/cellio"
)

func newTestSession(t *testing.T, cells ...string) *Session {
	t.Helper()
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for i, c := range cells {
		out := s.Execute(context.Background(), cellio.Cell{Code: c, Number: i + 1, Output: &recorder{}})
		if out.Error != nil {
			t.Fatalf("cell %d: %v", i+1, out.Error)
		}
	}
	return s
}

func TestIsComplete(t *testing.T) {
	s := newTestSession(t)
	for _, tc := range []struct{ code, status, indent string }{
		{"x := 1", "complete", ""},
		{"func f() {", "incomplete", "\t"},
		{"for i := 0; i < 3; i++ {\n\tif i > 1 {", "incomplete", "\t\t"},
		{"fmt.Println(1,", "incomplete", "\t"},
		{"s := `raw", "incomplete", ""},
		{"/* comment", "incomplete", ""},
		{"x := 1 +", "incomplete", "\t"},
		{"x := )", "invalid", ""},
		{"func f() { return 1 }}", "invalid", ""},
		{"x := := 2", "invalid", ""},
		{"", "complete", ""},
		{"fmt.Println?", "complete", ""},
	} {
		status, indent := s.IsComplete(tc.code)
		if status != tc.status || indent != tc.indent {
			t.Errorf("IsComplete(%q) = %q, %q; want %q, %q", tc.code, status, indent, tc.status, tc.indent)
		}
	}
}

func TestComplete(t *testing.T) {
	s := newTestSession(t,
		"type point struct{ X, Y float64 }\nfunc (p point) Norm() float64 { return p.X*p.X + p.Y*p.Y }\np := point{3, 4}",
		"func helper(n int) int { return n }\nvar counter = 3",
		"m := mat.NewDense(2, 2, nil)",
	)
	for _, tc := range []struct {
		code       string
		cursor     int // -1: end
		want       []string
		start, end int
	}{
		{"mat.New", -1, []string{"NewDense", "NewVecDense"}, 4, 7},
		{"fmt.Print", -1, []string{"Print", "Printf", "Println"}, 4, 9},
		{"p.", -1, []string{"Norm", "X", "Y"}, 2, 2},
		{"hel", -1, []string{"helper"}, 0, 3},
		{"coun", -1, []string{"counter"}, 0, 4},
		{"m.Ro", -1, []string{"RowView"}, 2, 4},
		{"x := \"🙂\"; fmt.Spr", -1, []string{"Sprint", "Sprintf", "Sprintln"}, 14, 17},
		{"retu", -1, []string{"return"}, 0, 4},
		{"strings.ToU", -1, []string{"ToUpper"}, 8, 11},
		{"q := point{}\nq.No", -1, []string{"Norm"}, 15, 17},
		{"mat.NewDense(2, 2, nil).T", -1, []string{"T"}, 24, 25},
	} {
		cur := tc.cursor
		if cur < 0 {
			cur = len([]rune(tc.code))
		}
		c := s.Complete(tc.code, cur)
		for _, w := range tc.want {
			found := false
			for _, m := range c.Matches {
				if m == w {
					found = true
				}
			}
			if !found {
				t.Errorf("Complete(%q) = %v, lacks %q", tc.code, c.Matches, w)
			}
		}
		if c.Start != tc.start || c.End != tc.end {
			t.Errorf("Complete(%q): start, end = %d, %d; want %d, %d", tc.code, c.Start, c.End, tc.start, tc.end)
		}
	}
}

// TestCompleteOffersOnlyNamesThatExist checks that a bare identifier completes to
// names that exist (declared by earlier cells or by the cell being written, in
// scope, in packages, keywords and builtins), never to the fragment being typed
// or to another name the cell uses without declaring it.
func TestCompleteOffersOnlyNamesThatExist(t *testing.T) {
	s := newTestSession(t)
	for _, tc := range []struct {
		code string
		want []string // exactly
	}{
		{"appe", []string{"append"}},
		{"x := appe", []string{"append"}},
		{"unknownThing(1)\nunkn", []string{}},
		{"total := 1\ntot", []string{"total"}},
		{"a, bee := 1, 2\nbe", []string{"bee"}},
		{"func f(count, step int) int { return cou", []string{"count"}},
		{"func f(count, step int) int { return ste", []string{"step"}},
		{"for idx := range 3 { id", []string{"idx"}},
		{"for k, val := range m { va", []string{"val", "var"}},
		{"var (\n\tlimit = 3\n)\nlimi", []string{"limit"}},
		{"const answer = 42\nansw", []string{"answer"}},
		{"type shape struct{}\nshap", []string{"shape"}},
		{"func area() {}\nare", []string{"area"}},
		{"import mth \"math\"\nmt", []string{"mth"}},
		{"func (recv point) Norm() float64 { return rec", []string{"recover", "recv"}},
		{"func pick[T any](items []T) T { return ite", []string{"items", "iter"}},
	} {
		c := s.Complete(tc.code, len([]rune(tc.code)))
		if !slices.Equal(c.Matches, tc.want) {
			t.Errorf("Complete(%q) = %q, want %q", tc.code, c.Matches, tc.want)
		}
	}
}

func TestInspect(t *testing.T) {
	s := newTestSession(t, "// twice doubles n.\nfunc twice(n int) int { return 2 * n }\nr := 5")
	for _, tc := range []struct{ code, want string }{
		{"fmt.Println", "func Println(a ...any) (n int, err error)"},
		{"fmt.Println", "Println formats using the default formats"},
		{"mat.NewDense", "func NewDense(r, c int, data []float64) *Dense"},
		{"twice", "func twice(n int) int"},
		{"twice", "twice doubles n."},
		{"r", "var r int"},
		{"strings.ToUpper(", "func ToUpper(s string) string"},
	} {
		b, ok := s.Inspect(tc.code, len([]rune(tc.code)), 0)
		if !ok {
			t.Errorf("Inspect(%q) found nothing", tc.code)
			continue
		}
		if got := b.Data["text/plain"].(string); !strings.Contains(got, tc.want) {
			t.Errorf("Inspect(%q) = %q, lacks %q", tc.code, got, tc.want)
		}
	}
}

// TestConcurrentRequests runs completion, inspection and is_complete requests
// while cells run, as the kernel does (run with -race).
func TestConcurrentRequests(t *testing.T) {
	s := newTestSession(t, "type item struct{ Name string }\nitems := []item{{\"a\"}}")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 3; i++ {
			code := "for i := range 200000 { _ = i }\ntype item struct{ Name string; N int }\nnext := item{Name: \"b\"}\nnext"
			if out := s.Execute(context.Background(), cellio.Cell{Code: code, Number: 10 + i, Output: &recorder{}}); out.Error != nil {
				t.Errorf("cell: %v", out.Error)
			}
		}
	}()
	for {
		select {
		case <-done:
			return
		default:
		}
		if c := s.Complete("items[0].Na", 11); len(c.Matches) != 1 {
			t.Errorf("Complete = %v", c.Matches)
		}
		if _, ok := s.Inspect("strings.ToUpper", 10, 0); !ok {
			t.Error("Inspect found nothing")
		}
		if st, _ := s.IsComplete("for {"); st != "incomplete" {
			t.Errorf("IsComplete = %s", st)
		}
	}
}

// TestGoroutinePanicBetweenCells: a goroutine that panics after its cell ended
// is reported at the start of the next cell's output.
func TestGoroutinePanicBetweenCells(t *testing.T) {
	// The goroutine panics only once the test says so, after its cell has ended
	// (a fixed sleep raced with the end of the cell on a loaded machine).
	const release = "GOCVX_TEST_PANIC_BETWEEN_CELLS"
	s := newTestSession(t, "go func() {\n\tfor os.Getenv(\""+release+"\") == \"\" {\n\t\ttime.Sleep(time.Millisecond)\n\t}\n\tpanic(\"late\")\n}()")
	t.Setenv(release, "1")
	// Wait until the panic has been reported (held for the next cell).
	for i := 0; ; i++ {
		s.streams.mu.Lock()
		held := s.streams.held
		s.streams.mu.Unlock()
		if held > 0 {
			break
		}
		if i > 500 {
			t.Fatal("the goroutine's panic was never reported")
		}
		time.Sleep(10 * time.Millisecond)
	}
	rec := &recorder{}
	out := s.Execute(context.Background(), cellio.Cell{Code: `"next"`, Number: 2, Output: rec})
	if out.Error != nil {
		t.Fatal(out.Error)
	}
	if got := rec.stderr.String(); !strings.Contains(got, "panic in a goroutine started by Cell1: late") {
		t.Errorf("stderr of the next cell = %q", got)
	}
}

func TestCompleteSolverResult(t *testing.T) {
	s := newTestSession(t, `set, _ := dataset.Spirals(30, 0.1, 1)
prob := &solver.Problem{X: dataset.AddBias(set.X), Y: set.Y, Loss: solver.Squared, Beta: 1e-3}
res, _ := solver.Solve(cell.Context(), prob, &solver.Settings{Patterns: 8, MaxIterations: 3}, nil)`)
	c := s.Complete("res.", 4)
	for _, want := range []string{"Objective", "Network", "History", "Status"} {
		found := false
		for _, m := range c.Matches {
			found = found || m == want
		}
		if !found {
			t.Errorf("Complete(res.) = %v, lacks %s", c.Matches, want)
		}
	}
	c = s.Complete("res.Network.Acc", 15)
	if len(c.Matches) != 1 || c.Matches[0] != "Accuracy" {
		t.Errorf("Complete(res.Network.Acc) = %v", c.Matches)
	}
}

// TestTransient checks the evaluation of user expressions: a value, an error for
// what is not one expression, and no record (a replay does not evaluate them again).
func TestTransient(t *testing.T) {
	s := newTestSession(t, "calls := 0\nfunc count() int { calls++; return calls }\nx := 21")
	eval := func(code string) cellio.Outcome {
		return s.Execute(context.Background(), cellio.Cell{Code: code, Number: 2, Output: &recorder{}, Transient: true})
	}
	if out := eval("x * 2"); out.Error != nil || out.Value == nil || out.Value.Data["text/plain"] != "42" {
		t.Fatalf("x * 2: %+v", out)
	}
	if out := eval("count()"); out.Error != nil || out.Value == nil || out.Value.Data["text/plain"] != "1" {
		t.Fatalf("count(): %+v", out)
	}
	for _, code := range []string{"y := 1", "x = 3", "func f() {}", "undefinedName"} {
		if out := eval(code); out.Error == nil || out.Error.Name != "CompileError" {
			t.Errorf("%q: %+v, want a CompileError", code, out)
		}
	}
	// A type redefined makes the session replay its recorded cells into a fresh
	// interpreter: calls starts again from the first cell, and count() would make
	// it 1 if the user expression had been recorded.
	for i, code := range []string{"type T int", "type T string", "calls"} {
		out := s.Execute(context.Background(), cellio.Cell{Code: code, Number: 3 + i, Output: &recorder{}})
		if out.Error != nil {
			t.Fatalf("%q: %v", code, out.Error)
		}
		if code == "calls" && (out.Value == nil || out.Value.Data["text/plain"] != "0") {
			t.Errorf("calls after a replay = %+v, want 0 (the user expression is not replayed)", out.Value)
		}
	}
}

// TestOutputBetweenCells checks where a goroutine's output goes when it is
// produced while no cell runs: held, text and rich outputs in their order (an
// update of a display ID once, the latest), and sent at the start of the next
// cell, before that cell's own output. (During a later cell it goes to that cell:
// see the corpus, goroutines.txtar.)
func TestOutputBetweenCells(t *testing.T) {
	dir := t.TempDir()
	s := newTestSession(t, `dir := `+strconv.Quote(dir)+`
go func() {
	for {
		if _, err := os.Stat(dir + "/go"); err == nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	fmt.Println("text between cells")
	display.HTML("<b>between</b>")
	id := display.ShowID("v1")
	display.Update(id, "v2")
	display.Update(id, "v3")
	os.WriteFile(dir+"/done", nil, 0o600)
}()`)
	// No cell runs now: let the goroutine publish, and wait until it has.
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the goroutine did not publish within 20 s")
		}
	}
	rec := &recorder{}
	if out := s.Execute(context.Background(), cellio.Cell{Code: `fmt.Println("cell 2")`, Number: 2, Output: rec}); out.Error != nil {
		t.Fatal(out.Error)
	}
	want := []string{
		"stdout: text between cells\n",
		"display text/html,text/plain: <b>between</b>\n",
		"display id text/plain: v1\n",
		"update id text/plain: v3\n",
		"stdout: cell 2\n",
	}
	if !slices.Equal(rec.all, want) {
		t.Errorf("cell 2 received %q\nwant %q", rec.all, want)
	}
}
