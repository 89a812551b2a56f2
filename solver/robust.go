package solver

import (
	"errors"
	"math"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/convex/lp"
)

// The pieces of the robust convex program (MATH.md §7) that Adversarial assembles:
// the closed-form worst-case losses, their proximal maps, the projection onto the
// robust cones, and the u-step linear system.
//
// Throughout, the perturbed coordinates S are the first dS of the d columns (all of
// them, or all but the bias column), and ‖v‖₁,S = Σ_{c<dS} |v_c|.

// soft returns the soft threshold sign(a)(|a| − λ)₊.
func soft(a, lambda float64) float64 {
	switch {
	case a > lambda:
		return a - lambda
	case a < -lambda:
		return a + lambda
	}
	return 0
}

// rootIncreasing returns a zero of the nondecreasing function f on [lo, hi], given
// f(lo) ≤ 0 ≤ f(hi), by the Illinois variant of regula falsi with bisection as the
// safeguard. The functions it is used on are piecewise linear or smooth, on which the
// secant steps converge superlinearly; it stops when the bracket no longer shrinks
// in floating point.
func rootIncreasing(f func(float64) float64, lo, hi float64) float64 {
	flo, fhi := f(lo), f(hi)
	if flo >= 0 {
		return lo
	}
	if fhi <= 0 {
		return hi
	}
	side := 0
	for range 200 {
		x := (lo*fhi - hi*flo) / (fhi - flo)
		if !(x > lo && x < hi) {
			x = lo + (hi-lo)/2
		}
		fx := f(x)
		switch {
		case fx == 0:
			return x
		case fx < 0:
			lo, flo = x, fx
			if side == -1 {
				fhi /= 2
			}
			side = -1
		default:
			hi, fhi = x, fx
			if side == 1 {
				flo /= 2
			}
			side = 1
		}
		if hi-lo <= 4e-16*math.Max(math.Abs(lo), math.Abs(hi)) || hi-lo < 1e-300 {
			break
		}
	}
	if -flo < fhi {
		return lo
	}
	return hi
}

// robustProxProblem is the proximal map of a worst-case loss in the model's weights,
//
//	b = argmin φ(b) + (ρ/2)‖b − b₀‖²,   φ(b) = L(xᵀb, ε‖b‖₁,S),
//
// (L the worst-case loss of worstLoss). It returns the decomposition of the
// multiplier η = ρ(b₀ − b) ∈ ∂φ(b) that the dual certificate needs,
// η = c x + e with e zero off S and ‖e‖∞ ≤ ε r (see Adversarial's certificate).
//
// Derivation (ours). For hinge and logistic loss φ = h∘q with h(s) = (1 + s)₊ or
// log(1 + eˢ), nondecreasing, and q(b) = −y xᵀb + ε‖b‖₁,S. The optimality condition
// 0 ∈ h'·∂q(b) + ρ(b − b₀) says b = prox_{θq}(b₀) with ρθ ∈ ∂h(q(b)), and
// prox_{θq}(b₀) is closed form: b_c = b₀_c + θy x_c off S and the soft threshold of
// that at θε on S. q(prox_{θq}(b₀)) is nonincreasing in θ, so θ is the root of a
// monotone scalar equation on [0, 1/ρ] (h' ≤ 1). Then c = −yρθ and r = |c|.
//
// For the squared loss φ = ½r(b)² with r(b) = |xᵀb − y| + ε‖b‖₁,S. For a sign σ, the
// prox of ½(σ(xᵀb − y) + ε‖b‖₁,S)₊² is found the same way (ρθ = q_σ(b)₊); it is the
// prox of φ whenever its residual has the sign σ (φ is above that function and equal
// to it there), and if the prox of φ has a residual of sign σ it is this one (the two
// functions agree near it). Trying both signs leaves one case: the optimum has xᵀb = y and
// minimizes ½ε²‖b‖₁,S² + (ρ/2)‖b − b₀‖² on that hyperplane: b is the prox of
// (ε²/2ρ)‖·‖₁,S² at b₀ − (ω/ρ)x, with the multiplier ω the root of the nonincreasing
// xᵀb(ω) − y. Then c = ω and r = ε‖b‖₁,S.
type robustProxProblem struct {
	x, b0, b []float64
	eps      float64
	dS       int
}

