package solver

import (
	"math"
)

// coneStepState is the v-step of ADMM's cone form: the projections with their
// per-block warm starts, and the batched verification of warm-started candidates.
type coneStepState struct {
	proj  *coneProjector
	act   [][]int     // per block: active rows of the last projection
	zeta  [][]float64 // per block: their multipliers
	cache []coneCache // per block: the factor of the active rows' Gram matrix

	pending        []int     // blocks whose warm-started candidate awaits verification
	cand, candRows []float64 // 2P×d candidates, and those pending packed
	xc             []float64 // n×2P: X candᵀ
	mark           []bool    // n: active rows of the candidate being checked
	candidates     int       // candidates verified in batch (statistics)
	tol, sh        []float64 // per block: feasibility tolerance, shrink factor
	bad            []bool    // per block: argument (or candidate) violates a row
	src            []int     // per block: where X vⱼ comes from (srcArg, srcDone or a column of X candᵀ)
	coefArg        []float64 // per block: X vⱼ = coefArg·X argⱼ + coefKeep·(X vⱼ as written)
	coefKeep       []float64
	least          []float64 // per block (or pending candidate): least (2dᵢₖ − 1)xₖᵀa over the points
	pendPat        []int     // per pending candidate: its pattern
	fromCand       []candColumn
}

func (cs *coneStepState) alloc(pr *program) {
	n, d, P := pr.n, pr.d, pr.P
	cs.proj = newConeProjector(pr.X)
	cs.act = make([][]int, 2*P)
	cs.zeta = make([][]float64, 2*P)
	cs.cache = make([]coneCache, 2*P)
	cs.cand, cs.candRows = make([]float64, 2*P*d), make([]float64, 2*P*d)
	cs.xc, cs.mark = make([]float64, n*2*P), make([]bool, n)
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
func (a *admm) coneStep(kappa float64) {
	a.pr.mulXT(a.xa, a.arg, 2*a.pr.P)
	a.feasibility()
	a.startBlocks(kappa)
	m := a.verifyCandidates(kappa)
	a.assembleXV(m)
}

// feasibility sets cs.bad for the blocks whose argument violates a row of its cone:
// the least (2dᵢₖ − 1)xₖᵀaⱼ of each block in one row-major pass over X argᵀ (a
// conditional move, not a branch that the data make unpredictable), against its
// tolerance.
func (a *admm) feasibility() {
	pr, cs := a.pr, &a.cs
	n, d, P := pr.n, pr.d, pr.P
	for j := 0; j < 2*P; j++ {
		cs.tol[j] = coneTolerance * norm2(a.arg[j*d:(j+1)*d]) * cs.proj.rowMax
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
// warm start, and queues candidates for those with one.
func (a *admm) startBlocks(kappa float64) {
	pr, cs := a.pr, &a.cs
	d, P := pr.d, pr.P
	cs.pending = cs.pending[:0]
	for j := 0; j < 2*P; j++ {
		i := j % P
		aj := a.arg[j*d : (j+1)*d]
		switch {
		case !cs.bad[j] || a.gated:
			cs.act[j], cs.zeta[j] = cs.act[j][:0], cs.zeta[j][:0]
			cs.sh[j] = shrinkBlock(aj, a.v[j*d:(j+1)*d], kappa)
			cs.src[j] = srcArg
		case len(cs.act[j]) > 0:
			// Warm start: the previous active rows give a candidate, verified
			// together with the other blocks' in one product.
			cs.proj.cache = &cs.cache[j]
			cs.act[j], cs.zeta[j] = cs.proj.candidate(aj, pr.sign, i, P, cs.act[j], cs.zeta[j], cs.cand[j*d:(j+1)*d])
			cs.proj.cache = nil
			cs.pending = append(cs.pending, j)
		default:
			a.projectBlock(j, kappa)
			cs.src[j] = srcDone
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
	for r, j := range cs.pending {
		if least[r] >= -cs.tol[j] {
			continue
		}
		cs.bad[j] = a.violatesInactive(j, pat[r], xc, r, m)
	}
	for r, j := range cs.pending {
		if cs.bad[j] {
			a.projectBlock(j, kappa)
			cs.src[j] = srcDone
			continue
		}
		cs.proj.activeRows += len(cs.act[j])
		cs.sh[j] = shrinkBlock(cs.cand[j*d:(j+1)*d], a.v[j*d:(j+1)*d], kappa)
		cs.src[j] = r
	}
	return m
}

// violatesInactive reports whether candidate r of block j (pattern i; column r of
// the n×m matrix xc) violates a row outside its active set.
func (a *admm) violatesInactive(j, i int, xc []float64, r, m int) bool {
	pr, cs := a.pr, &a.cs
	P := pr.P
	tol := -cs.tol[j]
	for _, k := range cs.act[j] {
		cs.mark[k] = true
	}
	bad := false
	for k := 0; k < pr.n; k++ {
		if pr.sign[k*P+i]*xc[k*m+r] < tol && !cs.mark[k] {
			bad = true
			break
		}
	}
	for _, k := range cs.act[j] {
		cs.mark[k] = false
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

// projectBlock runs the full projection of block j, warm-started from its active rows.
func (a *admm) projectBlock(j int, kappa float64) {
	pr, cs := a.pr, &a.cs
	n, d, P := pr.n, pr.d, pr.P
	i := j % P
	cs.proj.cache = &cs.cache[j]
	pv, act, zeta := cs.proj.project(a.arg[j*d:(j+1)*d], pr.sign, i, P, cs.act[j], cs.zeta[j])
	cs.proj.cache = nil
	cs.act[j], cs.zeta[j] = act, zeta
	sh := shrinkBlock(pv, a.v[j*d:(j+1)*d], kappa)
	xv := a.ev.xu
	for k := 0; k < n; k++ {
		xv[k*2*P+j] = sh * cs.proj.xv[k]
	}
}
