package solver

import (
	"context"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Adversarial is convex adversarial training (MATH.md §7; Bai, Gautam and Sojoudi
// Section 4): it solves the robust convex program
//
//	minimize   Σₖ max_{‖δₖ‖∞ ≤ ε} ℓ((xₖ + δₖ)ᵀaₖ, yₖ) + β Σᵢ (‖vᵢ‖₂ + ‖wᵢ‖₂)
//	subject to (2dᵢₖ − 1) xₖᵀvᵢ ≥ ε‖vᵢ‖₁,   (2dᵢₖ − 1) xₖᵀwᵢ ≥ ε‖wᵢ‖₁
//
// over activation patterns dᵢ, with aₖ = Σᵢ dᵢₖ(vᵢ − wᵢ). The patterns are
// Settings.Arrangement when given; otherwise, for ε > 0, Settings.Patterns directions
// (seeded by Settings.Seed) sampled by SampleRobustArrangement, which keeps patterns
// that admit robust neurons (Gaussian patterns almost never do), and for ε = 0 the
// Gaussian patterns of ADMM. The steps of the derivation:
//
//   - Robust patterns: (2dᵢₖ − 1)(xₖ + δ)ᵀvᵢ ≥ 0 for every ‖δ‖∞ ≤ ε iff
//     (2dᵢₖ − 1)xₖᵀvᵢ ≥ max_δ (2dᵢₖ − 1)δᵀvᵢ = ε‖vᵢ‖₁ (the l∞ ball's support function
//     is ε‖·‖₁). So no allowed perturbation changes any neuron's activation.
//   - With the patterns fixed the recovered network is linear on each ball,
//     f(xₖ + δ) = (xₖ + δ)ᵀaₖ, so the inner maximum is over an interval of
//     predictions [xₖᵀaₖ − ε‖aₖ‖₁, xₖᵀaₖ + ε‖aₖ‖₁] and has the closed forms
//     (1 − yₖxₖᵀaₖ + ε‖aₖ‖₁)₊ (hinge), ½(|xₖᵀaₖ − yₖ| + ε‖aₖ‖₁)² (squared) and
//     log(1 + exp(−yₖxₖᵀaₖ + ε‖aₖ‖₁)) (logistic).
//   - Each is convex in (v, w) (a nondecreasing convex function of a convex one), the
//     constraints are convex, and at a feasible point the objective equals the
//     adversarial training objective Σₖ max_δ ℓ(f(xₖ + δ), yₖ) + (β/2)Σⱼ(‖uⱼ‖² + αⱼ²)
//     of the recovered network (MATH.md §3), so the optimum upper-bounds what any
//     attack achieves on the training points.
//
// With Bias the last column of X is the bias column of ones, which no perturbation
// touches: the l1 norms then run over the other columns. The program ignores any box
// on the inputs (pixels in [0, 1]), which only shrinks the set of perturbations, so it
// stays an upper bound for attacks that clip to a box.
//
// The solver is our ADMM (MATH.md §4 in its cone form) with two splittings: u = v,
// whose step is the proximal map of β‖·‖₂ + 𝟙_{Cⱼ} per block, the group soft threshold
// of the projection onto the robust cone Cⱼ (see robustProjector: an active-set
// Newton method on the polar cone, warm-started), and b = Au, b ∈ ℝⁿˣᵈ holding
// the vectors aₖ, whose step is the proximal map of each worst-case loss (see
// robustProx: a scalar root per point). The u-step matrix τ²I + γ²AᵀA is solved in
// the eigenbasis of the co-activation counts (see kronSystem), so it costs O(P²d)
// and does not depend on ρ, which is adapted by residual balancing for free.
// Updates are over-relaxed and Anderson-accelerated with ADMM's safeguard. The
// certificate is a feasible dual point built from the multipliers (see
// certificate); the history, cancellation and result follow ADMM. One iteration
// costs O(ndP) (products with X and with the n×P pattern mask) plus the
// projections of the blocks that leave their robust cone.
//
// Result.Objective is the adversarial objective of Result.Network on the training
// points evaluated with the network's own activations (the worst case of its
// linearization at each xₖ, exact when the robust constraints hold);
// Certificate.Primal is the convex objective. Result.V and W are the convex solution;
// Result.Dual is nil (CheckViolations does not apply to the robust program).
//
// Status Infeasible reports an ε so large that no pattern with an active point
// admits an input-dependent robust block (see robustCapacity): then only the zero
// network is feasible and the result is that network, exactly.
type Adversarial struct {
	// Epsilon is the l∞ radius ε ≥ 0 of the perturbations; zero gives the standard
	// program of MATH.md §3.
	Epsilon float64
	// Bias leaves the last column of X (the bias column of ones) unperturbed.
	Bias bool
	// Rho is the initial penalty ρ > 0; zero means the scale-aware default.
	Rho float64
	// FixedRho disables residual balancing: ρ stays at its initial value.
	FixedRho bool
	// Relaxation is the over-relaxation factor α ∈ (0, 2); zero means 1.6, 1 means none.
	Relaxation float64
	// Anderson is the memory of the Anderson acceleration of the ADMM fixed-point
	// iteration (as in ADMM); zero means andersonDefaultMemory, negative disables it.
	Anderson int

	rhoScale, gammaScale, tauScale float64 // multiply the defaults (experiments)
}

func (m *Adversarial) String() string { return fmt.Sprintf("convex adversarial (ε=%g)", m.Epsilon) }

// Constants of Adversarial.
const (
	advDefaultPatterns   = 64    // as ADMM
	advDefaultIterations = 20000 // far beyond what the tests and benchmarks need
	advDefaultTolerance  = 1e-5  // relative duality gap and relative primal residual
	advCheckEvery        = 10    // certificate and balancing every this many iterations
	advRhoChange         = 2.0   // balancing moves ρ only by more than this factor: a change is free, but it restarts the acceleration (a float, so 1/advRhoChange is 0.5, not 0)
	advGammaScale        = 1     // γ² relative to tr(I)/tr(AᵀA)
	advMaxRhoChanges     = 50    // bounds oscillation of balancing
	advProjectionFactor  = 1e-3  // projection accuracy relative to ADMM's primal residual: errors well below the residual they perturb
)

// adv is the run state of one Adversarial solve. Layout: blocks (2P×d) row j;
// products with X (n×2P) entry k*2P + j; b (n×d) row k.
type adv struct {
	pr   *program
	eps  float64
	dS   int
	ks   *kronSystem
	proj *robustProjector
	act  []robustActive // warm starts of the projections, per block
	// ε = 0: the cone Kᵢ of MATH.md §3, projected by ADMM's projector, with its
	// per-block warm starts and factor caches.
	cone      *coneProjector
	coneAct   [][]int
	coneZeta  [][]float64
	coneCache []coneCache
	kind      []patternKind // per pattern
	rho       float64
	tau2      float64 // weight τ² of u = v
	g2        float64 // weight γ² of b = Au
	alfa      float64

	u, rhs, cg, arg, pol  []float64 // 2P×d; cg = γ²Aᵀ(b − λ_b), pol = arg − Π_C(arg)
	v, lv, vOld           []float64 // 2P×d
	xa                    []float64 // n×2P
	b, lb, bOld, au, bArg []float64 // n×d
	coef, rad             []float64 // n: decomposition of the b multipliers (see robustProx)
	zb, zbOut             []float64 // n×2d, P×2d
	diffBlk               []float64 // P×d
	scratch               []float64

	primal, dual, normKu, normW float64
	rhoChanges                  int

	acc *safeguard // Anderson acceleration (nil: none)
}

func (m *Adversarial) solve(ctx context.Context, p *Problem, s *Settings) (*Result, error) {
	start := time.Now()
	if math.IsNaN(m.Epsilon) || math.IsInf(m.Epsilon, 0) || m.Epsilon < 0 {
		return nil, fmt.Errorf("solver: adversarial Epsilon must be finite and ≥ 0, got %v", m.Epsilon)
	}
	if m.Rho < 0 || math.IsNaN(m.Rho) || math.IsInf(m.Rho, 0) {
		return nil, fmt.Errorf("solver: adversarial Rho must be positive and finite, got %v", m.Rho)
	}
	alfa := m.Relaxation
	if alfa == 0 {
		alfa = defaultRelaxation
	}
	if !(alfa > 0 && alfa < 2) {
		return nil, fmt.Errorf("solver: adversarial Relaxation must be in (0, 2), got %v", alfa)
	}
	n, d := p.X.Dims()
	dS := d
	if m.Bias {
		if err := checkBias(p.X); err != nil {
			return nil, err
		}
		dS = d - 1
	}
	var arr *Arrangement
	var err error
	if s.Arrangement == nil && !s.Exact && m.Epsilon > 0 {
		samples := s.Patterns
		if samples == 0 {
			samples = advDefaultPatterns
		}
		arr, err = SampleRobustArrangement(p.X, samples, s.Seed, m.Epsilon, m.Bias)
		if err == nil && arr.Len() == 0 {
			// No robust pattern: only the zero network is feasible.
			obj := p.Loss.Value(make([]float64, n), p.Y)
			return &Result{Method: m.String(), Status: Infeasible, Objective: obj, Gap: 0, Network: &Network{},
				Arrangement: arr, Certificate: &Certificate{Primal: obj, Dual: obj, DualScale: 1},
				V: &mat.Dense{}, W: &mat.Dense{}, Runtime: time.Since(start)}, nil
		}
	} else {
		arr, err = arrangementFor(p, s, advDefaultPatterns)
	}
	if err != nil {
		return nil, err
	}
	pr, err := newProgram(p, arr)
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return canceledResult(m.String(), pr, start), nil
	}
	a := &adv{pr: pr, eps: m.Epsilon, dS: dS, alfa: alfa}
	a.scale(m)
	a.ks, err = newKronSystem(pr, a.tau2, a.g2)
	if err != nil {
		return nil, err
	}
	a.alloc()
	if a.classify() {
		// No pattern with an active point admits an input-dependent robust block:
		// only the zero network is feasible.
		obj := p.Loss.Value(make([]float64, n), p.Y)
		z, _ := splitBlocks(pr, make([]float64, 2*pr.P*pr.d))
		return &Result{Method: m.String(), Status: Infeasible, Objective: obj, Gap: 0, Network: &Network{},
			Arrangement: arr, Patterns: pr.P, Certificate: &Certificate{Primal: obj, Dual: obj, DualScale: 1},
			V: z, W: mat.DenseCopyOf(z), Runtime: time.Since(start)}, nil
	}
	if m.Anderson >= 0 {
		mem := m.Anderson
		if mem == 0 {
			mem = andersonDefaultMemory
		}
		a.acc = newSafeguard(mem, 2*len(a.v)+2*len(a.b))
	}

	maxIter := s.MaxIterations
	if maxIter == 0 {
		maxIter = advDefaultIterations
	}
	tol := s.Tolerance
	if tol == 0 {
		tol = advDefaultTolerance
	}
	res := &Result{Method: m.String(), Factorization: "kronecker", Arrangement: arr, Patterns: pr.P, Gap: math.NaN()}
	ev := newAdvEval(pr)
	var cert Certificate
	status := IterationLimit
	iter := 0
	for iter < maxIter {
		if ctx.Err() != nil {
			status = Canceled
			break
		}
		if s.TimeLimit > 0 && time.Since(start) > s.TimeLimit {
			status = TimeLimit
			break
		}
		iter++
		if a.acc != nil {
			a.acc.before(a)
		}
		a.step()
		convex := a.evalConvex(a.v, ev)
		it := Iteration{
			Iteration: iter, Objective: convex, Gap: relGap(convex, s.Reference),
			PrimalResidual: a.primal, DualResidual: a.dual, Elapsed: time.Since(start),
			TrainAccuracy: trainAccuracy(ev.z, p.Y), ActiveNeurons: activeBlocks(ev.norms),
			Patterns: pr.P, Rho: a.rho, DualityGap: math.NaN(),
		}
		done := false
		if iter%advCheckEvery == 0 || iter == maxIter {
			cert = a.certificate(convex)
			it.DualityGap = cert.Gap
			if a.primal <= tol*math.Max(a.normKu, a.normW) {
				if p.Beta > 0 {
					done = cert.Gap <= tol
				} else {
					done = a.dual <= tol*cert.dualScale
				}
			}
			if !done && !m.FixedRho && a.balance(cert.dualScale) && a.acc != nil {
				a.acc.restart() // the map changed
			}
		}
		res.History = record(res.History, s.Recorder, it)
		if done {
			status = Optimal
			break
		}
		if a.acc != nil {
			a.acc.after(a)
		}
	}
	if a.acc != nil {
		a.acc.finish(a)
	}
	if iter > 0 {
		cert = a.certificate(a.evalConvex(a.v, ev))
	} else {
		cert = Certificate{Primal: a.evalConvex(a.v, ev), Dual: math.Inf(-1), Gap: math.Inf(1), DualScale: math.NaN()}
	}
	cert.ConeViolation = a.violation(a.v, ev)
	res.Status = status
	res.Iterations = iter
	res.Certificate = &cert
	res.Gap = cert.Gap
	res.Network = pr.network(a.v)
	res.ActiveNeurons = res.Network.Neurons()
	res.V, res.W = splitBlocks(pr, a.v)
	res.Objective = a.networkObjective(a.v, ev)
	res.Rho = a.rho
	res.Factorizations = 1
	res.Runtime = time.Since(start)
	return res, nil
}

// scale sets the split weights and the initial ρ so that the method is invariant to a
// rescaling of X (which scales the blocks and b by the inverse): τ² = 1 for u = v and
// γ² = tr(I)/tr(AᵀA) = P/(Σₖ #{i : dᵢₖ = 1}) for b = Au, which puts both splits on
// the same scale. ρ then weighs the losses (curvature of order one in the
// predictions xₖᵀaₖ, so about ‖xₖ‖² in aₖ) against the splits: ρ = ρ₀ mean‖xₖ‖²/γ².
func (a *adv) scale(m *Adversarial) {
	pr := a.pr
	fro := 0.0
	for _, v := range pr.x {
		fro += v * v
	}
	cnt := 0.0
	for _, v := range pr.mask {
		cnt += v
	}
	a.tau2 = 1
	if m.tauScale > 0 {
		a.tau2 *= m.tauScale
	}
	a.g2 = 1
	if cnt > 0 {
		a.g2 = advGammaScale * float64(pr.P) / cnt
	}
	if m.gammaScale > 0 {
		a.g2 *= m.gammaScale
	}
	if m.Rho > 0 {
		a.rho = m.Rho
		return
	}
	a.rho = pr.loss.adversarialRho() * (fro / float64(pr.n)) / a.g2
	if m.rhoScale > 0 {
		a.rho *= m.rhoScale
	}
}

func (a *adv) alloc() {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	blk := 2 * P * d
	mk := func(k int) []float64 { return make([]float64, k) }
	a.u, a.rhs, a.cg, a.arg, a.pol = mk(blk), mk(blk), mk(blk), mk(blk), mk(blk)
	a.v, a.lv, a.vOld = mk(blk), mk(blk), mk(blk)
	a.xa = mk(n * 2 * P)
	a.b, a.lb, a.bOld, a.au, a.bArg = mk(n*d), mk(n*d), mk(n*d), mk(n*d), mk(n*d)
	a.coef, a.rad = mk(n), mk(n)
	a.zb, a.zbOut = mk(n*2*d), mk(P*2*d)
	a.diffBlk = mk(P * d)
	a.scratch = mk(d)
	a.proj = newRobustProjector(pr, a.eps, a.dS)
	a.act = make([]robustActive, 2*P)
	if a.eps == 0 {
		a.cone = newConeProjector(pr.X)
		a.coneAct, a.coneZeta, a.coneCache = make([][]int, 2*P), make([][]float64, 2*P), make([]coneCache, 2*P)
	}
}

// patternKind classifies a pattern's robust cone.
type patternKind uint8

const (
	patternRobust  patternKind = iota // has an input-dependent robust neuron
	patternTrivial                    // C = {0} (ε above the pattern's robust capacity)
	patternUseless                    // no active point: contributes to no prediction
)

// classify sets a.kind and reports whether no pattern with an active point is
// robust (the program is infeasible but for the zero network). A pattern is robust
// when its generator's robust margin reaches ε (always so for SampleRobustArrangement)
// or its capacity (a linear program, see robustCapacity) does; otherwise its cone is
// {v : v_S = 0, (2dₖ − 1)v_b ≥ 0}, which for a pattern with active and inactive
// points is {0}. (A one-sided pattern with a bias has infinite capacity.)
func (a *adv) classify() bool {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	a.kind = make([]patternKind, P)
	if a.eps == 0 {
		return false
	}
	gens := pr.arr.Generators
	none := true
	for i := 0; i < P; i++ {
		if pr.arr.ActiveCount(i) == 0 {
			a.kind[i] = patternUseless
			continue
		}
		robust := false
		if gens != nil {
			h := gens.RawRowView(i)
			l1, margin := 0.0, math.Inf(1)
			for c := 0; c < a.dS; c++ {
				l1 += math.Abs(h[c])
			}
			for k := 0; k < n; k++ {
				margin = math.Min(margin, pr.sign[k*P+i]*dot(pr.x[k*d:(k+1)*d], h))
			}
			robust = l1 > 0 && margin >= a.eps*l1
		}
		if !robust {
			robust = robustCapacity(pr, i, a.dS) >= a.eps*(1-capacityTolerance)
		}
		if robust {
			none = false
		} else {
			a.kind[i] = patternTrivial
		}
	}
	return none
}

// mulA sets dst (n×d) = A u: row k is aₖ = Σᵢ dᵢₖ(vᵢ − wᵢ).
func (a *adv) mulA(dst, u []float64) {
	pr := a.pr
	pd := pr.P * pr.d
	for i := 0; i < pd; i++ {
		a.diffBlk[i] = u[i] - u[pd+i]
	}
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, blas64.General{Rows: pr.n, Cols: pr.P, Stride: pr.P, Data: pr.mask},
		blas64.General{Rows: pr.P, Cols: pr.d, Stride: pr.d, Data: a.diffBlk},
		0, blas64.General{Rows: pr.n, Cols: pr.d, Stride: pr.d, Data: dst})
}

