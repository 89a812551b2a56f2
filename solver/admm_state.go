package solver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// warmStart starts from the gated ReLU solution on the same patterns, decomposed into
// the cones (see GatedReLU): u = v = (v₁..vₚ, w₁..wₚ), s = Gu ≥ 0, z = Fu, zero duals.
// The gated solve counts against the solve's time limit from start.
func (a *admm) warmStart(ctx context.Context, s *Settings, start time.Time) error {
	if a.pr.arr.Generators == nil {
		return errors.New("solver: ADMM warm start needs the gates: an arrangement with generators")
	}
	gs := *s
	gs.Tolerance = warmStartTolerance
	gs.MaxIterations = warmStartIterations
	gs.Reference = 0
	out, err := solveGated(ctx, a.pr, &gs, start, false)
	if err != nil {
		return err
	}
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	vw, err := coneDecompose(pr, out.x)
	if err != nil {
		return err
	}
	pr.mulXT(a.xa, vw, 2*P)
	for k := 0; k < n; k++ {
		fu := 0.0
		for j := 0; j < 2*P; j++ {
			i := j % P
			if j < P {
				fu += pr.mask[k*P+i] * a.xa[k*2*P+j]
			} else {
				fu -= pr.mask[k*P+i] * a.xa[k*2*P+j]
			}
		}
		a.fu[k] = fu
	}
	// The decomposition can lie far from the optimum: wᵢ = t hᵢ is long when hᵢ is
	// close to a face of its cone, and ADMM's soft threshold then shrinks the blocks
	// by only β/ρ per iteration (on the breast-cancer benchmark it started at 80 times
	// the optimal objective and had not converged after 10 000 iterations). Start
	// from the best point s·vw of the segment from zero: the objective
	// ℓ(s ŷ) + sβ Σⱼ‖vwⱼ‖ is convex in s ∈ [0, 1].
	norms := 0.0
	for j := 0; j < 2*P; j++ {
		norms += norm2(vw[j*d : (j+1)*d])
	}
	scaled := make([]float64, n)
	phi := func(t float64) float64 {
		for k, v := range a.fu {
			scaled[k] = t * v
		}
		return pr.loss.Value(scaled, pr.y) + t*pr.beta*norms
	}
	sc := goldenSection(phi, 0, 1)
	if phi(1) <= phi(sc) {
		sc = 1
	}
	for i := range vw {
		vw[i] *= sc
	}
	copy(a.u, vw)
	a.ls.haveFu = false // a.fu is set here, not by a solve
	copy(a.v, vw)
	for k := 0; k < n; k++ {
		a.fu[k] *= sc
		a.z[k] = a.fu[k]
		if a.slack {
			for j := 0; j < 2*P; j++ {
				a.s[k*2*P+j] = math.Max(0, sc*pr.sign[k*P+j%P]*a.xa[k*2*P+j])
			}
		}
	}
	return nil
}

// goldenSection returns an approximate minimizer of a convex function on [lo, hi],
// to a relative width of about 1e-6 of the interval.
func goldenSection(f func(float64) float64, lo, hi float64) float64 {
	const r = 0.6180339887498949 // (√5 − 1)/2
	a, b := lo, hi
	x1, x2 := b-r*(b-a), a+r*(b-a)
	f1, f2 := f(x1), f(x2)
	for range 30 { // 0.618³⁰ ≈ 5e-7
		if f1 <= f2 {
			b, x2, f2 = x2, x1, f1
			x1 = b - r*(b-a)
			f1 = f(x1)
		} else {
			a, x1, f1 = x1, x2, f2
			x2 = a + r*(b-a)
			f2 = f(x2)
		}
	}
	return (a + b) / 2
}

// stateSize is the length of the fixed-point state that Anderson acceleration works
// on: w = (τ(v + λ), s + ν, σ(z + μ)) in the slack form, from which the iterate is
// recovered by cheap proximal maps; (v, λ, σz, σμ) in the cone form, whose proximal map
// would need projections.
func (a *admm) stateSize() int {
	blk := len(a.v)
	if a.slack {
		s := blk + len(a.s)
		if a.split {
			s += len(a.z)
		}
		return s
	}
	s := 2 * blk
	if a.split {
		s += 2 * len(a.z)
	}
	return s
}