// fill sets b = prox_{θq}(b₀) for q = κ xᵀb + ε‖b‖₁,S (κ = −y or σ) and returns q(b).
func (rp *robustProxProblem) fill(theta, kappa float64) float64 {
	x, b0, b, eps := rp.x, rp.b0, rp.b, rp.eps
	q := 0.0
	for i := range x {
		a := b0[i] - theta*kappa*x[i]
		if i < rp.dS {
			a = soft(a, theta*eps)
			q += eps * math.Abs(a)
		}
		b[i] = a
		q += kappa * x[i] * a
	}
	return q
}

// margin is robustProx for the hinge loss (hinge) and the logistic loss.
func (rp *robustProxProblem) margin(y, rho float64, hinge bool) (c, r float64) {
	kappa := -y
	var theta float64
	if hinge {
		// q(b) + 1 as a function of θ is nonincreasing; the root is where the
		// hinge's kink is (h' ∈ [0, 1]).
		switch {
		case rp.fill(0, kappa) <= -1:
			theta = 0
		case rp.fill(1/rho, kappa) >= -1:
			theta = 1 / rho
		default:
			theta = rootIncreasing(func(t float64) float64 { return -1 - rp.fill(t, kappa) }, 0, 1/rho)
		}
	} else {
		theta = rootIncreasing(func(t float64) float64 { return rho*t - sigmoid(rp.fill(t, kappa)) }, 0, 1/rho)
	}
	rp.fill(theta, kappa)
	c = -y * rho * theta
	return c, math.Abs(c)
}

// squared is robustProx for the squared loss.
func (rp *robustProxProblem) squared(y, rho float64, scratch []float64) (c, r float64) {
	x, b0, b, eps, dS := rp.x, rp.b0, rp.b, rp.eps, rp.dS
	d := len(x)
	res0 := dot(x, b0) - y
	first := 1.0
	if res0 < 0 {
		first = -1
	}
	for _, sigma := range []float64{first, -first} {
		qs := func(t float64) float64 { return rp.fill(t, sigma) - sigma*y }
		q0 := qs(0)
		if q0 <= 0 {
			if sigma == first && res0 == 0 && eps*q0 == 0 {
				// φ(b₀) = 0: zero residual and no perturbed weight.
				copy(b, b0)
				return 0, 0
			}
			continue
		}
		theta := rootIncreasing(func(t float64) float64 { return rho*t - math.Max(qs(t), 0) }, 0, q0/rho)
		qs(theta)
		if sigma*(dot(x, b)-y) >= 0 {
			return rho * theta * sigma, rho * theta
		}
	}
	// Zero residual at the optimum.
	kappa := eps * eps / rho
	var lambda float64
	at := func(omega float64) float64 {
		for i := 0; i < d; i++ {
			b[i] = b0[i] - omega/rho*x[i]
		}
		lambda = l1SquaredThreshold(b[:dS], kappa, scratch)
		for i := 0; i < dS; i++ {
			b[i] = soft(b[i], lambda)
		}
		return dot(x, b) - y
	}
	xx := dot(x, x)
	if xx == 0 {
		at(0)
		return 0, rho * lambda / math.Max(eps, 1e-300)
	}
	// Bracket the root of the nonincreasing xᵀb(ω) − y, starting from the step
	// that zeroes the residual without the l1 term.
	w := math.Abs(res0)*rho/xx + 1e-300
	lo, hi := -w, w
	for at(lo) < 0 {
		lo *= 2
	}
	for at(hi) > 0 {
		hi *= 2
	}
	omega := rootIncreasing(func(o float64) float64 { return -at(o) }, lo, hi)
	at(omega)
	r = 0.0
	for i := 0; i < dS; i++ {
		r += math.Abs(b[i])
	}
	return omega, eps * r
}

