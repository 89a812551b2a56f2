package solver

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Polishing: an active-set Newton method on the program restricted to the structure
// a first-order method has identified (our construction, in the manner of OSQP's
// solution polishing). First-order methods find which blocks are nonzero, which cone
// rows are tight and (hinge loss) which points sit on the margin long before they
// find the values; with the structure fixed the program is smooth, and Newton's
// method finishes it in a few steps. The polished point's dual candidate is then
// exact for the restricted program, and when the structure is the optimum's, the
// certificate of the whole program closes to rounding.
//
// Restricted program. For the active blocks j ∈ S with tight rows Aⱼ, let Zⱼ be an
// orthonormal basis of the null space of the tight rows G_{Aⱼ} and write uⱼ = Zⱼwⱼ.
// With Ãⱼ = FⱼZⱼ the program becomes
//
//	minimize_w  ℓ(Σⱼ Ãⱼwⱼ) + β Σⱼ ‖wⱼ‖₂
//
// (‖Zⱼwⱼ‖ = ‖wⱼ‖), smooth near a solution with every wⱼ ≠ 0. For the squared and
// logistic losses the Newton system is (ÃᵀWÃ + β blockdiag((I − ŵⱼŵⱼᵀ)/‖wⱼ‖)) δ = −∇,
// W = diag ℓ”. For the hinge loss the points split into L (yₖŷₖ < 1), M (= 1) and R
// (> 1); on M the margin is an equality constraint and the step solves the KKT system
//
//	[βN  −CᵀM] [δ]   [Ã_Lᵀy_L − βŵ]
//	[−C    0 ] [ν] = [Cw − 1       ],   C = Y_M Ã_M,
//
// whose multipliers give η = −yν on M (−y on L, 0 on R). A step that would cross an
// inactive cone row or move a point across the margin is cut there and the row or
// point joins the active set; a margin point whose multiplier leaves [0, 1] leaves M
// (to R below 0, to L above 1); a block of one dimension that would pass through zero
// is dropped.
type polisher struct {
	n       int
	loss    Loss
	y       []float64
	beta    float64 // β/σ (see scale)
	beta0   float64 // β
	blocks  []*polishBlock
	dormant []*polishBlock // zero blocks, candidates to enter

	cols      int       // R = Σⱼ rⱼ
	scale     float64   // σ: Ã is stored divided by σ and w multiplied by it (β by 1/σ)
	work      float64   // floating-point operations spent (ADMM's budget)
	at        []float64 // n×R: Ã, row-major
	yhat, eta []float64 // n
	curv      []float64 // n: ℓ'' (smooth losses)
	side      []int8    // n (hinge): −1 in L, 0 in M, +1 in R
	proj      *coneProjector
	stop      func() bool // if set, polled every step: cancellation and the time limit
}

// polishBlock is one block of the restricted program: uⱼ ∈ ℝᵈ with predictions
// pred ∘ (B uⱼ) and, if cone is set, the constraints cone ∘ (B uⱼ) ≥ 0.
type polishBlock struct {
	base       blas64.General // B, n×d
	pred, cone []float64      // n
	u          []float64      // d: the value, in and out

	act  []int     // tight cone rows
	z    []float64 // d×r: orthonormal basis of their null space
	r    int
	bz   []float64 // n×r: B Z
	w    []float64 // r
	off  int       // first column of the block in Ã
	gone bool      // dropped (its value is zero)
	work float64   // floating-point operations of its bases
}

// Constants of polishing.
const (
	polishMaxIterations = 200     // Newton steps and active-set changes in all
	polishRowTight      = 1e-9    // a cone row is tight below this × ‖Bₖ‖‖uⱼ‖
	polishMargin        = 1e-6    // a hinge point is on the margin within this of 1
	polishStep          = 1e-13   // Newton converged: ‖δ‖ ≤ this × (1 + ‖w‖)
	polishMultiplier    = 1e-9    // slack on a margin multiplier's interval [0, 1]
	polishMaxColumns    = 3000    // R for the dense Newton system, R×R (72 MB); beyond it, reducedStep
	polishProximal      = 1e-8    // the hinge step's proximal weight, relative to β/maxⱼ‖wⱼ‖ (the norm's curvature)
	polishCollapse      = 1e-6    // a block passing within this × its norm of zero leaves
	polishEnter         = 1e-9    // a dormant block enters when its dual constraint exceeds β by this (relative)
	polishEnterSize     = 1e-6    // its value enters at this × the largest block's norm
	polishRefinements   = 2       // iterative refinement steps of reducedStep
	polishMaxEntries    = 1 << 25 // n·R: the dense Ã (256 MB)
)

