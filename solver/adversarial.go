package solver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// Adversarial is convex adversarial training (MATH.md §7; Bai, Gautam and Sojoudi
// Section 4): it solves the robust convex program
//
//	minimize   Σₖ max_{‖δₖ‖∞ ≤ ε} ℓ((xₖ + δₖ)ᵀaₖ, yₖ) + β Σᵢ (‖vᵢ‖₂ + ‖wᵢ‖₂)
//	subject to (2dᵢₖ − 1) xₖᵀvᵢ ≥ ε‖vᵢ‖₁,   (2dᵢₖ − 1) xₖᵀwᵢ ≥ ε‖wᵢ‖₁
//
// over sampled activation patterns dᵢ (Settings.Patterns, Seed, Arrangement), with
// aₖ = Σᵢ dᵢₖ(vᵢ − wᵢ). The steps of the derivation:
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
// The solver is our ADMM with the splittings q = u (the group norm), (g, p) = (Gu, u)
// (the robust cones, projected jointly; see robustCone), and b = Au, b ∈ ℝⁿˣᵈ, the
// vectors aₖ (the worst-case losses, by their proximal maps; see robustProx). All
// three are separable, so the second ADMM block is one step; the u-step matrix
// I ⊗ (τ²I + XᵀX) + γ²AᵀA is solved in the Kronecker eigenbasis (see kronSystem) and
// does not depend on ρ, so ρ is adapted by residual balancing for free. Updates are
// over-relaxed. The certificate is a feasible dual point built from the multipliers
// (see advCertificate); the history, cancellation and result follow ADMM.
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
	advRhoChange         = 2     // balancing moves ρ only by more than this factor: a change is free, but each one restarts the multipliers' scale
	advDefaultRho        = 1     // ρ relative to the balance point (see scale)
	advGammaScale        = 1     // γ² relative to tr(I ⊗ B)/tr(AᵀA)
	advMaxRhoChanges     = 50    // bounds oscillation of balancing
)

