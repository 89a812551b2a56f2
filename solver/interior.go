package solver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// InteriorPoint solves the convex program of the squared loss (MATH.md §3) by an
// interior-point method: the baseline that Bai, Gautam and Sojoudi compare ADMM with
// (MATH.md §8), here in Go so that it runs without Python (the independent
// reference of the tests remains cvxopt).
//
// It is the barrier method (Boyd and Vandenberghe, Convex Optimization §11.3) on the
// program written with one epigraph variable per block,
//
//	minimize  ½‖Σᵢ DᵢX(vᵢ − wᵢ) − y‖² + β Σⱼ sⱼ
//	subject to (2Dᵢ − I)Xuⱼ ≥ 0 (n rows per block), ‖uⱼ‖₂ ≤ sⱼ,
//
// for the 2P blocks uⱼ ∈ {vᵢ, wᵢ}. Each centering step minimizes
//
//	φₜ(u, s) = t·f(u, s) − Σⱼₖ log rⱼₖ − Σⱼ log(sⱼ² − ‖uⱼ‖²),   rⱼ = (2Dᵢ − I)Xuⱼ,
//
// by Newton's method with a backtracking line search that stays strictly inside the
// cones. The sⱼ are eliminated from the Newton system (their Hessian is diagonal),
// which leaves a dense 2dP × 2dP system: t FᵀF (from K = F_DᵀF_D, formed once) plus
// the block-diagonal barrier Hessians Xᵀdiag(1/rⱼ²)X + the cone terms, factored by
// Cholesky at every Newton step — (2dP)³/3 operations, cubic where ADMM's iterations
// are quadratic. At the centre of φₜ the duality gap is exactly m/t, m = 2P(n + 2)
// being the barrier's degree (Boyd and Vandenberghe §11.2); after each centering t
// grows by the factor Mu, and the solve stops when m/t ≤ Tolerance·f. The result's
// Gap is that bound. The start is strictly feasible: each block begins along its
// pattern's generator hᵢ, for which (2Dᵢ − I)Xhᵢ > 0, at the scale that is best
// for φₜ along the ray (also chosen again after every increase of t).
//
// An interior point has no exactly zero block: every block becomes a neuron of the
// recovered network, those that vanish at the optimum with tiny weights. Only the
// squared loss is supported (the hinge and logistic programs: ADMM, or cvxopt through
// solver/testdata/cvxopt_ref.py).
type InteriorPoint struct {
	// Mu is the factor by which t grows after each centering; zero means 5 (fewer
	// Newton steps in all than 10, 20 or 50 on the benchmark instances).
	Mu float64
}

func (m *InteriorPoint) String() string { return "interior point" }

// Constants of the barrier method.
const (
	ipmDefaultMu         = 5
	ipmDefaultIterations = 500  // Newton steps in all
	ipmDecrement         = 1e-9 // centering ends when λ²/2 ≤ this·max(1, |φ|)
	ipmArmijo            = 0.01
)

