package solver

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// ipmWoodbury solves the reduced Newton system (C⁻¹ + K) e = r of the interior-point
// method (see pdip.factor), K = F_Dᵀ Δ F_D with Δ = diag(δ), through an n×n matrix
// when there are fewer points than dP. Woodbury's identity gives
//
//	(C⁻¹ + K)⁻¹ = C − C F_Dᵀ Δ^½ S⁻¹ Δ^½ F_D C,   S = I + Δ^½ F_D C F_Dᵀ Δ^½,
//
// with C = blockdiag(Cᵢ), Cᵢ = (B_vᵢ Tᵢ⁻¹ B_wᵢ)⁻¹ = B_vᵢ⁻¹ + B_wᵢ⁻¹, and
// F_D C F_Dᵀ = Σᵢ DᵢX Cᵢ XᵀDᵢ. The blocks are factored one by one, Bⱼ = LⱼLⱼᵀ (a sum
// of two inverses has no subtraction in it, where the product B_v T⁻¹ B_w that the
// dense route places on its diagonal lost positive definiteness in floating point on
// the golden programs), so that DᵢX Cᵢ XᵀDᵢ = YᵢYᵢᵀ with Yᵢ = √δ·Xᵢ[L_v⁻ᵀ L_w⁻ᵀ], Xᵢ
// the nᵢ rows of X active in pattern i: per iteration 2P(d³/3) + Σᵢ (2nᵢd² + 2nᵢ²d)
// operations to form S and n³/3 to factor it, against the dense route's
// (dP)³/3 + n(dP)². A block that is not positive definite in floating point (near
// the optimum an active neuron's Bⱼ has an eigenvalue of order μ beside ones of order
// 1/μ) is factored with a shift of 1e-14…1e-8 of its largest diagonal entry; the conjugate
// gradients below, which apply the unshifted C⁻¹ + K, correct for it.
//
// Which matrix goes where. δ has both extremes near the optimum: for the hinge loss
// δ = D₀D₁/(D₀ + D₁) → 0 for points off the margin and grows without bound for
// points on it; for the logistic loss δ = ℓ” underflows towards 0 for points
// classified with a large margin. The textbook S = Δ⁻¹ + F_D C F_Dᵀ would divide by
// those δ; S above is Δ^½(Δ⁻¹ + F_D C F_Dᵀ)Δ^½, which needs no division, is I plus a
// positive semidefinite matrix (its eigenvalues are at least 1, so δ → 0 makes its
// rows tend to those of I), and after scaling to a unit diagonal (as factored here)
// equals the textbook matrix scaled the same way. What grows near the optimum is C,
// whose blocks reach 1/μ along active neurons' weights; the dense route's C⁻¹ + K
// has the reciprocal spread. Applying C to a difference of large terms loses
// accuracy (measured: from relative gaps sᵀz/|f| of about 3e-5 on for the hinge
// loss, whose margin points make δ unbounded), so each solve is refined by
// conjugate gradients on C⁻¹ + K preconditioned by the Woodbury solve (pcg; this moved
// the loss of accuracy to 1e-5…3e-7), each direction taken is refined on the whole
// Newton system (ipmWoodburyRefinements) and its residual checked. A direction whose
// refined residual exceeds ipmWoodburyResidual of its right-hand side ends the solve
// when its best point is within the tolerance and otherwise moves it to the dense
// route for its remaining iterations, as a factorization that fails does at once
// (Result.Factorization says so).
type ipmWoodbury struct {
	rows  [][]int      // per pattern, its active live rows (ascending)
	lchol []float64    // 2P×d×d: Cholesky factors of the blocks Bⱼ
	s     []float64    // n×n: S (lower), then its Cholesky factor
	sc    []float64    // n: the equilibration of S
	sq    []float64    // n: √δ
	acc   [][]float64  // per worker but the first, an n×n accumulator of S
	y, g  [][]float64  // per worker, nᵢ×d and nᵢ×nᵢ scratch
	ce    []float64    // dP scratch
	xt    []float64    // n×P scratch
	t     []float64    // n scratch
	tmp   []float64    // d scratch
	cg    [5][]float64 // dP scratch of pcg: x, r, z, p, Ap
	axt   []float64    // n×P scratch of apply
	at    []float64    // n scratch of apply
}

