package solver

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// pdip is the state of the primal-dual interior-point method on the conic form of a
// program (see InteriorPoint): the variables x = (u, τ, ξ), the cone slack s and the
// multiplier z, over the live rows of X (a zero row constrains nothing and adds the
// constant ℓ(0, yₖ) to the loss).
//
// Cone rows, in order: the pattern rows sⱼₖ = (2dᵢₖ − 1)xₖᵀuⱼ ≥ 0 (n×2P, point-major
// like X Uᵀ); for the hinge loss ξₖ ≥ 0 and ξₖ + yₖŷₖ − 1 ≥ 0 (n each); then the 2P
// second-order cones (τⱼ, uⱼ) ∈ Q. So Gx + s = h with G = −(the maps above) and h = 0
// except h = −1 on the margin rows.
type pdip struct {
	pr         *program
	loss       Loss
	n, d, P    int // n: live rows
	nb, N, dp  int // 2P blocks, 2Pd weights, dP
	x          blas64.General
	y          []float64 // live targets
	mask, sign []float64 // n×P over the live rows
	rows       []int     // the live rows' indices in X
	beta       float64
	offset     float64 // Σ ℓ(0, yₖ) over the zero rows of X
	hinge      bool

	cn   *cone
	mPat int // pattern rows, n·2P

	// The iterate and the products of u.
	u, tau, xi, s, z []float64
	xu, yhat         []float64 // X Uᵀ (n×2P), ŷ = Fu

	// Newton system (see factor). The dense route's a, sc, backup and kFixed are
	// allocated when it is first used (see dense).
	route    string       // FactorCholesky (dense dP×dP) or FactorWoodbury (n×n)
	workers  int          // goroutines for the per-block work
	fellBack string       // why the Woodbury route was left for the dense one, if it was
	wb       *ipmWoodbury // the Woodbury route's state
	kFixed   []float64    // K = F_DᵀF_D for the squared loss, formed once
	a        []float64    // dP×dP: blockdiag(C⁻¹ᵢ) + K(δ), then its Cholesky factor
	sc       []float64    // equilibration of a
	bblk     []float64    // 2P×d×d: Bⱼ
	tchol    []float64    // P×d×d: Cholesky factors of Tᵢ = B_vᵢ + B_wᵢ
	cinv     []float64    // P×d×d: C⁻¹ᵢ = B_vᵢ Tᵢ⁻¹ B_wᵢ (full)
	stt      []float64    // 2P: S^ττ of the cones' W⁻²
	stu      []float64    // 2P×d: S^τu
	delta    []float64    // n: the loss curvature on ŷ after eliminating ξ
	hd0      []float64    // n: hinge, z/s of ξ ≥ 0
	hd1      []float64    // n: hinge, z/s of the margin rows
	phi1     []float64    // n: ℓ'(ŷ)

	// The patterns' generators (P×d) and (X Hᵀ over the live rows, n×P), nil when
	// the arrangement has none: certify moves blocks onto their cones along them.
	gens, xh []float64

	work               *ipmWork
	primalRes, dualRes float64 // of the last evaluate
	correctors         int     // centrality correctors per iteration at most
	floored            bool    // the logistic loss's curvature is floored (see hessian)
	costs              ipmCost // the estimated work of a step on each route

	// stop is polled inside a step's long loops (see poll); nil never stops.
	stop   func(stage ipmStage) bool
	halted atomic.Bool // a poll said stop
	cgIter int         // conjugate-gradient iterations since the last look (see ipmRun.step)

	// Scratch.
	tn2p, gbuf []float64
	ta, tb     []float64   // d
	wx         [][]float64 // per worker, n×d
	blk, blk2  [][]float64 // per worker, d×d
	col        [][]float64 // per worker, d
	fchunk     []float64   // rows of F_D, for gram
	backup     []float64   // dP×dP, the equilibrated matrix before Cholesky
	tbuf       []float64
}

