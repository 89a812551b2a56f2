package solver

import (
	"math"
	"math/rand/v2"
	"testing"
)

// advPhi is the worst-case loss of a model b at point x, from its closed form.
func advPhi(loss Loss, x, b []float64, y, eps float64, dS int) float64 {
	t := 0.0
	for c := 0; c < dS; c++ {
		t += math.Abs(b[c])
	}
	return loss.worstLoss(dot(x, b), eps*t, y)
}

// TestRobustProx checks the proximal map of every worst-case loss against its
// definition: no point near the returned one (random directions at several scales,
// and the coordinate directions) has a lower proximal objective, and the returned
// multiplier decomposition reproduces η = ρ(b₀ − b) with the bounds the certificate
// relies on.
func TestRobustProx(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, loss := range []Loss{Hinge, Logistic, Squared} {
		for trial := 0; trial < 300; trial++ {
			d := 1 + r.IntN(6)
			dS := d
			if d > 1 && r.IntN(2) == 0 {
				dS = d - 1
			}
			x, b0 := make([]float64, d), make([]float64, d)
			for i := range x {
				x[i] = r.NormFloat64()
				b0[i] = r.NormFloat64() * math.Pow(10, float64(r.IntN(3)-1))
			}
			if dS < d {
				x[d-1] = 1
			}
			y := 1.0
			if r.IntN(2) == 0 {
				y = -1
			}
			if loss == Squared {
				y = r.NormFloat64()
				if trial%5 == 0 {
					y = dot(x, b0) // zero residual at b₀
				}
			}
			eps := []float64{0, 0.05, 0.3, 1}[r.IntN(4)]
			rho := math.Pow(10, 2*r.Float64()-1)
			b := make([]float64, d)
			c, rad := loss.robustProx(x, b0, y, eps, dS, rho, b, make([]float64, d))
			obj := func(v []float64) float64 {
				s := 0.0
				for i := range v {
					s += (v[i] - b0[i]) * (v[i] - b0[i])
				}
				return advPhi(loss, x, v, y, eps, dS) + rho/2*s
			}
			best := obj(b)
			trialPt := make([]float64, d)
			for k := 0; k < 200; k++ {
				scale := math.Pow(10, -float64(1+k%6))
				for i := range trialPt {
					trialPt[i] = b[i]
					if k < 2*d*6 {
						if (k/6)%d == i {
							trialPt[i] += scale * float64(1-2*((k/6/d)%2))
						}
					} else {
						trialPt[i] += scale * r.NormFloat64()
					}
				}
				if v := obj(trialPt); v < best-1e-12*(1+math.Abs(best)) {
					t.Fatalf("%v d=%d dS=%d ε=%g ρ=%g y=%g b0=%v: prox %v (objective %.15g) beaten by %v (%.15g)",
						loss, d, dS, eps, rho, y, b0, b, best, trialPt, v)
				}
			}
			// η = ρ(b₀ − b) = c x + e with e off S zero and ‖e‖∞ ≤ ε r, r ≥ |c|.
			tol := 1e-9 * (1 + rho*norm2(b0))
			if rad < math.Abs(c)-tol {
				t.Fatalf("%v: radius %v below |c| = %v", loss, rad, math.Abs(c))
			}
			for i := range x {
				e := rho*(b0[i]-b[i]) - c*x[i]
				lim := 0.0
				if i < dS {
					lim = eps * rad
				}
				if math.Abs(e) > lim+tol {
					t.Fatalf("%v d=%d dS=%d ε=%g: e[%d] = %v exceeds %v (c=%v r=%v)", loss, d, dS, eps, i, e, lim, c, rad)
				}
			}
		}
	}
}

