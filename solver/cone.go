package solver

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// coneProjector projects onto polyhedral cones K = {v ∈ ℝᵈ : Gv ≥ 0} with
// G = (2D − I)X, rows gₖ = ±xₖ. The projection Π_K(a) = argmin_{v∈K} ‖v − a‖ is,
// through its dual v = a + Gᵀζ, the non-negative least-squares problem
// min_{ζ≥0} ‖a + Gᵀζ‖², solved by the active-set method of Lawson and Hanson (1974),
// entering up to coneBatch violated rows per outer step where that pays (see
// mostViolated): it ends after finitely many steps with linearly independent active
// rows (at most rank X ≤ d of them) and can be warm-started from the previous active
// set, which near an ADMM solution is already the final one. The multipliers ζ ≥ 0 are the
// cone multipliers of the dual certificate.
type coneProjector struct {
	x      blas64.General // n×d
	n, d   int
	rowMax float64   // maxₖ ‖xₖ‖
	inAct  []bool    // n
	xv     []float64 // X v for the returned v
	gv     []float64 // G v
	v      []float64 // d
	z      []float64
	batch  []int      // the rows entering at one outer step
	cache  *coneCache // the factor cache of the cone being projected (nil: own)
	own    coneCache

	// batchLimit, if positive, replaces coneBatch (one: Lawson and Hanson's method
	// as published, which the tests compare with).
	batchLimit int

	sign        []float64 // the cone's row signs: sign[off + k·stride]
	off, stride int

	// With the Gram matrix XXᵀ (gram, n×n, shared and read-only) and the product Xa
	// of the argument (xa, set by the caller for one call), Xv = Xa + Σ ζᵢ gₖᵢ-columns
	// of XXᵀ costs n per active row instead of a product n×d, and the
	// least-squares systems read their entries instead of computing dot products of
	// length d: for d = 101 and 40 active rows a projection's outer step is 2.5
	// times cheaper, for d = 785 twenty times.
	gram, xa []float64

	// stop, if set, is polled at every step of the outer loop (cancellation and the
	// time limit); when it returns true the projection ends early with stopped set
	// and returns a + G_Aᵀζ for the active rows so far, ζ ≥ 0: a point of the polar
	// decomposition's feasible set, so its norm is still an upper bound on
	// ‖Π_K(a)‖ (see project), though not the projection.
	stop    func() bool
	stopped bool
	// maxSteps, if positive, bounds the steps of the outer loop of one projection;
	// at the bound it ends as when stopped, with an upper bound on ‖Π_K(a)‖ (but
	// without setting stopped: only the caller's certificate uses it).
	maxSteps int
	// zeroBelow, if positive, ends a projection as soon as its iterate's norm is at
	// most zeroBelow, returning that iterate (with zeroed set): its norm bounds
	// ‖Π_K(a)‖ from above (see project), so the group soft threshold by zeroBelow
	// maps the projection to zero, as it maps the iterate. ADMM's v-step sets it to
	// its threshold κ: a block that ends at zero needs no exact projection.
	zeroBelow float64
	zeroed    bool

	projections, solves, activeRows, products, steps int // statistics
}

func (c *coneProjector) sg(k int) float64 { return c.sign[c.off+k*c.stride] }

// Tolerances of the projection.
const (
	// coneTolerance: a row is violated when gₖᵀv < −coneTolerance·‖a‖·maxₖ‖xₖ‖,
	// safely above the rounding of a d-term product.
	coneTolerance = 1e-12
	// coneDependent: see leastSquares.
	coneDependent = 1e-12
)

func newConeProjector(x blas64.General) *coneProjector {
	c := &coneProjector{x: x, n: x.Rows, d: x.Cols, inAct: make([]bool, x.Rows),
		xv: make([]float64, x.Rows), gv: make([]float64, x.Rows), v: make([]float64, x.Cols)}
	for k := 0; k < c.n; k++ {
		c.rowMax = math.Max(c.rowMax, norm2(c.row(k)))
	}
	return c
}

func (c *coneProjector) row(k int) []float64 { return c.x.Data[k*c.x.Stride : k*c.x.Stride+c.d] }