// newPDIP sets up the method on pr with the route of the Newton system (FactorCholesky
// or FactorWoodbury) and the number of worker goroutines. It refuses programs whose
// Newton system does not fit in memory.
func newPDIP(pr *program, route string, workers int) (*pdip, error) {
	d, P := pr.d, pr.P
	dp := d * P
	ip := &pdip{pr: pr, loss: pr.loss, d: d, P: P, nb: 2 * P, N: 2 * dp, dp: dp, beta: pr.beta, hinge: pr.loss == Hinge,
		route: route, workers: max(1, workers)}
	for k := 0; k < pr.n; k++ {
		if norm2(pr.x[k*d:(k+1)*d]) > 0 {
			ip.rows = append(ip.rows, k)
		} else {
			ip.offset += pr.loss.Value([]float64{0}, pr.y[k:k+1])
		}
	}
	n := len(ip.rows)
	if n == 0 {
		return nil, errors.New("solver: InteriorPoint: every row of X is zero")
	}
	ip.n = n
	xd := make([]float64, n*d)
	ip.y, ip.mask, ip.sign = make([]float64, n), make([]float64, n*P), make([]float64, n*P)
	for r, k := range ip.rows {
		copy(xd[r*d:(r+1)*d], pr.x[k*d:(k+1)*d])
		ip.y[r] = pr.y[k]
		copy(ip.mask[r*P:(r+1)*P], pr.mask[k*P:(k+1)*P])
		copy(ip.sign[r*P:(r+1)*P], pr.sign[k*P:(k+1)*P])
	}
	ip.x = blas64.General{Rows: n, Cols: d, Stride: d, Data: xd}
	ip.mPat = n * ip.nb
	ml := ip.mPat
	if ip.hinge {
		ml += 2 * n
		ip.xi = make([]float64, n)
		ip.hd0, ip.hd1 = make([]float64, n), make([]float64, n)
	}
	ip.cn = newCone(ml, ip.nb, d+1)
	m := ip.cn.size()
	ip.u, ip.tau, ip.s, ip.z = make([]float64, ip.N), make([]float64, ip.nb), make([]float64, m), make([]float64, m)
	ip.xu, ip.yhat = make([]float64, n*ip.nb), make([]float64, n)
	ip.bblk, ip.tchol, ip.cinv = make([]float64, ip.nb*d*d), make([]float64, P*d*d), make([]float64, P*d*d)
	ip.stt, ip.stu = make([]float64, ip.nb), make([]float64, ip.N)
	ip.delta, ip.phi1 = make([]float64, n), make([]float64, n)
	ip.tn2p, ip.gbuf = make([]float64, n*ip.nb), make([]float64, ip.N)
	ip.ta, ip.tb = make([]float64, d), make([]float64, d)
	for range ip.workers {
		ip.wx = append(ip.wx, make([]float64, n*d))
		ip.blk, ip.blk2 = append(ip.blk, make([]float64, d*d)), append(ip.blk2, make([]float64, d*d))
		ip.col = append(ip.col, make([]float64, d))
	}
	if g := pr.arr.Generators; g != nil {
		ip.gens = make([]float64, P*d)
		for i := 0; i < P; i++ {
			for c := 0; c < d; c++ {
				ip.gens[i*d+c] = g.At(i, c)
			}
		}
		ip.xh = make([]float64, n*P)
		mulXT(ip.x, ip.xh, ip.gens, P, &ip.tbuf)
	}
	ip.work = ip.newWork()
	ip.costs = ipmCosts(n, d, P, ip.loss, activeCounts(pr.arr))
	switch route {
	case FactorWoodbury:
		wb, err := ip.newWoodbury()
		if err != nil {
			return nil, err
		}
		ip.wb = wb
	case FactorCholesky:
		if err := ip.denseFits(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("solver: InteriorPoint: unknown factorization %q (want %q or %q)", route, FactorCholesky, FactorWoodbury)
	}
	ip.setCorrectors()
	return ip, nil
}

// denseFits refuses programs whose dP×dP system does not fit in memory.
func (ip *pdip) denseFits() error {
	dp := ip.dp
	if 3*float64(dp)*float64(dp) > maxDenseFloats { // the matrix, its copy and K
		return fmt.Errorf("solver: InteriorPoint: the Newton system of %d weights (dP = %d) does not fit in 2 GiB; use fewer patterns or ADMM", 2*dp, dp)
	}
	return nil
}

// dense allocates the dense route's matrices and forms the squared loss's fixed K
// (polled, errInterrupted) unless they exist: at the route's first factorization.
func (ip *pdip) dense() error {
	if ip.a != nil {
		return nil
	}
	dp := ip.dp
	ip.a, ip.sc, ip.backup = make([]float64, dp*dp), make([]float64, dp), make([]float64, dp*dp)
	if ip.loss == Squared {
		ip.kFixed = make([]float64, dp*dp)
		if err := ip.gram(ip.kFixed, nil); err != nil {
			ip.a, ip.kFixed = nil, nil // formed anew should it be asked again
			return err
		}
	}
	return nil
}

// Stages of the polls inside a Newton step (see pdip.poll), for tests.
type ipmStage int

const (
	ipmPollBlocks   ipmStage = iota // forming the blocks Bⱼ and splitting them per pattern
	ipmPollPatterns                 // the Woodbury route's per-pattern terms of its n×n matrix
	ipmPollGram                     // the dense route's K, per chunk of rows
	ipmPollCholesky                 // a Cholesky factorization of dP×dP or n×n, per panel
	ipmPollCG                       // the Woodbury route's conjugate gradients, per iteration
)

// poll reports whether the running work must stop: it asks stop, and once told to
// stop answers true without asking again (the solve then ends). Safe for concurrent
// use by the workers.
func (ip *pdip) poll(stage ipmStage) bool {
	if ip.halted.Load() {
		return true
	}
	if ip.stop != nil && ip.stop(stage) {
		ip.halted.Store(true)
		return true
	}
	return false
}

// stepWork returns the estimated work of a Newton step on route (ipmCosts: the
// factorization and five solves), with the dense route's one-time K of the squared
// loss when it is still to be formed.
func (ip *pdip) stepWork(route string) float64 {
	factor, solve := ip.costs.perStep(route)
	w := factor + 5*solve
	if route == FactorCholesky && ip.a == nil && ip.loss == Squared {
		w += float64(ip.n) * float64(ip.dp) * float64(ip.dp)
	}
	return w
}

// setCorrectors sets the centrality correctors per iteration for the route taken:
// each costs one solve with the factorization, so they pay when the factorization
// costs many solves (Gondzio 1996 chooses their number by this ratio; see ipmCosts).
func (ip *pdip) setCorrectors() {
	factor, solve := ip.costs.perStep(ip.route)
	ip.correctors = 0
	if factor >= ipmCorrectorRatio*solve {
		ip.correctors = ipmCorrectors
	}
}

// mulXT sets dst (n×2P) = X Aᵀ for A = 2P×d over the live rows.
func (ip *pdip) mulXT(dst, a []float64) { mulXT(ip.x, dst, a, ip.nb, &ip.tbuf) }

// mulTX sets dst (2P×d) = Tᵀ X for T = n×2P.
func (ip *pdip) mulTX(dst, t []float64) {
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, blas64.General{Rows: ip.n, Cols: ip.nb, Stride: ip.nb, Data: t}, ip.x,
		0, blas64.General{Rows: ip.nb, Cols: ip.d, Stride: ip.d, Data: dst})
}

