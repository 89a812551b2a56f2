package solver

import (
	"context"
	"math"
	"time"
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
	fistaCheckEvery   = 10   // duality gap (one extra adjoint) every this many iterations
	fistaPowerIters   = 30   // power iterations for the initial Lipschitz estimate
	fistaShrink       = 0.9  // L is tried 10% smaller each iteration (so it can recover from a large estimate)
	hingeSmoothStart  = 1.0  // initial Huber width μ of the hinge loss: the margin itself
	hingeSmoothFactor = 0.1  // μ shrinks tenfold when the smoothed problem is solved to the current tolerance
	hingeSmoothMin    = 1e-9 // below this the smoothing error nμ/2 is negligible at any tolerance we allow
)

type fistaOutcome struct {
	x       []float64
	ax      []float64
	status  Status
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
			est = norm2(v)
			if est == 0 {
				break
			}
			scal(1/est, v)
		}
		L = math.Max(est*fs.loss.curvature(mu), 1e-12)
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
	out := &fistaOutcome{status: IterationLimit}
	var cert Certificate
	iter := 0
	for iter < fs.maxIter {
		if ctx.Err() != nil {
			out.status = Canceled
			break
		}
		if fs.timeLimit > 0 && time.Since(fs.start) > fs.timeLimit {
			out.status = TimeLimit
			break
		}
		iter++
		fy := fs.loss.gradient(ay, fs.y, g, mu)
		m.adjoint(g, gy)
		L *= fistaShrink
		for {
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
				break
			}
			L *= 2
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
		out.history = append(out.history, it)
		if fs.recorder != nil {
			fs.recorder.Record(it)
		}
		if done {
			out.status = Optimal
			break
		}
	}
	if iter == 0 || out.status != Optimal {
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