// project returns Π_K(a) for the cone whose row signs are sign[off], sign[off+stride],
// … (one per point). act and zeta are a warm start (active rows with positive
// multipliers; may be empty) and are returned updated (reusing their storage). After
// the call c.xv and c.gv hold Xv and Gv for the returned v, which is reused by the
// next call.
//
// Every iterate of the method is v = a + G_Aᵀζ with ζ ≥ 0, and
// ‖Π_K(a)‖ = min_{ζ≥0} ‖a + Gᵀζ‖ (Moreau: a − Π_K(a) is the projection onto the polar
// cone {−Gᵀζ : ζ ≥ 0}), so when c.stop ends it early (c.stopped), ‖v‖ is an upper
// bound on ‖Π_K(a)‖: what a certificate needs, and all it gets once the time is up.
func (c *coneProjector) project(a, sign []float64, off, stride int, act []int, zeta []float64) ([]float64, []int, []float64) {
	c.projections++
	c.forgetOwn()
	c.stopped, c.zeroed = false, false
	c.sign, c.off, c.stride = sign, off, stride
	tol := coneTolerance * math.Max(norm2(a), 1e-300) * c.rowMax
	for _, k := range act {
		c.inAct[k] = true
	}
	defer func() {
		for _, k := range act {
			c.inAct[k] = false
		}
	}()
	var ok bool
	if len(act) > 0 {
		if act, zeta, ok = c.inner(a, act, zeta); !ok {
			for _, k := range act {
				c.inAct[k] = false
			}
			act, zeta = act[:0], zeta[:0]
		}
	}
	// With the Gram matrix the products need no v: it is formed once, at the end
	// (at d = 785 forming it took as long as the products).
	fast := c.gram != nil && c.xa != nil
	fresh := false // Xv and Gv are those of the current act, zeta
	for step := range 3*c.d + 10 {
		if fast {
			c.setProducts(act, zeta)
		} else {
			c.setV(a, act, zeta)
		}
		fresh = true
		if c.zeroBelow > 0 && c.withinZeroBelow(a, act, zeta, fast) {
			c.zeroed = true
			break
		}
		if c.maxSteps > 0 && step >= c.maxSteps {
			break // an upper bound, as when stopped
		}
		if c.stop != nil && c.stop() {
			c.stopped = true
			break
		}
		c.steps++
		batch := c.mostViolated(tol, len(act))
		if len(batch) == 0 {
			break
		}
		kw := batch[0]
		if len(batch) > 1 {
			var entered bool
			var z []float64
			if act, zeta, z, entered = c.enter(a, act, zeta, batch); entered {
				fresh = false
				if act, zeta, ok = c.innerFrom(a, act, zeta, z); !ok {
					act, zeta = c.dropDependent(act, zeta)
				}
				continue
			}
		}
		act = append(act, kw)
		zeta = append(zeta, 0)
		c.inAct[kw] = true
		fresh = false
		if act, zeta, ok = c.inner(a, act, zeta); !ok {
			// The new row depends on the active ones: v is optimal up to rounding.
			c.inAct[kw] = false
			act, zeta = act[:len(act)-1], zeta[:len(zeta)-1]
			for i := range zeta {
				if zeta[i] < 0 {
					zeta[i] = 0
				}
			}
			c.setV(a, act, zeta)
			fast, fresh = false, true
			break
		}
	}
	switch {
	case !fresh:
		c.setV(a, act, zeta)
	case fast:
		c.setPoint(a, act, zeta)
	}
	c.activeRows += len(act)
	return c.v, act, zeta
}

// coneBatch bounds the rows that enter at one outer step of project. Lawson and
// Hanson enter one, the most violated; each step then recomputes the products Gv
// (n per active row) and solves the least-squares system afresh, so that a cold
// projection with m final rows costs about n·m²/2 in products alone. Entering the
// coneBatch most violated rows together divides the number of steps; rows whose
// least-squares multiplier comes out non-positive leave again before any step is
// taken (see enter). On MNIST 2 vs 8 at 28×28 (n = 1935, 583 columns, P = 64,
// squared loss, β = 1e-3, 100 iterations on one thread) the outer steps fell from
// 75 611 to 34 535 (most of the rest are the last step of a projection, which finds
// no violated row), the products from 5.7 s to 3.0 s and the run from 18.8 s to
// 16.1 s CPU; 4 rows per step saved less, 16 and 32 no more (more rows left again).
const coneBatch = 8

