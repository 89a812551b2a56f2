package solver

import "math"

// admmPolishShare bounds the work spent polishing to this multiple of the work spent
// iterating: a failed attempt (wrong structure, far from the solution) then costs at
// most about half the time of the iterations it waited for. (Polishing's dense
// factorizations run at about half the rate of the operations counted for an ADMM
// step: 3.8 against 8.1 per ns on MNIST 2 vs 8 at 10×10, squared loss, β = 1, one
// thread, where a share of 1 made the solve 2.7× slower, 35 s against 12.8 s
// without polishing, for no fewer iterations.)
const admmPolishShare = 0.5

// polishSlowdown is the rate of ADMM's counted operations over polishing's (3.8
// against 8.1 per ns, above): the time a TimeLimit leaves, converted to work at the
// rate the solve has run so far (mostly ADMM steps), affords polishing half as much.
// Without it an attempt on MNIST 2 vs 8 at 10×10 (squared, β = 1e-3, one thread)
// that began 17 s before a 100 s limit did 6.5·10¹⁰ operations and the solve
// returned at 105.4 s.
const polishSlowdown = 2

// polishStall is the number of checks over which a gap that fell less than tenfold
// calls for polishing, and polishSettled the relative change of the objective over
// them below which the iterates count as settled (see mayPolish).
//
// polishTrialSteps bounds the Newton steps and active-set changes of an attempt; an
// attempt that is not adopted doubles it for the next, an adopted one resets it.
// Measured on the programs of `go run ./bench/solver -polish` (the benchmark's
// instances at n = 250 and 1 000, breast cancer and digits 3 vs 8, squared and
// logistic, β = 1 and 0.02·n): attempts at the right structure converged in 3–4
// steps, the ones that failed ran 18–198 steps until the budget was spent. The
// small-β cases (testdata/cases, golden/small_beta) need up to about 30 steps: a
// first trial of 8 doubled their iterations. (Waiting also until the nonzero blocks
// and tight cone rows had held for a check saved most failed attempts there, but
// doubled the time of breast cancer, hinge, β = 0.1 and digits 3 vs 8, logistic,
// β = 1e-4, whose structure keeps moving while polishing already finishes them.)
// On MNIST 2 vs 8 at 10×10 (hinge, P = 64) the hinge attempts need more: from the
// iterate at iteration 600 (β = 1e-3) one converged in 96 steps, and at β = 1e-2
// and 1e-1 the second attempt (near iteration 650) ran out of its 64 steps with
// the objective at 1.1278 and 11.2783, below ADMM's after 1 000 iterations, while
// half of its budget was left. A first trial of 128 certified 1e-4 there after 680
// and 710 iterations instead of gaps of 0.040 and 0.028 after 1 000, and took the
// hinge programs of golden/small_beta and testdata/cases from 230 / 360 / 360 /
// 540 / 2 160 / 1 140 / 240 / 1 410 / 110 iterations to 230 / 360 / 180 / 260 /
// 980 / 530 / 240 / 1 410 / 110 (TestPolishCertifiesOptimum, tolerance 1e-8); the
// budget in work (below) still bounds an attempt's cost.
//
// polishTrialShare bounds an attempt's work likewise, as a share of the iterations'
// work so far (doubled after a failure up to polishCheckShare, reset after an
// adoption), but never below polishTrialFloor operations: on MNIST 2 vs 8 at 10×10
// (squared, β = 1) an attempt of 32 steps took 6 s, two of them half the solve, for
// no fewer iterations, while the small programs need whole attempts (their work is
// under the floor). Nor does an attempt get more than the work ADMM would need to
// reach the tolerance at its recent rate (see mayPolish). A first share of 1/8, the
// second attempt's then at polishCheckShare: on MNIST 2 vs 8 at 10×10 (hinge,
// β = 1e-3, one thread) the second attempt, at iteration 480, needs 133 steps and
// 2.0·10¹⁰ operations; with a first share of 1/16 its budget was 1.2·10¹⁰ (127 steps,
// not converged) and the solve certified 1e-4 at the third, after 960 iterations
// (29 CPU s); with 1/8 (budget 2.3·10¹⁰) it converged and certified after 480
// (19.5 CPU s). On digits 3 vs 8 and 4 vs 9 (ADMM, all three losses, β = 1e-3 and
// 1e-4) no solve took more iterations, and logistic 4 vs 9 at β = 1e-4 took 220
// instead of 690; the small programs' attempts are under polishTrialFloor. At
// β = 1e-2 and 1e-1 (MNIST, hinge) the failing first attempt (near iteration 270)
// costs twice as much, 6.5·10⁹ operations against 3.2·10⁹: 660 and 700 iterations
// as before, 21.4–22.8 and 21.9–22.2 CPU s against 20.6 and 20.2 (loads 1.5–3.5
// against 2.1–2.3). A first share of 1/16 quadrupled after a failure kept that
// first attempt's cost and certified β = 1e-3 after 480 too, but lost the digits
// logistic gains.
//
// polishCheckShare caps the share of one attempt, its bases, Newton steps and the
// certificate of its point together: about half the iterations' time so far, as
// polishing's dense operations run at about half the rate of ADMM's. The share used
// to double up to admmPolishShare, and on MNIST 2 vs 8 at 10×10 (squared, β = 1e-3,
// one thread), where one Newton step of the restricted program (n = 1 935 rows,
// R ≈ 10⁴ columns, the reduced route: n²R ≈ 4·10¹⁰ operations) fits only in the
// later, larger trials, one check at iteration 2 090 took 32.8 s of a 120 s solve
// and was not adopted. A cap of 1/8 delayed the attempt that finishes the n = 250
// benchmark instance at β = 1e-3 (5 120 iterations instead of 2 580).
//
// polishMinSteps: an attempt starts (after its bases) only when its budget affords
// this many Newton steps, what attempts at the right structure take; one that
// affords fewer cannot finish, and its steps and certificate would be spent for
// nothing (MNIST's check above afforded about two).
const (
	polishStall      = 3
	polishSettled    = 1e-2
	polishTrialSteps = 128
	polishTrialShare = 1.0 / 8
	polishCheckShare = 1.0 / 4
	polishMinSteps   = 4
	polishTrialFloor = 1e8
)