// adv is the run state of one Adversarial solve. Layout: blocks (2P×d) row j; cone
// rows and products with X (n×2P) entry k*2P + j; b (n×d) row k.
type adv struct {
	pr       *program
	eps      float64
	dS       int
	ks       *kronSystem
	rho      float64
	tq2, tp2 float64 // weights of q = u and p = u
	g2       float64 // weight γ² of b = Au
	alfa     float64

	u, rhs, cg                []float64 // 2P×d; cg: the constant part Gᵀ(g − λ_g) + γ²Aᵀ(b − λ_b)
	q, lq, qOld, p, lp, pOld  []float64 // 2P×d
	g, lg, gOld, xu           []float64 // n×2P
	b, lb, bOld, au           []float64 // n×d
	coef, rad                 []float64 // n: decomposition of the b multipliers (see robustProx)
	t, tOut                   []float64 // n×4P, 4P×d
	zb, zbOut                 []float64 // n×2d, P×2d
	diffBlk                   []float64 // P×d
	col, zeta, scratch, proxB []float64
	cone                      *robustCone

	primal, dual, normKu, normW float64
	rhoChanges                  int

	aa              *anderson
	w, tw, plain    []float64
	lastAccelerated bool
	lastResidual    float64
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
	_, d := p.X.Dims()
	dS := d
	if m.Bias {
		if d < 2 {
			return nil, errors.New("solver: adversarial Bias needs a bias column besides the features")
		}
		dS = d - 1
	}
	arr, err := arrangementFor(p, s, advDefaultPatterns)
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
	a.ks, err = newKronSystem(pr, a.tq2+a.tp2, a.g2)
	if err != nil {
		return nil, err
	}
	a.alloc()
	if m.Anderson >= 0 {
		mem := m.Anderson
		if mem == 0 {
			mem = andersonDefaultMemory
		}
		dim := 2*len(a.q) + len(a.g) + len(a.b)
		a.aa = newAnderson(mem, dim)
		a.w, a.tw, a.plain = make([]float64, dim), make([]float64, dim), make([]float64, dim)
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
		if a.aa != nil {
			a.pack(a.w)
		}
		a.step()
		convex := a.evalConvex(a.q, ev)
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
			if !done && !m.FixedRho && a.balance(cert.dualScale) && a.aa != nil {
				// The map changed: restart the acceleration from the current point.
				a.aa.reset()
				a.lastAccelerated = false
				a.pack(a.w)
				copy(a.tw, a.w)
			}
		}
		res.History = append(res.History, it)
		if s.Recorder != nil {
			s.Recorder.Record(it)
		}
		if done {
			status = Optimal
			break
		}
		if a.aa != nil {
			a.accelerate()
		}
	}
	if a.aa != nil && a.lastAccelerated {
		// Return the last ADMM step's output (whose multipliers the certificate
		// uses), not an extrapolated point.
		a.unpack(a.plain)
	}
	if iter > 0 {
		cert = a.certificate(a.evalConvex(a.q, ev))
	} else {
		cert = Certificate{Primal: a.evalConvex(a.q, ev), Dual: math.Inf(-1), Gap: math.Inf(1), DualScale: math.NaN()}
	}
	cert.ConeViolation = a.violation(a.q, ev)
	res.Status = status
	res.Iterations = iter
	res.Certificate = &cert
	res.Gap = cert.Gap
	res.Network = pr.network(a.q)
	res.ActiveNeurons = res.Network.Neurons()
	res.V, res.W = splitBlocks(pr, a.q)
	res.Objective = a.networkObjective(a.q, ev)
	if status != Canceled && activeBlocks(inputBlocks(pr, a.q, dS)) == 0 && a.eps > 0 {
		if robustInfeasible(pr, a.eps, dS) {
			res.Status = Infeasible
			clear(a.q)
			res.Network = &Network{}
			res.ActiveNeurons = 0
			res.V, res.W = splitBlocks(pr, a.q)
			res.Objective = a.evalConvex(a.q, ev)
			cert.Primal = res.Objective
			cert.ConeViolation = 0
			cert.Gap = relativeGap(cert.Primal, cert.Dual)
			res.Gap = cert.Gap
		}
	}
	res.Rho = a.rho
	res.Factorizations = 1
	res.Runtime = time.Since(start)
	return res, nil
}

// scale sets the split weights and the initial ρ so that the method is invariant to
// a rescaling of X: τ_q² = τ_p² = ‖X‖_F²/d, the mean eigenvalue of XᵀX (so the
// consensus splits are on the scale of the cone rows Gu, GᵀG = I ⊗ XᵀX), and
// γ² = tr(I ⊗ B)/tr(AᵀA) with B = (τ_q² + τ_p²)I + XᵀX, which puts the loss split on
// the same scale. ρ then weighs the losses (curvature of order one in the
// predictions xₖᵀaₖ, ‖xₖ‖² in aₖ) against the constraints: ρ = ρ₀ · mean‖xₖ‖² / (γ² n).
func (a *adv) scale(m *Adversarial) {
	pr := a.pr
	fro := 0.0
	for _, v := range pr.x {
		fro += v * v
	}
	a.tq2 = math.Max(fro/float64(pr.d), 1e-300)
	if m.tauScale > 0 {
		a.tq2 *= m.tauScale
	}
	a.tp2 = a.tq2
	cnt := 0.0
	for _, v := range pr.mask {
		cnt += v
	}
	trB := 2 * float64(pr.P) * (float64(pr.d)*(a.tq2+a.tp2) + fro)
	trA := 2 * float64(pr.d) * cnt
	a.g2 = 1
	if trA > 0 {
		a.g2 = advGammaScale * trB / trA
	}
	if m.gammaScale > 0 {
		a.g2 *= m.gammaScale
	}
	if m.Rho > 0 {
		a.rho = m.Rho
		return
	}
	a.rho = advDefaultRho * (fro / float64(pr.n)) / a.g2
	if m.rhoScale > 0 {
		a.rho *= m.rhoScale
	}
}