// coneBatchMinCols: with fewer columns the active sets, and with them the products'
// cost per step, are small, and the projections enter one row per step as Lawson
// and Hanson's (so that small programs keep their iterates exactly).
const coneBatchMinCols = 64

// mostViolated returns the inactive rows with gₖᵀv < −tol, most violated first: at
// most c.batchLimit of them (coneBatch when zero), and no more than the d+1 rows the
// factor has room for beside the m active ones. One, as Lawson and Hanson, for a
// projection bounded by maxSteps (the certificate's, whose bound then counts rows
// entered), for one without the Gram matrix (polishing's and CheckViolations',
// whose work is counted by steps and least-squares solves), and below
// coneBatchMinCols columns.
func (c *coneProjector) mostViolated(tol float64, m int) []int {
	limit := coneBatch
	if c.batchLimit > 0 {
		limit = c.batchLimit
	}
	limit = min(limit, c.d+1-m)
	b := c.batch[:0]
	if limit <= 0 || c.maxSteps > 0 || c.gram == nil || c.xa == nil || c.d < coneBatchMinCols {
		limit = 1 // leastSquares reports the overflow as dependence
	}
	for k, g := range c.gv {
		if g >= -tol || c.inAct[k] || (len(b) == limit && g >= c.gv[b[len(b)-1]]) {
			continue
		}
		if len(b) < limit {
			b = append(b, k)
		} else {
			b[len(b)-1] = k
		}
		for i := len(b) - 1; i > 0 && c.gv[b[i]] < c.gv[b[i-1]]; i-- { // insertion
			b[i], b[i-1] = b[i-1], b[i]
		}
	}
	c.batch = b
	return b
}

// enter appends the rows of batch (most violated first) to the active rows with zero
// multipliers and keeps those whose least-squares multipliers over the enlarged set
// are all positive: it drops the new rows with a non-positive multiplier (and a new
// row that the factorization finds dependent) and solves again, until the
// remaining new rows all have positive multipliers. Lawson and Hanson's inner loop
// then starts from ζ, zero on the new rows, towards the least-squares solution z,
// which is strictly positive on them: the objective ‖a + G_Aᵀζ‖² decreases strictly
// along the segment (z minimizes it over the enlarged set, and ζ ≠ z), so no active
// set recurs and the method still ends after finitely many steps. It reports false,
// with the active rows as they were, when no new row remains (or the old rows are
// found dependent): the caller then enters the most violated row alone, as Lawson
// and Hanson do, for which z is positive on it by their argument. With true it
// returns z, for the inner loop's first step.
func (c *coneProjector) enter(a []float64, act []int, zeta []float64, batch []int) ([]int, []float64, []float64, bool) {
	base := len(act)
	for _, k := range batch {
		act = append(act, k)
		zeta = append(zeta, 0)
		c.inAct[k] = true
	}
	cache := c.cache
	if cache == nil {
		cache = &c.own
	}
	for len(act) > base {
		z, ok := c.leastSquares(a, act)
		if !ok {
			h := len(cache.act) // the dependent row
			if h < base || h >= len(act) {
				break
			}
			c.inAct[act[h]] = false
			act = append(act[:h], act[h+1:]...)
			zeta = zeta[:len(act)]
			continue
		}
		keepFactor := len(cache.act) == len(act)
		j, removed := base, 0
		for i := base; i < len(act); i++ {
			if z[i] > 0 {
				act[j] = act[i]
				j++
				continue
			}
			c.inAct[act[i]] = false
			if keepFactor {
				cache.remove(i-removed, c.d+1)
				removed++
			}
		}
		if j == len(act) {
			return act, zeta, z, true
		}
		act, zeta = act[:j], zeta[:j]
	}
	for _, k := range act[base:] {
		c.inAct[k] = false
	}
	return act[:base], zeta[:base], nil, false
}