// newPolisher sets up the restricted program of the given blocks, those with a
// nonzero value; it returns nil when the dense system would be too large.
func newPolisher(loss Loss, y []float64, beta float64, blocks []*polishBlock) *polisher {
	n := len(y)
	po := &polisher{n: n, loss: loss, y: y, beta: beta, beta0: beta}
	cols := 0
	for _, b := range blocks {
		if norm2(b.u) == 0 {
			po.dormant = append(po.dormant, b)
			continue
		}
		po.blocks = append(po.blocks, b)
		cols += b.base.Cols
	}
	if n*cols > polishMaxEntries {
		return nil
	}
	po.yhat, po.eta, po.curv, po.side = make([]float64, n), make([]float64, n), make([]float64, n), make([]int8, n)
	for _, b := range po.blocks {
		b.tightRows()
		b.basis()
	}
	// Normalize: with σ the largest entry of the blocks' matrices, Ã/σ has entries of
	// order one whatever the data's scale (Validate allows 1e-100 to 1e100), so the
	// proximal weight and the pivoting of the KKT systems do not depend on it.
	for _, b := range po.blocks {
		for k := 0; k < n; k++ {
			for _, v := range b.base.Data[k*b.base.Stride : k*b.base.Stride+b.base.Cols] {
				po.scale = math.Max(po.scale, math.Abs(v))
			}
		}
	}
	if po.scale == 0 {
		po.scale = 1
	}
	po.beta = beta / po.scale
	return po
}

// tightRows sets the rows of the block's cone at zero.
func (b *polishBlock) tightRows() {
	b.act = b.act[:0]
	if b.cone == nil {
		return
	}
	n, d := b.base.Rows, b.base.Cols
	nu := norm2(b.u)
	for k := 0; k < n; k++ {
		row := b.base.Data[k*b.base.Stride : k*b.base.Stride+d]
		if math.Abs(b.cone[k]*dot(row, b.u)) <= polishRowTight*norm2(row)*nu {
			b.act = append(b.act, k)
		}
	}
}

// basis sets Z, an orthonormal basis of the null space of the tight rows (by an SVD
// of them), w = Zᵀu and BZ; a block with no freedom left is dropped.
func (b *polishBlock) basis() {
	n, d := b.base.Rows, b.base.Cols
	var z *mat.Dense
	if len(b.act) == 0 {
		z = mat.NewDense(d, d, nil)
		for i := 0; i < d; i++ {
			z.Set(i, i, 1)
		}
	} else {
		g := mat.NewDense(max(len(b.act), d), d, nil) // padded with zero rows: the full V
		for r, k := range b.act {
			g.SetRow(r, b.base.Data[k*b.base.Stride:k*b.base.Stride+d])
		}
		var svd mat.SVD
		if !svd.Factorize(g, mat.SVDFull) {
			b.gone = true
			return
		}
		sv := svd.Values(nil)
		var v mat.Dense
		svd.VTo(&v)
		rank := 0
		for _, s := range sv {
			if s > 1e-10*sv[0] {
				rank++
			}
		}
		if rank >= d {
			b.gone = true
			return
		}
		z = mat.DenseCopyOf(v.Slice(0, d, rank, d))
	}
	_, b.r = z.Dims()
	b.z = z.RawMatrix().Data
	b.w = make([]float64, b.r)
	blas64.Gemv(blas.Trans, 1, z.RawMatrix(), blas64.Vector{N: d, Inc: 1, Data: b.u}, 0, blas64.Vector{N: b.r, Inc: 1, Data: b.w})
	b.work += float64(2*n*d*b.r + 4*d*d*d)
	b.bz = make([]float64, n*b.r)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, b.base, z.RawMatrix(), 0, blas64.General{Rows: n, Cols: b.r, Stride: b.r, Data: b.bz})
}

