package solver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/blas/blas64"
)

// linearModel is a regularized linear model ℓ(A x, y) + β R(x), with R a sum of group
// norms (the groups are consecutive blocks of equal size), which fista minimizes.
type linearModel interface {
	size() int                // length of x
	group() int               // group size (1: R = ‖·‖₁)
	apply(x, ax []float64)    // ax = A x (length n)
	adjoint(r, atr []float64) // atr = Aᵀ r (length size())
	// polishBlocks returns the groups of x as blocks of the restricted program
	// (polish.go), their values u pointing into x.
	polishBlocks(x []float64) []*polishBlock
}

// fistaSettings controls one fista run.
type fistaSettings struct {
	loss      Loss
	y         []float64
	beta      float64
	tol       float64 // relative duality gap
	maxIter   int
	timeLimit time.Duration
	start     time.Time
	reference float64
	recorder  Recorder
	patterns  int
	// onIterate, if set, computes the objective of the network an iterate recovers
	// and its training predictions (for the history); otherwise the model's own.
	onIterate func(x, ax []float64) (objective float64, pred []float64)
	// noPolish disables polishing (polish.go).
	noPolish bool
	// onCertificate, if set, sees every dual bound computed (tests: each must be a
	// lower bound): the certificate, its candidate η clipped to the domain of ℓ*
	// before the scaling, and the candidate's largest constraint value w.
	onCertificate func(c Certificate, eta []float64, worst float64)
}

// Constants of FISTA.
const (
	fistaCheckEvery = 10  // duality gap (one extra adjoint) every this many iterations
	fistaPowerIters = 30  // power iterations for the initial Lipschitz estimate
	fistaShrink     = 0.9 // L is tried 10% smaller each iteration (so it can recover from a large estimate)
	// fistaMaxDoublings bounds the backtracking of one iteration: L grows by 2⁶⁴ ≈ 2e19
	// at most, far beyond any underestimate of a finite curvature (the initial L is
	// ‖A‖² times the loss's curvature bound), so running out means non-finite values.
	fistaMaxDoublings = 64
	hingeSmoothStart  = 1.0  // initial Huber width μ of the hinge loss: the margin itself
	hingeSmoothFactor = 0.1  // μ shrinks tenfold when the smoothed problem is solved to the current tolerance
	hingeSmoothMin    = 1e-9 // below this the smoothing error nμ/2 is negligible at any tolerance we allow
	fistaPolishShare  = 1.0  // polishing may spend as much work as the iterations (as ADMM's)
	// fistaLFloor bounds the shrinking of L below: L ≥ fistaLFloor × its initial
	// estimate, so that along directions without curvature 0.9ᵏ never underflows to a
	// zero L (and a division by it).
	fistaLFloor = 1e-12
)

type fistaOutcome struct {
	x       []float64
	ax      []float64
	status  Status
	message string // why the run failed (status Failure)
	iters   int
	cert    Certificate
	eta     []float64
	history []Iteration
}

// errInterrupted is what a step returns when the context or the time limit stopped it
// before it changed the iterate.
var errInterrupted = errors.New("interrupted")

// fista minimizes ℓ(Ax) + β R(x) by FISTA (Beck and Teboulle 2009) with backtracking
// on the Lipschitz constant L, the gradient restart of O'Donoghue and Candès (2015),
// and, for the hinge loss, Huber smoothing with continuation μ → 0; when the work
// spent allows, it polishes the iterate on its support (polish.go). It stops on the
// relative duality gap of the unsmoothed problem. x0 may be nil (start from zero).
func fista(ctx context.Context, m linearModel, fs *fistaSettings, x0 []float64) *fistaOutcome {
	f := newFistaRun(m, fs, x0)
	settings := &Settings{TimeLimit: fs.timeLimit, Reference: fs.reference, Recorder: fs.recorder}
	dr := newDriver(ctx, settings, fs.start, fs.maxIter, fs.tol, fistaCheckEvery, fs.patterns)
	f.dr = dr
	out := &fistaOutcome{}
	if f.failure != "" {
		dr.status, dr.message = Failure, f.failure
	} else if err := dr.run(f); err != nil {
		dr.status, dr.message = Failure, err.Error()
	}
	if dr.haveBest {
		f.certificate() // η of the returned point
	}
	cert, ok := dr.certificate()
	if !ok {
		cert = Certificate{Primal: f.objective(), Dual: math.Inf(-1), Gap: math.Inf(1), DualScale: math.NaN()}
		if dr.status != Failure && dr.iterations == 0 {
			cert = f.certificate()
		}
	}
	out.x, out.ax, out.status, out.message = f.x, f.ax, dr.status, dr.message
	out.iters, out.cert, out.history = dr.iterations, cert, dr.history
	out.eta = f.eta
	return out
}

