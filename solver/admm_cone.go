package solver

import (
	"math"
	"sync/atomic"
)

// coneStepState is the v-step of ADMM's cone form: the projections with their
// per-block warm starts, and the batched verification of warm-started candidates.
type coneStepState struct {
	projs   []*coneProjector // one per worker (their scratch)
	marks   [][]bool         // one per worker: n, the active rows of the candidate being checked
	xas     [][]float64      // one per worker: n, X aⱼ of the block being projected
	workers int
	act     [][]int     // per block: active rows of the last projection
	zeta    [][]float64 // per block: their multipliers
	cache   []coneCache // per block: the factor of the active rows' Gram matrix

	pending        []int     // blocks whose warm-started candidate awaits verification
	cand, candRows []float64 // 2P×d candidates, and those pending packed
	xc             []float64 // n×2P: X candᵀ
	queued         []bool    // per block: a candidate awaits verification
	candidates     int       // candidates verified in batch (statistics)
	tol, sh        []float64 // per block: feasibility tolerance, shrink factor
	bad            []bool    // per block: argument (or candidate) violates a row
	src            []int     // per block: where X vⱼ comes from (srcArg, srcDone or a column of X candᵀ)
	coefArg        []float64 // per block: X vⱼ = coefArg·X argⱼ + coefKeep·(X vⱼ as written)
	coefKeep       []float64
	least          []float64 // per block (or pending candidate): least (2dᵢₖ − 1)xₖᵀa over the points
	pendPat        []int     // per pending candidate: its pattern
	fromCand       []candColumn
	halted         atomic.Bool // a projection of the running v-step was stopped (see coneStep)
}

func (cs *coneStepState) alloc(pr *program, workers int) {
	n, d, P := pr.n, pr.d, pr.P
	cs.workers = workers
	cs.projs, cs.marks, cs.xas = make([]*coneProjector, workers), make([][]bool, workers), make([][]float64, workers)
	gram := pr.gram()
	for w := range cs.projs {
		cs.projs[w], cs.marks[w], cs.xas[w] = newConeProjector(pr.X), make([]bool, n), make([]float64, n)
		cs.projs[w].gram = gram
	}
	cs.act = make([][]int, 2*P)
	cs.zeta = make([][]float64, 2*P)
	cs.cache = make([]coneCache, 2*P)
	cs.cand, cs.candRows = make([]float64, 2*P*d), make([]float64, 2*P*d)
	cs.xc, cs.queued = make([]float64, n*2*P), make([]bool, 2*P)
	cs.tol, cs.sh, cs.bad, cs.src = make([]float64, 2*P), make([]float64, 2*P), make([]bool, 2*P), make([]int, 2*P)
	cs.coefArg, cs.coefKeep = make([]float64, 2*P), make([]float64, 2*P)
	cs.least, cs.pendPat = make([]float64, 2*P), make([]int, 2*P)
}

// candColumn says that X vⱼ for block j is shrink × column col of X candᵀ.
type candColumn struct {
	block, col int
	shrink     float64
}

// Sources of X vⱼ in coneStep: X argⱼ (srcArg), already written (srcDone), or a
// column of X candᵀ (≥ 0).
const (
	srcArg  = -1
	srcDone = -2
)

// coneStep is the v-step of the cone form: vⱼ = (1 − κ/‖Π_{Kⱼ}(aⱼ)‖)₊ Π_{Kⱼ}(aⱼ) for
// the arguments aⱼ = ûⱼ + λⱼ, the proximal map of κ‖·‖₂ + 𝟙_{Kⱼ} (for a cone K,
// prox of a radial function plus 𝟙_K is the radial prox of the projection). One
// product X argᵀ checks feasibility of all blocks at once; feasible blocks are only
// shrunk, infeasible ones with a warm start get a candidate from their previous
// active rows (verified together in one more product), the others are projected. X vᵀ
// comes out scaled.
//
// The projections poll the driver's interruption (one outer step of Lawson and
// Hanson's method apart: at d = 785 the first v-step's projections take seconds). It
// reports false when one was stopped: the blocks are then partly written, and the
// caller returns to the point the step started from (see step).
func (a *admm) coneStep(kappa float64) bool {
	a.cs.halted.Store(false)
	a.pr.mulXT(a.xa, a.arg, 2*a.pr.P)
	a.feasibility()
	a.startBlocks(kappa)
	if a.cs.halted.Load() {
		return false
	}
	m := a.verifyCandidates(kappa)
	if a.cs.halted.Load() {
		return false
	}
	a.assembleXV(m)
	return true
}