// build lays out Ã from the live blocks.
func (po *polisher) build() {
	defer func() { po.work += float64(po.n * po.cols) }()
	po.cols = 0
	for _, b := range po.blocks {
		if b.gone {
			continue
		}
		b.off = po.cols
		po.cols += b.r
	}
	n, R := po.n, po.cols
	if cap(po.at) < n*R {
		po.at = make([]float64, n*R)
	}
	po.at = po.at[:n*R]
	for _, b := range po.blocks {
		if b.gone {
			continue
		}
		for k := 0; k < n; k++ {
			dst := po.at[k*R+b.off : k*R+b.off+b.r]
			src := b.bz[k*b.r : (k+1)*b.r]
			for c, v := range src {
				dst[c] = b.pred[k] * v / po.scale
			}
		}
	}
}

// state packs the live blocks' w into one vector.
func (po *polisher) state() []float64 {
	w := make([]float64, po.cols)
	for _, b := range po.blocks {
		if !b.gone {
			for i, v := range b.w {
				w[b.off+i] = v * po.scale
			}
		}
	}
	return w
}

// objective returns the restricted objective at w (and sets yhat); for the hinge
// loss the penalty form Σ (1 − yŷ)₊ + β Σ‖w‖, which the margin constraints leave
// unchanged at feasible points.
func (po *polisher) objective(w []float64) float64 {
	po.predict(w)
	return po.loss.Value(po.yhat, po.y) + po.beta*po.norms(w)
}

func (po *polisher) predict(w []float64) {
	if po.cols == 0 {
		clear(po.yhat)
		return
	}
	blas64.Gemv(blas.NoTrans, 1, blas64.General{Rows: po.n, Cols: po.cols, Stride: po.cols, Data: po.at},
		blas64.Vector{N: po.cols, Inc: 1, Data: w}, 0, blas64.Vector{N: po.n, Inc: 1, Data: po.yhat})
	po.work += 2 * float64(po.n*po.cols)
}

// normMax returns maxⱼ ‖wⱼ‖ over the live blocks.
func (po *polisher) normMax(w []float64) float64 {
	m := 0.0
	for _, b := range po.blocks {
		if !b.gone {
			m = math.Max(m, norm2(w[b.off:b.off+b.r]))
		}
	}
	return m
}

func (po *polisher) norms(w []float64) float64 {
	s := 0.0
	for _, b := range po.blocks {
		if !b.gone {
			s += norm2(w[b.off : b.off+b.r])
		}
	}
	return s
}

// run polishes the blocks' values; on return every block's u holds its polished value
// (zero for dropped blocks) and eta the dual candidate. For the hinge loss, margin
// holds the margins yₖẑₖ of the method's predictions (its proximal step puts the
// points of M exactly at 1), or nil to take them from the blocks' predictions. It
// reports whether Newton's method converged on a consistent active set.
func (po *polisher) run(margin []float64) bool {
	po.build()
	w := po.state()
	if po.loss == Hinge {
		if margin == nil {
			po.predict(w)
			margin = make([]float64, po.n)
			for k, p := range po.yhat {
				margin[k] = po.y[k] * p
			}
		}
		for k, m := range margin {
			switch {
			case m < 1-polishMargin:
				po.side[k] = -1
			case m > 1+polishMargin:
				po.side[k] = 1
			default:
				po.side[k] = 0
			}
		}
	}
	ok := false
	for range polishMaxIterations {
		if po.stop != nil && po.stop() {
			break
		}
		if po.cols == 0 && !po.enter(w) {
			break
		}
		if po.cols == 0 {
			po.build()
			w = po.state()
		}
		var delta []float64
		var nu []float64
		if po.loss == Hinge {
			delta, nu = po.kktStep(w)
		} else {
			delta = po.newtonStep(w)
		}
		if delta == nil {
			break
		}
		alpha, blocked := po.ratio(w, delta)
		if blocked == nil && po.loss != Hinge {
			// (The hinge loss's steps solve the margin equations: a shorter one
			// would leave them unmet.)
			alpha = po.backtrack(w, delta, alpha)
		}
		for i := range w {
			w[i] += alpha * delta[i]
		}
		converged := norm2(delta) <= polishStep*(1+norm2(w))
		if blocked != nil {
			po.setW(w)
			blocked()
			po.build()
			w = po.state()
			continue
		}
		if !converged {
			continue
		}
		if po.loss == Hinge && po.releaseMargin(nu) {
			continue
		}
		if po.releaseRows(w) {
			po.build()
			w = po.state()
			continue
		}
		if po.enter(w) {
			po.build()
			w = po.state()
			continue
		}
		ok = true
		break
	}
	po.setW(w)
	po.finish(w)
	for _, b := range po.blocks {
		po.work += b.work
	}
	return ok
}

