package solver

import (
	"errors"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// Names of the factorization routes, as reported in Result.Factorization.
const (
	FactorCholesky = "cholesky"
	FactorWoodbury = "woodbury"
)

// linsys solves the u-step system of ADMM,
//
//	(I₂ₚ ⊗ B + c FᵀF) u = r,   B = τ²I + XᵀX,   F = [D₁X … DₚX  −D₁X … −DₚX],
//
// for u = (v₁..vₚ, w₁..wₚ) stored as the rows of a 2P×d matrix. Because
// FᵀF = [K −K; −K K] with K = F_DᵀF_D and F_D = [D₁X … DₚX], the sum and difference of
// the two halves decouple:
//
//	(I ⊗ B)(v + w) = r_v + r_w,   (I ⊗ B + 2cK)(v − w) = r_v − r_w,
//
// so only the dP×dP matrix A_D = I ⊗ B + 2cK needs a factorization (our derivation).
// It is factored directly (Cholesky) or through Woodbury's identity
//
//	A_D⁻¹ = I⊗M − (I⊗M) F_Dᵀ S⁻¹ F_D (I⊗M),   M = B⁻¹,   S = I/(2c) + (X M Xᵀ) ∘ C,
//
// with C = Σᵢ dᵢdᵢᵀ the co-activation counts, whichever is cheaper.
type linsys struct {
	pr    *program
	route string
	c     float64
	bFull []float64         // B = τ²I + XᵀX (d×d, lower triangle)
	bChol blas64.Triangular // L with B = L Lᵀ (d×d)

	// Cholesky route.
	k    []float64 // K, dP×dP (lower triangle used)
	aD   []float64 // factor of A_D
	aTri blas64.Triangular

	// Woodbury route.
	h    []float64 // (X M Xᵀ) ∘ C, n×n (lower triangle used)
	s    []float64 // factor of S
	sTri blas64.Triangular

	// Scratch.
	sum, diff, t1, xt []float64 // P×d, P×d, P×d, n×P
	z                 []float64 // n
	factorizations    int

	workers int // goroutines for the triangular solves (see cholSolveBlocked)

	// haveFu: the last solve ran on the Woodbury route, and fuScale·z is F u for
	// its solution u (see predictions).
	haveFu  bool
	fuScale float64
}

// routeCosts returns the floating-point operations of the two routes: the one-time
// work, the work of a refactorization for a new c, and the work per solve.
func routeCosts(n, d, p int) (cholOnce, cholRefactor, cholSolve, woodOnce, woodRefactor, woodSolve float64) {
	fn, fd, fp := float64(n), float64(d), float64(p)
	dp := fd * fp
	cholRefactor = dp*dp*dp/3 + dp*dp
	cholOnce = fn*dp*dp + cholRefactor
	cholSolve = 2*dp*dp + 4*fp*fd*fd
	woodRefactor = fn*fn*fn/3 + fn*fn
	woodOnce = 2*fn*fn*fd + fn*fn*fp + woodRefactor
	woodSolve = 2*fn*fn + 4*fn*fd*fp + 6*fp*fd*fd
	return
}

// Memory ceiling for a route's dense matrix (in float64s): 2 GiB.
const maxDenseFloats = 1 << 28

// chooseRoute picks the route with the smaller estimated total work over a typical
// solve (expectedSolves iterations and a few refactorizations), among those whose
// matrices fit in memory.
func chooseRoute(n, d, p int, refactors float64) (string, error) {
	const expectedSolves = 500 // a typical ADMM run to 1e-6 (see the benchmarks)
	co, cr, cs, wo, wr, ws := routeCosts(n, d, p)
	chol := co + refactors*cr + expectedSolves*cs
	wood := wo + refactors*wr + expectedSolves*ws
	dp := float64(d * p)
	cholFits := 2*dp*dp <= maxDenseFloats
	woodFits := 2*float64(n)*float64(n) <= maxDenseFloats
	switch {
	case cholFits && (!woodFits || chol <= wood):
		return FactorCholesky, nil
	case woodFits:
		return FactorWoodbury, nil
	}
	return "", errors.New("solver: problem too large for ADMM's direct linear algebra: both n×n and dP×dP matrices exceed 2 GiB; use fewer patterns or SCP")
}

// newLinsys forms and factors the system for the weight c. Its products and
// factorizations poll pr.stop (see program.watch) between blocks of rows: at
// n = 1 935, d = 785 (MNIST 2 vs 8 at 28×28) they take seconds. It returns
// errInterrupted when the poll said stop.
func newLinsys(pr *program, route string, c float64) (*linsys, error) {
	n, d, p := pr.n, pr.d, pr.P
	ls := &linsys{pr: pr, route: route,
		sum: make([]float64, p*d), diff: make([]float64, p*d), t1: make([]float64, p*d),
		xt: make([]float64, n*p), z: make([]float64, n)}
	// B = τ²I + XᵀX and its Cholesky factor.
	b := make([]float64, d*d)
	bs := blas64.Symmetric{Uplo: blas.Lower, N: d, Stride: d, Data: b}
	if !pr.noGram {
		if err := inRows(d, setupRows, pr.stop, func(i0, i1 int) { syrkRows(bs, pr.X, true, i0, i1) }); err != nil {
			return nil, err
		}
	}
	for i := 0; i < d; i++ {
		b[i*d+i] += pr.tau2
	}
	ls.bFull = append([]float64(nil), b...)
	ok, err := potrfPolled(bs, pr.stop)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("solver: τ²I + XᵀX is not positive definite")
	}
	ls.bChol = blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: d, Stride: d, Data: b}
	switch route {
	case FactorCholesky:
		dp := d * p
		if ls.k, err = coactivationGram(pr); err != nil {
			return nil, err
		}
		ls.aD = make([]float64, dp*dp)
	case FactorWoodbury:
		if err := ls.woodburyH(); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("solver: unknown factorization " + route)
	}
	if err := ls.factorPolled(c, pr.stop); err != nil {
		return nil, err
	}
	return ls, nil
}

