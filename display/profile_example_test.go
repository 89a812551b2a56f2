package display_test

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/gocvx/gocvx/display"
	"github.com/gocvx/gocvx/solver"
)

func ExampleProfilePlot() {
	inf := math.Inf(1) // not solved
	admm := display.ProfileRun{Method: "ADMM", Tolerance: 1e-4, Seconds: []float64{0.02, 0.4, inf, 3}}
	cvxopt := display.ProfileRun{Method: "cvxopt", Tolerance: 1e-4, Seconds: []float64{1.5, 9, 30, inf}}
	fmt.Println(display.ProfilePlot([]display.ProfileRun{admm, cvxopt}))
	fmt.Println("ADMM within 1 s:", admm.Fraction(1), "cvxopt:", cvxopt.Fraction(1))
	// Output:
	// <figure 624×384: Performance profile over 4 problems: relative gap 10⁻⁴>
	// ADMM within 1 s: 0.5 cvxopt: 0
}

func ExamplePathPlot() {
	// Two β of a path (as solver.Path returns them) on a one-point problem.
	X := mat.NewDense(1, 2, []float64{1, 1})
	net := func(a float64) *solver.Network {
		return &solver.Network{U: mat.NewDense(1, 2, []float64{1, 0}), Alpha: []float64{a}}
	}
	results := []*solver.Result{
		{Status: solver.Optimal, Objective: 0.4, ActiveNeurons: 1, Network: net(0.8)},
		{Status: solver.TimeLimit, Objective: 0.1, ActiveNeurons: 1, Network: net(0.9)},
	}
	fmt.Println(display.PathPlot([]float64{0.1, 0.01}, results, X, []float64{1}))
	// Output:
	// <figure 624×634: Regularization path: best test accuracy 100.0 % at β = 0.1 (1 of 2 solves not certified optimal: ×)>
}