// Constants of the Woodbury route.
const (
	ipmWoodburyRefinements = 3     // refinement steps of a direction at most
	ipmWoodburyResidual    = 1e-3  // relative residual of a direction beyond which the dense route takes over
	ipmRefinedResidual     = 1e-8  // relative residual at which refinement stops
	ipmCGIterations        = 30    // conjugate-gradient iterations per solve at most
	ipmCGResidual          = 1e-14 // relative residual at which they stop
)

// newWoodbury allocates the Woodbury route's state, or refuses a program whose n×n
// matrices (one per worker) do not fit in memory.
func (ip *pdip) newWoodbury() (*ipmWoodbury, error) {
	n, d, P := ip.n, ip.d, ip.P
	if float64(ip.workers+1)*float64(n)*float64(n) > maxDenseFloats {
		return nil, fmt.Errorf("solver: InteriorPoint: the n×n Newton system of %d points does not fit in 2 GiB", n)
	}
	wb := &ipmWoodbury{rows: make([][]int, P), lchol: make([]float64, 2*P*d*d), tmp: make([]float64, d), s: make([]float64, n*n),
		sc: make([]float64, n), sq: make([]float64, n), ce: make([]float64, P*d), xt: make([]float64, n*P), t: make([]float64, n)}
	for i := range wb.cg {
		wb.cg[i] = make([]float64, P*d)
	}
	wb.axt, wb.at = make([]float64, n*P), make([]float64, n)
	most := 0
	for k := 0; k < n; k++ {
		for i, m := range ip.mask[k*P : (k+1)*P] {
			if m != 0 {
				wb.rows[i] = append(wb.rows[i], k)
			}
		}
	}
	for _, r := range wb.rows {
		most = max(most, len(r))
	}
	for w := 0; w < ip.workers; w++ {
		if w > 0 {
			wb.acc = append(wb.acc, make([]float64, n*n))
		}
		wb.y, wb.g = append(wb.y, make([]float64, most*2*d)), append(wb.g, make([]float64, most*most))
	}
	return wb, nil
}

// factor forms S = I + Σᵢ YᵢYᵢᵀ from ip's C⁻¹ᵢ and δ (the patterns dealt round-robin
// to the workers, each adding its share into its own accumulator in a fixed order), scales it to a unit diagonal and
// factors it, polling before each pattern and between the factorization's panels
// (errInterrupted).
func (wb *ipmWoodbury) factor(ip *pdip) error {
	n := ip.n
	for k, v := range ip.delta {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("the loss curvature of point %d is %g", k, v)
		}
		wb.sq[k] = math.Sqrt(v)
	}
	clear(wb.s)
	for _, a := range wb.acc {
		clear(a)
	}
	failed := make([]bool, ip.P)
	// Share w takes patterns w, w + workers, … in order into accumulator w, and the
	// accumulators are added in order below, so that S does not depend on which
	// goroutine ran first (handing patterns out by arrival made the sums' order, and
	// on small programs the iterates, differ from run to run).
	parallelEach(ip.workers, ip.workers, func(wk, w int) {
		acc := wb.s
		if w > 0 {
			acc = wb.acc[w-1]
		}
		for i := w; i < ip.P; i += ip.workers {
			if ip.pollPatterns() {
				return
			}
			failed[i] = !wb.addPattern(ip, i, wb.y[wk], wb.g[wk], acc)
		}
	})
	if ip.halted.Load() {
		return errInterrupted
	}
	for _, f := range failed {
		if f {
			return errors.New("a block Bⱼ is not positive definite in floating point")
		}
	}
	for _, a := range wb.acc {
		for r := 0; r < n; r++ {
			vaxpy(1, a[r*n:r*n+r+1], wb.s[r*n:r*n+r+1])
		}
	}
	for r := 0; r < n; r++ {
		v := wb.s[r*n+r] + 1
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return errors.New("the n×n matrix has an infinite diagonal")
		}
		wb.sc[r] = 1 / math.Sqrt(v)
	}
	for r := 0; r < n; r++ {
		row := wb.s[r*n : r*n+r+1]
		row[r]++
		for c := range row {
			row[c] *= wb.sc[r] * wb.sc[c]
		}
	}
	ok, err := potrfPolled(blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: wb.s}, ip.pollCholesky)
	if err == nil && !ok {
		err = errors.New("the n×n matrix is not positive definite in floating point")
	}
	return err
}

