package solver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gocvx/gocvx/solver/internal/planted"
)

// benchProblem returns a regression problem like bench/solver's: n points with d − 1
// Gaussian features and a bias column, targets from a planted 5-neuron network plus
// noise, β = 0.02n, and P sampled patterns.
func benchProblem(n, d, p int, seed uint64) (*Problem, *Arrangement) {
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	X, f := planted.Draw(rng, n, d)
	y := planted.Targets(rng, f, false)
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
