package solver

import (
	"context"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/mat"
)

// ADMM solves the convex program (MATH.md §3) by the alternating direction method of
// multipliers (MATH.md §4); the default method (Auto) routes to it every program but
// the smallest ones (see Auto).
//
// Two splittings are available. The default keeps the cone constraints with the group
// norm: u = v, and the v-step is the proximal map of β‖v‖₂ + 𝟙_{Kᵢ}(v), which is the
// group soft threshold of the projection onto the polyhedral cone Kᵢ (a small
// non-negative least-squares problem, warm-started). With Slack the cone constraints
// get slack variables Gu = s ≥ 0 and the v- and s-steps are the plain group soft
// threshold and orthant projection of Bai, Gautam and Sojoudi's Algorithm 3.1. Both
// solve the same program; the default needs several times fewer iterations (see the
// benchmarks), the slack form has no inner solver.
//
// The u-step matrix is factored once (Cholesky or Woodbury, whichever is cheaper
// unless Factorization says otherwise). The squared loss enters the u-step directly;
// the hinge and logistic losses through an extra split z = Fu with an elementwise
// proximal step, which keeps the matrix independent of ρ. ρ starts at a scale-aware
// value (for the hinge and squared losses scaled down with β when β is far below the
// least β at which the zero network is optimal: see scaleRhoToBeta and
// scaleSquaredRho) and is adapted by residual balancing (when the residuals drift
// apart by more than a factor 5, refactoring for the squared loss; for the squared
// loss at small β never above its start), and raised fivefold when the
// iterates sit at the zero network for two certificate checks although ∇ℓ(0) is
// dual infeasible (zero is not optimal); updates are over-relaxed, and the
// fixed-point iteration is Anderson-accelerated with a safeguard.
//
// The squared and logistic losses converge to 1e-6 in tens to hundreds of iterations
// at moderate β; the hinge loss (a polyhedral, LP-like program) and small β need
// hundreds to thousands, where polishing (see the package documentation) finishes
// small programs once the iterates have settled. On large programs at small β a
// looser Settings.Tolerance remains the practical choice (training accuracy settles
// long before the certificate).
type ADMM struct {
	// Rho is the initial penalty ρ > 0; zero means the scale-aware default.
	Rho float64
	// FixedRho disables residual balancing: ρ stays at its initial value.
	FixedRho bool
	// Relaxation is the over-relaxation factor α ∈ (0, 2); zero means 1.6, 1 means none.
	Relaxation float64
	// Anderson is the memory of the Anderson acceleration; zero means 20, negative
	// disables it (plain ADMM).
	Anderson int
	// Slack selects the splitting of Bai, Gautam and Sojoudi with slack variables for
	// the cone constraints (see above).
	Slack bool
	// Factorization forces the linear-algebra route, FactorCholesky or FactorWoodbury;
	// empty means the cheaper one for the problem's size.
	Factorization string
	// WarmStart starts from the GatedReLU solution on the same patterns, decomposed
	// into the cones, instead of from zero.
	WarmStart bool
	// NoPolish disables polishing (the restricted Newton method tried at the
	// certificate checks, see the package documentation): the iterates are then
	// plain ADMM's, as convergence experiments want.
	NoPolish bool

	rhoScale float64 // multiplies the default ρ (experiments)
	noRefit  bool    // the squared loss's first dual candidate is ŷ − y, not refitted (tests)
	noImages bool    // recompute every product instead of carrying images (tests; see admm.image)
	sig2     float64 // multiplies the default σ² (experiments)
	// onPoll, if set, is called at every poll of the interruption from inside a step
	// (tests: cancel at a chosen stage); it may be called from several goroutines.
	onPoll func(stage pollStage)
	// onCertificate, if set, sees every dual bound computed (tests: each must be a
	// lower bound): the certificate, its candidate η clipped to the domain of ℓ*
	// before the scaling, and the candidate's largest constraint value w.
	onCertificate func(c Certificate, eta []float64, worst float64)
	// onPolish, if set, sees every polishing attempt (tests: its work within its
	// budget): the iterations' work before it, its budget and its work, in operations.
	onPolish func(iterating, budget, work float64)
	// onPolished, if set, sees the certificate of every polished point (tests): at
	// the optimum the polisher's multipliers must certify it (see warmCertificate).
	onPolished func(converged bool, c Certificate)
	// polishFloor, if positive, replaces polishTrialFloor (tests: a small program's
	// attempts then bound by their share of the iterations' work).
	polishFloor float64
}

