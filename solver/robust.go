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

// robustCone projects onto the robust cone of one block in the ADMM's splitting,
//
//	C = {(g, p) ∈ ℝⁿ × ℝᵈ : g_k ≥ ε‖p‖₁,S for every k},
//
// in the metric ‖g − g₀‖² + w‖p − p₀‖² (w = τ_p², the weight of the split p = u). Here
// g stands for the cone rows Gᵢv = (2Dᵢ − I)Xv and p for v, so that C holds the
// robust constraint (2dᵢₖ − 1)xₖᵀv ≥ ε‖v‖₁,S of MATH.md §7.
//
// Derivation (ours). For a level T = ε‖p‖₁,S ≥ 0 the best g is max(g₀, T) and the best
// p_S the projection of p₀,S onto the l1 ball of radius T/ε; what remains is the convex
// scalar problem in T,
//
//	Φ(T) = Σ_k (T − g₀ₖ)₊² + w · dist²(p₀,S, B₁(T/ε)),
//	Φ'(T)/2 = Σ_k (T − g₀ₖ)₊ − (w/ε) λ(T/ε),
//
// λ(R) the threshold of the l1 projection (the derivative of dist² in R is −2λ).
// Φ' is nondecreasing and piecewise linear, zero on [0, ε‖p₀‖₁,S] at most; the root
// is found by rootIncreasing. Off S, p = p₀. With ε = 0, C = {g ≥ 0}.
type robustCone struct {
	sorted, prefix []float64
}

func newRobustCone(d int) *robustCone {
	return &robustCone{sorted: make([]float64, d), prefix: make([]float64, d)}
}

// project overwrites g (n) and p (d) with their projection.
func (rc *robustCone) project(g, p []float64, w, eps float64, dS int) {
	if eps == 0 {
		for k, v := range g {
			g[k] = math.Max(v, 0)
		}
		return
	}
	s := rc.sorted[:dS]
	for i := 0; i < dS; i++ {
		s[i] = math.Abs(p[i])
	}
	slices.Sort(s)
	slices.Reverse(s)
	pre := rc.prefix[:dS]
	acc := 0.0
	for i, v := range s {
		acc += v
		pre[i] = acc
	}
	l1 := acc
	dphi := func(T float64) float64 {
		sum := 0.0
		for _, v := range g {
			if T > v {
				sum += T - v
			}
		}
		return sum - w/eps*l1Threshold(s, pre, T/eps)
	}
	T := 0.0
	if dphi(0) < 0 {
		T = rootIncreasing(dphi, 0, eps*l1)
	}
	for k, v := range g {
		g[k] = math.Max(v, T)
	}
	lambda := l1Threshold(s, pre, T/eps)
	for i := 0; i < dS; i++ {
		p[i] = soft(p[i], lambda)
	}
}

// kronSystem solves the u-step system of Adversarial's ADMM,
//
//	(I₂ₚ ⊗ B + γ² [C −C; −C C] ⊗ I_d) u = r,   B = τ²I + XᵀX,   C = Σₖ dₖdₖᵀ,
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
	var xtx mat.SymDense
	xtx.SymOuterK(1, mat.NewDense(n, d, pr.x).T())
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			v := xtx.At(i, j)
			if i == j {
				v += tau2
			}
			B.SetSym(i, j, v)
		}
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