// l1SquaredThreshold returns the threshold λ of the proximal map of (κ/2)‖·‖₁² at a,
// which is the soft threshold at λ = κ‖b‖₁: λ = κ Σ_c (|a_c| − λ)₊. With the m
// largest |a_c| above λ, λ = κ Σ_{top m}|a_c| / (1 + κm).
func l1SquaredThreshold(a []float64, kappa float64, scratch []float64) float64 {
	if kappa == 0 || len(a) == 0 {
		return 0
	}
	s := scratch[:len(a)]
	for i, v := range a {
		s[i] = math.Abs(v)
	}
	slices.Sort(s)
	slices.Reverse(s)
	sum := 0.0
	for m := 1; m <= len(s); m++ {
		sum += s[m-1]
		lambda := kappa * sum / (1 + kappa*float64(m))
		if m == len(s) || s[m] <= lambda {
			return lambda
		}
	}
	return 0
}

// kronSystem solves the u-step system of Adversarial's ADMM,
//
//	(I₂ₚ ⊗ B + γ² [C −C; −C C] ⊗ I_d) u = r,   B = τ²I,   C = Σₖ dₖdₖᵀ,
//
// for u = (v₁..vₚ, w₁..wₚ) stored as the rows of a 2P×d matrix (dₖ ∈ {0,1}ᴾ is the
// activation of point k in every pattern, so C counts co-activations: the Gram
// matrix of the map u ↦ (aₖ)ₖ, aₖ = Σᵢ dᵢₖ(vᵢ − wᵢ), is [C −C; −C C] ⊗ I_d).
//
// Derivation (ours). In the sum and difference of the halves, V + W and V − W (P×d),
// the system decouples into (V + W)B = R_V + R_W and the Sylvester equation
// (V − W)B + 2γ² C(V − W) = R_V − R_W. With the eigendecompositions B = Q_B Λ_B Q_Bᵀ
// and C = Q_C Λ_C Q_Cᵀ, the latter is diagonal in the basis Q_C ⊗ Q_B: entry (a, b)
// is divided by λ_B,b + 2γ² λ_C,a. One solve costs O(P²d + Pd²); the factorization
// is two symmetric eigendecompositions (d×d and P×P), and γ² may change for free.
type kronSystem struct {
	P, d      int
	qB, qC    blas64.General
	lB, lC    []float64
	gamma2    float64
	s, t, tmp []float64 // P×d scratch
	sum, diff []float64
}

func newKronSystem(pr *program, tau2, gamma2 float64) (*kronSystem, error) {
	n, d, P := pr.n, pr.d, pr.P
	B := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		B.SetSym(i, i, tau2)
	}
	C := mat.NewSymDense(P, nil)
	var mm mat.SymDense
	mm.SymOuterK(1, mat.NewDense(n, P, pr.mask).T())
	C.CopySym(&mm)
	ks := &kronSystem{P: P, d: d, gamma2: gamma2,
		s: make([]float64, P*d), t: make([]float64, P*d), tmp: make([]float64, P*d),
		sum: make([]float64, P*d), diff: make([]float64, P*d)}
	var eb, ec mat.EigenSym
	if !eb.Factorize(B, true) || !ec.Factorize(C, true) {
		return nil, errors.New("solver: eigendecomposition of the adversarial u-step matrix failed")
	}
	ks.lB = eb.Values(nil)
	ks.lC = ec.Values(nil)
	var vb, vc mat.Dense
	eb.VectorsTo(&vb)
	ec.VectorsTo(&vc)
	ks.qB = vb.RawMatrix()
	ks.qC = vc.RawMatrix()
	for i, v := range ks.lC {
		ks.lC[i] = math.Max(v, 0) // C is a Gram matrix: negative values are rounding
	}
	return ks, nil
}

