package solver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Random streams: every random choice of the package draws from a PCG generator seeded
// with (Settings.Seed, stream), so that sampling arrangements, SCP directions and fresh
// patterns for the violation check are independent and each reproducible on its own.
const (
	streamArrangement = 0x6172726e // "arrn"
	streamSCP         = 0x73637020 // "scp "
	streamViolation   = 0x76696f6c // "viol"
)

func newRand(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

// An Arrangement is a set of distinct activation patterns dᵢ = 1[X hᵢ ≥ 0] ∈ {0,1}ⁿ of
// the rows of a data matrix X, each with a direction hᵢ that generates it.
//
// Patterns are stored as bitsets (n bits each), never as n×n diagonal matrices:
// DᵢX is "the rows of X where dᵢ is 1".
type Arrangement struct {
	n, words int
	bits     []uint64 // pattern i is bits[i*words : (i+1)*words]; bit k is point k
	// Generators is P×d: row i is a direction hᵢ with 1[X hᵢ ≥ 0] = dᵢ. It may be nil
	// for patterns supplied by NewArrangement without generators.
	Generators *mat.Dense
	// Drawn is the number of Gaussian directions drawn to find the patterns (0 for an
	// exact enumeration or patterns supplied by NewArrangement).
	Drawn int
	// Exact is true when the arrangement holds every pattern of the data.
	Exact bool
}

// Len returns the number of patterns P.
func (a *Arrangement) Len() int {
	if a == nil || a.words == 0 {
		return 0
	}
	return len(a.bits) / a.words
}

// Points returns the number of data points n the patterns are defined on.
func (a *Arrangement) Points() int { return a.n }

// Active reports whether point k is active (xₖᵀhᵢ ≥ 0) in pattern i.
func (a *Arrangement) Active(i, k int) bool {
	if k < 0 || k >= a.n {
		panic("solver: point index out of range")
	}
	return a.bits[i*a.words+k>>6]>>(uint(k)&63)&1 == 1
}

// Pattern returns pattern i as a slice of n booleans.
func (a *Arrangement) Pattern(i int) []bool {
	p := make([]bool, a.n)
	for k := range p {
		p[k] = a.Active(i, k)
	}
	return p
}

// ActiveCount returns the number of active points of pattern i.
func (a *Arrangement) ActiveCount(i int) int {
	c := 0
	for _, w := range a.row(i) {
		c += bits.OnesCount64(w)
	}
	return c
}

func (a *Arrangement) row(i int) []uint64 { return a.bits[i*a.words : (i+1)*a.words] }

// NewArrangement builds an arrangement from explicit patterns (each of length n) and
// optional generators (P×d, nil if unknown). Duplicate patterns are an error, so that
// every block of the convex program is distinct.
func NewArrangement(patterns [][]bool, generators *mat.Dense) (*Arrangement, error) {
	if len(patterns) == 0 {
		return nil, errors.New("solver: no patterns")
	}
	n := len(patterns[0])
	if n == 0 {
		return nil, errors.New("solver: empty pattern")
	}
	if generators != nil {
		if r, _ := generators.Dims(); r != len(patterns) {
			return nil, fmt.Errorf("solver: %d patterns but %d generators", len(patterns), r)
		}
	}
	a := &Arrangement{n: n, words: (n + 63) / 64}
	seen := make(map[string]int)
	buf := make([]uint64, a.words)
	for i, p := range patterns {
		if len(p) != n {
			return nil, fmt.Errorf("solver: pattern %d has %d points, pattern 0 has %d", i, len(p), n)
		}
		clear(buf)
		for k, on := range p {
			if on {
				buf[k>>6] |= 1 << (uint(k) & 63)
			}
		}
		key := bitsKey(buf)
		if j, dup := seen[key]; dup {
			return nil, fmt.Errorf("solver: patterns %d and %d are equal", j, i)
		}
		seen[key] = i
		a.bits = append(a.bits, buf...)
	}
	if generators != nil {
		a.Generators = mat.DenseCopyOf(generators)
	}
	return a, nil
}

func bitsKey(w []uint64) string {
	b := make([]byte, 8*len(w))
	for i, x := range w {
		binary.LittleEndian.PutUint64(b[8*i:], x)
	}
	return string(b)
}

// patternSampler draws Gaussian directions h ~ N(0, I_d) in a fixed order and keeps the
// distinct patterns 1[Xh ≥ 0] they generate.
type patternSampler struct {
	x     *mat.Dense
	n, d  int
	rng   *rand.Rand
	arr   *Arrangement
	seen  map[string]struct{}
	gens  []float64 // P×d, row-major
	batch []float64 // directions of the current batch, b×d
	prod  []float64 // X Hᵀ for the batch, n×b
	buf   []uint64
	visit func(key string) // if set, called with the pattern key of every draw
	tbuf  []float64
}

// samplerBatch is the number of directions multiplied at once: large enough for a
// matrix-matrix product, small enough that n×batch stays in cache-sized memory.
const samplerBatch = 256

func newPatternSampler(X *mat.Dense, seed, stream uint64) *patternSampler {
	n, d := X.Dims()
	words := (n + 63) / 64
	return &patternSampler{
		x: X, n: n, d: d, rng: newRand(seed, stream),
		arr:  &Arrangement{n: n, words: words},
		seen: make(map[string]struct{}),
		buf:  make([]uint64, words),
	}
}

// draw draws count more directions and calls after(j, distinct) after the j-th
// direction overall (1-based), if after is not nil.
func (s *patternSampler) draw(count int, after func(drawn, distinct int)) {
	for count > 0 {
		b := min(count, samplerBatch)
		count -= b
		s.batch = s.batch[:0]
		for i := 0; i < b*s.d; i++ {
			s.batch = append(s.batch, s.rng.NormFloat64())
		}
		if cap(s.prod) < s.n*b {
			s.prod = make([]float64, s.n*b)
		}
		prod := s.prod[:s.n*b]
		mulXT(general(s.x), prod, s.batch, b, &s.tbuf)
		for j := 0; j < b; j++ {
			clear(s.buf)
			for k := 0; k < s.n; k++ {
				if prod[k*b+j] >= 0 {
					s.buf[k>>6] |= 1 << (uint(k) & 63)
				}
			}
			key := bitsKey(s.buf)
			if s.visit != nil {
				s.visit(key)
			}
			if _, dup := s.seen[key]; !dup {
				s.seen[key] = struct{}{}
				s.arr.bits = append(s.arr.bits, s.buf...)
				s.gens = append(s.gens, s.batch[j*s.d:(j+1)*s.d]...)
			}
			s.arr.Drawn++
			if after != nil {
				after(s.arr.Drawn, len(s.seen))
			}
		}
	}
}

func (s *patternSampler) arrangement() *Arrangement {
	a := s.arr
	if p := a.Len(); p > 0 {
		a.Generators = mat.NewDense(p, s.d, s.gens)
	}
	return a
}

func checkData(X *mat.Dense) error {
	if X == nil || X.IsEmpty() {
		return errors.New("solver: no data")
	}
	r, c := X.Dims()
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			if v := X.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("solver: X[%d,%d] is %v", i, j, v)
			}
		}
	}
	return nil
}

