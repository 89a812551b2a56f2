package solver

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// ipmBenchProblem returns a program of the interior-point benchmark (drawn the same
// way by solver/testdata/ipmcompare, which gives it to cvxopt): n points with
// d − 1 Gaussian features and a bias column, targets from a planted 5-neuron ReLU
// network (plus N(0, 0.1²) noise for the squared loss; for the classification losses
// the sign of the network plus N(0, 0.3²) noise, about its median), and P patterns
// sampled from Gaussian directions (with their generators). The seed fixes all.
func ipmBenchProblem(loss Loss, n, d, p int, beta float64, seed uint64) (*Problem, *Arrangement) {
	rng := rand.New(rand.NewPCG(seed, uint64(n*d*p)))
	X := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < d-1; j++ {
			X.Set(i, j, rng.NormFloat64())
		}
		X.Set(i, d-1, 1)
	}
	U := mat.NewDense(5, d, nil)
	alpha := make([]float64, 5)
	for j := 0; j < 5; j++ {
		for c := 0; c < d; c++ {
			U.Set(j, c, rng.NormFloat64()/math.Sqrt(float64(d)))
		}
		alpha[j] = rng.NormFloat64()
	}
	f, _ := (&Network{U: U, Alpha: alpha}).Predict(X)
	y := make([]float64, n)
	if loss == Squared {
		for k := range y {
			y[k] = f[k] + 0.1*rng.NormFloat64()
		}
	} else {
		noisy := make([]float64, n)
		for k := range noisy {
			noisy[k] = f[k] + 0.3*rng.NormFloat64()
		}
		sorted := append([]float64(nil), noisy...)
		slices.Sort(sorted)
		med := sorted[n/2]
		for k := range y {
			y[k] = -1
			if noisy[k] >= med {
				y[k] = 1
			}
		}
	}
	arr, err := SampleArrangement(X, p, seed)
	if err != nil {
		panic(err)
	}
	return &Problem{X: X, Y: y, Loss: loss, Beta: beta}, arr
}

// BenchmarkInteriorPoint times whole interior-point solves to a certified relative
// gap of 1e-6 (setup included) on the programs of ipmBenchProblem, for every loss and
// β ∈ {1e-4, 1e-3, 1e-2, 1e-1, 1}, at 640 and 2000 weights (2dP), and reports the
// iterations and the gap. solver/testdata/ipmcompare times cvxopt on the same
// programs.
func BenchmarkInteriorPoint(b *testing.B) {
	for _, size := range [][3]int{{200, 10, 32}, {1000, 10, 100}} {
		n, d, p := size[0], size[1], size[2]
		for _, loss := range []Loss{Squared, Hinge, Logistic} {
			for _, beta := range []float64{1e-4, 1e-3, 1e-2, 1e-1, 1} {
				b.Run(fmt.Sprintf("%v/n=%d/d=%d/P=%d/beta=%g", loss, n, d, p, beta), func(b *testing.B) {
					prob, arr := ipmBenchProblem(loss, n, d, p, beta, 1)
					s := &Settings{Arrangement: arr, Tolerance: 1e-6}
					var res *Result
					for b.Loop() {
						var err error
						if res, err = Solve(context.Background(), prob, s, &InteriorPoint{}); err != nil {
							b.Fatal(err)
						}
					}
					if res.Status != Optimal {
						b.Fatalf("status %v: %s", res.Status, res.Message)
					}
					b.ReportMetric(float64(res.Iterations), "iterations")
					b.ReportMetric(res.Gap*1e6, "gap/1e-6")
				})
			}
		}
	}
}