// dropDependent handles a dependence that the inner loop found after rows entered
// together (rounding: the rows had been found independent when they entered): it
// drops the row where the factorization failed, keeping ζ ≥ 0 on the others, so that
// the outer loop goes on from a point of the same form a + G_Aᵀζ.
func (c *coneProjector) dropDependent(act []int, zeta []float64) ([]int, []float64) {
	cache := c.cache
	if cache == nil {
		cache = &c.own
	}
	h := min(len(cache.act), len(act)-1)
	c.inAct[act[h]] = false
	act = append(act[:h], act[h+1:]...)
	zeta = append(zeta[:h], zeta[h+1:]...)
	return act, zeta
}

// inner is Lawson and Hanson's inner loop: from ζ > 0 on the active rows (marked in
// c.inAct), move towards the least-squares solution z, dropping (and unmarking) rows
// whose multiplier reaches zero, until z > 0. It reports false when the active rows
// are numerically dependent.
func (c *coneProjector) inner(a []float64, act []int, zeta []float64) ([]int, []float64, bool) {
	return c.innerFrom(a, act, zeta, nil)
}

// innerFrom is inner with the first least-squares solution z0 already at hand (nil:
// not), as enter leaves it.
func (c *coneProjector) innerFrom(a []float64, act []int, zeta, z0 []float64) ([]int, []float64, bool) {
	for range 3*c.d + 10 {
		z, ok := z0, true
		if z0 == nil {
			z, ok = c.leastSquares(a, act)
		}
		z0 = nil
		if !ok {
			return act, zeta, false
		}
		step, hit := 1.0, -1
		for i, zi := range z {
			if zi <= 0 {
				if s := zeta[i] / (zeta[i] - zi); s < step || hit < 0 {
					step, hit = s, i
				}
			}
		}
		if hit < 0 {
			copy(zeta, z)
			return act, zeta, true
		}
		cache := c.cache
		if cache == nil {
			cache = &c.own
		}
		keepFactor := len(cache.act) == len(act) // leastSquares left the factor of act
		j := 0
		removed := 0
		for i := range zeta {
			zn := zeta[i] + step*(z[i]-zeta[i])
			if i != hit && zn > 0 {
				act[j], zeta[j] = act[i], zn
				j++
			} else {
				c.inAct[act[i]] = false
				if keepFactor {
					// Downdate the factor in place of recomputing its tail.
					cache.remove(i-removed, c.d+1)
					removed++
				}
			}
		}
		act, zeta = act[:j], zeta[:j]
	}
	return act, zeta, true
}

// remove deletes active row h from the cached factor: with row h of L deleted, the
// rows below it have one entry right of the diagonal, which Givens rotations of
// neighbouring columns (orthogonal, so L Lᵀ is unchanged) fold back; O(m²) instead of
// recomputing the Gram rows below h.
func (cc *coneCache) remove(h, s int) {
	m := len(cc.act)
	l := cc.l
	for i := h; i < m-1; i++ {
		copy(l[i*s:i*s+i+2], l[(i+1)*s:(i+1)*s+i+2])
	}
	for r := h; r < m-1; r++ {
		a, b := l[r*s+r], l[r*s+r+1]
		rad := math.Hypot(a, b)
		if rad == 0 {
			continue
		}
		cs, sn := a/rad, b/rad
		for i := r; i < m-1; i++ {
			x, y := l[i*s+r], l[i*s+r+1]
			l[i*s+r] = cs*x + sn*y
			l[i*s+r+1] = -sn*x + cs*y
		}
		l[r*s+r+1] = 0
	}
	cc.act = append(cc.act[:h], cc.act[h+1:]...)
}