// predict sets out = Σᵢ DᵢX(vᵢ − wᵢ) from xu = X Uᵀ.
func (ip *pdip) predict(xu, out []float64) {
	P := ip.P
	for k := range out {
		row := xu[k*2*P : (k+1)*2*P]
		m := ip.mask[k*P : (k+1)*P]
		c := 0.0
		for i := 0; i < P; i++ {
			c += m[i] * (row[i] - row[P+i])
		}
		out[k] = c
	}
}

// mulG sets out = G dx for dx = (du, dτ, dξ); xdu receives X duᵀ.
func (ip *pdip) mulG(out, du, dtau, dxi, xdu []float64) {
	n, P, nb, q := ip.n, ip.P, ip.nb, ip.d+1
	ip.mulXT(xdu, du)
	for k := 0; k < n; k++ {
		sg := ip.sign[k*P : (k+1)*P]
		row := xdu[k*nb : (k+1)*nb]
		o := out[k*nb : (k+1)*nb]
		for j, v := range row {
			o[j] = -sg[j%P] * v
		}
	}
	if ip.hinge {
		o := ip.mPat
		for k := 0; k < n; k++ {
			row := xdu[k*nb : (k+1)*nb]
			m := ip.mask[k*P : (k+1)*P]
			f := 0.0
			for i := 0; i < P; i++ {
				f += m[i] * (row[i] - row[P+i])
			}
			out[o+k] = -dxi[k]
			out[o+n+k] = -dxi[k] - ip.y[k]*f
		}
	}
	for j := 0; j < nb; j++ {
		o := out[ip.cn.ml+j*q : ip.cn.ml+(j+1)*q]
		o[0] = -dtau[j]
		for c, v := range du[j*ip.d : (j+1)*ip.d] {
			o[1+c] = -v
		}
	}
}