// solve sets u (2P×d) to the solution for the right-hand side r (2P×d).
func (ks *kronSystem) solve(r, u []float64) {
	P, d := ks.P, ks.d
	pd := P * d
	for i := 0; i < pd; i++ {
		ks.sum[i] = r[i] + r[pd+i]
		ks.diff[i] = r[i] - r[pd+i]
	}
	gen := func(data []float64, rows, cols int) blas64.General {
		return blas64.General{Rows: rows, Cols: cols, Stride: cols, Data: data}
	}
	// Sum: S = R_sum Q_B Λ_B⁻¹ Q_Bᵀ.
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, gen(ks.sum, P, d), ks.qB, 0, gen(ks.tmp, P, d))
	for i := 0; i < P; i++ {
		for b := 0; b < d; b++ {
			ks.tmp[i*d+b] /= ks.lB[b]
		}
	}
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, gen(ks.tmp, P, d), ks.qB, 0, gen(ks.s, P, d))
	// Difference: D = Q_C [(Q_Cᵀ R_diff Q_B) ⊘ (λ_B,b + 2γ²λ_C,a)] Q_Bᵀ.
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, gen(ks.diff, P, d), ks.qB, 0, gen(ks.tmp, P, d))
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, ks.qC, gen(ks.tmp, P, d), 0, gen(ks.t, P, d))
	for a := 0; a < P; a++ {
		for b := 0; b < d; b++ {
			ks.t[a*d+b] /= ks.lB[b] + 2*ks.gamma2*ks.lC[a]
		}
	}
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, ks.qC, gen(ks.t, P, d), 0, gen(ks.tmp, P, d))
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, gen(ks.tmp, P, d), ks.qB, 0, gen(ks.t, P, d))
	for i := 0; i < pd; i++ {
		u[i] = (ks.s[i] + ks.t[i]) / 2
		u[pd+i] = (ks.s[i] - ks.t[i]) / 2
	}
}

// capacityTolerance: a radius within this relative distance of a pattern's capacity
// counts as robust-feasible (the simplex method's own tolerances are near 1e-10).
const capacityTolerance = 1e-8

// robustCapacity returns the largest radius at which pattern i has a robust block with
// an input-dependent part, the linear program
//
//	ε*ᵢ = max_{v} minₖ (2dᵢₖ − 1)xₖᵀv   subject to ‖v‖₁,S ≤ 1,
//
// through its dual (our derivation, by LP duality: v_S against the l1 ball gives the
// dual norm l∞, the free coordinates off S give equality constraints)
//
//	ε*ᵢ = min ‖Σₖ ζₖsₖxₖ,S‖∞   subject to ζ ≥ 0, Σₖ ζₖ = 1, Σₖ ζₖsₖxₖ,c = 0 (c ∉ S),
//
// sₖ = 2dᵢₖ − 1. With a bias column it is half the l∞ distance between the convex hulls
// of the active and the inactive points. An infeasible dual (all sₖxₖ,c of one sign
// for a c ∉ S: a one-sided pattern with a bias) means an unbounded primal, +Inf; so
// does a failure of the LP solver, so that infeasibility is only reported when proved.
func robustCapacity(pr *program, i, dS int) float64 {
	n, d, P := pr.n, pr.d, pr.P
	var free []int
	for c := dS; c < d; c++ {
		pos, neg := false, false
		for k := 0; k < n; k++ {
			v := pr.sign[k*P+i] * pr.x[k*d+c]
			pos = pos || v > 0
			neg = neg || v < 0
		}
		switch {
		case pos != neg:
			return math.Inf(1) // Σζₖsₖxₖ,c = 0 has no solution on the simplex
		case pos:
			free = append(free, c)
		}
	}
	// Standard form min cᵀz, Az = b, z ≥ 0 with z = (ζ, e, s⁺, s⁻):
	// Σζ = 1; Σζsx_c = 0 (c ∉ S); ±Σζsx_c − e + s^± = 0 (c ∈ S).
	rows := 1 + len(free) + 2*dS
	cols := n + 1 + 2*dS
	A := mat.NewDense(rows, cols, nil)
	b := make([]float64, rows)
	cost := make([]float64, cols)
	cost[n] = 1
	b[0] = 1
	for k := 0; k < n; k++ {
		A.Set(0, k, 1)
		s := pr.sign[k*P+i]
		for r, c := range free {
			A.Set(1+r, k, s*pr.x[k*d+c])
		}
		for c := 0; c < dS; c++ {
			v := s * pr.x[k*d+c]
			A.Set(1+len(free)+2*c, k, v)
			A.Set(1+len(free)+2*c+1, k, -v)
		}
	}
	for c := 0; c < dS; c++ {
		r := 1 + len(free) + 2*c
		A.Set(r, n, -1)
		A.Set(r+1, n, -1)
		A.Set(r, n+1+2*c, 1)
		A.Set(r+1, n+2+2*c, 1)
	}
	opt, _, err := lp.Simplex(cost, A, b, 0, nil)
	if err != nil || math.IsNaN(opt) {
		return math.Inf(1)
	}
	return opt
}

