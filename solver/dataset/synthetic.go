package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// The synthetic generators return n points in the plane (d = 2) with labels ±1, drawn
// with the given seed (the same seed gives the same bits). Point k belongs to class
// +1 for even k and −1 for odd k (blob k mod centers for Blobs), so the class sizes
// are fixed by n alone. noise is the standard deviation of Gaussian noise added to
// each coordinate.

func checkSynthetic(name string, n, minN int, noise float64) error {
	if n < minN {
		return fmt.Errorf("dataset: %s needs n ≥ %d, got %d", name, minN, n)
	}
	if math.IsNaN(noise) || math.IsInf(noise, 0) || noise < 0 {
		return fmt.Errorf("dataset: %s noise must be finite and ≥ 0, got %v", name, noise)
	}
	return nil
}

// generate fills an n×2 set point by point.
func generate(n int, seed uint64, point func(k int, r *rand.Rand) (x, y, label float64)) *Set {
	r := newRand(seed)
	X := mat.NewDense(n, 2, nil)
	Y := make([]float64, n)
	for k := range Y {
		x, y, label := point(k, r)
		X.Set(k, 0, x)
		X.Set(k, 1, y)
		Y[k] = label
	}
	return &Set{X: X, Y: Y}
}

func classOf(k int) float64 {
	if k%2 == 0 {
		return 1
	}
	return -1
}

// Spirals returns two interleaved spirals of 1.5 turns each, radius growing from 0 to
// 1: a point at t ~ U(0, 1) on spiral c sits at radius t and angle 3πt + cπ.
func Spirals(n int, noise float64, seed uint64) (*Set, error) {
	if err := checkSynthetic("Spirals", n, 2, noise); err != nil {
		return nil, err
	}
	return generate(n, seed, func(k int, r *rand.Rand) (float64, float64, float64) {
		label := classOf(k)
		t := r.Float64()
		theta := 3*math.Pi*t + math.Pi*float64(k%2)
		return t*math.Cos(theta) + noise*r.NormFloat64(), t*math.Sin(theta) + noise*r.NormFloat64(), label
	}), nil
}

// XOR returns points uniform on the square [−1, 1]² labelled by the sign of x₁x₂
// (+1 in the first and third quadrants), noise added after labelling. Each point is
// drawn in a quadrant of its class, so the labels alternate as documented above.
func XOR(n int, noise float64, seed uint64) (*Set, error) {
	if err := checkSynthetic("XOR", n, 2, noise); err != nil {
		return nil, err
	}
	return generate(n, seed, func(k int, r *rand.Rand) (float64, float64, float64) {
		label := classOf(k)
		x, y := r.Float64(), r.Float64()
		if r.IntN(2) == 1 { // the other quadrant of the same class
			x, y = -x, -y
		}
		if label < 0 {
			y = -y
		}
		return x + noise*r.NormFloat64(), y + noise*r.NormFloat64(), label
	}), nil
}

// Circles returns two concentric circles: class −1 on the unit circle, class +1 on the
// circle of radius factor ∈ (0, 1), angles uniform.
func Circles(n int, noise, factor float64, seed uint64) (*Set, error) {
	if err := checkSynthetic("Circles", n, 2, noise); err != nil {
		return nil, err
	}
	if !(factor > 0 && factor < 1) {
		return nil, fmt.Errorf("dataset: Circles factor must lie in (0, 1), got %v", factor)
	}
	return generate(n, seed, func(k int, r *rand.Rand) (float64, float64, float64) {
		label := classOf(k)
		radius := 1.0
		if label > 0 {
			radius = factor
		}
		theta := 2 * math.Pi * r.Float64()
		return radius*math.Cos(theta) + noise*r.NormFloat64(), radius*math.Sin(theta) + noise*r.NormFloat64(), label
	}), nil
}

// Blobs returns centers isotropic Gaussian blobs of standard deviation std whose
// centres are evenly spaced on the unit circle (centre i at angle 2πi/centers),
// labelled alternately +1 and −1 (blob i has label +1 for even i); point k belongs to
// blob k mod centers. Two blobs are a linearly separable problem, four an XOR-like
// ring, more a harder one.
func Blobs(n, centers int, std float64, seed uint64) (*Set, error) {
	if err := checkSynthetic("Blobs", n, centers, std); err != nil {
		return nil, err
	}
	if centers < 2 {
		return nil, fmt.Errorf("dataset: Blobs needs at least 2 centers, got %d", centers)
	}
	return generate(n, seed, func(k int, r *rand.Rand) (float64, float64, float64) {
		i := k % centers
		label := classOf(i)
		theta := 2 * math.Pi * float64(i) / float64(centers)
		return math.Cos(theta) + std*r.NormFloat64(), math.Sin(theta) + std*r.NormFloat64(), label
	}), nil
}