// pack writes the fixed-point state of the current iterate; the weights make its
// Euclidean norm the one of the augmented Lagrangian.
func (a *admm) pack(w []float64) {
	tau, sig := math.Sqrt(a.tau2), math.Sqrt(a.sig2)
	o := 0
	if a.slack {
		for i, v := range a.v {
			w[o+i] = tau * (v + a.lam[i])
		}
		o += len(a.v)
		for i, v := range a.s {
			w[o+i] = v + a.nu[i]
		}
		o += len(a.s)
		if a.split {
			for i, v := range a.z {
				w[o+i] = sig * (v + a.mu[i])
			}
		}
		return
	}
	o += copy(w[o:], a.v)
	o += copy(w[o:], a.lam)
	if a.split {
		for i, v := range a.z {
			w[o+i] = sig * v
			w[o+len(a.z)+i] = sig * a.mu[i]
		}
	}
}

// unpack sets the iterate from a state w (see pack), then the right-hand side that
// depends on it. In the slack form: v = prox_{β‖·‖₂,₁/(ρτ²)}(w_v/τ), λ = w_v/τ − v;
// s = (w_s)₊, ν = w_s − s; z = prox_{ℓ/(ρσ²)}(w_z/σ), μ = w_z/σ − z.
func (a *admm) unpack(w []float64) {
	pr := a.pr
	d := pr.d
	tau, sig := math.Sqrt(a.tau2), math.Sqrt(a.sig2)
	if !a.slack {
		o := copy(a.v, w)
		o += copy(a.lam, w[o:])
		if a.split {
			nz := len(a.z)
			for i := range a.z {
				a.z[i] = w[o+i] / sig
				a.mu[i] = w[o+nz+i] / sig
				a.eta[i] = a.rho * a.sig2 * a.mu[i]
			}
		}
		a.initRHS()
		return
	}
	kappa := pr.beta / (a.rho * a.tau2)
	for j := 0; j < 2*pr.P; j++ {
		wb := w[j*d : (j+1)*d]
		vb := a.v[j*d : (j+1)*d]
		lb := a.lam[j*d : (j+1)*d]
		for i, x := range wb {
			lb[i] = x / tau
		}
		shrinkBlock(lb, vb, kappa)
		for i := range lb {
			lb[i] -= vb[i]
		}
	}
	o := len(a.v)
	for i := range a.s {
		x := w[o+i]
		a.s[i] = math.Max(x, 0)
		a.nu[i] = x - a.s[i]
	}
	o += len(a.s)
	if a.split {
		arg := a.eta // scratch
		for k := range arg {
			arg[k] = w[o+k] / sig
		}
		pr.loss.prox(arg, pr.y, a.rho*a.sig2, a.z)
		for k := range arg {
			a.mu[k] = arg[k] - a.z[k]
			a.eta[k] = a.rho * a.sig2 * a.mu[k]
		}
	}
	a.initRHS()
}

// admmPoint is a snapshot of the iterate (see keep): its fixed-point state, the ρ
// that state is scaled for, and the dual candidate.
type admmPoint struct {
	w, eta   []float64
	rho, obj float64
	have     bool
}

// step performs one iteration for the driver: the safeguard's check of the previous
// extrapolation (deferred to here so that the driver certifies a step's output), the
// ADMM step, and the row of the history. When the driver's interruption stops the
// step's projections it returns errInterrupted at the point the step started from
// (the safeguard's extrapolation, if it made one).
func (a *admm) step(row *Iteration) error {
	if a.acc != nil {
		if a.stepped {
			a.acc.after(a)
		}
		a.acc.before(a)
	}
	// The dual residual is due at the driver's first iteration and at its checks
	// (see nextRHS).
	next := a.dr.iterations + 1
	a.dualDue = next == 1 || next%a.dr.every == 0 || next == a.dr.maxIter
	if !a.iterate() {
		// Stopped inside the v-step: back to the point the step started from (X vᵀ
		// and the objectives of it once more: an extrapolation leaves them stale).
		copy(a.v, a.vOld)
		a.convex, a.network, _ = a.pr.eval(a.v, a.ev)
		if a.gated {
			a.network = a.convex
		}
		return errInterrupted
	}
	a.pol.iterating += a.pol.perStep
	a.stepped = true
	a.iterations++
	if a.iterations == 1 {
		a.firstPrimal, a.firstDual = math.Max(a.normAU, a.normZ), a.dual
	}
	pr := a.pr
	convex, network := pr.objectivesXU(a.v, a.ev)
	pred := a.ev.network
	if a.gated {
		network, pred = convex, a.ev.convex
	}
	bound := divergenceFactor * math.Max(a.zeroObj, a.best.obj)
	if !finite(network) || !finite(a.primal) || !finite(a.dual) || network > bound && bound > 0 {
		err := fmt.Errorf("the iterates diverged at iteration %d (objective %.3g, residuals %.3g and %.3g) with ρ = %.3g", a.iterations, network, a.primal, a.dual, a.rho)
		copy(a.v, a.vOld)
		a.iterations--
		return err
	}
	a.convex, a.network = convex, network
	a.fill(row, pred)
	return nil
}