func (m *InteriorPoint) solve(ctx context.Context, p *Problem, s *Settings) (*Result, error) {
	start := time.Now()
	if p.Loss != Squared {
		return nil, fmt.Errorf("solver: InteriorPoint solves the squared loss only, not %v (use ADMM)", p.Loss)
	}
	if !(p.Beta > 0) {
		return nil, errors.New("solver: InteriorPoint needs β > 0 (with β = 0 the epigraph variables are unbounded)")
	}
	mu := m.Mu
	if mu == 0 {
		mu = ipmDefaultMu
	}
	if !(mu > 1) || math.IsInf(mu, 0) {
		return nil, fmt.Errorf("solver: InteriorPoint Mu must be > 1 and finite, got %v", mu)
	}
	arr, err := arrangementFor(p, s, admmDefaultPatterns)
	if err != nil {
		return nil, err
	}
	if arr.Generators == nil {
		return nil, errors.New("solver: InteriorPoint needs a strictly feasible start: an arrangement with generators")
	}
	pr, err := newProgram(p, arr)
	if err != nil {
		return nil, err
	}
	ip, err := newBarrier(pr)
	if err != nil {
		return nil, err
	}
	tol := s.Tolerance
	if tol == 0 {
		tol = admmDefaultTolerance
	}
	maxIter := s.MaxIterations
	if maxIter == 0 {
		maxIter = ipmDefaultIterations
	}

	res := &Result{Method: m.String(), Arrangement: arr, Patterns: pr.P}
	f := ip.objective()
	t := float64(ip.m) / math.Max(f, 1e-12)
	gap := math.Inf(1) // m/t at the last completed centering, relative to f
	status := IterationLimit
	iter := 0
outer:
	for {
		ip.rescale(t)
		for {
			switch {
			case ctx.Err() != nil:
				status = Canceled
				break outer
			case s.TimeLimit > 0 && time.Since(start) > s.TimeLimit:
				status = TimeLimit
				break outer
			case iter >= maxIter:
				break outer
			}
			iter++
			centred, err := ip.newtonStep(t)
			f = ip.objective()
			it := Iteration{Iteration: iter, Objective: f, Gap: relGap(f, s.Reference),
				PrimalResidual: math.NaN(), DualResidual: math.NaN(), Elapsed: time.Since(start),
				TrainAccuracy: trainAccuracy(ip.fu, pr.y), ActiveNeurons: 2 * pr.P, Patterns: pr.P,
				DualityGap: math.NaN()}
			if err != nil || centred {
				if centred {
					gap = float64(ip.m) / t / math.Abs(f)
				}
				it.DualityGap = gap
			}
			res.History = record(res.History, s.Recorder, it)
			if err != nil {
				// No further progress is possible in floating point: the point is
				// as central as it gets, and its gap bound stands.
				if gap <= tol {
					status = Optimal
				} else {
					status, res.Message = Failure, "interior point: "+err.Error()
				}
				break outer
			}
			if centred {
				break
			}
		}
		if gap <= tol {
			status = Optimal
			break
		}
		t *= mu
	}

	u := ip.u
	net := pr.network(u)
	objective, err := net.Objective(p.X, p.Y, p.Loss, p.Beta)
	if err != nil {
		return nil, err
	}
	e := newEvaluation(pr)
	_, _, violation := pr.eval(u, e)
	res.Status, res.Iterations, res.Objective, res.Gap = status, iter, objective, gap
	res.Network, res.ActiveNeurons = net, net.Neurons()
	res.Certificate = &Certificate{Primal: f, Dual: f - float64(ip.m)/t, Gap: gap, ConeViolation: violation, DualScale: 1}
	if math.IsInf(gap, 1) {
		res.Certificate.Dual = math.Inf(-1)
	}
	res.V = mat.NewDense(pr.P, pr.d, append([]float64(nil), u[:pr.P*pr.d]...))
	res.W = mat.NewDense(pr.P, pr.d, append([]float64(nil), u[pr.P*pr.d:]...))
	res.Dual = make([]float64, pr.n)
	for k := range res.Dual {
		res.Dual[k] = ip.fu[k] - pr.y[k]
	}
	res.Runtime = time.Since(start)
	return res, nil
}