// addGT adds Gᵀz to (ou, ot, ox), plus Fᵀg when g is not nil (the gradient of the
// loss, which shares the product with X).
func (ip *pdip) addGT(ou, ot, ox, z, g []float64) {
	n, P, nb, q, d := ip.n, ip.P, ip.nb, ip.d+1, ip.d
	t := ip.tn2p
	for k := 0; k < n; k++ {
		sg := ip.sign[k*P : (k+1)*P]
		m := ip.mask[k*P : (k+1)*P]
		zr := z[k*nb : (k+1)*nb]
		tr := t[k*nb : (k+1)*nb]
		e := 0.0 // the coefficient of Fᵀ on row k
		if g != nil {
			e = g[k]
		}
		if ip.hinge {
			e -= ip.y[k] * z[ip.mPat+n+k]
			ox[k] -= z[ip.mPat+k] + z[ip.mPat+n+k]
		}
		for i := 0; i < P; i++ {
			tr[i] = m[i]*e - sg[i]*zr[i]
			tr[P+i] = -m[i]*e - sg[i]*zr[P+i]
		}
	}
	ip.mulTX(ip.gbuf, t)
	for c, v := range ip.gbuf {
		ou[c] += v
	}
	for j := 0; j < nb; j++ {
		zj := z[ip.cn.ml+j*q : ip.cn.ml+(j+1)*q]
		ot[j] -= zj[0]
		for c := 0; c < d; c++ {
			ou[j*d+c] -= zj[1+c]
		}
	}
}

// gram sets dst (dP×dP, lower triangle) = F_Dᵀ diag(δ) F_D, F_D = [D₁X … DₚX] over the
// live rows (δ = 1 when delta is nil), in chunks of 32 rows of F_D (Syrk adds each
// chunk's rows to every entry one after the other, so the chunk does not change the
// sums); it polls between chunks (32·(dP)² operations; errInterrupted).
func (ip *pdip) gram(dst, delta []float64) error {
	n, d, P, dp := ip.n, ip.d, ip.P, ip.dp
	const chunk = 32
	if ip.fchunk == nil {
		ip.fchunk = make([]float64, min(chunk, n)*dp)
	}
	f := ip.fchunk
	clear(dst)
	for k0 := 0; k0 < n; k0 += chunk {
		if ip.poll(ipmPollGram) {
			return errInterrupted
		}
		rows := min(chunk, n-k0)
		for r := 0; r < rows; r++ {
			k := k0 + r
			w := 1.0
			if delta != nil {
				w = math.Sqrt(delta[k])
			}
			xk := ip.x.Data[k*d : (k+1)*d]
			mk := ip.mask[k*P : (k+1)*P]
			fr := f[r*dp : (r+1)*dp]
			for i, m := range mk {
				if m != 0 {
					for c, v := range xk {
						fr[i*d+c] = w * v
					}
				} else {
					clear(fr[i*d : (i+1)*d])
				}
			}
		}
		blas64.Syrk(blas.Trans, 1, blas64.General{Rows: rows, Cols: dp, Stride: dp, Data: f[:rows*dp]},
			1, blas64.Symmetric{Uplo: blas.Lower, N: dp, Stride: dp, Data: dst})
	}
	return nil
}

// factor forms and factors the reduced Newton matrix at the current scaling. With
// W the scaling and ∇²f = Fᵀdiag(ℓ”)F (curv holds ℓ” on ŷ; nil for the hinge loss),
// H = ∇²f + GᵀW⁻²G is eliminated in three steps:
//
//   - τⱼ: the cone's W⁻² = (1/β²)(4‖v‖²aaᵀ − 2(avᵀ + vaᵀ) + I), a = Jv, couples τⱼ with
//     uⱼ only; its Schur complement on uⱼ is (1/β²)(I − v̂v̂ᵀ + v̂v̂ᵀ/(8v₀⁴ − 8v₀² + 1)),
//     v̂ = v₁/‖v₁‖ (from vᵀJv = 1);
//   - ξ (hinge): with D₀, D₁ the z/s of ξ ≥ 0 and of the margin rows, the loss block
//     becomes Fᵀdiag(δ)F with δ = D₀D₁/(D₀ + D₁);
//   - what remains is M = blockdiag(Bⱼ) + Fᵀdiag(δ)F on u, Bⱼ = Xᵀdiag(zⱼ/sⱼ)X plus
//     the cone's Schur complement. As F = [F_D, −F_D], M = [B_v + K, −K; −K, B_w + K]
//     with K = F_Dᵀdiag(δ)F_D, and in e = u_v − u_w (B_v u_v + B_w u_w = a + b):
//     (C⁻¹ + K) e = B_w T⁻¹a − B_v T⁻¹b, C⁻¹ = B_v T⁻¹ B_w, T = B_v + B_w
//     (blockwise per pattern).
//
// The dP×dP system (C⁻¹ + K) e = r is then factored by the route: densely (one
// Cholesky factorization, an eighth of the work of the 2dP×2dP system) or through
// Woodbury's identity and an n×n matrix (see ipmWoodbury). When the Woodbury route
// fails, it returns a woodburyFailure (the solve continues on the dense route), and
// errInterrupted when a poll said stop.
func (ip *pdip) factor(curv []float64) error {
	n, cn := ip.n, ip.cn
	if err := ip.blocks(); err != nil {
		return err
	}
	switch {
	case ip.hinge:
		o := ip.mPat
		for k := 0; k < n; k++ {
			d0 := 1 / (cn.w[o+k] * cn.w[o+k])
			d1 := 1 / (cn.w[o+n+k] * cn.w[o+n+k])
			ip.hd0[k], ip.hd1[k] = d0, d1
			ip.delta[k] = d0 * d1 / (d0 + d1)
		}
	default:
		copy(ip.delta, curv)
	}
	if ip.route == FactorWoodbury {
		err := ip.wb.factor(ip)
		if err == nil || err == errInterrupted {
			return err
		}
		return woodburyFailure{err.Error()}
	}
	return ip.factorDense()
}

