package solver

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// The Newton and KKT steps of polishing (see polisher).

// regularizerHessian adds β blockdiag((I − ŵŵᵀ)/‖w‖) to h (R×R) and β ŵ to g.
func (po *polisher) regularizerHessian(w, h, g []float64) {
	R := po.cols
	for _, b := range po.blocks {
		if b.gone {
			continue
		}
		wb := w[b.off : b.off+b.r]
		nw := norm2(wb)
		if nw == 0 {
			continue
		}
		for i := 0; i < b.r; i++ {
			g[b.off+i] += po.beta * wb[i] / nw
			for j := 0; j < b.r; j++ {
				v := -wb[i] * wb[j] / (nw * nw)
				if i == j {
					v++
				}
				h[(b.off+i)*R+b.off+j] += po.beta * v / nw
			}
		}
	}
}

// newtonStep returns the Newton direction of the smooth restricted objective at w, or
// nil when the Hessian cannot be factored.
func (po *polisher) newtonStep(w []float64) []float64 {
	n, R := po.n, po.cols
	po.predict(w)
	po.loss.gradient(po.yhat, po.y, po.eta, 0)
	po.loss.curvatures(po.yhat, po.y, po.curv)
	g := make([]float64, R)
	blas64.Gemv(blas.Trans, 1, blas64.General{Rows: n, Cols: R, Stride: R, Data: po.at},
		blas64.Vector{N: n, Inc: 1, Data: po.eta}, 0, blas64.Vector{N: R, Inc: 1, Data: g})
	if po.reduced(n) {
		// (ÃᵀWÃ + H)δ = −∇ is the KKT system with B = √W Ã, E = I, r₂ = 0.
		po.addRegularizerGradient(w, g)
		rows, scale := make([]int, n), make([]float64, n)
		for k := range rows {
			rows[k], scale[k] = k, math.Sqrt(po.curv[k])
		}
		for i := range g {
			g[i] = -g[i]
		}
		delta, _ := po.reducedStep(w, rows, scale, 1, 0, g, make([]float64, n))
		return delta
	}
	// ÃᵀWÃ from the rows of √W Ã.
	sa := make([]float64, n*R)
	for k := 0; k < n; k++ {
		s := math.Sqrt(po.curv[k])
		for c, v := range po.at[k*R : (k+1)*R] {
			sa[k*R+c] = s * v
		}
	}
	h := make([]float64, R*R)
	blas64.Syrk(blas.Trans, 1, blas64.General{Rows: n, Cols: R, Stride: R, Data: sa}, 0,
		blas64.Symmetric{Uplo: blas.Upper, N: R, Stride: R, Data: h})
	for i := 0; i < R; i++ {
		for j := 0; j < i; j++ {
			h[i*R+j] = h[j*R+i]
		}
	}
	po.regularizerHessian(w, h, g)
	po.work += float64(n*R*R) + float64(R*R*R)/3
	delta := make([]float64, R)
	for i := range g {
		delta[i] = -g[i]
	}
	if !solveSPD(h, delta, R) {
		return nil
	}
	return delta
}

// addRegularizerGradient adds β ŵⱼ to the blocks of g.
func (po *polisher) addRegularizerGradient(w, g []float64) {
	for _, b := range po.blocks {
		if b.gone {
			continue
		}
		wb := w[b.off : b.off+b.r]
		if nw := norm2(wb); nw > 0 {
			axpy(po.beta/nw, wb, g[b.off:b.off+b.r])
		}
	}
}

