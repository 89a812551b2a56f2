package solver

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// refitState is the work of the squared loss's refitted dual candidate (see refit)
// and of the point's own, ŷ − y (see pointBounds).
type refitState struct {
	cols []int     // the nonzero blocks j
	c    []float64 // n×S: the columns cⱼ = Fⱼvⱼ
	q    []float64 // S×S: CᵀC
	b    []float64 // S: Cᵀy − β‖vⱼ‖
	a    []float64 // S: the magnitudes

	// The candidate ŷ − y of the point itself, which joins the combination with
	// the bounds of the refit's multipliers (see pointBounds).
	yhat, t, out, gs, bound []float64

	// skip is the number of checks before the next refit, wait the current
	// length of that pause (see judge).
	skip, wait int
}

// refitWaitMax bounds the pause between refits that lose (see judge).
const refitWaitMax = 16

// due reports whether the refit is tried at this check, counting down a pause.
func (rs *refitState) due() bool {
	if rs.skip > 0 {
		rs.skip--
		return false
	}
	return true
}

// judge sets the pause after a refit whose gap was gap where Fu − y's was other:
// none when it was smaller, else a pause doubled up to refitWaitMax checks, at
// which the certificate is that of ŷ − y and Fu − y alone.
// Why: until the iterates' directions settle the refit is no better than ŷ − y
// (on MNIST 2 vs 8 at 10×10, squared, β = 1e-3, its gap stayed above 0.8 over the
// first 2 700 iterations while Fu − y's fell to 0.02, and then fell to 4e-5 by
// 3 500 iterations, where Fu − y's was 2e-2), and its exact projections cost what
// ŷ − y's do. (Kept while within a factor 2 of Fu − y, it ran at every check of the
// first 25 s there, and ADMM did 914–927 iterations in 30 s against main's
// 1 082–1 121.)
func (rs *refitState) judge(gap, other float64) {
	if gap < other {
		rs.wait, rs.skip = 0, 0
		return
	}
	rs.wait = min(2*rs.wait+1, refitWaitMax)
	rs.skip = rs.wait
}

// pointBounds returns upper bounds hⱼ ≥ ‖Π_{Kⱼ}(−Fⱼᵀη)‖ for η = ŷ − y (set in
// rs.yhat), with the cone multipliers of the certificate just computed for the
// refitted candidate (a.cert's, close to this η's: any ζ ≥ 0 gives a bound): one
// product Fᵀη and no projection. The candidate ŷ − y then takes part in combine as
// before the refit it had its own certificate, at a fraction of its cost. It also
// returns ‖Fᵀη‖² and the squared norm of the polar parts, the scales of residual
// balancing, which stay those of ŷ − y (see certificate).
func (a *admm) pointBounds(rs *refitState) (bound []float64, fEta, polar float64) {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	if rs.yhat == nil {
		rs.yhat, rs.t, rs.out = make([]float64, n), make([]float64, n*P), make([]float64, P*d)
		rs.gs, rs.bound = make([]float64, 2*P*d), make([]float64, 2*P)
	}
	for k := range rs.yhat {
		rs.yhat[k] = a.ev.convex[k] - pr.y[k]
	}
	for k := 0; k < n; k++ {
		row := rs.t[k*P : (k+1)*P]
		for i, m := range pr.mask[k*P : (k+1)*P] {
			row[i] = m * rs.yhat[k]
		}
	}
	pr.mulTX(rs.out, rs.t, P, 1, 0)
	fEta, polar = a.blockBounds(&a.cert, rs.out, rs.gs, rs.bound)
	return rs.bound, fEta, polar
}

// refitMaxSteps bounds the active-set steps of one refit, in multiples of S, and
// nnlsRefinements the refinements of each of its solves.
const (
	refitMaxSteps   = 3
	nnlsRefinements = 2
)

