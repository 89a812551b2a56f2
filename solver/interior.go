package solver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/mat"
)

// InteriorPoint solves the convex program of MATH.md §3 for every loss by a
// primal-dual interior-point method on its conic form: the baseline that Bai, Gautam
// and Sojoudi compare ADMM with (MATH.md §8), in Go so that it runs without Python,
// and a route that certifies small programs at any β (the independent reference of
// the tests remains cvxopt, solver/testdata/cvxopt_ref.py).
//
// # The conic form
//
// The 2P blocks uⱼ ∈ {vᵢ, wᵢ} (u ∈ ℝ^{2dP}) get one epigraph variable τⱼ each and,
// for the hinge loss, each point a slack ξₖ:
//
//	minimize   ℓ(Fu) + β Σⱼ τⱼ                 (squared, logistic: ℓ smooth)
//	           Σₖ ξₖ + β Σⱼ τⱼ                  (hinge: an SOCP)
//	subject to (2Dᵢ − I)Xuⱼ ≥ 0,  (τⱼ, uⱼ) ∈ Q^{d+1},  [ξ ≥ 0, ξ + y∘Fu ≥ 1]
//
// with F = [D₁X … DₚX −D₁X … −DₚX] and Q the second-order cone; written
// Gx + s = h, s ∈ K = ℝ₊^{2Pn(+2n)} × Q^{2P}, x = (u, τ, ξ). Rows of X that are zero
// constrain nothing and are dropped (their loss ℓ(0, yₖ) is a constant).
//
// # The iteration
//
// It is the infeasible primal-dual path-following method of cvxopt's coneqp
// (Vandenberghe 2010), extended to the smooth logistic loss by taking its Hessian at
// the current point. Each iteration linearizes the central-path conditions,
//
//	∇²f Δx + GᵀΔz = −(∇f + Gᵀz),   GΔx + Δs = −(s + Gx − h),   λ∘(WΔz + W⁻¹Δs) = r,
//
// with the Nesterov–Todd scaling W (λ = Wz = W⁻¹s; cone.scale) and solves it for the
// affine direction (r = −λ∘λ), then for Mehrotra's combined direction
// (r = −λ∘λ − (W⁻¹Δsₐ)∘(WΔzₐ) + σμe, σ = (μₐ/μ)³), adds up to two Gondzio centrality
// correctors when the factorization costs many solves (pdip.centrality), and steps
// 0.99 of the way to the cone's boundary. For the logistic loss the step is shortened
// until the change of ℓ' along it matches its linear model within a half
// (pdip.backtrack): without it, steps along directions where ℓ” ≈ 0 ran away. Once
// that search has cut a step by more than 3, the Hessian takes max(ℓ”, 1e-3·μ) on
// every point (pdip.hessian): points classified with a large margin have ℓ” ≈ e^−m,
// and without a floor the directions moved them by up to 1e9 and the search cut
// every step to 1e-8…1e-3 (the n×n route of a 20-point program at β = 1e-4 stopped at
// the iteration limit).
//
// # The Newton system
//
// Eliminating Δz and Δs leaves H Δx = b with H = ∇²f + GᵀW⁻²G. Its structure is
// eliminated further (pdip.factor): τ per cone (a (d+1)×(d+1) block), ξ per point
// (diagonal), and the sum of the v and w halves per pattern (F sees only v − w), which
// leaves the dP×dP system (C⁻¹ + K) e = r, C⁻¹ = blockdiag(B_vᵢTᵢ⁻¹B_wᵢ),
// K = F_Dᵀdiag(δ)F_D. It is solved by one of two routes (Factorization; by default the
// cheaper by the estimate ipmCosts, and the dense one whenever its step is estimated
// at ≤ 3e7 operations, where the estimate's omissions decide: see ipmCost.cheaper):
//
//   - dense: a Cholesky factorization of C⁻¹ + K, (dP)³/3 operations, plus
//     n(dP)² to form K for the hinge and logistic losses, whose δ changes (for the
//     squared loss K is fixed and formed once);
//   - Woodbury, when n < dP: an n×n matrix I + Δ^½F_D C F_DᵀΔ^½ formed pattern by
//     pattern (Σᵢ nᵢ²d) and factored (n³/3), the blocks' Cholesky factors applying C;
//     each solve is refined by conjugate gradients on C⁻¹ + K (see ipmWoodbury for
//     which matrix goes where and why).
//
// Both form the 2P blocks Xᵀdiag(zⱼ/sⱼ)X (2Pnd², on Settings.Threads workers, as are
// the Woodbury route's per-pattern terms, whose sums are combined in a fixed order,
// so that a solve's result depends on Threads but not on the goroutines' schedule). The blocks' condition grows without bound
// near the optimum, and Woodbury's identity applies their inverses, so its accuracy
// was measured rather than assumed (TestInteriorPointRoutes and, for the larger
// programs, the profile's breast cancer and digits at P = 64): on the 27 golden
// programs (n = 20–100, dP = 18–96) both routes took the same Newton steps to a gap
// of 1e-8 for the squared and logistic losses, the n×n route's refined directions
// keeping relative residuals of 1e-16…1e-7 (2e-6 on breast cancer, about what the
// dense route's refined ones reach there); for the hinge loss, whose δ grows
// without bound on the margin, the residuals jump to 1e3–1e20 once sᵀz/|f| falls
// to 1e-5…3e-7 (without the conjugate-gradient refinement: 3e-5), and on 8 of the 9
// hinge goldens the last 2–8 of 16–31 iterations ran on the dense route. A direction
// whose residual after refinement exceeds ipmWoodburyResidual ends the solve when
// its best point is within the tolerance and otherwise hands the remaining
// iterations to the dense route (Result.Factorization then says so). The dense
// route's direction taken is refined once sᵀz ≤ 1e-5·|f|, by up to three steps of
// iterative refinement, a step that raises the residual being undone: one step had
// left hinge directions at β = 1e-4 with relative residuals of 1e-3 at sᵀz ≈ 1e-7|f|
// (three: 2e-9), and their dual residual then grew past what β tolerates (below).
// Where refinement leaves a residual above 1e-8, restarted GMRES on the unreduced
// equations, preconditioned by the same factorization, takes over (pdip.gmres): at
// small β the last reduced matrices are formed from blocks whose small eigenvalues
// are rounding noise, refinement diverged there, and solves ended with status
// Failure, most at gaps of 1.3e-8–1.3e-7 (TestLiveCvxopt's generator, seeds 1–2 000,
// 24 000 solves on both routes with one worker: non-Optimal endings 27 → 10, all
// ten logistic, two of them at the iteration limit as before; seeds 1–1 000: 7 → 1;
// testdata/golden/precision). A factorization that no shift makes definite
// is retried with each C⁻¹ᵢ clipped to its positive part (pdip.clipCinv).
//
// Measured (see BenchmarkInteriorPoint and solver/testdata/ipmcompare): 12–46
// iterations to a gap of 1e-8 on the 27 golden programs (the barrier method this
// replaces took 110–139 Newton steps on the squared-loss ones), 20–90 to 1e-6 on
// programs of 640–2000 weights — about as many as cvxopt's, each far cheaper. On
// breast cancer (n = 569, dP = 1 984, P = 64, β = 1e-4, 1e-3, 1e-2, one thread, load
// 3–5; bench/solver -ipm-routes) both routes took the same 36–48 Newton steps to a
// certified 1e-6 for every loss, the n×n route in 5.6–16 s against the dense route's
// 24–58 s (2.6–4.5× sooner; for the hinge loss including its last 6 steps on the
// dense route).
//
// # The certificate
//
// At every iterate the point u (each block moved along its pattern's generator onto
// its cone when rounding or the infeasible start leave it slightly outside) gives
// Primal, and the multipliers give a dual point (η from the loss, ζ = the pattern
// rows' z) made feasible, ‖Fⱼᵀη − Gⱼᵀζⱼ‖ ≤ β: near the optimum first by moving ζⱼ
// (a least-norm change that keeps ζⱼ ≥ 0, pdip.tighten), then, as in ADMM's
// certificate, by scaling η. Its value −ℓ*(η) is Dual, and each iterate is certified
// against the largest Dual so far (ipmRun.combine); Gap is the relative difference.
// Scaling alone divides η by 1 + (dual residual)/β, so at β = 1e-4 a residual of
// 4e-12 cost a gap of 4e-8 on a hinge program whose sᵀz was 2e-9|f|; and late hinge
// iterates can lose their dual bound while their objective still falls
// (golden/small_beta/relu_hinge_n35 and golden/regressions/relu_hinge_n36:
// TestLiveCvxopt seeds that ended with status Failure at gaps of 3.7e-8 and 2.4e-8,
// now certified to 1.6e-9 and 5e-9). The solve returns Optimal
// when Gap ≤ Tolerance at a point feasible to 1e-9, and otherwise the iterate with
// the smallest gap and the status that stopped it. Blocks that vanish at the optimum
// (about μ in size) are set to zero when that keeps the gap within the tolerance, so
// the network has the optimum's neurons.
//
// # The time limit and the context
//
// A Newton step of the digits programs (n = 357–361, dP = 3 770–4 095) takes seconds
// on the dense route; at MNIST 28×28 (n = 1 935, d = 785) the first had not ended
// after 4 minutes. So the context and Settings.TimeLimit are polled inside each step:
// every 64 rows of a block Bⱼ, of a pattern's split and of the n×n route's
// per-pattern products, every chunk of 32 rows of K, every panel of 64 columns of a
// Cholesky factorization (dP×dP or n×n) and every conjugate-gradient iteration (at
// d = 785, about 40 polls in a step's first 2 s). A step that a poll stops is abandoned
// before it moves the point (it does not count as an iteration), and the solve
// returns the best iterate certified before it, with status Canceled or TimeLimit.
// Nor is a step started when it is predicted to end past the limit: by the measured
// duration of the last step on its route, or, for the first step on a route (the
// dense one, when the n×n route hands over to it), by its estimated work (ipmCosts)
// at the rate the steps so far ran (on digits 4 vs 9 the first dense step was
// predicted at 18.2 s and took 11.8 s: pessimistic). Measured (bench/solver/RESULTS.md,
// run 9, load 8–14): the digits hinge solves at β = 1e-4…1e-1 that had ended up to
// 6.4 s past a 30 s limit now end at most 0.13 s past it (two of them stop before a
// step that would only have pruned, Optimal; at load 9–14 three of the five end
// uncertified to 1e-6, honestly, before their limit); at MNIST 28×28 a 2 s limit
// returns after 2.15–3.0 s, most of the excess before the first poll (allocating the
// 2.5 GB of that program's blocks and n×n matrices).
type InteriorPoint struct {
	// Factorization forces the route of the Newton system, FactorCholesky (dense
	// dP×dP) or FactorWoodbury (n×n); empty chooses the cheaper by ipmCosts, or the
	// dense one when its step is estimated at ≤ 3e7 operations (ipmCost.cheaper).
	Factorization string

	// onPoll, if set, is called at every poll inside a Newton step (tests: cancel at
	// a chosen stage); it may be called from several goroutines.
	onPoll func(stage ipmStage)
}

