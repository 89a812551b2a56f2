package solver

import (
	"context"
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
	gap           float64   // sᵀz
	t, rp, gdx    []float64 // cone scratch
	bs, nrz       []float64 // cone scratch
	nu, nt, nx    []float64 // x-space scratch
	yc            []float64 // n scratch
	xdu           []float64 // n×2P scratch
	aff, dir      *ipmDir
	ls            *ipmSearch // logistic loss
}

func (ip *pdip) newWork() *ipmWork {
	m := ip.cn.size()
	w := &ipmWork{rxu: make([]float64, ip.N), rxt: make([]float64, ip.nb), rxx: make([]float64, len(ip.xi)),
		rz: make([]float64, m), t: make([]float64, m), rp: make([]float64, m), gdx: make([]float64, m),
		bs: make([]float64, m), nrz: make([]float64, m),
		nu: make([]float64, ip.N), nt: make([]float64, ip.nb), nx: make([]float64, len(ip.xi)),
		yc: make([]float64, ip.n), xdu: make([]float64, ip.n*ip.nb), aff: ip.newDir(), dir: ip.newDir()}
	if !ip.hinge {
		w.curv = make([]float64, ip.n)
	}
	if ip.loss == Logistic {
		w.ls = ip.newSearch()
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
	ip.lossDerivatives(w.curv)
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

// initialize sets the starting point of cvxopt's coneqp: with W = I and ∇²f, ∇f at
// x = 0, it solves ∇²f x + Gᵀz = −∇f, Gx − z = h, sets s = −z and shifts s and z into
// the interior of K along e when they are not in it.
func (ip *pdip) initialize(ctx context.Context) error {
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
	if err := ip.factor(ctx, w.curv); err != nil {
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
// returns its step length.
func (ip *pdip) step(ctx context.Context) (float64, error) {
	w := ip.work
	cn := ip.cn
	if err := cn.scale(ip.s, ip.z); err != nil {
		return 0, err
	}
	if err := ip.factor(ctx, w.curv); err != nil {
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
	ip.solveKKT(w, a, w.nu, w.nt, w.nx, w.nrz, w.bs)
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
	ip.solveKKT(w, d, w.nu, w.nt, w.nx, w.nrz, w.bs)
	alpha = math.Min(1, ipmStep*math.Min(cn.maxStep(cn.lam, d.ss), cn.maxStep(cn.lam, d.zs)))
	if ip.loss == Logistic {
		full := alpha
		if alpha = ip.backtrack(w, d, alpha, sigma*mu); alpha < 1e-3*full {
			// The corrector spoiled descent: the plain Newton direction toward σμ
			// is one for the merit.
			cn.prod(w.bs, cn.lam, cn.lam)
			for i := range w.bs {
				w.bs[i] = -w.bs[i]
			}
			cn.addIdentity(w.bs, sigma*mu)
			ip.solveKKT(w, d, w.nu, w.nt, w.nx, w.nrz, w.bs)
			alpha = math.Min(1, ipmStep*math.Min(cn.maxStep(cn.lam, d.ss), cn.maxStep(cn.lam, d.zs)))
			alpha = ip.backtrack(w, d, alpha, sigma*mu)
		}
	}
	for c := range ip.u {
		ip.u[c] += alpha * d.u[c]
	}
	for j := range ip.tau {
		ip.tau[j] += alpha * d.tau[j]
	}
	for k := range ip.xi {
		ip.xi[k] += alpha * d.xi[k]
	}
	for i := range ip.s {
		ip.s[i] += alpha * d.s[i]
		ip.z[i] += alpha * d.z[i]
	}
	return alpha, nil
}

// backtrack shortens the step α along d until the merit
//
//	M(α) = ‖r_x(α)‖² + ‖r_z(α)‖² + ‖(λ + αW⁻¹Δs)∘(λ + αWΔz) − σμe‖²
//
// (the residuals of the equations the Newton step linearizes, at the current
// scaling) decreases by the factor 1 − α/100, and returns it. Only the logistic loss
// needs it: there ∇f is not linear, and a full step along directions where ℓ” is
// tiny (points classified with a large margin) can push the predictions far past the
// region where the quadratic model holds; for the squared and hinge losses r_x and
// r_z shrink exactly by 1 − α.
func (ip *pdip) backtrack(w *ipmWork, d *ipmDir, alpha, target float64) float64 {
	ls := w.ls
	// Gᵀ(z + αΔz) − Gᵀz and Δŷ are linear in α.
	clear(ls.gu)
	clear(ls.gt)
	clear(ls.gx)
	ip.addGT(ls.gu, ls.gt, ls.gx, d.z, nil)
	ip.predict(w.xdu, ls.dy) // xdu = X ΔUᵀ of the last solve
	m0 := ip.merit(w, d, 0, target)
	for range 40 {
		if ip.merit(w, d, alpha, target) <= (1-alpha/100)*m0 {
			break
		}
		alpha /= 2
	}
	return alpha
}

// ipmSearch is the scratch of backtrack.
type ipmSearch struct {
	gu, gt, gx []float64 // GᵀΔz
	fu, ft, fx []float64 // Fᵀ(ℓ'(ŷ + αΔŷ) − ℓ'(ŷ)) in u
	dy, y, g   []float64 // Δŷ, ŷ + αΔŷ, ℓ'(ŷ + αΔŷ) − ℓ'(ŷ)
	s, z, c    []float64 // λ + αW⁻¹Δs, λ + αWΔz, their product
	zero       []float64 // a zero cone vector
}

func (ip *pdip) newSearch() *ipmSearch {
	m, n := ip.cn.size(), ip.n
	return &ipmSearch{gu: make([]float64, ip.N), gt: make([]float64, ip.nb), gx: make([]float64, len(ip.xi)),
		fu: make([]float64, ip.N), ft: make([]float64, ip.nb), fx: make([]float64, len(ip.xi)),
		dy: make([]float64, n), y: make([]float64, n), g: make([]float64, n),
		s: make([]float64, m), z: make([]float64, m), c: make([]float64, m), zero: make([]float64, m)}
}

// merit returns M(α) of backtrack.
func (ip *pdip) merit(w *ipmWork, d *ipmDir, a, target float64) float64 {
	ls, cn := w.ls, ip.cn
	for k := range ls.y {
		ls.y[k] = ip.yhat[k] + a*ls.dy[k]
	}
	ip.loss.gradient(ls.y, ip.y, ls.g, 0)
	for k := range ls.g {
		ls.g[k] -= ip.phi1[k]
	}
	clear(ls.fu)
	ip.addGT(ls.fu, ls.ft, ls.fx, ls.zero, ls.g)
	m := 0.0
	for c := range ls.fu {
		r := w.rxu[c] + a*ls.gu[c] + ls.fu[c]
		m += r * r
	}
	for j := range ls.gt {
		r := w.rxt[j] + a*ls.gt[j]
		m += r * r
	}
	m += (1 - a) * (1 - a) * dot(w.rz, w.rz)
	for i := range ls.s {
		ls.s[i] = cn.lam[i] + a*d.ss[i]
		ls.z[i] = cn.lam[i] + a*d.zs[i]
	}
	cn.prod(ls.c, ls.s, ls.z)
	cn.addIdentity(ls.c, -target)
	return m + dot(ls.c, ls.c)
}