func (a *adv) alloc() {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	blk := 2 * P * d
	mk := func(k int) []float64 { return make([]float64, k) }
	a.u, a.rhs, a.cg = mk(blk), mk(blk), mk(blk)
	a.q, a.lq, a.qOld, a.p, a.lp, a.pOld = mk(blk), mk(blk), mk(blk), mk(blk), mk(blk), mk(blk)
	a.g, a.lg, a.gOld, a.xu = mk(n*2*P), mk(n*2*P), mk(n*2*P), mk(n*2*P)
	a.b, a.lb, a.bOld, a.au = mk(n*d), mk(n*d), mk(n*d), mk(n*d)
	a.coef, a.rad = mk(n), mk(n)
	a.t, a.tOut = mk(n*4*P), mk(4*P*d)
	a.zb, a.zbOut = mk(n*2*d), mk(P*2*d)
	a.diffBlk = mk(P * d)
	a.col, a.zeta, a.scratch, a.proxB = mk(n), mk(d), mk(d), mk(d)
	a.cone = newRobustCone(d)
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
	// 1. u-step: (τ²I + GᵀG + γ²AᵀA) u = τ_q²(q − λ_q) + τ_p²(p − λ_p) + Gᵀ(g − λ_g) + γ²Aᵀ(b − λ_b).
	for i := 0; i < blk; i++ {
		a.rhs[i] = a.tq2*(a.q[i]-a.lq[i]) + a.tp2*(a.p[i]-a.lp[i]) + a.cg[i]
	}
	a.ks.solve(a.rhs, a.u)
	pr.mulXT(a.xu, a.u, 2*P)
	a.mulA(a.au, a.u)
	copy(a.qOld, a.q)
	copy(a.pOld, a.p)
	copy(a.gOld, a.g)
	copy(a.bOld, a.b)
	alfa := a.alfa
	primal, normKu, normW := 0.0, 0.0, 0.0
	// 2. q-step: group soft threshold of α u + (1 − α) q + λ_q.
	kappa := pr.beta / (a.rho * a.tq2)
	for i := range a.q {
		a.lq[i] += alfa*a.u[i] + (1-alfa)*a.q[i] // ζ_q, the argument
	}
	for j := 0; j < 2*P; j++ {
		shrinkBlock(a.lq[j*d:(j+1)*d], a.q[j*d:(j+1)*d], kappa)
	}
	for i := range a.q {
		a.lq[i] -= a.q[i]
		r := a.u[i] - a.q[i]
		primal += a.tq2 * r * r
		normKu += a.tq2 * a.u[i] * a.u[i]
		normW += a.tq2 * a.q[i] * a.q[i]
	}
	// 3. (g, p)-step: projection onto the robust cone of every block.
	for i := range a.p {
		a.lp[i] += alfa*a.u[i] + (1-alfa)*a.p[i]
	}
	for k := 0; k < n; k++ {
		xr := a.xu[k*2*P : (k+1)*2*P]
		sg := pr.sign[k*P : (k+1)*P]
		gr := a.g[k*2*P : (k+1)*2*P]
		lr := a.lg[k*2*P : (k+1)*2*P]
		for j := 0; j < 2*P; j++ {
			gu := sg[j%P] * xr[j]
			lr[j] += alfa*gu + (1-alfa)*gr[j]
		}
	}
	a.projectAll()
	for i := range a.p {
		r := a.u[i] - a.p[i]
		primal += a.tp2 * r * r
		normKu += a.tp2 * a.u[i] * a.u[i]
		normW += a.tp2 * a.p[i] * a.p[i]
	}
	for k := 0; k < n; k++ {
		xr := a.xu[k*2*P : (k+1)*2*P]
		sg := pr.sign[k*P : (k+1)*P]
		for j := 0; j < 2*P; j++ {
			i := k*2*P + j
			gu := sg[j%P] * xr[j]
			r := gu - a.g[i]
			primal += r * r
			normKu += gu * gu
			normW += a.g[i] * a.g[i]
		}
	}
	// 4. b-step: proximal map of every worst-case loss.
	rhoB := a.rho * a.g2
	for k := 0; k < n; k++ {
		br := a.b[k*d : (k+1)*d]
		lr := a.lb[k*d : (k+1)*d]
		ar := a.au[k*d : (k+1)*d]
		for c := 0; c < d; c++ {
			lr[c] += alfa*ar[c] + (1-alfa)*br[c]
		}
		a.coef[k], a.rad[k] = robustProx(pr.loss, pr.x[k*d:(k+1)*d], lr, pr.y[k], a.eps, a.dS, rhoB, br, a.scratch)
		for c := 0; c < d; c++ {
			lr[c] -= br[c]
			r := ar[c] - br[c]
			primal += a.g2 * r * r
			normKu += a.g2 * ar[c] * ar[c]
			normW += a.g2 * br[c] * br[c]
		}
	}
	a.primal, a.normKu, a.normW = math.Sqrt(primal), math.Sqrt(normKu), math.Sqrt(normW)
	// 5. The next right-hand side's constant part Gᵀ(g − λ_g) + γ²Aᵀ(b − λ_b) and the
	// dual residual ρ‖τ_q²Δq + τ_p²Δp + GᵀΔg + γ²AᵀΔb‖ from one product each.
	a.products(true)
	dual := 0.0
	for i := 0; i < blk; i++ {
		r := a.tq2*(a.q[i]-a.qOld[i]) + a.tp2*(a.p[i]-a.pOld[i]) + a.tOut[blk+i]
		if i < P*d {
			r += a.g2 * a.zbOut[(i/d)*2*d+d+i%d]
		} else {
			r -= a.g2 * a.zbOut[((i-P*d)/d)*2*d+d+i%d]
		}
		dual += r * r
	}
	a.dual = a.rho * math.Sqrt(dual)
}