// woodburyH forms H = (X M Xᵀ) ∘ C (n×n) of the Woodbury route, polling pr.stop.
func (ls *linsys) woodburyH() error {
	pr := ls.pr
	n, d, p := pr.n, pr.d, pr.P
	// Y = X L⁻ᵀ, so X M Xᵀ = Y Yᵀ.
	y := make([]float64, n*d)
	copy(y, pr.x)
	err := inRows(n, setupRows, pr.stop, func(i0, i1 int) {
		blas64.Trsm(blas.Right, blas.Trans, 1, ls.bChol, blas64.General{Rows: i1 - i0, Cols: d, Stride: d, Data: y[i0*d : i1*d]})
	})
	if err != nil {
		return err
	}
	ls.h = make([]float64, n*n)
	hs := blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: ls.h}
	yg := blas64.General{Rows: n, Cols: d, Stride: d, Data: y}
	if err := inRows(n, setupRows, pr.stop, func(i0, i1 int) { syrkRows(hs, yg, false, i0, i1) }); err != nil {
		return err
	}
	cm := make([]float64, n*n)
	cs := blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: cm}
	mg := blas64.General{Rows: n, Cols: p, Stride: p, Data: pr.mask}
	if err := inRows(n, setupRows, pr.stop, func(i0, i1 int) { syrkRows(cs, mg, false, i0, i1) }); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			ls.h[i*n+j] *= cm[i*n+j]
		}
	}
	ls.s = cm // reuse the storage for the factor of S
	return nil
}

// setupRows is the block of rows between two polls of the setup's products.
const setupRows = 64

// inRows calls f on the blocks [i0, i1) of [0, n) of at most rows rows, polling stop
// (nil: never) before each; it returns errInterrupted when stop said so.
func inRows(n, rows int, stop func() bool, f func(i0, i1 int)) error {
	for i0 := 0; i0 < n; i0 += rows {
		if stop != nil && stop() {
			return errInterrupted
		}
		f(i0, min(n, i0+rows))
	}
	return nil
}

