package solver

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// coneProjector projects onto polyhedral cones K = {v ∈ ℝᵈ : Gv ≥ 0} with
// G = (2D − I)X, rows gₖ = ±xₖ. The projection Π_K(a) = argmin_{v∈K} ‖v − a‖ is,
// through its dual v = a + Gᵀζ, the non-negative least-squares problem
// min_{ζ≥0} ‖a + Gᵀζ‖², solved by the active-set method of Lawson and Hanson (1974):
// it ends after finitely many steps with linearly independent active rows (at most
// rank X ≤ d of them) and can be warm-started from the previous active set, which
// near an ADMM solution is already the final one. The multipliers ζ ≥ 0 are the
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
	gram   *mat.SymDense
	rhs    *mat.VecDense
	chol   mat.Cholesky
	sol    mat.VecDense
}

// Tolerances of the projection.
const (
	// coneTolerance: a row is violated when gₖᵀv < −coneTolerance·‖a‖·maxₖ‖xₖ‖,
	// safely above the rounding of a d-term product.
	coneTolerance = 1e-12
	// coneCond: active rows whose Gram matrix has a larger condition number are
	// treated as dependent.
	coneCond = 1e12
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
func (c *coneProjector) project(a, sign []float64, off, stride int, act []int, zeta []float64) ([]float64, []int, []float64) {
	n := c.n
	sg := func(k int) float64 { return sign[off+k*stride] }
	tol := coneTolerance * math.Max(norm2(a), 1e-300) * c.rowMax
	for _, k := range act {
		c.inAct[k] = true
	}
	defer func() {
		for _, k := range act {
			c.inAct[k] = false
		}
	}()
	solveActive := func() bool {
		// Lawson–Hanson inner loop: from ζ > 0 on the active rows, move towards the
		// least-squares solution z, dropping rows whose multiplier reaches zero.
		for range 3*c.d + 10 {
			z, ok := c.leastSquares(a, act, sg)
			if !ok {
				return false
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
				return true
			}
			j := 0
			for i := range zeta {
				zn := zeta[i] + step*(z[i]-zeta[i])
				if i != hit && zn > 0 {
					act[j], zeta[j] = act[i], zn
					j++
				} else {
					c.inAct[act[i]] = false
				}
			}
			act, zeta = act[:j], zeta[:j]
		}
		return true
	}
	if len(act) > 0 && !solveActive() {
		for _, k := range act {
			c.inAct[k] = false
		}
		act, zeta = act[:0], zeta[:0]
	}
	for range 3*c.d + 10 {
		c.setV(a, act, zeta, sg)
		worst, kw := -tol, -1
		for k := 0; k < n; k++ {
			if c.gv[k] < worst && !c.inAct[k] {
				worst, kw = c.gv[k], k
			}
		}
		if kw < 0 {
			break
		}
		act = append(act, kw)
		zeta = append(zeta, 0)
		c.inAct[kw] = true
		if !solveActive() {
			// The new row depends on the active ones: v is optimal up to rounding.
			c.inAct[kw] = false
			act, zeta = act[:len(act)-1], zeta[:len(zeta)-1]
			for i := range zeta {
				if zeta[i] < 0 {
					zeta[i] = 0
				}
			}
			c.setV(a, act, zeta, sg)
			break
		}
	}
	return c.v, act, zeta
}

// setV sets v = a + Σᵢ ζᵢ g_{actᵢ} and its products Xv, Gv.
func (c *coneProjector) setV(a []float64, act []int, zeta []float64, sg func(int) float64) {
	copy(c.v, a)
	for i, k := range act {
		axpy(zeta[i]*sg(k), c.row(k), c.v)
	}
	blas64.Gemv(blas.NoTrans, 1, c.x, blas64.Vector{N: c.d, Inc: 1, Data: c.v}, 0, blas64.Vector{N: c.n, Inc: 1, Data: c.xv})
	for k := range c.gv {
		c.gv[k] = sg(k) * c.xv[k]
	}
}

// leastSquares solves min_z ‖a + G_Aᵀz‖ over the active rows A by the normal
// equations (G_A G_Aᵀ) z = −G_A a; it reports false when the rows are numerically
// dependent.
func (c *coneProjector) leastSquares(a []float64, act []int, sg func(int) float64) ([]float64, bool) {
	m := len(act)
	if m == 0 {
		return c.z[:0], true
	}
	if c.gram == nil || c.gram.SymmetricDim() < m {
		c.gram = mat.NewSymDense(max(m, c.d+1), nil)
		c.rhs = mat.NewVecDense(max(m, c.d+1), nil)
	}
	gram := c.gram.SliceSym(0, m).(*mat.SymDense)
	rhs := c.rhs.SliceVec(0, m).(*mat.VecDense)
	for i, ki := range act {
		xi := c.row(ki)
		for j := i; j < m; j++ {
			kj := act[j]
			gram.SetSym(i, j, sg(ki)*sg(kj)*dot(xi, c.row(kj)))
		}
		rhs.SetVec(i, -sg(ki)*dot(xi, a))
	}
	if !c.chol.Factorize(gram) || c.chol.Cond() > coneCond {
		return nil, false
	}
	c.sol.Reset()
	if err := c.chol.SolveVecTo(&c.sol, rhs); err != nil {
		return nil, false
	}
	if cap(c.z) < m {
		c.z = make([]float64, m, c.d+1)
	}
	c.z = c.z[:m]
	for i := range c.z {
		c.z[i] = c.sol.AtVec(i)
	}
	return c.z, true
}