// pollStage names the work inside an ADMM step that polls the driver's
// interruption (see admm.poll).
type pollStage int

const (
	pollVStep       pollStage = iota // a projection of the v-step
	pollCertificate                  // a projection of the certificate
	pollPolish                       // polishing: its bases and Newton steps
)

func (m *ADMM) String() string {
	if m.Slack {
		return "ADMM (slack)"
	}
	return "ADMM"
}

// Constants of ADMM.
const (
	admmDefaultPatterns   = 64    // sampled directions when Settings.Patterns is zero
	admmDefaultIterations = 10000 // far beyond what the tests and benchmarks need
	admmDefaultTolerance  = 1e-6  // relative duality gap and relative primal residual
	defaultRelaxation     = 1.6   // Boyd et al. §3.4.3 suggest α ∈ [1.5, 1.8]
	admmCheckEvery        = 10    // certificate (one extra product) every this many iterations
	andersonDefaultMemory = 20    // above the 5–10 of Zhang, O'Donoghue and Boyd: 10–25 % fewer iterations on the tests' and benchmarks' instances
	rhoChangeFactor       = 5.0   // balancing moves ρ only by more than this factor (as OSQP); a float, so 1/rhoChangeFactor is 0.2, not 0
	maxRefactorizations   = 20    // bounds the changes (and refactoring work) of balancing
	// rhoRange bounds ρ to [ρ₀/rhoRange, ρ₀·rhoRange] around the scale-aware default
	// ρ₀ (or the given Rho): balancing once drove ρ from 1.47 to 2e-15, where the
	// iterates overflowed (testdata/cases/admm_logistic_rho_runaway.json); the best
	// fixed ρ of every test and benchmark instance lies within 1e-3 of ρ₀.
	rhoRange = 1e4
	// divergenceFactor: an iterate whose objective exceeds this multiple of the
	// zero network's (an upper bound on the optimum) and of the best one has diverged.
	divergenceFactor    = 1e6
	warmStartTolerance  = 1e-4 // the gated warm start only needs to be close
	warmStartIterations = 2000
)

// admm is the run state of one ADMM solve.
type admm struct {
	pr           *program
	ls           *linsys
	slack, split bool
	gated        bool // no cone constraints (GatedReLU)
	fixedRho     bool // no residual balancing (ADMM.FixedRho, or frozen after a breakdown)
	noPolish     bool
	noRefit      bool
	workers      int // goroutines for the per-block work
	rho          float64
	rho0         float64 // the default ρ: the scale-aware one, for the hinge loss scaled to β (see scaleRhoToBeta)
	rhoDefault   float64 // the scale-aware default ρ (see scale)
	rhoLo, rhoHi float64 // the bounds of ρ
	tau2         float64 // weight of u = v (slack form; 1 otherwise)
	sig2         float64 // weight of Fu = z (split losses)
	alfa         float64 // over-relaxation
	zeroObj      float64 // objective of the zero network
	zeroScale    float64 // t₀ = max(1, w/β) of ∇ℓ(0), the zero network's dual scale (0: not computed; see stalledAtZero)
	zeroChecks   int     // consecutive certificate checks at v = 0
	rhoBase      float64 // the least ρ balancing may choose for the hinge loss: ρ₀, or the ρ that left a stall at zero
	rhoCeil      float64 // if positive, the largest ρ balancing may choose (the squared loss at small β, see scaleSquaredRho)

	u, v, vOld, lam, rhs []float64 // 2P×d
	fty                  []float64 // Fᵀy (squared loss)
	arg                  []float64 // 2P×d: v-step arguments û + λ
	xa, xv               []float64 // n×2P: X uᵀ or X argᵀ, and X vᵀ
	s, sOld, nu          []float64 // n×2P: slack form only
	z, zOld, mu, fu, eta []float64 // n
	// dualDue: the running step computes the dual residual (see nextRHS); dualFresh:
	// a.dual is the last step's.
	dualDue, dualFresh bool
	noImages           bool      // no linear images: every product recomputed (tests)
	t, tOut            []float64 // products: n×4P and 4P×d
	ev                 *evaluation
	cs                 coneStepState // the v-step of the cone form
	cert               certState     // the certificate
	atU                certState     // the squared loss's second candidate, Fu − y (see uResidual)
	rf                 refitState    // the squared loss's third candidate (see refit)

	iterations                  int
	convex, network             float64 // objectives of the current point
	primal, dual, normAU, normZ float64
	firstPrimal, firstDual      float64
	refactorizations            int
	refactorWork                float64 // operations of a refactorization for a new ρ (squared loss)

	acc      *safeguard // Anderson acceleration (nil: plain ADMM)
	stepped  bool       // a step ran since the last restart (the safeguard's after is due)
	best     admmPoint  // the best point certified (see keep)
	pol      polishState
	tol      float64 // the stopping tolerance
	dr       *driver
	onPoll   func(stage pollStage)                             // see ADMM.onPoll
	onCert   func(c Certificate, eta []float64, worst float64) // see ADMM.onCertificate
	onPolish func(iterating, budget, work float64)             // see ADMM.onPolish

	onPolished func(converged bool, c Certificate) // see ADMM.onPolished
}

