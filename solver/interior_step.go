package solver

import (
	"fmt"
	"math"
)

// ipmDir is a search direction: Δx = (Δu, Δτ, Δξ), Δz, Δs, and the scaled WΔz and
// W⁻¹Δs.
type ipmDir struct {
	u, tau, xi, z, s, zs, ss []float64
}

func (ip *pdip) newDir() *ipmDir {
	m := ip.cn.size()
	return &ipmDir{u: make([]float64, ip.N), tau: make([]float64, ip.nb), xi: make([]float64, len(ip.xi)),
		z: make([]float64, m), s: make([]float64, m), zs: make([]float64, m), ss: make([]float64, m)}
}

// ipmWork holds the residuals at the current point and the scratch of a step.
type ipmWork struct {
	rxu, rxt, rxx []float64 // r_x = ∇f + Gᵀz
	rz            []float64 // r_z = s + Gx − h
	curv          []float64 // ℓ” on ŷ (nil for the hinge loss)
	hess          []float64 // the curvature the Newton system takes on ŷ (nil for the hinge loss)
	gap           float64   // sᵀz
	objective     float64   // |f| at the point, for the relative gap
	t, rp, gdx    []float64 // cone scratch
	bs, nrz, cbs  []float64 // cone scratch
	nu, nt, nx    []float64 // x-space scratch
	yc            []float64 // n scratch
	xdu           []float64 // n×2P scratch
	aff, dir, cor *ipmDir
	rf            *ipmRefine
	kr            *ipmKrylov // gmres's scratch, allocated at its first use
}

// ipmRefine is the scratch of iterative refinement: the residuals as right-hand
// sides and the correction.
type ipmRefine struct {
	u, t, x, z, s, fd []float64
	d, keep           *ipmDir
}

func (ip *pdip) newWork() *ipmWork {
	m := ip.cn.size()
	w := &ipmWork{rxu: make([]float64, ip.N), rxt: make([]float64, ip.nb), rxx: make([]float64, len(ip.xi)),
		rz: make([]float64, m), t: make([]float64, m), rp: make([]float64, m), gdx: make([]float64, m),
		bs: make([]float64, m), nrz: make([]float64, m), cbs: make([]float64, m),
		nu: make([]float64, ip.N), nt: make([]float64, ip.nb), nx: make([]float64, len(ip.xi)),
		yc: make([]float64, ip.n), xdu: make([]float64, ip.n*ip.nb), aff: ip.newDir(), dir: ip.newDir(), cor: ip.newDir(),
		rf: &ipmRefine{u: make([]float64, ip.N), t: make([]float64, ip.nb), x: make([]float64, len(ip.xi)),
			z: make([]float64, m), s: make([]float64, m), fd: make([]float64, ip.n), d: ip.newDir(), keep: ip.newDir()}}
	if !ip.hinge {
		w.curv, w.hess = make([]float64, ip.n), make([]float64, ip.n)
	}
	return w
}

// lossDerivatives sets ip.phi1 = ℓ'(ŷ) and curv = ℓ”(ŷ) (squared, logistic) and
// returns ℓ(ŷ) over the live rows.
func (ip *pdip) lossDerivatives(curv []float64) float64 {
	switch ip.loss {
	case Squared:
		for k := range curv {
			curv[k] = 1
		}
	case Logistic:
		for k, p := range ip.yhat {
			sg := sigmoid(-ip.y[k] * p)
			curv[k] = sg * (1 - sg)
		}
	case Hinge:
		clear(ip.phi1)
		return 0
	}
	return ip.loss.gradient(ip.yhat, ip.y, ip.phi1, 0)
}