// robustProjector projects onto the robust cone of a pattern,
//
//	C = {v ∈ ℝᵈ : sₖxₖᵀv ≥ ε‖v‖₁,S for every k},   sₖ = 2dₖ − 1,
//
// through its polar (our derivation). C° = {−Σₖ ζₖsₖxₖ + π : ζ ≥ 0, π zero off S,
// ‖π_S‖∞ ≤ ε Σₖ ζₖ} (⟨−sₖxₖ + π, v⟩ ≤ −sₖxₖᵀv + ε‖v_S‖₁ ≤ 0 on C, and C is the polar
// of that cone), so by Moreau's decomposition Π_C(a) = a − Π_{C°}(a). For fixed ζ
// the best π clips w = a + Σₖ ζₖsₖxₖ to ±λ, λ = εΣζₖ, on S, leaving the residual
//
//	R(ζ) = soft(w, λ) on S,  w off S,
//
// and Π_C(a) = R(ζ*) for the minimizer ζ* ≥ 0 of the convex, continuously
// differentiable, piecewise quadratic ψ(ζ) = ½‖R(ζ)‖², whose gradient is
// ∂ψ/∂ζₖ = sₖxₖᵀR − ε‖R_S‖₁ (so ∇ψ ≥ 0 is exactly R ∈ C, one product XR away).
// It is minimized by an active-set projected Newton method: the most negative
// gradient entry joins the support, the Newton step on the support is the least
// squares problem of the current piece (coordinates of S beyond ±λ with their
// signs, and those off S, where R is affine in ζ), and an exact line search along
// the step (ψ is convex on the segment; its slope is found by rootIncreasing) keeps
// ζ ≥ 0, dropping points whose weight reaches zero. The support is warm-started from
// the previous projection, which near an ADMM solution is already the final one,
// and holds only the points whose robust constraint is tight. Any ζ ≥ 0 gives a
// polar part a − R(ζ) in C° exactly, the multiplier the dual certificate uses.
// With ε = 0 it is the projection onto the cone Kᵢ of MATH.md §3.
type robustProjector struct {
	x        []float64 // X, n×d row-major
	n, d, dS int
	eps      float64
	rowMax   float64 // maxₖ ‖xₖ‖
	w, r, xr []float64
	dw       []float64 // change of w along the Newton step
	h        []float64 // columns of the Newton least squares, support×d
	gram     []float64
	z, rhs   []float64

	// loose, when above the tolerances below, is the relative KKT tolerance of the
	// projection: ADMM sets it from its own progress (see adv.step).
	loose float64

	projections, newton, pricings int // statistics
}

// robustActive is the warm-start state of one block: the support points k and their
// weights ζₖ > 0.
type robustActive struct {
	k    []int
	zeta []float64
}