// addPattern factors B_vᵢ = L_vL_vᵀ and B_wᵢ = L_wL_wᵀ and adds YᵢYᵢᵀ into the lower
// triangle of acc (n×n) at the pattern's rows, Yᵢ = √δ·Xᵢ[L_v⁻ᵀ L_w⁻ᵀ] with Xᵢ the
// pattern's active rows of X (so YᵢYᵢᵀ = √δ·Xᵢ Cᵢ Xᵢᵀ·√δ, Cᵢ = B_vᵢ⁻¹ + B_wᵢ⁻¹), with the
// scratch y (nᵢ×2d) and g (nᵢ×nᵢ); it reports false when a block is not positive
// definite in floating point. It polls before every 64 rows of its products, and when
// told to stop returns true at once (the step is abandoned).
func (wb *ipmWoodbury) addPattern(ip *pdip, i int, y, g, acc []float64) bool {
	n, d, P := ip.n, ip.d, ip.P
	rows := wb.rows[i]
	ni := len(rows)
	for h, j := range []int{i, P + i} {
		l := wb.lchol[j*d*d : (j+1)*d*d]
		if !shiftedCholesky(l, ip.bblk[j*d*d:(j+1)*d*d], d) {
			return false
		}
		for a, k := range rows {
			w := wb.sq[k]
			for c, v := range ip.x.Data[k*d : (k+1)*d] {
				y[a*2*d+h*d+c] = w * v
			}
		}
		lt := blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: d, Stride: d, Data: l}
		if inRows(ni, setupRows, ip.pollPatterns, func(a0, a1 int) {
			blas64.Trsm(blas.Right, blas.Trans, 1, lt, blas64.General{Rows: a1 - a0, Cols: d, Stride: 2 * d, Data: y[a0*2*d+h*d : (a1-1)*2*d+(h+1)*d]})
		}) != nil {
			return true
		}
	}
	gs, yg := blas64.Symmetric{Uplo: blas.Lower, N: ni, Stride: ni, Data: g[:ni*ni]}, blas64.General{Rows: ni, Cols: 2 * d, Stride: 2 * d, Data: y[:ni*2*d]}
	if inRows(ni, setupRows, ip.pollPatterns, func(a0, a1 int) { syrkRows(gs, yg, false, a0, a1) }) != nil {
		return true
	}
	for a, k := range rows {
		row := acc[k*n:]
		ga := g[a*ni:]
		for b, l := range rows[:a+1] {
			row[l] += ga[b]
		}
	}
	return true
}

// pollPatterns is poll in the Woodbury route's per-pattern terms.
func (ip *pdip) pollPatterns() bool { return ip.poll(ipmPollPatterns) }