// evaluate computes X Uᵀ, ŷ, the loss derivatives and the residuals at the current
// point, and the residual norms of the history (cvxopt's: ‖r_z‖/max(1, ‖h‖) and
// ‖r_x‖/max(1, ‖c‖)).
func (ip *pdip) evaluate(w *ipmWork) {
	ip.mulG(w.rz, ip.u, ip.tau, ip.xi, ip.xu)
	ip.predict(ip.xu, ip.yhat)
	f := ip.offset + ip.lossDerivatives(w.curv)
	for _, t := range ip.tau {
		f += ip.beta * t
	}
	for _, x := range ip.xi {
		f += x
	}
	w.objective = math.Abs(f)
	hn := 0.0
	for i := range w.rz {
		w.rz[i] += ip.s[i] - ip.h(i)
		hn += ip.h(i) * ip.h(i)
	}
	for c := range w.rxu {
		w.rxu[c] = 0
	}
	for j := range w.rxt {
		w.rxt[j] = ip.beta
	}
	for k := range w.rxx {
		w.rxx[k] = 1
	}
	ip.addGT(w.rxu, w.rxt, w.rxx, ip.z, ip.phi1)
	w.gap = dot(ip.s, ip.z)
	cn := math.Sqrt(float64(ip.nb)*ip.beta*ip.beta + float64(len(ip.xi)))
	ip.primalRes = norm2(w.rz) / math.Max(1, math.Sqrt(hn))
	ip.dualRes = math.Sqrt(dot(w.rxu, w.rxu)+dot(w.rxt, w.rxt)+dot(w.rxx, w.rxx)) / math.Max(1, cn)
}

// h returns entry i of h: −1 on the hinge margin rows, 0 elsewhere.
func (ip *pdip) h(i int) float64 {
	if ip.hinge && i >= ip.mPat+ip.n && i < ip.mPat+2*ip.n {
		return -1
	}
	return 0
}

// solveKKT solves the Newton system for the right-hand sides (bx, bz, bs) at the
// last factorization (see InteriorPoint):
//
//	t = λ⋄bs (λ∘t = bs),  r' = W⁻¹(W⁻¹bz − t),
//	H Δx = bx + Gᵀr',  Δz = W⁻²GΔx − r',  W⁻¹Δs = t − WΔz.
func (ip *pdip) solveKKT(w *ipmWork, dir *ipmDir, bxu, bxt, bxx, bz, bs []float64) {
	ip.solveOnce(w, dir, bxu, bxt, bxx, bz, bs)
	ip.refine(w, dir, bxu, bxt, bxx, bz, bs)
}

// refine improves the solution dir of the Newton system by ipmRefinements steps of
// iterative refinement: the residual of the equations is solved for a correction with
// the same factorization.
func (ip *pdip) refine(w *ipmWork, dir *ipmDir, bxu, bxt, bxx, bz, bs []float64) {
	for range ipmRefinements {
		ip.kktResidual(w, dir, bxu, bxt, bxx, bz, bs)
		ip.addCorrection(w, dir)
	}
}

// addCorrection adds to dir the solution of the Newton system for the residual that
// kktResidual left in w.rf.
func (ip *pdip) addCorrection(w *ipmWork, dir *ipmDir) {
	rf := w.rf
	ip.solveOnce(w, rf.d, rf.u, rf.t, rf.x, rf.z, rf.s)
	for _, p := range [][2][]float64{{dir.u, rf.d.u}, {dir.tau, rf.d.tau}, {dir.xi, rf.d.xi}, {dir.z, rf.d.z},
		{dir.s, rf.d.s}, {dir.zs, rf.d.zs}, {dir.ss, rf.d.ss}} {
		for i, v := range p[1] {
			p[0][i] += v
		}
	}
}

// refineChecked refines dir by at most steps steps of iterative refinement, stopping
// once the residual of the Newton system is at most ipmRefinedResidual of its
// right-hand side, and returns the relative residual of the direction it leaves. A
// correction that increases the residual (refinement diverges once the system's
// condition exceeds the inverse of the machine precision) is undone, and refinement
// stops there.
func (ip *pdip) refineChecked(w *ipmWork, dir *ipmDir, steps int, bxu, bxt, bxx, bz, bs []float64) float64 {
	rf := w.rf
	bn := math.Sqrt(dot(bxu, bxu) + dot(bxt, bxt) + dot(bxx, bxx) + dot(bz, bz) + dot(bs, bs))
	last := math.Inf(1)
	for i := 0; ; i++ {
		ip.kktResidual(w, dir, bxu, bxt, bxx, bz, bs)
		rel := math.Sqrt(dot(rf.u, rf.u)+dot(rf.t, rf.t)+dot(rf.x, rf.x)+dot(rf.z, rf.z)+dot(rf.s, rf.s)) / bn
		if i > 0 && !(rel < last) {
			rf.keep.copyTo(dir)
			return last
		}
		if !(rel > ipmRefinedResidual) || i == steps || math.IsNaN(rel) {
			return rel
		}
		dir.copyTo(rf.keep)
		last = rel
		ip.addCorrection(w, dir)
	}
}