// feasibility sets cs.bad for the blocks whose argument violates a row of its cone:
// the least (2dᵢₖ − 1)xₖᵀaⱼ of each block in one row-major pass over X argᵀ (a
// conditional move, not a branch that the data make unpredictable), against its
// tolerance.
func (a *admm) feasibility() {
	pr, cs := a.pr, &a.cs
	n, d, P := pr.n, pr.d, pr.P
	for j := 0; j < 2*P; j++ {
		cs.tol[j] = coneTolerance * norm2(a.arg[j*d:(j+1)*d]) * cs.projs[0].rowMax
		cs.least[j] = math.Inf(1)
	}
	for k := 0; k < n && !a.gated; k++ {
		rv := a.xa[k*2*P : k*2*P+P]
		rw := a.xa[k*2*P+P : (k+1)*2*P]
		sg := pr.sign[k*P : (k+1)*P]
		lv, lw := cs.least[:P], cs.least[P:]
		for i, s := range sg {
			x, y := s*rv[i], s*rw[i]
			mv, mw := lv[i], lw[i]
			if x < mv {
				mv = x
			}
			if y < mw {
				mw = y
			}
			lv[i], lw[i] = mv, mw
		}
	}
	for j := range cs.bad {
		cs.bad[j] = cs.least[j] < -cs.tol[j]
	}
}

// startBlocks shrinks the feasible blocks, projects the infeasible ones without a
// warm start, and queues candidates for those with one (the blocks spread over the
// workers).
func (a *admm) startBlocks(kappa float64) {
	pr, cs := a.pr, &a.cs
	d, P := pr.d, pr.P
	parallelEach(cs.workers, 2*P, func(w, j int) {
		i := j % P
		aj := a.arg[j*d : (j+1)*d]
		cs.queued[j] = false
		switch {
		case norm2(aj) <= kappa:
			// ‖Π_K(aⱼ)‖ ≤ ‖aⱼ‖ ≤ κ: the block is zero whatever its projection.
			clear(a.v[j*d : (j+1)*d])
			cs.sh[j], cs.src[j] = 0, srcArg
		case !cs.bad[j] || a.gated:
			cs.act[j], cs.zeta[j] = cs.act[j][:0], cs.zeta[j][:0]
			cs.sh[j] = shrinkBlock(aj, a.v[j*d:(j+1)*d], kappa)
			cs.src[j] = srcArg
		case len(cs.act[j]) > 0:
			// Warm start: the previous active rows give a candidate, verified
			// together with the other blocks' in one product.
			proj := cs.projs[w]
			proj.cache, proj.xa = &cs.cache[j], a.column(cs.xas[w], j)
			cand := cs.cand[j*d : (j+1)*d]
			cs.act[j], cs.zeta[j] = proj.candidate(aj, pr.sign, i, P, cs.act[j], cs.zeta[j], cand)
			proj.cache, proj.xa = nil, nil
			if norm2(cand) <= kappa {
				// The candidate aⱼ + G_Aᵀζ (ζ ≥ 0) bounds ‖Π_K(aⱼ)‖ from above
				// (see project): the block is zero, verified or not.
				clear(a.v[j*d : (j+1)*d])
				cs.sh[j], cs.src[j] = 0, srcArg
				return
			}
			cs.queued[j] = true
		default:
			a.projectBlock(w, j, kappa)
			cs.src[j] = srcDone
		}
	})
	cs.pending = cs.pending[:0]
	for j, q := range cs.queued {
		if q {
			cs.pending = append(cs.pending, j)
		}
	}
}

// verifyCandidates checks the pending candidates with one product X candᵀ: a
// candidate is the projection when it violates no inactive row. Verified ones are
// shrunk, the others projected. It returns the number of candidates (the columns of
// X candᵀ).
func (a *admm) verifyCandidates(kappa float64) int {
	pr, cs := a.pr, &a.cs
	n, d, P := pr.n, pr.d, pr.P
	m := len(cs.pending)
	cs.candidates += m
	if m == 0 {
		return 0
	}
	for r, j := range cs.pending {
		copy(cs.candRows[r*d:(r+1)*d], cs.cand[j*d:(j+1)*d])
		cs.bad[j] = false
		cs.pendPat[r] = j % P
		cs.least[r] = math.Inf(1)
	}
	// X candᵀ (n×m, row-major by point, as X argᵀ), and the least
	// (2dᵢₖ − 1)xₖᵀcand of each candidate in one row-major pass.
	xc := cs.xc[:n*m]
	pr.mulXT(xc, cs.candRows[:m*d], m)
	pat, least := cs.pendPat[:m], cs.least[:m]
	for k := 0; k < n; k++ {
		row := xc[k*m : (k+1)*m]
		sg := pr.sign[k*P : (k+1)*P]
		for r, v := range row {
			x, l := sg[pat[r]]*v, least[r]
			if x < l {
				l = x
			}
			least[r] = l
		}
	}
	// Active rows sit at zero up to rounding, far inside the tolerance, so only a
	// candidate whose least product is below it needs the rows checked one by one.
	parallelEach(cs.workers, m, func(w, r int) {
		j := cs.pending[r]
		if least[r] < -cs.tol[j] {
			cs.bad[j] = a.violatesInactive(w, j, pat[r], xc, r, m)
		}
		if cs.bad[j] {
			a.projectBlock(w, j, kappa)
			cs.src[j] = srcDone
			return
		}
		cs.projs[w].activeRows += len(cs.act[j])
		cs.sh[j] = shrinkBlock(cs.cand[j*d:(j+1)*d], a.v[j*d:(j+1)*d], kappa)
		cs.src[j] = r
	})
	return m
}