// mulMT sets dst (P×cols) = Mᵀ z for z n×cols, M the n×P pattern mask.
func (a *adv) mulMT(dst, z []float64, cols int) {
	pr := a.pr
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, blas64.General{Rows: pr.n, Cols: pr.P, Stride: pr.P, Data: pr.mask},
		blas64.General{Rows: pr.n, Cols: cols, Stride: cols, Data: z},
		0, blas64.General{Rows: pr.P, Cols: cols, Stride: cols, Data: dst})
}

// step performs one over-relaxed ADMM iteration.
func (a *adv) step() {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	blk := 2 * P * d
	// 1. u-step: (τ²I + γ²AᵀA) u = τ²(v − λ_v) + γ²Aᵀ(b − λ_b).
	for i := 0; i < blk; i++ {
		a.rhs[i] = a.tau2*(a.v[i]-a.lv[i]) + a.cg[i]
	}
	a.ks.solve(a.rhs, a.u)
	a.mulA(a.au, a.u)
	copy(a.vOld, a.v)
	copy(a.bOld, a.b)
	alfa := a.alfa
	primal, normKu, normW := 0.0, 0.0, 0.0
	// 2. v-step: vⱼ = shrink(Π_{Cⱼ}(αu + (1 − α)v + λ_v)), the proximal map of
	// β‖·‖₂ + 𝟙_{Cⱼ} (for a cone C, the prox of a radial function plus 𝟙_C is the
	// radial prox of the projection).
	for i := range a.arg {
		a.arg[i] = alfa*a.u[i] + (1-alfa)*a.v[i] + a.lv[i]
	}
	a.coneStep()
	for i := range a.v {
		a.lv[i] = a.arg[i] - a.v[i]
		r := a.u[i] - a.v[i]
		primal += a.tau2 * r * r
		normKu += a.tau2 * a.u[i] * a.u[i]
		normW += a.tau2 * a.v[i] * a.v[i]
	}
	// 3. b-step: proximal map of every worst-case loss.
	rhoB := a.rho * a.g2
	for k := 0; k < n; k++ {
		br := a.b[k*d : (k+1)*d]
		lr := a.lb[k*d : (k+1)*d]
		ar := a.au[k*d : (k+1)*d]
		for c := 0; c < d; c++ {
			lr[c] += alfa*ar[c] + (1-alfa)*br[c]
		}
		a.coef[k], a.rad[k] = pr.loss.robustProx(pr.x[k*d:(k+1)*d], lr, pr.y[k], a.eps, a.dS, rhoB, br, a.scratch)
		for c := 0; c < d; c++ {
			lr[c] -= br[c]
			r := ar[c] - br[c]
			primal += a.g2 * r * r
			normKu += a.g2 * ar[c] * ar[c]
			normW += a.g2 * br[c] * br[c]
		}
	}
	a.primal, a.normKu, a.normW = math.Sqrt(primal), math.Sqrt(normKu), math.Sqrt(normW)
	// Inexact projections while ADMM is far from a solution: the next ones solve
	// their KKT conditions to advProjectionFactor times the relative primal residual
	// (a feasible dual point needs no exact projection: any multipliers ζ ≥ 0 give a
	// polar part in C°).
	a.proj.loose = advProjectionFactor * a.primal / math.Max(math.Max(a.normKu, a.normW), 1e-300)
	// 4. The next right-hand side's constant part γ²Aᵀ(b − λ_b) and the dual residual
	// ρ‖τ²Δv + γ²AᵀΔb‖ from one product.
	a.products(true)
	dual := 0.0
	pd := P * d
	for i := 0; i < blk; i++ {
		mt := a.zbOut[((i%pd)/d)*2*d+d+i%d]
		if i >= pd {
			mt = -mt
		}
		r := a.tau2*(a.v[i]-a.vOld[i]) + a.g2*mt
		dual += r * r
	}
	a.dual = a.rho * math.Sqrt(dual)
}