func (m *InteriorPoint) String() string { return "interior point" }

// Constants of the interior-point method.
const (
	ipmDefaultIterations = 200  // iterations (one factorization each)
	ipmStep              = 0.99 // fraction of the step to the cone's boundary
	ipmFeasible          = 1e-9 // largest relative cone violation of an Optimal point
	ipmPruneIterations   = 4    // iterations past the tolerance to make pruning fit in it
	ipmRefinements       = 1    // steps of iterative refinement per solve
	ipmDenseRefinements  = 3    // steps of iterative refinement of a dense direction at most
	ipmRefineGap         = 1e-5 // relative gap sᵀz/|f| below which directions are refined
	ipmCorrectors        = 2    // centrality correctors per iteration at most
	ipmCorrectorRatio    = 8    // factorization cost in solves beyond which they are used
	ipmReach             = 3    // the correctors aim at this multiple of the step
	ipmTightenRounds     = 4    // solves per block of the certificate's tightening at most
	ipmCurvFloor         = 1e-3 // the logistic loss's curvature floor once floored, in units of μ
	ipmFloorCut          = 3    // a line search that cuts the step by more floors the curvature
)

func (m *InteriorPoint) solve(ctx context.Context, p *Problem, s *Settings) (*Result, error) {
	start := time.Now()
	if !(p.Beta > 0) {
		return nil, errors.New("solver: InteriorPoint needs β > 0 (with β = 0 the epigraph variables are unbounded)")
	}
	arr, err := arrangementFor(p, s, admmDefaultPatterns)
	if err != nil {
		return nil, err
	}
	pr, err := newProgram(p, arr)
	if err != nil {
		return nil, err
	}
	route := m.Factorization
	if route == "" {
		route, _ = ipmEstimate(pr.n, pr.d, pr.P, pr.loss, activeCounts(arr))
	}
	ip, err := newPDIP(pr, route, workers(s.Threads))
	if err != nil {
		return nil, err
	}
	tol := s.Tolerance
	if tol == 0 {
		tol = admmDefaultTolerance
	}
	maxIter := s.MaxIterations
	if maxIter == 0 {
		maxIter = ipmDefaultIterations
	}
	res := &Result{Method: m.String(), Arrangement: arr, Patterns: pr.P}
	run := &ipmRun{ip: ip, settings: s, start: start, tol: tol, dr: newDriver(ctx, s, start, maxIter, tol, 1, pr.P),
		last: map[string]time.Duration{}}
	ip.stop = func(stage ipmStage) bool {
		if m.onPoll != nil {
			m.onPoll(stage)
		}
		return run.dr.interrupted() != NotTerminated
	}
	status, msg := run.loop(maxIter)
	best := run.best
	if best == nil { // no iterate was evaluated (an immediate failure)
		best = ip.newPoint()
		ip.certify(best)
	}
	u := best.u
	net := pr.network(u)
	objective, err := net.Objective(p.X, p.Y, p.Loss, p.Beta)
	if err != nil {
		return nil, err
	}
	res.Status, res.Message, res.Iterations, res.Factorization = status, msg, run.iter, ip.route
	if ip.fellBack != "" {
		res.Factorization = fmt.Sprintf("%s (after %s: %s)", FactorCholesky, FactorWoodbury, ip.fellBack)
	}
	res.Objective, res.Gap = objective, best.cert.Gap
	res.Network, res.ActiveNeurons = net, net.Neurons()
	res.History = run.history
	c := best.cert
	res.Certificate = &c
	res.V = mat.NewDense(pr.P, pr.d, append([]float64(nil), u[:pr.P*pr.d]...))
	res.W = mat.NewDense(pr.P, pr.d, append([]float64(nil), u[pr.P*pr.d:]...))
	res.Dual = ip.fullDual(best.eta)
	res.Runtime = time.Since(start)
	return res, nil
}