// setW writes w back into the blocks' w and u.
func (po *polisher) setW(w []float64) {
	for _, b := range po.blocks {
		if b.gone {
			clear(b.u)
			continue
		}
		for i, v := range w[b.off : b.off+b.r] {
			b.w[i] = v / po.scale
		}
		d := b.base.Cols
		for c := 0; c < d; c++ {
			b.u[c] = dot(b.z[c*b.r:(c+1)*b.r], b.w)
		}
	}
}

// finish sets yhat and the dual candidate eta at w: ∇ℓ for the smooth losses; for the
// hinge loss −y on L, 0 on R and on M the multipliers of the last KKT step (kept in
// eta by kktStep).
func (po *polisher) finish(w []float64) {
	po.predict(w)
	if po.loss != Hinge {
		po.loss.gradient(po.yhat, po.y, po.eta, 0)
		return
	}
	for k, s := range po.side {
		switch s {
		case -1:
			po.eta[k] = -po.y[k]
		case 1:
			po.eta[k] = 0
		}
	}
}

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

// reduced reports whether the Newton system with rows rows of Ã is cheaper solved by
// reducedStep (a system of rows + S unknowns, S the live blocks) than densely in
// the R unknowns of w.
func (po *polisher) reduced(rows int) bool {
	R, S := float64(po.cols), 0.0
	for _, b := range po.blocks {
		if !b.gone {
			S++
		}
	}
	m := float64(rows)
	dense := m*R*R + R*R*R/3
	if po.loss == Hinge {
		dense = 2 * (R + m) * (R + m) * (R + m) / 3
	}
	return m*m*R+2*(m+S)*(m+S)*(m+S)/3 < dense || po.cols > polishMaxColumns
}