// coneStep sets v and pol from arg: one product X argᵀ checks the robust
// feasibility of every block; infeasible ones are projected (warm-started). Blocks of
// trivial cones are zero, with the whole argument as polar part; blocks of patterns
// without active points are zero, with a zero polar part (0 ∈ C° and their columns
// of A vanish, so the certificate's constraint holds for them).
func (a *adv) coneStep() {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	kappa := pr.beta / (a.rho * a.tau2)
	pr.mulXT(a.xa, a.arg, 2*P)
	for j := 0; j < 2*P; j++ {
		i := j % P
		aj := a.arg[j*d : (j+1)*d]
		vj := a.v[j*d : (j+1)*d]
		pj := a.pol[j*d : (j+1)*d]
		switch a.kind[i] {
		case patternTrivial: // C = {0}, C° = ℝᵈ
			clear(vj)
			copy(pj, aj)
			continue
		case patternUseless: // no active point: the block's optimum is zero
			clear(vj)
			clear(pj)
			continue
		}
		l1 := 0.0
		for c := 0; c < a.dS; c++ {
			l1 += math.Abs(aj[c])
		}
		tol := coneTolerance * norm2(aj) * a.proj.rowMax
		feasible := true
		for k := 0; k < n; k++ {
			if pr.sign[k*P+i]*a.xa[k*2*P+j]-a.eps*l1 < -tol {
				feasible = false
				break
			}
		}
		st := &a.act[j]
		if feasible {
			st.k, st.zeta = st.k[:0], st.zeta[:0]
			if a.cone != nil {
				a.coneAct[j], a.coneZeta[j] = a.coneAct[j][:0], a.coneZeta[j][:0]
			}
			clear(pj)
			shrinkBlock(aj, vj, kappa)
			continue
		}
		if a.cone != nil {
			a.cone.cache = &a.coneCache[j]
			pv, act, zeta := a.cone.project(aj, pr.sign, i, P, a.coneAct[j], a.coneZeta[j])
			a.cone.cache = nil
			a.coneAct[j], a.coneZeta[j] = act, zeta
			copy(vj, pv)
		} else {
			a.proj.project(aj, vj, pr.sign, i, P, st)
		}
		for c := range pj {
			pj[c] = aj[c] - vj[c]
		}
		shrinkBlock(vj, vj, kappa)
	}
}