func (m *ADMM) solve(ctx context.Context, p *Problem, s *Settings) (*Result, error) {
	return m.solveFrom(ctx, p, s, nil)
}

// solveFrom solves p starting from prev, the solution of the same program at another
// β (see Path), when it is not nil.
func (m *ADMM) solveFrom(ctx context.Context, p *Problem, s *Settings, prev *Result) (*Result, error) {
	start := time.Now()
	arr, err := arrangementFor(p, s, admmDefaultPatterns)
	if err != nil {
		return nil, err
	}
	pr, err := newProgram(p, arr)
	if err != nil {
		return nil, err
	}
	return m.run(ctx, p, s, pr, start, false, prev)
}

// run solves the program pr, from the solution prev of the program at another β if
// not nil; gated drops the cone constraints (the gated ReLU program: the v-step is the
// plain group soft threshold), which GatedReLU uses for the hinge loss.
func (m *ADMM) run(ctx context.Context, p *Problem, s *Settings, pr *program, start time.Time, gated bool, prev *Result) (*Result, error) {
	if s.columns > 0 {
		pr.dims = s.columns // the scale of the user's X (see reduce.go)
	}
	a, route, err := m.setup(p, pr, gated, s.Threads)
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return canceledResult(m.String(), pr, start), nil
	}
	pr.watch(ctx, s, start)
	a.scaleSquaredRho(m)
	a.ls, err = newLinsys(pr, route, a.c())
	if err == errInterrupted {
		res := canceledResult(m.String(), pr, start)
		res.Status = interruption(ctx, s, start)
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	a.ls.workers = a.workers
	a.alloc()
	a.scaleRhoToBeta(m)
	a.initRHS()
	switch {
	case prev != nil:
		if err := a.startFrom(prev); err != nil {
			return nil, err
		}
	case m.WarmStart:
		if err := a.warmStart(ctx, s, start); err != nil {
			return nil, err
		}
		a.initRHS()
	}
	if m.Anderson >= 0 {
		mem := m.Anderson
		if mem == 0 {
			mem = andersonDefaultMemory
		}
		a.acc = newSafeguard(mem, a.stateSize(), a.imageSize())
	}
	maxIter := s.MaxIterations
	if maxIter == 0 {
		maxIter = admmDefaultIterations
	}
	tol := s.Tolerance
	if tol == 0 {
		tol = admmDefaultTolerance
	}
	a.tol = tol
	_, cholRefactor, cholSolve, _, woodRefactor, woodSolve := routeCosts(pr.n, pr.d, pr.P)
	a.pol.perStep = 12*float64(pr.n*pr.d*pr.P) + min(cholSolve, woodSolve)
	a.refactorWork = woodRefactor
	if route == FactorCholesky {
		a.refactorWork = cholRefactor
	}
	dr := newDriver(ctx, s, start, maxIter, tol, admmCheckEvery, pr.P)
	dr.current = a.slack
	a.dr = dr
	a.watch(m.onPoll)
	a.onCert, a.onPolish, a.onPolished = m.onCertificate, m.onPolish, m.onPolished
	a.pol.floor = polishTrialFloor
	if m.polishFloor > 0 {
		a.pol.floor = m.polishFloor
	}
	if err := dr.run(a); err != nil {
		return nil, err
	}
	return a.result(m, dr, route, start), nil
}