// ipmRun is one run of the iteration loop: its settings, the best point so far, the
// history, and what predicts the next step's duration.
type ipmRun struct {
	ip       *pdip
	settings *Settings
	start    time.Time
	tol      float64
	iter     int
	extra    int // iterations past the tolerance, for pruning
	best     *ipmPoint
	history  []Iteration
	dr       *driver                  // the interruption (ctx, TimeLimit) and the rate of work
	last     map[string]time.Duration // by route, the duration of its last Newton step
	work     float64                  // the estimated operations of the steps taken (ipmCosts)
	dual     *ipmPoint                // the iterate whose dual bound is the largest so far
}

// combine gives pt the largest dual bound of the iterates so far (with its η), or
// records pt's when it is larger: every iterate's Dual bounds the optimum from
// below, so the gap of pt's network is certified against the best of them. Near the
// limit of floating point the dual residual of late iterates can grow while their
// primal objective still falls (measured on golden/small_beta/relu_hinge_n36 on the
// Woodbury route: the dual bound of iteration 27 against the primal objective of
// later ones).
func (r *ipmRun) combine(pt *ipmPoint) {
	c := &pt.cert
	if r.dual == nil || c.Dual > r.dual.cert.Dual || math.IsNaN(r.dual.cert.Dual) {
		if r.dual == nil {
			r.dual = &ipmPoint{eta: make([]float64, len(pt.eta))}
		}
		copy(r.dual.eta, pt.eta)
		r.dual.cert = *c
		return
	}
	copy(pt.eta, r.dual.eta)
	c.Dual, c.DualScale = r.dual.cert.Dual, r.dual.cert.DualScale
	c.Gap = relativeGap(c.Primal, c.Dual)
}