// products sets cg = γ²Aᵀ(b − λ_b) and, with differences, the columns d..2d of zbOut
// to MᵀΔb.
func (a *adv) products(differences bool) {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	for k := 0; k < n; k++ {
		for c := 0; c < d; c++ {
			i := k*d + c
			a.zb[k*2*d+c] = a.b[i] - a.lb[i]
			if differences {
				a.zb[k*2*d+d+c] = a.b[i] - a.bOld[i]
			} else {
				a.zb[k*2*d+d+c] = 0
			}
		}
	}
	a.mulMT(a.zbOut, a.zb, 2*d)
	pd := P * d
	for i := 0; i < pd; i++ {
		mt := a.g2 * a.zbOut[(i/d)*2*d+i%d]
		a.cg[i] = mt
		a.cg[pd+i] = -mt
	}
}

// balance adapts ρ by residual balancing (see ADMM.balance); the u-step matrix does
// not depend on ρ, only the scaled duals are rescaled. It reports whether ρ changed.
func (a *adv) balance(dualScale float64) bool {
	pn := a.primal / math.Max(math.Max(a.normKu, a.normW), 1e-300)
	dn := a.dual / math.Max(dualScale, 1e-300)
	if pn == 0 || dn == 0 || a.rhoChanges >= advMaxRhoChanges {
		return false
	}
	ratio := math.Min(math.Max(math.Sqrt(pn/dn), 1e-3), 1e3)
	if ratio < advRhoChange && ratio > 1/advRhoChange {
		return false
	}
	a.rhoChanges++
	f := 1 / ratio
	a.rho *= ratio
	for _, l := range [][]float64{a.lv, a.lb} {
		for i := range l {
			l[i] *= f
		}
	}
	a.products(false)
	return true
}