// solve overwrites r (dP) with e = (C⁻¹ + K)⁻¹ r by Woodbury's identity:
// q = S⁻¹ Δ^½ F_D C r, e = C(r − F_Dᵀ Δ^½ q).
func (wb *ipmWoodbury) solve(ip *pdip, r []float64) {
	n, d, P := ip.n, ip.d, ip.P
	c := wb.ce
	copy(c, r)
	wb.applyC(ip, c)
	// t = Δ^½ F_D c, scaled for S's equilibration.
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, ip.x, blas64.General{Rows: P, Cols: d, Stride: d, Data: c},
		0, blas64.General{Rows: n, Cols: P, Stride: P, Data: wb.xt})
	for k := 0; k < n; k++ {
		wb.t[k] = wb.sq[k] * wb.sc[k] * vdot(ip.mask[k*P:(k+1)*P], wb.xt[k*P:(k+1)*P])
	}
	cholSolve(blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: n, Stride: n, Data: wb.s}, wb.t)
	// r = C F_Dᵀ Δ^½ q with q = sc∘t.
	for k := 0; k < n; k++ {
		g := wb.sq[k] * wb.sc[k] * wb.t[k]
		m := ip.mask[k*P : (k+1)*P]
		row := wb.xt[k*P : (k+1)*P]
		for i, v := range m {
			row[i] = v * g
		}
	}
	blas64.Gemm(blas.Trans, blas.NoTrans, -1, blas64.General{Rows: n, Cols: P, Stride: P, Data: wb.xt}, ip.x,
		1, blas64.General{Rows: P, Cols: d, Stride: d, Data: r})
	wb.applyC(ip, r)
}

// pcg overwrites b (dP) with the solution of (C⁻¹ + K) e = b by conjugate gradients
// preconditioned by solve (Woodbury's identity): exact arithmetic would need one
// iteration; in floating point the preconditioned solve loses accuracy as C grows
// (see ipmWoodbury), and the iterations recover it as long as it stays a fair
// approximation of the inverse. It stops at a residual of ipmCGResidual·‖b‖, after
// ipmCGIterations, or when a poll before an iteration says stop (the step that asked
// is then abandoned: see pdip.step). It counts its iterations in ip.cgIter.
func (wb *ipmWoodbury) pcg(ip *pdip, b []float64) {
	x, r, z, p, ap := wb.cg[0], wb.cg[1], wb.cg[2], wb.cg[3], wb.cg[4]
	bn := math.Sqrt(dot(b, b))
	// x₀ = M⁻¹b (the Woodbury solve), r₀ = b − Ax₀; a breakdown keeps the last x.
	copy(x, b)
	wb.solve(ip, x)
	wb.apply(ip, x, ap)
	for i, v := range b {
		r[i] = v - ap[i]
	}
	copy(z, r)
	wb.solve(ip, z)
	copy(p, z)
	rz := dot(r, z)
	for range ipmCGIterations {
		if !(math.Sqrt(dot(r, r)) > ipmCGResidual*bn) || ip.poll(ipmPollCG) {
			break
		}
		ip.cgIter++
		wb.apply(ip, p, ap)
		pap := dot(p, ap)
		if !(pap > 0) || !(rz > 0) {
			break
		}
		alpha := rz / pap
		vaxpy(alpha, p, x)
		vaxpy(-alpha, ap, r)
		copy(z, r)
		wb.solve(ip, z)
		next := dot(r, z)
		for i := range p {
			p[i] = z[i] + next/rz*p[i]
		}
		rz = next
	}
	copy(b, x)
}