// woodburyFailure is the error of a step whose Newton system the Woodbury route could
// not factor, or solve accurately: why. The solve continues on the dense route (see
// ipmRun.iterate).
type woodburyFailure struct{ why string }

func (e woodburyFailure) Error() string { return e.why }

// fallBack leaves the Woodbury route for the dense one for the rest of the solve.
func (ip *pdip) fallBack(why string) error {
	ip.route, ip.fellBack, ip.wb = FactorCholesky, why, nil
	ip.setCorrectors()
	return ip.denseFits()
}

// blocks forms Bⱼ = Xᵀdiag(zⱼ/sⱼ)X plus the cone's Schur complement (2P blocks), and
// per pattern the Cholesky factor of Tᵢ = B_vᵢ + B_wᵢ and C⁻¹ᵢ = B_vᵢ Tᵢ⁻¹ B_wᵢ,
// on the workers, polling before every 64 rows of a block and of a pattern's split
// (errInterrupted): at d = 785 a block is n·d² operations.
func (ip *pdip) blocks() error {
	n, d, P, nb := ip.n, ip.d, ip.P, ip.nb
	cn := ip.cn
	parallelEach(ip.workers, nb, func(wk, j int) {
		if ip.halted.Load() {
			return
		}
		wx := ip.wx[wk]
		for k := 0; k < n; k++ {
			w := 1 / cn.w[k*nb+j]
			for c := 0; c < d; c++ {
				wx[k*d+c] = w * ip.x.Data[k*d+c]
			}
		}
		b := ip.bblk[j*d*d : (j+1)*d*d]
		bs, wg := blas64.Symmetric{Uplo: blas.Lower, N: d, Stride: d, Data: b}, blas64.General{Rows: n, Cols: d, Stride: d, Data: wx}
		if inRows(d, setupRows, ip.pollBlocks, func(i0, i1 int) { syrkRows(bs, wg, true, i0, i1) }) == nil {
			ip.addConeSchur(b, j)
		}
	})
	if ip.halted.Load() {
		return errInterrupted
	}
	failed := make([]bool, P)
	parallelEach(ip.workers, P, func(wk, i int) { failed[i] = !ip.split(wk, i) })
	if ip.halted.Load() {
		return errInterrupted
	}
	for _, f := range failed {
		if f {
			return errors.New("a block of the Newton system is not positive definite")
		}
	}
	return nil
}