// barrier is the state of the barrier method on a program.
type barrier struct {
	pr *program
	m  int // degree of the barrier: the linear rows counted plus 2 per cone

	k    []float64 // K = F_DᵀF_D, dP×dP, full
	live []bool    // n: rows of X that are not zero (a zero row constrains nothing)

	u, s  []float64 // 2P×d, 2P
	xu    []float64 // X uᵀ, n×2P
	fu    []float64 // Σᵢ DᵢX(vᵢ − wᵢ), n
	du    []float64 // Newton direction in u
	ds    []float64 // and in s
	xdu   []float64 // X duᵀ, n×2P
	fdu   []float64 // F du, n
	h     []float64 // Newton matrix, 2dP×2dP
	g     []float64 // gradient in u, 2dP
	gs    []float64 // gradient in s, 2P
	hss   []float64 // Hessian in s (diagonal), 2P
	cus   []float64 // Hessian ∂²/∂uⱼ∂sⱼ, 2P×d
	t1    []float64 // scratch n×2P
	t2    []float64 // scratch 2P×d
	wx    []float64 // scratch n×d
	block []float64 // scratch d×d
	scale []float64 // equilibration of the Newton matrix, 2dP
	// backup is the equilibrated Newton matrix, kept for a regularized retry.
	backup []float64
}

// newBarrier sets up the barrier method on pr from its generators: uⱼ = c hᵢ/‖hᵢ‖ for
// both blocks of pattern i, sⱼ = 2‖uⱼ‖, with c small against the data's scale.
func newBarrier(pr *program) (*barrier, error) {
	n, d, P := pr.n, pr.d, pr.P
	N := 2 * P * d
	if 2*float64(N)*float64(N) > maxDenseFloats {
		return nil, fmt.Errorf("solver: InteriorPoint: the Newton system of %d weights (2dP) does not fit in 2 GiB; use fewer patterns or ADMM", N)
	}
	ip := &barrier{pr: pr, u: make([]float64, N), s: make([]float64, 2*P), xu: make([]float64, n*2*P),
		fu: make([]float64, n), du: make([]float64, N), ds: make([]float64, 2*P), xdu: make([]float64, n*2*P),
		fdu: make([]float64, n), h: make([]float64, N*N), g: make([]float64, N), gs: make([]float64, 2*P),
		hss: make([]float64, 2*P), cus: make([]float64, N), t1: make([]float64, n*2*P), t2: make([]float64, N),
		wx: make([]float64, n*d), block: make([]float64, d*d), live: make([]bool, n),
		scale: make([]float64, N), backup: make([]float64, N*N)}
	rows := 0
	maxRow, ynorm := 0.0, 0.0
	for k := 0; k < n; k++ {
		r := norm2(pr.x[k*d : (k+1)*d])
		ip.live[k] = r > 0
		if r > 0 {
			rows++
		}
		maxRow = math.Max(maxRow, r)
		ynorm += pr.y[k] * pr.y[k]
	}
	if rows == 0 {
		return nil, errors.New("solver: InteriorPoint: every row of X is zero")
	}
	ip.m = 2*P*rows + 4*P
	scale := 1e-3 * math.Sqrt(ynorm/float64(n)+1e-12) / maxRow / float64(P)
	gens := pr.arr.Generators.RawMatrix()
	for i := 0; i < P; i++ {
		h := gens.Data[i*gens.Stride : i*gens.Stride+d]
		nh := norm2(h)
		if nh == 0 {
			return nil, fmt.Errorf("solver: InteriorPoint: the generator of pattern %d is zero", i)
		}
		for _, j := range []int{i, P + i} {
			for c, v := range h {
				ip.u[j*d+c] = scale * v / nh
			}
			ip.s[j] = 2 * scale
		}
	}
	ip.refresh()
	for k := 0; k < n; k++ {
		if !ip.live[k] {
			continue
		}
		for j := 0; j < 2*P; j++ {
			if ip.r(k, j) <= 0 {
				return nil, fmt.Errorf("solver: InteriorPoint: point %d lies on the hyperplane of pattern %d's generator, so the pattern's cone has no strictly feasible direction there (use ADMM)", k, j%P)
			}
		}
	}
	ip.k = coactivationGram(pr)
	dp := d * P
	for a := 0; a < dp; a++ {
		for b := 0; b < a; b++ {
			ip.k[b*dp+a] = ip.k[a*dp+b]
		}
	}
	return ip, nil
}

