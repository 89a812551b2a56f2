package solver

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestProjectionZeroBelow: with zeroBelow = κ, a projection whose exact value has
// norm below κ ends at an iterate of norm at most κ (zeroed), which the group soft
// threshold by κ maps to zero as it maps the projection, and for κ halfway between
// ‖Π_K(a)‖ and ‖a‖ on many instances before the exact projection's last step; one whose exact value has norm above κ
// runs to the exact projection. Both ways of projecting: forming the iterate, and
// through the Gram matrix XXᵀ and Xa (ADMM's at d = 785), where its norm is not
// formed but inferred from the products.
func TestProjectionZeroBelow(t *testing.T) {
	for _, withGram := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(11, 12))
		sooner := 0
		for trial := 0; trial < 40; trial++ {
			testZeroBelowTrial(t, rng, withGram, trial, &sooner)
		}
		if sooner < 10 {
			t.Fatalf("Gram matrix %v: only %d projections ended sooner with zeroBelow", withGram, sooner)
		}
	}
}

// testZeroBelowTrial is one instance of TestProjectionZeroBelow.
func testZeroBelowTrial(t *testing.T, rng *rand.Rand, withGram bool, trial int, sooner *int) {
	X, sign, a := randomConeBlock(rng)
	d := len(a)
	newProjector := func() *coneProjector {
		c := newConeProjector(X.RawMatrix())
		if withGram {
			var g, xa mat.Dense
			g.Mul(X, X.T())
			xa.Mul(X, mat.NewDense(d, 1, a))
			c.gram, c.xa = g.RawMatrix().Data, xa.RawMatrix().Data
		}
		return c
	}
	{
		full := newProjector()
		pv, _, _ := full.project(a, sign, 0, 1, nil, nil)
		exact := append([]float64(nil), pv...)
		pn := norm2(exact)
		if pn == 0 || pn >= norm2(a)*(1-1e-9) {
			return // a in the cone or in its polar: nothing to cut
		}
		above := newProjector()
		// (Not below 1e-5‖a‖: a projection that is zero up to rounding, of norm
		// 1e-16, is zeroed only by a threshold above the Gram matrix's margin for
		// rounding.)
		above.zeroBelow = max(pn*(1+1e-6), 1e-5*norm2(a))
		v, _, _ := above.project(a, sign, 0, 1, nil, nil)
		if !above.zeroed || norm2(v) > above.zeroBelow {
			t.Fatalf("Gram matrix %v, trial %d: zeroBelow %.6g above ‖Π_K(a)‖ = %.6g: zeroed %v, ‖v‖ = %.6g", withGram, trial, above.zeroBelow, pn, above.zeroed, norm2(v))
		}
		if shrinkBlock(v, make([]float64, d), above.zeroBelow) != 0 {
			t.Fatalf("Gram matrix %v, trial %d: the soft threshold of the returned iterate is not zero", withGram, trial)
		}
		mid := newProjector()
		mid.zeroBelow = (pn + norm2(a)) / 2
		v, _, _ = mid.project(a, sign, 0, 1, nil, nil)
		if !mid.zeroed || norm2(v) > mid.zeroBelow {
			t.Fatalf("Gram matrix %v, trial %d: zeroBelow %.6g above ‖Π_K(a)‖ = %.6g: zeroed %v, ‖v‖ = %.6g", withGram, trial, mid.zeroBelow, pn, mid.zeroed, norm2(v))
		}
		if mid.solves < full.solves {
			*sooner++
		}
		below := newProjector()
		below.zeroBelow = pn * (1 - 1e-6)
		v, _, _ = below.project(a, sign, 0, 1, nil, nil)
		if below.zeroed {
			t.Fatalf("Gram matrix %v, trial %d: zeroBelow %.6g below ‖Π_K(a)‖ = %.6g ended the projection", withGram, trial, below.zeroBelow, pn)
		}
		for c := range v {
			if math.Abs(v[c]-exact[c]) > 1e-9*(1+pn) {
				t.Fatalf("Gram matrix %v, trial %d: the projection with zeroBelow under its norm is not the exact one", withGram, trial)
			}
		}
	}
}
