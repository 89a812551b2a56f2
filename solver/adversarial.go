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
	rho0, rhoLo, rhoHi          float64 // the initial ρ and the bounds of balancing
	fixedRho                    bool    // no balancing (Adversarial.FixedRho, or frozen after a breakdown)
	tol                         float64
	iterations                  int
	convex                      float64 // the objective of the current point
	ev                          *advEval

	acc     *safeguard // Anderson acceleration (nil: none)
	stepped bool       // a step ran since the last restart (the safeguard's after is due)
	best    advPoint
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
		a.acc = newSafeguard(mem, 2*len(a.v)+2*len(a.b), 0)
	}
	maxIter := s.MaxIterations
	if maxIter == 0 {
		maxIter = advDefaultIterations
	}
	tol := s.Tolerance
	if tol == 0 {
		tol = advDefaultTolerance
	}
	a.tol, a.fixedRho = tol, m.FixedRho
	a.ev = newAdvEval(pr)
	dr := newDriver(ctx, s, start, maxIter, tol, advCheckEvery, pr.P)
	if err := dr.run(a); err != nil {
		return nil, err
	}
	return a.result(m, dr, start), nil
}

// result assembles the Result of a run that the driver ended with a at the point to
// return.
func (a *adv) result(m *Adversarial, dr *driver, start time.Time) *Result {
	pr := a.pr
	res := &Result{Method: m.String(), Factorization: "kronecker", Arrangement: pr.arr, Patterns: pr.P,
		Status: dr.status, Message: dr.message, Iterations: dr.iterations, History: dr.history}
	cert, ok := dr.certificate()
	if !ok {
		cert = Certificate{Primal: a.evalConvex(a.v, a.ev), Dual: math.Inf(-1), Gap: math.Inf(1), DualScale: math.NaN()}
	}
	if dr.status == Failure {
		res.Message = fmt.Sprintf("%v: %s; the result is the best point before it", m, dr.message)
	}
	cert.ConeViolation = a.violation(a.v, a.ev)
	res.Certificate = &cert
	res.Gap = cert.Gap
	res.Network = pr.network(a.v)
	res.ActiveNeurons = res.Network.Neurons()
	res.V, res.W = splitBlocks(pr, a.v)
	res.Objective = a.networkObjective(a.v, a.ev)
	res.Rho = a.rho
	res.Factorizations = 1
	res.Runtime = time.Since(start)
	return res
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
	a.rho0 = pr.loss.adversarialRho() * (fro / float64(pr.n)) / a.g2
	a.rho = a.rho0
	switch {
	case m.Rho > 0:
		a.rho = m.Rho
	case m.rhoScale > 0:
		a.rho *= m.rhoScale
	}
	a.rhoLo, a.rhoHi = math.Min(a.rho0, a.rho)/rhoRange, math.Max(a.rho0, a.rho)*rhoRange
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
