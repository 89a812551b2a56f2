package solver

import (
	"math"
)

// initRHS computes the constraint part of the next u-step right-hand side,
// Gᵀ(s − ν) + σ²Fᵀ(z − μ), into the first 2P rows of tOut (the terms that exist in the
// chosen form).
func (a *admm) initRHS() {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	if !a.slack && !a.split {
		clear(a.tOut[:2*P*d])
		return
	}
	if !a.slack {
		// σ²Fᵀ(z − μ): the w-half is the negated v-half, one product of P columns.
		t := a.t[:n*P]
		for k := 0; k < n; k++ {
			q := a.sig2 * (a.z[k] - a.mu[k])
			row := t[k*P : (k+1)*P]
			for i, m := range pr.mask[k*P : (k+1)*P] {
				row[i] = m * q
			}
		}
		pr.mulTX(a.tOut[:P*d], t, P, 1, 0)
		negate(a.tOut[P*d:2*P*d], a.tOut[:P*d])
		return
	}
	t := a.t[:n*2*P]
	for k := 0; k < n; k++ {
		row := t[k*2*P : (k+1)*2*P]
		q := 0.0
		if a.split {
			q = a.sig2 * (a.z[k] - a.mu[k])
		}
		m := pr.mask[k*P : (k+1)*P]
		sg := pr.sign[k*P : (k+1)*P]
		for i := 0; i < P; i++ {
			row[i] = m[i] * q
			row[P+i] = -m[i] * q
			if a.slack {
				sr := a.s[k*2*P : (k+1)*2*P]
				nr := a.nu[k*2*P : (k+1)*2*P]
				row[i] += sg[i] * (sr[i] - nr[i])
				row[P+i] += sg[i] * (sr[P+i] - nr[P+i])
			}
		}
	}
	pr.mulTX(a.tOut[:2*P*d], t, 2*P, 1, 0)
}

// iterate performs one ADMM iteration, leaving X vᵀ in a.ev.xu and the residuals in
// a.primal, a.dual (with the scales a.normAU, a.normZ). It reports false when the
// driver's interruption stopped the v-step's projections: then only v (whose previous
// value is in vOld) and X vᵀ have changed.
func (a *admm) iterate() bool {
	a.uStep()
	copy(a.vOld, a.v)
	copy(a.zOld, a.z)
	for i := range a.arg {
		a.arg[i] = a.alfa*a.u[i] + (1-a.alfa)*a.v[i] + a.lam[i]
	}
	a.predictU()
	primal, normAU, normZ, ok := a.vStep()
	if !ok {
		return false
	}
	if a.slack {
		p, nu, nz := a.sStep()
		primal, normAU, normZ = primal+p, normAU+nu, normZ+nz
		a.pr.mulXT(a.xv, a.v, 2*a.pr.P)
	}
	if a.split {
		p, nu, nz := a.zStep()
		primal, normAU, normZ = primal+p, normAU+nu, normZ+nz
	}
	a.primal, a.normAU, a.normZ = math.Sqrt(primal), math.Sqrt(normAU), math.Sqrt(normZ)
	dual, ok := a.nextRHS()
	if a.dualFresh = ok; ok {
		a.dual = a.rho * math.Sqrt(dual)
	}
	return true
}

// uStep solves (τ²I [+ GᵀG] + cFᵀF) u = τ²(v − λ) + [Gᵀ(s − ν)] + [Fᵀy/ρ | σ²Fᵀ(z − μ)],
// the constraint part of the right-hand side being in tOut.
func (a *admm) uStep() {
	for i := range a.rhs {
		a.rhs[i] = a.tau2*(a.v[i]-a.lam[i]) + a.tOut[i]
	}
	if !a.split {
		for i := range a.rhs {
			a.rhs[i] += a.fty[i] / a.rho
		}
	}
	a.ls.solve(a.rhs, a.u)
}

// predictU computes what the s- and z-steps need of u: Fu (split losses) and, in the
// slack form, X uᵀ (for Gu).
func (a *admm) predictU() {
	pr := a.pr
	n, P := pr.n, pr.P
	switch {
	case a.slack:
		pr.mulXT(a.xa, a.u, 2*P) // X uᵀ: Gu and Fu
		for k := 0; k < n; k++ {
			xr := a.xa[k*2*P : (k+1)*2*P]
			m := pr.mask[k*P : (k+1)*P]
			fu := 0.0
			for i := 0; i < P; i++ {
				fu += m[i] * (xr[i] - xr[P+i])
			}
			a.fu[k] = fu
		}
	case a.split:
		a.formFu()
	}
}