// syrkRows sets rows [i0, i1) of c's triangle to those of A Aᵀ (trans false) or AᵀA
// (trans true): the arithmetic of blas64.Syrk with α = 1, β = 0, which computes C row
// by row (the same dot products, or the same axpys over the rows of A, in the same
// order, so the same bits), cut into blocks of rows so that a long product can be
// polled between them.
func syrkRows(c blas64.Symmetric, a blas64.General, trans bool, i0, i1 int) {
	n, ldc, lda := c.N, c.Stride, a.Stride
	k := a.Cols
	if trans {
		k = a.Rows
	}
	for i := i0; i < i1; i++ {
		lo, hi := 0, i+1
		if c.Uplo == blas.Upper {
			lo, hi = i, n
		}
		row := c.Data[i*ldc+lo : i*ldc+hi]
		if !trans {
			ai := a.Data[i*lda : i*lda+k]
			for j := range row {
				row[j] = vdot(a.Data[(lo+j)*lda:(lo+j)*lda+k], ai)
			}
			continue
		}
		clear(row)
		for l := 0; l < k; l++ {
			if v := a.Data[l*lda+i]; v != 0 {
				vaxpy(v, a.Data[l*lda+lo:l*lda+hi], row)
			}
		}
	}
}

// potrfPolled factors the symmetric positive definite a (lower triangle, row-major) in
// place, a = LLᵀ, by the blocked algorithm of gonum's lapack64.Potrf (the same panels
// of 64 columns and the same operations, so the same bits), polling stop (nil: never)
// before each panel: a dP×dP factorization at dP = 4 160 takes seconds. It reports
// whether a is positive definite in floating point, or errInterrupted when stop said so
// (a is then partly overwritten).
func potrfPolled(a blas64.Symmetric, stop func() bool) (bool, error) {
	const nb = 64 // gonum's block size of Dpotrf (its Ilaenv)
	n, lda, m := a.N, a.Stride, a.Data
	if n <= nb {
		_, ok := lapack64.Potrf(a)
		return ok, nil
	}
	bi := blas64.Implementation()
	for j := 0; j < n; j += nb {
		if stop != nil && stop() {
			return false, errInterrupted
		}
		jb := min(nb, n-j)
		bi.Dsyrk(blas.Lower, blas.NoTrans, jb, j, -1, m[j*lda:], lda, 1, m[j*lda+j:], lda)
		if _, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: jb, Stride: lda, Data: m[j*lda+j:]}); !ok {
			return false, nil
		}
		if j+jb < n {
			bi.Dgemm(blas.NoTrans, blas.Trans, n-j-jb, jb, j, -1, m[(j+jb)*lda:], lda, m[j*lda:], lda, 1, m[(j+jb)*lda+j:], lda)
			bi.Dtrsm(blas.Right, blas.Lower, blas.Trans, blas.NonUnit, n-j-jb, jb, 1, m[j*lda+j:], lda, m[(j+jb)*lda+j:], lda)
		}
	}
	return true, nil
}

// factor refactors the matrix that depends on c (a new ρ), without polls: a cut
// refactorization would leave no factor to continue with (ADMM checks that one fits
// in the time left before it asks).
func (ls *linsys) factor(c float64) error { return ls.factorPolled(c, nil) }

// factorPolled (re)factors the matrix that depends on c, polling stop (nil: never)
// in the factorization; it returns errInterrupted when stop said so.
func (ls *linsys) factorPolled(c float64, stop func() bool) error {
	ls.c = c
	ls.haveFu = false
	ls.factorizations++
	d, p, n := ls.pr.d, ls.pr.P, ls.pr.n
	var ok bool
	var err error
	switch ls.route {
	case FactorCholesky:
		dp := d * p
		for i := 0; i < dp; i++ {
			row := ls.aD[i*dp : i*dp+i+1]
			krow := ls.k[i*dp : i*dp+i+1]
			for j := range row {
				row[j] = 2 * c * krow[j]
			}
		}
		// Add I ⊗ B on the diagonal blocks (lower triangles).
		bb := ls.bFull
		for blk := 0; blk < p; blk++ {
			o := blk * d
			for i := 0; i < d; i++ {
				for j := 0; j <= i; j++ {
					ls.aD[(o+i)*dp+o+j] += bb[i*d+j]
				}
			}
		}
		ls.aTri = blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: dp, Stride: dp, Data: ls.aD}
		ok, err = potrfPolled(blas64.Symmetric{Uplo: blas.Lower, N: dp, Stride: dp, Data: ls.aD}, stop)
	case FactorWoodbury:
		for i := 0; i < n; i++ {
			copy(ls.s[i*n:i*n+i+1], ls.h[i*n:i*n+i+1])
			ls.s[i*n+i] += 1 / (2 * c)
		}
		ls.sTri = blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: n, Stride: n, Data: ls.s}
		ok, err = potrfPolled(blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: ls.s}, stop)
	}
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("solver: ADMM system matrix is not positive definite (data too badly scaled?)")
	}
	return nil
}