// refit sets eta to the dual candidate η = Σⱼ aⱼFⱼvⱼ − y of the point
// v's blocks rescaled by the magnitudes a ≥ 0 that are best for the squared loss with
// the directions fixed,
//
//	minimize_{a ≥ 0}  ½‖Ca − y‖² + β Σⱼ aⱼ‖vⱼ‖,   C = [Fⱼvⱼ]ⱼ over the nonzero blocks,
//
// a nonnegative least-squares problem in S ≤ 2P unknowns (an active-set method from
// a = 1, the point itself). Why: at a nonzero aⱼ its optimality says v̂ⱼᵀ(−Fⱼᵀη) = β,
// the radial part of block j's dual constraint ‖Π_{Kⱼ}(−Fⱼᵀη)‖ ≤ β met exactly, and
// since v̂ⱼ ∈ Kⱼ, ‖Π_{Kⱼ}(g)‖ ≥ v̂ⱼᵀg, so the constraint is violated only by the
// tangential part of −Fⱼᵀη, to second order (‖Π‖ = (β² + ‖τ‖²)^½ for a tangential τ
// within the face), where the candidates ŷ − y and Fu − y violate it to first order,
// by the radial error of their predictions. The bound stays valid whatever a: the
// certificate computes the constraints of η exactly and scales η to feasibility.
// Its cost is the Gram matrix CᵀC (nS²) beside the certificate's own product and
// projections; xu holds X vᵀ (n×2P) and norms the blocks' norms. It returns false
// (eta unset) when v is zero.
func (a *admm) refit(rs *refitState, xu, norms, eta []float64) bool {
	pr := a.pr
	n, P := pr.n, pr.P
	rs.cols = rs.cols[:0]
	for j := 0; j < 2*P; j++ {
		if norms[j] > 0 {
			rs.cols = append(rs.cols, j)
		}
	}
	S := len(rs.cols)
	if S == 0 {
		return false
	}
	if cap(rs.c) < n*2*P {
		rs.c, rs.q = make([]float64, n*2*P), make([]float64, 4*P*P)
		rs.b, rs.a = make([]float64, 2*P), make([]float64, 2*P)
	}
	c, q, b := rs.c[:n*S], rs.q[:S*S], rs.b[:S]
	for k := 0; k < n; k++ {
		row, m := xu[k*2*P:(k+1)*2*P], pr.mask[k*P:(k+1)*P]
		for s, j := range rs.cols {
			v := m[j%P] * row[j]
			if j >= P {
				v = -v
			}
			c[k*S+s] = v
		}
	}
	cm := blas64.General{Rows: n, Cols: S, Stride: S, Data: c}
	blas64.Syrk(blas.Trans, 1, cm, 0, blas64.Symmetric{Uplo: blas.Upper, N: S, Stride: S, Data: q})
	for i := 0; i < S; i++ {
		for j := 0; j < i; j++ {
			q[i*S+j] = q[j*S+i]
		}
	}
	blas64.Gemv(blas.Trans, 1, cm, blas64.Vector{N: n, Inc: 1, Data: pr.y}, 0, blas64.Vector{N: S, Inc: 1, Data: b})
	for s, j := range rs.cols {
		b[s] -= pr.beta * norms[j]
	}
	mag := rs.a[:S]
	nnlsQuadratic(q, b, mag, refitMaxSteps*S+10)
	blas64.Gemv(blas.NoTrans, 1, cm, blas64.Vector{N: S, Inc: 1, Data: mag}, 0, blas64.Vector{N: n, Inc: 1, Data: eta})
	for k := range eta {
		eta[k] -= pr.y[k]
	}
	return true
}

// nnlsQuadratic approximately minimizes ½aᵀQa − bᵀa over a ≥ 0 (Q = CᵀC, S×S, positive
// semidefinite) by a primal active-set method from a = 1 (every component free): it
// solves the free components' system (with a ridge of 1e-12 of Q's trace against
// dependent columns), steps back to the first component that would turn negative and
// fixes it at zero, and frees a fixed component whose gradient is negative once the
// free ones are optimal, for at most maxSteps steps; a is nonnegative whenever it
// stops.
func nnlsQuadratic(q, b, a []float64, maxSteps int) {
	S := len(b)
	free := make([]bool, S)
	for i := range a {
		a[i], free[i] = 1, true
	}
	tr := 0.0
	for i := 0; i < S; i++ {
		tr += q[i*S+i]
	}
	ridge := 1e-12 * tr / float64(S)
	z := make([]float64, S)
	idx := make([]int, 0, S)
	for range maxSteps {
		idx = idx[:0]
		for i, f := range free {
			if f {
				idx = append(idx, i)
			}
		}
		clear(z)
		if len(idx) > 0 {
			m := len(idx)
			sys := mat.NewSymDense(m, nil)
			rhs := mat.NewVecDense(m, nil)
			for r, i := range idx {
				for s, j := range idx[r:] {
					sys.SetSym(r, r+s, q[i*S+j])
				}
				sys.SetSym(r, r, q[i*S+i]+ridge)
				rhs.SetVec(r, b[i])
			}
			var ch mat.Cholesky
			var x mat.VecDense
			if !ch.Factorize(sys) || ch.SolveVecTo(&x, rhs) != nil {
				return
			}
			for r, i := range idx {
				z[i] = x.AtVec(r)
			}
			// Iterative refinement against Q itself (CᵀC is often ill-conditioned,
			// and the radial conditions cⱼᵀη = −β‖vⱼ‖ are what the bound needs).
			for range nnlsRefinements {
				for r, i := range idx {
					res := b[i]
					for _, j := range idx {
						res -= q[i*S+j] * z[j]
					}
					rhs.SetVec(r, res)
				}
				if ch.SolveVecTo(&x, rhs) != nil {
					break
				}
				for r, i := range idx {
					z[i] += x.AtVec(r)
				}
			}
		}
		// Step from a towards z, stopped where a free component reaches zero.
		alpha, block := 1.0, -1
		for _, i := range idx {
			if z[i] <= 0 {
				if s := a[i] / (a[i] - z[i]); s < alpha {
					alpha, block = s, i
				}
			}
		}
		for _, i := range idx {
			a[i] += alpha * (z[i] - a[i])
		}
		if block >= 0 {
			a[block], free[block] = 0, false
			for _, i := range idx {
				if a[i] <= 0 {
					a[i], free[i] = 0, false
				}
			}
			continue
		}
		// The free components are optimal: free the fixed one of most negative
		// gradient (Qa − b)ᵢ, if any.
		worst, enter := 0.0, -1
		scale := 0.0
		for i := range b {
			scale = math.Max(scale, math.Abs(b[i]))
		}
		for i, f := range free {
			if f {
				continue
			}
			g := -b[i]
			for j := range a {
				g += q[i*S+j] * a[j]
			}
			if g < worst && g < -1e-12*scale {
				worst, enter = g, i
			}
		}
		if enter < 0 {
			return
		}
		free[enter] = true
	}
}

