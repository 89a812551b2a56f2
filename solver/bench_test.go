package solver

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// benchProblem returns a regression problem like bench/solver's: n points with d − 1
// Gaussian features and a bias column, targets from a planted 5-neuron network plus
// noise, β = 0.02n, and P sampled patterns.
func benchProblem(n, d, p int, seed uint64) (*Problem, *Arrangement) {
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
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
	for k := range y {
		y[k] = f[k] + 0.1*rng.NormFloat64()
	}
	arr, err := SampleArrangement(X, p, seed)
	if err != nil {
		panic(err)
	}
	return &Problem{X: X, Y: y, Loss: Squared, Beta: 0.02 * float64(n)}, arr
}

// BenchmarkADMM times a whole solve to a 1e-6 certified gap (factorization included).
func BenchmarkADMM(b *testing.B) {
	for _, n := range []int{250, 1000, 2000} {
		d, p := 20, 50
		b.Run(fmt.Sprintf("n=%d/d=%d/P=%d", n, d, p), func(b *testing.B) {
			prob, arr := benchProblem(n, d, p, 1)
			s := &Settings{Arrangement: arr}
			for b.Loop() {
				if _, err := Solve(context.Background(), prob, s, &ADMM{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
