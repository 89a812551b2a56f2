package solver

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// Certificate is the optimality certificate of a convex solve: a feasible dual point
// gives a lower bound Dual on the optimum of the program solved, so
// Primal − Dual ≥ Primal − optimum (up to the cone violation of the primal point).
type Certificate struct {
	// Primal is the convex objective at the returned point.
	Primal float64
	// Dual is the dual objective −ℓ*(η) of a feasible dual point, a lower bound on the
	// optimal value (−Inf when none was found, e.g. β = 0).
	Dual float64
	// Gap is (Primal − Dual)/|Primal|, the relative duality gap.
	Gap float64
	// ConeViolation is maxᵢ ‖((2Dᵢ − I)Xvᵢ)₋‖∞ / maxᵢ ‖Xvᵢ‖∞ over all blocks (zero
	// for methods without cone constraints).
	ConeViolation float64
	// DualScale is t = max(1, w/β) for the largest constraint value w of the dual
	// estimate: the least factor it must be divided by to become feasible (t − 1
	// measures the dual infeasibility of the method's multipliers). The bound Dual
	// is that of the best multiple of the estimate, not necessarily of 1/t of it.
	DualScale float64

	dualScale float64 // size of the terms of the u-stationarity (ADMM's ‖Aᵀy‖)
}

// certExact bounds the exact projections of one certificate: beyond the 16 largest
// bounds the next bound stands for the rest (a valid upper bound of each), which
// costs little once the warm-started bounds are nearly tight and keeps an early,
// far-from-optimal certificate (whose bounds are loose) from projecting every block.
const certExact = 16

// certSteps bounds the outer steps of each of the certificate's projections (from
// its warm start, the previous certificate's active rows): a projection cut there
// still bounds ‖Π_K(g)‖ from above, so the certificate stays valid and is at most
// looser by what the remaining steps would have removed. Near a solution the warm
// start needs a few steps; early, at d = 785, a cold projection needed hundreds, and
// the certificate cost ten iterations (MNIST 2 vs 8 at 28×28: 11 CPU seconds of 16
// exact projections, every 10 iterations of 0.4 s).
const certSteps = 64

// certState holds the certificate's work: the dual candidate η, the product Fᵀη
// and the projections onto the cones with their own warm starts.
type certState struct {
	eta     []float64 // n
	t       []float64 // n×P: mask ∘ η
	out     []float64 // P×d: Xᵀ(dᵢ ∘ η)
	g       []float64 // d
	pg      []float64 // 2P: ‖Π_{Kⱼ}(gⱼ)‖ of the projected blocks (an upper bound if stopped)
	val     []float64 // 2P: upper bounds on ‖Π_{Kⱼ}(gⱼ)‖ of this certificate's η (exact where projected)
	scale   float64   // the factor s the certificate scaled its η by
	gs      []float64 // 2P×d: gⱼ = −Fⱼᵀη
	bound   []float64 // 2P: upper bounds on ‖Π_{Kⱼ}(gⱼ)‖
	order   []int
	projs   []*coneProjector // one per worker
	xg      [][]float64      // one per worker: X gⱼ of the block being projected (n)
	stopped []bool           // one per worker: a projection of the running round was stopped
	act     [][]int
	zeta    [][]float64
	cache   []coneCache
}

func (cs *certState) alloc(pr *program, workers int) {
	n, d, P := pr.n, pr.d, pr.P
	cs.eta, cs.t, cs.out, cs.g = make([]float64, n), make([]float64, n*P), make([]float64, P*d), make([]float64, d)
	cs.projs, cs.stopped, cs.xg = make([]*coneProjector, workers), make([]bool, workers), make([][]float64, workers)
	for w := range cs.projs {
		cs.projs[w] = newConeProjector(pr.X)
		cs.projs[w].maxSteps = certSteps
		// With the Gram matrix (computed by the v-step's projectors), one product
		// X gⱼ per projection replaces one per step of its outer loop.
		if cs.projs[w].gram = pr.gramXX; pr.gramXX != nil {
			cs.xg[w] = make([]float64, n)
		}
	}
	cs.act, cs.zeta, cs.cache = make([][]int, 2*P), make([][]float64, 2*P), make([]coneCache, 2*P)
}

