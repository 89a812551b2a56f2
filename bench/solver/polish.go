package main

import (
	"context"
	"fmt"
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
// thread (GOMAXPROCS 1, Settings.Threads 1), each solve at most polishLimit.
func polishComparison(sizes []int) error {
	cases, err := polishCases(sizes)
	if err != nil {
		return err
	}
	fmt.Printf("## Polishing: ADMM with and without (certified 1e-6, one thread, at most %v)\n\n", *polishLimit)
	fmt.Printf("`&solver.ADMM{}` against `&solver.ADMM{NoPolish: true}` on the same program; wall seconds and iterations to a certified relative gap of 1e-6 (the status and gap when not reached). %s.\n\n", loadAverage())
	fmt.Printf("| program | 2Pd | polished | iterations | not polished | iterations | ratio |\n|---|---|---|---|---|---|---|\n")
	procs := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(procs)
	for _, c := range cases {
		var res [2]*solver.Result
		for i, m := range []*solver.ADMM{{}, {NoPolish: true}} {
			runtime.GC()
			r, err := solver.Solve(context.Background(), c.prob, &solver.Settings{Arrangement: c.arr, Tolerance: 1e-6, TimeLimit: *polishLimit, Threads: 1}, m)
			if err != nil {
				return fmt.Errorf("%s: %v", c.name, err)
			}
			res[i] = r
		}
		_, d := c.prob.X.Dims()
		fmt.Printf("| %s | %d | %s | %d | %s | %d | %.2f |\n", c.name, 2*c.arr.Len()*d, statusTime(res[0]), res[0].Iterations,
			statusTime(res[1]), res[1].Iterations, res[0].Runtime.Seconds()/res[1].Runtime.Seconds())
		fmt.Fprintf(os.Stderr, "polish %s: %.2f s (%d it) against %.2f s (%d it)\n", c.name, res[0].Runtime.Seconds(), res[0].Iterations, res[1].Runtime.Seconds(), res[1].Iterations)
	}
	fmt.Println()
	return nil
}