// split factors Tᵢ = B_vᵢ + B_wᵢ into tchol and sets cinv's block i to
// C⁻¹ᵢ = B_vᵢ Tᵢ⁻¹ B_wᵢ (symmetrized) with worker wk's scratch; it reports false when
// Tᵢ is not positive definite. It polls before every 64 columns and rows (about
// 64d² operations); when told to stop it returns true at once (the step is
// abandoned).
func (ip *pdip) split(wk, i int) bool {
	d, P := ip.d, ip.P
	if ip.pollBlocks() {
		return true
	}
	bv, bw := ip.bblk[i*d*d:(i+1)*d*d], ip.bblk[(P+i)*d*d:(P+i+1)*d*d]
	t := ip.tchol[i*d*d : (i+1)*d*d]
	for a := 0; a < d; a++ {
		for b := 0; b <= a; b++ {
			t[a*d+b] = bv[a*d+b] + bw[a*d+b]
		}
	}
	if _, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: d, Stride: d, Data: t}); !ok {
		return false
	}
	blk, blk2, col := ip.blk[wk], ip.blk2[wk], ip.col[wk]
	// blk = T⁻¹ B_w (columns), then C⁻¹ = B_v blk, symmetrized.
	for c := 0; c < d; c++ {
		if c > 0 && c%setupRows == 0 && ip.pollBlocks() {
			return true
		}
		for r := 0; r < d; r++ {
			col[r] = symAt(bw, d, r, c)
		}
		cholSolve(blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: d, Stride: d, Data: t}, col)
		for r := 0; r < d; r++ {
			blk[r*d+c] = col[r]
		}
	}
	for r := 0; r < d; r++ {
		if r > 0 && r%setupRows == 0 && ip.pollBlocks() {
			return true
		}
		for c := 0; c < d; c++ {
			s := 0.0
			for m := 0; m < d; m++ {
				s += symAt(bv, d, r, m) * blk[m*d+c]
			}
			blk2[r*d+c] = s
		}
	}
	ci := ip.cinv[i*d*d : (i+1)*d*d]
	for r := 0; r < d; r++ {
		for c := 0; c < d; c++ {
			ci[r*d+c] = (blk2[r*d+c] + blk2[c*d+r]) / 2
		}
	}
	return true
}

// factorDense forms C⁻¹ + K (K formed anew unless the loss fixes it) and factors it;
// when no shift of cholesky makes it definite, it factors it again with the blocks
// C⁻¹ᵢ made positive semidefinite (clipCinv).
func (ip *pdip) factorDense() error {
	if err := ip.dense(); err != nil {
		return err
	}
	err := ip.formDense()
	if err == nil {
		err = ip.cholesky()
	}
	if err != errNotDefinite {
		return err
	}
	// Rounding has made some C⁻¹ᵢ indefinite (see clipCinv): factor the matrix with
	// their negative eigenvalues set to zero, a preconditioner for gmres.
	ip.clipCinv()
	if err := ip.formDense(); err != nil {
		return err
	}
	return ip.cholesky()
}

// errNotDefinite is cholesky's error when every shift failed.
var errNotDefinite = errors.New("the Newton system is not positive definite in floating point")

// clipCinv sets the negative eigenvalues of every block C⁻¹ᵢ to zero. In exact
// arithmetic C⁻¹ᵢ = B_vᵢTᵢ⁻¹B_wᵢ is positive semidefinite; near the end of a solve
// at small β it is formed from blocks whose small eigenvalues are rounding noise,
// and came out with eigenvalues of −2.3e-4 where the exact ones were 1.7e-7…2.7e-4
// (see gmres), while K, which vanishes on the points classified with a large margin,
// did not make up for it: no diagonal shift up to 1e-4 of the equilibrated matrix
// made it definite. It costs P symmetric eigendecompositions of d×d, about 9Pd³
// operations against the factorization's (dP)³/3, and runs only then.
func (ip *pdip) clipCinv() {
	d := ip.d
	var es mat.EigenSym
	sym := mat.NewSymDense(d, nil)
	var vecs mat.Dense
	for i := 0; i < ip.P; i++ {
		ci := ip.cinv[i*d*d : (i+1)*d*d]
		for r := 0; r < d; r++ {
			for c := 0; c <= r; c++ {
				sym.SetSym(r, c, ci[r*d+c])
			}
		}
		if !es.Factorize(sym, true) {
			continue
		}
		vals := es.Values(nil)
		if vals[0] >= 0 {
			continue
		}
		es.VectorsTo(&vecs)
		for r := 0; r < d; r++ {
			for c := 0; c < d; c++ {
				s := 0.0
				for k, l := range vals {
					if l > 0 {
						s += vecs.At(r, k) * l * vecs.At(c, k)
					}
				}
				ci[r*d+c] = s
			}
		}
	}
}

// formDense sets a = C⁻¹ + K (lower).
func (ip *pdip) formDense() error {
	d, P, dp := ip.d, ip.P, ip.dp
	if ip.kFixed != nil {
		copy(ip.a, ip.kFixed)
	} else if err := ip.gram(ip.a, ip.delta); err != nil {
		return err
	}
	for i := 0; i < P; i++ {
		ci := ip.cinv[i*d*d : (i+1)*d*d]
		for r := 0; r < d; r++ {
			row := ip.a[(i*d+r)*dp+i*d:]
			for c := 0; c <= r; c++ {
				row[c] += ci[r*d+c]
			}
		}
	}
	return nil
}

