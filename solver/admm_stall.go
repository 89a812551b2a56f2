package solver

import "math"

// stallChecks is the number of consecutive certificate checks (admmCheckEvery
// iterations apart) at v = 0 after which, zero not being optimal, ADMM raises ρ
// (see stalledAtZero). On MNIST 2 vs 8 at 10×10 (hinge, β = 0.02·n) one check
// raised ρ three times, to 125 ρ₀, and certified 1e-6 after 360 iterations; two
// checks raised it twice, to 25 ρ₀, and certified after 260.
const stallChecks = 2

// stalledAtZero reports whether ADMM sits at the zero network although zero is not
// optimal, counting the consecutive checks at v = 0.
//
// Zero is optimal if and only if ∇ℓ(0) is dual feasible: ‖Π_{Kⱼ}(−Fⱼᵀ∇ℓ(0))‖ ≤ β
// for every block j (the hinge loss is differentiable at ŷ = 0, where every margin is
// 1). With t₀ = max(1, w/β) of that candidate (the certificate's DualScale), t₀ > 1
// means zero is not optimal, and then v = 0 is no fixed point of ADMM: the v-step
// keeps block j at zero while ‖Π_{Kⱼ}(aⱼ)‖ ≤ κ = β/(ρτ²), aⱼ = ûⱼ + λⱼ, and at v = 0
// the scaled multiplier only accumulates λ ← λ + αu. The u-step's response to the
// loss is driven by the z-step, which pulls the predictions towards the margins by a
// distance that does not scale with ρ, so ρλ, the multiplier in the units of β,
// climbs at a rate about proportional to ρ and the iterations spent at zero grow
// about as 1/ρ. Residual balancing does not see this: at v = 0 the measured relative
// residuals were 0.02–0.05 (primal) and 0.04–1 (dual), a ratio √(pn/dn) of 0.22–0.8,
// within its factor 5 and asking for a smaller ρ if anything. Measured on MNIST 2 vs
// 8 at 10×10 (n = 1935, d = 101, P = 64, hinge, β = 0.02·n ≈ 38.7): t₀ = 29.1; at the
// default ρ₀ = 1.08 the iterates stayed at zero for the whole of a 30 s solve (540
// iterations; κ = 35.9, the largest norm of the v-step's arguments growing by about
// 0.1 per iteration); with ρ fixed at 10 they left between iterations 40 and 80, at
// 100 within 40.
func (a *admm) stalledAtZero() bool {
	for _, x := range a.v {
		if x != 0 {
			a.zeroChecks = 0
			return false
		}
	}
	a.zeroChecks++
	if a.zeroChecks < stallChecks {
		return false
	}
	return a.zeroDualScale(&a.cert) > 1
}

// zeroDualScale returns t₀ = max(1, w/β) of ∇ℓ(0), the zero network's dual scale
// (β_max = t₀β, the least β at which zero is optimal), certified with cs the first
// time it is asked for and kept in a.zeroScale.
func (a *admm) zeroDualScale(cs *certState) float64 {
	if a.zeroScale == 0 {
		pr := a.pr
		eta := make([]float64, pr.n)
		pr.loss.gradient(make([]float64, pr.n), pr.y, eta, 0)
		a.zeroScale = a.certificateAt(cs, a.zeroObj, 0, eta).DualScale
	}
	return a.zeroScale
}

// leaveZero raises ρ by rhoChangeFactor after a stall at zero (see stalledAtZero),
// within the bounds of balancing (ρ ≤ ρ_hi, and at most maxRefactorizations changes
// of ρ in all), and makes the new ρ the least one that balancing may return to for
// the hinge loss (see balance): lowering ρ again raises the threshold κ that kept
// the iterates at zero. It reports whether ρ changed; when it cannot (the bounds are
// reached) the stall is left to the iterations, as before.
func (a *admm) leaveZero() (bool, error) {
	rho := math.Min(a.rho*rhoChangeFactor, a.rhoHi)
	if rho == a.rho || a.refactorizations >= maxRefactorizations {
		return false, nil
	}
	a.zeroChecks = 0
	a.setRho(rho)
	a.rhoBase = math.Max(a.rhoBase, rho)
	a.refactorizations++
	if !a.split {
		return true, a.ls.factor(a.c())
	}
	return true, nil
}

