package solver

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// ipmPoint is a certified point of the interior-point method: the weights u (2P×d),
// the dual candidate η over the live rows and the certificate.
type ipmPoint struct {
	u    []float64
	eta  []float64
	cert Certificate
}

// within reports whether p is certified within tol: a relative gap ≤ tol at a point
// feasible to ipmFeasible.
func (p *ipmPoint) within(tol float64) bool {
	return p.cert.Gap <= tol && p.cert.ConeViolation <= ipmFeasible
}

// better reports whether p is a better point to return than q: feasible to
// ipmFeasible when q is not, or as feasible with a smaller gap.
func (p *ipmPoint) better(q *ipmPoint) bool {
	pf, qf := p.cert.ConeViolation <= ipmFeasible, q.cert.ConeViolation <= ipmFeasible
	if pf != qf {
		return pf
	}
	return p.cert.Gap <= q.cert.Gap || math.IsNaN(q.cert.Gap)
}

// certify evaluates the current iterate (residuals included, for the next step) and
// sets pt to it and its certificate:
//
//   - the primal point is u, each block moved along its pattern's generator hᵢ by the
//     least amount that puts it on its cone when it violates it ((2Dᵢ − I)Xhᵢ > 0 on
//     the violated rows; blocks without such a generator stay and their violation is
//     reported), and Primal is its objective;
//   - the dual point is η (ŷ − y for the squared loss, ℓ'(ŷ) for the logistic loss,
//     −y∘z of the margin rows for the hinge loss, clipped to the domain of ℓ*) with
//     ζⱼ = the pattern rows' z, moved by tighten once sᵀz ≤ ipmRefineGap·|f| (for
//     the blocks with ‖Fⱼᵀη − Gⱼᵀζⱼ‖ > β), then divided by
//     t = max(1, maxⱼ ‖Fⱼᵀη − Gⱼᵀζⱼ‖/β) to make it feasible, and Dual = −ℓ*(η/t), a
//     lower bound on the optimum.
func (ip *pdip) certify(pt *ipmPoint) {
	w := ip.work
	ip.evaluate(w)
	n, d, P, nb := ip.n, ip.d, ip.P, ip.nb
	copy(pt.u, ip.u)
	xu := append(w.xdu[:0], ip.xu...)
	ip.correct(pt.u, xu)
	yhat := w.yc
	ip.predict(xu, yhat)
	primal := ip.offset + ip.loss.Value(yhat, ip.y)
	for j := 0; j < nb; j++ {
		primal += ip.beta * norm2(pt.u[j*d:(j+1)*d])
	}
	worst, scale := 0.0, 0.0
	for k := 0; k < n; k++ {
		for j, v := range xu[k*nb : (k+1)*nb] {
			worst = math.Max(worst, -ip.sign[k*P+j%P]*v)
			scale = math.Max(scale, math.Abs(v))
		}
	}
	violation := 0.0
	if scale > 0 {
		violation = worst / scale
	}
	eta := pt.eta
	switch ip.loss {
	case Squared:
		for k := range eta {
			eta[k] = yhat[k] - ip.y[k]
		}
	case Logistic:
		ip.loss.gradient(yhat, ip.y, eta, 0)
	case Hinge:
		for k := range eta {
			eta[k] = -ip.y[k] * ip.z[ip.mPat+n+k]
		}
		ip.loss.clipDual(eta, ip.y)
	}
	// cⱼ = Xᵀ(±mᵢ∘η − signᵢ∘ζⱼ).
	t := ip.tn2p
	for k := 0; k < n; k++ {
		m := ip.mask[k*P : (k+1)*P]
		sg := ip.sign[k*P : (k+1)*P]
		zr := ip.z[k*nb : (k+1)*nb]
		tr := t[k*nb : (k+1)*nb]
		for i := 0; i < P; i++ {
			tr[i] = m[i]*eta[k] - sg[i]*zr[i]
			tr[P+i] = -m[i]*eta[k] - sg[i]*zr[P+i]
		}
	}
	ip.mulTX(ip.gbuf, t)
	if w.gap <= ipmRefineGap*w.objective {
		ip.tighten(t)
	}
	most := 0.0
	for j := 0; j < nb; j++ {
		most = math.Max(most, norm2(ip.gbuf[j*d:(j+1)*d]))
	}
	scaleT := math.Max(1, most/ip.beta)
	for k := range eta {
		eta[k] /= scaleT
	}
	dual := ip.offset + ip.loss.negConjugate(eta, ip.y)
	pt.cert = Certificate{Primal: primal, Dual: dual, Gap: relativeGap(primal, dual), ConeViolation: violation, DualScale: scaleT}
}