// reducedStep solves the Newton (KKT) system
//
//	[H + εI  Bᵀ] [δ]   [r₁]
//	[B      −eI] [ν] = [r₂],   H = blockdiag(cⱼ(I − ŵⱼŵⱼᵀ)),  cⱼ = β/‖wⱼ‖,
//
// with B the given rows of Ã, each scaled, through a system in ν and one unknown per
// block (our derivation): with C = blockdiag((cⱼ + ε)I), U = blockdiag(ŵⱼ) and
// Λ = diag(cⱼ), H + εI = C − UΛUᵀ, and the system is that of the augmented
// [[C, Bᵀ, U], [B, −eI, 0], [Uᵀ, 0, Λ⁻¹]] in (δ, ν, m); eliminating δ = C⁻¹(r₁ − Bᵀν − Um),
// whose C is a scalar per block, leaves
//
//	[BC⁻¹Bᵀ + eI   BC⁻¹U        ] [ν]   [BC⁻¹r₁ − r₂]
//	[UᵀC⁻¹Bᵀ       UᵀC⁻¹U − Λ⁻¹ ] [m] = [UᵀC⁻¹r₁    ],
//
// of size rows + S. The smooth losses' Newton system (ÃᵀWÃ + H)δ = r₁ is the case
// B = √W Ã, e = 1, r₂ = 0 (then ν = Bδ); the hinge loss's KKT system has the margin
// rows −yₖÃₖ, e the proximal weight and r₂ the margins' residuals. Forming BC⁻¹Bᵀ
// costs rows²·R, against R³ for the dense system: the route for many blocks and
// few rows (the hinge loss's margin points), and for R larger than the points.
func (po *polisher) reducedStep(w []float64, rows []int, scale []float64, e, eps float64, r1, r2 []float64) ([]float64, []float64) {
	R, m := po.cols, len(rows)
	var live []*polishBlock
	for _, b := range po.blocks {
		if !b.gone {
			live = append(live, b)
		}
	}
	S := len(live)
	cinv := make([]float64, R) // C⁻¹ per column
	what := make([]float64, R) // ŵ per column
	k22 := make([]float64, S)  // UᵀC⁻¹U − Λ⁻¹
	for j, b := range live {
		wb := w[b.off : b.off+b.r]
		nw := norm2(wb)
		c := po.beta / nw
		for i := range wb {
			cinv[b.off+i] = 1 / (c + eps)
			what[b.off+i] = wb[i] / nw
		}
		k22[j] = -eps / (c * (c + eps)) // 1/(c + ε) − 1/c, without the cancellation
	}
	// Bs = B C^{-1/2}, and BC⁻¹U.
	bs := make([]float64, m*R)
	bcu := make([]float64, m*S)
	for r, k := range rows {
		src := po.at[k*R : (k+1)*R]
		dst := bs[r*R : (r+1)*R]
		for c, v := range src {
			dst[c] = scale[r] * v * math.Sqrt(cinv[c])
		}
		for j, b := range live {
			s := 0.0
			for i := b.off; i < b.off+b.r; i++ {
				s += scale[r] * src[i] * cinv[i] * what[i]
			}
			bcu[r*S+j] = s
		}
	}
	N := m + S
	kkt := make([]float64, N*N)
	if m > 0 {
		k11 := make([]float64, m*m)
		blas64.Syrk(blas.NoTrans, 1, blas64.General{Rows: m, Cols: R, Stride: R, Data: bs}, 0,
			blas64.Symmetric{Uplo: blas.Upper, N: m, Stride: m, Data: k11})
		for i := 0; i < m; i++ {
			for j := i; j < m; j++ {
				kkt[i*N+j], kkt[j*N+i] = k11[i*m+j], k11[i*m+j]
			}
			kkt[i*N+i] += e
		}
	}
	for r := 0; r < m; r++ {
		for j := 0; j < S; j++ {
			kkt[r*N+m+j], kkt[(m+j)*N+r] = bcu[r*S+j], bcu[r*S+j]
		}
	}
	for j := 0; j < S; j++ {
		kkt[(m+j)*N+m+j] = k22[j]
	}
	po.work += float64(m)*float64(m)*float64(R) + 2*float64(N)*float64(N)*float64(N)/3 + 4*float64(m)*float64(R)
	var lu mat.LU
	lu.Factorize(mat.NewDense(N, N, kkt))
	// solve returns (δ, ν) for the right-hand side (r₁, r₂) with the factorization.
	solve := func(r1, r2 []float64) ([]float64, []float64) {
		rhs := make([]float64, N)
		c1 := make([]float64, R) // C⁻¹r₁
		for i := range c1 {
			c1[i] = cinv[i] * r1[i]
		}
		for r, k := range rows {
			rhs[r] = scale[r]*dot(po.at[k*R:(k+1)*R], c1) - r2[r]
		}
		for j, b := range live {
			rhs[m+j] = dot(what[b.off:b.off+b.r], c1[b.off:b.off+b.r])
		}
		var x mat.VecDense
		if err := lu.SolveVecTo(&x, false, mat.NewVecDense(N, rhs)); err != nil && !isCondition(err) {
			return nil, nil
		}
		sol := x.RawVector().Data
		if len(sol) != N || !allFinite(sol) {
			return nil, nil
		}
		nu, mm := sol[:m], sol[m:]
		// δ = C⁻¹(r₁ − Bᵀν − Um).
		delta := append([]float64(nil), r1...)
		for r, k := range rows {
			axpy(-scale[r]*nu[r], po.at[k*R:(k+1)*R], delta)
		}
		for j, b := range live {
			for i := b.off; i < b.off+b.r; i++ {
				delta[i] -= mm[j] * what[i]
			}
		}
		for i := range delta {
			delta[i] *= cinv[i]
		}
		return delta, append([]float64(nil), nu...)
	}
	delta, nu := solve(r1, r2)
	// The elimination loses the digits of ε against cⱼ (the radial directions have
	// eigenvalue ε): refinement against the residual of the full system restores them.
	for range polishRefinements {
		if delta == nil {
			return nil, nil
		}
		q1, q2 := po.kktResidual(w, live, rows, scale, e, eps, delta, nu, r1, r2)
		dd, dn := solve(q1, q2)
		if dd == nil {
			break
		}
		for i := range delta {
			delta[i] += dd[i]
		}
		for i := range nu {
			nu[i] += dn[i]
		}
	}
	return delta, nu
}

