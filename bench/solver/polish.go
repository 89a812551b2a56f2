package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime"

	"gonum.org/v1/gonum/mat"

	"github.com/gocvx/gocvx/solver"
	"github.com/gocvx/gocvx/solver/dataset"
)

// polishCase is one program of the polishing comparison.
type polishCase struct {
	name string
	prob *solver.Problem
	arr  *solver.Arrangement
}

// polishCases returns the benchmark's instances at the given sizes (squared loss,
// β = 0.02·n and 1), the profile's breast cancer and digits 3 vs 8 data sets
// (bench/profile: standardized, respectively pixels / 16, with a bias column, P = 64
// from seed 1) with the squared and logistic losses at β = 1 and 0.02·n, and MNIST
// 2 vs 8 at 10×10 with the squared loss at β = 1.
func polishCases(sizes []int) ([]polishCase, error) {
	var out []polishCase
	for _, n := range sizes {
		for _, beta := range []float64{0.02 * float64(n), 1} {
			prob, arr := instanceAt(n, *dFlag, *pFlag, beta)
			out = append(out, polishCase{fmt.Sprintf("bench n=%d/squared/β=%g", n, beta), prob, arr})
		}
	}
	breast, err := dataset.BreastCancer()
	if err != nil {
		return nil, err
	}
	sc, err := dataset.FitScaler(breast.X)
	if err != nil {
		return nil, err
	}
	bx, err := sc.Transform(breast.X)
	if err != nil {
		return nil, err
	}
	digits, err := dataset.Digits()
	if err != nil {
		return nil, err
	}
	pair, err := digits.Pair(3, 8)
	if err != nil {
		return nil, err
	}
	pair.X.Scale(1.0/16, pair.X)
	mnist, err := dataset.MNISTPair(2, 8, 10)
	if err != nil {
		return nil, err
	}
	for _, set := range []struct {
		name   string
		X      *mat.Dense
		y      []float64
		losses []solver.Loss
		betas  []float64 // multiples of n when negative
	}{
		{"breast", bx, breast.Y, []solver.Loss{solver.Squared, solver.Logistic}, []float64{1, -0.02}},
		{"digits-3v8", pair.X, pair.Y, []solver.Loss{solver.Squared, solver.Logistic}, []float64{1, -0.02}},
		{"mnist10-2v8", mnist.X, mnist.Y, []solver.Loss{solver.Squared}, []float64{1}},
	} {
		X := dataset.AddBias(set.X)
		arr, err := solver.SampleArrangement(X, 64, 1)
		if err != nil {
			return nil, err
		}
		n := len(set.y)
		for _, loss := range set.losses {
			for _, beta := range set.betas {
				if beta < 0 {
					beta *= -float64(n)
				}
				prob := &solver.Problem{X: X, Y: set.y, Loss: loss, Beta: beta}
				out = append(out, polishCase{fmt.Sprintf("%s/%v/β=%.4g", set.name, loss, beta), prob, arr})
			}
		}
	}
	return out, nil
}

// polishComparison times ADMM to a certified 1e-6 with and without polishing, on one
// thread (GOMAXPROCS 1, Settings.Threads 1), each solve at most polishLimit and run
// polishRepeats times, the least wall and CPU time kept (the machine is shared).
func polishComparison(sizes []int) error {
	cases, err := polishCases(sizes)
	if err != nil {
		return err
	}
	fmt.Printf("## Polishing: ADMM with and without (certified 1e-6, one thread, at most %v)\n\n", *polishLimit)
	fmt.Printf("`&solver.ADMM{}` against `&solver.ADMM{NoPolish: true}` on the same program: iterations and seconds to a certified relative gap of 1e-6 (the status and gap when not reached), wall / CPU, the least of %d runs. %s.\n\n", polishRepeats, loadAverage())
	fmt.Printf("| program | 2Pd | polished: iterations | wall / CPU | not polished: iterations | wall / CPU | CPU ratio |\n|---|---|---|---|---|---|---|\n")
	procs := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(procs)
	for _, c := range cases {
		var res [2]*solver.Result
		var wall, cpu [2]float64
		for i, m := range []*solver.ADMM{{}, {NoPolish: true}} {
			wall[i], cpu[i] = math.Inf(1), math.Inf(1)
			for range polishRepeats {
				runtime.GC()
				cpu0 := cpuSeconds()
				r, err := solver.Solve(context.Background(), c.prob, &solver.Settings{Arrangement: c.arr, Tolerance: 1e-6, TimeLimit: *polishLimit, Threads: 1}, m)
				if err != nil {
					return fmt.Errorf("%s: %v", c.name, err)
				}
				res[i] = r
				wall[i], cpu[i] = math.Min(wall[i], r.Runtime.Seconds()), math.Min(cpu[i], cpuSeconds()-cpu0)
			}
		}
		_, d := c.prob.X.Dims()
		cell := func(i int) string {
			s := fmt.Sprintf("%.2f / %.2f s", wall[i], cpu[i])
			if res[i].Status != solver.Optimal {
				s += fmt.Sprintf(" (%v, gap %.1e)", res[i].Status, res[i].Gap)
			}
			return s
		}
		fmt.Printf("| %s | %d | %d | %s | %d | %s | %.2f |\n", c.name, 2*c.arr.Len()*d, res[0].Iterations, cell(0), res[1].Iterations, cell(1), cpu[0]/cpu[1])
		fmt.Fprintf(os.Stderr, "polish %s: %d it %.2f s CPU against %d it %.2f s CPU\n", c.name, res[0].Iterations, cpu[0], res[1].Iterations, cpu[1])
	}
	fmt.Println()
	return nil
}

// polishRepeats is the number of runs of each solve of polishComparison.
const polishRepeats = 2