// fistaRun is the state of one fista run.
type fistaRun struct {
	m                           linearModel
	fs                          *fistaSettings
	dr                          *driver
	nx, n, grp                  int
	x, xPrev, yv, xt, gy, atEta []float64 // nx
	ax, axPrev, ay, axt, g, eta []float64 // n
	L, t, mu                    float64
	lFloor                      float64 // the floor of L (see fistaLFloor)
	failure                     string  // set up failed (the Lipschitz estimate overflowed)
	primal                      float64

	bestX, bestAx     []float64
	spent, iterating  float64 // polishing's and the iterations' floating-point operations
	polishNext        float64 // iterating work before which no attempt is made (see polishState.next)
	perApply          float64 // the operations of one product with A or Aᵀ
	polishX, polishAx []float64
}

func newFistaRun(m linearModel, fs *fistaSettings, x0 []float64) *fistaRun {
	nx, n := m.size(), len(fs.y)
	mk := func(k int) []float64 { return make([]float64, k) }
	f := &fistaRun{m: m, fs: fs, nx: nx, n: n, grp: m.group(),
		x: mk(nx), xPrev: mk(nx), yv: mk(nx), xt: mk(nx), gy: mk(nx), atEta: mk(nx),
		ax: mk(n), axPrev: mk(n), ay: mk(n), axt: mk(n), g: mk(n), eta: mk(n), t: 1,
		perApply: 2 * float64(n) * float64(nx)}
	if x0 != nil {
		copy(f.x, x0)
	}
	f.mu = fs.loss.smoothingStart()
	f.L = f.initialLipschitz()
	if math.IsNaN(f.L) || math.IsInf(f.L, 0) {
		// ‖A‖² overflows: no step size is representable.
		f.failure = fmt.Sprintf("the Lipschitz estimate ‖A‖²·ℓ'' is %v: the data are too large for floating point", f.L)
		f.L = 1
	}
	f.lFloor = fistaLFloor * f.L
	m.apply(f.x, f.ax)
	copy(f.axPrev, f.ax)
	copy(f.xPrev, f.x)
	copy(f.yv, f.x)
	copy(f.ay, f.ax)
	return f
}

// initialLipschitz returns the loss's curvature bound times ‖A‖², by power iteration
// on AᵀA.
func (f *fistaRun) initialLipschitz() float64 {
	v := make([]float64, f.nx)
	for i := range v {
		v[i] = 1 / math.Sqrt(float64(f.nx))
	}
	av := make([]float64, f.n)
	est := 0.0
	for range fistaPowerIters {
		f.m.apply(v, av)
		f.m.adjoint(av, v)
		// Overflow-safe norm: the entries of AᵀAv are of the order of X² and their
		// squares could exceed the float64 range.
		est = blas64.Nrm2(blas64.Vector{N: f.nx, Inc: 1, Data: v})
		if est == 0 {
			break
		}
		scal(1/est, v)
	}
	L := est * f.fs.loss.curvature(f.mu)
	if L == 0 {
		L = 1 // A = 0: any step is exact (no absolute floor: tiny data have tiny L)
	}
	return L
}

// reg returns β R(x).
func (f *fistaRun) reg(x []float64) float64 {
	s := 0.0
	for j := 0; j < f.nx; j += f.grp {
		s += norm2(x[j : j+f.grp])
	}
	return f.fs.beta * s
}

// prox applies the proximal map of step·β R: the group soft threshold.
func (f *fistaRun) prox(x []float64, step float64) {
	kappa := step * f.fs.beta
	for j := 0; j < f.nx; j += f.grp {
		b := x[j : j+f.grp]
		nb := norm2(b)
		if nb <= kappa {
			clear(b)
		} else {
			scal(1-kappa/nb, b)
		}
	}
}

// objective returns the (unsmoothed) objective at x.
func (f *fistaRun) objective() float64 {
	return f.fs.loss.Value(f.ax, f.fs.y) + f.reg(f.x)
}

// step is one accelerated proximal gradient step: the gradient at the extrapolated
// point, the backtracking line search, the restart test and the momentum.
func (f *fistaRun) step(row *Iteration) error {
	fy := f.fs.loss.gradient(f.ay, f.fs.y, f.g, f.mu)
	f.m.adjoint(f.g, f.gy)
	if !finite(fy) || !allFinite(f.gy) {
		return fmt.Errorf("the loss or its gradient is not finite (loss %v) at iteration %d: the data or the iterates are too large for floating point", fy, f.dr.iterations+1)
	}
	f.L = math.Max(f.L*fistaShrink, f.lFloor)
	if err := f.lineSearch(fy); err != nil {
		return err
	}
	f.momentum()
	f.primal = f.objective()
	f.iterating += 2 * f.perApply
	f.fill(row)
	return nil
}

