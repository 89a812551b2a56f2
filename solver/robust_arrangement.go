package solver

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
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
	_, d := X.Dims()
	dS := d
	if bias {
		if err := checkBias(X); err != nil {
			return nil, err
		}
		dS = d - 1
	}
	rs := newRobustSampler(X, dS, bias, seed, samples)
	if bias {
		g := make([]float64, d)
		g[d-1] = 1
		rs.add(func(int) bool { return true }, g)
	}
	// The gap test keeps a relative margin so that rounding cannot make a kept
	// pattern's generator violate the robust constraint.
	width := 2 * epsilon * (1 + 1e-9)
	for range samples {
		l1 := rs.draw()
		if l1 == 0 {
			continue
		}
		if !bias {
			ok := true
			for _, v := range rs.t {
				if math.Abs(v) < width/2 {
					ok = false
					break
				}
			}
			if ok {
				rs.add(func(k int) bool { return rs.t[k] >= 0 }, rs.h)
			}
			continue
		}
		rs.splitAtGap(width, l1)
	}
	arr := rs.arr
	if p := arr.Len(); p > 0 {
		arr.Generators = mat.NewDense(p, d, rs.gens)
	}
	return arr, nil
}

// robustSampler is the state of SampleRobustArrangement.
type robustSampler struct {
	X          *mat.Dense
	n, d, dS   int
	r          *rand.Rand
	arr        *Arrangement
	seen       map[string]struct{}
	gens       []float64
	buf        []uint64
	h, t       []float64 // the direction drawn, and the points' projections tₖ = xₖ,Sᵀh_S/‖h_S‖₁
	order, gap []int
	perm       []int
}

func newRobustSampler(X *mat.Dense, dS int, bias bool, seed uint64, samples int) *robustSampler {
	n, d := X.Dims()
	words := (n + 63) / 64
	rs := &robustSampler{X: X, n: n, d: d, dS: dS, r: newRand(seed, streamRobust),
		arr: &Arrangement{n: n, words: words, Drawn: samples}, seen: make(map[string]struct{}),
		buf: make([]uint64, words), h: make([]float64, d), t: make([]float64, n), order: make([]int, n), perm: make([]int, dS)}
	for c := range rs.perm {
		rs.perm[c] = c
	}
	return rs
}

// add keeps the pattern of the active points with generator g, unless it has no
// active point (the block predicts nothing) or was kept before.
func (rs *robustSampler) add(active func(k int) bool, g []float64) {
	clear(rs.buf)
	any := false
	for k := 0; k < rs.n; k++ {
		if active(k) {
			rs.buf[k>>6] |= 1 << (uint(k) & 63)
			any = true
		}
	}
	if !any {
		return
	}
	key := bitsKey(rs.buf)
	if _, dup := rs.seen[key]; dup {
		return
	}
	rs.seen[key] = struct{}{}
	rs.arr.bits = append(rs.arr.bits, rs.buf...)
	rs.gens = append(rs.gens, g...)
}

// draw sets h to a sparse direction, s ≤ robustMaxSupport Gaussian entries on random
// coordinates of S (and a Gaussian bias weight, unused with a bias column), and t to
// the points' projections, and returns ‖h_S‖₁ (0: no direction).
func (rs *robustSampler) draw() float64 {
	h, dS, d := rs.h, rs.dS, rs.d
	clear(h)
	sp := 1 + rs.r.IntN(min(dS, robustMaxSupport))
	for i := 0; i < sp; i++ {
		j := i + rs.r.IntN(dS-i)
		rs.perm[i], rs.perm[j] = rs.perm[j], rs.perm[i]
		h[rs.perm[i]] = rs.r.NormFloat64()
	}
	for c := dS; c < d; c++ {
		h[c] = rs.r.NormFloat64()
	}
	l1 := 0.0
	for c := 0; c < dS; c++ {
		l1 += math.Abs(h[c])
	}
	if l1 == 0 {
		return 0
	}
	for k := 0; k < rs.n; k++ {
		row := rs.X.RawRowView(k)
		s := 0.0
		for c := 0; c < dS; c++ {
			s += row[c] * h[c]
		}
		rs.t[k] = s / l1
	}
	return l1
}

// splitAtGap (with a bias column) keeps the pattern of a threshold τ in the middle of
// a random gap of at least width between consecutive projections: the generator
// (h_S, −τ‖h_S‖₁) has margin width/2 at every point.
func (rs *robustSampler) splitAtGap(width, l1 float64) {
	t, order := rs.t, rs.order
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
	rs.gap = rs.gap[:0]
	for m := 0; m+1 < rs.n; m++ {
		if t[order[m+1]]-t[order[m]] >= width {
			rs.gap = append(rs.gap, m)
		}
	}
	if len(rs.gap) == 0 {
		return
	}
	m := rs.gap[rs.r.IntN(len(rs.gap))]
	tau := (t[order[m]] + t[order[m+1]]) / 2
	g := make([]float64, rs.d)
	copy(g, rs.h[:rs.dS])
	g[rs.d-1] = -tau * l1
	rs.add(func(k int) bool { return t[k] > tau }, g)
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