// polishState is ADMM's record of polishing.
type polishState struct {
	// spent and iterating estimate the floating-point operations of polishing and of
	// the ADMM steps: a budget in work, not time, keeps solves deterministic.
	spent, iterating  float64
	perStep           float64 // the operations of one ADMM step
	attempts, adopted int
	// next is the iterating work before which no attempt is made: an attempt that
	// is not adopted doubles the wait, so attempts on a structure that is not there
	// yet (each costs its bases and an exact certificate besides its Newton steps)
	// are logarithmically few.
	next       float64
	gaps, objs []float64 // the certified gap and the objective at every check
	allow      int       // the steps the next attempt may take (see polishTrialSteps)
	share      float64   // the next attempt's work, as a share of the iterations' (see polishTrialShare)
	remaining  float64   // ADMM's work to the tolerance at its recent rate (see mayPolish)
	floor      float64   // an attempt's least budget (polishTrialFloor)
	converged  bool      // the last attempt's Newton method converged
	point      []float64 // 2P×d: the polished point
	ev         *evaluation
	eta        []float64
}

// mayPolish reports whether an attempt is due at a check whose certified gap is gap
// and objective obj: when ADMM is slow (the gap fell less than tenfold over the last
// polishStall checks; where it converges fast, polishing only costs), its iterates
// have settled (the objective moved by less than polishSettled over those checks:
// before, the structure polishing needs is not there yet), and the budget allows.
func (a *admm) mayPolish(gap, obj float64) bool {
	ps := &a.pol
	ps.gaps, ps.objs = append(ps.gaps, gap), append(ps.objs, obj)
	k := len(ps.gaps) - 1 - polishStall
	if k < 0 || ps.gaps[k] >= 10*gap || math.Abs(ps.objs[k]-obj) > polishSettled*math.Abs(obj) {
		return false
	}
	// ADMM's work to the tolerance if the gap keeps falling at its rate over the
	// last polishStall checks: an attempt is worth no more.
	ps.remaining = math.Inf(1)
	if rate := math.Log(ps.gaps[k]/gap) / polishStall; rate > 0 {
		ps.remaining = math.Log(gap/a.tol) / rate * admmCheckEvery * ps.perStep
	}
	return !a.slack && !a.noPolish && a.pr.beta > 0 && ps.spent <= admmPolishShare*ps.iterating && ps.iterating >= ps.next && a.dr.interrupted() == NotTerminated
}