// formFu sets a.fu = Fu = Σᵢ DᵢX(uᵢ − u_{P+i}): from the u-step's solve when its
// route gives it (see linsys.predictions), else with one product of P columns, in
// the scratch of the u-step's right-hand side and of the v-step's X argᵀ (both
// rewritten before their next use).
func (a *admm) formFu() {
	if a.ls.predictions(a.fu) {
		return
	}
	pr := a.pr
	n, P := pr.n, pr.P
	half := P * pr.d
	du := a.rhs[:half]
	for i := range du {
		du[i] = a.u[i] - a.u[half+i]
	}
	xd := a.xa[:n*P]
	pr.mulXT(xd, du, P)
	for k := 0; k < n; k++ {
		a.fu[k] = dot(pr.mask[k*P:(k+1)*P], xd[k*P:(k+1)*P])
	}
}

// vStep is the group soft threshold of the arguments û + λ (of their cone projection
// in the cone form), then λ ← û + λ − v. It returns the squared norms of u − v, u
// and v, weighted by τ², for the residuals, and false when the cone step was
// stopped (λ is then unchanged).
func (a *admm) vStep() (primal, normAU, normZ float64, ok bool) {
	pr := a.pr
	d := pr.d
	kappa := pr.beta / (a.rho * a.tau2)
	if a.slack {
		for j := 0; j < 2*pr.P; j++ {
			shrinkBlock(a.arg[j*d:(j+1)*d], a.v[j*d:(j+1)*d], kappa)
		}
	} else if !a.coneStep(kappa) {
		return 0, 0, 0, false
	}
	for i := range a.v {
		a.lam[i] = a.arg[i] - a.v[i]
		r := a.u[i] - a.v[i]
		primal += a.tau2 * r * r
		normAU += a.tau2 * a.u[i] * a.u[i]
		normZ += a.tau2 * a.v[i] * a.v[i]
	}
	return primal, normAU, normZ, true
}

// sStep (slack form): s ← (Ĝu + ν)₊, ν ← ν + Ĝu − s, with Ĝu = αGu + (1 − α)s. It
// returns the squared norms of Gu − s, Gu and s.
func (a *admm) sStep() (primal, normAU, normZ float64) {
	pr := a.pr
	n, P := pr.n, pr.P
	alfa := a.alfa
	copy(a.sOld, a.s)
	for k := 0; k < n; k++ {
		xr := a.xa[k*2*P : (k+1)*2*P]
		sg := pr.sign[k*P : (k+1)*P]
		sr := a.s[k*2*P : (k+1)*2*P]
		nr := a.nu[k*2*P : (k+1)*2*P]
		for j := 0; j < 2*P; j++ {
			gu := sg[j%P] * xr[j]
			w := alfa*gu + (1-alfa)*sr[j] + nr[j]
			sn := math.Max(w, 0)
			sr[j] = sn
			nr[j] = w - sn
			r := gu - sn
			primal += r * r
			normAU += gu * gu
			normZ += sn * sn
		}
	}
	return primal, normAU, normZ
}

// zStep (split losses): z ← prox_{ℓ/(ρσ²)}(F̂u + μ), μ ← μ + F̂u − z, with
// F̂u = αFu + (1 − α)z, and η = ρσ²μ. It returns the squared norms of Fu − z, Fu and
// z, weighted by σ².
func (a *admm) zStep() (primal, normAU, normZ float64) {
	pr := a.pr
	arg := a.eta // scratch
	for k := range arg {
		arg[k] = a.alfa*a.fu[k] + (1-a.alfa)*a.zOld[k] + a.mu[k]
	}
	pr.loss.prox(arg, pr.y, a.rho*a.sig2, a.z)
	for k := range arg {
		a.mu[k] = arg[k] - a.z[k]
		r := a.fu[k] - a.z[k]
		primal += a.sig2 * r * r
		normAU += a.sig2 * a.fu[k] * a.fu[k]
		normZ += a.sig2 * a.z[k] * a.z[k]
		a.eta[k] = a.rho * a.sig2 * a.mu[k]
	}
	return primal, normAU, normZ
}

