package interp

import (
	"context"
	"testing"
	"time"

	yaegi "github.com/traefik/yaegi/interp"

	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/interp/symbols"
)

// Interpreted code against compiled Go: the figures of the README's "Go in
// cells" section. Each cell runs a loop of speedN iterations, so that the
// cell's fixed cost (≈ 0.3 ms) is under 1 % of an operation; ns/iter is the
// wall time per iteration of the loop, cpu-ns/iter the process's CPU time
// (which other processes on a shared machine do not inflate).

const speedN = 1_000_000

// perIter reports ns/iter and cpu-ns/iter of a benchmark whose every
// operation runs n iterations; call it with the CPU time at the start.
func perIter(b *testing.B, n int, cpu0 time.Duration) {
	iters := float64(b.N) * float64(n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/iters, "ns/iter")
	b.ReportMetric(float64(cpuTime()-cpu0)/iters, "cpu-ns/iter")
}

func benchCellLoop(b *testing.B, n int, setup, run string) {
	s := benchSession(b, setup)
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if out := s.Execute(context.Background(), cellio.Cell{Code: run, Number: 100 + i, Output: &recorder{}}); out.Error != nil {
			b.Fatal(out.Error)
		}
	}
	perIter(b, n, cpu0)
}

// BenchmarkSumSquaresCell: s += v*v over a []float64, in a function of a cell.
func BenchmarkSumSquaresCell(b *testing.B) {
	benchCellLoop(b, speedN, `
v := make([]float64, 1_000_000)
for i := range v { v[i] = float64(i%7) }
func sumSquares(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	return s
}`, `r := sumSquares(v)`)
}

var speedSink float64

func BenchmarkSumSquaresCompiled(b *testing.B) {
	v := make([]float64, speedN)
	for i := range v {
		v[i] = float64(i % 7)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		s := 0.0
		for _, x := range v {
			s += x * x
		}
		speedSink = s
	}
	perIter(b, speedN, cpu0)
}

// callN is the number of calls of the call benchmarks (interpreted calls cost
// microseconds).
const callN = 100_000

// BenchmarkMethodCallCell: a pointer-receiver method of a cell's type called
// in a loop of a cell's function.
func BenchmarkMethodCallCell(b *testing.B) {
	benchCellLoop(b, callN, `
type acc struct{ s float64 }
func (a *acc) add(x float64) { a.s += x }
func calls(n int) float64 {
	var a acc
	for i := 0; i < n; i++ {
		a.add(1)
	}
	return a.s
}`, `r := calls(100_000)`)
}

// BenchmarkFuncCallCell: a function of a cell called in a loop of another.
func BenchmarkFuncCallCell(b *testing.B) {
	benchCellLoop(b, callN, `
func inc(x float64) float64 { return x + 1 }
func calls(n int) float64 {
	s := 0.0
	for i := 0; i < n; i++ {
		s = inc(s)
	}
	return s
}`, `r := calls(100_000)`)
}

// BenchmarkMethodCallYaegi is BenchmarkMethodCallCell on a bare yaegi
// interpreter, without the engine's rewriting: what the interpreter itself costs.
func BenchmarkMethodCallYaegi(b *testing.B) {
	yi := yaegi.New(yaegi.Options{})
	if err := yi.Use(symbols.All()); err != nil {
		b.Fatal(err)
	}
	if _, err := yi.Eval(`
type acc struct{ s float64 }
func (a *acc) add(x float64) { a.s += x }
func calls(n int) float64 {
	var a acc
	for i := 0; i < n; i++ {
		a.add(1)
	}
	return a.s
}`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := yi.Eval(`calls(100_000)`); err != nil {
			b.Fatal(err)
		}
	}
	perIter(b, callN, cpu0)
}

type speedAcc struct{ s float64 }

//go:noinline
func (a *speedAcc) add(x float64) { a.s += x }

func BenchmarkMethodCallCompiled(b *testing.B) {
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		var a speedAcc
		for j := 0; j < callN; j++ {
			a.add(1)
		}
		speedSink = a.s
	}
	perIter(b, callN, cpu0)
}