// products sets cg = Gᵀ(g − λ_g) + γ²Aᵀ(b − λ_b) and, with differences, the rows
// 2P..4P of tOut to GᵀΔg and the columns d..2d of zbOut to MᵀΔb.
func (a *adv) products(differences bool) {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	cols := 2 * P
	if differences {
		cols = 4 * P
	}
	for k := 0; k < n; k++ {
		row := a.t[k*cols : (k+1)*cols]
		sg := pr.sign[k*P : (k+1)*P]
		for j := 0; j < 2*P; j++ {
			i := k*2*P + j
			s := sg[j%P]
			row[j] = s * (a.g[i] - a.lg[i])
			if differences {
				row[2*P+j] = s * (a.g[i] - a.gOld[i])
			}
		}
	}
	pr.mulTX(a.tOut[:cols*d], a.t[:n*cols], cols, 1, 0)
	for k := 0; k < n; k++ {
		for c := 0; c < d; c++ {
			i := k*d + c
			a.zb[k*2*d+c] = a.b[i] - a.lb[i]
			a.zb[k*2*d+d+c] = a.b[i] - a.bOld[i]
		}
	}
	a.mulMT(a.zbOut, a.zb, 2*d)
	pd := P * d
	for i := 0; i < pd; i++ {
		mt := a.zbOut[(i/d)*2*d+i%d]
		a.cg[i] = a.tOut[i] + a.g2*mt
		a.cg[pd+i] = a.tOut[pd+i] - a.g2*mt
	}
}

// balance adapts ρ by residual balancing (see ADMM.balance); the u-step matrix does
// not depend on ρ, only the scaled duals are rescaled.
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
	for _, l := range [][]float64{a.lq, a.lp, a.lg, a.lb} {
		for i := range l {
			l[i] *= f
		}
	}
	a.products(false)
	return true
}

// pack writes the fixed-point state ζ = w + λ of every split (the next iterate depends
// on the splits' variables and multipliers only through it, since w = prox(ζ) and
// λ = ζ − w), weighted so that its Euclidean norm is the augmented Lagrangian's.
func (a *adv) pack(w []float64) {
	tq, tp, ga := math.Sqrt(a.tq2), math.Sqrt(a.tp2), math.Sqrt(a.g2)
	o := 0
	for i, v := range a.q {
		w[o+i] = tq * (v + a.lq[i])
	}
	o += len(a.q)
	for i, v := range a.p {
		w[o+i] = tp * (v + a.lp[i])
	}
	o += len(a.p)
	for i, v := range a.g {
		w[o+i] = v + a.lg[i]
	}
	o += len(a.g)
	for i, v := range a.b {
		w[o+i] = ga * (v + a.lb[i])
	}
}

