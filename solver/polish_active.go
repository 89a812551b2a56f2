package solver

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// The active-set changes of polishing (see polisher): points leaving the margin,
// cone rows released, blocks entering, and the ratio test that adds rows, margin
// points and vanishing blocks.

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
	released := false
	for _, b := range po.blocks {
		if b.gone || len(b.act) == 0 {
			continue
		}
		if r := po.worstRow(b); r >= 0 {
			b.act = append(b.act[:r], b.act[r+1:]...)
			b.basis()
			released = true
		}
	}
	return released
}

// worstRow returns the index in b.act of the tight row of block b with the most
// negative multiplier ζ (least squares of Fⱼᵀη + βûⱼ = G_{Aⱼ}ᵀζⱼ), or −1 when none
// is negative beyond the tolerance; it keeps the multipliers, clipped at zero, in
// b.zeta.
func (po *polisher) worstRow(b *polishBlock) int {
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
		return -1
	}
	b.zeta = b.zeta[:0]
	for r := range b.act {
		b.zeta = append(b.zeta, math.Max(zeta.AtVec(r), 0))
	}
	tol := polishMultiplier * (norm2(g) + po.beta0) / math.Max(scale, 1e-300)
	worst, wr := tol, -1
	for r := range b.act {
		if v := zeta.AtVec(r); -v > worst {
			worst, wr = -v, r
		}
	}
	return wr
}

// enter adds the dormant block whose dual constraint the current dual candidate
// violates most, ‖Π_K(−Aⱼᵀη)‖ > β (the objective decreases along that projection),
// with a small value along it. It reports whether a block entered. Its cone
// projections poll stop and count their products and least-squares solves as work
// (2nd each), and it ends without a block when stop says so or the work reaches the
// limit: at d = 785 (MNIST 28×28) the projections of 64 dormant blocks took 30 s and
// overran a solve's time limit by 21 s.
func (po *polisher) enter(w []float64) bool {
	// The candidates: the blocks zero from the start and those that left (their
	// constraints must hold at the end as much as the others').
	candidates := po.dormant
	for _, b := range po.blocks {
		if b.gone {
			candidates = append(candidates[:len(candidates):len(candidates)], b)
		}
	}
	if len(candidates) == 0 {
		return false
	}
	po.setW(w)
	po.finish(w)
	var best *polishBlock
	var bestDir []float64
	worst := po.beta0 * (1 + polishEnter)
	for _, b := range candidates {
		if po.stop != nil && po.stop() || po.exhausted() {
			return false
		}
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
			po.proj.stop = po.stop
			steps := po.proj.products + po.proj.solves
			p, act, zeta := po.proj.project(g, b.cone, 0, 1, nil, nil)
			b.dualAct, b.dualZeta = append(b.dualAct[:0], act...), append(b.dualZeta[:0], zeta...)
			po.work += float64(4*n*d) + float64(po.proj.products+po.proj.solves-steps)*float64(2*n*d)
			if po.proj.stopped {
				return false
			}
			g = append(g[:0], p...)
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
	live := true // best is one of po.blocks that left
	for i, b := range po.dormant {
		if b == best {
			po.dormant = append(po.dormant[:i], po.dormant[i+1:]...)
			live = false
			break
		}
	}
	best.gone = false
	best.tightRows()
	best.basis()
	if best.gone {
		return false
	}
	if !live {
		po.blocks = append(po.blocks, best)
	}
	return true
}

// ratio returns the largest step α ≤ 1 along delta that keeps every inactive cone
// row feasible, every L and R point on its side of the margin, and the sign of every
// one-dimensional block; when a constraint stops it short, also the change of the
// active set that it calls for.
func (po *polisher) ratio(w, delta []float64) (float64, func()) {
	alpha := 1.0
	var blocked func()
	po.work += 6 * float64(po.n*po.cols) // the rows' values and changes, and the margins
	vals, dvs, tight := make([]float64, po.n), make([]float64, po.n), make([]bool, po.n)
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
		// The rows' values BZw and changes BZδ, two products (a row's dot products
		// one by one ran at a third of the rate).
		bz := blas64.General{Rows: po.n, Cols: b.r, Stride: b.r, Data: b.bz}
		blas64.Gemv(blas.NoTrans, 1, bz, blas64.Vector{N: b.r, Inc: 1, Data: wb}, 0, blas64.Vector{N: po.n, Inc: 1, Data: vals})
		blas64.Gemv(blas.NoTrans, 1, bz, blas64.Vector{N: b.r, Inc: 1, Data: db}, 0, blas64.Vector{N: po.n, Inc: 1, Data: dvs})
		for _, k := range b.act {
			tight[k] = true
		}
		for k := 0; k < po.n; k++ {
			if tight[k] {
				tight[k] = false
				continue
			}
			val, dv := b.cone[k]*vals[k], b.cone[k]*dvs[k]
			if dv < 0 && val+alpha*dv < 0 {
				alpha = math.Max(0, -val/dv)
				bb, kk, before := b, k, norm2(wb)/po.scale
				blocked = func() {
					// The rows of a cone are homogeneous in uⱼ: a block shrinking
					// to zero meets them when it arrives there, and by rounding a
					// row may stop the step just before the collapse above would.
					// Such a block leaves too (at zero its direction ŵⱼ is 0/0 and
					// the next system NaN: on MNIST 2 vs 8 at 10×10, hinge,
					// β = 1e-3, this ended every attempt of the solve).
					if norm2(bb.u) <= polishCollapse*before {
						bb.gone = true
						clear(bb.u)
						return
					}
					bb.act = append(bb.act, kk)
					bb.basis()
				}
			}
		}
	}
	if po.loss == Hinge {
		if po.cols > 0 {
			blas64.Gemv(blas.NoTrans, 1, blas64.General{Rows: po.n, Cols: po.cols, Stride: po.cols, Data: po.at},
				blas64.Vector{N: po.cols, Inc: 1, Data: delta}, 0, blas64.Vector{N: po.n, Inc: 1, Data: dvs})
		}
		for k, s := range po.side {
			if s == 0 {
				continue
			}
			m := po.y[k] * po.yhat[k]
			dm := po.y[k] * dvs[k]
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
// (Newton's full step is taken near the solution); once the work reaches the limit
// it returns 0, no step.
func (po *polisher) backtrack(w, delta []float64, alpha float64) float64 {
	f0 := po.objective(w)
	trial := make([]float64, len(w))
	for k := range 40 {
		if k > 0 && po.exhausted() {
			return 0
		}
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