// nextRHS computes, with one product Tᵀ X, the next right-hand side's constraint part
// Gᵀ(s − ν) + σ²Fᵀ(z − μ) (into the first 2P·d entries of tOut) and the dual
// residual's Gᵀ Δs + σ²Fᵀ Δz (the next 2P·d), and returns the squared dual residual
// ‖τ²Δv + GᵀΔs + σ²FᵀΔz‖² (without the factor ρ²), ok true.
//
// The split cone form (hinge and logistic losses) computes the dual residual only
// when a.dualDue (the first iteration and the certificate checks, where balancing
// and the stopping test read it) and otherwise returns ok false: its σ²FᵀΔz is a
// product of P columns of its own, which on MNIST 2 vs 8 at 10×10 (P = 64) cost
// about a tenth of an iteration. The history then has the dual residual at those
// iterations only (NaN between them).
func (a *admm) nextRHS() (float64, bool) {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	blk := 2 * P * d
	switch {
	case a.split && !a.slack && !a.dualDue:
		// The right-hand side alone: one product of P columns.
		t := a.t[:n*P]
		for k := 0; k < n; k++ {
			row := t[k*P : (k+1)*P]
			q := a.sig2 * (a.z[k] - a.mu[k])
			for i, m := range pr.mask[k*P : (k+1)*P] {
				row[i] = m * q
			}
		}
		pd := P * d
		pr.mulTX(a.tOut[:pd], t, P, 1, 0)
		negate(a.tOut[pd:2*pd], a.tOut[:pd])
		return 0, false
	case a.split && !a.slack:
		// Without slacks both parts are ±Fᵀ of a vector: one product of 2P columns
		// (the v-halves of σ²Fᵀ(z − μ) and σ²FᵀΔz), the w-halves negated.
		t := a.t[:n*2*P]
		for k := 0; k < n; k++ {
			row := t[k*2*P : (k+1)*2*P]
			q := a.sig2 * (a.z[k] - a.mu[k])
			dq := a.sig2 * (a.z[k] - a.zOld[k])
			for i, m := range pr.mask[k*P : (k+1)*P] {
				row[i] = m * q
				row[P+i] = m * dq
			}
		}
		pd := P * d
		pr.mulTX(a.tOut[:2*pd], t, 2*P, 1, 0)
		copy(a.tOut[2*pd:3*pd], a.tOut[pd:2*pd])
		negate(a.tOut[3*pd:4*pd], a.tOut[2*pd:3*pd])
		negate(a.tOut[pd:2*pd], a.tOut[:pd])
	case a.slack:
		a.slackProducts()
	default:
		dual := 0.0
		for i := 0; i < blk; i++ {
			r := a.tau2 * (a.v[i] - a.vOld[i])
			dual += r * r
		}
		return dual, true
	}
	dual := 0.0
	for i := 0; i < blk; i++ {
		r := a.tau2*(a.v[i]-a.vOld[i]) + a.tOut[blk+i]
		dual += r * r
	}
	return dual, true
}

// imageSize is the length of the linear image the iterate carries through Anderson
// acceleration (see image), zero for none.
func (a *admm) imageSize() int {
	if a.noImages || !a.split || a.slack {
		return 0
	}
	return a.pr.P * a.pr.d
}

// image writes the linear image of the current iterate that its last step computed
// (split cone form): the v-half of σ²Fᵀ(z − μ), the u-step's right-hand side (the
// w-half is its negative). An extrapolated iterate gets its image from those of the
// steps (see anderson) instead of the product of P columns that initRHS would spend,
// on nearly every iteration.
func (a *admm) image(l []float64) {
	copy(l, a.tOut[:a.pr.P*a.pr.d])
}

// unpackImage is unpack for the split cone form with the image l of w (see image).
func (a *admm) unpackImage(w, l []float64) {
	pd := a.pr.P * a.pr.d
	o := copy(a.v, w)
	o += copy(a.lam, w[o:])
	sig := math.Sqrt(a.sig2)
	nz := len(a.z)
	for i := range a.z {
		a.z[i] = w[o+i] / sig
		a.mu[i] = w[o+nz+i] / sig
		a.eta[i] = a.rho * a.sig2 * a.mu[i]
	}
	copy(a.tOut[:pd], l)
	negate(a.tOut[pd:2*pd], l)
}

// slackProducts is nextRHS's product in the slack form: T = [q, −q, Δq, −Δq] ∘ mask
// plus the signed s − ν and Δs columns, 4P columns in all.
func (a *admm) slackProducts() {
	pr := a.pr
	n, P := pr.n, pr.P
	for k := 0; k < n; k++ {
		row := a.t[k*4*P : (k+1)*4*P]
		m := pr.mask[k*P : (k+1)*P]
		q, dq := 0.0, 0.0
		if a.split {
			q = a.sig2 * (a.z[k] - a.mu[k])
			dq = a.sig2 * (a.z[k] - a.zOld[k])
		}
		sg := pr.sign[k*P : (k+1)*P]
		sr := a.s[k*2*P : (k+1)*2*P]
		so := a.sOld[k*2*P : (k+1)*2*P]
		nr := a.nu[k*2*P : (k+1)*2*P]
		for i := 0; i < P; i++ {
			row[i] = m[i]*q + sg[i]*(sr[i]-nr[i])
			row[P+i] = -m[i]*q + sg[i]*(sr[P+i]-nr[P+i])
			row[2*P+i] = m[i]*dq + sg[i]*(sr[i]-so[i])
			row[3*P+i] = -m[i]*dq + sg[i]*(sr[P+i]-so[P+i])
		}
	}
	pr.mulTX(a.tOut, a.t, 4*P, 1, 0)
}

// negate sets dst = −src.
func negate(dst, src []float64) {
	for i, v := range src {
		dst[i] = -v
	}
}

// shrinkBlock sets v = (1 − κ/‖w‖)₊ w, the group soft threshold.
func shrinkBlock(w, v []float64, kappa float64) float64 {
	nrm := norm2(w)
	shrink := 0.0
	if nrm > kappa {
		shrink = 1 - kappa/nrm
	}
	for i, x := range w {
		v[i] = shrink * x
	}
	return shrink
}