// fill writes the row of the history for the current point, whose predictions (of
// the recovered network) are pred.
func (a *admm) fill(row *Iteration, pred []float64) {
	row.Objective = a.network
	row.PrimalResidual, row.DualResidual = a.primal, a.dual
	if !a.dualFresh {
		row.DualResidual = math.NaN()
	}
	row.TrainAccuracy = trainAccuracy(pred, a.pr.y)
	row.ActiveNeurons = activeBlocks(a.ev.norms)
	row.Rho = a.rho
}

// certify returns the certificate of the current point.
//
// When the budget allows, it also polishes the point (admm_polish.go): a polished
// point with a smaller objective becomes the iterate, and a better bound from the
// polished dual candidate is kept either way (every bound holds for the program).
func (a *admm) certify(row *Iteration) Certificate {
	violation := 0.0 // the gated program has no cones
	if !a.gated {
		violation = a.pr.violationXU(a.ev)
	}
	c := a.certificate(a.convex, violation)
	if c.Gap <= a.tol || !a.mayPolish(c.Gap, c.Primal) {
		return c
	}
	pc, ok := a.polish()
	a.pol.next = 2 * a.pol.iterating // unless adopted below
	a.pol.allow = min(2*a.pol.allow, polishMaxIterations)
	a.pol.share = min(2*a.pol.share, polishCheckShare)
	switch {
	case !ok:
	case pc.Primal < c.Primal && a.pol.converged && (!a.best.have || pc.Primal < a.best.obj):
		// (Only a new record: re-adopting a point resets ADMM's progress from it.)
		a.adopt()
		a.pol.next, a.pol.allow, a.pol.share = 0, polishTrialSteps, polishTrialShare
		pred := a.ev.network
		if a.gated {
			pred = a.ev.convex
		}
		a.fill(row, pred)
		pc.Dual = max(pc.Dual, c.Dual)
		pc.Gap = relativeGap(pc.Primal, pc.Dual)
		return pc
	case pc.Dual > c.Dual:
		c.Dual = pc.Dual
		c.Gap = relativeGap(c.Primal, c.Dual)
	}
	return c
}

// converged: the certified gap within the tolerance (its points are feasible). The
// slack form, whose iterates are feasible only in the limit, needs its own point's
// gap and a small relative primal residual, with the first iterate's size as an
// absolute floor (the solution may be zero); β = 0 has no dual bound and needs both
// residuals small.
func (a *admm) converged(c *Certificate, gap, tol float64) bool {
	primalSmall := a.primal <= tol*math.Max(math.Max(a.normAU, a.normZ), a.firstPrimal)
	switch {
	case a.pr.beta == 0:
		return primalSmall && a.dual <= tol*math.Max(c.dualScale, a.firstDual)
	case a.slack:
		return primalSmall && c.Gap <= tol
	}
	return gap <= tol
}

// adapt balances ρ (unless fixed, or the squared loss's refactorization for a new ρ
// would not fit in the time left at the rate of the work so far), or raises it when
// the iterates stall at a zero network that is not optimal (see stalledAtZero); a
// change restarts the acceleration (the map changed).
func (a *admm) adapt(c *Certificate) error {
	if a.fixedRho || !a.split && a.refactorWork > a.dr.workLeft(a.pol.iterating+a.pol.spent) {
		return nil
	}
	var changed bool
	var err error
	if a.stalledAtZero() {
		changed, err = a.leaveZero()
	} else {
		changed, err = a.balance(c.dualScale)
	}
	if changed && a.acc != nil {
		a.acc.restart()
	}
	return err
}