// pack writes the fixed-point state (τv, τλ_v, γb, γλ_b) of the iterate (the next
// step depends on nothing else); the weights make its Euclidean norm the augmented
// Lagrangian's.
func (a *adv) pack(w []float64) {
	tau, ga := math.Sqrt(a.tau2), math.Sqrt(a.g2)
	o := 0
	for i, v := range a.v {
		w[o+i] = tau * v
		w[o+len(a.v)+i] = tau * a.lv[i]
	}
	o += 2 * len(a.v)
	for i, v := range a.b {
		w[o+i] = ga * v
		w[o+len(a.b)+i] = ga * a.lb[i]
	}
}

// unpack sets the iterate from a state w (see pack) and the right-hand side that
// depends on it.
func (a *adv) unpack(w []float64) {
	tau, ga := math.Sqrt(a.tau2), math.Sqrt(a.g2)
	o := 0
	for i := range a.v {
		a.v[i] = w[o+i] / tau
		a.lv[i] = w[o+len(a.v)+i] / tau
	}
	o += 2 * len(a.v)
	for i := range a.b {
		a.b[i] = w[o+i] / ga
		a.lb[i] = w[o+len(a.b)+i] / ga
	}
	a.products(false)
}

// advEval holds what evaluating a point needs.
type advEval struct {
	xq, aq, grad, act []float64
	z, norms          []float64
}