// addConeSchur adds the Schur complement of the cone j's W⁻² on uⱼ to b (lower) and
// records S^ττ and S^τu for the recovery of dτ.
func (ip *pdip) addConeSchur(b []float64, j int) {
	d, q := ip.d, ip.d+1
	cn := ip.cn
	v := cn.v[j*q : (j+1)*q]
	ib2 := 1 / (cn.beta[j] * cn.beta[j])
	v0 := v[0]
	v1 := v[1:]
	nv2 := dot(v, v)
	ip.stt[j] = ib2 * (4*nv2*v0*v0 - 4*v0*v0 + 1)
	stu := ip.stu[j*d : (j+1)*d]
	for c := range stu {
		stu[c] = -ib2 * 4 * nv2 * v0 * v1[c]
	}
	q2 := v0 * v0
	small := 1 / (8*q2*q2 - 8*q2 + 1) // the eigenvalue along v₁
	n1 := norm2(v1)
	for a := 0; a < d; a++ {
		for c := 0; c <= a; c++ {
			val := 0.0
			if n1 > 0 {
				val = (small - 1) * v1[a] * v1[c] / (n1 * n1)
			}
			if a == c {
				val++
			}
			b[a*d+c] += ib2 * val
		}
	}
}

// symAt returns entry (r, c) of the symmetric matrix whose lower triangle is m (d×d).
func symAt(m []float64, d, r, c int) float64 {
	if c > r {
		r, c = c, r
	}
	return m[r*d+c]
}

// cholesky factors a (lower) in place after equilibrating it to a unit diagonal (a
// diagonal that rounding left ≤ 0 is first repaired: repairDiagonal); when the
// factorization fails in floating point, a small multiple of the (unit) diagonal
// is added, from 1e-14 up to 1e-4 (the direction then solves a regularized system;
// near the end the refinement of step, and gmres where refinement stalls, correct it
// against the true one). Shifts up to
// 1e-8 had left a logistic program at β = 1e-4 (TestLiveCvxopt's generator, seed 620,
// n = 35, P = 6) with status Failure at a gap of 1.2e-7; with 1e-6 and 1e-4 it is
// certified to 1e-8, and on 1 400 logistic and 1 200 squared and hinge programs of
// that generator nothing else changed. It polls between panels (errInterrupted).
func (ip *pdip) cholesky() error {
	dp := ip.dp
	for r := 0; r < dp; r++ {
		v := ip.a[r*dp+r]
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return errors.New("the Newton system has an infinite diagonal")
		}
		if !(v > 0) {
			v = ip.repairDiagonal(r)
		}
		ip.sc[r] = 1 / math.Sqrt(v)
	}
	for r := 0; r < dp; r++ {
		row := ip.a[r*dp : r*dp+r+1]
		for c := range row {
			row[c] *= ip.sc[r] * ip.sc[c]
		}
	}
	copy(ip.backup, ip.a)
	for _, shift := range []float64{0, 1e-14, 1e-12, 1e-10, 1e-8, 1e-6, 1e-4} {
		if shift > 0 {
			copy(ip.a, ip.backup)
			for r := 0; r < dp; r++ {
				ip.a[r*dp+r] += shift
			}
		}
		ok, err := potrfPolled(blas64.Symmetric{Uplo: blas.Lower, N: dp, Stride: dp, Data: ip.a}, ip.pollCholesky)
		if err != nil || ok {
			return err
		}
	}
	return errNotDefinite
}

// repairDiagonal sets the diagonal entry r of a (lower), which rounding has left
// ≤ 0, to the largest magnitude in its row and column (1 when they are zero) and
// returns it. C⁻¹ + K is positive semidefinite in exact arithmetic; a diagonal ≤ 0
// arises only near the end of a solve at small β, where a pattern's C⁻¹ᵢ is formed
// from blocks Bⱼ whose small eigenvalues are rounding noise and K vanishes on the
// points classified with a large margin (see gmres). The factorization is then a
// preconditioner, no more, and gmres takes the direction to the accuracy that the
// unreduced equations allow.
func (ip *pdip) repairDiagonal(r int) float64 {
	dp := ip.dp
	v := 0.0
	for c := 0; c < r; c++ {
		v = math.Max(v, math.Abs(ip.a[r*dp+c]))
	}
	for c := r + 1; c < dp; c++ {
		v = math.Max(v, math.Abs(ip.a[c*dp+r]))
	}
	if !(v > 0) {
		v = 1
	}
	ip.a[r*dp+r] = v
	return v
}