// SampleArrangement draws samples directions hᵢ ~ N(0, I_d) (seeded by seed) and
// returns the distinct patterns 1[X hᵢ ≥ 0] they generate, in order of first
// appearance, each with the first direction that generated it.
func SampleArrangement(X *mat.Dense, samples int, seed uint64) (*Arrangement, error) {
	if err := checkData(X); err != nil {
		return nil, err
	}
	if samples <= 0 {
		return nil, fmt.Errorf("solver: need a positive number of samples, got %d", samples)
	}
	s := newPatternSampler(X, seed, streamArrangement)
	s.draw(samples, nil)
	return s.arrangement(), nil
}

// PatternCurve returns the number of distinct patterns found after each of the first
// samples directions: counts[j] is the count after j+1 directions. With the same seed
// it follows exactly the draws of SampleArrangement, so counts[samples−1] equals
// SampleArrangement(X, samples, seed).Len().
func PatternCurve(X *mat.Dense, samples int, seed uint64) ([]int, error) {
	if err := checkData(X); err != nil {
		return nil, err
	}
	if samples <= 0 {
		return nil, fmt.Errorf("solver: need a positive number of samples, got %d", samples)
	}
	counts := make([]int, samples)
	s := newPatternSampler(X, seed, streamArrangement)
	s.draw(samples, func(j, distinct int) { counts[j-1] = distinct })
	return counts, nil
}

// ArrangementBound returns 2r(e(n−1)/r)^r, the bound of Pilanci and Ergen on the number
// of activation patterns of n points whose data matrix has rank r.
func ArrangementBound(n, r int) float64 {
	if r <= 0 || n <= 0 {
		return 1
	}
	fr := float64(r)
	return 2 * fr * math.Pow(math.E*float64(n-1)/fr, fr)
}

// GeneralPositionCount returns 2 Σ_{i<r} C(n−1, i), the number of regions of a central
// arrangement of n hyperplanes in general position in ℝʳ (Cover 1965): the exact
// pattern count of n points in general position with rank r, and an upper bound for
// any n points of rank r.
func GeneralPositionCount(n, r int) float64 {
	if n <= 0 {
		return 1
	}
	s, c := 0.0, 1.0 // c = C(n−1, i)
	for i := 0; i < r && i <= n-1; i++ {
		s += c
		c = c * float64(n-1-i) / float64(i+1)
	}
	return 2 * s
}

// Rank returns the numerical rank of X: the number of singular values above
// max(n, d)·ε·σ₁ (the LAPACK convention, ε the float64 machine epsilon).
func Rank(X *mat.Dense) (int, error) {
	if err := checkData(X); err != nil {
		return 0, err
	}
	r, _, _, err := reduce(X)
	return r, err
}

// reduce returns the rank r of X, the coordinates X̃ = X Vᵣ (n×r) of its rows in an
// orthonormal basis of its row space, and that basis Vᵣ (d×r).
func reduce(X *mat.Dense) (int, *mat.Dense, *mat.Dense, error) {
	n, d := X.Dims()
	var svd mat.SVD
	if !svd.Factorize(X, mat.SVDThinV) {
		return 0, nil, nil, errors.New("solver: SVD of X failed")
	}
	sv := svd.Values(nil)
	tol := float64(max(n, d)) * 0x1p-52 * sv[0]
	r := 0
	for _, s := range sv {
		if s > tol {
			r++
		}
	}
	if r == 0 {
		return 0, nil, nil, nil
	}
	var v mat.Dense
	svd.VTo(&v)
	vr := mat.DenseCopyOf(v.Slice(0, d, 0, r))
	var xt mat.Dense
	xt.Mul(X, vr)
	return r, &xt, vr, nil
}

// general views a Dense as a blas64.General.
func general(m *mat.Dense) blas64.General { return m.RawMatrix() }