// loop iterates until the certificate reaches the tolerance or a limit is met, and
// returns the status and, for a failure, its message. Whenever it stops, a point
// certified within the tolerance makes the solve Optimal.
func (r *ipmRun) loop(maxIter int) (Status, string) {
	status, msg := r.iterate(maxIter)
	if status != Optimal && r.best != nil && r.best.within(r.tol) {
		r.best, _ = r.ip.prune(r.best, r.tol)
		return Optimal, ""
	}
	return status, msg
}

func (r *ipmRun) iterate(maxIter int) (Status, string) {
	ip := r.ip
	if err := r.initialize(); err != nil {
		return r.stopped(err)
	}
	var spare *ipmPoint
	for {
		pt := spare
		if pt == nil {
			pt = ip.newPoint()
		}
		ip.certify(pt)
		r.combine(pt)
		if r.best == nil || pt.better(r.best) {
			r.best, spare = pt, r.best
		} else {
			spare = pt
		}
		if r.iter > 0 {
			r.record(pt)
		}
		if pt.within(r.tol) {
			// Blocks that vanish at the optimum are about μ in size; when setting
			// them to zero costs more than the gap allows, a few more iterations
			// shrink them (and the gap) further.
			pruned, ok := ip.prune(pt, r.tol)
			if ok {
				r.best = pruned
				return Optimal, ""
			}
		}
		if r.best.within(r.tol) {
			// The iterations past a point certified within the tolerance count
			// whether or not they are (near the limit of floating point their
			// directions lose accuracy and the certificate can worsen again).
			if r.extra >= ipmPruneIterations {
				return IterationLimit, "" // loop returns the best point, Optimal
			}
			r.extra++
		}
		if st := r.dr.interrupted(); st != NotTerminated {
			return st, ""
		}
		if r.iter >= maxIter {
			return IterationLimit, ""
		}
		if !r.fits(ip.route) {
			return TimeLimit, ""
		}
		r.iter++
		alpha, err := r.step()
		if f, ok := err.(woodburyFailure); ok {
			// The Woodbury route lost accuracy: a point within the tolerance ends
			// the solve (loop prunes it), otherwise the dense route continues if its
			// step fits in the time left.
			if r.best.within(r.tol) {
				return IterationLimit, ""
			}
			if !r.fits(FactorCholesky) {
				r.iter--
				return TimeLimit, ""
			}
			if err := ip.fallBack(fmt.Sprintf("%v at iteration %d", f, r.iter)); err != nil {
				return r.stopped(err)
			}
			alpha, err = r.step()
		}
		if err != nil {
			return r.stopped(err)
		}
		if alpha < 1e-10 {
			return Failure, fmt.Sprintf("interior point: the step length fell to %.2g at a gap of %.2g (the limit of floating point)", alpha, r.best.cert.Gap)
		}
	}
}