// lineSearch finds L with sufficient decrease, f(x) ≤ f(y) + ∇f(y)ᵀ(x − y) + (L/2)‖x − y‖²,
// doubling it from the current value, and leaves the trial point in xt, axt.
func (f *fistaRun) lineSearch(fy float64) error {
	for range fistaMaxDoublings {
		for i := range f.xt {
			f.xt[i] = f.yv[i] - f.gy[i]/f.L
		}
		f.prox(f.xt, 1/f.L)
		f.m.apply(f.xt, f.axt)
		f.iterating += f.perApply
		fx := f.fs.loss.gradient(f.axt, f.fs.y, f.eta, f.mu) // eta is scratch here
		lin, sq := 0.0, 0.0
		for i := range f.xt {
			dx := f.xt[i] - f.yv[i]
			lin += f.gy[i] * dx
			sq += dx * dx
		}
		if fx <= fy+lin+f.L/2*sq+1e-12*math.Abs(fy) || sq == 0 {
			return nil
		}
		if f.dr.interrupted() != NotTerminated {
			return errInterrupted
		}
		f.L *= 2
	}
	return fmt.Errorf("the line search found no step with sufficient decrease at iteration %d (L = %.3g): non-finite or overflowing values", f.dr.iterations+1, f.L)
}

// momentum accepts the trial point and extrapolates, restarting the momentum when it
// points against the step (the gradient restart).
func (f *fistaRun) momentum() {
	restart := 0.0
	for i := range f.xt {
		restart += (f.yv[i] - f.xt[i]) * (f.xt[i] - f.x[i])
	}
	copy(f.xPrev, f.x)
	copy(f.axPrev, f.ax)
	copy(f.x, f.xt)
	copy(f.ax, f.axt)
	if restart > 0 {
		f.t = 1
	}
	tNext := (1 + math.Sqrt(1+4*f.t*f.t)) / 2
	mom := (f.t - 1) / tNext
	f.t = tNext
	for i := range f.x {
		f.yv[i] = f.x[i] + mom*(f.x[i]-f.xPrev[i])
	}
	for i := range f.ax {
		f.ay[i] = f.ax[i] + mom*(f.ax[i]-f.axPrev[i])
	}
}

// fill writes the row of the history for the current iterate.
func (f *fistaRun) fill(row *Iteration) {
	row.Objective = f.primal
	pred := f.ax
	if f.fs.onIterate != nil {
		row.Objective, pred = f.fs.onIterate(f.x, f.ax)
	}
	row.TrainAccuracy = trainAccuracy(pred, f.fs.y)
	active := 0
	for j := 0; j < f.nx; j += f.grp {
		if norm2(f.x[j:j+f.grp]) > 0 {
			active++
		}
	}
	row.ActiveNeurons = active
}

// certificate returns the duality-gap certificate of x from the candidate
// η = ∇ℓ(Ax) (of the smoothed hinge loss, which lies in the domain of the hinge's
// conjugate), scaled on its ray to the best feasible dual point (see certificateAt),
// which f.eta receives.
func (f *fistaRun) certificate() Certificate {
	f.fs.loss.gradient(f.ax, f.fs.y, f.eta, math.Max(f.mu, hingeSmoothMin))
	return f.certificateAt(f.objective(), f.eta)
}

// certificateAt is the certificate of a point of objective primal with the dual
// candidate eta (clipped to the domain of ℓ*, then scaled in place to the feasible
// dual point of the bound). The constraints ‖(Aᵀη)ⱼ‖ ≤ β are positively homogeneous,
// so with w = maxⱼ ‖(Aᵀη)ⱼ‖ every sη with s ≤ β/w satisfies them, and the bound is
// the best one on that ray (Loss.rayDual, as ADMM's certificate): never below the
// division by t = max(1, w/β) that only restores feasibility, above it when η is
// feasible but short or when −ℓ*(sη) peaks before 1/t (squared, logistic).
func (f *fistaRun) certificateAt(primal float64, eta []float64) Certificate {
	f.fs.loss.clipDual(eta, f.fs.y)
	f.m.adjoint(eta, f.atEta)
	f.iterating += f.perApply
	worst := 0.0
	for j := 0; j < len(f.atEta); j += f.grp {
		worst = math.Max(worst, norm2(f.atEta[j:j+f.grp]))
	}
	c := Certificate{Primal: primal, DualScale: 1}
	var clipped []float64
	if f.fs.onCertificate != nil {
		clipped = append(clipped, eta...)
	}
	switch {
	case f.fs.beta > 0 || worst == 0:
		sMax := math.Inf(1)
		if worst > 0 {
			c.DualScale = math.Max(1, worst/f.fs.beta)
			sMax = f.fs.beta / worst
		}
		var s float64
		s, c.Dual = f.fs.loss.rayDual(eta, f.fs.y, sMax)
		for k := range eta {
			eta[k] *= s
		}
	default:
		c.DualScale = math.Inf(1)
		c.Dual = math.Inf(-1)
	}
	c.Gap = relativeGap(primal, c.Dual)
	if f.fs.onCertificate != nil {
		f.fs.onCertificate(c, clipped, worst)
	}
	return c
}

