package solver

import (
	"fmt"
	"math"
)

// iterate performs one over-relaxed ADMM iteration.
func (a *adv) iterate() {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	blk := 2 * P * d
	// 1. u-step: (τ²I + γ²AᵀA) u = τ²(v − λ_v) + γ²Aᵀ(b − λ_b).
	for i := 0; i < blk; i++ {
		a.rhs[i] = a.tau2*(a.v[i]-a.lv[i]) + a.cg[i]
	}
	a.ks.solve(a.rhs, a.u)
	a.mulA(a.au, a.u)
	copy(a.vOld, a.v)
	copy(a.bOld, a.b)
	alfa := a.alfa
	primal, normKu, normW := 0.0, 0.0, 0.0
	// 2. v-step: vⱼ = shrink(Π_{Cⱼ}(αu + (1 − α)v + λ_v)), the proximal map of
	// β‖·‖₂ + 𝟙_{Cⱼ} (for a cone C, the prox of a radial function plus 𝟙_C is the
	// radial prox of the projection).
	for i := range a.arg {
		a.arg[i] = alfa*a.u[i] + (1-alfa)*a.v[i] + a.lv[i]
	}
	a.coneStep()
	for i := range a.v {
		a.lv[i] = a.arg[i] - a.v[i]
		r := a.u[i] - a.v[i]
		primal += a.tau2 * r * r
		normKu += a.tau2 * a.u[i] * a.u[i]
		normW += a.tau2 * a.v[i] * a.v[i]
	}
	// 3. b-step: proximal map of every worst-case loss.
	rhoB := a.rho * a.g2
	for k := 0; k < n; k++ {
		br := a.b[k*d : (k+1)*d]
		lr := a.lb[k*d : (k+1)*d]
		ar := a.au[k*d : (k+1)*d]
		for c := 0; c < d; c++ {
			lr[c] += alfa*ar[c] + (1-alfa)*br[c]
		}
		a.coef[k], a.rad[k] = pr.loss.robustProx(pr.x[k*d:(k+1)*d], lr, pr.y[k], a.eps, a.dS, rhoB, br, a.scratch)
		for c := 0; c < d; c++ {
			lr[c] -= br[c]
			r := ar[c] - br[c]
			primal += a.g2 * r * r
			normKu += a.g2 * ar[c] * ar[c]
			normW += a.g2 * br[c] * br[c]
		}
	}
	a.primal, a.normKu, a.normW = math.Sqrt(primal), math.Sqrt(normKu), math.Sqrt(normW)
	// Inexact projections while ADMM is far from a solution: the next ones solve
	// their KKT conditions to advProjectionFactor times the relative primal residual
	// (a feasible dual point needs no exact projection: any multipliers ζ ≥ 0 give a
	// polar part in C°).
	a.proj.loose = advProjectionFactor * a.primal / math.Max(math.Max(a.normKu, a.normW), 1e-300)
	// 4. The next right-hand side's constant part γ²Aᵀ(b − λ_b) and the dual residual
	// ρ‖τ²Δv + γ²AᵀΔb‖ from one product.
	a.products(true)
	dual := 0.0
	pd := P * d
	for i := 0; i < blk; i++ {
		mt := a.zbOut[((i%pd)/d)*2*d+d+i%d]
		if i >= pd {
			mt = -mt
		}
		r := a.tau2*(a.v[i]-a.vOld[i]) + a.g2*mt
		dual += r * r
	}
	a.dual = a.rho * math.Sqrt(dual)
}

