package solver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/mat"
)

// ADMM solves the convex program (MATH.md §3) by the alternating direction method of
// multipliers of Bai, Gautam and Sojoudi (MATH.md §4). It is the default Method.
//
// The u-step matrix is factored once (Cholesky or Woodbury, chosen by cost unless
// Factorization says otherwise). The squared loss enters the u-step directly; the hinge
// and logistic losses through an extra split z = Fu with an elementwise proximal step,
// which keeps the matrix independent of ρ. ρ starts at a scale-aware value and is
// adapted by residual balancing (refactoring for the squared loss when it changes by
// more than rhoChangeFactor); the updates are over-relaxed.
type ADMM struct {
	// Rho is the initial penalty ρ > 0; zero means the scale-aware default.
	Rho float64
	// FixedRho disables residual balancing: ρ stays at its initial value.
	FixedRho bool
	// Relaxation is the over-relaxation factor α ∈ (0, 2); zero means 1.6, 1 means none.
	Relaxation float64
	// Factorization forces the linear-algebra route, FactorCholesky or FactorWoodbury;
	// empty means the cheaper one for the problem's size.
	Factorization string
	// WarmStart starts from the GatedReLU solution on the same patterns, decomposed
	// into the cones, instead of from zero.
	WarmStart bool

	// Anderson is the memory of the Anderson acceleration of the ADMM fixed-point
	// iteration; zero means andersonDefaultMemory, negative disables it.
	Anderson int

	tau2 float64 // overrides the consensus weight τ² (experiments)
	sig2 float64 // overrides σ²/σ²_default (experiments)
}

func (m *ADMM) String() string { return "ADMM" }

// Constants of the ADMM loop.
const (
	warmStartTolerance    = 1e-4 // the gated solution only needs to be close
	warmStartIterations   = 2000
	admmDefaultPatterns   = 64    // sampled directions when Settings.Patterns is zero
	admmDefaultIterations = 20000 // enough for 1e-8 on the test problems
	admmDefaultTolerance  = 1e-6  // relative duality gap and primal residual
	defaultRelaxation     = 1.6   // Boyd et al. §3.4.3 suggest α ∈ [1.5, 1.8]
	admmCheckEvery        = 10    // certificate (an extra product) every this many iterations
	andersonDefaultMemory = 10    // Zhang et al. and SCS use 5–10
	rhoChangeFactor       = 5     // refactor only when balancing moves ρ by this factor (as OSQP)
	maxRefactorizations   = 20    // bounds the refactoring work of residual balancing
)

// admm is the run state of one ADMM solve.
type admm struct {
	pr    *program
	ls    *linsys
	rho   float64
	tau2  float64 // weight of u = v
	sig2  float64 // weight of Fu = z (split losses only)
	alfa  float64 // over-relaxation
	split bool

	u, v, vOld, lam, rhs []float64 // 2P×d
	fty                  []float64 // Fᵀy, 2P×d (squared loss)
	xu, s, sOld, nu, t   []float64 // n×2P; t is n×4P
	tOut                 []float64 // 4P×d
	z, zOld, mu, fu      []float64 // n
	eta                  []float64 // n, dual of the prediction
	cert                 []float64 // n×3P and its product 3P×d
	certOut              []float64
	ev                   *evaluation

	primal, dual     float64 // residual norms
	normAU, normZ    float64
	refactorizations int

	// Anderson acceleration on the state w = (τ(v + λ), s + ν, σ(z + μ)), from which
	// the iterate is recovered by the proximal maps (v = prox(v + λ), λ = w − v, …).
	aa              *anderson
	w, tw, plain    []float64
	lastAccelerated bool
	lastResidual    float64
	rejected        int
}

