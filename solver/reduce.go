package solver

import (
	"context"
	"time"

	"gonum.org/v1/gonum/mat"
)

// Solving in the row space of X.
//
// The convex program (MATH.md §3) sees X only through the products Xuⱼ: the loss
// through Σᵢ DᵢX(vᵢ − wᵢ), the cones through (2Dᵢ − I)Xuⱼ ≥ 0. Let Vᵣ (d×r) be an
// orthonormal basis of X's row space, r = rank X, so that X = X Vᵣ Vᵣᵀ. Every block
// splits as uⱼ = Vᵣ ũⱼ + u⊥ with X u⊥ = 0: the products see only X̃ ũⱼ with
// X̃ = X Vᵣ (n×r), and ‖uⱼ‖₂² = ‖ũⱼ‖₂² + ‖u⊥‖₂², so u⊥ only adds to the regularizer
// β Σⱼ ‖uⱼ‖₂ and is zero at every optimum. The program over (X̃, ũ) therefore has the
// optimal value of the one over (X, u), its solutions map back by uⱼ = Vᵣ ũⱼ with the
// same objective and the same cone values, and its dual is the same: the dual
// constraint maxᵥ {ηᵀDᵢXv : v ∈ Kᵢ, ‖v‖₂ ≤ 1} is attained in the row space (dropping
// v's u⊥ keeps v in Kᵢ and shortens it), where it reads the same with X̃. A certificate
// of the reduced program is one of the original, and the dual candidate η ∈ ℝⁿ is
// shared. The patterns Dᵢ are those of the original X: their bits are kept, and a
// generator hᵢ maps to Vᵣᵀhᵢ, with X̃ Vᵣᵀhᵢ = X hᵢ.
//
// The rank is numerical: the singular values above max(n, d)·ε·σ₁ (Rank's LAPACK
// convention, ε the machine epsilon). The discarded directions change a product Xu by
// at most √d·max(n, d)·ε·σ₁‖u‖, the size of the rounding of computing Xu itself, so
// the reduced program is the original one to the precision the solvers work at. Zero
// columns of X (pixels that no image uses) are dropped first, exactly and at no cost,
// and the SVD (gonum's, right vectors only) runs on the others.
//
// Gonum's products X·A skip the zero entries of X, and a rotated X̃ is dense, so the
// rotation is tried only for data with at least half of their entries nonzero (see
// rotateDensity); sparse data only lose their zero columns. MNIST 2 vs 8 with its bias
// column: at 28×28, d = 785, 202 zero columns, rank 565 (σ₅₆₅ = 5.1e-5·σ₁,
// σ₅₆₆ = 3.9e-16·σ₁) but 29 % of the entries of the other 583 columns nonzero, so it
// is solved with those 583 columns; rotated to its rank its products took twice as
// long. At 10×10, 93 of 101 columns are nonzero and the rank is 93.
//
// The reduction applies to the methods that see X only through those products and
// the patterns: ADMM, InteriorPoint, GatedReLU and Auto, which routes to them.
// (GatedReLU's ReLU network, decomposed along the generators, is then decomposed
// along their projections onto the row space: its gated optimum is the same, the
// network may differ.) Not to the adversarial methods, whose robust cones and
// losses read ‖vᵢ‖₁ (not invariant under rotations) and perturb X, nor to SCP
// (directions drawn on the sphere of ℝᵈ), nor to the non-convex baselines.

// rowSpace is the reduction of a data matrix to the coordinates of its rows in an
// orthonormal basis of its row space.
type rowSpace struct {
	d, r  int
	cols  []int      // the nonzero columns of X, c of them
	basis *mat.Dense // c×r, orthonormal columns spanning the row space of X[:, cols]; nil: the identity (r = c)
	x     *mat.Dense // n×r: X̃ = X[:, cols]·basis
}

// reducible reports whether m sees X only through the products Xuⱼ of the convex
// program and its patterns, so that it may solve in X's row space.
func reducible(m Method) bool {
	switch m.(type) {
	case *Auto, *ADMM, *InteriorPoint, *GatedReLU:
		return true
	}
	return false
}

// rotateDensity is the least fraction of nonzero entries of X[:, cols] for which the
// rotation to X̃ = X Vᵣ is tried. X̃ is dense, and gonum's products X·A skip the zero
// entries of X: MNIST's pixels are mostly zero, and rotated to its rank (565 of 583
// nonzero columns at 28×28) its products took more than twice as long, where
// dropping the zero columns alone keeps them sparse (100 ADMM iterations at β = 1e-3,
// squared loss, one thread: the products' Dgemm took 10.8 s rotated, 6.1 s on the
// 583 columns, 6.7 s on all 785).
const rotateDensity = 0.5

// newRowSpace returns the reduction of X, or nil when nothing is gained: X has no
// zero column and full column rank (or too few nonzero entries for the rotation to
// pay, see rotateDensity), or X is zero.
func newRowSpace(X *mat.Dense) (*rowSpace, error) {
	n, d := X.Dims()
	var cols []int
	nonzero := 0
	for j := 0; j < d; j++ {
		c := 0
		for k := 0; k < n; k++ {
			if X.At(k, j) != 0 {
				c++
			}
		}
		if c > 0 {
			cols = append(cols, j)
			nonzero += c
		}
	}
	if len(cols) == 0 {
		return nil, nil
	}
	xc := mat.NewDense(n, len(cols), nil)
	for k := 0; k < n; k++ {
		row := xc.RawRowView(k)
		for i, j := range cols {
			row[i] = X.At(k, j)
		}
	}
	rs := &rowSpace{d: d, r: len(cols), cols: cols, x: xc}
	if float64(nonzero) >= rotateDensity*float64(n*len(cols)) {
		r, xt, basis, err := reduce(xc)
		if err != nil {
			return nil, err
		}
		if r < len(cols) {
			rs.r, rs.basis, rs.x = r, basis, xt
		}
	}
	if rs.r == d {
		return nil, nil
	}
	return rs, nil
}