// rhoBetaScale is κ of scaleRhoToBeta: the hinge loss's default ρ is scaled by
// min(1, κβ/β_max).
const rhoBetaScale = 1e4

// scaleRhoToBeta scales the hinge loss's default ρ to β when β is far below β_max,
// the least β at which the zero network is optimal: ρ₀ ← ρ₀ min(1, κβ/β_max) with
// κ = rhoBetaScale, so that ρ/β stays constant below κ⁻¹β_max.
//
// Why: for β below some β₁ the hinge program's solution is that of the group basis
// pursuit min Σⱼ‖uⱼ‖ subject to margins ≥ 1 and the cones (the hinge loss is an
// exact penalty), whatever β; only its multipliers scale, with β. ADMM's iterates
// at β and at β' are then alike when ρ scales with β: the v-step's threshold is β/ρ
// and the z-step's prox is the projection onto the margins in either. At a fixed ρ
// the multipliers are a vanishing fraction of the primal variables as β falls and
// the iterates crawl; residual balancing would lower ρ, but for the hinge loss it
// may not go below ρ₀ (see balance; without that floor it drove ρ to its lower
// bound within 100 iterations on MNIST 2 vs 8 at 10×10, β = 1e-3, and the gap after
// 30 s was 0.998). β_max = t₀β, t₀ the dual scale of ∇ℓ(0) (see stalledAtZero),
// makes the rule invariant to a rescaling of X. Measured on MNIST 2 vs 8 at 10×10
// (n = 1935, d = 101, P = 64, β_max = 1 125, ρ₀ = 1.08, one thread, 30 s): at
// β = 1e-3 fixed ρ = 1.08e-3 / 1.08e-2 / 0.108 / 1.08 (default) left certified gaps
// 0.89 / 0.38 / 0.93 / 0.95; ρ/β ≈ 10 (ρ₀ at β = 0.1, where ADMM reached 0.22) is
// κ = 10⁴. With it, at β = 1e-3, ADMM (defaults) certified 4.9e-8 after 1 050
// iterations in 42.5 s, polishing finishing (one thread, load about 2; issue 11
// measured a gap of 0.94 after 100 s before). On breast cancer (β_max = 989) and
// the benchmarks where ρ₀ was tuned (β = 0.02n ≥ 10⁻² β_max) the factor is 1.
//
// κ = 3·10³ was measured too and not taken: on MNIST at β = 1e-3 it certified 1e-4
// after 820 iterations instead of 990 (the iterates themselves alike: relative
// distance to the optimum 0.19 at iteration 700 with either), on
// testdata/cases/admm_hinge_tiny_beta_rho.json after 410 instead of 1 410, but on
// MNIST at β = 1e-4 its iterate after 600 iterations was 17 times the optimum's
// objective against 4.6 times (certified gaps 0.94 and 0.79), and on
// admm_hinge_small_beta_slow.json it took 440 iterations instead of 280; κ = 10³,
// 2·10³ and 5·10³ moved those cases both ways too (660 / 540 / 860 and 870 / 300 /
// 310 iterations). Nor did a smaller σ² (× 0.3: MNIST β = 1e-3 certified after 920
// iterations), Anderson memory 40 (1 480) or over-relaxation α = 1.8 for the
// split losses (1 440, though its iterates were closer to the optimum at iteration
// 600, 0.42 against 0.67, and it took admm_hinge_tiny_beta_rho to 300 iterations
// and admm_logistic_rho_runaway to 2 040 instead of 4 320) beat the defaults there:
// polishing finishes MNIST once the active set is final, near iteration 950 in
// every variant, at its first attempt after that, and attempts are spaced by
// doubling work, so an attempt missed at 700–800 costs hundreds. (One thread,
// tolerance 1e-4, 2026-12-07; the iteration counts at which polishing finishes
// move by a few hundred with the rounding of the iterates.)
func (a *admm) scaleRhoToBeta(m *ADMM) {
	pr := a.pr
	if !pr.loss.rhoFloor() || !(pr.beta > 0) {
		return
	}
	if f := rhoBetaScale / a.zeroDualScale(&a.cert); f < 1 {
		a.initRho(m, f)
	}
}
