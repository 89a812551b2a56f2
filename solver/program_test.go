package solver

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

var allLosses = []Loss{Squared, Hinge, Logistic}

// labels returns targets for a loss: Gaussian for Squared, random ±1 otherwise.
func labels(loss Loss, n int, rng *rand.Rand) []float64 {
	y := make([]float64, n)
	for k := range y {
		if loss == Squared {
			y[k] = rng.NormFloat64()
		} else if rng.IntN(2) == 0 {
			y[k] = 1
		} else {
			y[k] = -1
		}
	}
	return y
}

// TestLossGradient checks ∇ℓ by central differences, for every loss (the hinge loss
// with its Huber smoothing, away from the kinks).
func TestLossGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, loss := range allLosses {
		for _, mu := range []float64{0, 0.3} {
			if loss != Hinge && mu != 0 {
				continue
			}
			n := 7
			y := labels(loss, n, rng)
			yhat := make([]float64, n)
			for k := range yhat {
				yhat[k] = 2 * rng.NormFloat64()
			}
			g := make([]float64, n)
			loss.gradient(yhat, y, g, mu)
			scratch := make([]float64, n)
			for k := range yhat {
				if loss == Hinge {
					// Skip points near a kink (t = 1 without smoothing, 1 − μ and 1 with).
					tk := y[k] * yhat[k]
					if math.Abs(tk-1) < 1e-3 || (mu > 0 && math.Abs(tk-1+mu) < 1e-3) {
						continue
					}
				}
				const h = 1e-6
				orig := yhat[k]
				yhat[k] = orig + h
				fp := loss.gradient(yhat, y, scratch, mu)
				yhat[k] = orig - h
				fm := loss.gradient(yhat, y, scratch, mu)
				yhat[k] = orig
				fd := (fp - fm) / (2 * h)
				if math.Abs(fd-g[k]) > 1e-6*(1+math.Abs(g[k])) {
					t.Errorf("%v μ=%v: ∂ℓ/∂ŷ[%d] = %v, finite difference %v", loss, mu, k, g[k], fd)
				}
			}
			// Without smoothing the value is Loss.Value.
			if mu == 0 {
				if v, w := loss.gradient(yhat, y, g, 0), loss.Value(yhat, y); math.Abs(v-w) > 1e-12*(1+math.Abs(w)) {
					t.Errorf("%v: gradient returns %v, Value %v", loss, v, w)
				}
			}
		}
	}
}

// TestLossConjugateAndProx checks −ℓ* by the Fenchel–Young equality ℓ(ŷ) + ℓ*(η) = ηŷ
// at η ∈ ∂ℓ(ŷ) and inequality elsewhere, and the proximal map by its optimality
// condition (compared with a fine 1-D grid search).
func TestLossConjugateAndProx(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, loss := range allLosses {
		n := 9
		y := labels(loss, n, rng)
		yhat := make([]float64, n)
		for k := range yhat {
			yhat[k] = 1.5 * rng.NormFloat64()
		}
		eta := make([]float64, n)
		loss.gradient(yhat, y, eta, 0)
		dotp := 0.0
		for k := range eta {
			dotp += eta[k] * yhat[k]
		}
		if fy := loss.Value(yhat, y) - loss.negConjugate(eta, y); math.Abs(fy-dotp) > 1e-10*(1+math.Abs(dotp)) {
			t.Errorf("%v: ℓ(ŷ) + ℓ*(η) = %v, ηᵀŷ = %v", loss, fy, dotp)
		}
		// Fenchel–Young inequality for other η in the domain.
		for trial := 0; trial < 20; trial++ {
			other := make([]float64, n)
			for k := range other {
				other[k] = rng.NormFloat64()
			}
			loss.clipDual(other, y)
			d := 0.0
			for k := range other {
				d += other[k] * yhat[k]
			}
			if lhs := loss.Value(yhat, y) - loss.negConjugate(other, y); lhs < d-1e-10 {
				t.Errorf("%v: Fenchel–Young violated: %v < %v", loss, lhs, d)
			}
		}
		// prox: compare with a grid search per entry.
		for _, rho := range []float64{0.3, 1, 5} {
			a := make([]float64, n)
			for k := range a {
				a[k] = 2 * rng.NormFloat64()
			}
			z := make([]float64, n)
			loss.prox(a, y, rho, z)
			for k := range a {
				f := func(v float64) float64 {
					return loss.Value([]float64{v}, []float64{y[k]}) + rho/2*(v-a[k])*(v-a[k])
				}
				best := f(z[k])
				for v := a[k] - 3; v <= a[k]+3; v += 1e-3 {
					if f(v) < best-1e-9 {
						t.Fatalf("%v ρ=%v: prox(%v) = %v (%v) but f(%v) = %v", loss, rho, a[k], z[k], best, v, f(v))
					}
				}
			}
		}
	}
}