// unpack sets the iterate from a state w (see pack) by the splits' proximal maps, and
// the right-hand side that depends on it.
func (a *adv) unpack(w []float64) {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	tq, tp, ga := math.Sqrt(a.tq2), math.Sqrt(a.tp2), math.Sqrt(a.g2)
	o := 0
	for i := range a.q {
		a.lq[i] = w[o+i] / tq
	}
	kappa := pr.beta / (a.rho * a.tq2)
	for j := 0; j < 2*P; j++ {
		shrinkBlock(a.lq[j*d:(j+1)*d], a.q[j*d:(j+1)*d], kappa)
	}
	for i := range a.q {
		a.lq[i] -= a.q[i]
	}
	o += len(a.q)
	for i := range a.p {
		a.lp[i] = w[o+i] / tp
	}
	o += len(a.p)
	copy(a.lg, w[o:o+len(a.g)])
	o += len(a.g)
	a.projectAll()
	for i := range a.b {
		a.lb[i] = w[o+i] / ga
	}
	rhoB := a.rho * a.g2
	for k := 0; k < n; k++ {
		lr := a.lb[k*d : (k+1)*d]
		br := a.b[k*d : (k+1)*d]
		a.coef[k], a.rad[k] = robustProx(pr.loss, pr.x[k*d:(k+1)*d], lr, pr.y[k], a.eps, a.dS, rhoB, br, a.scratch)
		for c := range lr {
			lr[c] -= br[c]
		}
	}
	a.products(false)
}

// projectAll sets (g, p) to the projections of the arguments held in (λ_g, λ_p) and
// the multipliers to the arguments minus the projections.
func (a *adv) projectAll() {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	for j := 0; j < 2*P; j++ {
		for k := 0; k < n; k++ {
			a.col[k] = a.lg[k*2*P+j]
		}
		pj := a.p[j*d : (j+1)*d]
		copy(pj, a.lp[j*d:(j+1)*d])
		a.cone.project(a.col, pj, a.tp2, a.eps, a.dS)
		for k := 0; k < n; k++ {
			a.g[k*2*P+j] = a.col[k]
		}
	}
	for i := range a.p {
		a.lp[i] -= a.p[i]
	}
	for i := range a.g {
		a.lg[i] -= a.g[i]
	}
}