// initialize sets the starting point, on the dense route when the Woodbury route
// cannot factor the first system.
func (r *ipmRun) initialize() error {
	ip := r.ip
	err := ip.initialize()
	if f, ok := err.(woodburyFailure); ok {
		if err = ip.fallBack(f.why + " at the start"); err == nil {
			err = ip.initialize()
		}
	}
	if err == nil {
		r.work += ip.stepWork(ip.route)
	}
	return err
}

// step takes a Newton step, and records its duration on its route and its estimated
// work: ipmCosts' factorization and solves, and a solve's work per conjugate-gradient
// iteration of the Woodbury route (an application of the matrix and a Woodbury solve,
// about the products of one solve of the Newton system), which ipmCosts leaves out.
func (r *ipmRun) step() (float64, error) {
	ip := r.ip
	route, t := ip.route, time.Now()
	ip.cgIter = 0
	alpha, err := ip.step()
	if _, failed := err.(woodburyFailure); err == nil || failed {
		_, solve := ip.costs.perStep(route)
		r.work += ip.stepWork(route) + float64(ip.cgIter)*solve
	}
	if err == nil {
		r.last[route] = time.Since(t)
	}
	return alpha, err
}

// fits reports whether a Newton step on route is predicted to end within the time
// limit: by the duration of the last step on the route, or, before its first, by the
// step's estimated work at the rate the steps so far ran (driver.workLeft), as when
// the Woodbury route hands over to the dense one. A step that runs longer than
// predicted is stopped by the polls inside it.
func (r *ipmRun) fits(route string) bool {
	limit := r.settings.TimeLimit
	if limit <= 0 {
		return true
	}
	if d, ok := r.last[route]; ok {
		return time.Since(r.start)+d <= limit
	}
	return r.ip.stepWork(route) <= r.dr.workLeft(r.work)
}

// stopped maps an error of an iteration to the status: the interruption when a poll
// stopped the step (which then does not count), Canceled when the context ended,
// Failure otherwise.
func (r *ipmRun) stopped(err error) (Status, string) {
	if err == errInterrupted {
		if r.iter > 0 {
			r.iter--
		}
		if st := r.dr.interrupted(); st != NotTerminated {
			return st, ""
		}
	}
	if r.dr.ctx.Err() != nil {
		return Canceled, ""
	}
	return Failure, "interior point: " + err.Error()
}

// record appends the iterate pt to the history.
func (r *ipmRun) record(pt *ipmPoint) {
	ip := r.ip
	it := Iteration{Iteration: r.iter, Objective: pt.cert.Primal, Gap: relGap(pt.cert.Primal, r.settings.Reference),
		PrimalResidual: ip.primalRes, DualResidual: ip.dualRes, Elapsed: time.Since(r.start),
		TrainAccuracy: ip.accuracy(), ActiveNeurons: ip.active(pt.u), Patterns: ip.P,
		DualityGap: pt.cert.Gap}
	r.history = record(r.history, r.settings.Recorder, it)
}
