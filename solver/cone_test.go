package solver

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestProjectionZeroBelow: with zeroBelow = κ, a projection whose exact value has
// norm below κ ends at an iterate of norm at most κ (zeroed), which the group soft
// threshold by κ maps to zero as it maps the projection, and for κ halfway between
// ‖Π_K(a)‖ and ‖a‖ on many instances before the exact projection's last step; one whose exact value has norm above κ
// runs to the exact projection.
func TestProjectionZeroBelow(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	sooner := 0
	for trial := 0; trial < 40; trial++ {
		X, sign, a := randomConeBlock(rng)
		d := len(a)
		full := newConeProjector(X.RawMatrix())
		pv, _, _ := full.project(a, sign, 0, 1, nil, nil)
		exact := append([]float64(nil), pv...)
		pn := norm2(exact)
		if pn == 0 || pn >= norm2(a)*(1-1e-9) {
			continue // a in the cone or in its polar: nothing to cut
		}
		above := newConeProjector(X.RawMatrix())
		above.zeroBelow = pn * (1 + 1e-6)
		v, _, _ := above.project(a, sign, 0, 1, nil, nil)
		if !above.zeroed || norm2(v) > above.zeroBelow {
			t.Fatalf("trial %d: zeroBelow %.6g above ‖Π_K(a)‖ = %.6g: zeroed %v, ‖v‖ = %.6g", trial, above.zeroBelow, pn, above.zeroed, norm2(v))
		}
		if shrinkBlock(v, make([]float64, d), above.zeroBelow) != 0 {
			t.Fatalf("trial %d: the soft threshold of the returned iterate is not zero", trial)
		}
		mid := newConeProjector(X.RawMatrix())
		mid.zeroBelow = (pn + norm2(a)) / 2
		v, _, _ = mid.project(a, sign, 0, 1, nil, nil)
		if !mid.zeroed || norm2(v) > mid.zeroBelow {
			t.Fatalf("trial %d: zeroBelow %.6g above ‖Π_K(a)‖ = %.6g: zeroed %v, ‖v‖ = %.6g", trial, mid.zeroBelow, pn, mid.zeroed, norm2(v))
		}
		if mid.solves < full.solves {
			sooner++
		}
		below := newConeProjector(X.RawMatrix())
		below.zeroBelow = pn * (1 - 1e-6)
		v, _, _ = below.project(a, sign, 0, 1, nil, nil)
		if below.zeroed {
			t.Fatalf("trial %d: zeroBelow %.6g below ‖Π_K(a)‖ = %.6g ended the projection", trial, below.zeroBelow, pn)
		}
		for c := range v {
			if math.Abs(v[c]-exact[c]) > 1e-9*(1+pn) {
				t.Fatalf("trial %d: the projection with zeroBelow under its norm is not the exact one", trial)
			}
		}
	}
	if sooner < 10 {
		t.Fatalf("only %d projections ended sooner with zeroBelow", sooner)
	}
}