// coneStep sets v and pol from arg: one product X argᵀ checks the robust
// feasibility of every block; infeasible ones are projected (warm-started). Blocks of
// trivial cones are zero, with the whole argument as polar part; blocks of patterns
// without active points are zero, with a zero polar part (0 ∈ C° and their columns
// of A vanish, so the certificate's constraint holds for them).
func (a *adv) coneStep() {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	kappa := pr.beta / (a.rho * a.tau2)
	pr.mulXT(a.xa, a.arg, 2*P)
	for j := 0; j < 2*P; j++ {
		i := j % P
		aj := a.arg[j*d : (j+1)*d]
		vj := a.v[j*d : (j+1)*d]
		pj := a.pol[j*d : (j+1)*d]
		switch a.kind[i] {
		case patternTrivial: // C = {0}, C° = ℝᵈ
			clear(vj)
			copy(pj, aj)
			continue
		case patternUseless: // no active point: the block's optimum is zero
			clear(vj)
			clear(pj)
			continue
		}
		l1 := 0.0
		for c := 0; c < a.dS; c++ {
			l1 += math.Abs(aj[c])
		}
		tol := coneTolerance * norm2(aj) * a.proj.rowMax
		feasible := true
		for k := 0; k < n; k++ {
			if pr.sign[k*P+i]*a.xa[k*2*P+j]-a.eps*l1 < -tol {
				feasible = false
				break
			}
		}
		st := &a.act[j]
		if feasible {
			st.k, st.zeta = st.k[:0], st.zeta[:0]
			if a.cone != nil {
				a.coneAct[j], a.coneZeta[j] = a.coneAct[j][:0], a.coneZeta[j][:0]
			}
			clear(pj)
			shrinkBlock(aj, vj, kappa)
			continue
		}
		if a.cone != nil {
			a.cone.cache = &a.coneCache[j]
			pv, act, zeta := a.cone.project(aj, pr.sign, i, P, a.coneAct[j], a.coneZeta[j])
			a.cone.cache = nil
			a.coneAct[j], a.coneZeta[j] = act, zeta
			copy(vj, pv)
		} else {
			a.proj.project(aj, vj, pr.sign, i, P, st)
		}
		for c := range pj {
			pj[c] = aj[c] - vj[c]
		}
		shrinkBlock(vj, vj, kappa)
	}
}

// products sets cg = γ²Aᵀ(b − λ_b) and, with differences, the columns d..2d of zbOut
// to MᵀΔb.
func (a *adv) products(differences bool) {
	pr := a.pr
	n, d, P := pr.n, pr.d, pr.P
	for k := 0; k < n; k++ {
		for c := 0; c < d; c++ {
			i := k*d + c
			a.zb[k*2*d+c] = a.b[i] - a.lb[i]
			if differences {
				a.zb[k*2*d+d+c] = a.b[i] - a.bOld[i]
			} else {
				a.zb[k*2*d+d+c] = 0
			}
		}
	}
	a.mulMT(a.zbOut, a.zb, 2*d)
	pd := P * d
	for i := 0; i < pd; i++ {
		mt := a.g2 * a.zbOut[(i/d)*2*d+i%d]
		a.cg[i] = mt
		a.cg[pd+i] = -mt
	}
}

// balance adapts ρ by residual balancing (see ADMM.balance) within [ρ_lo, ρ_hi]; the
// u-step matrix does not depend on ρ, only the scaled duals are rescaled. It reports
// whether ρ changed.
func (a *adv) balance(dualScale float64) bool {
	pn := a.primal / math.Max(math.Max(a.normKu, a.normW), 1e-300)
	dn := a.dual / math.Max(dualScale, 1e-300)
	if pn == 0 || dn == 0 || a.rhoChanges >= advMaxRhoChanges {
		return false
	}
	ratio := math.Sqrt(pn / dn)
	if ratio < advRhoChange && ratio > 1/advRhoChange {
		return false
	}
	rho := math.Min(math.Max(a.rho*ratio, a.rhoLo), a.rhoHi)
	if rho == a.rho {
		return false
	}
	a.rhoChanges++
	a.setRho(rho)
	return true
}

// setRho changes ρ, rescaling the scaled duals.
func (a *adv) setRho(rho float64) {
	f := a.rho / rho
	a.rho = rho
	for _, l := range [][]float64{a.lv, a.lb} {
		for i := range l {
			l[i] *= f
		}
	}
	a.products(false)
}

// pack writes the fixed-point state (τv, τλ_v, γb, γλ_b) of the iterate (the next
// step depends on nothing else); the weights make its Euclidean norm the augmented
// Lagrangian's.
func (a *adv) pack(w []float64) {
	tau, ga := math.Sqrt(a.tau2), math.Sqrt(a.g2)
	o := 0
	for i, v := range a.v {
		w[o+i] = tau * v
		w[o+len(a.v)+i] = tau * a.lv[i]
	}
	o += 2 * len(a.v)
	for i, v := range a.b {
		w[o+i] = ga * v
		w[o+len(a.b)+i] = ga * a.lb[i]
	}
}