// certify returns the certificate of x and, when the work budget allows, polishes x
// on its support: a polished point with a smaller objective becomes the iterate (its
// row updated), a better bound is kept either way.
func (f *fistaRun) certify(row *Iteration) Certificate {
	c := f.certificate()
	if c.Gap <= f.fs.tol || f.fs.noPolish || f.fs.beta == 0 || f.spent > fistaPolishShare*f.iterating || f.iterating < f.polishNext || f.dr.interrupted() != NotTerminated {
		return c
	}
	pc, ok := f.polish()
	f.polishNext = 2 * f.iterating // unless adopted below
	switch {
	case !ok:
	case pc.Primal < c.Primal:
		f.polishNext = 0
		copy(f.x, f.polishX)
		copy(f.ax, f.polishAx)
		f.restart()
		f.primal = pc.Primal
		f.fill(row)
		pc.Dual = math.Max(pc.Dual, c.Dual)
		pc.Gap = relativeGap(pc.Primal, pc.Dual)
		return pc
	case pc.Dual > c.Dual:
		c.Dual = pc.Dual
		c.Gap = relativeGap(c.Primal, c.Dual)
	}
	return c
}

// polish runs the restricted Newton method from x; ok is false when the restricted
// program is too large.
func (f *fistaRun) polish() (Certificate, bool) {
	if f.polishX == nil {
		f.polishX, f.polishAx = make([]float64, f.nx), make([]float64, f.n)
	}
	copy(f.polishX, f.x)
	po := newPolisher(f.fs.loss, f.fs.y, f.fs.beta, f.m.polishBlocks(f.polishX))
	if po == nil {
		f.spent = math.Inf(1) // too large: never again
		return Certificate{}, false
	}
	var margin []float64
	if f.mu > 0 {
		// The Huber zone (1 − μ, 1) of the smoothed hinge: points there are on the
		// margin of the unsmoothed program.
		margin = make([]float64, f.n)
		for k, p := range f.ax {
			margin[k] = f.fs.y[k] * p
			if margin[k] > 1-f.mu && margin[k] < 1+f.mu {
				margin[k] = 1
			}
		}
	}
	po.stop = func() bool { return f.dr.interrupted() != NotTerminated }
	po.limit = math.Max(math.Min(fistaPolishShare*f.iterating, f.dr.workLeft(f.iterating+f.spent)), 1)
	po.run(margin)
	if po.skipped {
		f.spent += po.work
		return Certificate{}, false
	}
	f.spent += po.work + 2*f.perApply
	f.m.apply(f.polishX, f.polishAx)
	primal := f.fs.loss.Value(f.polishAx, f.fs.y) + f.reg(f.polishX)
	if !finite(primal) {
		return Certificate{}, false
	}
	return f.certificateAt(primal, append([]float64(nil), po.eta...)), true
}

// restart drops the momentum: the next step starts from x.
func (f *fistaRun) restart() {
	f.t = 1
	copy(f.yv, f.x)
	copy(f.ay, f.ax)
	copy(f.xPrev, f.x)
	copy(f.axPrev, f.ax)
}

func (f *fistaRun) converged(c *Certificate, gap, tol float64) bool { return gap <= tol }

// adapt sharpens the hinge loss's smoothing: once the true gap is within twice the
// smoothing error nμ/2, the smoothing is what limits progress.
func (f *fistaRun) adapt(c *Certificate) error {
	if f.mu > hingeSmoothMin && c.Primal-c.Dual <= float64(f.n)*f.mu {
		f.mu = math.Max(f.mu*hingeSmoothFactor, hingeSmoothMin)
		f.L /= hingeSmoothFactor
		f.restart()
	}
	return nil
}

func (f *fistaRun) keep() {
	if f.bestX == nil {
		f.bestX, f.bestAx = make([]float64, f.nx), make([]float64, f.n)
	}
	copy(f.bestX, f.x)
	copy(f.bestAx, f.ax)
}

func (f *fistaRun) restore() {
	copy(f.x, f.bestX)
	copy(f.ax, f.bestAx)
	f.restart()
}

// recover: FISTA has no parameter whose extreme value breaks it down (L is found by
// the line search), so a breakdown ends the run.
func (f *fistaRun) recover() bool { return false }

// finite reports whether v is neither NaN nor ±Inf.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// allFinite reports whether every entry of v is finite.
func allFinite(v []float64) bool {
	s := 0.0
	for _, x := range v {
		s += x * 0 // NaN for NaN or ±Inf entries, 0 otherwise
	}
	return s == 0
}