// r returns the slack rⱼₖ = (2dᵢₖ − 1)xₖᵀuⱼ from X uᵀ.
func (ip *barrier) r(k, j int) float64 {
	P := ip.pr.P
	return ip.pr.sign[k*P+j%P] * ip.xu[k*2*P+j]
}

// refresh recomputes X uᵀ and F u from u.
func (ip *barrier) refresh() {
	ip.pr.mulXT(ip.xu, ip.u, 2*ip.pr.P)
	ip.predict(ip.xu, ip.fu)
}

// predict sets out = Σᵢ DᵢX(vᵢ − wᵢ) from xu = X uᵀ.
func (ip *barrier) predict(xu, out []float64) {
	P := ip.pr.P
	for k := range out {
		row := xu[k*2*P : (k+1)*2*P]
		m := ip.pr.mask[k*P : (k+1)*P]
		c := 0.0
		for i := 0; i < P; i++ {
			c += m[i] * (row[i] - row[P+i])
		}
		out[k] = c
	}
}

// objective returns f = ½‖Fu − y‖² + β Σⱼ ‖uⱼ‖ (the convex program's objective; the
// epigraph variables only bound the norms).
func (ip *barrier) objective() float64 {
	pr := ip.pr
	f := 0.0
	for k, v := range ip.fu {
		e := v - pr.y[k]
		f += 0.5 * e * e
	}
	for j := 0; j < 2*pr.P; j++ {
		f += pr.beta * norm2(ip.u[j*pr.d:(j+1)*pr.d])
	}
	return f
}

// phi returns φₜ at u + α du, s + α ds (from the products at u and of du), or +Inf
// outside the cones.
func (ip *barrier) phi(t, alpha float64) float64 {
	pr := ip.pr
	n, d, P := pr.n, pr.d, pr.P
	val := 0.0
	for k := 0; k < n; k++ {
		e := ip.fu[k] + alpha*ip.fdu[k] - pr.y[k]
		val += 0.5 * t * e * e
		if !ip.live[k] {
			continue
		}
		row := ip.xu[k*2*P : (k+1)*2*P]
		drow := ip.xdu[k*2*P : (k+1)*2*P]
		sg := pr.sign[k*P : (k+1)*P]
		for j := range row {
			r := sg[j%P] * (row[j] + alpha*drow[j])
			if !(r > 0) {
				return math.Inf(1)
			}
			val -= math.Log(r)
		}
	}
	for j := 0; j < 2*P; j++ {
		sj := ip.s[j] + alpha*ip.ds[j]
		nu := 0.0
		for c := 0; c < d; c++ {
			v := ip.u[j*d+c] + alpha*ip.du[j*d+c]
			nu += v * v
		}
		q := sj*sj - nu
		if !(sj > 0 && q > 0) {
			return math.Inf(1)
		}
		val += t*pr.beta*sj - math.Log(q)
	}
	return val
}