// certificate builds a feasible dual point from the current iterate. The dual of the
// program (MATH.md §3) is
//
//	maximize −ℓ*(η)   subject to   ‖Π_{Kⱼ}(−Fⱼᵀη)‖₂ ≤ β for every block j,
//
// since the conjugate of β‖·‖₂ + 𝟙_K is the indicator of {g : ‖Π_K(g)‖ ≤ β} (by
// Moreau's decomposition, min over ζ ≥ 0 of ‖g − Gᵀζ‖ is ‖Π_K(g)‖). The candidate η
// is, for the squared loss, the gradient ŷ − y at the point's predictions and Fu − y
// at the u-iterate's (see uResidual; the better bound counts), and otherwise the
// multiplier ρσ²μ of the split Fu = z, clipped to the domain of ℓ*. Each
// constraint's value is computed exactly, by projecting onto the cone (warm-started
// from the previous certificate's active rows). The constraints are positively
// homogeneous, so with w = maxⱼ ‖Π_{Kⱼ}(−Fⱼᵀη)‖ every sη with 0 ≤ s ≤ β/w is
// feasible for them, and for the domain of ℓ* as long as sη stays in it (it is
// star-shaped about 0). The dual objective φ(s) = −ℓ*(sη) is concave in s, so the
// bound is its maximum on that interval (Loss.rayDual: closed forms for the squared
// and hinge losses, a 1-D Newton search for the logistic). It is never below
// φ(1/t), t = max(1, w/β), the division that only restores feasibility, and exceeds
// it when η is feasible but short (s > 1, up to the domain's edge or β/w) or when
// φ decreases before 1/t (s < 1/t: the squared and logistic losses).
func (a *admm) certificate(primal, violation float64) Certificate {
	eta := a.cert.eta
	if a.split {
		copy(eta, a.eta)
		return a.certificateAt(&a.cert, primal, violation, eta)
	}
	refitted := !a.noRefit && a.rf.due() && a.refit(&a.rf, a.ev.xu, a.ev.norms, eta)
	if !refitted {
		for k := range eta {
			eta[k] = a.ev.convex[k] - a.pr.y[k]
		}
	}
	c := a.certificateAt(&a.cert, primal, violation, eta)
	// The best bound of the candidates (the refitted one, Fu − y, and their
	// combination with ŷ − y) counts; the scale of the residual balancing stays
	// that of ŷ − y at the point (see balance, pointBounds): taking the u-iterate's
	// lowered ρ sooner, which on the n = 250, β = 1e-3 benchmark instance certified
	// 1e-4 in 810 iterations instead of 1 330 but 1e-6 in 8 160 instead of 2 580
	// (its polishing succeeded later). An interrupted run (whose projections stop
	// at their first poll) has the first bound only.
	if a.dr != nil && a.dr.interrupted() != NotTerminated {
		return c
	}
	cu := a.certificateAt(&a.atU, primal, violation, a.uResidual())
	if refitted {
		a.rf.judge(c.Gap, cu.Gap)
	}
	if cu.Dual > c.Dual {
		c.Dual, c.DualScale, c.Gap = cu.Dual, cu.DualScale, cu.Gap
	}
	var etas, vals [][]float64
	for _, cs := range []*certState{&a.cert, &a.atU} {
		if cs.scale > 0 {
			v := make([]float64, len(cs.val))
			for j := range v {
				v[j] = cs.val[j] * cs.scale
			}
			etas, vals = append(etas, cs.eta), append(vals, v)
		}
	}
	if refitted {
		b, fEta, polar := a.pointBounds(&a.rf)
		etas, vals = append(etas, a.rf.yhat), append(vals, b)
		c.dualScale = math.Max(a.rho*a.tau2*norm2(a.lam), math.Max(math.Sqrt(fEta), math.Sqrt(polar)))
	}
	if len(etas) > 1 {
		d, w := a.combine(etas, vals)
		if a.onCert != nil {
			eta, worst := make([]float64, a.pr.n), 0.0
			for k, e := range etas {
				axpy(w[k], e, eta)
			}
			for j := range vals[0] {
				h := 0.0
				for k, v := range vals {
					h += w[k] * v[j]
				}
				worst = math.Max(worst, h)
			}
			a.onCert(Certificate{Primal: primal, Dual: d, Gap: relativeGap(primal, d)}, eta, worst)
		}
		if d > c.Dual {
			c.Dual, c.Gap = d, relativeGap(primal, d)
		}
	}
	return c
}