// setup checks the method's fields and returns the run state with its weights and ρ
// set, and the factorization route.
func (m *ADMM) setup(p *Problem, pr *program, gated bool, threads int) (*admm, string, error) {
	alfa := m.Relaxation
	if alfa == 0 {
		alfa = defaultRelaxation
	}
	if !(alfa > 0 && alfa < 2) {
		return nil, "", fmt.Errorf("solver: ADMM relaxation must be in (0, 2), got %v", alfa)
	}
	if m.Rho < 0 || math.IsNaN(m.Rho) || math.IsInf(m.Rho, 0) {
		return nil, "", fmt.Errorf("solver: ADMM rho must be positive and finite, got %v", m.Rho)
	}
	a := &admm{pr: pr, alfa: alfa, slack: m.Slack && !gated, split: !p.Loss.quadratic(), gated: gated, fixedRho: m.FixedRho, noPolish: m.NoPolish, noRefit: m.noRefit, noImages: m.noImages, workers: workers(threads)}
	a.scale(m)
	a.zeroObj = pr.loss.Value(make([]float64, pr.n), pr.y)
	route := m.Factorization
	if route == "" {
		refactors := 3.0
		if a.split || m.FixedRho {
			refactors = 0
		}
		var err error
		if route, err = chooseRoute(pr.n, pr.d, pr.P, refactors); err != nil {
			return nil, "", err
		}
	}
	return a, route, nil
}

// watch lets the long work inside a step poll the driver's interruption: the cone
// projections of the v-step and of the certificate (one outer step apart) and
// polishing (one basis or Newton step apart). A solve then ends within about one
// such unit of work, one u-step and one bounds-only certificate after its time
// limit or cancellation (see Settings.TimeLimit).
func (a *admm) watch(onPoll func(pollStage)) {
	a.onPoll = onPoll
	for _, p := range a.cs.projs {
		p.stop = func() bool { return a.poll(pollVStep) }
	}
	for _, p := range append(a.cert.projs, a.atU.projs...) {
		p.stop = func() bool { return a.poll(pollCertificate) }
	}
}

// poll reports whether the run must stop now (cancellation or the time limit).
func (a *admm) poll(stage pollStage) bool {
	if a.onPoll != nil {
		a.onPoll(stage)
	}
	return a.dr.interrupted() != NotTerminated
}

// result assembles the Result of a run that the driver ended with a at the point to
// return.
func (a *admm) result(m *ADMM, dr *driver, route string, start time.Time) *Result {
	pr := a.pr
	res := &Result{Method: m.String(), Factorization: route, Arrangement: pr.arr, Patterns: pr.P,
		Status: dr.status, Message: dr.message, Iterations: dr.iterations, History: dr.history}
	convex, network, violation := pr.eval(a.v, a.ev)
	cert, ok := dr.certificate()
	if !ok {
		cert = Certificate{Primal: convex, Dual: math.Inf(-1), Gap: math.Inf(1), ConeViolation: violation, DualScale: math.NaN()}
	}
	if a.gated {
		network = convex
		cert.ConeViolation = 0
	}
	if dr.status == Failure {
		res.Message = fmt.Sprintf("%v: %s; the result is the best point before it", m, dr.message)
	}
	res.Objective = network
	res.Certificate = &cert
	res.Gap = cert.Gap
	res.Network = pr.network(a.v)
	res.ActiveNeurons = res.Network.Neurons()
	res.V, res.W = splitBlocks(pr, a.v)
	res.Dual = append([]float64(nil), a.eta...)
	if !a.split {
		for k := range res.Dual {
			res.Dual[k] = a.ev.convex[k] - pr.y[k] // the gradient of the squared loss
		}
	}
	res.Rho = a.rho
	res.Factorizations = a.ls.factorizations
	res.ADMM = &ADMMStats{}
	if a.acc != nil {
		res.ADMM.Accelerated, res.ADMM.Rejected = a.acc.accelerated, a.acc.rejected
	}
	if a.cs.projs != nil {
		res.ADMM.Projections, res.ADMM.Products, res.ADMM.ActiveRows = a.cs.stats()
		res.ADMM.Candidates = a.cs.candidates
	}
	res.Runtime = time.Since(start)
	return res
}

