package interp

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/solver"
	"github.com/gocvx/gocvx/solver/dataset"
)

// The figures these benchmarks measure are reported in CELLS.md. On a shared
// machine wall time is noisy; the overhead benchmarks also report the process's
// CPU time per operation (cpu-ns/op), which other processes do not inflate.

// cpuTime returns the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU starts the CPU clock; the returned function reports cpu-ns/op.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op") }
}

func BenchmarkNew(b *testing.B) {
	defer reportCPU(b)()
	for i := 0; i < b.N; i++ {
		s, err := New(Options{})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// benchSession returns a session that has run cells.
func benchSession(b *testing.B, cells ...string) *Session {
	b.Helper()
	s, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	for i, c := range cells {
		if out := s.Execute(context.Background(), cellio.Cell{Code: c, Number: i + 1, Output: &recorder{}}); out.Error != nil {
			b.Fatalf("cell %d: %v", i+1, out.Error)
		}
	}
	return s
}

// BenchmarkExecuteTrivial is the cost of a cell run again: "x = x + 1", which
// after its first run comes from the cache of compiled cells (cellcache.go);
// BenchmarkExecuteDistinct is that of small cells compiled.
func BenchmarkExecuteTrivial(b *testing.B) {
	s := benchSession(b, "x := 1")
	b.ResetTimer()
	defer reportCPU(b)()
	for i := 0; i < b.N; i++ {
		if out := s.Execute(context.Background(), cellio.Cell{Code: "x = x + 1", Number: i + 2, Output: &recorder{}}); out.Error != nil {
			b.Fatal(out.Error)
		}
	}
}

// BenchmarkExecuteDistinct is the fixed cost of a small cell that is not a
// repeat, which the cache of compiled cells (cellcache.go) does not serve, in a
// session that defined x and after notebook50: "1 + N" (N the iteration), a
// constant that the type checker computes (constcell.go), and "x + N", which
// is compiled and run.
func BenchmarkExecuteDistinct(b *testing.B) {
	for _, setup := range []struct {
		name  string
		cells []string
	}{{"fresh", []string{"x := 1"}}, {"notebook", append(notebook50(), "x := 1")}} {
		for _, form := range []string{"1 + %d", "x + %d"} {
			b.Run(setup.name+"/"+strings.ReplaceAll(form, "%d", "N"), func(b *testing.B) {
				s := benchSession(b, setup.cells...)
				b.ResetTimer()
				defer reportCPU(b)()
				for i := 0; i < b.N; i++ {
					code := fmt.Sprintf(form, i)
					if out := s.Execute(context.Background(), cellio.Cell{Code: code, Number: 100 + i, Output: &recorder{}}); out.Error != nil {
						b.Fatal(out.Error)
					}
				}
				if s.cacheHits != 0 {
					b.Fatalf("%d cells from the cache", s.cacheHits)
				}
			})
		}
	}
}

// The compiled routine of the overhead benchmarks: ADMM on the spirals for a
// fixed number of iterations (tens of milliseconds), identical in both.
const solveSetup = `set, _ := dataset.Spirals(200, 0.2, 1)
prob := &solver.Problem{X: dataset.AddBias(set.X), Y: set.Y, Loss: solver.Squared, Beta: 1e-3}
settings := &solver.Settings{Patterns: 60, MaxIterations: 150, Tolerance: 1e-300, Seed: 1}`

// BenchmarkSolveCell runs the solver from a cell; compare with BenchmarkSolveCompiled.
func BenchmarkSolveCell(b *testing.B) {
	s := benchSession(b, solveSetup)
	b.ResetTimer()
	defer reportCPU(b)()
	for i := 0; i < b.N; i++ {
		out := s.Execute(context.Background(), cellio.Cell{Code: "res, _ := solver.Solve(cell.Context(), prob, settings, &solver.ADMM{})", Number: i + 2, Output: &recorder{}})
		if out.Error != nil {
			b.Fatal(out.Error)
		}
	}
}

func BenchmarkSolveCompiled(b *testing.B) {
	set, err := dataset.Spirals(200, 0.2, 1)
	if err != nil {
		b.Fatal(err)
	}
	prob := &solver.Problem{X: dataset.AddBias(set.X), Y: set.Y, Loss: solver.Squared, Beta: 1e-3}
	settings := &solver.Settings{Patterns: 60, MaxIterations: 150, Tolerance: 1e-300, Seed: 1}
	b.ResetTimer()
	defer reportCPU(b)()
	for i := 0; i < b.N; i++ {
		if _, err := solver.Solve(context.Background(), prob, settings, &solver.ADMM{}); err != nil {
			b.Fatal(err)
		}
	}
}

// A gonum product of ~15 ms, as a second compiled routine that does not change.
const mulSetup = `a := mat.NewDense(300, 300, nil)
for i := 0; i < 300; i++ { a.Set(i, i, 2); a.Set(i, (i+1)%300, 1) }
var c mat.Dense`

func BenchmarkMulCell(b *testing.B) {
	s := benchSession(b, mulSetup)
	b.ResetTimer()
	defer reportCPU(b)()
	for i := 0; i < b.N; i++ {
		if out := s.Execute(context.Background(), cellio.Cell{Code: "c.Mul(a, a); c.Mul(&c, a)", Number: i + 2, Output: &recorder{}}); out.Error != nil {
			b.Fatal(out.Error)
		}
	}
}

func BenchmarkMulCompiled(b *testing.B) {
	a := mat.NewDense(300, 300, nil)
	for i := 0; i < 300; i++ {
		a.Set(i, i, 2)
		a.Set(i, (i+1)%300, 1)
	}
	var c mat.Dense
	b.ResetTimer()
	defer reportCPU(b)()
	for i := 0; i < b.N; i++ {
		c.Mul(a, a)
		c.Mul(&c, a)
	}
}

// notebook50 is a notebook of 50 cells: a type with a method, then functions,
// variables of that type and strings in turn.
func notebook50() []string {
	var cells []string
	cells = append(cells, "type point struct{ X, Y float64 }\nfunc (p point) norm() float64 { return p.X*p.X + p.Y*p.Y }")
	for i := 1; i < 50; i++ {
		switch i % 3 {
		case 0:
			cells = append(cells, fmt.Sprintf("v%d := point{%d, 1}\nfmt.Println(v%d.norm())", i, i, i))
		case 1:
			cells = append(cells, fmt.Sprintf("func f%d(x float64) float64 { return x * %d }", i, i))
		default:
			cells = append(cells, fmt.Sprintf("s%d := strings.Repeat(\"a\", %d)\nn%d := len(s%d)", i, i, i, i))
		}
	}
	return cells
}

// BenchmarkExecuteAfterNotebook is the fixed cost of a small cell after the 50
// cells of notebook50: an expression, a variable's value, a call of an earlier
// function, a variable defined again; the first three come from the cache of
// compiled cells after their first run, the last is compiled every time.
func BenchmarkExecuteAfterNotebook(b *testing.B) {
	s := benchSession(b, notebook50()...)
	for _, code := range []string{"1 + 1", "v48", "f49(2)", "y := v48.norm()"} {
		b.Run(code, func(b *testing.B) {
			defer reportCPU(b)()
			for i := 0; i < b.N; i++ {
				if out := s.Execute(context.Background(), cellio.Cell{Code: code, Number: 100 + i, Output: &recorder{}}); out.Error != nil {
					b.Fatal(out.Error)
				}
			}
		})
	}
}

// BenchmarkReplay is a type redefined after 50 cells: a fresh interpreter
// gets the latest declarations and the 50 cells' statements run again.
func BenchmarkReplay(b *testing.B) {
	s := benchSession(b, notebook50()...)
	b.ResetTimer()
	defer reportCPU(b)()
	for i := 0; i < b.N; i++ {
		// Alternate two definitions so that each iteration changes the type.
		def := fmt.Sprintf("type point struct{ X, Y float64; tag%d int }", i%2)
		out := s.Execute(context.Background(), cellio.Cell{Code: def, Number: 100 + i, Output: &recorder{}})
		if out.Error != nil {
			b.Fatal(out.Error)
		}
	}
	if s.replays < b.N {
		b.Fatalf("%d replays for %d redefinitions", s.replays, b.N)
	}
}

// BenchmarkComplete is a member completion of a variable of an earlier cell,
// and of a package.
func BenchmarkComplete(b *testing.B) {
	s := benchSession(b, solveSetup, "res, _ := solver.Solve(cell.Context(), prob, &solver.Settings{MaxIterations: 2}, nil)")
	for _, code := range []string{"res.", "mat.New", "fmt.Print"} {
		b.Run(strings.TrimRight(code, "."), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if c := s.Complete(code, len(code)); len(c.Matches) == 0 {
					b.Fatalf("no completion for %q", code)
				}
			}
		})
	}
}