// copyTo copies the direction d to e.
func (d *ipmDir) copyTo(e *ipmDir) {
	for _, p := range [][2][]float64{{e.u, d.u}, {e.tau, d.tau}, {e.xi, d.xi}, {e.z, d.z}, {e.s, d.s}, {e.zs, d.zs}, {e.ss, d.ss}} {
		copy(p[0], p[1])
	}
}

// kktResidual sets w.rf's right-hand sides to the residual of the Newton system's
// equations (see solveKKT) at dir.
func (ip *pdip) kktResidual(w *ipmWork, dir *ipmDir, bxu, bxt, bxx, bz, bs []float64) {
	rf, cn := w.rf, ip.cn
	clear(rf.u)
	clear(rf.t)
	clear(rf.x)
	ip.mulG(rf.z, dir.u, dir.tau, dir.xi, w.xdu)
	var g []float64
	if !ip.hinge {
		ip.predict(w.xdu, rf.fd)
		for k, c := range w.hess {
			rf.fd[k] *= c
		}
		g = rf.fd
	}
	ip.addGT(rf.u, rf.t, rf.x, dir.z, g)
	for _, p := range [][2][]float64{{rf.u, bxu}, {rf.t, bxt}, {rf.x, bxx}} {
		for i, b := range p[1] {
			p[0][i] = b - p[0][i]
		}
	}
	for i, b := range bz {
		rf.z[i] = b - rf.z[i] - dir.s[i]
	}
	cn.scaleVec(rf.s, dir.z, false)
	cn.scaleVec(w.gdx, dir.s, true)
	for i := range rf.s {
		w.gdx[i] += rf.s[i]
	}
	cn.prod(rf.s, cn.lam, w.gdx)
	for i, b := range bs {
		rf.s[i] = b - rf.s[i]
	}
}

// solveOnce is solveKKT without refinement.
func (ip *pdip) solveOnce(w *ipmWork, dir *ipmDir, bxu, bxt, bxx, bz, bs []float64) {
	cn := ip.cn
	cn.div(w.t, bs)
	cn.scaleVec(w.rp, bz, true)
	for i := range w.rp {
		w.rp[i] -= w.t[i]
	}
	cn.scaleVec(w.rp, w.rp, true)
	copy(dir.u, bxu)
	copy(dir.tau, bxt)
	copy(dir.xi, bxx)
	ip.addGT(dir.u, dir.tau, dir.xi, w.rp, nil)
	ip.hsolve(dir.u, dir.tau, dir.xi, w.xdu)
	ip.mulG(w.gdx, dir.u, dir.tau, dir.xi, w.xdu)
	cn.scaleVec(w.gdx, w.gdx, true)
	cn.scaleVec(w.gdx, w.gdx, true)
	for i := range dir.z {
		dir.z[i] = w.gdx[i] - w.rp[i]
	}
	cn.scaleVec(dir.zs, dir.z, false)
	for i := range dir.ss {
		dir.ss[i] = w.t[i] - dir.zs[i]
	}
	cn.scaleVec(dir.s, dir.ss, false)
}