func newRobustProjector(pr *program, eps float64, dS int) *robustProjector {
	n, d := pr.n, pr.d
	rp := &robustProjector{x: pr.x, n: n, d: d, dS: dS, eps: eps,
		w: make([]float64, d), r: make([]float64, d), xr: make([]float64, n), dw: make([]float64, d)}
	for k := 0; k < n; k++ {
		rp.rowMax = math.Max(rp.rowMax, norm2(pr.x[k*d:(k+1)*d]))
	}
	return rp
}

// Tolerances of the robust projection.
const (
	// robustPriceTolerance: a point joins the support when its gradient entry is
	// below −robustPriceTolerance·maxₖ‖xₖ‖·max(‖a‖, ‖R‖), safely above the rounding
	// of a d-term product.
	robustPriceTolerance = 1e-12
	// robustDependent: a support column whose Cholesky pivot is below this times its
	// squared norm is treated as dependent on the earlier ones (see solvePivoted).
	robustDependent = 1e-12
	// robustSupportTolerance: the support's gradient entries count as zero below this
	// (relative as robustPriceTolerance), a little looser than the pricing, as the
	// line searches end on kinks of ψ.
	robustSupportTolerance = 1e-10
)

// residual sets rp.w = a + Σ ζₖsₖxₖ and rp.r = R(ζ) for the support, and returns λ.
func (rp *robustProjector) residual(a []float64, st *robustActive, sg func(int) float64) float64 {
	d := rp.d
	copy(rp.w, a)
	lambda := 0.0
	for i, k := range st.k {
		axpy(st.zeta[i]*sg(k), rp.x[k*d:(k+1)*d], rp.w)
		lambda += st.zeta[i]
	}
	lambda *= rp.eps
	for c := 0; c < d; c++ {
		if c < rp.dS {
			rp.r[c] = soft(rp.w[c], lambda)
		} else {
			rp.r[c] = rp.w[c]
		}
	}
	return lambda
}

// project sets v = Π_C(a) for the cone whose point signs are sign[off + k*stride]
// and updates the warm start st; a − v ∈ C°.
func (rp *robustProjector) project(a, v []float64, sign []float64, off, stride int, st *robustActive) {
	d, n := rp.d, rp.n
	rp.projections++
	sg := func(k int) float64 { return sign[off+k*stride] }
	na := norm2(a)
	prevPsi := math.Inf(1)
	added := false
	for range 10*d + 50 {
		rp.residual(a, st, sg)
		psi := dot(rp.r, rp.r) / 2
		if !added && psi >= prevPsi*(1-1e-14) {
			break // no descent left: optimal up to rounding
		}
		prevPsi = psi
		// Gradient: gₖ = sₖxₖᵀR − ε‖R_S‖₁ for every point; KKT: gₖ ≥ 0, and gₖ = 0 on
		// the support.
		rp.pricings++
		blas64.Gemv(blas.NoTrans, 1, blas64.General{Rows: n, Cols: d, Stride: d, Data: rp.x},
			blas64.Vector{N: d, Inc: 1, Data: rp.r}, 0, blas64.Vector{N: n, Inc: 1, Data: rp.xr})
		l1 := 0.0
		for c := 0; c < rp.dS; c++ {
			l1 += math.Abs(rp.r[c])
		}
		scale := rp.rowMax * math.Max(na, norm2(rp.r))
		inner := 0.0
		for _, k := range st.k {
			inner = math.Max(inner, math.Abs(sg(k)*rp.xr[k]-rp.eps*l1))
			rp.xr[k] = math.NaN() // marks the support
		}
		worst, kw := -math.Max(robustPriceTolerance, rp.loose)*scale, -1
		for k := 0; k < n; k++ {
			if g := sg(k)*rp.xr[k] - rp.eps*l1; g < worst { // false on the support (NaN)
				worst, kw = g, k
			}
		}
		if kw < 0 && inner <= math.Max(robustSupportTolerance, rp.loose)*scale {
			break
		}
		added = kw >= 0
		if added {
			st.k = append(st.k, kw)
			st.zeta = append(st.zeta, 0)
		}
		rp.newtonStep(a, st, sg)
	}
	rp.residual(a, st, sg)
	copy(v, rp.r)
}