// newtonStep takes one damped Newton step on φₜ and reports whether the point was
// already centred (Newton decrement below ipmDecrement), in which case it does not
// move. An error means that no step can be taken (a singular system or a failed
// line search).
func (ip *barrier) newtonStep(t float64) (centred bool, err error) {
	pr := ip.pr
	n, d, P := pr.n, pr.d, pr.P
	N := 2 * P * d
	dp := d * P
	// Gradient in u: t Fᵀ(Fu − y) − Σ Aⱼᵀ(1/rⱼ) + 2uⱼ/qⱼ; in s: tβ − 2sⱼ/qⱼ.
	et := ip.t1[:n*P]
	for k := 0; k < n; k++ {
		e := t * (ip.fu[k] - pr.y[k])
		m := pr.mask[k*P : (k+1)*P]
		for i := 0; i < P; i++ {
			et[k*P+i] = m[i] * e
		}
	}
	pr.mulTX(ip.t2[:dp], et, P, 1, 0) // Xᵀ(dᵢ ∘ t e), P×d
	copy(ip.g[:dp], ip.t2[:dp])
	for c := 0; c < dp; c++ {
		ip.g[dp+c] = -ip.t2[c]
	}
	inv := ip.t1
	for k := 0; k < n; k++ {
		for j := 0; j < 2*P; j++ {
			if ip.live[k] {
				inv[k*2*P+j] = pr.sign[k*P+j%P] / ip.r(k, j)
			} else {
				inv[k*2*P+j] = 0
			}
		}
	}
	pr.mulTX(ip.t2, inv, 2*P, 1, 0) // Aⱼᵀ(1/rⱼ), 2P×d
	for c := range ip.g {
		ip.g[c] -= ip.t2[c]
	}
	// The Newton matrix: t FᵀF, then each block's barrier Hessian with sⱼ eliminated.
	for a := 0; a < N; a++ {
		ja, ca := a/d, a%d
		sa := 1.0
		if ja >= P {
			sa = -1
		}
		krow := ip.k[((ja%P)*d+ca)*dp:]
		hrow := ip.h[a*N : (a+1)*N]
		for b := 0; b <= a; b++ {
			jb, cb := b/d, b%d
			sb := 1.0
			if jb >= P {
				sb = -1
			}
			hrow[b] = t * sa * sb * krow[(jb%P)*d+cb]
		}
	}
	for j := 0; j < 2*P; j++ {
		uj := ip.u[j*d : (j+1)*d]
		nu := dot(uj, uj)
		sj := ip.s[j]
		q := sj*sj - nu
		ip.gs[j] = t*pr.beta - 2*sj/q
		ip.hss[j] = (2*sj*sj + 2*nu) / (q * q)
		cus := ip.cus[j*d : (j+1)*d]
		for c, v := range uj {
			ip.g[j*d+c] += 2 * v / q
			cus[c] = -4 * sj * v / (q * q)
		}
		// Xᵀ diag(1/rⱼ²) X.
		for k := 0; k < n; k++ {
			w := 0.0
			if ip.live[k] {
				w = 1 / ip.r(k, j)
			}
			for c := 0; c < d; c++ {
				ip.wx[k*d+c] = w * pr.x[k*d+c]
			}
		}
		blas64.Syrk(blas.Trans, 1, blas64.General{Rows: n, Cols: d, Stride: d, Data: ip.wx},
			0, blas64.Symmetric{Uplo: blas.Lower, N: d, Stride: d, Data: ip.block})
		for a := 0; a < d; a++ {
			hrow := ip.h[(j*d+a)*N+j*d:]
			for b := 0; b <= a; b++ {
				v := ip.block[a*d+b] + 4*uj[a]*uj[b]/(q*q) - cus[a]*cus[b]/ip.hss[j]
				if a == b {
					v += 2 / q
				}
				hrow[b] += v
			}
		}
	}
	// Right-hand side −gᵤ + Σ cⱼ gₛⱼ / Hₛₛⱼ, solved in du.
	for j := 0; j < 2*P; j++ {
		for c := 0; c < d; c++ {
			ip.du[j*d+c] = -ip.g[j*d+c] + ip.cus[j*d+c]*ip.gs[j]/ip.hss[j]
		}
	}
	if err := ip.solveNewton(); err != nil {
		return false, err
	}
	lambda2 := 0.0 // Newton decrement squared: −∇φᵀΔ
	for j := 0; j < 2*P; j++ {
		cu := dot(ip.cus[j*d:(j+1)*d], ip.du[j*d:(j+1)*d])
		ip.ds[j] = (-ip.gs[j] - cu) / ip.hss[j]
		lambda2 -= ip.gs[j] * ip.ds[j]
	}
	lambda2 -= dot(ip.g, ip.du)
	phi0 := ip.phi(t, 0) // also checks the point
	if lambda2/2 <= ipmDecrement*math.Max(1, math.Abs(phi0)) {
		return true, nil
	}
	// Line search: the largest step keeping the slacks positive, then Armijo.
	pr.mulXT(ip.xdu, ip.du, 2*P)
	ip.predict(ip.xdu, ip.fdu)
	alpha := 1.0
	for k := 0; k < n; k++ {
		if !ip.live[k] {
			continue
		}
		for j := 0; j < 2*P; j++ {
			if dr := pr.sign[k*P+j%P] * ip.xdu[k*2*P+j]; dr < 0 {
				alpha = math.Min(alpha, 0.99*ip.r(k, j)/-dr)
			}
		}
	}
	for range 60 {
		if ip.phi(t, alpha) <= phi0-ipmArmijo*alpha*lambda2 {
			for c := range ip.u {
				ip.u[c] += alpha * ip.du[c]
			}
			for j := range ip.s {
				ip.s[j] += alpha * ip.ds[j]
			}
			ip.refresh()
			return false, nil
		}
		alpha /= 2
	}
	return false, errors.New("the line search found no decrease")
}