// uResidual returns η = Fu − y (in a.atU.eta), the squared loss's gradient at the
// predictions of the last u-step's u (not of v, the point certified). The u-step solves
// (τ²I + FᵀF/ρ) u = τ²(v₀ − λ₀) + Fᵀy/ρ, so Fᵀ(Fu − y) = −ρτ²(u − v₀ + λ₀), and the
// v-step's λ = αu + (1 − α)v₀ + λ₀ − v makes ρτ²λ a subgradient of β‖v‖ + 𝟙_K at
// v, a feasible dual point; hence
//
//	−Fᵀη = ρτ²λ + ρτ²((v − v₀) + (1 − α)(u − v₀)),
//
// infeasible only by the dual residual. The candidate ŷ − y at v adds FᵀF(v − u),
// the primal residual amplified by FᵀF: measured on MNIST 2 vs 8 at 10×10
// (n = 1935, d = 101, P = 64) at β = 1e-3, its t = max(1, w/β) was 2·10⁴–10⁵ over a
// 30 s solve against 2·10²–2·10³ for Fu − y. (The slack form adds the terms of
// Gu = s, also residuals; its Fu is in a.fu.)
func (a *admm) uResidual() []float64 {
	pr, eta := a.pr, a.atU.eta
	if !a.slack {
		a.formFu()
	}
	for k := range eta {
		eta[k] = a.fu[k] - pr.y[k]
	}
	return eta
}

// certificateAt is the certificate of a point of objective primal with the dual
// candidate eta (overwritten by the scaled, feasible dual point), the projections
// warm-started from cs (one per source of candidates).
func (a *admm) certificateAt(cs *certState, primal, violation float64, eta []float64) Certificate {
	pr := a.pr
	n, P := pr.n, pr.P
	pr.loss.clipDual(eta, pr.y)
	for k := 0; k < n; k++ {
		row := cs.t[k*P : (k+1)*P]
		for i, m := range pr.mask[k*P : (k+1)*P] {
			row[i] = m * eta[k]
		}
	}
	pr.mulTX(cs.out, cs.t, P, 1, 0)
	worst, fEta, polar := a.dualConstraints(cs)
	// The dual residual is measured against the size of the terms of the
	// u-stationarity condition Fᵀη − Gᵀζ + ρτ²λ = 0 (which cancel at the optimum, so
	// their sum is no scale).
	lam := a.rho * a.tau2 * norm2(a.lam)
	c := Certificate{Primal: primal, ConeViolation: violation,
		dualScale: math.Max(lam, math.Max(math.Sqrt(fEta), math.Sqrt(polar)))}
	var clipped []float64
	if a.onCert != nil {
		clipped = append(clipped, eta...)
	}
	cs.scale = 0
	switch {
	case pr.beta > 0 || worst == 0:
		c.DualScale = 1
		sMax := math.Inf(1)
		if worst > 0 {
			c.DualScale = math.Max(1, worst/pr.beta)
			sMax = pr.beta / worst
		}
		var s float64
		s, c.Dual = pr.loss.rayDual(eta, pr.y, sMax)
		for k := range eta {
			eta[k] *= s
		}
		cs.scale = s
	default:
		c.DualScale = math.Inf(1)
		c.Dual = math.Inf(-1)
	}
	c.Gap = relativeGap(primal, c.Dual)
	if a.onCert != nil {
		a.onCert(c, clipped, worst)
	}
	return c
}

