package solver

import "math"

// Constants of the Newton directions' Krylov refinement (pdip.gmres).
const (
	ipmGMRESIterations = 10 // GMRES iterations per cycle at most
	ipmGMRESCycles     = 3  // cycles (restarts from the true residual) per direction at most
)

// ipmKrylov is the scratch of pdip.gmres: the Arnoldi basis of the residual space
// (each vector the five blocks of the Newton system's equations, flat), the
// preconditioned directions, the Hessenberg matrix and its Givens rotations.
type ipmKrylov struct {
	v     [][]float64 // ipmGMRESIterations+1 residual-space vectors
	z     []*ipmDir   // ipmGMRESIterations directions, zⱼ = M⁻¹vⱼ
	h     []float64   // (k+1)×k Hessenberg, row-major
	cs    []float64   // the rotations' cosines
	sn    []float64   // and sines
	g     []float64   // the rotated right-hand side βe₁
	zeros []float64   // a zero right-hand side block, as long as the longest
}

// krylov returns the scratch of gmres, allocated at its first use (it is used only
// when iterative refinement fails, near the end of a few solves).
func (ip *pdip) krylov() *ipmKrylov {
	w := ip.work
	if w.kr != nil {
		return w.kr
	}
	k := ipmGMRESIterations
	m := ip.cn.size()
	size := ip.N + ip.nb + len(ip.xi) + 2*m
	kr := &ipmKrylov{h: make([]float64, (k+1)*k), cs: make([]float64, k), sn: make([]float64, k), g: make([]float64, k+1),
		zeros: make([]float64, max(ip.N, m))}
	for range k + 1 {
		kr.v = append(kr.v, make([]float64, size))
	}
	for range k {
		kr.z = append(kr.z, ip.newDir())
	}
	w.kr = kr
	return kr
}

// residualTo copies the residual that kktResidual left in w.rf into the flat vector
// dst, scaled by a.
func (ip *pdip) residualTo(dst []float64, a float64) {
	rf := ip.work.rf
	o := 0
	for _, b := range [][]float64{rf.u, rf.t, rf.x, rf.z, rf.s} {
		for i, v := range b {
			dst[o+i] = a * v
		}
		o += len(b)
	}
}

// blocksOf splits a flat residual-space vector into the blocks (u, τ, ξ, z, s) of
// the Newton system's right-hand side.
func (ip *pdip) blocksOf(v []float64) (bu, bt, bx, bz, bs []float64) {
	m := ip.cn.size()
	o := 0
	cut := func(l int) []float64 { s := v[o : o+l : o+l]; o += l; return s }
	return cut(ip.N), cut(ip.nb), cut(len(ip.xi)), cut(m), cut(m)
}

// gmres improves the direction dir of the Newton system with right-hand sides
// (bxu, bxt, bxx, bz, bs) by right-preconditioned GMRES (Saad and Schultz 1986) on
// the unreduced equations (those of kktResidual, evaluated from G, W and ∇²f as
// they are), with one solve by the factorization (solveOnce) as the preconditioner,
// and returns the relative residual of the direction it leaves; a result that does
// not lower the residual is undone. It is what follows when iterative refinement
// stalls: refinement converges only while the factorization's error is below the
// system's (‖I − AM⁻¹‖ < 1), and near the end of a solve at small β the reduced
// matrix loses all accuracy in a few directions. The blocks Bⱼ = Xᵀdiag(zⱼ/sⱼ)X + …
// sum terms whose weights span 1e-13…1e13, so their small eigenvalues are rounding
// noise (measured: eigenvalues of −7e-10 beside 3e7), and C⁻¹ᵢ = B_vᵢTᵢ⁻¹B_wᵢ, whose
// exact eigenvalues were 1.7e-7…2.7e-4 at blocks of norm 4e10, came out as
// −2.3e-4…2.9e-6 (TestLiveCvxopt's generator, seed 643: logistic, β = 1e-4). Such a
// preconditioner is wrong in a few directions only, and a Krylov method removes a few
// outlying eigenvalues of AM⁻¹ in about as many iterations, where refinement
// diverged (relative residuals of 0.37 and 6e5 after three steps, and the next
// iterates left the cones' equations by 1e-4). Each iteration costs a solve and a
// product, as a step of refinement does.
func (ip *pdip) gmres(dir *ipmDir, bxu, bxt, bxx, bz, bs []float64) float64 {
	rel := math.Inf(1)
	for range ipmGMRESCycles {
		next := ip.gmresCycle(dir, bxu, bxt, bxx, bz, bs)
		if !(next < rel) || next <= ipmRefinedResidual {
			return math.Min(next, rel)
		}
		rel = next
	}
	return rel
}

