package solver

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// coneProjector projects onto polyhedral cones K = {v ∈ ℝᵈ : Gv ≥ 0} with
// G = (2D − I)X, rows gₖ = ±xₖ. The projection Π_K(a) = argmin_{v∈K} ‖v − a‖ solves,
// through its dual v = a + Gᵀζ, the non-negative least-squares problem
// min_{ζ≥0} ‖a + Gᵀζ‖², here by the active-set method of Lawson and Hanson (1974),
// which ends after finitely many steps with at most rank(X) ≤ d active rows.
type coneProjector struct {
	x    *mat.Dense // n×d data
	n, d int
	gv   []float64 // G v
	act  []int     // active (passive, in Lawson–Hanson's words) rows
	zeta []float64 // multipliers of the active rows
	z    []float64
	v    []float64
}

// coneTolerance is the feasibility tolerance relative to ‖a‖·max‖xₖ‖: rounding of
// the d-term products gₖᵀv is near 1e-16 of that scale.
const coneTolerance = 1e-12

func newConeProjector(x *mat.Dense) *coneProjector {
	n, d := x.Dims()
	return &coneProjector{x: x, n: n, d: d, gv: make([]float64, n), v: make([]float64, d)}
}

// project returns Π_K(a) for the cone with row signs sign (±1 per point), and the
// number of active constraints. The returned slice is reused by the next call.
func (c *coneProjector) project(a, sign []float64) ([]float64, int) {
	n, d := c.n, c.d
	c.act = c.act[:0]
	c.zeta = c.zeta[:0]
	copy(c.v, a)
	rowMax := 0.0
	for k := 0; k < n; k++ {
		rowMax = math.Max(rowMax, norm2(c.x.RawRowView(k)))
	}
	tol := coneTolerance * math.Max(norm2(a), 1e-300) * rowMax
	inAct := make(map[int]bool)
	for outer := 0; outer < 3*d+10; outer++ {
		// Most violated constraint gₖᵀv < 0 among the inactive rows.
		worst, kw := -tol, -1
		for k := 0; k < n; k++ {
			gv := sign[k] * dot(c.x.RawRowView(k), c.v)
			c.gv[k] = gv
			if gv < worst && !inAct[k] {
				worst, kw = gv, k
			}
		}
		if kw < 0 {
			break
		}
		c.act = append(c.act, kw)
		c.zeta = append(c.zeta, 0)
		inAct[kw] = true
		for inner := 0; inner < 3*d+10; inner++ {
			z, ok := c.leastSquares(a, sign)
			if !ok {
				// Dependent active rows: drop the newest and stop (numerically optimal).
				c.act = c.act[:len(c.act)-1]
				c.zeta = c.zeta[:len(c.zeta)-1]
				delete(inAct, kw)
				c.setV(a, sign)
				return c.v, len(c.act)
			}
			allPos := true
			for _, zi := range z {
				if zi <= 0 {
					allPos = false
					break
				}
			}
			if allPos {
				copy(c.zeta, z)
				break
			}
			// Step from ζ towards z until a multiplier reaches zero; drop those.
			step := 1.0
			for i, zi := range z {
				if zi <= 0 {
					step = math.Min(step, c.zeta[i]/(c.zeta[i]-zi))
				}
			}
			j := 0
			for i := range c.zeta {
				zn := c.zeta[i] + step*(z[i]-c.zeta[i])
				if zn > 0 {
					c.act[j] = c.act[i]
					c.zeta[j] = zn
					j++
				} else {
					delete(inAct, c.act[i])
				}
			}
			c.act = c.act[:j]
			c.zeta = c.zeta[:j]
		}
		c.setV(a, sign)
	}
	return c.v, len(c.act)
}

// setV sets v = a + Σ ζᵢ g_{act i}.
func (c *coneProjector) setV(a, sign []float64) {
	copy(c.v, a)
	for i, k := range c.act {
		axpy(c.zeta[i]*sign[k], c.x.RawRowView(k), c.v)
	}
}

// leastSquares solves min_z ‖a + G_Aᵀz‖ over the active rows A by the normal
// equations (G_A G_Aᵀ) z = −G_A a with a Cholesky factorization; it reports false when
// the active rows are numerically dependent.
func (c *coneProjector) leastSquares(a, sign []float64) ([]float64, bool) {
	m := len(c.act)
	gram := mat.NewSymDense(m, nil)
	rhs := mat.NewVecDense(m, nil)
	for i, ki := range c.act {
		xi := c.x.RawRowView(ki)
		for j := i; j < m; j++ {
			kj := c.act[j]
			gram.SetSym(i, j, sign[ki]*sign[kj]*dot(xi, c.x.RawRowView(kj)))
		}
		rhs.SetVec(i, -sign[ki]*dot(xi, a))
	}
	var ch mat.Cholesky
	if !ch.Factorize(gram) || ch.Cond() > 1e12 {
		return nil, false
	}
	var z mat.VecDense
	if err := ch.SolveVecTo(&z, rhs); err != nil {
		return nil, false
	}
	if cap(c.z) < m {
		c.z = make([]float64, m)
	}
	c.z = c.z[:m]
	for i := range c.z {
		c.z[i] = z.AtVec(i)
	}
	return c.z, true
}