// dualConstraints returns maxⱼ ‖Π_{Kⱼ}(gⱼ)‖ for gⱼ = −Fⱼᵀη (from cs.out), with ‖Fᵀη‖²
// and the squared norm of the polar parts gⱼ − Π(gⱼ) (scales for residual balancing).
// Any ζ ≥ 0 gives an upper bound ‖gⱼ + G_Aᵀζ‖ ≥ ‖Π_K(gⱼ)‖; with the previous
// certificate's multipliers the bound is nearly tight, and exact projections are
// needed only for the blocks whose bound exceeds the largest exact value found so
// far (in decreasing order of the bounds: typically a handful of the 2P blocks), and
// for at most certExact of them.
func (a *admm) dualConstraints(cs *certState) (worst, fEta, polar float64) {
	pr := a.pr
	d, P := pr.d, pr.P
	if cs.bound == nil {
		cs.bound, cs.order, cs.gs = make([]float64, 2*P), make([]int, 2*P), make([]float64, 2*P*d)
	}
	fEta, polar = a.blockBounds(cs, cs.out, cs.gs, cs.bound)
	for j := range cs.order {
		cs.order[j] = j
	}
	if cs.pg == nil {
		cs.pg, cs.val = make([]float64, 2*P), make([]float64, 2*P)
	}
	copy(cs.val, cs.bound)
	if a.gated {
		for j := range cs.bound {
			worst = math.Max(worst, cs.bound[j]) // no cones: the bound is exact
		}
		return worst, fEta, polar
	}
	sort.Slice(cs.order, func(x, y int) bool { return cs.bound[cs.order[x]] > cs.bound[cs.order[y]] })
	// In rounds of one block per worker, down the order of the bounds, until the
	// largest exact value beats the next bound, or certExact blocks are done, or the
	// driver's interruption stopped a projection: then the next bound bounds the
	// rest. A stopped projection's value is an upper bound too (see project), so an
	// interrupted certificate is a valid one, only looser.
	w := len(cs.projs)
	stopped := false
	for lo := 0; lo < 2*P; lo += w {
		if lo >= certExact || stopped || cs.bound[cs.order[lo]] <= worst {
			worst = math.Max(worst, cs.bound[cs.order[lo]])
			break
		}
		round := cs.order[lo:min(lo+w, 2*P)]
		parallelEach(w, len(round), func(wk, r int) {
			j := round[r]
			proj := cs.projs[wk]
			gj := cs.gs[j*d : (j+1)*d]
			proj.cache = &cs.cache[j]
			if proj.gram != nil {
				proj.xa = cs.xg[wk]
				blas64.Gemv(blas.NoTrans, 1, pr.X, blas64.Vector{N: d, Inc: 1, Data: gj}, 0, blas64.Vector{N: pr.n, Inc: 1, Data: proj.xa})
			}
			var pg []float64
			pg, cs.act[j], cs.zeta[j] = proj.project(gj, pr.sign, j%P, P, cs.act[j], cs.zeta[j])
			proj.cache, proj.xa = nil, nil
			cs.pg[j] = math.Min(norm2(pg), cs.bound[j])
			cs.stopped[wk] = cs.stopped[wk] || proj.stopped
		})
		for _, j := range round {
			worst = math.Max(worst, cs.pg[j])
			cs.val[j] = cs.pg[j]
		}
		for wk, s := range cs.stopped {
			stopped = stopped || s
			cs.stopped[wk] = false
		}
	}
	return worst, fEta, polar
}

