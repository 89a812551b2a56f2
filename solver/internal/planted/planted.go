// Package planted draws the synthetic programs of the solver's benchmarks and of
// solver/testdata/ipmcompare (which gives the same programs to cvxopt), so that
// both draw them identically: n points with d − 1 standard Gaussian features and
// a bias column, and the outputs of a planted ReLU network of five neurons,
//
//	f(x) = Σⱼ αⱼ max(0, uⱼᵀx),  uⱼ ~ N(0, I/d),  αⱼ ~ N(0, 1).
package planted

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// neurons is the width of the planted network.
const neurons = 5

// Draw returns the points X (n×d, the last column 1) and the planted network's
// outputs f on them, drawn from rng in a fixed order: X row by row, then each
// neuron's uⱼ followed by its αⱼ.
func Draw(rng *rand.Rand, n, d int) (*mat.Dense, []float64) {
	X := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < d-1; j++ {
			X.Set(i, j, rng.NormFloat64())
		}
		X.Set(i, d-1, 1)
	}
	U := make([][]float64, neurons)
	alpha := make([]float64, neurons)
	for j := range U {
		U[j] = make([]float64, d)
		for c := range U[j] {
			U[j][c] = rng.NormFloat64() / math.Sqrt(float64(d))
		}
		alpha[j] = rng.NormFloat64()
	}
	f := make([]float64, n)
	for k := range f {
		x := X.RawRowView(k)
		for j, u := range U {
			var z float64
			for c, v := range u {
				z += v * x[c]
			}
			f[k] += alpha[j] * max(z, 0)
		}
	}
	return X, f
}

// Targets returns the targets of f for regression (f plus N(0, 0.1²) noise) or for
// classification (±1: the sign of f plus N(0, 0.3²) noise about its median, so
// that the classes are balanced).
func Targets(rng *rand.Rand, f []float64, classify bool) []float64 {
	y := make([]float64, len(f))
	if !classify {
		for k := range y {
			y[k] = f[k] + 0.1*rng.NormFloat64()
		}
		return y
	}
	noisy := make([]float64, len(f))
	for k := range noisy {
		noisy[k] = f[k] + 0.3*rng.NormFloat64()
	}
	sorted := slices.Clone(noisy)
	slices.Sort(sorted)
	med := sorted[len(f)/2]
	for k := range y {
		y[k] = -1
		if noisy[k] >= med {
			y[k] = 1
		}
	}
	return y
}