// TestConeProjection checks Π_K by its optimality conditions: v ∈ K, v − a = Gᵀζ
// with ζ ≥ 0 on the active rows, and complementarity gₖᵀv = 0 there; and that
// ‖Π_K(a)‖ = max over K ∩ ball of aᵀv (Moreau), against random feasible points.
func TestConeProjection(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 50; trial++ {
		n, d := 5+rng.IntN(40), 2+rng.IntN(6)
		X := randomData(n, d, trial%2 == 0, rng.Uint64())
		h := make([]float64, d)
		for c := range h {
			h[c] = rng.NormFloat64()
		}
		sign := make([]float64, n)
		for k := 0; k < n; k++ {
			sign[k] = -1
			if dot(X.RawRowView(k), h) >= 0 {
				sign[k] = 1
			}
		}
		a := make([]float64, d)
		for c := range a {
			a[c] = 3 * rng.NormFloat64()
		}
		proj := newConeProjector(X.RawMatrix())
		v, act, zeta := proj.project(a, sign, 0, 1, nil, nil)
		v = append([]float64(nil), v...)
		scale := norm2(a) * proj.rowMax
		for k := 0; k < n; k++ {
			if g := sign[k] * dot(X.RawRowView(k), v); g < -1e-10*scale {
				t.Fatalf("trial %d: projection infeasible at row %d: %v", trial, k, g)
			}
		}
		r := append([]float64(nil), a...)
		for i, k := range act {
			if zeta[i] < 0 {
				t.Fatalf("trial %d: negative multiplier", trial)
			}
			if g := sign[k] * dot(X.RawRowView(k), v); math.Abs(g) > 1e-9*scale {
				t.Fatalf("trial %d: active row %d has gᵀv = %v", trial, k, g)
			}
			axpy(zeta[i]*sign[k], X.RawRowView(k), r)
		}
		for c := range r {
			if math.Abs(r[c]-v[c]) > 1e-9*(1+norm2(a)) {
				t.Fatalf("trial %d: v − a ≠ Gᵀζ", trial)
			}
		}
		// Moreau: aᵀv/‖v‖ = ‖v‖ is the maximum of aᵀw over unit w ∈ K; sample K.
		best := 0.0
		for s := 0; s < 2000; s++ {
			w := make([]float64, d)
			for c := range w {
				w[c] = h[c] + 0.7*norm2(h)*rng.NormFloat64()
			}
			ok := true
			for k := 0; k < n && ok; k++ {
				ok = sign[k]*dot(X.RawRowView(k), w) >= 0
			}
			if ok {
				best = math.Max(best, dot(a, w)/norm2(w))
			}
		}
		if best > norm2(v)*(1+1e-9)+1e-12 {
			t.Fatalf("trial %d: a feasible direction has aᵀw = %v > ‖Π(a)‖ = %v", trial, best, norm2(v))
		}
		// A warm start from the final active set reproduces the projection.
		v2, _, _ := proj.project(a, sign, 0, 1, append([]int(nil), act...), append([]float64(nil), zeta...))
		for c := range v {
			if math.Abs(v2[c]-v[c]) > 1e-10*(1+norm2(a)) {
				t.Fatalf("trial %d: warm start changed the projection", trial)
			}
		}
	}
}