// hessian sets w.hess, the loss curvature on ŷ that the Newton system takes, from
// w.curv = ℓ”(ŷ): the same, except for the logistic loss once a step of its line
// search has been cut short (ip.floored), when it is max(ℓ”(ŷₖ), ipmCurvFloor·μ)
// with μ = sᵀz/degree. A point classified with a margin m has ℓ” ≈ e^−m (1e-100 at
// m = 230), so along directions that move only such points ∇²f vanishes; there the
// gradient of the penalty β‖uⱼ‖ (and of the cones' multipliers) is not balanced by
// any curvature, the Newton direction moves the points by 1e6–1e9 (toward the wrong
// side, where ℓ' grows like e^t), and backtrack must cut the whole step to 1e-8…1e-3
// to keep ℓ' near its model: the iteration crawls. The floor bounds those moves by
// about the residual over κμ; it vanishes with μ, so the fixed point is unchanged
// and the last iterations are Newton's (a modified Newton method whose matrix tends to
// the true one; the right-hand sides, and so the residuals, are exact). It is
// switched on only by a cut of more than ipmFloorCut, so that the programs whose
// steps backtrack leaves alone keep their iterates. Measured on
// golden/regressions/relu_logistic_n20_d3_P8_b1e-04 (TestLiveCvxopt GOCVX_SEED=46):
// 64 Newton steps to 1e-8 on either route, where the n×n route stopped at the
// iteration limit (gap 0.34) and the dense one took 132; on the logistic programs of
// TestLiveCvxopt's generator at β = 1e-4 and 1e-3 for seeds 1–700 (1 400 programs,
// each on both routes), the solves that ended above a gap of 1e-6 went from 4 (the
// n×n route at the iteration limit on seeds 7, 46 and 280, gaps 0.34–0.75; the dense
// one on seed 594, gap 1e-3) to none, the Newton steps from 44 784 / 44 853 (dense /
// n×n) to 43 737 / 43 901, and the solves of more than 80 steps from 14 / 13 to 2 / 4
// (at most 131).
func (ip *pdip) hessian(w *ipmWork) {
	if w.hess == nil {
		return
	}
	copy(w.hess, w.curv)
	if !ip.floored {
		return
	}
	floor := ipmCurvFloor * w.gap / ip.cn.degree()
	for k, c := range w.hess {
		w.hess[k] = math.Max(c, floor)
	}
}

// initialize sets the starting point of cvxopt's coneqp: with W = I and ∇²f, ∇f at
// x = 0, it solves ∇²f x + Gᵀz = −∇f, Gx − z = h, sets s = −z and shifts s and z into
// the interior of K along e when they are not in it. It returns errInterrupted when a
// poll said stop (the point is then left as it was), and a woodburyFailure.
func (ip *pdip) initialize() error {
	w := ip.work
	cn := ip.cn
	for i := range cn.w {
		cn.w[i] = 1
	}
	for j := 0; j < cn.nq; j++ {
		cn.beta[j] = 1
		v := cn.v[j*cn.q : (j+1)*cn.q]
		clear(v)
		v[0] = 1
	}
	clear(cn.lam)
	cn.addIdentity(cn.lam, 1)
	clear(ip.yhat)
	ip.lossDerivatives(w.curv)
	ip.hessian(w)
	if err := ip.factor(w.hess); err != nil {
		return err
	}
	clear(w.nu)
	for j := range w.nt {
		w.nt[j] = -ip.beta
	}
	for k := range w.nx {
		w.nx[k] = -1
	}
	ip.addGT(w.nu, w.nt, w.nx, make([]float64, cn.size()), ip.phi1) // Fᵀℓ'(0) in u
	for c := range w.nu {
		w.nu[c] = -w.nu[c]
	}
	for i := range w.bs {
		w.bs[i] = 0
		w.nrz[i] = ip.h(i)
	}
	d := w.dir
	ip.solveKKT(w, d, w.nu, w.nt, w.nx, w.nrz, w.bs)
	if ip.halted.Load() {
		return errInterrupted
	}
	copy(ip.u, d.u)
	copy(ip.tau, d.tau)
	copy(ip.xi, d.xi)
	copy(ip.s, d.s)
	copy(ip.z, d.z)
	for _, v := range [][]float64{ip.s, ip.z} {
		if m := cn.minEig(v); m <= 1e-8*math.Max(1, norm2(v)) {
			cn.addIdentity(v, 1-m)
		}
	}
	return nil
}