// scale sets the constraint weights and the initial ρ.
//
// Slack form: the consensus constraint u = v is weighted by τ² = ‖X‖_F²/d, the mean
// eigenvalue of XᵀX, so that it is on the scale of Gu = s (GᵀG = I ⊗ XᵀX) and the
// method is invariant to a rescaling of X. For the split losses Fu = z is weighted by
// σ² = tr(I ⊗ B)/tr(FᵀF), B = τ²I + XᵀX, for the same reason. The default ρ balances
// the loss against the constraints in the u-step: ρ = ρ₀ tr(FᵀF)/tr(I ⊗ B) for the
// squared loss (ρ₀ = defaultRhoSquared) and ρσ² = ρ₀ ℓ” for the others. d is that of
// the user's X (program.dims) when the program is its reduction to the row space.
func (a *admm) scale(m *ADMM) {
	pr := a.pr
	fro := 0.0
	for _, v := range pr.x {
		fro += v * v
	}
	a.tau2 = 1
	if a.slack {
		a.tau2 = math.Max(fro/float64(pr.dims), 1e-300)
	}
	pr.tau2 = a.tau2
	pr.noGram = !a.slack
	trF := 0.0 // tr(FᵀF) = 2 Σₖ ‖xₖ‖² #{i : dᵢₖ = 1}
	for k := 0; k < pr.n; k++ {
		xk := pr.x[k*pr.d : (k+1)*pr.d]
		cnt := 0.0
		for _, mk := range pr.mask[k*pr.P : (k+1)*pr.P] {
			cnt += mk
		}
		trF += 2 * dot(xk, xk) * cnt
	}
	trB := 2 * float64(pr.P) * float64(pr.dims) * a.tau2
	if a.slack {
		trB += 2 * float64(pr.P) * fro
	}
	base := 1.0 // tr(I ⊗ B)/tr(FᵀF): the balance point of ρ for the squared loss
	if trF > 0 {
		base = trB / trF
	}
	f := pr.loss.admmDefaults(a.slack)
	a.sig2 = f.sigma * base
	if m.sig2 > 0 {
		a.sig2 *= m.sig2
	}
	a.rhoDefault = f.rho / base
	a.initRho(m, 1)
}

// initRho sets the initial ρ and its bounds from the default ρ₀ = factor × the
// scale-aware one (see scale and scaleRhoToBeta), or from m's Rho.
func (a *admm) initRho(m *ADMM, factor float64) {
	a.rho0 = factor * a.rhoDefault
	a.rho = a.rho0
	a.rhoBase = a.rho0
	switch {
	case m.Rho > 0:
		a.rho = m.Rho
	case m.rhoScale > 0:
		a.rho *= m.rhoScale
	}
	a.rhoLo, a.rhoHi = math.Min(a.rho0, a.rho)/rhoRange, math.Max(a.rho0, a.rho)*rhoRange
}

// c returns the coefficient of FᵀF in the u-step matrix.
func (a *admm) c() float64 {
	if a.split {
		return a.sig2
	}
	return 1 / a.rho
}

func (a *admm) alloc() {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	blk := 2 * P * d
	a.u, a.v, a.vOld, a.lam, a.rhs, a.arg = make([]float64, blk), make([]float64, blk), make([]float64, blk), make([]float64, blk), make([]float64, blk), make([]float64, blk)
	a.xa = make([]float64, n*2*P)
	a.ev = newEvaluation(pr)
	a.xv = a.ev.xu
	if a.slack {
		a.s, a.sOld, a.nu = make([]float64, n*2*P), make([]float64, n*2*P), make([]float64, n*2*P)
	} else {
		a.cs.alloc(pr, a.workers)
	}
	a.cert.alloc(pr, a.workers)
	if !a.split {
		a.atU.alloc(pr, a.workers)
	}
	a.t, a.tOut = make([]float64, n*4*P), make([]float64, 4*P*d)
	a.z, a.zOld, a.mu, a.fu, a.eta = make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	if !a.split {
		// Fᵀy: the v-half is Xᵀ(dᵢ ∘ y), the w-half its negative.
		a.fty = make([]float64, blk)
		t := a.t[:n*P]
		for k := 0; k < n; k++ {
			for i := 0; i < P; i++ {
				t[k*P+i] = pr.mask[k*P+i] * pr.y[k]
			}
		}
		pr.mulTX(a.fty[:P*d], t, P, 1, 0)
		for i := 0; i < P*d; i++ {
			a.fty[P*d+i] = -a.fty[i]
		}
	}
}

func activeBlocks(norms []float64) int {
	c := 0
	for _, v := range norms {
		if v > 0 {
			c++
		}
	}
	return c
}

// splitBlocks returns the v- and w-halves of u as P×d matrices.
func splitBlocks(pr *program, u []float64) (v, w *mat.Dense) {
	P, d := pr.P, pr.d
	return mat.NewDense(P, d, append([]float64(nil), u[:P*d]...)), mat.NewDense(P, d, append([]float64(nil), u[P*d:]...))
}

// canceledResult is the result of a solve cancelled before its first iteration: the
// zero network, the best point known.
func canceledResult(method string, pr *program, start time.Time) *Result {
	return &Result{Method: method, Status: Canceled, Gap: math.NaN(),
		Objective: pr.loss.Value(make([]float64, pr.n), pr.y),
		Network:   &Network{}, Arrangement: pr.arr, Patterns: pr.P, Runtime: time.Since(start)}
}