// candidate runs only the inner loop from a warm active set and writes the candidate
// v = a + G_actᵀζ into v, without the product Xv that verifies it: ADMM verifies the
// candidates of all blocks with one matrix product and calls project only for those
// whose candidate violates a row.
func (c *coneProjector) candidate(a, sign []float64, off, stride int, act []int, zeta []float64, v []float64) ([]int, []float64) {
	c.projections++
	c.forgetOwn()
	c.sign, c.off, c.stride = sign, off, stride
	for _, k := range act {
		c.inAct[k] = true
	}
	act, zeta, ok := c.inner(a, act, zeta)
	for _, k := range act {
		c.inAct[k] = false
	}
	if !ok {
		act, zeta = act[:0], zeta[:0]
	}
	copy(v, a)
	for i, k := range act {
		rowAxpy(zeta[i]*c.sg(k), c.row(k), v)
	}
	return act, zeta
}

// setV sets v = a + Σᵢ ζᵢ g_{actᵢ} and its products Xv, Gv.
func (c *coneProjector) setV(a []float64, act []int, zeta []float64) {
	c.setPoint(a, act, zeta)
	if c.gram != nil && c.xa != nil {
		c.setProducts(act, zeta)
		return
	}
	blas64.Gemv(blas.NoTrans, 1, c.x, blas64.Vector{N: c.d, Inc: 1, Data: c.v}, 0, blas64.Vector{N: c.n, Inc: 1, Data: c.xv})
	c.products++
	c.setGV()
}

// setPoint sets v = a + Σᵢ ζᵢ g_{actᵢ}.
func (c *coneProjector) setPoint(a []float64, act []int, zeta []float64) {
	copy(c.v, a)
	for i, k := range act {
		rowAxpy(zeta[i]*c.sg(k), c.row(k), c.v)
	}
}

// withinZeroBelow reports whether the iterate v = a + Σᵢ ζᵢ sₖᵢ xₖᵢ has norm at most
// zeroBelow. Without the Gram matrix v is at hand. With it (fast) v is not formed,
// and forming it at every step cost a quarter of an ADMM iteration at d = 785
// (O(|A|·d) per step); its squared norm follows in O(|A|) from the products that the
// step has just formed:
//
//	‖v‖² = aᵀv + Σᵢ ζᵢ sₖᵢ (Xv)ₖᵢ = ‖a‖² + Σᵢ ζᵢ sₖᵢ ((Xa)ₖᵢ + (Xv)ₖᵢ),
//
// accepted only with a margin for its rounding (the sum's magnitude times 1e-12):
// the block is then zero for certain, not by cancellation.
func (c *coneProjector) withinZeroBelow(a []float64, act []int, zeta []float64, fast bool) bool {
	if !fast {
		return norm2(c.v) <= c.zeroBelow
	}
	aa := vdot(a, a)
	sq, mag := aa, aa
	for i, k := range act {
		t := zeta[i] * c.sg(k) * (c.xa[k] + c.xv[k])
		sq += t
		mag += math.Abs(t)
	}
	return sq+1e-12*mag <= c.zeroBelow*c.zeroBelow
}

// setProducts sets Xv = Xa + Σᵢ ζᵢ (±XXᵀ column actᵢ) and Gv from the Gram matrix,
// without v.
func (c *coneProjector) setProducts(act []int, zeta []float64) {
	n := c.n
	copy(c.xv, c.xa)
	for i, k := range act {
		vaxpy(zeta[i]*c.sg(k), c.gram[k*n:(k+1)*n], c.xv)
	}
	c.setGV()
}

// setGV sets Gv from Xv.
func (c *coneProjector) setGV() {
	sign, off, stride := c.sign, c.off, c.stride
	gv, xv := c.gv, c.xv[:len(c.gv)]
	for k := range gv {
		gv[k] = sign[off+k*stride] * xv[k]
	}
}

// gramAt returns xₖᵀxₗ, from the Gram matrix when there is one.
func (c *coneProjector) gramAt(k, l int) float64 {
	if c.gram != nil {
		return c.gram[k*c.n+l]
	}
	return dot(c.row(k), c.row(l))
}

