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

// worstLoss returns the worst case of the loss over the l∞ ball of a linear model,
//
//	max_{‖δ_S‖∞ ≤ ε, δ_{S^c} = 0} ℓ((x + δ)ᵀa, y)
//
// given z = xᵀa and t = ε‖a‖₁,S. Because max_δ δᵀa = t and min_δ δᵀa = −t, the
// prediction ranges over [z − t, z + t]; a loss convex in the prediction is largest
// at an end:
//
//	hinge:    (1 − yz + t)₊
//	squared:  ½(|z − y| + t)²
//	logistic: log(1 + exp(−yz + t))
//
// (½ as in the package's squared loss ½‖ŷ − y‖²).
func (l Loss) worstLoss(z, t, y float64) float64 {
	switch l {
	case Hinge:
		return math.Max(0, 1-y*z+t)
	case Squared:
		r := math.Abs(z-y) + t
		return 0.5 * r * r
	case Logistic:
		return softplus(-y*z + t)
	}
	panic("solver: unknown loss")
}

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

// robustProx is the proximal map of a worst-case loss in the model's weights,
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
func robustProx(loss Loss, x, b0 []float64, y, eps float64, dS int, rho float64, b []float64, scratch []float64) (c, r float64) {
	d := len(x)
	// fill sets b = prox_{θq}(b₀) for q = κ xᵀb + ε‖b‖₁,S (κ = −y or σ), returns q(b).
	fill := func(theta, kappa float64) float64 {
		q := 0.0
		for i := 0; i < d; i++ {
			a := b0[i] - theta*kappa*x[i]
			if i < dS {
				a = soft(a, theta*eps)
				q += eps * math.Abs(a)
			}
			b[i] = a
			q += kappa * x[i] * a
		}
		return q
	}
	switch loss {
	case Hinge, Logistic:
		kappa := -y
		var theta float64
		if loss == Hinge {
			// q(b) + 1 as a function of θ is nonincreasing; the root is where the
			// hinge's kink is (h' ∈ [0, 1]).
			switch {
			case fill(0, kappa) <= -1:
				theta = 0
			case fill(1/rho, kappa) >= -1:
				theta = 1 / rho
			default:
				theta = rootIncreasing(func(t float64) float64 { return -1 - fill(t, kappa) }, 0, 1/rho)
			}
		} else {
			theta = rootIncreasing(func(t float64) float64 { return rho*t - sigmoid(fill(t, kappa)) }, 0, 1/rho)
		}
		fill(theta, kappa)
		c = -y * rho * theta
		return c, math.Abs(c)
	case Squared:
		res0 := dot(x, b0) - y
		first := 1.0
		if res0 < 0 {
			first = -1
		}
		for _, sigma := range []float64{first, -first} {
			qs := func(t float64) float64 { return fill(t, sigma) - sigma*y }
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
	panic("solver: unknown loss")
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

// l1Threshold returns the threshold λ ≥ 0 of the Euclidean projection onto the l1
// ball of radius R, soft(a, λ), for the magnitudes sorted in decreasing order with
// their prefix sums: Σ_c (|a_c| − λ)₊ = R, or 0 when ‖a‖₁ ≤ R.
func l1Threshold(sorted, prefix []float64, R float64) float64 {
	m := len(sorted)
	if m == 0 || prefix[m-1] <= R {
		return 0
	}
	// The number of entries above λ: the largest j with sorted[j−1] > (prefix[j−1] − R)/j.
	j := m
	for j > 1 && sorted[j-1] <= (prefix[j-1]-R)/float64(j) {
		j--
	}
	return math.Max(0, (prefix[j-1]-R)/float64(j))
}

// kronSystem solves the u-step system of Adversarial's ADMM,
//
//	(I₂ₚ ⊗ B + γ² [C −C; −C C] ⊗ I_d) u = r,   B = τ²I (+ XᵀX),   C = Σₖ dₖdₖᵀ,
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

func newKronSystem(pr *program, tau2, gamma2 float64, gram bool) (*kronSystem, error) {
	n, d, P := pr.n, pr.d, pr.P
	B := mat.NewSymDense(d, nil)
	if gram {
		B.SymOuterK(1, mat.NewDense(n, d, pr.x).T())
	}
	for i := 0; i < d; i++ {
		B.SetSym(i, i, B.At(i, i)+tau2)
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

// robustInfeasible reports whether no pattern with an active point admits a robust
// block that depends on the perturbed inputs at radius eps, i.e. eps exceeds
// robustCapacity for every such pattern. Then every feasible block has v_S = 0, and
// (2dᵢₖ − 1)xₖᵀv ≥ 0 over a pattern with both active and inactive points forces the
// bias weight to zero too, so only the zero network is feasible. (A pattern with no
// active point contributes nothing to any prediction.) A generator hᵢ whose robust
// margin already reaches eps settles a pattern without the linear program.
func robustInfeasible(pr *program, eps float64, dS int) bool {
	n, d, P := pr.n, pr.d, pr.P
	gens := pr.arr.Generators
	for i := 0; i < P; i++ {
		if pr.arr.ActiveCount(i) == 0 {
			continue
		}
		if gens != nil {
			h := gens.RawRowView(i)
			l1 := 0.0
			for c := 0; c < dS; c++ {
				l1 += math.Abs(h[c])
			}
			margin := math.Inf(1)
			for k := 0; k < n; k++ {
				margin = math.Min(margin, pr.sign[k*P+i]*dot(pr.x[k*d:(k+1)*d], h))
			}
			if l1 > 0 && margin >= eps*l1 {
				return false
			}
		}
		if robustCapacity(pr, i, dS) >= eps*(1-capacityTolerance) {
			return false
		}
	}
	return true
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
// through its polar. C° is the cone generated by the vectors
//
//	g_{k,σ} = −sₖxₖ + εσ,   σ ∈ {−1, 1}^S (zero off S),
//
// (v ∈ C iff ⟨g_{k,σ}, v⟩ ≤ 0 for all of them, as maxσ σᵀv_S = ‖v_S‖₁), so by
// Moreau's decomposition Π_C(a) = a − Π_{C°}(a), and Π_{C°}(a) = Σᵢ γᵢgᵢ for the
// non-negative least-squares problem min_{γ≥0} ‖a − Σᵢ γᵢgᵢ‖² over the generators.
// That is solved by the active-set method of Lawson and Hanson (1974) with the
// columns generated on demand (our derivation): the most positive ⟨g, r⟩ at the
// residual r = a − Σγᵢgᵢ is maxₖ (−sₖxₖᵀr) + ε‖r_S‖₁, attained at σ = sign(r_S), one
// product Xr away. The method ends after finitely many steps (the generators are
// finitely many) when r ∈ C, with linearly independent active generators, and is
// warm-started from the previous active set, which near an ADMM solution is already
// the final one. The weights γ ≥ 0 give the polar part Σγᵢgᵢ ∈ C° exactly, the
// multiplier that the dual certificate uses. With ε = 0 it is the projection onto
// the cone Kᵢ of MATH.md §3.
type robustProjector struct {
	x        []float64 // X, n×d row-major
	n, d, dS int
	eps      float64
	rowMax   float64   // maxₖ ‖xₖ‖
	r, xr    []float64 // residual (d), X r (n)
	z        []float64 // least-squares solution on the active set
	stride   int       // of the factors: d + 1, the most independent generators

	projections, solves, pricings int // statistics
}

// robustActive is the warm-start state of one block: the active generators (their
// point k and vector gᵢ), their weights γᵢ > 0, and the Cholesky factor of their Gram
// matrix (rows 0..factored−1 current), kept between projections because near an
// ADMM solution the active set no longer changes.
type robustActive struct {
	k        []int
	vecs     [][]float64
	gamma    []float64
	l        []float64
	factored int
}

func newRobustProjector(pr *program, eps float64, dS int) *robustProjector {
	n, d := pr.n, pr.d
	rp := &robustProjector{x: pr.x, n: n, d: d, dS: dS, eps: eps,
		r: make([]float64, d), xr: make([]float64, n), z: make([]float64, d+1), stride: d + 1}
	for k := 0; k < n; k++ {
		rp.rowMax = math.Max(rp.rowMax, norm2(pr.x[k*d:(k+1)*d]))
	}
	return rp
}

// Tolerances of the robust projection.
const (
	// robustPriceTolerance: a generator enters when ⟨g, r⟩ exceeds this times
	// max ‖g‖ · max(‖a‖, ‖r‖), safely above the rounding of a d-term product.
	robustPriceTolerance = 1e-12
	// robustDependent: a pivot L_ii² of the Gram factor below this times ‖gᵢ‖² (a sine
	// of the angle to the span of the others below 1e-6) means a dependent generator.
	robustDependent = 1e-12
)

// project sets v = Π_C(a) for the cone whose point signs are sign[off + k*stride]
// and updates the warm start st; a − v = Σγᵢgᵢ over st's generators.
func (rp *robustProjector) project(a, v []float64, sign []float64, off, stride int, st *robustActive) {
	d := rp.d
	rp.projections++
	sg := func(k int) float64 { return sign[off+k*stride] }
	na := norm2(a)
	gnorm := rp.rowMax + rp.eps*math.Sqrt(float64(rp.dS))
	if len(st.l) < rp.stride*rp.stride {
		st.l = make([]float64, rp.stride*rp.stride)
		st.factored = 0
	}
	// Re-solve on the warm start's generators (refactored only if they changed).
	if st.factored != len(st.k) {
		rp.refactor(st)
	}
	if len(st.k) > 0 && !rp.solveActive(a, st) {
		st.k, st.vecs, st.gamma, st.factored = st.k[:0], st.vecs[:0], st.gamma[:0], 0
	}
	for range 4*d + 20 {
		rp.residual(a, st)
		rp.pricings++
		blas64.Gemv(blas.NoTrans, 1, blas64.General{Rows: rp.n, Cols: d, Stride: d, Data: rp.x},
			blas64.Vector{N: d, Inc: 1, Data: rp.r}, 0, blas64.Vector{N: rp.n, Inc: 1, Data: rp.xr})
		l1 := 0.0
		for c := 0; c < rp.dS; c++ {
			l1 += math.Abs(rp.r[c])
		}
		best, kb := math.Inf(-1), -1
		for k := 0; k < rp.n; k++ {
			if w := -sg(k) * rp.xr[k]; w > best {
				best, kb = w, k
			}
		}
		best += rp.eps * l1
		if kb < 0 || best <= robustPriceTolerance*gnorm*math.Max(na, norm2(rp.r)) {
			break
		}
		m := len(st.k)
		g := make([]float64, d) // fresh: compaction may leave shared vectors past len
		xk := rp.x[kb*d : (kb+1)*d]
		for c := 0; c < d; c++ {
			g[c] = -sg(kb) * xk[c]
			if c < rp.dS {
				switch {
				case rp.r[c] > 0:
					g[c] += rp.eps
				case rp.r[c] < 0:
					g[c] -= rp.eps
				}
			}
		}
		st.k = append(st.k, kb)
		st.vecs = append(st.vecs, g)
		st.gamma = append(st.gamma, 0)
		if m >= rp.stride || !rp.appendRow(st, m) {
			// Dependent on the active generators: optimal up to rounding.
			st.k, st.vecs, st.gamma = st.k[:m], st.vecs[:m], st.gamma[:m]
			break
		}
		st.factored = m + 1
		if !rp.solveActive(a, st) {
			st.k, st.vecs, st.gamma, st.factored = st.k[:0], st.vecs[:0], st.gamma[:0], 0
			break
		}
	}
	rp.residual(a, st)
	copy(v, rp.r)
}

// residual sets r = a − Σ γᵢ gᵢ.
func (rp *robustProjector) residual(a []float64, st *robustActive) {
	copy(rp.r, a)
	for i, g := range st.vecs {
		axpy(-st.gamma[i], g, rp.r)
	}
}

// appendRow adds generator m of st as row m of the Cholesky factor of the active
// generators' Gram matrix (rows 0..m−1 current) and reports false when it is
// numerically dependent on them.
func (rp *robustProjector) appendRow(st *robustActive, m int) bool {
	s := rp.stride
	l := st.l
	g := st.vecs[m]
	diag := dot(g, g)
	if diag == 0 {
		return false
	}
	for j := 0; j <= m; j++ {
		v := diag
		if j < m {
			v = dot(g, st.vecs[j])
		}
		for k := 0; k < j; k++ {
			v -= l[m*s+k] * l[j*s+k]
		}
		if j < m {
			l[m*s+j] = v / l[j*s+j]
		} else {
			if v <= robustDependent*diag {
				return false
			}
			l[m*s+m] = math.Sqrt(v)
		}
	}
	return true
}

// refactor rebuilds the factor for st's generators, dropping dependent ones; rows
// before from are current and kept.
func (rp *robustProjector) refactor(st *robustActive) { rp.refactorFrom(st, 0) }

func (rp *robustProjector) refactorFrom(st *robustActive, from int) {
	keep := from
	for i := from; i < len(st.k); i++ {
		st.k[keep], st.vecs[keep], st.gamma[keep] = st.k[i], st.vecs[i], st.gamma[i]
		if keep < rp.stride && rp.appendRow(st, keep) {
			keep++
		}
	}
	st.k, st.vecs, st.gamma = st.k[:keep], st.vecs[:keep], st.gamma[:keep]
	st.factored = keep
}

// leastSquares sets rp.z to argmin_z ‖a − Σᵢ zᵢgᵢ‖ by the normal equations with the
// current factor.
func (rp *robustProjector) leastSquares(a []float64, st *robustActive) []float64 {
	rp.solves++
	m := len(st.k)
	s := rp.stride
	l := st.l
	z := rp.z[:m]
	for i, g := range st.vecs {
		z[i] = dot(g, a)
	}
	for i := 0; i < m; i++ {
		v := z[i]
		for k := 0; k < i; k++ {
			v -= l[i*s+k] * z[k]
		}
		z[i] = v / l[i*s+i]
	}
	for i := m - 1; i >= 0; i-- {
		v := z[i]
		for k := i + 1; k < m; k++ {
			v -= l[k*s+i] * z[k]
		}
		z[i] = v / l[i*s+i]
	}
	return z
}

// solveActive is Lawson and Hanson's inner loop: from weights γ ≥ 0 on the active
// generators, move towards the least-squares solution z, dropping generators whose
// weight reaches zero, until z > 0. It reports false if it did not settle.
func (rp *robustProjector) solveActive(a []float64, st *robustActive) bool {
	for range 3*rp.d + 10 {
		z := rp.leastSquares(a, st)
		step, hit := 1.0, -1
		for i, zi := range z {
			if zi <= 0 {
				if s := st.gamma[i] / (st.gamma[i] - zi); hit < 0 || s < step {
					step, hit = s, i
				}
			}
		}
		if hit < 0 {
			copy(st.gamma, z)
			return true
		}
		keep, first := 0, -1
		for i := range st.gamma {
			gn := st.gamma[i] + step*(z[i]-st.gamma[i])
			if i != hit && gn > 0 {
				st.k[keep], st.vecs[keep], st.gamma[keep] = st.k[i], st.vecs[i], gn
				keep++
			} else if first < 0 {
				first = i
			}
		}
		st.k, st.vecs, st.gamma = st.k[:keep], st.vecs[:keep], st.gamma[:keep]
		rp.refactorFrom(st, first) // the rows before the first removal stay valid
	}
	return false
}