// BenchmarkCallsInCell is a cell calling an interpreted function 10 000 times in
// a loop (per op): a leaf that only computes (sq), which keeps no frame position,
// and one that indexes a slice (at), which can fail and so keeps its frame's
// position (a local and a deferred call per call; see rewrite_frames.go).
func BenchmarkCallsInCell(b *testing.B) {
	s := benchSession(b, "func sq(x int) int { return x * x }\nfunc at(xs []int, i int) int { return xs[i%len(xs)] }\nxs := []int{1, 2, 3}")
	for _, call := range []string{"sq(i)", "at(xs, i)"} {
		b.Run(strings.TrimSuffix(call[:strings.IndexByte(call, '(')], "("), func(b *testing.B) {
			defer reportCPU(b)()
			for i := 0; i < b.N; i++ {
				out := s.Execute(context.Background(), cellio.Cell{Code: "t := 0\nfor i := 0; i < 10000; i++ {\n\tt += " + call + "\n}", Number: i + 2, Output: &recorder{}})
				if out.Error != nil {
					b.Fatal(out.Error)
				}
			}
		})
	}
}

// BenchmarkLoopInCell is a cell's loop of 10 000 iterations of arithmetic (per
// op); each statement sets its frame's position.
func BenchmarkLoopInCell(b *testing.B) {
	s := benchSession(b, "x := 0")
	b.ResetTimer()
	defer reportCPU(b)()
	for i := 0; i < b.N; i++ {
		out := s.Execute(context.Background(), cellio.Cell{Code: "t := 0\nfor i := 0; i < 10000; i++ {\n\tt += i * i\n\tt %= 1000003\n}", Number: i + 2, Output: &recorder{}})
		if out.Error != nil {
			b.Fatal(out.Error)
		}
	}
}