// unpack sets the iterate from a state w (see pack) and the right-hand side that
// depends on it.
func (a *adv) unpack(w []float64) {
	tau, ga := math.Sqrt(a.tau2), math.Sqrt(a.g2)
	o := 0
	for i := range a.v {
		a.v[i] = w[o+i] / tau
		a.lv[i] = w[o+len(a.v)+i] / tau
	}
	o += 2 * len(a.v)
	for i := range a.b {
		a.b[i] = w[o+i] / ga
		a.lb[i] = w[o+len(a.b)+i] / ga
	}
	a.products(false)
}

// advPoint is a snapshot of the iterate (see keep): its fixed-point state and the ρ
// its duals are scaled for.
type advPoint struct {
	w        []float64
	rho, obj float64
	have     bool
}

// step performs one iteration for the driver (see admm.step).
func (a *adv) step(row *Iteration) error {
	if a.acc != nil {
		if a.stepped {
			a.acc.after(a)
		}
		a.acc.before(a)
	}
	a.iterate()
	a.stepped = true
	a.iterations++
	convex := a.evalConvex(a.v, a.ev)
	zero := a.pr.loss.Value(make([]float64, a.pr.n), a.pr.y)
	bound := divergenceFactor * math.Max(zero, a.best.obj)
	if !finite(convex) || !finite(a.primal) || !finite(a.dual) || convex > bound && bound > 0 {
		err := fmt.Errorf("the iterates diverged at iteration %d (objective %.3g, residuals %.3g and %.3g) with ρ = %.3g", a.iterations, convex, a.primal, a.dual, a.rho)
		copy(a.v, a.vOld)
		a.iterations--
		return err
	}
	a.convex = convex
	row.Objective = convex
	row.PrimalResidual, row.DualResidual = a.primal, a.dual
	row.TrainAccuracy = trainAccuracy(a.ev.z, a.pr.y)
	row.ActiveNeurons = activeBlocks(a.ev.norms)
	row.Rho = a.rho
	return nil
}

// certify returns the certificate of the current point, with its robust-cone
// violation (the projections are inexact while far from a solution).
func (a *adv) certify(row *Iteration) Certificate {
	c := a.certificate(a.convex)
	c.ConeViolation = a.violation(a.v, a.ev)
	return c
}

// converged: a small relative primal residual and the certified gap within the
// tolerance (β = 0: the dual residual, there is no dual bound).
func (a *adv) converged(c *Certificate, gap, tol float64) bool {
	if a.primal > tol*math.Max(a.normKu, a.normW) {
		return false
	}
	if a.pr.beta > 0 {
		return gap <= tol
	}
	return a.dual <= tol*c.dualScale
}

// adapt balances ρ (unless fixed); a change restarts the acceleration.
func (a *adv) adapt(c *Certificate) error {
	if !a.fixedRho && a.balance(c.dualScale) && a.acc != nil {
		a.acc.restart() // the map changed
	}
	return nil
}

func (a *adv) keep() {
	if a.best.w == nil {
		a.best.w = make([]float64, 2*len(a.v)+2*len(a.b))
	}
	a.pack(a.best.w)
	a.best.rho, a.best.obj, a.best.have = a.rho, a.convex, true
}

// restore returns to the snapshot, its duals rescaled to the current ρ.
func (a *adv) restore() {
	rho := a.rho
	a.rho = a.best.rho
	a.unpack(a.best.w)
	if rho != a.rho {
		a.setRho(rho)
	}
	a.convex = a.evalConvex(a.v, a.ev)
	if a.acc != nil {
		a.acc.restart()
	}
}

// recover continues after a breakdown from the best point with ρ frozen at the value
// it was reached with (the default without one).
func (a *adv) recover() bool {
	rho := a.rho0
	if a.best.have {
		rho = a.best.rho
	} else {
		for _, v := range [][]float64{a.v, a.lv, a.b, a.lb} {
			clear(v)
		}
		a.products(false)
	}
	if a.fixedRho && rho == a.rho {
		return false
	}
	a.fixedRho = true
	if rho != a.rho {
		a.setRho(rho)
	}
	if a.acc != nil {
		a.acc.restart()
	}
	return true
}
