package solver

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Violations is the outcome of CheckViolations: how often a fresh random pattern would
// improve a solution of the sampled program (MATH.md §6).
type Violations struct {
	// Samples is the number M of fresh directions drawn.
	Samples int
	// Distinct is the number of distinct patterns among them, and New how many of
	// those are not in the solved program's arrangement.
	Distinct, New int
	// Violating is the number of fresh draws (with repetition) whose pattern
	// violates optimality, and Rate = Violating/Samples, the empirical probability ψ̂
	// that a fresh pattern improves the objective.
	Violating int
	Rate      float64
	// MaxRatio is the largest maxᵥ (−η)ᵀDXv / β over the fresh patterns (violation
	// when above 1 + violationSlack).
	MaxRatio float64
}

// violationSlack is the relative margin above β that counts as a violation: a solution
// certified to a duality gap ε satisfies the optimality conditions of its own blocks
// to about √ε, so patterns already in the program must not count (1e-2 covers ε ≥ 1e-4).
const violationSlack = 1e-2

// CheckViolations samples samples fresh directions h ~ N(0, I) (seeded by seed,
// independently of the solve's own sampling) and counts those whose pattern
// D = diag(1[Xh ≥ 0]) violates the optimality of res (MATH.md §6): with η the dual
// variable of the predictions (res.Dual, the loss gradient ŷ − y for the squared
// loss), adding a block for D lowers the objective exactly when
//
//	max_{v ∈ K_D, ‖v‖₂ ≤ 1} ∓ηᵀ D X v = ‖Π_{K_D}(∓Xᵀ D η)‖₂ > β,
//
// the projection onto the cone K_D = {v : (2D − I)Xv ≥ 0} being computed exactly. For
// an SCP result (no arrangement) the test is the one of the SCP program: a fresh unit
// direction h violates when |ηᵀ(Xh)₊| > β.
func CheckViolations(prob *Problem, res *Result, samples int, seed uint64) (*Violations, error) {
	if err := prob.Validate(); err != nil {
		return nil, err
	}
	if res == nil || res.Dual == nil {
		return nil, errors.New("solver: CheckViolations needs the result of a convex method (ADMM or SCP)")
	}
	n, d := prob.X.Dims()
	if len(res.Dual) != n {
		return nil, fmt.Errorf("solver: result has %d dual entries, X has %d rows", len(res.Dual), n)
	}
	if samples <= 0 {
		return nil, fmt.Errorf("solver: need a positive number of samples, got %d", samples)
	}
	if !(prob.Beta > 0) {
		return nil, errors.New("solver: CheckViolations needs β > 0")
	}
	eta := res.Dual
	out := &Violations{Samples: samples}
	limit := prob.Beta * (1 + violationSlack)
	if res.Arrangement == nil {
		H, err := SCPDirections(d, samples, seed^streamViolation)
		if err != nil {
			return nil, err
		}
		var xh mat.Dense
		xh.Mul(prob.X, H.T())
		for j := 0; j < samples; j++ {
			s := 0.0
			for k := 0; k < n; k++ {
				if v := xh.At(k, j); v > 0 {
					s += eta[k] * v
				}
			}
			r := math.Abs(s) / prob.Beta
			out.MaxRatio = math.Max(out.MaxRatio, r)
			if math.Abs(s) > limit {
				out.Violating++
			}
		}
		out.Distinct, out.New = samples, samples
		out.Rate = float64(out.Violating) / float64(samples)
		return out, nil
	}
	if res.Arrangement.Points() != n {
		return nil, fmt.Errorf("solver: result's patterns have %d points, X has %d rows", res.Arrangement.Points(), n)
	}
	known := make(map[string]bool, res.Arrangement.Len())
	for i := 0; i < res.Arrangement.Len(); i++ {
		known[bitsKey(res.Arrangement.row(i))] = true
	}
	sampler := newPatternSampler(prob.X, seed, streamViolation)
	draws := make(map[string]int) // draws per distinct fresh pattern
	sampler.visit = func(key string) { draws[key]++ }
	sampler.draw(samples, nil)
	fresh := sampler.arrangement()
	x := mat.DenseCopyOf(prob.X)
	proj := newConeProjector(x.RawMatrix())
	sign := make([]float64, n)
	g := make([]float64, n)
	grad := make([]float64, d)
	for i := 0; i < fresh.Len(); i++ {
		key := bitsKey(fresh.row(i))
		out.Distinct++
		if !known[key] {
			out.New++
		}
		for k := 0; k < n; k++ {
			if fresh.Active(i, k) {
				sign[k], g[k] = 1, eta[k]
			} else {
				sign[k], g[k] = -1, 0
			}
		}
		// XᵀDη, then the two directions ∓.
		blas64.Gemv(blas.Trans, 1, x.RawMatrix(), blas64.Vector{N: n, Inc: 1, Data: g}, 0, blas64.Vector{N: d, Inc: 1, Data: grad})
		worst := 0.0
		for _, sgn := range [2]float64{-1, 1} {
			a := make([]float64, d)
			for c := range a {
				a[c] = sgn * grad[c]
			}
			pv, _, _ := proj.project(a, sign, 0, 1, nil, nil)
			worst = math.Max(worst, norm2(pv))
		}
		out.MaxRatio = math.Max(out.MaxRatio, worst/prob.Beta)
		if worst > limit {
			out.Violating += draws[key]
		}
	}
	out.Rate = float64(out.Violating) / float64(samples)
	return out, nil
}

// ScenarioPatterns returns the number of sampled patterns that the bound of MATH.md §6
// requires so that, with probability at least 1 − ξ over the sample, a fresh pattern
// improves the optimal value with probability at most ψ:
//
//	P_s ≥ min{ n/(ψξ) − 1, (2/ψ)(n − 1 + ln(1/ξ)) }.
func ScenarioPatterns(n int, psi, xi float64) float64 {
	if !(psi > 0 && psi < 1 && xi > 0 && xi < 1) || n <= 0 {
		return math.NaN()
	}
	fn := float64(n)
	return math.Min(fn/(psi*xi)-1, 2/psi*(fn-1+math.Log(1/xi)))
}

// ScenarioLevel inverts ScenarioPatterns: the violation probability ψ that the bound
// guarantees, with confidence 1 − ξ, for a program with the given number of sampled
// patterns (at most 1).
func ScenarioLevel(n, patterns int, xi float64) float64 {
	if n <= 0 || patterns <= 0 || !(xi > 0 && xi < 1) {
		return math.NaN()
	}
	fn, fp := float64(n), float64(patterns)
	return math.Min(1, math.Min(fn/((fp+1)*xi), 2*(fn-1+math.Log(1/xi))/fp))
}