// hsolve solves H dx = r for the matrix of the last factor; r = (ru, rt, rx) is
// overwritten by dx = (du, dτ, dξ). xdu is scratch (n×2P).
func (ip *pdip) hsolve(ru, rt, rx, xdu []float64) {
	n, d, P, nb, dp := ip.n, ip.d, ip.P, ip.nb, ip.dp
	// Eliminate τ: ru −= S^uτ rτ / S^ττ.
	for j := 0; j < nb; j++ {
		f := rt[j] / ip.stt[j]
		for c := 0; c < d; c++ {
			ru[j*d+c] -= ip.stu[j*d+c] * f
		}
	}
	// Eliminate ξ: ru −= Fᵀ(y D₁ rξ/(D₀ + D₁)).
	if ip.hinge {
		t := ip.tn2p
		for k := 0; k < n; k++ {
			g := ip.y[k] * ip.hd1[k] * rx[k] / (ip.hd0[k] + ip.hd1[k])
			m := ip.mask[k*P : (k+1)*P]
			tr := t[k*nb : (k+1)*nb]
			for i := 0; i < P; i++ {
				tr[i], tr[P+i] = m[i]*g, -m[i]*g
			}
		}
		ip.mulTX(ip.gbuf, t)
		for c, v := range ip.gbuf {
			ru[c] -= v
		}
	}
	// The v/w split: r = B_w T⁻¹a − B_v T⁻¹b, then (C⁻¹ + K) e = r.
	av, bw := ru[:dp], ru[dp:]
	e := ip.gbuf[:dp]
	ta, tb := ip.ta, ip.tb
	for i := 0; i < P; i++ {
		tri := blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: d, Stride: d, Data: ip.tchol[i*d*d : (i+1)*d*d]}
		copy(ta, av[i*d:(i+1)*d])
		copy(tb, bw[i*d:(i+1)*d])
		cholSolve(tri, ta)
		cholSolve(tri, tb)
		bv, bwm := ip.bblk[i*d*d:(i+1)*d*d], ip.bblk[(P+i)*d*d:(P+i+1)*d*d]
		for r := 0; r < d; r++ {
			s := 0.0
			for c := 0; c < d; c++ {
				s += symAt(bwm, d, r, c)*ta[c] - symAt(bv, d, r, c)*tb[c]
			}
			e[i*d+r] = s
		}
	}
	ip.solveE(e)
	// u_v = T⁻¹(a + b + B_w e), u_w = u_v − e.
	for i := 0; i < P; i++ {
		tri := blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: d, Stride: d, Data: ip.tchol[i*d*d : (i+1)*d*d]}
		bwm := ip.bblk[(P+i)*d*d : (P+i+1)*d*d]
		for r := 0; r < d; r++ {
			s := av[i*d+r] + bw[i*d+r]
			for c := 0; c < d; c++ {
				s += symAt(bwm, d, r, c) * e[i*d+c]
			}
			ta[r] = s
		}
		cholSolve(tri, ta)
		for r := 0; r < d; r++ {
			av[i*d+r] = ta[r]
			bw[i*d+r] = ta[r] - e[i*d+r]
		}
	}
	// Recover dτ and dξ.
	for j := 0; j < nb; j++ {
		rt[j] = (rt[j] - dot(ip.stu[j*d:(j+1)*d], ru[j*d:(j+1)*d])) / ip.stt[j]
	}
	if ip.hinge {
		ip.mulXT(xdu, ru)
		for k := 0; k < n; k++ {
			row := xdu[k*nb : (k+1)*nb]
			m := ip.mask[k*P : (k+1)*P]
			f := 0.0
			for i := 0; i < P; i++ {
				f += m[i] * (row[i] - row[P+i])
			}
			rx[k] = (rx[k] - ip.hd1[k]*ip.y[k]*f) / (ip.hd0[k] + ip.hd1[k])
		}
	}
}

// pollCholesky is poll at a panel of a factorization.
func (ip *pdip) pollCholesky() bool { return ip.poll(ipmPollCholesky) }

// pollBlocks is poll in the forming and splitting of the blocks.
func (ip *pdip) pollBlocks() bool { return ip.poll(ipmPollBlocks) }

// solveE overwrites r with the solution e of (C⁻¹ + K) e = r by the route of the
// last factorization.
func (ip *pdip) solveE(r []float64) {
	if ip.route == FactorWoodbury {
		ip.wb.pcg(ip, r)
		return
	}
	for i := range r {
		r[i] *= ip.sc[i]
	}
	cholSolve(blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: ip.dp, Stride: ip.dp, Data: ip.a}, r)
	for i := range r {
		r[i] *= ip.sc[i]
	}
}