// newtonStep runs Lawson and Hanson's inner loop on the support, with the least
// squares problem of the current piece of ψ and exact line searches: it solves for
// the piece's minimizer z on the support; if z > 0 it moves to the best point of the
// segment towards z and returns; otherwise it moves towards z only until the first
// weight reaches zero (or ψ stops decreasing), drops that point and repeats. A point
// just added (weight zero) that the piece's step would not raise is instead moved
// along its own coordinate, on which ψ decreases (its gradient entry is negative).
// ψ never increases.
func (rp *robustProjector) newtonStep(a []float64, st *robustActive, sg func(int) float64) {
	for range 3*rp.d + 10 {
		m := len(st.k)
		if m == 0 {
			return
		}
		rp.newton++
		lambda := rp.residual(a, st, sg)
		z := rp.direction(st, sg, lambda)
		tmax, block := rp.maxStep(st, z)
		slope := rp.slope(st, sg, z, lambda)
		if slope(0) >= 0 {
			return // no descent along the step: the support is optimal for its piece
		}
		if math.IsInf(tmax, 1) {
			tmax = 1
			for i := 0; i < 200 && slope(tmax) < 0; i++ {
				tmax *= 2
			}
		}
		t := tmax
		if slope(tmax) > 0 {
			t = rootIncreasing(slope, 0, tmax)
		}
		keep := 0
		for i := range st.k {
			zn := st.zeta[i] + t*z[i]
			if zn > 0 && !(i == block && t == tmax) {
				st.k[keep], st.zeta[keep] = st.k[i], zn
				keep++
			}
		}
		st.k, st.zeta = st.k[:keep], st.zeta[:keep]
		if t < tmax || block < 0 {
			return // the best point of the segment (or the full step) was reached
		}
	}
}

// direction returns the Newton direction Δ = z − ζ of the support's weights on the
// current piece (λ the soft threshold of the residual).
func (rp *robustProjector) direction(st *robustActive, sg func(int) float64, lambda float64) []float64 {
	d, m := rp.d, len(st.k)
	if cap(rp.h) < m*d {
		rp.h = make([]float64, m*d)
		rp.gram = make([]float64, m*m)
		rp.z = make([]float64, m)
		rp.rhs = make([]float64, m)
	}
	h, gram, z, rhs := rp.h[:m*d], rp.gram[:m*m], rp.z[:m], rp.rhs[:m]
	// Columns of the current piece: hₖ,c = sₖxₖ,c − εσ_c on the coordinates of S
	// beyond ±λ (σ their sign), sₖxₖ,c off S, zero elsewhere; on the piece
	// R = b + Hζ with b = R − Hζ.
	for i, k := range st.k {
		xk := rp.x[k*d : (k+1)*d]
		s := sg(k)
		for c := 0; c < d; c++ {
			switch {
			case c >= rp.dS:
				h[i*d+c] = s * xk[c]
			case rp.w[c] > lambda:
				h[i*d+c] = s*xk[c] - rp.eps
			case rp.w[c] < -lambda:
				h[i*d+c] = s*xk[c] + rp.eps
			default:
				h[i*d+c] = 0
			}
		}
	}
	// Normal equations HᵀH z = HᵀHζ − HᵀR on a maximal independent subset of the
	// support's columns (in support order, so the point just added comes last); a
	// dependent column's weight is moved to the others (its z is 0), which leaves the
	// piece's minimum unchanged and keeps the support at most d points, as
	// Carathéodory allows.
	for i := 0; i < m; i++ {
		for j := 0; j <= i; j++ {
			v := dot(h[i*d:(i+1)*d], h[j*d:(j+1)*d])
			gram[i*m+j], gram[j*m+i] = v, v
		}
	}
	for i := 0; i < m; i++ {
		hz := 0.0
		for j := 0; j < m; j++ {
			hz += gram[i*m+j] * st.zeta[j]
		}
		rhs[i] = hz - dot(h[i*d:(i+1)*d], rp.r)
	}
	solvePivoted(gram, rhs, z, m)
	for i := range z {
		z[i] -= st.zeta[i]
	}
	last := m - 1
	if st.zeta[last] == 0 && z[last] <= 0 {
		clear(z)
		z[last] = 1
	}
	return z
}