// polish runs the restricted Newton method (polish.go) from the current point and
// returns the polished point's certificate; ok is false when the restricted program
// is too large or the point is infeasible.
func (a *admm) polish() (Certificate, bool) {
	pr, ps := a.pr, &a.pol
	ps.attempts++
	n, d, P := pr.n, pr.d, pr.P
	if ps.point == nil {
		ps.point, ps.ev, ps.eta = make([]float64, 2*P*d), newEvaluation(pr), make([]float64, n)
	}
	copy(ps.point, a.v)
	blocks := a.polishBlocks()
	po := newPolisher(pr.loss, pr.y, pr.beta, blocks)
	var budget float64 // the attempt's work, all told (see polishCheckShare)
	if po == nil {
		ps.spent += ps.iterating // too large: never again
		return Certificate{}, false
	}
	certWork := 2 * float64(n*d*2*P) // the certificate of the polished point: its product Fᵀη
	defer func() {
		work := po.work
		if !po.skipped {
			work += certWork
		}
		ps.spent += work
		if a.onPolish != nil {
			a.onPolish(ps.iterating, budget, work)
		}
	}()
	var margin []float64
	if a.split {
		margin = make([]float64, n)
		for k, z := range a.z {
			margin[k] = pr.y[k] * z
		}
	}
	po.stop = func() bool { return a.poll(pollPolish) }
	if ps.allow == 0 {
		ps.allow, ps.share = polishTrialSteps, polishTrialShare
	}
	po.maxSteps, po.minSteps = ps.allow, polishMinSteps
	trial := math.Max(ps.share*ps.iterating, ps.floor)
	budget = min(trial, admmPolishShare*ps.iterating-ps.spent, ps.remaining, a.dr.workLeft(ps.iterating+ps.spent)/polishSlowdown)
	po.limit = math.Max(budget-certWork, 1)
	ok := po.run(margin)
	if po.skipped {
		return Certificate{}, false
	}
	convex, _, violation := pr.eval(ps.point, ps.ev)
	if a.gated {
		violation = 0
	}
	if !finite(convex) || violation > driverFeasibility {
		return Certificate{}, false
	}
	copy(ps.eta, po.eta)
	ps.converged = ok
	if ok {
		a.warmCertificate(blocks)
	}
	c := a.certificateAt(&a.cert, convex, violation, append([]float64(nil), po.eta...))
	if a.onPolished != nil {
		a.onPolished(ok, c)
	}
	return c, true
}

// warmCertificate starts the certificate's bounds of the polished blocks from the
// polisher's multipliers, all computed at the converged point's η: for a nonzero
// block −Fⱼᵀη = βûⱼ − G_{Aⱼ}ᵀζⱼ with ζⱼ ≥ 0 on its tight rows, so the bound
// ‖gⱼ + G_{Aⱼ}ᵀζⱼ‖ (see blockBounds) is β itself; for a zero block the active rows
// and multipliers of its projection in the polisher's last check of it (enter),
// whose bound is then its exact value. The warm starts of ADMM's last certificate,
// made for another η, bound them loosely, and only certExact blocks are projected
// exactly: on MNIST 2 vs 8 at 10×10 (hinge, β = 1e-3) an attempt from iteration
// 600 converged to the optimum (objective 0.11278098), and its certificate had
// the dual scale 1.245 and a gap of 0.197 without the warm starts, 1.151 and 0.131
// with the nonzero blocks' alone (17 zero blocks' loose bounds above β).
func (a *admm) warmCertificate(blocks []*polishBlock) {
	if a.gated {
		return
	}
	cs := &a.cert
	for j, b := range blocks {
		act, zeta := b.act, b.zeta
		if b.gone || norm2(b.u) == 0 {
			act, zeta = b.dualAct, b.dualZeta
		}
		if len(zeta) != len(act) {
			continue
		}
		cs.act[j] = append(cs.act[j][:0], act...)
		cs.zeta[j] = append(cs.zeta[j][:0], zeta...)
	}
}