// keep snapshots the current point.
func (a *admm) keep() {
	b := &a.best
	if b.w == nil {
		b.w, b.eta = make([]float64, a.stateSize()), make([]float64, len(a.eta))
	}
	a.pack(b.w)
	copy(b.eta, a.eta)
	b.rho, b.obj, b.have = a.rho, a.convex, true
}

// restore returns to the snapshot, its duals rescaled to the current ρ.
func (a *admm) restore() {
	b := &a.best
	rho := a.rho
	a.rho = b.rho
	a.unpack(b.w)
	copy(a.eta, b.eta)
	if rho != b.rho {
		a.setRho(rho)
	}
	a.convex, a.network, _ = a.pr.eval(a.v, a.ev)
	if a.gated {
		a.network = a.convex
	}
	if a.acc != nil {
		a.acc.restart()
	}
}

// recover continues after a breakdown from the best point (or the last finite one)
// with ρ frozen at the value the best point was reached with (the default when there
// is none): breakdowns come from ρ adapted to an extreme.
func (a *admm) recover() bool {
	rho := a.rho0
	if a.best.have {
		rho = a.best.rho
	} else {
		a.reset()
	}
	if a.fixedRho && rho == a.rho {
		return false // nothing left to change
	}
	a.fixedRho = true
	if rho != a.rho {
		a.setRho(rho)
		if !a.split {
			if err := a.ls.factor(a.c()); err != nil {
				return false
			}
		}
	}
	if a.acc != nil {
		a.acc.restart()
	}
	return true
}

// reset returns to the zero point with zero multipliers.
func (a *admm) reset() {
	for _, v := range [][]float64{a.v, a.lam, a.z, a.mu, a.s, a.nu, a.eta} {
		clear(v)
	}
	for j := range a.cs.act {
		a.cs.act[j], a.cs.zeta[j] = a.cs.act[j][:0], a.cs.zeta[j][:0]
	}
	a.initRHS()
}

// startFrom starts from prev, the solution of the same program at another β (Path):
// its point with the multipliers of a fixed point for its dual candidate (setPoint),
// scaled by β/β_prev when β is smaller, at the default ρ. (The scaling, measured on
// testdata/cases/admm_hinge_tiny_beta_rho.json: the hinge solve at β = 1e-5 from the
// solution at 1e-3 certified 1e-6 after 10 iterations instead of 2 440, and
// TestPathWarmEqualsCold's paths took 510 / 310 / 330 iterations for the squared /
// hinge / logistic loss instead of 650 / 330 / 1 100.) (Measured on the benchmark instance at n = 100, tolerance 1e-4,
// paths down to β = 1e-3 against a cold solve's 1 000 iterations: the default ρ
// took 970–1 290 iterations for the whole path of 2–12 β's and 70–600 for its last
// solve; keeping the previous β's final ρ 970–1 850, scaling it by the ratio of the
// β's 1 560–1 700, starting from the point alone 950–1 560.)
func (a *admm) startFrom(prev *Result) error {
	pr := a.pr
	P, d := pr.P, pr.d
	if prev.V == nil || prev.W == nil || len(prev.Dual) != pr.n {
		return errors.New("solver: a warm start needs an ADMM result of the same program")
	}
	if r, c := prev.V.Dims(); r != P || c != d {
		return fmt.Errorf("solver: warm start from %d×%d blocks, the program has %d×%d", r, c, P, d)
	}
	u := append(append([]float64(nil), prev.V.RawMatrix().Data...), prev.W.RawMatrix().Data...)
	eta := append([]float64(nil), prev.Dual...)
	if s := pr.beta / prev.Beta; s < 1 {
		// The dual candidate of prev is feasible for ‖Π_{Kⱼ}(−Fⱼᵀη)‖ ≤ β_prev; its
		// multiple β/β_prev is for β (the multipliers of a nonzero block then have
		// the norm β of a subgradient of β‖·‖).
		for k := range eta {
			eta[k] *= s
		}
	}
	a.setPoint(u, eta)
	return nil
}