// maxStep returns the largest step along z keeping ζ ≥ 0 (1 when the full step keeps
// every weight positive, +Inf for a coordinate direction) and the weight that blocks
// it (−1 for none).
func (rp *robustProjector) maxStep(st *robustActive, z []float64) (float64, int) {
	tmax, block := math.Inf(1), -1
	for i := range z {
		if z[i] < 0 {
			if t := st.zeta[i] / -z[i]; t < tmax {
				tmax, block = t, i
			}
		}
	}
	full := true
	for i := range z {
		if z[i] != 0 && st.zeta[i]+z[i] <= 0 {
			full = false
		}
	}
	if full && tmax > 1 {
		return 1, -1
	}
	return tmax, block
}

// slope returns the derivative of ψ(ζ + tΔ) in t, convex in t, for the exact line
// search: Σ_S soft(w + tΔw, λ + tΔλ)(Δw ∓ Δλ) + Σ_{off S} (w + tΔw)Δw.
func (rp *robustProjector) slope(st *robustActive, sg func(int) float64, z []float64, lambda float64) func(float64) float64 {
	d := rp.d
	clear(rp.dw)
	dl := 0.0
	for i, k := range st.k {
		if z[i] != 0 {
			axpy(z[i]*sg(k), rp.x[k*d:(k+1)*d], rp.dw)
			dl += z[i]
		}
	}
	dl *= rp.eps
	return func(t float64) float64 {
		s := 0.0
		l := lambda + t*dl
		for c := 0; c < d; c++ {
			w := rp.w[c] + t*rp.dw[c]
			if c >= rp.dS {
				s += w * rp.dw[c]
				continue
			}
			switch {
			case w > l:
				s += (w - l) * (rp.dw[c] - dl)
			case w < -l:
				s += (w + l) * (rp.dw[c] + dl)
			}
		}
		return s
	}
}

// solvePivoted solves the normal equations G z = b (G the m×m Gram matrix of the
// columns, overwritten by its factor) on a maximal linearly independent subset of the
// columns, chosen in order: a column whose Cholesky pivot is below robustDependent
// times its squared norm (the sine of its angle to the span of the earlier ones
// below 1e-6) is skipped and gets zᵢ = 0.
func solvePivoted(g, b, z []float64, m int) {
	indep := make([]bool, m)
	for j := 0; j < m; j++ {
		diag := g[j*m+j]
		v := diag
		for k := 0; k < j; k++ {
			if indep[k] {
				v -= g[j*m+k] * g[j*m+k]
			}
		}
		if !(v > robustDependent*diag) {
			continue
		}
		indep[j] = true
		g[j*m+j] = math.Sqrt(v)
		for i := j + 1; i < m; i++ {
			u := g[i*m+j]
			for k := 0; k < j; k++ {
				if indep[k] {
					u -= g[i*m+k] * g[j*m+k]
				}
			}
			g[i*m+j] = u / g[j*m+j]
		}
	}
	for i := 0; i < m; i++ {
		if !indep[i] {
			z[i] = 0
			continue
		}
		v := b[i]
		for k := 0; k < i; k++ {
			if indep[k] {
				v -= g[i*m+k] * z[k]
			}
		}
		z[i] = v / g[i*m+i]
	}
	for i := m - 1; i >= 0; i-- {
		if !indep[i] {
			continue
		}
		v := z[i]
		for k := i + 1; k < m; k++ {
			if indep[k] {
				v -= g[k*m+i] * z[k]
			}
		}
		z[i] = v / g[i*m+i]
	}
}