// TestRobustProjector checks the projection onto a pattern's robust cone
// {v : sₖxₖᵀv ≥ ε‖v‖₁,S} by its optimality conditions: v is in the cone, a − v is in
// the polar cone (−Σζₖsₖxₖ + π with the support's weights ζ ≥ 0 and ‖π_S‖∞ ≤ εΣζ),
// and ⟨a − v, v⟩ = 0; also against random feasible points (⟨a − v, v′ − v⟩ ≤ 0),
// with and without warm starts.
func TestRobustProjector(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 300; trial++ {
		n, d := 2+r.IntN(30), 1+r.IntN(6)
		dS := d
		if d > 1 && r.IntN(2) == 0 {
			dS = d - 1
		}
		X := randomAdvData(n, d, dS < d, r)
		h := make([]float64, d)
		for i := range h {
			h[i] = r.NormFloat64()
		}
		sign := make([]float64, n)
		for k := range sign {
			sign[k] = -1
			if dot(X[k*d:(k+1)*d], h) >= 0 {
				sign[k] = 1
			}
		}
		pr := &program{n: n, d: d, P: 1, x: X, sign: sign}
		// A radius below the pattern's robust capacity (the cone has an
		// input-dependent part; at or beyond it the polar need not be closed and the
		// projection's weights diverge), or zero.
		eps := 0.0
		if capacity := robustCapacity(pr, 0, dS); trial%4 != 0 && capacity > 0 {
			eps = math.Min(capacity, 2) * (0.1 + 0.8*r.Float64())
		}
		rp := newRobustProjector(pr, eps, dS)
		st := &robustActive{}
		a := make([]float64, d)
		for rep := 0; rep < 5; rep++ {
			for i := range a {
				if rep == 0 || r.IntN(2) == 0 {
					a[i] = r.NormFloat64()
				} else {
					a[i] += 0.01 * r.NormFloat64() // a nearby point: warm start
				}
			}
			v := make([]float64, d)
			rp.project(a, v, sign, 0, 1, st)
			l1 := func(w []float64) float64 {
				s := 0.0
				for c := 0; c < dS; c++ {
					s += math.Abs(w[c])
				}
				return s
			}
			scale := 1 + norm2(a)*rp.rowMax
			for k := 0; k < n; k++ {
				if m := sign[k]*dot(X[k*d:(k+1)*d], v) - eps*l1(v); m < -1e-9*scale {
					t.Fatalf("trial %d (n=%d d=%d dS=%d ε=%g rep %d support %v ζ %v, %d pricings, %d newton): projection violates point %d by %v", trial, n, d, dS, eps, rep, st.k, st.zeta, rp.pricings, rp.newton, k, m)
				}
			}
			// a − v = −Σζₖsₖxₖ + π with ζ ≥ 0, π zero off S and ‖π_S‖∞ ≤ εΣζ: in C°.
			pi := make([]float64, d)
			for c := range pi {
				pi[c] = a[c] - v[c]
			}
			rest := append([]float64(nil), pi...)
			zsum := 0.0
			for i, k := range st.k {
				if st.zeta[i] < 0 {
					t.Fatalf("negative weight %v", st.zeta[i])
				}
				axpy(st.zeta[i]*sign[k], X[k*d:(k+1)*d], rest)
				zsum += st.zeta[i]
			}
			for c := range rest {
				lim := eps * zsum
				if c >= dS {
					lim = 0
				}
				if math.Abs(rest[c]) > lim+1e-9*(1+norm2(a)) {
					t.Fatalf("trial %d: a − v + Σζsx = %v exceeds ±%v at %d", trial, rest[c], lim, c)
				}
			}
			if ip := dot(pi, v); math.Abs(ip) > 1e-9*(1+norm2(a)*norm2(a)) {
				t.Fatalf("trial %d (n=%d d=%d dS=%d ε=%g, rep %d, support %v, ζ %v, %d pricings): ⟨a − v, v⟩ = %v", trial, n, d, dS, eps, rep, st.k, st.zeta, rp.pricings, ip)
			}
			for j := 0; j < 20; j++ {
				// A feasible point: a multiple of h plus a small step, scaled into C
				// if needed (skip when it is not feasible).
				w := make([]float64, d)
				for i := range w {
					w[i] = h[i] + 0.1*r.NormFloat64()
				}
				ok := true
				for k := 0; k < n; k++ {
					if sign[k]*dot(X[k*d:(k+1)*d], w) < eps*l1(w) {
						ok = false
					}
				}
				if !ok {
					continue
				}
				diff := make([]float64, d)
				for i := range w {
					diff[i] = w[i] - v[i]
				}
				if ip := dot(pi, diff); ip > 1e-9*scale*(1+norm2(w)) {
					t.Fatalf("⟨a − v, w − v⟩ = %v > 0 for a feasible w", ip)
				}
			}
		}
	}
}

// randomAdvData returns n×d standard normal data (row-major), the last column ones
// when bias.
func randomAdvData(n, d int, bias bool, r *rand.Rand) []float64 {
	x := make([]float64, n*d)
	for k := 0; k < n; k++ {
		for c := 0; c < d; c++ {
			x[k*d+c] = r.NormFloat64()
			if bias && c == d-1 {
				x[k*d+c] = 1
			}
		}
	}
	return x
}

// TestKronSystem checks the u-step solve against the matrix applied explicitly:
// (τ²I + γ²AᵀA) u = r with (Au)ₖ = Σᵢ dᵢₖ(vᵢ − wᵢ).
func TestKronSystem(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 20; trial++ {
		n, d, P := 1+r.IntN(30), 1+r.IntN(6), 1+r.IntN(8)
		pr := &program{n: n, d: d, P: P, x: make([]float64, n*d), mask: make([]float64, n*P)}
		for i := range pr.mask {
			pr.mask[i] = float64(r.IntN(2))
		}
		tau2, g2 := 0.1+r.Float64(), math.Pow(10, 2*r.Float64()-1)
		ks, err := newKronSystem(pr, tau2, g2)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, 2*P*d)
		for i := range want {
			want[i] = r.NormFloat64()
		}
		// r = τ²u + γ²AᵀAu.
		rhs := make([]float64, 2*P*d)
		for i := range rhs {
			rhs[i] = tau2 * want[i]
		}
		for k := 0; k < n; k++ {
			ak := make([]float64, d)
			for i := 0; i < P; i++ {
				for c := 0; c < d; c++ {
					ak[c] += pr.mask[k*P+i] * (want[i*d+c] - want[(P+i)*d+c])
				}
			}
			for i := 0; i < P; i++ {
				for c := 0; c < d; c++ {
					rhs[i*d+c] += g2 * pr.mask[k*P+i] * ak[c]
					rhs[(P+i)*d+c] -= g2 * pr.mask[k*P+i] * ak[c]
				}
			}
		}
		got := make([]float64, 2*P*d)
		ks.solve(rhs, got)
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-9*(1+math.Abs(want[i])) {
				t.Fatalf("n=%d d=%d P=%d: u[%d] = %v, want %v", n, d, P, i, got[i], want[i])
			}
		}
	}
}
