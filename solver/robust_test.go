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
			c, rad := robustProx(loss, x, b0, y, eps, dS, rho, b, make([]float64, d))
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

// TestRobustConeProjection checks the projection onto the robust cone of one block:
// the result is feasible, and it satisfies the projection's variational inequality
// ⟨z₀ − z, z′ − z⟩_W ≤ 0 for feasible points z′ (random cone points, and the
// projection's own scalings, which the inequality must hold with equality for).
func TestRobustConeProjection(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	rc := newRobustCone(8)
	for trial := 0; trial < 500; trial++ {
		n := 1 + r.IntN(8)
		d := 1 + r.IntN(6)
		dS := d
		if d > 1 && r.IntN(2) == 0 {
			dS = d - 1
		}
		eps := []float64{0, 0.1, 1, 5}[r.IntN(4)]
		w := math.Pow(10, 2*r.Float64()-1)
		g0, p0 := make([]float64, n), make([]float64, d)
		for k := range g0 {
			g0[k] = r.NormFloat64()
		}
		for i := range p0 {
			p0[i] = r.NormFloat64()
		}
		g, p := append([]float64(nil), g0...), append([]float64(nil), p0...)
		rc.project(g, p, w, eps, dS)
		l1 := func(v []float64) float64 {
			s := 0.0
			for c := 0; c < dS; c++ {
				s += math.Abs(v[c])
			}
			return s
		}
		for k := range g {
			if g[k] < eps*l1(p)-1e-12 {
				t.Fatalf("infeasible projection: g[%d] = %v < ε‖p‖₁ = %v", k, g[k], eps*l1(p))
			}
		}
		inner := func(g1, p1 []float64) float64 {
			s := 0.0
			for k := range g {
				s += (g0[k] - g[k]) * (g1[k] - g[k])
			}
			for i := range p {
				s += w * (p0[i] - p[i]) * (p1[i] - p[i])
			}
			return s
		}
		g1, p1 := make([]float64, n), make([]float64, d)
		for k := 0; k < 200; k++ {
			for i := range p1 {
				p1[i] = r.NormFloat64() * math.Pow(10, float64(r.IntN(3)-1))
			}
			lo := eps * l1(p1)
			for i := range g1 {
				g1[i] = lo + math.Abs(r.NormFloat64())*float64(r.IntN(2))
			}
			if v := inner(g1, p1); v > 1e-9 {
				t.Fatalf("n=%d d=%d dS=%d ε=%g w=%g: ⟨z₀ − z, z′ − z⟩ = %v > 0", n, d, dS, eps, w, v)
			}
		}
		// z′ = 0 and z′ = 2z are feasible: the inequality holds with equality (cone).
		scaled := func(f float64) ([]float64, []float64) {
			a, b := make([]float64, n), make([]float64, d)
			for k := range a {
				a[k] = f * g[k]
			}
			for i := range b {
				b[i] = f * p[i]
			}
			return a, b
		}
		for _, f := range []float64{0, 2} {
			a, b := scaled(f)
			if v := inner(a, b); math.Abs(v) > 1e-9*(1+norm2(g0)+norm2(p0)) {
				t.Fatalf("n=%d d=%d ε=%g: ⟨z₀ − z, %gz − z⟩ = %v, want 0", n, d, eps, f, v)
			}
		}
	}
}