// combineGrid is the step of combine's grid on the simplex of weights, and
// combineRefine the halvings of its local search.
const (
	combineGrid   = 24
	combineRefine = 8
)

// combine returns the best squared-loss dual bound over the nonnegative combinations
// η = Σₖ wₖηₖ of feasible candidates ηₖ (each already scaled by its certificate)
// whose constraint values hₖⱼ ≥ ‖Π_{Kⱼ}(−Fⱼᵀηₖ)‖ are known (vals, upper bounds):
// each hⱼ(η) = ‖Π_{Kⱼ}(−Fⱼᵀη)‖ is sublinear (the support function of Kⱼ ∩ B
// composed with a linear map), so hⱼ(Σₖ wₖηₖ) ≤ Σₖ wₖhₖⱼ, and η divided by
// maxⱼ Σₖ wₖhₖⱼ/β is feasible with no projection computed. Over the weights (a grid
// on the simplex, then a local search) it keeps the best value of the ray
// −ℓ*(sη) (Loss.rayDual in closed form: ‖η‖² and yᵀη from the candidates' Gram
// matrix). Why: each candidate errs in its own directions (Fu − y by the dual
// residual, the refit by the tangential part of the iterate's directions) and a
// combination cancels part of both. It returns the bound (−Inf when no weights give
// one) and the best weights w.
func (a *admm) combine(etas, vals [][]float64) (float64, []float64) {
	pr := a.pr
	K := len(etas)
	gram, ey := make([]float64, K*K), make([]float64, K)
	for i := range etas {
		ey[i] = dot(etas[i], pr.y)
		for j := i; j < K; j++ {
			gram[i*K+j] = dot(etas[i], etas[j])
			gram[j*K+i] = gram[i*K+j]
		}
	}
	value := func(w []float64) float64 {
		worst := 0.0
		for j := range vals[0] {
			h := 0.0
			for k, v := range vals {
				h += w[k] * v[j]
			}
			worst = math.Max(worst, h)
		}
		ee, e := 0.0, 0.0
		for i := range w {
			e += w[i] * ey[i]
			for j := range w {
				ee += w[i] * w[j] * gram[i*K+j]
			}
		}
		if ee <= 0 {
			return math.Inf(-1)
		}
		sMax := math.Inf(1)
		if worst > 0 {
			sMax = pr.beta / worst
		}
		s := math.Min(math.Max(-e/ee, 0), sMax)
		return -0.5*s*s*ee - s*e
	}
	best, bw := math.Inf(-1), make([]float64, K)
	w := make([]float64, K)
	// The grid: weights i/N, j/N, (N − i − j)/N (K = 3) or i/N, (N − i)/N (K = 2).
	var walk func(k, left int)
	walk = func(k, left int) {
		if k == K-1 {
			w[k] = float64(left) / combineGrid
			if v := value(w); v > best {
				best = v
				copy(bw, w)
			}
			return
		}
		for i := 0; i <= left; i++ {
			w[k] = float64(i) / combineGrid
			walk(k+1, left-i)
		}
	}
	walk(0, combineGrid)
	// Local search: move weight between pairs of candidates by h, halved when no
	// move improves.
	h := 1.0 / combineGrid
	for range combineRefine {
		improved := true
		for improved {
			improved = false
			for p := 0; p < K; p++ {
				for q := 0; q < K; q++ {
					if p == q || bw[q] < h {
						continue
					}
					copy(w, bw)
					w[p] += h
					w[q] -= h
					if v := value(w); v > best {
						best = v
						copy(bw, w)
						improved = true
					}
				}
			}
		}
		h /= 2
	}
	return best, bw
}