// blockBounds sets gs (2P×d) to the blocks' gⱼ = −Fⱼᵀη from out = Xᵀ(dᵢ ∘ η) (P×d)
// and bound (2P) to the upper bounds ‖gⱼ + G_Aᵀζ‖ ≥ ‖Π_{Kⱼ}(gⱼ)‖ with cs's
// multipliers ζ ≥ 0 (see dualConstraints), and returns ‖Fᵀη‖² and the squared norm
// of the polar parts.
func (a *admm) blockBounds(cs *certState, out, gs, bound []float64) (fEta, polar float64) {
	pr := a.pr
	d, P := pr.d, pr.P
	for j := 0; j < 2*P; j++ {
		i, sgn := j%P, -1.0 // g = −Fⱼᵀη: −Xᵀ(dᵢ ∘ η) for vᵢ, +Xᵀ(dᵢ ∘ η) for wᵢ
		if j >= P {
			sgn = 1
		}
		g := gs[j*d : (j+1)*d]
		for c, v := range out[i*d : (i+1)*d] {
			g[c] = sgn * v
			fEta += v * v
		}
		copy(cs.g, g)
		for r, k := range cs.act[j] {
			axpy(cs.zeta[j][r]*pr.sign[k*P+i], pr.x[k*d:(k+1)*d], cs.g)
		}
		bound[j] = norm2(cs.g)
		for c, v := range cs.g {
			r := g[c] - v
			polar += r * r
		}
	}
	return fEta, polar
}

// relativeGap returns (primal − dual)/|primal|, with 0/0 read as 0.
func relativeGap(primal, dual float64) float64 {
	if math.IsInf(dual, -1) || math.IsNaN(dual) {
		return math.Inf(1)
	}
	diff := primal - dual
	if diff == 0 {
		return 0
	}
	return diff / math.Abs(primal)
}

// relGap returns (obj − ref)/|ref|, NaN when ref is 0 (unknown).
func relGap(obj, ref float64) float64 {
	if ref == 0 {
		return math.NaN()
	}
	return (obj - ref) / math.Abs(ref)
}

// balance adapts ρ by residual balancing, normalized as in OSQP (Stellato et al. 2020
// §5.2): ρ ← ρ √((‖r‖/max(‖Au‖, ‖z‖)) / (‖s‖/‖Aᵀy‖)), within [ρ_lo, ρ_hi] (see
// rhoRange). The scaled duals are rescaled. For the squared loss the u-step matrix
// depends on ρ, so ρ changes only by factors beyond rhoChangeFactor and at most
// maxRefactorizations times. It reports whether ρ changed.
func (a *admm) balance(aty float64) (bool, error) {
	pn := a.primal / math.Max(math.Max(a.normAU, a.normZ), 1e-300)
	dn := a.dual / math.Max(aty, 1e-300)
	if pn == 0 || dn == 0 || a.refactorizations >= maxRefactorizations {
		return false, nil
	}
	ratio := math.Sqrt(pn / dn)
	if ratio < rhoChangeFactor && ratio > 1/rhoChangeFactor {
		return false, nil
	}
	rho := math.Min(math.Max(a.rho*ratio, a.rhoLo), a.rhoHi)
	if ratio < 1 && a.pr.loss.rhoFloor() {
		// The hinge loss's ρ does not go below the default: on the breast-cancer
		// benchmark balancing lowered it twentyfold, to where the residuals were
		// balanced but 10 000 iterations left a 5e-3 gap (2 000 at the default; a
		// fixed half of it needed 4 000). Its defaults were tuned with increases only.
		// After a stall at zero the floor is the ρ that left it (see leaveZero).
		rho = math.Max(rho, math.Min(a.rho, a.rhoBase))
	}
	if ratio > 1 && a.rhoCeil > 0 {
		rho = math.Min(rho, math.Max(a.rho, a.rhoCeil)) // see scaleSquaredRho
	}
	if rho == a.rho {
		return false, nil
	}
	a.setRho(rho)
	a.refactorizations++
	if !a.split {
		return true, a.ls.factor(a.c())
	}
	return true, nil
}

// setRho changes ρ, rescaling the scaled duals and the stored right-hand side.
func (a *admm) setRho(rho float64) {
	f := a.rho / rho
	a.rho = rho
	for i := range a.lam {
		a.lam[i] *= f
	}
	for i := range a.nu {
		a.nu[i] *= f
	}
	for i := range a.mu {
		a.mu[i] *= f
	}
	for j := range a.cs.zeta {
		for r := range a.cs.zeta[j] {
			a.cs.zeta[j][r] *= f
		}
	}
	a.initRHS()
}