// toReduced returns the coordinates A[:, cols]·basis (rows×r) of the rows of A
// (rows×d), nil for nil: a row in the row space maps to its coordinates, and a
// generator h to Vᵣᵀh.
func (rs *rowSpace) toReduced(a *mat.Dense) *mat.Dense {
	if a == nil {
		return nil
	}
	rows, _ := a.Dims()
	ac := mat.NewDense(rows, len(rs.cols), nil)
	for i := 0; i < rows; i++ {
		row := ac.RawRowView(i)
		for c, j := range rs.cols {
			row[c] = a.At(i, j)
		}
	}
	if rs.basis == nil {
		return ac
	}
	out := mat.NewDense(rows, rs.r, nil)
	out.Mul(ac, rs.basis)
	return out
}

// toOriginal returns the rows Vᵣãᵢ (rows×d) of the reduced rows ãᵢ of a (rows×r),
// nil for nil; the dropped columns are zero.
func (rs *rowSpace) toOriginal(a *mat.Dense) *mat.Dense {
	if a == nil {
		return nil
	}
	rows, _ := a.Dims()
	ac := a
	if rs.basis != nil {
		ac = &mat.Dense{}
		ac.Mul(a, rs.basis.T())
	}
	out := mat.NewDense(rows, rs.d, nil)
	for i := 0; i < rows; i++ {
		src, dst := ac.RawRowView(i), out.RawRowView(i)
		for c, j := range rs.cols {
			dst[j] = src[c]
		}
	}
	return out
}

// arrangement returns arr with its generators mapped to the reduced coordinates (the
// same patterns, stored once).
func (rs *rowSpace) arrangement(arr *Arrangement) *Arrangement {
	ra := *arr
	ra.Generators = rs.toReduced(arr.Generators)
	return &ra
}

// solve runs method on prob in the row space: the patterns are those Settings gives
// or samples on the original X, the warm start prev (if any) is mapped to the reduced
// coordinates, and the result back to the original ones. The time of the reduction
// counts against Settings.TimeLimit and in Result.Runtime.
func (rs *rowSpace) solve(ctx context.Context, prob *Problem, s *Settings, method Method, prev *Result, spent time.Duration) (*Result, error) {
	start := time.Now()
	arr, err := arrangementFor(prob, s, admmDefaultPatterns)
	if err != nil {
		return nil, err
	}
	rp := *prob
	rp.X = rs.x
	rset := *s
	rset.Arrangement = rs.arrangement(arr)
	rset.columns = rs.d
	if s.TimeLimit > 0 {
		rset.TimeLimit = max(s.TimeLimit-spent-time.Since(start), 1)
	}
	var rprev *Result
	if prev != nil {
		rp := *prev
		rp.V, rp.W = rs.toReduced(prev.V), rs.toReduced(prev.W)
		rprev = &rp
	}
	setup := time.Since(start)
	res, err := solveWith(ctx, &rp, &rset, method, rprev)
	if err != nil {
		return nil, err
	}
	mapped := time.Now()
	err = rs.restore(res, prob, arr)
	// The method's Runtime covers its own solve; the reduction, the arrangement
	// and the mapping back are added to it.
	res.Runtime += spent + setup + time.Since(mapped)
	return res, err
}

// restore maps res, a result on the reduced data, back to prob's X: the blocks, the
// network and the gated weights to the original coordinates, the arrangement to the
// original one (with its generators), and the objective recomputed on the original
// data (it agrees to rounding; computing it makes Result.Objective exactly what it
// says).
func (rs *rowSpace) restore(res *Result, prob *Problem, arr *Arrangement) error {
	res.V, res.W = rs.toOriginal(res.V), rs.toOriginal(res.W)
	if res.Network != nil {
		res.Network.U = rs.toOriginal(res.Network.U)
		obj, err := res.Network.Objective(prob.X, prob.Y, prob.Loss, prob.Beta)
		if err != nil {
			return err
		}
		res.Objective = obj
	}
	if res.Gated != nil && arr.Generators != nil {
		res.Gated.U = rs.toOriginal(res.Gated.U)
		res.Gated.H = mat.DenseCopyOf(arr.Generators)
	}
	res.Arrangement = arr
	res.Rank = rs.r
	return nil
}

// solveWith runs method on prob, from prev (the solution at another β, see Path)
// when the method can start from one.
func solveWith(ctx context.Context, prob *Problem, s *Settings, method Method, prev *Result) (*Result, error) {
	if w, ok := method.(warmStarter); ok && prev != nil {
		return w.solveFrom(ctx, prob, s, prev)
	}
	return method.solve(ctx, prob, s)
}

// solveMethod runs method on prob (from prev, see solveWith), in X's row space when
// rs is not nil.
func solveMethod(ctx context.Context, prob *Problem, s *Settings, method Method, prev *Result, rs *rowSpace, spent time.Duration) (*Result, error) {
	if rs == nil {
		return solveWith(ctx, prob, s, method, prev)
	}
	return rs.solve(ctx, prob, s, method, prev, spent)
}

// rowSpaceFor returns the reduction of prob's X when method may solve in its row
// space and that is smaller than d, nil otherwise, and the time it took.
func rowSpaceFor(prob *Problem, method Method) (*rowSpace, time.Duration, error) {
	if !reducible(method) {
		return nil, 0, nil
	}
	start := time.Now()
	rs, err := newRowSpace(prob.X)
	return rs, time.Since(start), err
}