func newAdvEval(pr *program) *advEval {
	n, d, P := pr.n, pr.d, pr.P
	return &advEval{xq: make([]float64, n*2*P), aq: make([]float64, n*d), grad: make([]float64, n*d),
		act: make([]float64, n*2*P), z: make([]float64, n), norms: make([]float64, 2*P)}
}

// evalConvex returns the robust convex objective at q, leaving the convex predictions
// xₖᵀaₖ in ev.z and the block norms in ev.norms.
func (a *adv) evalConvex(q []float64, ev *advEval) float64 {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	reg := 0.0
	for j := 0; j < 2*P; j++ {
		ev.norms[j] = norm2(q[j*d : (j+1)*d])
		reg += ev.norms[j]
	}
	a.mulA(ev.aq, q)
	loss := 0.0
	for k := 0; k < n; k++ {
		ak := ev.aq[k*d : (k+1)*d]
		ev.z[k] = dot(pr.x[k*d:(k+1)*d], ak)
		t := 0.0
		for c := 0; c < a.dS; c++ {
			t += math.Abs(ak[c])
		}
		loss += pr.loss.worstLoss(ev.z[k], a.eps*t, pr.y[k])
	}
	return loss + pr.beta*reg
}

// networkObjective returns Σₖ L(f(xₖ), ε‖∇f(xₖ)‖₁,S) + β Σⱼ‖qⱼ‖ for the network
// recovered from q: the worst case of its linearization at each training point, which
// is its exact adversarial objective when no perturbation changes its activations.
func (a *adv) networkObjective(q []float64, ev *advEval) float64 {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	pr.mulXT(ev.xq, q, 2*P)
	reg := 0.0
	for j := 0; j < 2*P; j++ {
		reg += norm2(q[j*d : (j+1)*d])
	}
	for k := 0; k < n; k++ {
		for j := 0; j < 2*P; j++ {
			v := 0.0
			if ev.xq[k*2*P+j] > 0 {
				v = 1
				if j >= P {
					v = -1
				}
			}
			ev.act[k*2*P+j] = v
		}
	}
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, blas64.General{Rows: n, Cols: 2 * P, Stride: 2 * P, Data: ev.act},
		blas64.General{Rows: 2 * P, Cols: d, Stride: d, Data: q},
		0, blas64.General{Rows: n, Cols: d, Stride: d, Data: ev.grad})
	loss := 0.0
	for k := 0; k < n; k++ {
		gk := ev.grad[k*d : (k+1)*d]
		f, t := dot(pr.x[k*d:(k+1)*d], gk), 0.0
		for c := 0; c < a.dS; c++ {
			t += math.Abs(gk[c])
		}
		loss += pr.loss.worstLoss(f, a.eps*t, pr.y[k])
	}
	return loss + pr.beta*reg
}