// tighten moves, for every block j whose cⱼ = Xᵀtⱼ (tⱼ = ±m∘η − signⱼ∘ζⱼ, in t,
// cⱼ in ip.gbuf) is longer than β, the multipliers ζⱼ of its pattern rows so that
// cⱼ shrinks to length β. The change δ must satisfy Σₖ signₖδₖxₖ = (1 − β/‖cⱼ‖)cⱼ
// =: r and ζⱼ + δ ≥ 0; the one of least weighted norm ‖δ/ω‖ is δₖ = ωₖ²signₖxₖᵀy
// with (Σₖ ωₖ²xₖxₖᵀ) y = r, with ωₖ = max(ζₖ, 1e-3·maxₖ ζₖ) (the large multipliers
// move most, the small ones may grow). A row that δ would take below zero gets
// ωₖ = 0 and the system is solved again, up to ipmTightenRounds times; the change is
// kept only when it leaves ζⱼ ≥ 0 and shortens cⱼ (then certify's divisor t is
// smaller). Each solve costs nd² + d³/3, on the workers, at most as much as
// forming the Newton system's blocks. Near the optimum ‖cⱼ‖ exceeds β only by the
// dual residual of the iterate; without this step a residual of 4e-12 alone left
// the certified gap at about 4e-12/β (3.7e-8 at β = 1e-4 on a hinge program whose
// sᵀz was 2e-9 of its objective: golden/small_beta/relu_hinge_n35_d3_P7_b1e-04.json).
func (ip *pdip) tighten(t []float64) {
	n, d := ip.n, ip.d
	type scratch struct {
		m                []float64
		r, y             *mat.VecDense
		ch               mat.Cholesky
		delta, omega, c2 []float64
	}
	ws := make([]*scratch, ip.workers)
	for wk := range ws {
		ws[wk] = &scratch{m: make([]float64, d*d), r: mat.NewVecDense(d, nil), y: mat.NewVecDense(d, nil),
			delta: make([]float64, n), omega: make([]float64, n), c2: make([]float64, d)}
	}
	parallelEach(ip.workers, ip.nb, func(wk, j int) {
		sc := ws[wk]
		c := ip.gbuf[j*d : (j+1)*d]
		nc := norm2(c)
		if !(nc > ip.beta) || !ip.tightenBlock(j, c, nc, ip.wx[wk], sc.m, sc.r, sc.y, &sc.ch, sc.delta, sc.omega) {
			return
		}
		x := ip.x.Data
		i := j % ip.P
		clear(sc.c2)
		for k := 0; k < n; k++ {
			tk := t[k*ip.nb+j] - ip.sign[k*ip.P+i]*sc.delta[k]
			for a, v := range x[k*d : (k+1)*d] {
				sc.c2[a] += v * tk
			}
		}
		if !(norm2(sc.c2) < nc) {
			return
		}
		copy(c, sc.c2)
		for k := 0; k < n; k++ {
			t[k*ip.nb+j] -= ip.sign[k*ip.P+i] * sc.delta[k]
		}
	})
}