func (m *ADMM) solve(ctx context.Context, p *Problem, s *Settings) (*Result, error) {
	start := time.Now()
	arr, err := arrangementFor(p, s, admmDefaultPatterns)
	if err != nil {
		return nil, err
	}
	pr, err := newProgram(p, arr)
	if err != nil {
		return nil, err
	}
	alfa := m.Relaxation
	if alfa == 0 {
		alfa = defaultRelaxation
	}
	if !(alfa > 0 && alfa < 2) {
		return nil, fmt.Errorf("solver: ADMM relaxation must be in (0, 2), got %v", alfa)
	}
	if m.Rho < 0 || math.IsNaN(m.Rho) || math.IsInf(m.Rho, 0) {
		return nil, fmt.Errorf("solver: ADMM rho must be positive, got %v", m.Rho)
	}
	a := &admm{pr: pr, alfa: alfa, split: p.Loss != Squared}
	a.scale(m.Rho, m.tau2)
	if m.sig2 > 0 {
		a.sig2 *= m.sig2
	}
	route := m.Factorization
	if route == "" {
		refactors := 3.0
		if a.split || m.FixedRho {
			refactors = 0
		}
		route, err = chooseRoute(pr.n, pr.d, pr.P, refactors)
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return canceledResult(m.String(), pr, start), nil
	}
	a.ls, err = newLinsys(pr, route, a.c())
	if err != nil {
		return nil, err
	}
	a.alloc()
	if m.WarmStart {
		if err := a.warmStart(ctx, p, s); err != nil {
			return nil, err
		}
	}
	a.initRHS()
	if m.Anderson >= 0 {
		mem := m.Anderson
		if mem == 0 {
			mem = andersonDefaultMemory
		}
		dim := len(a.v) + len(a.s)
		if a.split {
			dim += len(a.z)
		}
		a.aa = newAnderson(mem, dim)
		a.w, a.tw, a.plain = make([]float64, dim), make([]float64, dim), make([]float64, dim)
	}

	maxIter := s.MaxIterations
	if maxIter == 0 {
		maxIter = admmDefaultIterations
	}
	tol := s.Tolerance
	if tol == 0 {
		tol = admmDefaultTolerance
	}
	res := &Result{Method: m.String(), Factorization: route, Arrangement: arr, Patterns: pr.P, Gap: math.NaN()}
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
		if a.aa != nil {
			a.pack(a.w)
		}
		a.step()
		convex, network, violation := pr.eval(a.v, a.ev)
		it := Iteration{
			Iteration: iter, Objective: network, Gap: relGap(network, s.Reference),
			PrimalResidual: a.primal, DualResidual: a.dual, Elapsed: time.Since(start),
			TrainAccuracy: trainAccuracy(a.ev.network, p.Y), ActiveNeurons: activeBlocks(a.ev.norms),
			Patterns: pr.P, Rho: a.rho, DualityGap: math.NaN(),
		}
		done := false
		if iter%admmCheckEvery == 0 || iter == maxIter {
			cert = a.certificate(convex, violation)
			it.DualityGap = cert.Gap
			eps := tol * math.Max(a.normAU, a.normZ)
			if a.primal <= eps {
				if p.Beta > 0 {
					done = cert.Gap <= tol
				} else {
					done = a.dual <= tol*cert.dualScale
				}
			}
			if !done && !m.FixedRho {
				changed, err := a.balance(cert.dualScale)
				if err != nil {
					return nil, err
				}
				if changed && a.aa != nil {
					a.aa.reset()
					a.lastAccelerated = false
					a.pack(a.w) // nothing to extrapolate from after the map changed
					copy(a.tw, a.w)
				}
			}
		}
		if a.aa != nil && !done {
			a.accelerate()
		}
		res.History = append(res.History, it)
		if s.Recorder != nil {
			s.Recorder.Record(it)
		}
		if done {
			status = Optimal
			break
		}
	}
	convex, network, violation := pr.eval(a.v, a.ev)
	if iter > 0 {
		cert = a.certificate(convex, violation)
	} else {
		cert = Certificate{Primal: convex, Dual: math.NaN(), Gap: math.NaN(), ConeViolation: violation}
	}
	res.Status = status
	res.Iterations = iter
	res.Objective = network
	res.Certificate = &cert
	res.Gap = cert.Gap
	res.Network = pr.network(a.v)
	res.ActiveNeurons = res.Network.Neurons()
	res.V, res.W = splitBlocks(pr, a.v)
	res.Dual = append([]float64(nil), a.eta...)
	res.Rho = a.rho
	res.Factorizations = a.ls.factorizations
	res.Runtime = time.Since(start)
	return res, nil
}