// step takes one predictor–corrector iteration from the point last evaluated and
// returns its step length. The point changes only at its end: a step that a poll
// stopped (errInterrupted) or that the Woodbury route could not take
// (woodburyFailure) leaves it as it was.
func (ip *pdip) step() (float64, error) {
	w := ip.work
	cn := ip.cn
	if err := cn.scale(ip.s, ip.z); err != nil {
		return 0, err
	}
	ip.hessian(w)
	if err := ip.factor(w.hess); err != nil {
		return 0, err
	}
	for c := range w.nu {
		w.nu[c] = -w.rxu[c]
	}
	for j := range w.nt {
		w.nt[j] = -w.rxt[j]
	}
	for k := range w.nx {
		w.nx[k] = -w.rxx[k]
	}
	for i := range w.nrz {
		w.nrz[i] = -w.rz[i]
	}
	// Affine direction.
	cn.prod(w.bs, cn.lam, cn.lam)
	for i := range w.bs {
		w.bs[i] = -w.bs[i]
	}
	a := w.aff
	ip.solveOnce(w, a, w.nu, w.nt, w.nx, w.nrz, w.bs)
	if ip.halted.Load() {
		return 0, errInterrupted
	}
	alpha := math.Min(1, math.Min(cn.maxStep(cn.lam, a.ss), cn.maxStep(cn.lam, a.zs)))
	deg := cn.degree()
	mu := w.gap / deg
	muAff := 0.0
	for i := range cn.lam {
		muAff += (cn.lam[i] + alpha*a.ss[i]) * (cn.lam[i] + alpha*a.zs[i])
	}
	sigma := math.Pow(math.Min(1, math.Max(0, muAff/w.gap)), 3)
	// Combined direction: −λ∘λ − (W⁻¹Δsₐ)∘(WΔzₐ) + σμe.
	cn.prod(w.t, a.ss, a.zs)
	cn.prod(w.bs, cn.lam, cn.lam)
	for i := range w.bs {
		w.bs[i] = -w.bs[i] - w.t[i]
	}
	cn.addIdentity(w.bs, sigma*mu)
	d := w.dir
	ip.solveOnce(w, d, w.nu, w.nt, w.nx, w.nrz, w.bs)
	alpha = math.Min(1, ipmStep*math.Min(cn.maxStep(cn.lam, d.ss), cn.maxStep(cn.lam, d.zs)))
	for range ip.correctors {
		next, ok := ip.centrality(w, d, alpha, sigma*mu)
		if !ok {
			break
		}
		w.dir, w.cor = w.cor, w.dir
		d = w.dir
		alpha = next
	}
	if ip.halted.Load() {
		return 0, errInterrupted
	}
	// Only the direction taken is refined, and on the dense route only once the gap
	// is small (the predictor, the trial correctors and the early iterations need no
	// more accuracy than one solve gives; the solves lose accuracy as the scaling W
	// grows extreme): by up to ipmDenseRefinements steps, each kept only when it
	// lowers the residual (measured on the hinge program of
	// golden/small_beta/relu_hinge_n35_d3_P7_b1e-04.json: at sᵀz = 7e-8|f| one step
	// left a relative residual of 9e-4, three 2e-9; at 2e-9|f| a step raises it,
	// 11 → 120, and is undone). On the Woodbury route it is refined and checked
	// every iteration; a direction it cannot solve accurately moves the solve to the
	// dense route.
	switch {
	case ip.route == FactorWoodbury:
		rel := ip.refineChecked(w, d, ipmWoodburyRefinements, w.nu, w.nt, w.nx, w.nrz, w.bs)
		if ip.halted.Load() {
			return 0, errInterrupted
		}
		if !(rel <= ipmWoodburyResidual) {
			return 0, woodburyFailure{fmt.Sprintf("a direction's relative residual was %.1g after %d refinements", rel, ipmWoodburyRefinements)}
		}
		alpha = math.Min(1, ipmStep*math.Min(cn.maxStep(cn.lam, d.ss), cn.maxStep(cn.lam, d.zs)))
	case w.gap <= ipmRefineGap*w.objective:
		if rel := ip.refineChecked(w, d, ipmDenseRefinements, w.nu, w.nt, w.nx, w.nrz, w.bs); rel > ipmRefinedResidual {
			ip.gmres(d, w.nu, w.nt, w.nx, w.nrz, w.bs)
		}
		if ip.halted.Load() {
			return 0, errInterrupted
		}
		alpha = math.Min(1, ipmStep*math.Min(cn.maxStep(cn.lam, d.ss), cn.maxStep(cn.lam, d.zs)))
	}
	if ip.loss == Logistic {
		cone := alpha
		alpha = ip.backtrack(w, d, alpha)
		if alpha < cone/ipmFloorCut {
			ip.floored = true // see hessian
		}
	}
	// The step is 0.99 of the way to the boundary in the scaled variables; near the
	// end, rounding in s + αΔs can still leave a second-order cone, so it shrinks
	// until the new s and z are interior.
	ts, tz := w.rf.s, w.rf.z
	for range 60 {
		for i := range ts {
			ts[i] = ip.s[i] + alpha*d.s[i]
			tz[i] = ip.z[i] + alpha*d.z[i]
		}
		if cn.minEig(ts) > 0 && cn.minEig(tz) > 0 {
			break
		}
		alpha /= 2
	}
	copy(ip.s, ts)
	copy(ip.z, tz)
	for c := range ip.u {
		ip.u[c] += alpha * d.u[c]
	}
	for j := range ip.tau {
		ip.tau[j] += alpha * d.tau[j]
	}
	for k := range ip.xi {
		ip.xi[k] += alpha * d.xi[k]
	}
	return alpha, nil
}

