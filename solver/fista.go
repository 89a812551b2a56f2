package solver

import (
	"context"
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

// fista minimizes ℓ(Ax) + β R(x) by FISTA (Beck and Teboulle 2009) with backtracking
// on the Lipschitz constant L, the gradient restart of O'Donoghue and Candès (2015),
// and, for the hinge loss, Huber smoothing with continuation μ → 0. It stops on the
// relative duality gap of the unsmoothed problem. x0 may be nil (start from zero).
func fista(ctx context.Context, m linearModel, fs *fistaSettings, x0 []float64) *fistaOutcome {
	nx, n := m.size(), len(fs.y)
	grp := m.group()
	x := make([]float64, nx)
	if x0 != nil {
		copy(x, x0)
	}
	xPrev := make([]float64, nx)
	yv := make([]float64, nx)
	ax := make([]float64, n)
	axPrev := make([]float64, n)
	ay := make([]float64, n)
	g := make([]float64, n)   // ∇ℓ at Ay
	gy := make([]float64, nx) // Aᵀ∇ℓ(Ay)
	xt := make([]float64, nx)
	axt := make([]float64, n)
	eta := make([]float64, n)
	atEta := make([]float64, nx)

	mu := 0.0
	if fs.loss == Hinge {
		mu = hingeSmoothStart
	}
	// Initial L: curvature × ‖A‖² by power iteration on AᵀA.
	L := 1.0
	{
		v := make([]float64, nx)
		for i := range v {
			v[i] = 1 / math.Sqrt(float64(nx))
		}
		av := make([]float64, n)
		est := 0.0
		for range fistaPowerIters {
			m.apply(v, av)
			m.adjoint(av, v)
			// Overflow-safe norm: the entries of AᵀAv are of the order of X² and
			// their squares could exceed the float64 range.
			est = blas64.Nrm2(blas64.Vector{N: nx, Inc: 1, Data: v})
			if est == 0 {
				break
			}
			scal(1/est, v)
		}
		L = est * fs.loss.curvature(mu)
		if L == 0 {
			L = 1 // A = 0: any step is exact (no absolute floor: tiny data have tiny L)
		}
	}
	out := &fistaOutcome{status: IterationLimit}
	if math.IsNaN(L) || math.IsInf(L, 0) {
		// ‖A‖² overflows: no step size is representable.
		out.status, out.message = Failure, fmt.Sprintf("the Lipschitz estimate ‖A‖²·ℓ'' is %v: the data are too large for floating point", L)
		L = 1
	}
	reg := func(x []float64) float64 {
		s := 0.0
		for j := 0; j < nx; j += grp {
			s += norm2(x[j : j+grp])
		}
		return fs.beta * s
	}
	prox := func(x []float64, step float64) {
		kappa := step * fs.beta
		for j := 0; j < nx; j += grp {
			b := x[j : j+grp]
			nb := norm2(b)
			if nb <= kappa {
				clear(b)
			} else {
				scal(1-kappa/nb, b)
			}
		}
	}
	m.apply(x, ax)
	copy(axPrev, ax)
	copy(xPrev, x)
	copy(yv, x)
	copy(ay, ax)
	t := 1.0
	var cert Certificate
	iter := 0
	for iter < fs.maxIter && out.status != Failure {
		if ctx.Err() != nil {
			out.status = Canceled
			break
		}
		if fs.timeLimit > 0 && time.Since(fs.start) > fs.timeLimit {
			out.status = TimeLimit
			break
		}
		fy := fs.loss.gradient(ay, fs.y, g, mu)
		m.adjoint(g, gy)
		if !finite(fy) || !allFinite(gy) {
			out.status, out.message = Failure, fmt.Sprintf("the loss or its gradient is not finite (loss %v) at iteration %d: the data or the iterates are too large for floating point", fy, iter+1)
			break
		}
		iter++
		L *= fistaShrink
		accepted := false
		for range fistaMaxDoublings {
			if ctx.Err() != nil {
				break
			}
			for i := range xt {
				xt[i] = yv[i] - gy[i]/L
			}
			prox(xt, 1/L)
			m.apply(xt, axt)
			fx := fs.loss.gradient(axt, fs.y, eta, mu) // eta is scratch here
			// Sufficient decrease: f(x) ≤ f(y) + ∇f(y)ᵀ(x − y) + (L/2)‖x − y‖².
			lin, sq := 0.0, 0.0
			for i := range xt {
				dx := xt[i] - yv[i]
				lin += gy[i] * dx
				sq += dx * dx
			}
			if fx <= fy+lin+L/2*sq+1e-12*math.Abs(fy) || sq == 0 {
				accepted = true
				break
			}
			L *= 2
		}
		if !accepted {
			if ctx.Err() != nil {
				out.status = Canceled
			} else {
				out.status, out.message = Failure, fmt.Sprintf("the line search found no step with sufficient decrease at iteration %d (L = %.3g): non-finite or overflowing values", iter, L)
			}
			iter--
			break
		}
		// Gradient restart: drop the momentum when it points against the step.
		restart := 0.0
		for i := range xt {
			restart += (yv[i] - xt[i]) * (xt[i] - x[i])
		}
		copy(xPrev, x)
		copy(axPrev, ax)
		copy(x, xt)
		copy(ax, axt)
		if restart > 0 {
			t = 1
		}
		tNext := (1 + math.Sqrt(1+4*t*t)) / 2
		mom := (t - 1) / tNext
		t = tNext
		for i := range x {
			yv[i] = x[i] + mom*(x[i]-xPrev[i])
		}
		for i := range ax {
			ay[i] = ax[i] + mom*(ax[i]-axPrev[i])
		}

		primal := fs.loss.Value(ax, fs.y) + reg(x)
		it := Iteration{Iteration: iter, Objective: primal, PrimalResidual: math.NaN(), DualResidual: math.NaN(),
			Elapsed: time.Since(fs.start), Patterns: fs.patterns, DualityGap: math.NaN()}
		pred := ax
		if fs.onIterate != nil {
			it.Objective, pred = fs.onIterate(x, ax)
		}
		it.Gap = relGap(it.Objective, fs.reference)
		it.TrainAccuracy = trainAccuracy(pred, fs.y)
		active := 0
		for j := 0; j < nx; j += grp {
			if norm2(x[j:j+grp]) > 0 {
				active++
			}
		}
		it.ActiveNeurons = active
		done := false
		if iter%fistaCheckEvery == 0 || iter == fs.maxIter {
			cert = fistaCertificate(m, fs, x, ax, primal, mu, eta, atEta)
			it.DualityGap = cert.Gap
			if cert.Gap <= fs.tol {
				done = true
			} else if mu > hingeSmoothMin {
				// Continuation: once the true gap is within twice the smoothing error
				// nμ/2, the smoothing is what limits progress; then sharpen.
				if primal-cert.Dual <= float64(n)*mu {
					mu = math.Max(mu*hingeSmoothFactor, hingeSmoothMin)
					L /= hingeSmoothFactor
					t = 1
					copy(yv, x)
					copy(ay, ax)
				}
			}
		}
		out.history = record(out.history, fs.recorder, it)
		if done {
			out.status = Optimal
			break
		}
	}
	switch {
	case out.status == Failure:
		// No dual point can be trusted; x is the last accepted (finite) iterate.
		cert = Certificate{Primal: fs.loss.Value(ax, fs.y) + reg(x), Dual: math.Inf(-1), Gap: math.Inf(1), DualScale: math.NaN()}
	case iter == 0 || out.status != Optimal:
		primal := fs.loss.Value(ax, fs.y) + reg(x)
		cert = fistaCertificate(m, fs, x, ax, primal, mu, eta, atEta)
	}
	out.x, out.ax, out.iters, out.cert = x, ax, iter, cert
	out.eta = eta
	return out
}

// fistaCertificate returns the duality-gap certificate of x: η = ∇ℓ(Ax) (of the
// smoothed hinge loss, which lies in the domain of the hinge's conjugate) is scaled by
// t = max(1, maxⱼ ‖Aⱼᵀη‖/β) to satisfy the dual constraints ‖Aⱼᵀη‖ ≤ β, and the
// dual value is −ℓ*(η/t). eta receives η/t.
func fistaCertificate(m linearModel, fs *fistaSettings, x, ax []float64, primal, mu float64, eta, atEta []float64) Certificate {
	fs.loss.gradient(ax, fs.y, eta, math.Max(mu, hingeSmoothMin))
	m.adjoint(eta, atEta)
	grp := m.group()
	worst := 0.0
	for j := 0; j < len(atEta); j += grp {
		worst = math.Max(worst, norm2(atEta[j:j+grp]))
	}
	c := Certificate{Primal: primal, DualScale: 1}
	switch {
	case fs.beta > 0:
		c.DualScale = math.Max(1, worst/fs.beta)
	case worst > 0:
		c.DualScale = math.Inf(1)
	}
	if math.IsInf(c.DualScale, 1) {
		c.Dual = math.Inf(-1)
	} else {
		for k := range eta {
			eta[k] /= c.DualScale
		}
		c.Dual = fs.loss.negConjugate(eta, fs.y)
	}
	c.Gap = relativeGap(primal, c.Dual)
	return c
}

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