// scale sets the constraint weights and the initial ρ (rho0 > 0 overrides ρ).
//
// The consensus constraint u = v is weighted by τ² = ‖X‖_F²/d, the mean eigenvalue
// of XᵀX, so that it is on the scale of the cone constraint Gu = s (GᵀG = I ⊗ XᵀX) and
// the method is invariant to a rescaling of X. For the split losses Fu = z is weighted
// by σ² = tr(I ⊗ (τ²I + XᵀX))/tr(FᵀF) for the same reason.
func (a *admm) scale(rho0, tau2 float64) {
	pr := a.pr
	fro := 0.0
	for _, v := range pr.x {
		fro += v * v
	}
	a.tau2 = math.Max(fro/float64(pr.d), 1e-300)
	if tau2 > 0 {
		a.tau2 = tau2
	}
	pr.tau2 = a.tau2
	trF := 0.0 // tr(FᵀF) = 2 Σₖ ‖xₖ‖² #{i : dᵢₖ = 1}
	for k := 0; k < pr.n; k++ {
		xk := pr.x[k*pr.d : (k+1)*pr.d]
		cnt := 0.0
		for _, m := range pr.mask[k*pr.P : (k+1)*pr.P] {
			cnt += m
		}
		trF += 2 * dot(xk, xk) * cnt
	}
	trB := 2 * float64(pr.P) * (float64(pr.d)*a.tau2 + fro)
	a.sig2 = 1
	if trF > 0 {
		a.sig2 = trB / trF
	}
	if rho0 > 0 {
		a.rho = rho0
		return
	}
	// Default ρ: for the squared loss the u-step matrix is τ²I + GᵀG + FᵀF/ρ, whose
	// loss and constraint parts balance at ρ = tr(FᵀF)/tr(I ⊗ B) = 1/σ². For the split
	// losses ρσ² is the curvature of the z-step, balanced against the loss's own.
	if a.split {
		a.rho = pr.loss.curvature(1) / a.sig2
	} else {
		a.rho = 1 / a.sig2
	}
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
	a.u, a.v, a.vOld, a.lam, a.rhs = make([]float64, blk), make([]float64, blk), make([]float64, blk), make([]float64, blk), make([]float64, blk)
	a.xu, a.s, a.sOld, a.nu = make([]float64, n*2*P), make([]float64, n*2*P), make([]float64, n*2*P), make([]float64, n*2*P)
	a.t, a.tOut = make([]float64, n*4*P), make([]float64, 4*P*d)
	a.z, a.zOld, a.mu, a.fu, a.eta = make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	a.cert, a.certOut = make([]float64, n*3*P), make([]float64, 3*P*d)
	a.ev = newEvaluation(pr)
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

// initRHS computes the constraint part of the next right-hand side,
// Gᵀ(s − ν) + σ²Fᵀ(z − μ), into tOut's first 2P rows (without the dual-residual part).
func (a *admm) initRHS() {
	pr := a.pr
	n, P := pr.n, pr.P
	t := a.t[:n*2*P]
	for k := 0; k < n; k++ {
		row := t[k*2*P : (k+1)*2*P]
		sg := pr.sign[k*P : (k+1)*P]
		sr := a.s[k*2*P : (k+1)*2*P]
		nr := a.nu[k*2*P : (k+1)*2*P]
		q := 0.0
		if a.split {
			q = a.sig2 * (a.z[k] - a.mu[k])
		}
		m := pr.mask[k*P : (k+1)*P]
		for i := 0; i < P; i++ {
			row[i] = sg[i]*(sr[i]-nr[i]) + m[i]*q
			row[P+i] = sg[i]*(sr[P+i]-nr[P+i]) - m[i]*q
		}
	}
	pr.mulTX(a.tOut[:2*P*pr.d], t, 2*P, 1, 0)
}

// step performs one ADMM iteration.
func (a *admm) step() {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	blk := 2 * P * d
	// 1. u-step: (τ²I + GᵀG + cFᵀF) u = τ²(v − λ) + Gᵀ(s − ν) + [Fᵀy/ρ | σ²Fᵀ(z − μ)].
	for i := 0; i < blk; i++ {
		a.rhs[i] = a.tau2*(a.v[i]-a.lam[i]) + a.tOut[i]
	}
	if !a.split {
		for i := 0; i < blk; i++ {
			a.rhs[i] += a.fty[i] / a.rho
		}
	}
	a.ls.solve(a.rhs, a.u)
	pr.mulXT(a.xu, a.u, 2*P)

	// 2–4. Relaxed v-, s- (and z-) steps and dual updates.
	alfa := a.alfa
	copy(a.vOld, a.v)
	copy(a.sOld, a.s)
	copy(a.zOld, a.z)
	primal := 0.0
	normAU, normZ := 0.0, 0.0
	kappa := pr.beta / (a.rho * a.tau2)
	for j := 0; j < 2*P; j++ {
		ub := a.u[j*d : (j+1)*d]
		vb := a.v[j*d : (j+1)*d]
		lb := a.lam[j*d : (j+1)*d]
		// v ← group soft threshold of û + λ, û = αu + (1 − α)v.
		nrm := 0.0
		for i := range vb {
			w := alfa*ub[i] + (1-alfa)*vb[i] + lb[i]
			nrm += w * w
		}
		nrm = math.Sqrt(nrm)
		shrink := 0.0
		if nrm > kappa {
			shrink = 1 - kappa/nrm
		}
		for i := range vb {
			uh := alfa*ub[i] + (1-alfa)*vb[i]
			w := uh + lb[i]
			vb[i] = shrink * w
			lb[i] = w - vb[i]
			r := ub[i] - vb[i]
			primal += a.tau2 * r * r
			normAU += a.tau2 * ub[i] * ub[i]
			normZ += a.tau2 * vb[i] * vb[i]
		}
	}
	for k := 0; k < n; k++ {
		xr := a.xu[k*2*P : (k+1)*2*P]
		sg := pr.sign[k*P : (k+1)*P]
		sr := a.s[k*2*P : (k+1)*2*P]
		nr := a.nu[k*2*P : (k+1)*2*P]
		m := pr.mask[k*P : (k+1)*P]
		fu := 0.0
		for j := 0; j < 2*P; j++ {
			i := j
			if j >= P {
				i = j - P
			}
			gu := sg[i] * xr[j]
			gh := alfa*gu + (1-alfa)*sr[j]
			w := gh + nr[j]
			sn := math.Max(w, 0)
			sr[j] = sn
			nr[j] = w - sn
			r := gu - sn
			primal += r * r
			normAU += gu * gu
			normZ += sn * sn
			if j < P {
				fu += m[i] * xr[j]
			} else {
				fu -= m[i] * xr[j]
			}
		}
		a.fu[k] = fu
	}
	if a.split {
		// z ← prox_{ℓ/(ρσ²)}(F̂u + μ), μ ← μ + F̂u − z.
		for k := 0; k < n; k++ {
			a.z[k] = alfa*a.fu[k] + (1-alfa)*a.zOld[k] + a.mu[k] // the prox argument
		}
		copy(a.eta, a.z)
		pr.loss.prox(a.eta, pr.y, a.rho*a.sig2, a.z)
		for k := 0; k < n; k++ {
			a.mu[k] = a.eta[k] - a.z[k]
			r := a.fu[k] - a.z[k]
			primal += a.sig2 * r * r
			normAU += a.sig2 * a.fu[k] * a.fu[k]
			normZ += a.sig2 * a.z[k] * a.z[k]
			a.eta[k] = a.rho * a.sig2 * a.mu[k]
		}
	} else {
		for k := 0; k < n; k++ {
			a.eta[k] = a.fu[k] - pr.y[k]
		}
	}
	a.primal, a.normAU, a.normZ = math.Sqrt(primal), math.Sqrt(normAU), math.Sqrt(normZ)

	// 5. One product Tᵀ X gives the next right-hand side's constraint part,
	// Gᵀ(s − ν) + σ²Fᵀ(z − μ), and the dual residual's, Gᵀ Δs + σ²Fᵀ Δz.
	t := a.t
	for k := 0; k < n; k++ {
		row := t[k*4*P : (k+1)*4*P]
		sg := pr.sign[k*P : (k+1)*P]
		sr := a.s[k*2*P : (k+1)*2*P]
		so := a.sOld[k*2*P : (k+1)*2*P]
		nr := a.nu[k*2*P : (k+1)*2*P]
		m := pr.mask[k*P : (k+1)*P]
		q, dq := 0.0, 0.0
		if a.split {
			q = a.sig2 * (a.z[k] - a.mu[k])
			dq = a.sig2 * (a.z[k] - a.zOld[k])
		}
		for i := 0; i < P; i++ {
			row[i] = sg[i]*(sr[i]-nr[i]) + m[i]*q
			row[P+i] = sg[i]*(sr[P+i]-nr[P+i]) - m[i]*q
			row[2*P+i] = sg[i]*(sr[i]-so[i]) + m[i]*dq
			row[3*P+i] = sg[i]*(sr[P+i]-so[P+i]) - m[i]*dq
		}
	}
	pr.mulTX(a.tOut, t, 4*P, 1, 0)
	dual := 0.0
	for i := 0; i < blk; i++ {
		r := a.tau2*(a.v[i]-a.vOld[i]) + a.tOut[blk+i]
		dual += r * r
	}
	a.dual = a.rho * math.Sqrt(dual)
}

// Certificate is the optimality certificate of a convex solve: a feasible dual point
// gives a lower bound Dual on the optimum of the program solved, so
// Primal − Dual ≥ Primal − optimum (up to the cone violation of the primal point).
type Certificate struct {
	// Primal is the convex objective at the returned point.
	Primal float64
	// Dual is the dual objective −ℓ*(η) of a feasible dual point, a lower bound on the
	// optimal value (−Inf when none was found, e.g. β = 0).
	Dual float64
	// Gap is (Primal − Dual)/|Primal|, the relative duality gap.
	Gap float64
	// ConeViolation is maxᵢ ‖((2Dᵢ − I)Xvᵢ)₋‖∞ / maxᵢ ‖Xvᵢ‖∞ over all blocks (zero
	// for methods without cone constraints).
	ConeViolation float64
	// DualScale is the factor t ≥ 1 the dual estimate was divided by to become feasible
	// (t − 1 measures the dual infeasibility of the method's multipliers).
	DualScale float64

	dualScale float64 // ‖Aᵀy‖ of the ADMM multipliers, for the β = 0 stopping test
}

// certificate builds a feasible dual point from the multipliers: η for the prediction
// and ζ = −ρν ≥ 0 for the cones. Its constraints are ‖Fⱼᵀη − Gⱼᵀζⱼ‖ ≤ β for every
// block j; dividing (η, ζ) by t = max(1, maxⱼ ‖Fⱼᵀη − Gⱼᵀζⱼ‖/β) makes it feasible
// (the domain of ℓ* is star-shaped about 0), and −ℓ*(η/t) is a lower bound.
func (a *admm) certificate(primal, violation float64) Certificate {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	eta := append([]float64(nil), a.eta...)
	pr.loss.clipDual(eta, pr.y)
	for k := 0; k < n; k++ {
		row := a.cert[k*3*P : (k+1)*3*P]
		m := pr.mask[k*P : (k+1)*P]
		sg := pr.sign[k*P : (k+1)*P]
		nr := a.nu[k*2*P : (k+1)*2*P]
		for i := 0; i < P; i++ {
			row[i] = m[i] * eta[k]
			row[P+i] = -a.rho * sg[i] * nr[i]
			row[2*P+i] = -a.rho * sg[i] * nr[P+i]
		}
	}
	pr.mulTX(a.certOut, a.cert, 3*P, 1, 0)
	worst := 0.0
	fEta, gZeta := 0.0, 0.0 // ‖Fᵀη‖², ‖Gᵀζ‖²
	for i := 0; i < P; i++ {
		fe := a.certOut[i*d : (i+1)*d]
		gv := a.certOut[(P+i)*d : (P+i+1)*d]
		gw := a.certOut[(2*P+i)*d : (2*P+i+1)*d]
		nv, nw := 0.0, 0.0
		for c := 0; c < d; c++ {
			x := fe[c] - gv[c]
			y := -fe[c] - gw[c]
			nv += x * x
			nw += y * y
			fEta += 2 * fe[c] * fe[c]
			gZeta += gv[c]*gv[c] + gw[c]*gw[c]
		}
		worst = math.Max(worst, math.Max(math.Sqrt(nv), math.Sqrt(nw)))
	}
	// The dual residual ρ(τ²Δv + GᵀΔs + σ²FᵀΔz) is measured against the size of the
	// terms of the u-stationarity condition Fᵀη − Gᵀζ + ρτ²λ = 0 (which cancel at the
	// optimum, so their sum is no scale).
	lam := a.rho * a.tau2 * norm2(a.lam)
	c := Certificate{Primal: primal, ConeViolation: violation,
		dualScale: math.Max(lam, math.Max(math.Sqrt(fEta), math.Sqrt(gZeta)))}
	switch {
	case pr.beta > 0:
		t := math.Max(1, worst/pr.beta)
		for k := range eta {
			eta[k] /= t
		}
		c.DualScale = t
		c.Dual = pr.loss.negConjugate(eta, pr.y)
	case worst == 0:
		c.DualScale = 1
		c.Dual = pr.loss.negConjugate(eta, pr.y)
	default:
		c.DualScale = math.Inf(1)
		c.Dual = math.Inf(-1)
	}
	c.Gap = relativeGap(primal, c.Dual)
	return c
}

// relativeGap returns (primal − dual)/|primal|, with 0/0 read as 0.
func relativeGap(primal, dual float64) float64 {
	if math.IsInf(dual, -1) || math.IsNaN(dual) {
		return math.Inf(1)
	}
	diff := primal - dual
	if diff == 0 {
		return 0
	}
	return diff / math.Abs(primal)
}

// relGap returns (obj − ref)/|ref|, NaN when ref is 0 (unknown).
func relGap(obj, ref float64) float64 {
	if ref == 0 {
		return math.NaN()
	}
	return (obj - ref) / math.Abs(ref)
}

// balance adapts ρ by residual balancing, normalized as in OSQP (Stellato et al. 2020
// §5.2): ρ ← ρ √((‖r‖/max(‖Au‖, ‖z‖)) / (‖s‖/‖Aᵀy‖)). The scaled duals are rescaled.
// For the squared loss the u-step matrix depends on ρ, so ρ changes only by factors
// beyond rhoChangeFactor and at most maxRefactorizations times.
func (a *admm) balance(aty float64) (bool, error) {
	pn := a.primal / math.Max(math.Max(a.normAU, a.normZ), 1e-300)
	dn := a.dual / math.Max(aty, 1e-300)
	if pn == 0 || dn == 0 {
		return false, nil
	}
	ratio := math.Sqrt(pn / dn)
	ratio = math.Min(math.Max(ratio, 1e-3), 1e3)
	threshold := 1.2
	if !a.split {
		if a.refactorizations >= maxRefactorizations {
			return false, nil
		}
		threshold = rhoChangeFactor
	}
	if ratio < threshold && ratio > 1/threshold {
		return false, nil
	}
	a.setRho(a.rho * ratio)
	if !a.split {
		a.refactorizations++
		return true, a.ls.factor(a.c())
	}
	return true, nil
}

// setRho changes ρ, rescaling the scaled duals and the stored right-hand side.
func (a *admm) setRho(rho float64) {
	f := a.rho / rho
	a.rho = rho
	for i := range a.lam {
		a.lam[i] *= f
	}
	for i := range a.nu {
		a.nu[i] *= f
	}
	for i := range a.mu {
		a.mu[i] *= f
	}
	a.initRHS()
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

// warmStart starts from the gated ReLU solution on the same patterns, decomposed into
// the cones (see GatedReLU): u = v = (v₁..vₚ, w₁..wₚ), s = Gu ≥ 0, z = Fu, zero duals.
func (a *admm) warmStart(ctx context.Context, p *Problem, s *Settings) error {
	if a.pr.arr.Generators == nil {
		return errors.New("solver: ADMM warm start needs the gates: an arrangement with generators")
	}
	gs := *s
	gs.Tolerance = warmStartTolerance
	gs.MaxIterations = warmStartIterations
	gs.Reference = 0
	out, err := solveGated(ctx, a.pr, &gs, time.Now(), false)
	if err != nil {
		return err
	}
	vw, err := coneDecompose(a.pr, out.x)
	if err != nil {
		return err
	}
	pr := a.pr
	n, P := pr.n, pr.P
	copy(a.u, vw)
	copy(a.v, vw)
	pr.mulXT(a.xu, a.u, 2*P)
	for k := 0; k < n; k++ {
		fu := 0.0
		for j := 0; j < 2*P; j++ {
			i := j % P
			a.s[k*2*P+j] = math.Max(0, pr.sign[k*P+i]*a.xu[k*2*P+j])
			if j < P {
				fu += pr.mask[k*P+i] * a.xu[k*2*P+j]
			} else {
				fu -= pr.mask[k*P+i] * a.xu[k*2*P+j]
			}
		}
		a.fu[k] = fu
		a.z[k] = fu
	}
	return nil
}

// pack writes the fixed-point state w = (τ(v + λ), s + ν, σ(z + μ)) of the current
// iterate; the weights make the Euclidean norm of w the one in which the ADMM map is
// averaged (the augmented Lagrangian's).
func (a *admm) pack(w []float64) {
	tau, sig := math.Sqrt(a.tau2), math.Sqrt(a.sig2)
	o := 0
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
}

// unpack sets the iterate from a state w: v = prox_{β‖·‖₂,₁/(ρτ²)}(w_v/τ),
// λ = w_v/τ − v; s = (w_s)₊, ν = w_s − s; z = prox_{ℓ/(ρσ²)}(w_z/σ), μ = w_z/σ − z;
// then the right-hand side that depends on them.
func (a *admm) unpack(w []float64) {
	pr := a.pr
	d := pr.d
	tau, sig := math.Sqrt(a.tau2), math.Sqrt(a.sig2)
	kappa := pr.beta / (a.rho * a.tau2)
	for j := 0; j < 2*pr.P; j++ {
		wb := w[j*d : (j+1)*d]
		vb := a.v[j*d : (j+1)*d]
		lb := a.lam[j*d : (j+1)*d]
		nrm := norm2(wb) / tau
		shrink := 0.0
		if nrm > kappa {
			shrink = 1 - kappa/nrm
		}
		for i, x := range wb {
			x /= tau
			vb[i] = shrink * x
			lb[i] = x - vb[i]
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

// accelerate runs after a step from the state a.w: it checks the previous
// extrapolation (safeguard: an accelerated point must not increase the fixed-point
// residual ‖T(w) − w‖, which plain relaxed ADMM never does; otherwise the run
// continues from the plain iterate and the memory is cleared), then extrapolates.
func (a *admm) accelerate() {
	a.pack(a.tw)
	res := 0.0
	for i, v := range a.tw {
		r := v - a.w[i]
		res += r * r
	}
	res = math.Sqrt(res)
	if a.lastAccelerated && res > a.lastResidual {
		a.rejected++
		a.aa.reset()
		a.lastAccelerated = false
		a.unpack(a.plain)
		return
	}
	copy(a.plain, a.tw)
	if a.aa.extrapolate(a.w, a.tw) {
		a.unpack(a.tw)
		a.lastAccelerated = true
		a.lastResidual = res
	} else {
		a.lastAccelerated = false
	}
}