// violation returns the robust-cone violation of q,
// maxⱼₖ (ε‖qⱼ‖₁,S − (2dᵢₖ − 1)xₖᵀqⱼ)₊ / maxⱼₖ |xₖᵀqⱼ|.
func (a *adv) violation(q []float64, ev *advEval) float64 {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	pr.mulXT(ev.xq, q, 2*P)
	worst, scale := 0.0, 0.0
	for j := 0; j < 2*P; j++ {
		l1 := 0.0
		for c := 0; c < a.dS; c++ {
			l1 += math.Abs(q[j*d+c])
		}
		for k := 0; k < n; k++ {
			v := ev.xq[k*2*P+j]
			scale = math.Max(scale, math.Abs(v))
			worst = math.Max(worst, a.eps*l1-pr.sign[k*P+j%P]*v)
		}
	}
	if scale == 0 {
		return 0
	}
	return worst / scale
}

// certificate builds a feasible point of the dual of the robust program from the
// multipliers and returns the duality gap at the primal value primal.
//
// The dual (our derivation, by the Lagrangian of the splitting u = v, b = Au with
// multipliers y and η and the stationarity y = −Aᵀη in u):
//
//	maximize   −Σₖ φₖ*(ηₖ)
//	subject to ‖(Aᵀη)ⱼ + πⱼ‖₂ ≤ β for every block j, for some πⱼ ∈ Cⱼ°,
//
// (the conjugate of β‖·‖₂ + 𝟙_C is the indicator of {κ + π : ‖κ‖ ≤ β, π ∈ C°}). φₖ*
// is bounded through a decomposition ηₖ = cₖxₖ + eₖ (e zero off S): φₖ(b) ≥
// ℓ((xₖ + δ)ᵀb) for every δ in the ball, so for classification, with ‖eₖ‖∞ ≤ ε|cₖ|,
// ηₖ = cₖ(xₖ + eₖ/cₖ) and −φₖ*(ηₖ) ≥ −ℓ*(cₖ); for the squared loss, with
// rₖ ≥ max(|cₖ|, ‖eₖ‖∞/ε), ηₖ is a convex combination of ±rₖ(xₖ ± eₖ/rₖ) and
// −φₖ*(ηₖ) ≥ −(½rₖ² + cₖyₖ). The ADMM multipliers are η = ργ²λ_b (with cₖ, rₖ from
// the proximal map) and π = ρτ²(argⱼ − Π_C(argⱼ)) ∈ C° from the projection; clipping
// makes the decomposition exact, and dividing everything by
// t = max(1, maxⱼ‖(Aᵀη + π)ⱼ‖/β) makes the point feasible (every constraint set is
// star-shaped about 0).
func (a *adv) certificate(primal float64) Certificate {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	eps := a.eps
	rhoB := a.rho * a.g2
	// η′, the clipped b multipliers, into zb[:, :d]; the values' ingredients c, r.
	cs := make([]float64, n)
	rs := make([]float64, n)
	for k := 0; k < n; k++ {
		x := pr.x[k*d : (k+1)*d]
		c, r := a.coef[k], a.rad[k]
		y := pr.y[k]
		if pr.loss.Classification() {
			// −y c ∈ [0, 1]: the domain of ℓ*.
			c = y * math.Min(0, math.Max(-1, y*c))
			r = math.Abs(c)
		} else {
			r = math.Max(r, math.Abs(c))
		}
		maxE := 0.0
		for cc := 0; cc < d; cc++ {
			v := c * x[cc]
			if cc < a.dS {
				e := rhoB*a.lb[k*d+cc] - c*x[cc]
				if pr.loss.Classification() || eps == 0 {
					e = math.Max(-eps*r, math.Min(eps*r, e))
				}
				maxE = math.Max(maxE, math.Abs(e))
				v += e
			}
			a.zb[k*2*d+cc] = v
			a.zb[k*2*d+d+cc] = 0
		}
		if !pr.loss.Classification() && eps > 0 {
			r = math.Max(r, maxE/eps)
		}
		cs[k], rs[k] = c, r
	}
	// Mᵀη′ (P×d) into zbOut[:, :d].
	a.mulMT(a.zbOut, a.zb, 2*d)
	worst, fEta, pol := 0.0, 0.0, 0.0
	rt := a.rho * a.tau2
	for j := 0; j < 2*P; j++ {
		i, sgn := j, 1.0
		if j >= P {
			i, sgn = j-P, -1
		}
		nr := 0.0
		for c := 0; c < d; c++ {
			fe := sgn * a.zbOut[i*2*d+c]
			pi := rt * a.pol[j*d+c]
			v := fe + pi
			nr += v * v
			fEta += fe * fe
			pol += pi * pi
		}
		worst = math.Max(worst, math.Sqrt(nr))
	}
	lam := rt * norm2(a.lv)
	cert := Certificate{Primal: primal, dualScale: math.Max(lam, math.Max(math.Sqrt(fEta), math.Sqrt(pol)))}
	tscale := 1.0
	switch {
	case pr.beta > 0:
		tscale = math.Max(1, worst/pr.beta)
	case worst == 0:
	default:
		cert.DualScale, cert.Dual, cert.Gap = math.Inf(1), math.Inf(-1), math.Inf(1)
		return cert
	}
	cert.DualScale = tscale
	dual := 0.0
	for k := 0; k < n; k++ {
		c, r := cs[k]/tscale, rs[k]/tscale
		dual += pr.loss.robustDualTerm(c, r, pr.y[k])
	}
	cert.Dual = dual
	cert.Gap = relativeGap(primal, dual)
	return cert
}