// violatesInactive reports whether candidate r of block j (pattern i; column r of
// the n×m matrix xc) violates a row outside its active set (worker w's scratch).
func (a *admm) violatesInactive(w, j, i int, xc []float64, r, m int) bool {
	pr, cs := a.pr, &a.cs
	P := pr.P
	tol := -cs.tol[j]
	mark := cs.marks[w]
	for _, k := range cs.act[j] {
		mark[k] = true
	}
	bad := false
	for k := 0; k < pr.n; k++ {
		if pr.sign[k*P+i]*xc[k*m+r] < tol && !mark[k] {
			bad = true
			break
		}
	}
	for _, k := range cs.act[j] {
		mark[k] = false
	}
	return bad
}

// assembleXV sets X vᵀ = shrink × X argᵀ in one branch-free row-major pass (keeping
// the columns projectBlock wrote), then the verified candidates' columns from the m
// columns of X candᵀ.
func (a *admm) assembleXV(m int) {
	pr, cs := a.pr, &a.cs
	n, P := pr.n, pr.P
	xv := a.ev.xu
	for j := range cs.src {
		cs.coefArg[j], cs.coefKeep[j] = 0, 0
		switch cs.src[j] {
		case srcArg:
			cs.coefArg[j] = cs.sh[j]
		case srcDone:
			cs.coefKeep[j] = 1
		}
	}
	cs.fromCand = cs.fromCand[:0]
	for j, r := range cs.src {
		if r >= 0 {
			cs.fromCand = append(cs.fromCand, candColumn{j, r, cs.sh[j]})
		}
	}
	for k := 0; k < n; k++ {
		out := xv[k*2*P : (k+1)*2*P]
		xa := a.xa[k*2*P : (k+1)*2*P]
		for j, c := range cs.coefArg {
			out[j] = cs.coefKeep[j]*out[j] + c*xa[j]
		}
		xc := cs.xc[k*m : (k+1)*m]
		for _, c := range cs.fromCand {
			out[c.block] = c.shrink * xc[c.col]
		}
	}
}

// projectBlock runs the full projection of block j on worker w, warm-started from
// its active rows; once a projection of the step was stopped (cs.halted) it does
// nothing.
func (a *admm) projectBlock(w, j int, kappa float64) {
	pr, cs := a.pr, &a.cs
	n, d, P := pr.n, pr.d, pr.P
	if cs.halted.Load() {
		return
	}
	i := j % P
	proj := cs.projs[w]
	proj.cache, proj.xa, proj.zeroBelow = &cs.cache[j], a.column(cs.xas[w], j), kappa
	pv, act, zeta := proj.project(a.arg[j*d:(j+1)*d], pr.sign, i, P, cs.act[j], cs.zeta[j])
	proj.cache, proj.xa, proj.zeroBelow = nil, nil, 0
	cs.act[j], cs.zeta[j] = act, zeta
	if proj.stopped {
		cs.halted.Store(true)
		return
	}
	sh := 0.0
	if proj.zeroed {
		clear(a.v[j*d : (j+1)*d]) // its norm is at most κ: the threshold gives zero
	} else {
		sh = shrinkBlock(pv, a.v[j*d:(j+1)*d], kappa)
	}
	xv := a.ev.xu
	for k := 0; k < n; k++ {
		xv[k*2*P+j] = sh * proj.xv[k]
	}
}

// column copies column j of X argᵀ (a.xa, n×2P) into dst and returns it, or nil
// without a Gram matrix (the projector then computes its products itself).
func (a *admm) column(dst []float64, j int) []float64 {
	if a.pr.gramXX == nil {
		return nil
	}
	w := 2 * a.pr.P
	for k := range dst {
		dst[k] = a.xa[k*w+j]
	}
	return dst
}

// stats returns the projectors' statistics summed over the workers.
func (cs *coneStepState) stats() (projections, products, activeRows int) {
	for _, p := range cs.projs {
		projections += p.projections
		products += p.products
		activeRows += p.activeRows
	}
	return
}