// TestRecoveryIdentity checks MATH.md §3 exactly: for a feasible point (every block
// in its cone, built from the generators), the non-convex objective of the recovered
// network equals the convex objective, for every loss.
func TestRecoveryIdentity(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	X := randomData(30, 4, true, 9)
	arr, err := SampleArrangement(X, 12, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, loss := range allLosses {
		p := &Problem{X: X, Y: labels(loss, 30, rng), Loss: loss, Beta: 0.37}
		pr, err := newProgram(p, arr)
		if err != nil {
			t.Fatal(err)
		}
		u := make([]float64, 2*pr.P*pr.d)
		for j := 0; j < 2*pr.P; j++ {
			if rng.IntN(3) == 0 {
				continue // some blocks zero
			}
			h := arr.Generators.RawRowView(j % pr.P)
			s := math.Exp(rng.NormFloat64())
			for c := 0; c < pr.d; c++ {
				u[j*pr.d+c] = s * h[c]
			}
		}
		ev := newEvaluation(pr)
		convex, network, violation := pr.eval(u, ev)
		if violation != 0 {
			t.Fatalf("%v: generator point violates its cone by %v", loss, violation)
		}
		if math.Abs(convex-network) > 1e-12*math.Abs(convex) {
			t.Errorf("%v: convex %v, network %v", loss, convex, network)
		}
		net := pr.network(u)
		obj, err := net.Objective(X, p.Y, loss, p.Beta)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(obj-convex) > 1e-12*math.Abs(convex) {
			t.Errorf("%v: recovered network objective %v, convex objective %v", loss, obj, convex)
		}
	}
}

// TestAdjoints checks the linear operators of the programs against their adjoints:
// ⟨Au, r⟩ = ⟨u, Aᵀr⟩ for the gated model, the SCP features and ADMM's u-step system,
// and that the u-step solve inverts its matrix on both factorization routes.
func TestAdjoints(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	X := randomData(25, 5, true, 13)
	arr, _ := SampleArrangement(X, 9, 4)
	p := &Problem{X: X, Y: labels(Squared, 25, rng), Loss: Squared, Beta: 0.1}
	pr, _ := newProgram(p, arr)
	randVec := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return v
	}
	g := &gatedModel{pr: pr, buf: make([]float64, pr.n*pr.P)}
	u, r := randVec(g.size()), randVec(pr.n)
	au, atr := make([]float64, pr.n), make([]float64, g.size())
	g.apply(u, au)
	g.adjoint(r, atr)
	if a, b := dot(au, r), dot(u, atr); math.Abs(a-b) > 1e-10*(1+math.Abs(a)) {
		t.Errorf("gated: ⟨Au, r⟩ = %v, ⟨u, Aᵀr⟩ = %v", a, b)
	}
	H, _ := SCPDirections(5, 30, 1)
	var phi mat.Dense
	phi.Mul(X, H.T())
	s := &scpModel{phi: phi.RawMatrix()}
	x, ax, atr2 := randVec(30), make([]float64, 25), make([]float64, 30)
	s.apply(x, ax)
	s.adjoint(r, atr2)
	if a, b := dot(ax, r), dot(x, atr2); math.Abs(a-b) > 1e-10*(1+math.Abs(a)) {
		t.Errorf("SCP: ⟨Φα, r⟩ = %v, ⟨α, Φᵀr⟩ = %v", a, b)
	}
	// The u-step matrix I ⊗ B + cFᵀF applied explicitly (B = τ²I + XᵀX in the slack
	// form, τ²I otherwise), then solved on both routes.
	for _, noGram := range []bool{false, true} {
		for _, route := range []string{FactorCholesky, FactorWoodbury} {
			pr.noGram, pr.tau2 = noGram, 1.7
			const c = 0.37
			ls, err := newLinsys(pr, route, c)
			if err != nil {
				t.Fatal(err)
			}
			want := randVec(2 * pr.P * pr.d)
			rhs := applySystem(pr, want, c)
			got := make([]float64, len(want))
			ls.solve(rhs, got)
			for i := range got {
				if math.Abs(got[i]-want[i]) > 1e-9*(1+math.Abs(want[i])) {
					t.Fatalf("%s noGram=%v: solve error %v at %d", route, noGram, got[i]-want[i], i)
				}
			}
		}
	}
}

// applySystem returns (I ⊗ B + c FᵀF) u computed directly from the definitions:
// Bu_j = τ²u_j + [XᵀX u_j], Fu = Σᵢ DᵢX(vᵢ − wᵢ), Fᵀr = (XᵀDᵢr, −XᵀDᵢr).
func applySystem(pr *program, u []float64, c float64) []float64 {
	n, d, P := pr.n, pr.d, pr.P
	X := mat.NewDense(n, d, pr.x)
	out := make([]float64, len(u))
	fu := make([]float64, n)
	for j := 0; j < 2*P; j++ {
		uj := mat.NewVecDense(d, u[j*d:(j+1)*d])
		var xu mat.VecDense
		xu.MulVec(X, uj)
		var bu mat.VecDense
		if !pr.noGram {
			bu.MulVec(X.T(), &xu)
		} else {
			bu.ReuseAsVec(d)
		}
		for c2 := 0; c2 < d; c2++ {
			out[j*d+c2] = pr.tau2*u[j*d+c2] + bu.AtVec(c2)
		}
		i, sg := j, 1.0
		if j >= P {
			i, sg = j-P, -1
		}
		for k := 0; k < n; k++ {
			fu[k] += sg * pr.mask[k*P+i] * xu.AtVec(k)
		}
	}
	for j := 0; j < 2*P; j++ {
		i, sg := j, 1.0
		if j >= P {
			i, sg = j-P, -1
		}
		for k := 0; k < n; k++ {
			if pr.mask[k*P+i] == 1 {
				axpy(c*sg*fu[k], pr.x[k*d:(k+1)*d], out[j*d:(j+1)*d])
			}
		}
	}
	return out
}

// TestCholSolve checks the vectorized triangular solves against gonum's Cholesky
// solve of the same symmetric positive definite system.
func TestCholSolve(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 7, 64} {
		g := mat.NewDense(n, n, nil)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				g.Set(i, j, rng.NormFloat64())
			}
		}
		var a mat.SymDense
		a.SymOuterK(1, g)
		for i := 0; i < n; i++ {
			a.SetSym(i, i, a.At(i, i)+1)
		}
		var ch mat.Cholesky
		if !ch.Factorize(&a) {
			t.Fatalf("n=%d: not positive definite", n)
		}
		var l mat.TriDense
		ch.LTo(&l)
		b := make([]float64, n)
		for i := range b {
			b[i] = rng.NormFloat64()
		}
		var want mat.VecDense
		if err := ch.SolveVecTo(&want, mat.NewVecDense(n, b)); err != nil {
			t.Fatal(err)
		}
		x := append([]float64(nil), b...)
		cholSolve(l.RawTriangular(), x)
		for i := range x {
			if math.Abs(x[i]-want.AtVec(i)) > 1e-9*(1+math.Abs(want.AtVec(i))) {
				t.Fatalf("n=%d: x[%d] = %v, want %v", n, i, x[i], want.AtVec(i))
			}
		}
	}
}