// kktResidual returns the residual (r₁ − (H + εI)δ − Bᵀν, r₂ − Bδ + eν) of
// reducedStep's system.
func (po *polisher) kktResidual(w []float64, live []*polishBlock, rows []int, scale []float64, e, eps float64, delta, nu, r1, r2 []float64) ([]float64, []float64) {
	R := po.cols
	q1 := append([]float64(nil), r1...)
	for _, b := range live {
		wb := w[b.off : b.off+b.r]
		db := delta[b.off : b.off+b.r]
		nw := norm2(wb)
		c := po.beta / nw
		rad := dot(wb, db) / nw
		for i := range db {
			q1[b.off+i] -= c*(db[i]-rad*wb[i]/nw) + eps*db[i]
		}
	}
	q2 := append([]float64(nil), r2...)
	for r, k := range rows {
		row := po.at[k*R : (k+1)*R]
		axpy(-scale[r]*nu[r], row, q1)
		q2[r] -= scale[r]*dot(row, delta) - e*nu[r]
	}
	return q1, q2
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

// releaseMargin moves the margin point whose multiplier lies farthest outside [0, 1]
// to R (below) or L (above); it reports whether one moved.
func (po *polisher) releaseMargin(nu []float64) bool {
	worst, wk, side := polishMultiplier, -1, int8(0)
	r := 0
	for k, s := range po.side {
		if s != 0 {
			continue
		}
		v := nu[r]
		r++
		if -v > worst {
			worst, wk, side = -v, k, 1
		}
		if v-1 > worst {
			worst, wk, side = v-1, k, -1
		}
	}
	if wk < 0 {
		return false
	}
	po.side[wk] = side
	return true
}

// releaseRows computes the multipliers of every block's tight cone rows from the
// stationarity of the restricted program in u, Fⱼᵀη + βûⱼ = G_{Aⱼ}ᵀζⱼ (least
// squares), and releases the row with the most negative multiplier, if any: the
// objective decreases by leaving it. It reports whether a row was released.
func (po *polisher) releaseRows(w []float64) bool {
	po.setW(w)
	po.finish(w)
	var worstBlock *polishBlock
	worst, wr := 0.0, -1
	for _, b := range po.blocks {
		if b.gone || len(b.act) == 0 {
			continue
		}
		n, d := b.base.Rows, b.base.Cols
		g := make([]float64, d) // Fⱼᵀη + βûⱼ
		for k := 0; k < n; k++ {
			if c := b.pred[k] * po.eta[k]; c != 0 {
				axpy(c, b.base.Data[k*b.base.Stride:k*b.base.Stride+d], g)
			}
		}
		axpy(po.beta0/norm2(b.u), b.u, g)
		po.work += float64(d * (n + d*len(b.act)))
		ga := mat.NewDense(d, len(b.act), nil) // G_Aᵀ
		scale := 0.0
		for r, k := range b.act {
			row := b.base.Data[k*b.base.Stride : k*b.base.Stride+d]
			for c := 0; c < d; c++ {
				ga.Set(c, r, b.cone[k]*row[c])
			}
			scale = math.Max(scale, norm2(row))
		}
		var zeta mat.VecDense
		if err := zeta.SolveVec(ga, mat.NewVecDense(d, g)); err != nil && !isCondition(err) || zeta.Len() != len(b.act) {
			continue
		}
		tol := polishMultiplier * (norm2(g) + po.beta0) / math.Max(scale, 1e-300)
		for r := range b.act {
			if v := zeta.AtVec(r); v < -tol && -v > worst {
				worst, wr, worstBlock = -v, r, b
			}
		}
	}
	if worstBlock == nil {
		return false
	}
	b := worstBlock
	b.act = append(b.act[:wr], b.act[wr+1:]...)
	b.basis()
	return true
}

// enter adds the dormant block whose dual constraint the current dual candidate
// violates most, ‖Π_K(−Aⱼᵀη)‖ > β (the objective decreases along that projection),
// with a small value along it. It reports whether a block entered.
func (po *polisher) enter(w []float64) bool {
	if len(po.dormant) == 0 {
		return false
	}
	po.setW(w)
	po.finish(w)
	var best *polishBlock
	var bestDir []float64
	worst := po.beta0 * (1 + polishEnter)
	for _, b := range po.dormant {
		n, d := b.base.Rows, b.base.Cols
		g := make([]float64, d) // −Aⱼᵀη
		for k := 0; k < n; k++ {
			if c := b.pred[k] * po.eta[k]; c != 0 {
				axpy(-c, b.base.Data[k*b.base.Stride:k*b.base.Stride+d], g)
			}
		}
		po.work += float64(2 * n * d)
		if b.cone != nil {
			if po.proj == nil || &po.proj.x.Data[0] != &b.base.Data[0] {
				po.proj = newConeProjector(b.base)
			}
			p, _, _ := po.proj.project(g, b.cone, 0, 1, nil, nil)
			g = append(g[:0], p...)
			po.work += float64(4 * n * d)
		}
		if v := norm2(g); v > worst {
			worst, best, bestDir = v, b, g
		}
	}
	if best == nil {
		return false
	}
	// The entering value: small against the live blocks (Newton grows it).
	size := polishEnterSize * math.Max(po.normMax(w)/po.scale, 1e-300)
	scal(size/norm2(bestDir), bestDir)
	copy(best.u, bestDir)
	for i, b := range po.dormant {
		if b == best {
			po.dormant = append(po.dormant[:i], po.dormant[i+1:]...)
			break
		}
	}
	best.gone = false
	best.tightRows()
	best.basis()
	if best.gone {
		return false
	}
	po.blocks = append(po.blocks, best)
	return true
}

// isCondition reports whether err is only gonum's warning of an ill-conditioned
// matrix (the solution is still returned).
func isCondition(err error) bool {
	_, ok := err.(mat.Condition)
	return ok
}

// ratio returns the largest step α ≤ 1 along delta that keeps every inactive cone
// row feasible, every L and R point on its side of the margin, and the sign of every
// one-dimensional block; when a constraint stops it short, also the change of the
// active set that it calls for.
func (po *polisher) ratio(w, delta []float64) (float64, func()) {
	alpha := 1.0
	var blocked func()
	po.work += 6 * float64(po.n*po.cols) // the rows' values and changes, and the margins
	for _, b := range po.blocks {
		if b.gone {
			continue
		}
		wb, db := w[b.off:b.off+b.r], delta[b.off:b.off+b.r]
		// A block whose value passes (close to) zero along the step leaves: at the
		// closest approach s = −wᵀδ/‖δ‖², when ‖w + sδ‖ is below polishCollapse‖w‖.
		if dd := dot(db, db); dd > 0 {
			if s := -dot(wb, db) / dd; s > 0 && s < alpha {
				closest := 0.0
				for i := range wb {
					v := wb[i] + s*db[i]
					closest += v * v
				}
				if math.Sqrt(closest) <= polishCollapse*norm2(wb) {
					alpha = s
					bb := b
					blocked = func() { bb.gone = true; clear(bb.u) }
				}
			}
		}
		if b.cone == nil {
			continue
		}
		inAct := make(map[int]bool, len(b.act))
		for _, k := range b.act {
			inAct[k] = true
		}
		for k := 0; k < po.n; k++ {
			if inAct[k] {
				continue
			}
			row := b.bz[k*b.r : (k+1)*b.r]
			val, dv := b.cone[k]*dot(row, wb), b.cone[k]*dot(row, db)
			if dv < 0 && val+alpha*dv < 0 {
				alpha = math.Max(0, -val/dv)
				bb, kk := b, k
				blocked = func() {
					bb.act = append(bb.act, kk)
					bb.basis()
				}
			}
		}
	}
	if po.loss == Hinge {
		R := po.cols
		for k, s := range po.side {
			if s == 0 {
				continue
			}
			m := po.y[k] * po.yhat[k]
			dm := po.y[k] * dot(po.at[k*R:(k+1)*R], delta)
			if (s < 0 && m+alpha*dm > 1 && dm > 0) || (s > 0 && m+alpha*dm < 1 && dm < 0) {
				alpha = math.Max(0, (1-m)/dm)
				kk := k
				blocked = func() { po.side[kk] = 0 }
			}
		}
	}
	return alpha, blocked
}

// backtrack halves the step from alpha until the smooth objective does not increase
// (Newton's full step is taken near the solution).
func (po *polisher) backtrack(w, delta []float64, alpha float64) float64 {
	f0 := po.objective(w)
	trial := make([]float64, len(w))
	for range 40 {
		for i := range w {
			trial[i] = w[i] + alpha*delta[i]
		}
		if f := po.objective(trial); f <= f0 || alpha < 1e-12 {
			return alpha
		}
		alpha /= 2
	}
	return alpha
}
