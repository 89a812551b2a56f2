package solver

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// streamRobust is the random stream of SampleRobustArrangement (see the stream
// constants in arrangement.go).
const streamRobust = 0x726f6273 // "robs"

// robustMaxSupport bounds the nonzero entries of the sampled directions: the spread
// of xₖᵀh/‖h‖₁ over the points, which must have gaps of 2ε, shrinks like 1/√s for s
// nonzero entries (‖h‖₂/‖h‖₁), so dense directions in d = 100 dimensions (MNIST)
// find no robust pattern at ε = 0.02 while single pixels do.
const robustMaxSupport = 8

// SampleRobustArrangement samples activation patterns that admit robust neurons at
// the l∞ radius ε: patterns whose robust cone {v : (2dₖ − 1)xₖᵀv ≥ ε‖v‖₁,S} (MATH.md
// §7) holds a neuron that depends on the inputs. A Gaussian pattern 1[Xh ≥ 0] almost
// never does once ε > 0: its boundary passes through the data, and any point within
// l∞ distance ε of it violates the robust constraint, so the robust program over
// Gaussian patterns keeps only zero blocks. Convex adversarial training therefore
// samples its patterns here (our construction):
//
// With bias (the last column of X is the bias column of ones, S the other columns),
// each of samples sparse directions h (seeded by seed: a uniform number s of
// nonzero entries, at most robustMaxSupport, on uniformly chosen coordinates of S,
// each N(0, 1)) orders the points by
// tₖ = xₖ,Sᵀh_S/‖h_S‖₁, their signed l∞ distance scale along h, and a gap of width
// at least 2ε between consecutive tₖ, chosen uniformly among all such gaps, gives the
// pattern "tₖ above the gap": the neuron v = (h_S, −τ‖h_S‖₁) with τ the gap's middle
// has (2dₖ − 1)xₖᵀv = ‖h_S‖₁|tₖ − τ| ≥ ε‖v‖₁,S, so the pattern is robust and v is its
// generator. The all-active pattern (a linear neuron, robust at every ε) comes
// first. Without bias the threshold is 0: the pattern 1[Xh ≥ 0] is kept when every
// |xₖᵀh|/‖h‖₁ ≥ ε. Duplicates are dropped; Drawn counts the directions. With ε = 0 it
// is SampleArrangement.
//
// The result may be empty (no pattern found, possible only without bias): then it
// returns an Arrangement with Len() == 0 and no error.
func SampleRobustArrangement(X *mat.Dense, samples int, seed uint64, epsilon float64, bias bool) (*Arrangement, error) {
	if err := checkData(X); err != nil {
		return nil, err
	}
	if samples <= 0 {
		return nil, fmt.Errorf("solver: need a positive number of samples, got %d", samples)
	}
	if math.IsNaN(epsilon) || math.IsInf(epsilon, 0) || epsilon < 0 {
		return nil, fmt.Errorf("solver: robust radius must be finite and ≥ 0, got %v", epsilon)
	}
	if epsilon == 0 {
		return SampleArrangement(X, samples, seed)
	}
	n, d := X.Dims()
	dS := d
	if bias {
		if err := checkBias(X); err != nil {
			return nil, err
		}
		dS = d - 1
	}
	r := newRand(seed, streamRobust)
	words := (n + 63) / 64
	arr := &Arrangement{n: n, words: words, Drawn: samples}
	seen := make(map[string]struct{})
	var gens []float64
	buf := make([]uint64, words)
	add := func(active func(k int) bool, g []float64) {
		clear(buf)
		any := false
		for k := 0; k < n; k++ {
			if active(k) {
				buf[k>>6] |= 1 << (uint(k) & 63)
				any = true
			}
		}
		if !any {
			return // no active point: the block predicts nothing
		}
		key := bitsKey(buf)
		if _, dup := seen[key]; dup {
			return
		}
		seen[key] = struct{}{}
		arr.bits = append(arr.bits, buf...)
		gens = append(gens, g...)
	}
	if bias {
		g := make([]float64, d)
		g[d-1] = 1
		add(func(int) bool { return true }, g)
	}
	h := make([]float64, d)
	t := make([]float64, n)
	order := make([]int, n)
	var gaps []int
	perm := make([]int, dS)
	for c := range perm {
		perm[c] = c
	}
	for range samples {
		// A sparse direction: s ≤ robustMaxSupport Gaussian entries on random
		// coordinates of S (and a Gaussian bias weight, unused with a bias column).
		clear(h)
		sp := 1 + r.IntN(min(dS, robustMaxSupport))
		for i := 0; i < sp; i++ {
			j := i + r.IntN(dS-i)
			perm[i], perm[j] = perm[j], perm[i]
			h[perm[i]] = r.NormFloat64()
		}
		for c := dS; c < d; c++ {
			h[c] = r.NormFloat64()
		}
		l1 := 0.0
		for c := 0; c < dS; c++ {
			l1 += math.Abs(h[c])
		}
		if l1 == 0 {
			continue
		}
		for k := 0; k < n; k++ {
			row := X.RawRowView(k)
			s := 0.0
			for c := 0; c < dS; c++ {
				s += row[c] * h[c]
			}
			t[k] = s / l1
		}
		// The gap test keeps a relative margin so that rounding cannot make a kept
		// pattern's generator violate the robust constraint.
		width := 2 * epsilon * (1 + 1e-9)
		if !bias {
			ok := true
			for _, v := range t {
				if math.Abs(v) < width/2 {
					ok = false
					break
				}
			}
			if ok {
				add(func(k int) bool { return t[k] >= 0 }, h)
			}
			continue
		}
		for k := range order {
			order[k] = k
		}
		slices.SortFunc(order, func(a, b int) int {
			switch {
			case t[a] < t[b]:
				return -1
			case t[a] > t[b]:
				return 1
			}
			return 0
		})
		gaps = gaps[:0]
		for m := 0; m+1 < n; m++ {
			if t[order[m+1]]-t[order[m]] >= width {
				gaps = append(gaps, m)
			}
		}
		if len(gaps) == 0 {
			continue
		}
		m := gaps[r.IntN(len(gaps))]
		tau := (t[order[m]] + t[order[m+1]]) / 2
		g := make([]float64, d)
		copy(g, h[:dS])
		g[d-1] = -tau * l1
		add(func(k int) bool { return t[k] > tau }, g)
	}
	if p := arr.Len(); p > 0 {
		arr.Generators = mat.NewDense(p, d, gens)
	}
	return arr, nil
}

// checkBias returns an error unless the last column of X is all ones.
func checkBias(X *mat.Dense) error {
	n, d := X.Dims()
	if d < 2 {
		return errors.New("solver: a bias column needs at least one feature besides it")
	}
	for k := 0; k < n; k++ {
		if X.At(k, d-1) != 1 {
			return fmt.Errorf("solver: the last column of X is not a bias column of ones (X[%d,%d] = %v)", k, d-1, X.At(k, d-1))
		}
	}
	return nil
}
