package solver_test

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/gocvx/gocvx/solver"
)

// xorData returns the four XOR points (with a bias column), each repeated at a few
// radii, labelled ±1.
func xorData() (*mat.Dense, []float64) {
	var rows []float64
	var y []float64
	for _, r := range []float64{1, 1.5, 2} {
		for _, p := range [][2]float64{{1, 1}, {-1, -1}, {1, -1}, {-1, 1}} {
			rows = append(rows, r*p[0], r*p[1], 1)
			if p[0]*p[1] > 0 {
				y = append(y, 1)
			} else {
				y = append(y, -1)
			}
		}
	}
	return mat.NewDense(len(y), 3, rows), y
}

// Train a ReLU network on XOR to global optimality over every activation pattern of
// the data, and use the recovered network.
func ExampleSolve() {
	X, y := xorData()
	prob := &solver.Problem{X: X, Y: y, Loss: solver.Squared, Beta: 0.1}
	res, err := solver.Solve(context.Background(), prob, &solver.Settings{Exact: true, Tolerance: 1e-8}, &solver.ADMM{})
	if err != nil {
		fmt.Println(err)
		return
	}
	acc, _ := res.Network.Accuracy(X, y)
	obj, _ := res.Network.Objective(X, y, prob.Loss, prob.Beta)
	fmt.Println("status:", res.Status)
	fmt.Println("patterns:", res.Patterns)
	fmt.Printf("objective: %.4f (network %.4f)\n", res.Objective, obj)
	fmt.Printf("certified gap below 1e-6: %v\n", res.Certificate.Gap <= 1e-6)
	fmt.Println("training accuracy:", acc)
	// Output:
	// status: optimal
	// patterns: 94
	// objective: 0.5559 (network 0.5559)
	// certified gap below 1e-6: true
	// training accuracy: 1
}

// The number of activation patterns grows polynomially in n for fixed rank: exact
// enumeration on 2-D data with a bias (rank 3) meets Cover's count, below the bound of
// Pilanci and Ergen.
func ExampleEnumerateArrangement() {
	n := 50
	X := mat.NewDense(n, 3, nil)
	for k := 0; k < n; k++ {
		t := float64(k)
		X.SetRow(k, []float64{math.Cos(1.7 * t), math.Sin(2.3*t + 0.5), 1})
	}
	arr, err := solver.EnumerateArrangement(X)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("patterns:", arr.Len())
	fmt.Println("general position count:", solver.GeneralPositionCount(n, 3))
	fmt.Printf("bound 2r(e(n−1)/r)^r: %.0f\n", solver.ArrangementBound(n, 3))
	// Output:
	// patterns: 2452
	// general position count: 2452
	// bound 2r(e(n−1)/r)^r: 525121
}

// Sampling finds the patterns as it goes: the count of distinct patterns against the
// number of Gaussian directions drawn.
func ExamplePatternCurve() {
	X, _ := xorData()
	counts, err := solver.PatternCurve(X, 1000, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(counts[0], counts[9], counts[99], counts[999])
	// Output:
	// 1 7 38 86
}

// SCP trains only the output layer over sampled first-layer directions; its network's
// weight-decay objective equals the program's.
func ExampleSCP() {
	X, y := xorData()
	prob := &solver.Problem{X: X, Y: y, Loss: solver.Logistic, Beta: 0.01}
	res, err := solver.Solve(context.Background(), prob, &solver.Settings{Seed: 3, Tolerance: 1e-8}, &solver.SCP{Samples: 200})
	if err != nil {
		fmt.Println(err)
		return
	}
	acc, _ := res.Network.Accuracy(X, y)
	fmt.Println("status:", res.Status)
	fmt.Println("accuracy:", acc)
	fmt.Printf("objective = SCP objective: %v\n", math.Abs(res.Objective-res.Certificate.Primal) < 1e-9)
	// Output:
	// status: optimal
	// accuracy: 1
	// objective = SCP objective: true
}

// After a solve with few sampled patterns, fresh patterns that would improve the
// objective are frequent; with every pattern there are none.
func ExampleCheckViolations() {
	X, y := xorData()
	prob := &solver.Problem{X: X, Y: y, Loss: solver.Squared, Beta: 0.1}
	for _, s := range []*solver.Settings{{Patterns: 4, Seed: 1}, {Exact: true}} {
		res, err := solver.Solve(context.Background(), prob, s, &solver.ADMM{})
		if err != nil {
			fmt.Println(err)
			return
		}
		v, err := solver.CheckViolations(prob, res, 1000, 7)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%d patterns: violation rate %.2f\n", res.Patterns, v.Rate)
	}
	// Output:
	// 3 patterns: violation rate 0.32
	// 94 patterns: violation rate 0.00
}