// solveSPD overwrites b with the solution of H x = b for symmetric positive
// semidefinite H (R×R, overwritten), adding the smallest Levenberg shift of the form
// 10ᵏ·1e-14·tr(H)/R that makes the Cholesky factorization succeed.
func solveSPD(h, b []float64, R int) bool {
	tr := 0.0
	for i := 0; i < R; i++ {
		tr += h[i*R+i]
	}
	orig := append([]float64(nil), h...)
	shift := 0.0
	for try := 0; try < 8; try++ {
		copy(h, orig)
		for i := 0; i < R; i++ {
			h[i*R+i] += shift
		}
		var ch mat.Cholesky
		if ch.Factorize(mat.NewSymDense(R, h)) {
			var x mat.VecDense
			if err := ch.SolveVecTo(&x, mat.NewVecDense(R, b)); err == nil {
				copy(b, x.RawVector().Data)
				return allFinite(b)
			}
		}
		if shift == 0 {
			shift = 1e-14 * tr / float64(R)
		} else {
			shift *= 100
		}
	}
	return false
}

// kktStep returns the SQP direction of the hinge loss's restricted program at w and
// the margin multipliers ν (written into eta on M), or nil when the KKT matrix is
// singular.
func (po *polisher) kktStep(w []float64) ([]float64, []float64) {
	n, R := po.n, po.cols
	po.predict(w)
	var margin []int
	g := make([]float64, R) // ∇φ = −Ã_Lᵀ y_L + βŵ
	for k := 0; k < n; k++ {
		switch po.side[k] {
		case -1:
			axpy(-po.y[k], po.at[k*R:(k+1)*R], g)
		case 0:
			margin = append(margin, k)
		}
	}
	m := len(margin)
	N := R + m
	// A proximal term ε‖δ‖²/2: where the restricted objective is linear (radial
	// directions not pinned by a margin, a vertex not yet reached) the step runs far
	// along the descent direction and the ratio test stops it at the next constraint,
	// as a simplex step would.
	eps := polishProximal * po.beta / math.Max(po.normMax(w), 1e-300)
	if po.reduced(m) {
		po.addRegularizerGradient(w, g)
		scale, r2 := make([]float64, m), make([]float64, m)
		for r, k := range margin {
			scale[r] = -po.y[k]
			r2[r] = po.y[k]*po.yhat[k] - 1
		}
		for i := range g {
			g[i] = -g[i]
		}
		delta, nu := po.reducedStep(w, margin, scale, polishProximal, eps, g, r2)
		for r, k := range margin {
			if nu != nil {
				po.eta[k] = -po.y[k] * nu[r]
			}
		}
		return delta, nu
	}
	kkt := make([]float64, N*N)
	h := make([]float64, R*R)
	po.regularizerHessian(w, h, g)
	for i := 0; i < R; i++ {
		copy(kkt[i*N:i*N+R], h[i*R:(i+1)*R])
		kkt[i*N+i] += eps
	}
	rhs := make([]float64, N)
	for i := range g {
		rhs[i] = -g[i]
	}
	for r, k := range margin {
		row := po.at[k*R : (k+1)*R]
		for c, v := range row {
			kkt[(R+r)*N+c] = -po.y[k] * v
			kkt[c*N+R+r] = -po.y[k] * v
		}
		rhs[R+r] = po.y[k]*po.yhat[k] - 1
		// The same proximal weight on the multipliers: margins that a degenerate
		// vertex cannot meet all at once are met in the least-squares sense.
		kkt[(R+r)*N+R+r] = -polishProximal
	}
	po.work += 2 * float64(N*N*N) / 3
	var lu mat.LU
	lu.Factorize(mat.NewDense(N, N, kkt))
	var x mat.VecDense
	if err := lu.SolveVecTo(&x, false, mat.NewVecDense(N, rhs)); err != nil && !isCondition(err) {
		return nil, nil
	}
	sol := x.RawVector().Data
	if len(sol) != N || !allFinite(sol) {
		return nil, nil
	}
	nu := sol[R:]
	for r, k := range margin {
		po.eta[k] = -po.y[k] * nu[r]
	}
	return sol[:R], nu
}

// isCondition reports whether err is only gonum's warning of an ill-conditioned
// matrix (the solution is still returned).
func isCondition(err error) bool {
	_, ok := err.(mat.Condition)
	return ok
}
