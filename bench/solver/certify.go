package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/gocvx/gocvx/solver"
)

// certifyLag reports, for each size and each tolerance of -certify-tols, how many
// iterations ADMM (`&solver.ADMM{}`, 2 threads) needs to certify that relative gap
// on the benchmark instance, against the iteration from which its iterates stay
// within the gap of the optimum (ADMM's own reference solve to a certified 1e-10, at
// most 20 000 iterations): the certificate's lag behind the iterates, in iterations,
// which do not depend on the machine's load.
func certifyLag(sizes []int) error {
	var tols []float64
	for _, f := range strings.Split(*certifyTols, ",") {
		t, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(t > 0) {
			return fmt.Errorf("bad -certify-tols %q: want positive numbers", f)
		}
		tols = append(tols, t)
	}
	beta := "0.02·n"
	if *betaFlag > 0 {
		beta = fmt.Sprintf("%g", *betaFlag)
	}
	fmt.Printf("## The certificate's lag (squared loss, d = %d, P = %d, β = %s)\n\n", *dFlag, *pFlag, beta)
	fmt.Printf("Iterations of `&solver.ADMM{}` until its certificate reaches the tolerance, and the first iteration from which its iterates stay within it of the optimum (the reference: ADMM to a certified 1e-10, at most 20 000 iterations). %s.\n\n", loadAverage())
	fmt.Printf("| n | tolerance | status | certified at iteration | iterates within from iteration | lag | wall |\n|---|---|---|---|---|---|---|\n")
	for _, n := range sizes {
		prob, arr := instance(n, *dFlag, *pFlag, *seedFlag)
		ref, err := solver.Solve(context.Background(), prob, &solver.Settings{Arrangement: arr, Tolerance: 1e-10, MaxIterations: 20000}, &solver.ADMM{})
		if err != nil {
			return err
		}
		opt := ref.Certificate.Primal
		for _, tol := range tols {
			res, err := solver.Solve(context.Background(), prob, &solver.Settings{Arrangement: arr, Tolerance: tol, MaxIterations: 20000}, &solver.ADMM{})
			if err != nil {
				return err
			}
			within := itersTo(res, tol, opt)
			lag := "—"
			if within > 0 && res.Status == solver.Optimal {
				lag = fmt.Sprintf("%.2f×", float64(res.Iterations)/float64(within))
			}
			fmt.Printf("| %d | %g | %v | %d | %s | %s | %.2f s |\n", n, tol, res.Status, res.Iterations, itersString(within), lag, res.Runtime.Seconds())
		}
	}
	fmt.Println()
	return nil
}