// accelerate runs after a step from the state a.w, as ADMM's: it checks the previous
// extrapolation (an accelerated point must not increase the fixed-point residual
// ‖T(w) − w‖; otherwise the run continues from the plain iterate with the memory
// cleared), then extrapolates.
func (a *adv) accelerate() {
	a.pack(a.tw)
	res := 0.0
	for i, v := range a.tw {
		r := v - a.w[i]
		res += r * r
	}
	res = math.Sqrt(res)
	if a.lastAccelerated && res > a.lastResidual {
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

// inputBlocks returns ‖q_{j,S}‖ for every block: zero when the block's neuron does not
// depend on the perturbed inputs.
func inputBlocks(pr *program, q []float64, dS int) []float64 {
	out := make([]float64, 2*pr.P)
	for j := range out {
		out[j] = norm2(q[j*pr.d : j*pr.d+dS])
	}
	return out
}

// certificate builds a feasible point of the dual of the robust program from the
// multipliers and returns the duality gap at the primal value primal.
//
// The dual (our derivation, by the Lagrangian of the splitting): with η ∈ ℝⁿˣᵈ for
// b = Au, (ζ, π) for (g, p) = (Gu, u) and the stationarity in u,
//
//	maximize   −Σₖ φₖ*(ηₖ)
//	subject to ‖(Aᵀη + Gᵀζ + π)ⱼ‖₂ ≤ β for every block j,  (ζⱼ, πⱼ) ∈ C°,
//
// C° = {ζ ≤ 0, π off S zero, ‖π_S‖∞ ≤ ε Σₖ(−ζₖ)} the polar of the robust cone. φₖ*
// is bounded through a decomposition ηₖ = cₖxₖ + eₖ (e zero off S): φₖ(b) ≥
// ℓ((xₖ + δ)ᵀb) for every δ in the ball, so for classification, with ‖eₖ‖∞ ≤ ε|cₖ|,
// ηₖ = cₖ(xₖ + eₖ/cₖ) and −φₖ*(ηₖ) ≥ −ℓ*(cₖ); for the squared loss, with
// rₖ ≥ max(|cₖ|, ‖eₖ‖∞/ε), ηₖ is a convex combination of ±rₖ(xₖ ± eₖ/rₖ) and
// −φₖ*(ηₖ) ≥ −(½rₖ² + cₖyₖ). The ADMM multipliers are η = ργ²λ_b (with cₖ, rₖ from
// the proximal map), ζ = ρλ_g and π = ρτ_p²λ_p (in C° by the projection); clipping
// makes the decomposition and C° exact, and dividing everything by
// t = max(1, maxⱼ‖(Aᵀη + Gᵀζ + π)ⱼ‖/β) makes the point feasible (every constraint
// set is star-shaped about 0).
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
			eta := rhoB * a.lb[k*d+cc]
			v := c * x[cc]
			if cc < a.dS {
				e := eta - c*x[cc]
				if pr.loss.Classification() || eps == 0 {
					e = math.Max(-eps*r, math.Min(eps*r, e))
				}
				maxE = math.Max(maxE, math.Abs(e))
				v += e
			}
			a.zb[k*2*d+cc] = v
		}
		if !pr.loss.Classification() && eps > 0 {
			r = math.Max(r, maxE/eps)
		}
		cs[k], rs[k] = c, r
	}
	// ζ = ρλ_g ≤ 0 into t (with the signs of G), π = ρτ_p²λ_p clipped.
	for k := 0; k < n; k++ {
		sg := pr.sign[k*P : (k+1)*P]
		for j := 0; j < 2*P; j++ {
			z := math.Min(0, a.rho*a.lg[k*2*P+j])
			a.t[k*2*P+j] = sg[j%P] * z
		}
	}
	pr.mulTX(a.tOut[:2*P*d], a.t[:n*2*P], 2*P, 1, 0)
	// Mᵀη′ (P×d) into zbOut[:, :d] (computed with stride 2d, the difference columns
	// are overwritten and recomputed by the next step).
	a.mulMT(a.zbOut, a.zb, 2*d)
	worst, fEta, gZeta := 0.0, 0.0, 0.0
	for j := 0; j < 2*P; j++ {
		i, sgn := j, 1.0
		if j >= P {
			i, sgn = j-P, -1
		}
		zsum := 0.0
		for k := 0; k < n; k++ {
			zsum -= math.Min(0, a.rho*a.lg[k*2*P+j])
		}
		lim := eps * zsum
		nr := 0.0
		for c := 0; c < d; c++ {
			pi := 0.0
			if c < a.dS {
				pi = math.Max(-lim, math.Min(lim, a.rho*a.tp2*a.lp[j*d+c]))
			}
			fe := sgn * a.zbOut[i*2*d+c]
			gz := a.tOut[j*d+c]
			v := fe + gz + pi
			nr += v * v
			fEta += fe * fe
			gZeta += (gz + pi) * (gz + pi)
		}
		worst = math.Max(worst, math.Sqrt(nr))
	}
	lam := a.rho * a.tq2 * norm2(a.lq)
	cert := Certificate{Primal: primal, dualScale: math.Max(lam, math.Max(math.Sqrt(fEta), math.Sqrt(gZeta)))}
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
		y := pr.y[k]
		switch pr.loss {
		case Squared:
			dual -= 0.5*r*r + c*y
		case Hinge:
			dual -= y * c
		case Logistic:
			s := -y * c
			dual -= xlogx(s) + xlogx(1-s)
		}
	}
	cert.Dual = dual
	cert.Gap = relativeGap(primal, dual)
	return cert
}