// apply sets out = (C⁻¹ + K) v = blockdiag(C⁻¹ᵢ) v + F_Dᵀ Δ F_D v for v, out (P×d).
func (wb *ipmWoodbury) apply(ip *pdip, v, out []float64) {
	n, d, P := ip.n, ip.d, ip.P
	for i := 0; i < P; i++ {
		ci := ip.cinv[i*d*d : (i+1)*d*d]
		vi, oi := v[i*d:(i+1)*d], out[i*d:(i+1)*d]
		for r := 0; r < d; r++ {
			oi[r] = vdot(ci[r*d:(r+1)*d], vi)
		}
	}
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, ip.x, blas64.General{Rows: P, Cols: d, Stride: d, Data: v},
		0, blas64.General{Rows: n, Cols: P, Stride: P, Data: wb.axt})
	for k := 0; k < n; k++ {
		m := ip.mask[k*P : (k+1)*P]
		row := wb.axt[k*P : (k+1)*P]
		g := ip.delta[k] * vdot(m, row)
		for i, mv := range m {
			row[i] = mv * g
		}
	}
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, blas64.General{Rows: n, Cols: P, Stride: P, Data: wb.axt}, ip.x,
		1, blas64.General{Rows: P, Cols: d, Stride: d, Data: out})
}

// applyC overwrites v (P×d) with C v, Cᵢ = B_vᵢ⁻¹ + B_wᵢ⁻¹.
func (wb *ipmWoodbury) applyC(ip *pdip, v []float64) {
	d, P := ip.d, ip.P
	tmp := wb.tmp
	for i := 0; i < P; i++ {
		vi := v[i*d : (i+1)*d]
		copy(tmp, vi)
		cholSolve(blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: d, Stride: d, Data: wb.lchol[i*d*d : (i+1)*d*d]}, vi)
		cholSolve(blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: d, Stride: d, Data: wb.lchol[(P+i)*d*d : (P+i+1)*d*d]}, tmp)
		for c, x := range tmp {
			vi[c] += x
		}
	}
}

// ipmCost is the estimated work of one Newton step of InteriorPoint on a program, in
// floating-point operations, by route: forming and factoring the system, and one
// solve with it.
type ipmCost struct {
	denseFactor, woodFactor, denseSolve, woodSolve float64
}

// ipmCosts estimates the work of a Newton step for n points, d features, P patterns
// with counts[i] points active in pattern i, and the loss. Both routes form the
// blocks Bⱼ (2Pnd²) and split them per pattern (about 3d³ each); the dense route forms
// K (n(dP)², except for the squared loss, whose K is fixed) and factors the dP×dP
// matrix ((dP)³/3); the Woodbury route factors the 2P blocks (d³/3 each), forms
// Yᵢ (2nᵢd²) and YᵢYᵢᵀ (2nᵢ²d) per pattern and factors the n×n matrix (n³/3). A
// solve: the triangular solves (2(dP)² or 2n² + 4Pd²) and the products with X and G
// (about 10·2Pnd); the Woodbury route's conjugate-gradient steps are not counted.
func ipmCosts(n, d, p int, loss Loss, counts []int) ipmCost {
	fn, fd, fp := float64(n), float64(d), float64(p)
	dp := fd * fp
	common := 2*fp*fn*fd*fd + 3*fp*fd*fd*fd
	c := ipmCost{denseFactor: common + dp*dp*dp/3, woodFactor: common + fn*fn*fn/3 + 2*fp*fd*fd*fd/3}
	if loss != Squared {
		c.denseFactor += fn * dp * dp
	}
	for _, ni := range counts {
		f := float64(ni)
		c.woodFactor += 2*f*fd*fd + 2*f*f*fd
	}
	products := 20 * fp * fn * fd
	c.denseSolve = 2*dp*dp + products
	c.woodSolve = 2*fn*fn + 4*fp*fd*fd + products
	return c
}

// perStep returns the factorization's and a solve's work on the route.
func (c ipmCost) perStep(route string) (factor, solve float64) {
	if route == FactorWoodbury {
		return c.woodFactor, c.woodSolve
	}
	return c.denseFactor, c.denseSolve
}