// tightenBlock computes tighten's change δ of block j's multipliers (c = cⱼ, nc its
// norm; wx, m, r, y, ch, omega scratch) and reports whether it keeps them ≥ 0.
func (ip *pdip) tightenBlock(j int, c []float64, nc float64, wx, m []float64, r, y *mat.VecDense, ch *mat.Cholesky, delta, omega []float64) bool {
	n, d, P, nb := ip.n, ip.d, ip.P, ip.nb
	x := ip.x.Data
	i := j % P
	top := 0.0
	for k := 0; k < n; k++ {
		top = math.Max(top, ip.z[k*nb+j])
	}
	for k := range omega {
		omega[k] = math.Max(ip.z[k*nb+j], 1e-3*top)
	}
	for a, v := range c {
		r.SetVec(a, (1-ip.beta/nc)*v)
	}
	for range ipmTightenRounds {
		for k := 0; k < n; k++ {
			for a, v := range x[k*d : (k+1)*d] {
				wx[k*d+a] = omega[k] * v
			}
		}
		clear(m)
		blas64.Syrk(blas.Trans, 1, blas64.General{Rows: n, Cols: d, Stride: d, Data: wx}, 0,
			blas64.Symmetric{Uplo: blas.Upper, N: d, Stride: d, Data: m})
		if !ch.Factorize(mat.NewSymDense(d, m)) || ch.SolveVecTo(y, r) != nil {
			return false
		}
		ok := true
		for k := 0; k < n; k++ {
			delta[k] = omega[k] * omega[k] * ip.sign[k*P+i] * dot(x[k*d:(k+1)*d], y.RawVector().Data)
			if !(ip.z[k*nb+j]+delta[k] >= 0) {
				omega[k], ok = 0, false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// newPoint returns a point with room for the program's weights and dual.
func (ip *pdip) newPoint() *ipmPoint {
	return &ipmPoint{u: make([]float64, ip.N), eta: make([]float64, ip.n)}
}

// correct moves each block of u (with X Uᵀ in xu) that violates its cone along its
// pattern's generator onto the cone, where the generator allows it.
func (ip *pdip) correct(u, xu []float64) {
	if ip.xh == nil {
		return
	}
	n, d, P, nb := ip.n, ip.d, ip.P, ip.nb
	for j := 0; j < nb; j++ {
		i := j % P
		eps := 0.0
		for k := 0; k < n; k++ {
			r := ip.sign[k*P+i] * xu[k*nb+j]
			if r >= 0 {
				continue
			}
			g := ip.sign[k*P+i] * ip.xh[k*P+i]
			if !(g > 0) {
				eps = math.NaN()
				break
			}
			eps = math.Max(eps, -r/g)
		}
		if !(eps > 0) {
			continue
		}
		h := ip.gens[i*d : (i+1)*d]
		for c, v := range h {
			u[j*d+c] += eps * v
		}
		for k := 0; k < n; k++ {
			xu[k*nb+j] += eps * ip.xh[k*P+i]
		}
	}
}

// prune returns pt with the blocks whose norm is at most θ times the largest set to
// zero, for the largest θ ∈ {1e-4, 1e-6, 1e-8} that keeps the gap within tol (the
// dual bound is that of pt). It reports false when pt has such blocks but zeroing
// them costs more than the gap allows (pt is returned then).
func (ip *pdip) prune(pt *ipmPoint, tol float64) (*ipmPoint, bool) {
	d, nb := ip.d, ip.nb
	norms := make([]float64, nb)
	largest := 0.0
	for j := range norms {
		norms[j] = norm2(pt.u[j*d : (j+1)*d])
		largest = math.Max(largest, norms[j])
	}
	xu := make([]float64, ip.n*nb)
	yhat := make([]float64, ip.n)
	small := false
	for _, theta := range []float64{1e-4, 1e-6, 1e-8} {
		u := append([]float64(nil), pt.u...)
		zeroed := false
		for j, nj := range norms {
			if nj > 0 && nj <= theta*largest {
				clear(u[j*d : (j+1)*d])
				zeroed = true
			}
		}
		if !zeroed {
			continue
		}
		small = true
		ip.mulXT(xu, u)
		ip.predict(xu, yhat)
		primal := ip.offset + ip.loss.Value(yhat, ip.y)
		for j := 0; j < nb; j++ {
			primal += ip.beta * norm2(u[j*d:(j+1)*d])
		}
		if gap := relativeGap(primal, pt.cert.Dual); gap <= tol {
			c := pt.cert
			c.Primal, c.Gap = primal, gap
			return &ipmPoint{u: u, eta: pt.eta, cert: c}, true
		}
	}
	return pt, !small
}

// active returns the number of blocks of u whose norm exceeds 1e-6 times the largest.
func (ip *pdip) active(u []float64) int {
	d := ip.d
	largest := 0.0
	for j := 0; j < ip.nb; j++ {
		largest = math.Max(largest, norm2(u[j*d:(j+1)*d]))
	}
	count := 0
	for j := 0; j < ip.nb; j++ {
		if norm2(u[j*d:(j+1)*d]) > 1e-6*largest {
			count++
		}
	}
	return count
}

// fullDual returns the dual candidate over all rows of X: eta on the live rows and,
// on the zero rows, the maximizer of −ℓ*(η) (which no constraint involves there):
// −y for the squared and hinge losses, −y/2 for the logistic loss.
func (ip *pdip) fullDual(eta []float64) []float64 {
	pr := ip.pr
	out := make([]float64, pr.n)
	for k := range out {
		out[k] = -pr.y[k]
		if ip.loss == Logistic {
			out[k] /= 2
		}
	}
	for r, k := range ip.rows {
		out[k] = eta[r]
	}
	return out
}

// accuracy returns the training accuracy of the iterate's predictions over all rows
// of X (a zero row is predicted 0, which counts as +1), NaN for the squared loss.
func (ip *pdip) accuracy() float64 {
	a := trainAccuracy(ip.yhat, ip.y)
	if math.IsNaN(a) || ip.n == ip.pr.n {
		return a
	}
	correct := a * float64(ip.n)
	for k, y := range ip.pr.y {
		if y > 0 && norm2(ip.pr.x[k*ip.d:(k+1)*ip.d]) == 0 {
			correct++
		}
	}
	return correct / float64(ip.pr.n)
}