// applyM overwrites the rows of r (rows×d) with r M, M = B⁻¹ = L⁻ᵀL⁻¹.
func (ls *linsys) applyM(r []float64, rows int) {
	if ls.pr.noGram {
		// B = τ²I (the cone form): two triangular solves per call would cost
		// about 5 % of an iteration for a scaling.
		if ls.pr.tau2 != 1 {
			scal(1/ls.pr.tau2, r[:rows*ls.pr.d])
		}
		return
	}
	g := blas64.General{Rows: rows, Cols: ls.pr.d, Stride: ls.pr.d, Data: r}
	blas64.Trsm(blas.Right, blas.Trans, 1, ls.bChol, g)
	blas64.Trsm(blas.Right, blas.NoTrans, 1, ls.bChol, g)
}

// solve overwrites u (2P×d) with the solution of the system with right-hand side r.
func (ls *linsys) solve(r, u []float64) {
	pr := ls.pr
	d, p, n := pr.d, pr.P, pr.n
	half := p * d
	rv, rw := r[:half], r[half:]
	for i := range ls.sum {
		ls.sum[i] = rv[i] + rw[i]
		ls.diff[i] = rv[i] - rw[i]
	}
	ls.applyM(ls.sum, p)
	switch ls.route {
	case FactorCholesky:
		cholSolveBlocked(ls.aTri, ls.diff, ls.workers)
	case FactorWoodbury:
		t1 := ls.t1
		copy(t1, ls.diff)
		ls.applyM(t1, p) // t₁ = (I⊗M) r
		// z = F_D t₁: zₖ = Σᵢ dᵢₖ xₖᵀ t₁ᵢ.
		pr.mulXT(ls.xt, t1, p)
		for k := 0; k < n; k++ {
			ls.z[k] = dot(pr.mask[k*p:(k+1)*p], ls.xt[k*p:(k+1)*p])
		}
		cholSolveBlocked(ls.sTri, ls.z, ls.workers)
		// g = F_Dᵀ z: gᵢ = Xᵀ(dᵢ ∘ z), computed as (Mask ∘ z)ᵀ X.
		for k := 0; k < n; k++ {
			zk := ls.z[k]
			row := ls.xt[k*p : (k+1)*p]
			for i, m := range pr.mask[k*p : (k+1)*p] {
				row[i] = m * zk
			}
		}
		g := ls.diff
		blas64.Gemm(blas.Trans, blas.NoTrans, 1, blas64.General{Rows: n, Cols: p, Stride: p, Data: ls.xt}, pr.X,
			0, blas64.General{Rows: p, Cols: d, Stride: d, Data: g})
		ls.applyM(g, p)
		for i := range g {
			g[i] = t1[i] - g[i]
		}
		ls.haveFu, ls.fuScale = true, 1/(2*ls.c)
	}
	uv, uw := u[:half], u[half:]
	for i := range ls.sum {
		uv[i] = (ls.sum[i] + ls.diff[i]) / 2
		uw[i] = (ls.sum[i] - ls.diff[i]) / 2
	}
}

// predictions sets fu = F u for the u of the last solve and reports true when the
// route gives it without a product: on the Woodbury route the difference of the two
// halves, u_D = v − w, is t₁ − (I⊗M)F_Dᵀz' with z' = S⁻¹F_D t₁, so
//
//	F u = F_D u_D = F_D t₁ − (S − I/(2c)) z' = z'/(2c),
//
// since F_D (I⊗M) F_Dᵀ = (X M Xᵀ) ∘ C = S − I/(2c) (our derivation). This saves the
// product of P columns that F u costs otherwise, a tenth of an ADMM iteration.
func (ls *linsys) predictions(fu []float64) bool {
	if !ls.haveFu {
		return false
	}
	for k, z := range ls.z {
		fu[k] = ls.fuScale * z
	}
	return true
}

// cholBlock is the block of rows of cholSolveBlocked: the n×n factor of the
// Woodbury route (n = 1 935 on MNIST 2 vs 8) is solved in 16 blocks, each one a
// hand-off between the workers.
const cholBlock = 128