// gmresCycle is one cycle of gmres from the true residual of dir: at most
// ipmGMRESIterations iterations, a result that does not lower the residual undone.
// It returns the relative residual of the direction it leaves.
func (ip *pdip) gmresCycle(dir *ipmDir, bxu, bxt, bxx, bz, bs []float64) float64 {
	w := ip.work
	kr := ip.krylov()
	bn := math.Sqrt(dot(bxu, bxu) + dot(bxt, bxt) + dot(bxx, bxx) + dot(bz, bz) + dot(bs, bs))
	ip.kktResidual(w, dir, bxu, bxt, bxx, bz, bs)
	ip.residualTo(kr.v[0], 1)
	r0 := norm2(kr.v[0])
	start := r0 / bn
	if !(r0 > 0) || !(bn > 0) || math.IsNaN(r0) {
		return start
	}
	scal(1/r0, kr.v[0])
	k := ipmGMRESIterations
	clear(kr.g)
	kr.g[0] = r0
	zero := kr.zeros
	used := 0
	for j := 0; j < k; j++ {
		zu, zt, zx, zz, zs := ip.blocksOf(kr.v[j])
		ip.solveOnce(w, kr.z[j], zu, zt, zx, zz, zs)
		// A zⱼ = −(the residual of zⱼ for a zero right-hand side).
		ip.kktResidual(w, kr.z[j], zero[:ip.N], zero[:ip.nb], zero[:len(ip.xi)], zero[:len(zz)], zero[:len(zs)])
		next := kr.v[j+1]
		ip.residualTo(next, -1)
		col := func(i int) *float64 { return &kr.h[i*k+j] }
		for i := 0; i <= j; i++ { // modified Gram–Schmidt, twice
			*col(i) = 0
		}
		for range 2 {
			for i := 0; i <= j; i++ {
				c := dot(next, kr.v[i])
				*col(i) += c
				axpy(-c, kr.v[i], next)
			}
		}
		hn := norm2(next)
		*col(j + 1) = hn
		used = j + 1
		// Apply the earlier rotations to column j, then one that zeroes h(j+1, j).
		for i := 0; i < j; i++ {
			a, b := *col(i), *col(i + 1)
			*col(i), *col(i + 1) = kr.cs[i]*a+kr.sn[i]*b, -kr.sn[i]*a+kr.cs[i]*b
		}
		a, b := *col(j), *col(j + 1)
		r := math.Hypot(a, b)
		if !(r > 0) {
			used = j
			break
		}
		kr.cs[j], kr.sn[j] = a/r, b/r
		*col(j), *col(j + 1) = r, 0
		kr.g[j+1] = -kr.sn[j] * kr.g[j]
		kr.g[j] *= kr.cs[j]
		if !(hn > 0) || math.Abs(kr.g[j+1]) <= ipmRefinedResidual*bn {
			break
		}
		scal(1/hn, next)
	}
	if used == 0 {
		return start
	}
	// y = R⁻¹g over the first used rows; dir += Σ yⱼzⱼ.
	y := make([]float64, used)
	for i := used - 1; i >= 0; i-- {
		s := kr.g[i]
		for c := i + 1; c < used; c++ {
			s -= kr.h[i*k+c] * y[c]
		}
		y[i] = s / kr.h[i*k+i]
	}
	keep := w.rf.keep
	dir.copyTo(keep)
	for j, c := range y {
		z := kr.z[j]
		for _, p := range [][2][]float64{{dir.u, z.u}, {dir.tau, z.tau}, {dir.xi, z.xi}, {dir.z, z.z},
			{dir.s, z.s}, {dir.zs, z.zs}, {dir.ss, z.ss}} {
			axpy(c, p[1], p[0])
		}
	}
	rf := w.rf
	ip.kktResidual(w, dir, bxu, bxt, bxx, bz, bs)
	rel := math.Sqrt(dot(rf.u, rf.u)+dot(rf.t, rf.t)+dot(rf.x, rf.x)+dot(rf.z, rf.z)+dot(rf.s, rf.s)) / bn
	if !(rel < start) {
		keep.copyTo(dir)
		return start
	}
	return rel
}