// cheaper returns the route whose Newton step costs less, and that step's work (the
// factorization and the five solves of an iteration with refinement and correctors),
// except that a dense step of at most ipmDenseSmall operations is taken whatever the
// n×n one costs. Where both are that cheap the estimate's omissions decide (the n×n
// route's conjugate gradients and per-iteration refinement, about three solves per
// solve). The rule came in as a workaround: on the logistic program of
// golden/regressions/relu_logistic_n20_d3_P8_b1e-04 (TestLiveCvxopt GOCVX_SEED=46;
// dense step 7e4 operations) the n×n route stopped at the iteration limit, gap 0.34,
// where the dense route certified 1e-8 in 132 steps. Both routes' directions were
// accurate there; both took steps that the logistic loss's backtracking cut to
// 1e-8…1e-3 for a hundred iterations, and the dense route's iterates found their way
// out. The cause was the Newton matrix's vanishing curvature on points with large
// margins, and the floor of pdip.hessian cures it on both routes (64 steps each).
// The threshold was 1e7 then; it is 3e7 since the profile's iris pairs (n = 100,
// d = 5, P = 56 and 64, dense steps estimated at 1.1–2.6e7) were measured on both
// routes: every loss and β of the grid, to 1e-6, one thread, CPU time, best of 3
// interleaved (load 10–12), the dense route was the faster on 31 of the 36 programs
// and took 4.86 s in all against the n×n route's 5.96 s (squared and hinge 1.0–1.6×
// faster dense, logistic 0.9–1.1×), in as many or fewer Newton steps.
func (c ipmCost) cheaper() (string, float64) {
	dense, wood := c.denseFactor+5*c.denseSolve, c.woodFactor+5*c.woodSolve
	if wood < dense && dense > ipmDenseSmall {
		return FactorWoodbury, wood
	}
	return FactorCholesky, dense
}

// activeCounts returns the number of points active in each pattern of arr.
func activeCounts(arr *Arrangement) []int {
	c := make([]int, arr.Len())
	for i := range c {
		c[i] = arr.ActiveCount(i)
	}
	return c
}

// shiftedCholesky sets l (d×d, lower) to the Cholesky factor of b (lower), or, when b
// is not positive definite in floating point, of b plus the smallest of 1e-14, 1e-12,
// 1e-10 and 1e-8 times its largest diagonal entry that makes it so; it reports false
// when none does.
func shiftedCholesky(l, b []float64, d int) bool {
	top := 0.0
	for r := 0; r < d; r++ {
		top = math.Max(top, b[r*d+r])
	}
	for _, shift := range []float64{0, 1e-14, 1e-12, 1e-10, 1e-8} {
		copy(l, b)
		for r := 0; r < d; r++ {
			l[r*d+r] += shift * top
		}
		if _, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: d, Stride: d, Data: l}); ok {
			return true
		}
	}
	return false
}

// Constants of the estimate of a solve's work (ipmEstimate).
const (
	ipmEstimatedSteps = 50 // Newton steps of a solve: 12–46 on the goldens, 21–48 on breast and digits
	ipmDenseTail      = 4  // dense steps after the hinge loss's Woodbury route loses accuracy
	// ipmDenseSmall is the estimated work of a dense Newton step (operations) up to
	// which the dense route is taken (see ipmCost.cheaper): a few milliseconds.
	ipmDenseSmall = 3e7
)

// ipmEstimate returns the route InteriorPoint takes for a program (n points, d
// features, P patterns with counts[i] points active in pattern i) and the estimated
// work of the solve in floating-point operations: ipmEstimatedSteps Newton steps on
// the cheaper route, and for the hinge loss on the Woodbury route ipmDenseTail dense
// steps more (measured: its n×n solves lose accuracy at relative gaps of 1e-5 to
// 1e-7, and the last iterations run on the dense route).
func ipmEstimate(n, d, p int, loss Loss, counts []int) (string, float64) {
	c := ipmCosts(n, d, p, loss, counts)
	route, step := c.cheaper()
	total := ipmEstimatedSteps * step
	if loss == Hinge && route == FactorWoodbury {
		total += ipmDenseTail * (c.denseFactor + 5*c.denseSolve)
	}
	return route, total
}