// solveNewton solves the Newton system (lower triangle in h, right-hand side in du)
// in place. The barrier terms 1/rⱼₖ² make the matrix badly scaled near the solution,
// so it is equilibrated to a unit diagonal first; when Cholesky still fails in
// floating point, a small multiple of the (unit) diagonal is added, which keeps the
// direction one of descent.
func (ip *barrier) solveNewton() error {
	N := len(ip.du)
	sc := ip.scale
	for a := 0; a < N; a++ {
		daa := ip.h[a*N+a]
		if !(daa > 0) || math.IsInf(daa, 0) {
			return errors.New("the Newton system has a non-positive or infinite diagonal")
		}
		sc[a] = 1 / math.Sqrt(daa)
	}
	for a := 0; a < N; a++ {
		row := ip.h[a*N : a*N+a+1]
		for b := range row {
			row[b] *= sc[a] * sc[b]
		}
		ip.du[a] *= sc[a]
	}
	copy(ip.backup, ip.h)
	for _, shift := range []float64{0, 1e-14, 1e-12, 1e-10, 1e-8} {
		if shift > 0 {
			copy(ip.h, ip.backup)
			for a := 0; a < N; a++ {
				ip.h[a*N+a] += shift
			}
		}
		chol, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: N, Stride: N, Data: ip.h})
		if ok {
			cholSolve(chol, ip.du)
			for a := range ip.du {
				ip.du[a] *= sc[a]
			}
			return nil
		}
	}
	return errors.New("the Newton system is not positive definite in floating point")
}

// rescale moves (u, s) to the best point of the ray {c(u, s) : c > 0} for φₜ. Along
// the ray φₜ = t(½c²‖Fu‖² − c yᵀFu + cβΣsⱼ) − m log c + const, whose minimizer is
// the positive root of t‖Fu‖²c² + t(βΣsⱼ − yᵀFu)c − m = 0. Newton's method alone
// would need a step per doubling or halving of the scale: from the tiny start, and
// after every increase of t, when the blocks that vanish at the optimum shrink.
func (ip *barrier) rescale(t float64) {
	pr := ip.pr
	a, yf, ss := 0.0, 0.0, 0.0
	for k, v := range ip.fu {
		a += v * v
		yf += pr.y[k] * v
	}
	for _, v := range ip.s {
		ss += v
	}
	a *= t
	b := t * (pr.beta*ss - yf)
	m := float64(ip.m)
	var c float64
	if a > 0 {
		c = (-b + math.Sqrt(b*b+4*a*m)) / (2 * a)
		if b > 0 { // the same root without cancellation
			c = 2 * m / (b + math.Sqrt(b*b+4*a*m))
		}
	} else if b > 0 {
		c = m / b
	}
	if !(c > 0) || math.IsInf(c, 0) {
		return
	}
	for i := range ip.u {
		ip.u[i] *= c
	}
	for j := range ip.s {
		ip.s[j] *= c
	}
	ip.refresh()
}
