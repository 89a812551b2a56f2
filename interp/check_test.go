package interp

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gocvx/gocvx/cellio"
)

// checkScenarios are notebooks whose cells mix declarations (which check the
// whole program) with cells that declare nothing or only define variables
// (which are checked alone against the objects of the program's last check).
var checkScenarios = [][]string{
	{ // a type of the notebook, its unexported fields and methods
		"type point struct{ x, y float64 }\nfunc (p point) norm() float64 { return p.x*p.x + p.y*p.y }",
		"p := point{3, 4}", "p.norm()", "p.x", "q := p", "q.y = 7\nq", "p = q", "p", "p.z", "var r point = 3",
	},
	{ // errors in cells that declare nothing
		"n := 1", "n + \"a\"", "undefinedName + 1", "n.x", "var s string = n", "n := \"now a string\"", "n + 1", "n + \"!\"",
	},
	{ // generic functions
		"func mapf[T, U any](xs []T, f func(T) U) []U { var out []U; for _, x := range xs { out = append(out, f(x)) }; return out }",
		"ys := mapf([]int{1, 2}, func(i int) string { return fmt.Sprint(i) })", "len(ys)", "mapf(ys, func(s string) int { return len(s) })",
	},
	{ // variables defined again, with the same type and another
		"a := 1", "a := 2", "a", "a := \"s\"", "a + \"t\"", "b := a + a", "b", "func useA() string { return a }", "a := 3", "useA()",
	},
	{ // imports, explicit and by use; constants
		"import \"math\"", "math.Sqrt(2)", "x := strings.ToUpper(\"a\")", "x", "const k = 3", "k * 2", "var arr [k]int\narr", "strings := 1",
	},
	{ // pointers to the notebook's types, method values, closures over variables
		"type counter struct{ n int }\nfunc (c *counter) inc() { c.n++ }", "v := &counter{}", "v.inc()\nv.n", "f := v.inc", "f()\nf()\nv.n",
		"g := func() int { return v.n * 10 }", "g()", "type counter struct{ n, m int }\nfunc (c *counter) inc() { c.n += 2 }", "v.inc()\nv.n",
	},
	{ // compiled packages' types in the notebook's variables
		"prob := &solver.Problem{Beta: 0.5}", "prob.Beta", "prob.Beta * 2", "d := mat.NewDense(2, 2, []float64{1, 2, 3, 4})", "d.At(1, 0)", "r, c := d.Dims()\nr + c",
	},
}

// TestCellCheckedAlone checks that a cell checked against the objects of the
// program's last check gives what a check of the whole program gives: each
// scenario runs in a session as it comes, and in one that forgets the objects
// before every cell (so that every cell checks the whole program); every cell's
// value, error and output must agree. It also checks that the cells that declare
// nothing were checked alone.
func TestCellCheckedAlone(t *testing.T) {
	for i, cells := range checkScenarios {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			fast, full := newTestSession(t), newTestSession(t)
			alone := 0
			for n, code := range cells {
				full.mu.Lock()
				full.prog.pkg = nil
				full.mu.Unlock()
				before := fast.alone
				got, want := runCell(fast, n+1, code), runCell(full, n+1, code)
				if got != want {
					t.Errorf("cell %d %q checked alone:\n%s\nchecked with the whole program:\n%s", n+1, code, got, want)
				}
				if fast.alone > before {
					alone++
				}
			}
			if full.alone != 0 {
				t.Errorf("%d cells checked alone in the session that forgets the objects", full.alone)
			}
			if alone == 0 {
				t.Error("no cell was checked alone")
			}
		})
	}
}

// TestWhichCellsAreCheckedAlone checks which cells skip the earlier
// declarations: those that declare nothing and change no variable's type.
func TestWhichCellsAreCheckedAlone(t *testing.T) {
	s := newTestSession(t, "type T struct{ a int }\nfunc f() int { return 1 }", "x := T{1}")
	for _, tc := range []struct {
		code  string
		alone bool
	}{
		{"x.a + f()", true},
		{"y := x.a", true},
		{"x := T{2}", true},                  // the same type
		{"x := \"text\"", false},             // a variable changes type
		{"func g() int { return 2 }", false}, // a declaration
		{"fmt.Println(x, g())", true},
	} {
		before := s.alone
		if out := s.Execute(context.Background(), cellio.Cell{Code: tc.code, Number: 10, Output: &recorder{}}); out.Error != nil {
			t.Fatalf("%q: %v", tc.code, out.Error)
		}
		if alone := s.alone > before; alone != tc.alone {
			t.Errorf("%q checked alone: %v, want %v", tc.code, alone, tc.alone)
		}
	}
}

// TestInertCellsAreNotReplayed checks that a cell that declares nothing and only
// evaluates expressions without calls is not kept for replays, and that cells
// that assign, call or declare are.
func TestInertCellsAreNotReplayed(t *testing.T) {
	s := newTestSession(t, "type R int", "x := 2")
	for _, tc := range []struct {
		code     string
		recorded bool
	}{
		{"1 + 1", false},
		{"x", false},
		{"len([]int{x}) + int(float64(x)) + min(x, 3)", false},
		{"func() { x = 9 }", false}, // a function literal that is not called
		{"x = 3", true},
		{"fmt.Sprint(x)", true},
		{"func() { x = 4 }()", true},
		{"y := x", true},
	} {
		before := len(s.prog.cells)
		if out := s.Execute(context.Background(), cellio.Cell{Code: tc.code, Number: 10, Output: &recorder{}}); out.Error != nil {
			t.Fatalf("%q: %v", tc.code, out.Error)
		}
		if recorded := len(s.prog.cells) > before; recorded != tc.recorded {
			t.Errorf("%q recorded for replays: %v, want %v", tc.code, recorded, tc.recorded)
		}
	}
	// A replay after the cells gives the state they left.
	replays := s.replays
	out := s.Execute(context.Background(), cellio.Cell{Code: "type R string", Number: 11, Output: &recorder{}})
	if out.Error != nil {
		t.Fatal(out.Error)
	}
	if s.replays == replays {
		t.Fatal("redefining R did not replay the program")
	}
	if got := runCell(s, 12, "x"); !strings.Contains(got, "value: 4") {
		t.Errorf("x after the replay: %s, want 4", got)
	}
}

// runCell executes code and describes what it gave: its value, its error, its
// output.
func runCell(s *Session, n int, code string) string {
	rec := &recorder{}
	out := s.Execute(context.Background(), cellio.Cell{Code: code, Number: n, Output: rec})
	var b strings.Builder
	if out.Value != nil {
		fmt.Fprintf(&b, "value: %v\n", out.Value.Data["text/plain"])
	}
	if out.Error != nil {
		fmt.Fprintf(&b, "error: %s: %s\n", out.Error.Name, out.Error.Value)
	}
	rec.mu.Lock()
	fmt.Fprintf(&b, "output: %q", strings.Join(rec.all, ""))
	rec.mu.Unlock()
	return b.String()
}