// backtrack shortens the step α until the change of the logistic loss's gradient
// along the step agrees with the linear model the Newton system used:
//
//	‖ℓ'(ŷ + αΔŷ) − ℓ'(ŷ) − αℓ”(ŷ)Δŷ‖ ≤ ½‖αℓ”(ŷ)Δŷ‖ (up to rounding),
//
// and returns it. For the squared and hinge losses the residuals shrink exactly by
// 1 − α; for the logistic loss a full step along directions where ℓ” is tiny (points
// classified with a large margin) can push predictions far past the region where the
// model holds (ℓ” changes by at most the factor e^|t| when ŷₖ moves by t, so the test
// passes for short steps and, near the optimum where Δŷ → 0, for the full one).
func (ip *pdip) backtrack(w *ipmWork, d *ipmDir, alpha float64) float64 {
	dy, g := w.rf.fd, w.yc
	ip.mulXT(w.xdu, d.u)
	ip.predict(w.xdu, dy)
	for range 60 {
		model, miss := 0.0, 0.0
		for k, p := range ip.yhat {
			m := alpha * w.curv[k] * dy[k]
			t := -ip.y[k] * (p + alpha*dy[k])
			g[k] = -ip.y[k]*sigmoid(t) - ip.phi1[k] - m
			model += m * m
			miss += g[k] * g[k]
		}
		if miss <= model/4+1e-24*float64(len(g)) { // rounding: ℓ' ∈ [−1, 1]
			break
		}
		alpha /= 2
	}
	return alpha
}

// centrality computes a centrality corrector of d (Gondzio 1996): at the enlarged
// step α̃ = min(1, ipmReach·α) the products (λ + α̃W⁻¹Δs)∘(λ + α̃WΔz) of the linear
// rows outside [σμ/10, 10σμ] are moved into it (the second-order cones are left as
// they are), the system is solved again with the right-hand side so corrected (into
// w.cor), and the corrected direction is taken when its step is at least 1 % longer
// (w.bs then becomes its right-hand side); it reports the step and whether it was
// taken.
func (ip *pdip) centrality(w *ipmWork, d *ipmDir, alpha, target float64) (float64, bool) {
	cn := ip.cn
	at := math.Min(1, ipmReach*alpha)
	lo, hi := target/10, 10*target
	bs := w.cbs
	copy(bs, w.bs)
	changed := false
	for i := 0; i < cn.ml; i++ {
		v := (cn.lam[i] + at*d.ss[i]) * (cn.lam[i] + at*d.zs[i])
		switch {
		case v < lo:
			bs[i] += lo - v
			changed = true
		case v > hi:
			bs[i] += math.Max(hi-v, -hi)
			changed = true
		}
	}
	if !changed {
		return alpha, false
	}
	c := w.cor
	ip.solveOnce(w, c, w.nu, w.nt, w.nx, w.nrz, bs)
	next := math.Min(1, ipmStep*math.Min(cn.maxStep(cn.lam, c.ss), cn.maxStep(cn.lam, c.zs)))
	if next < 1.01*alpha {
		return alpha, false
	}
	copy(w.bs, bs)
	return next, true
}