// polishBlocks returns the blocks of the restricted program over ps.point: the 2P
// blocks vᵢ, wᵢ with their cones, or for the gated program the P blocks
// uᵢ = vᵢ − wᵢ (with vᵢ and wᵢ of the same gate both nonzero, the blocks would be
// dependent), written back as vᵢ = uᵢ, wᵢ = 0, an optimal split.
func (a *admm) polishBlocks() []*polishBlock {
	pr, ps := a.pr, &a.pol
	n, d, P := pr.n, pr.d, pr.P
	if a.gated {
		for i := 0; i < P*d; i++ {
			ps.point[i] -= ps.point[P*d+i]
			ps.point[P*d+i] = 0
		}
	}
	blocks := make([]*polishBlock, 0, 2*P)
	for j := 0; j < 2*P; j++ {
		if a.gated && j >= P {
			break
		}
		i, sgn := j%P, 1.0
		if j >= P {
			sgn = -1
		}
		b := &polishBlock{base: pr.X, pred: make([]float64, n), u: ps.point[j*d : (j+1)*d]}
		if !a.gated {
			b.cone = make([]float64, n)
		}
		for k := 0; k < n; k++ {
			b.pred[k] = sgn * pr.mask[k*P+i]
			if b.cone != nil {
				b.cone[k] = pr.sign[k*P+i]
			}
		}
		blocks = append(blocks, b)
	}
	return blocks
}

// adopt makes the polished point the iterate (see setPoint).
func (a *admm) adopt() {
	a.pol.adopted++
	a.setPoint(a.pol.point, a.pol.eta)
}

// setPoint makes u (2P×d) the iterate, with the multipliers of an ADMM fixed point
// for the dual candidate eta (overwritten: clipped to the domain of ℓ*): ρλⱼ = gⱼ =
// −Fⱼᵀη (the u-step's stationarity with u = v), except that a zero block's gⱼ must
// lie in ∂(β‖·‖ + 𝟙_K)(0) = {g : ‖Π_K(g)‖ ≤ β}, so its cone part is shrunk to norm β
// (a block that η would make enter gets the largest multiplier the fixed point
// allows, and ADMM moves it from there); z = Fu and μ = η/(ρσ²) for the split
// losses. Polishing adopts its point this way, and a path starts each solve from the
// previous β's solution.
func (a *admm) setPoint(u, eta []float64) {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	copy(a.v, u)
	pr.loss.clipDual(eta, pr.y)
	copy(a.eta, eta)
	t := a.t[:n*P]
	for k := 0; k < n; k++ {
		for i, m := range pr.mask[k*P : (k+1)*P] {
			t[k*P+i] = m * eta[k]
		}
	}
	fe := a.rhs[:P*d] // scratch: Xᵀ(dᵢ ∘ η)
	pr.mulTX(fe, t, P, 1, 0)
	g := make([]float64, d)
	for j := 0; j < 2*P; j++ {
		i, sgn := j%P, -1.0
		if j >= P {
			sgn = 1
		}
		for c := range g {
			g[c] = sgn * fe[i*d+c]
		}
		if norm2(a.v[j*d:(j+1)*d]) == 0 {
			a.shrinkToSubdifferential(j, g)
		}
		for c, v := range g {
			a.lam[j*d+c] = v / (a.rho * a.tau2)
		}
	}
	a.convex, a.network, _ = pr.eval(a.v, a.ev)
	if a.gated {
		a.network = a.convex
	}
	if a.split {
		copy(a.z, a.ev.convex)
		for k := range a.mu {
			a.mu[k] = eta[k] / (a.rho * a.sig2)
		}
	}
	for j := range a.cs.act {
		a.cs.act[j], a.cs.zeta[j] = a.cs.act[j][:0], a.cs.zeta[j][:0]
	}
	a.initRHS()
	if a.acc != nil {
		a.acc.restart()
	}
}

// shrinkToSubdifferential replaces g by g − (1 − β/‖p‖)p, p = Π_K(g) (the cone of
// block j; K = ℝᵈ for the gated program), when ‖p‖ > β: then ‖Π_K(g)‖ = β.
func (a *admm) shrinkToSubdifferential(j int, g []float64) {
	pr := a.pr
	p := g
	if !a.gated {
		proj := a.cert.projs[0]
		steps := proj.maxSteps
		proj.maxSteps = 0 // the projection itself, not a bound
		p, _, _ = proj.project(g, pr.sign, j%pr.P, pr.P, nil, nil)
		proj.maxSteps = steps
	}
	np := norm2(p)
	if np <= pr.beta {
		return
	}
	f := 1 - pr.beta/np
	p = append([]float64(nil), p...)
	for c := range g {
		g[c] -= f * p[c]
	}
}
