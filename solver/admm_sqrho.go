package solver

import "math"

// sqRhoBetaScale is κ of scaleSquaredRho: the squared loss's default ρ is scaled
// by min(1, max(κβ/β_max, √(β/β_max))).
const sqRhoBetaScale = 1e3

// scaleSquaredRho scales the squared loss's default ρ to β when β is far below
// β_max, the least β at which the zero network is optimal: ρ₀ ← ρ₀ min(1, κβ/β_max)
// with κ = sqRhoBetaScale, but not below ρ₀√(β/β_max) (which takes over below
// β_max/κ²), and residual balancing may then lower ρ but not raise it
// above that ρ₀ (see balance; a.rhoCeil). It runs before the u-step matrix is
// factored, which depends on ρ for the squared loss.
//
// Why: as for the hinge loss (see scaleRhoToBeta), at small β the solution tends to
// one that does not depend on β (the least group norm that fits the data, the loss
// nearly zero), only the multipliers scale with β, and the v-step's threshold is
// β/ρ; at the scale-aware ρ₀ the iterates crawl, and the certificate, whose
// candidate Fu − y is off by the dual residual ρ(vₖ − vₖ₋₁), lags them: the penalty
// β‖v‖ is then most of the objective and the bound loses about maxⱼ hⱼ/β − 1 of
// it. Residual balancing, which equalizes the primal and dual residuals, raised ρ
// when started low (from 0.05 to 1.7 within 100 iterations), where only the dual
// residual limits the certificate (the point v is feasible whatever ρ). Measured on
// MNIST 2 vs 8 at 10×10 (n = 1 935, d = 101, P = 64, β_max ≈ 1 125, ρ₀ = 32.3,
// β = 1e-3, one thread), certified gap after 1 000 / 2 000 iterations: default ρ
// with balancing (32.3 → 6.4 → 0.91 → 0.18) 0.41 / 0.058; ρ fixed at 0.18 0.15 /
// 0.021, at 0.05 0.0052 / 4.5e-4 (the point within 2e-8 of the optimum at 2 000),
// at 0.02 0.0045 / 1.3e-3 (1 500), at 0.01 0.041 / 3.2e-3 (1 500); from 0.05 with
// balancing 0.35 / 0.14 (1 500). κ = 10³ puts ρ₀ at 0.029 there, and certified
// 1e-4 at β = 1e-2 after 810 iterations (ρ₀ = 0.29; the default path had 5e-4 after
// 1 500) and at β = 0.1 after 340 (ρ₀ = 2.9; default 670), where √(β/β_max) (0.096
// and 0.30) had 0.018 after 800 and took 780. At β = 1e-4 the linear rule's ρ₀ = 0.0029 stalled
// (gap 0.49 from 900 to 1 500 iterations; the default path 0.59 / 0.37 at 1 000 /
// 1 500), where fixed ρ 0.01 had 0.36 / 0.18 and 0.03 0.56 at 800, 0.001 0.64 at
// 1 500; √(β/β_max) gives 0.0096 (0.43 after 700 iterations, the linear rule 0.61).
// (Single runs: the path of a run is sensitive to ρ, ρ₀ = 0.0287 and 0.0305 at
// β = 1e-3 left 0.0046 and 0.011 after 800 iterations.)
func (a *admm) scaleSquaredRho(m *ADMM) {
	pr := a.pr
	if pr.loss != Squared || a.slack || a.gated || !(pr.beta > 0) || m.Rho > 0 {
		return
	}
	// t₀ of ∇ℓ(0) = −y: β_max = t₀β (an upper bound where the certificate bounds
	// the blocks it does not project). The u-step's matrix is not factored yet, so
	// the certificate state is one of its own.
	var cs certState
	cs.alloc(pr, a.workers)
	for _, p := range cs.projs {
		p.stop = pr.stop // a stopped projection bounds from above: t₀, and ρ's factor, err low
	}
	onCert := a.onCert
	a.onCert = nil
	t0 := a.zeroDualScale(&cs)
	a.onCert = onCert
	// t₀ = β_max/β: the factor is κβ/β_max, not below √(β/β_max) (see above).
	if f := math.Max(sqRhoBetaScale/t0, math.Sqrt(1/t0)); f < 1 && !math.IsNaN(f) {
		a.initRho(m, f)
		a.rhoCeil = a.rho0
	}
}
