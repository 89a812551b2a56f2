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
	grams     map[*polishBlock]*blockGram // the hinge loss's Gram matrices (see gramBlocks)
	stop      func() bool                 // if set, polled every step: cancellation and the time limit
	limit     float64                     // if > 0, run takes no step that would bring the work above it (the caller's budget)
	skipped   bool                        // run stopped before the bases were complete: nothing was polished
	maxSteps  int                         // if > 0, at most this many steps and active-set changes (below polishMaxIterations)
	minSteps  int                         // if > 0 with a limit, run starts only when this many Newton steps fit in it
}

// polishBlock is one block of the restricted program: uⱼ ∈ ℝᵈ with predictions
// pred ∘ (B uⱼ) and, if cone is set, the constraints cone ∘ (B uⱼ) ≥ 0.
type polishBlock struct {
	base       blas64.General // B, n×d
	pred, cone []float64      // n
	u          []float64      // d: the value, in and out

	act     []int     // tight cone rows
	z       []float64 // d×r: orthonormal basis of their null space
	r       int
	bz      []float64 // n×r: B Z
	w       []float64 // r
	off     int       // first column of the block in Ã
	gone    bool      // dropped (its value is zero)
	laid    bool      // Ã holds BZ in its columns from off (see build)
	version int       // counts the bases (see blockGram)
	work    float64   // floating-point operations of its bases

	// The multipliers of the dual constraint ‖Π_K(−Fⱼᵀη)‖ ≤ β at the last check
	// (see admm.warmCertificate): zeta, ζ ≥ 0 of the tight rows act (worstRow), and
	// for a block at zero the active rows and multipliers of its projection (enter).
	zeta     []float64
	dualAct  []int
	dualZeta []float64
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
	// Normalize: with σ the largest entry of the blocks' matrices, Ã/σ has entries of
	// order one whatever the data's scale (Validate allows 1e-100 to 1e100), so the
	// proximal weight and the pivoting of the KKT systems do not depend on it.
	var seen blas64.General // the blocks usually share one matrix: scan it once
	for _, b := range po.blocks {
		if len(b.base.Data) == 0 || len(seen.Data) > 0 && &b.base.Data[0] == &seen.Data[0] &&
			b.base.Rows == seen.Rows && b.base.Cols == seen.Cols && b.base.Stride == seen.Stride {
			continue
		}
		seen = b.base
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

// prepare sets every live block's tight rows and basis, checking before each block
// that its work fits in the limit and polling stop: at d = 785 a block's basis (an
// SVD of its tight rows, d×d, and the product BZ) costs about 4·10⁹ operations, and
// the bases of twenty blocks take longer than a whole budget. It reports false when
// it stopped (the blocks' values are unchanged).
func (po *polisher) prepare() bool {
	for _, b := range po.blocks {
		rows := float64(2 * b.base.Rows * b.base.Cols) // tightRows
		if po.stop != nil && po.stop() || po.limit > 0 && po.spent()+rows > po.limit {
			return false
		}
		b.tightRows()
		if po.limit > 0 && po.spent()+b.basisCost() > po.limit {
			return false
		}
		b.basis()
	}
	return true
}

// basisCost bounds the operations of the block's basis once its tight rows are
// known: a copy of B without them, else the SVD of max(|A|, d) rows and the product
// BZ.
func (b *polishBlock) basisCost() float64 {
	n, d := float64(b.base.Rows), float64(b.base.Cols)
	if len(b.act) == 0 {
		return n * d
	}
	return 4*d*d*d + 2*n*d*d
}

// tightRows sets the rows of the block's cone at zero.
func (b *polishBlock) tightRows() {
	b.act = b.act[:0]
	if b.cone == nil {
		return
	}
	n, d := b.base.Rows, b.base.Cols
	b.work += float64(2 * n * d)
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
	b.laid = false
	b.version++
	if len(b.act) == 0 {
		// Z = I: w = u and BZ = B, copied (a product with I costs 2nd² at d = 785).
		z := mat.NewDense(d, d, nil)
		for i := 0; i < d; i++ {
			z.Set(i, i, 1)
		}
		b.r, b.z, b.w = d, z.RawMatrix().Data, append([]float64(nil), b.u...)
		b.bz = make([]float64, n*d)
		for k := 0; k < n; k++ {
			copy(b.bz[k*d:(k+1)*d], b.base.Data[k*b.base.Stride:k*b.base.Stride+d])
		}
		b.work += float64(n * d)
		return
	}
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
	z := mat.DenseCopyOf(v.Slice(0, d, rank, d))
	_, b.r = z.Dims()
	b.z = z.RawMatrix().Data
	b.w = make([]float64, b.r)
	blas64.Gemv(blas.Trans, 1, z.RawMatrix(), blas64.Vector{N: d, Inc: 1, Data: b.u}, 0, blas64.Vector{N: b.r, Inc: 1, Data: b.w})
	b.work += float64(2*n*d*b.r + 4*d*d*d)
	b.bz = make([]float64, n*b.r)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, b.base, z.RawMatrix(), 0, blas64.General{Rows: n, Cols: b.r, Stride: b.r, Data: b.bz})
}

// build lays out Ã from the live blocks. A block whose basis is unchanged since the
// last layout (laid) keeps its columns, moved in place to its new offset: after one
// active-set change only the changed block's columns are computed again. The moves
// go forward when no kept block moves right and the rows do not widen (a row left or
// a block dropped), backward when none moves left and the rows do not narrow (a
// block entered, at the end); a destination then never overwrites a source still to
// be read. Otherwise every block is laid out again.
func (po *polisher) build() {
	n, oldR := po.n, po.cols
	old := make(map[*polishBlock]int, len(po.blocks))
	forward, backward := true, true
	po.cols = 0
	for _, b := range po.blocks {
		if b.gone {
			b.laid = false
			continue
		}
		if b.laid && po.at != nil {
			old[b] = b.off
			forward = forward && po.cols <= b.off
			backward = backward && po.cols >= b.off
		}
		b.off = po.cols
		po.cols += b.r
	}
	R := po.cols
	forward, backward = forward && R <= oldR, backward && R >= oldR
	if !forward && !backward {
		clear(old)
	}
	if cap(po.at) < n*R {
		grown := make([]float64, n*R)
		copy(grown, po.at[:n*oldR]) // the sources, at their old places
		po.at = grown
	}
	po.at = po.at[:max(n*R, n*oldR)]
	rows := make([]int, n)
	for k := range rows {
		rows[k] = k
		if !forward {
			rows[k] = n - 1 - k
		}
	}
	for _, k := range rows {
		for i := range po.blocks {
			b := po.blocks[i]
			if !forward {
				b = po.blocks[len(po.blocks)-1-i]
			}
			if b.gone {
				continue
			}
			dst := po.at[k*R+b.off : k*R+b.off+b.r]
			if off, ok := old[b]; ok {
				copy(dst, po.at[k*oldR+off:k*oldR+off+b.r])
				continue
			}
			src := b.bz[k*b.r : (k+1)*b.r]
			for c, v := range src {
				dst[c] = b.pred[k] * v / po.scale
			}
		}
	}
	po.at = po.at[:n*R]
	for _, b := range po.blocks {
		b.laid = !b.gone
	}
	po.work += float64(n * R) // counted as a full layout (the budgets' unit)
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
// reports whether Newton's method converged on a consistent active set. When stop or
// the limit ends it before the bases are complete, or the limit leaves no room for
// a first step (or for minSteps steps), it sets skipped and changes no block.
func (po *polisher) run(margin []float64) bool {
	if !po.prepare() {
		return po.skip()
	}
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
	most := polishMaxIterations
	if po.maxSteps > 0 {
		most = min(most, po.maxSteps)
	}
	for step := range most {
		if po.stop != nil && po.stop() || po.exhausted() {
			break
		}
		next := po.stepCost(po.stepRows()) + po.stepExtra()
		if step == 0 && po.limit > 0 && po.minSteps > 0 && po.spent()+float64(po.minSteps)*next > po.limit {
			// Not the steps an attempt at the right structure takes: the bases
			// were for nothing, and the point is the caller's (its certificate
			// would be one more for nothing).
			return po.skip()
		}
		if po.limit > 0 && po.spent()+next > po.limit {
			if step == 0 {
				return po.skip() // not one step fits: as above
			}
			break // the step would overrun the budget
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
	po.work = po.spent()
	for _, b := range po.blocks {
		b.work = 0
	}
	return ok
}

// skip ends run before any step: skipped set, the work so far in po.work, no block
// changed.
func (po *polisher) skip() bool {
	po.skipped = true
	po.work = po.spent()
	for _, b := range po.blocks {
		b.work = 0
	}
	return false
}

// stepExtra returns the operations around a Newton step besides its system: the
// ratio test (6nR), the first trial of the backtracking (4nR) and the predictions
// of finish (2nR).
func (po *polisher) stepExtra() float64 {
	return 12 * float64(po.n*po.cols)
}

// exhausted reports whether the work so far has reached the limit.
func (po *polisher) exhausted() bool {
	return po.limit > 0 && po.spent() >= po.limit
}

// spent returns the work so far: the steps' and the blocks' bases'.
func (po *polisher) spent() float64 {
	w := po.work
	for _, b := range po.blocks {
		w += b.work
	}
	return w
}

// stepRows returns the rows of Ã in the next Newton step: every point for the smooth
// losses, the margin points for the hinge loss.
func (po *polisher) stepRows() int {
	if po.loss != Hinge {
		return po.n
	}
	m := 0
	for _, s := range po.side {
		if s == 0 {
			m++
		}
	}
	return m
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