// forgetOwn empties the projector's own factor cache before a projection without a
// caller's cache (c.cache nil): the own cache may hold the factor of another cone,
// whose rows carry other signs, and a factor row is reused when its active row
// index matches, signs unseen. (It happened: CheckViolations reuses one projector
// over all patterns, and a stale factor returned a point of norm 6.8 for an
// argument of norm 1.03 once rows entered in batches.)
func (c *coneProjector) forgetOwn() {
	if c.cache == nil {
		c.own.act = c.own.act[:0]
	}
}

// coneCache keeps the Cholesky factor of the active rows' Gram matrix of one cone
// between projections: near an ADMM solution the active set no longer changes, and a
// row added by Lawson–Hanson's outer loop only appends a row to the factor.
type coneCache struct {
	act []int
	l   []float64 // (d+1)×(d+1), row-major, lower triangle
}

// leastSquares solves min_z ‖a + G_Aᵀz‖ over the active rows A by the normal
// equations (G_A G_Aᵀ) z = −G_A a with a Cholesky factorization L Lᵀ; it reports false
// when the rows are numerically dependent: the pivot L_ii² is the squared distance of
// row i to the span of the rows before it, and one below coneDependent·‖gᵢ‖² means a
// sine of the angle below 1e-6.
func (c *coneProjector) leastSquares(a []float64, act []int) ([]float64, bool) {
	sg := c.sg
	m := len(act)
	c.solves++
	s := c.d + 1 // stride of the factor
	if m > s {
		return nil, false
	}
	if cap(c.z) < s {
		c.z = make([]float64, s)
	}
	z := c.z[:m]
	cache := c.cache
	if cache == nil {
		cache = &c.own
	}
	if len(cache.l) < s*s {
		cache.l = make([]float64, s*s)
		cache.act = cache.act[:0]
	}
	l := cache.l
	// Rows of L shared with the cached active set are kept.
	keep := 0
	for keep < m && keep < len(cache.act) && cache.act[keep] == act[keep] {
		keep++
	}
	cache.act = append(cache.act[:keep], act[keep:]...)
	for i := keep; i < m; i++ {
		ki := act[i]
		si := sg(ki)
		diag := c.gramAt(ki, ki)
		for j := 0; j <= i; j++ {
			v := diag
			if j < i {
				v = si * sg(act[j]) * c.gramAt(ki, act[j])
			}
			v -= rowDot(l[i*s:i*s+j], l[j*s:j*s+j])
			if j < i {
				l[i*s+j] = v / l[j*s+j]
			} else {
				if v <= coneDependent*diag {
					cache.act = cache.act[:i]
					return nil, false
				}
				l[i*s+i] = math.Sqrt(v)
			}
		}
	}
	for i, k := range act {
		if c.gram != nil && c.xa != nil {
			z[i] = -sg(k) * c.xa[k]
		} else {
			z[i] = -sg(k) * dot(c.row(k), a)
		}
	}
	for i := 0; i < m; i++ { // L w = b
		z[i] = (z[i] - rowDot(l[i*s:i*s+i], z[:i])) / l[i*s+i]
	}
	for i := m - 1; i >= 0; i-- { // Lᵀ z = w, by rows of L: z[:i] −= zᵢ L[i, :i]
		z[i] /= l[i*s+i]
		rowAxpy(-z[i], l[i*s:i*s+i], z[:i])
	}
	return z, true
}

// rowShort is the length below which rowDot and rowAxpy loop in Go: gonum's
// assembly kernels (vdot, vaxpy) pay a call through the BLAS interface that a short
// loop does not. Through them the triangular steps of leastSquares, with factors of
// hundreds of rows at d = 583 (MNIST at 28×28), run several times faster.
const rowShort = 16

// rowDot returns xᵀy.
func rowDot(x, y []float64) float64 {
	if len(x) >= rowShort {
		return vdot(x, y)
	}
	v := 0.0
	for k, a := range x {
		v += a * y[k]
	}
	return v
}

// rowAxpy sets y += alpha·x.
func rowAxpy(alpha float64, x, y []float64) {
	if len(x) >= rowShort {
		vaxpy(alpha, x, y)
		return
	}
	axpy(alpha, x, y)
}