// cholSolveBlocked is cholSolve by blocks of cholBlock rows, whose products with the
// solved part run on w workers: forward, each row of a block first takes its dot
// product with the rows' solved part (the rows split over the workers), then the
// block is solved row by row; backward, a solved block's rows update the unsolved
// entries by axpys (the entries split over the workers, each updated by the rows in
// the same order as cholSolve, so backward substitution gives cholSolve's bits).
// The result does not depend on w. The solve streams the factor from memory (n²
// entries of 8 bytes, 30 MB at n = 1 935), which is as slow as its arithmetic: one
// thread leaves the other core's bandwidth idle.
func cholSolveBlocked(l blas64.Triangular, x []float64, w int) {
	n, st := l.N, l.Stride
	for b0 := 0; b0 < n; b0 += cholBlock {
		b1 := min(n, b0+cholBlock)
		if b0 > 0 {
			inParts(w, b1-b0, func(r0, r1 int) {
				for i := b0 + r0; i < b0+r1; i++ {
					x[i] -= vdot(l.Data[i*st:i*st+b0], x[:b0])
				}
			})
		}
		for i := b0; i < b1; i++ {
			x[i] = (x[i] - vdot(l.Data[i*st+b0:i*st+i], x[b0:i])) / l.Data[i*st+i]
		}
	}
	for b1 := n; b1 > 0; b1 -= min(b1, cholBlock) {
		b0 := max(0, b1-cholBlock)
		for i := b1 - 1; i >= b0; i-- {
			x[i] /= l.Data[i*st+i]
			if i > b0 {
				vaxpy(-x[i], l.Data[i*st+b0:i*st+i], x[b0:i])
			}
		}
		if b0 > 0 {
			inParts(w, b0, func(c0, c1 int) {
				for i := b1 - 1; i >= b0; i-- {
					vaxpy(-x[i], l.Data[i*st+c0:i*st+c1], x[c0:c1])
				}
			})
		}
	}
}

// cholSolve overwrites x with the solution of L Lᵀ x = b (b given in x), for the
// lower-triangular, row-major factor L: forward substitution by dot products with
// the rows of L, back substitution by updates with them. Both run through gonum's
// vectorized kernels; blas64.Trsv's scalar loops took a seventh of an ADMM
// iteration at dP = 1000.
func cholSolve(l blas64.Triangular, x []float64) {
	n, st := l.N, l.Stride
	for i := 0; i < n; i++ {
		row := l.Data[i*st : i*st+i]
		x[i] = (x[i] - vdot(row, x[:i])) / l.Data[i*st+i]
	}
	for i := n - 1; i >= 0; i-- {
		x[i] /= l.Data[i*st+i]
		if i > 0 {
			vaxpy(-x[i], l.Data[i*st:i*st+i], x[:i])
		}
	}
}

// coactivationGram returns K = F_DᵀF_D (dP×dP, lower triangle set) for
// F_D = [D₁X … DₚX]: block (a, b) is Xᵀ DₐD_b X. It is accumulated over chunks of
// rows of F_D to bound memory, polling pr.stop between them (errInterrupted).
func coactivationGram(pr *program) ([]float64, error) {
	n, d, p := pr.n, pr.d, pr.P
	dp := d * p
	k := make([]float64, dp*dp)
	const chunk = 256
	fd := make([]float64, min(chunk, n)*dp)
	err := inRows(n, chunk, pr.stop, func(k0, k1 int) {
		rows := k1 - k0
		f := fd[:rows*dp]
		for r := 0; r < rows; r++ {
			xk := pr.x[(k0+r)*d : (k0+r+1)*d]
			mk := pr.mask[(k0+r)*p : (k0+r+1)*p]
			fr := f[r*dp : (r+1)*dp]
			for i, m := range mk {
				if m != 0 {
					copy(fr[i*d:(i+1)*d], xk)
				} else {
					clear(fr[i*d : (i+1)*d])
				}
			}
		}
		blas64.Syrk(blas.Trans, 1, blas64.General{Rows: rows, Cols: dp, Stride: dp, Data: f},
			1, blas64.Symmetric{Uplo: blas.Lower, N: dp, Stride: dp, Data: k})
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}
