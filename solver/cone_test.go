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
		if withGram {
			return gramProjector(X, a)
		}
		return newConeProjector(X.RawMatrix())
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

// TestProjectionBatchedEntry: entering up to coneBatch violated rows per outer step
// (the projection through the Gram matrix, ADMM's) gives the projection that Lawson
// and Hanson's one row per step gives without the Gram matrix (forming v and Xv by
// products: an independent computation), and a point satisfying the projection's
// optimality conditions (v ∈ K, v − a = G_Aᵀζ with ζ ≥ 0, gₖᵀv = 0 on the active
// rows), on random cones with many tight rows and on degenerate ones: repeated
// points, a point with both signs (a hyperplane in the cone), rows of rank below d,
// and arguments inside the cone or its polar; cold, and warm-started from half the
// classic method's active rows.
func TestProjectionBatchedEntry(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	batched := 0
	for trial := 0; trial < 200; trial++ {
		X, sign, a := degenerateConeBlock(rng, trial)
		classic := newConeProjector(X.RawMatrix())
		pv, cact, czeta := classic.project(a, sign, 0, 1, nil, nil)
		want := append([]float64(nil), pv...)
		fast := gramProjector(X, a)
		v, act, zeta := fast.project(a, sign, 0, 1, nil, nil)
		checkProjection(t, X, sign, a, v, act, zeta, want, trial, "cold")
		if fast.steps < classic.steps {
			batched++
		}
		warm := gramProjector(X, a)
		h := len(cact) / 2
		v, act, zeta = warm.project(a, sign, 0, 1, append([]int(nil), cact[:h]...), append([]float64(nil), czeta[:h]...))
		checkProjection(t, X, sign, a, v, act, zeta, want, trial, "warm")
	}
	if batched < 40 {
		t.Fatalf("only %d projections took fewer outer steps with batched entry", batched)
	}
}

// degenerateConeBlock is a cone block for TestProjectionBatchedEntry: n points in
// ℝᵈ, by trial a random one with a sign pattern from a direction (many rows tight at
// the projection), one with repeated points, one with a point entered with both
// signs, one whose points span fewer than d dimensions, and arguments inside the cone
// or its polar.
func degenerateConeBlock(rng *rand.Rand, trial int) (X *mat.Dense, sign, a []float64) {
	n, d := 20+rng.IntN(150), coneBatchMinCols+rng.IntN(40)
	X = randomData(n, d, true, rng.Uint64())
	raw := X.RawMatrix()
	switch trial % 4 {
	case 1: // repeated points
		for k := 1; k < n; k += 3 {
			copy(raw.Data[k*raw.Stride:k*raw.Stride+d], raw.Data[(k-1)*raw.Stride:(k-1)*raw.Stride+d])
		}
	case 3: // points in a subspace of dimension d/2
		r := max(1, d/2)
		basis := randomData(r, d, false, rng.Uint64())
		for k := 0; k < n; k++ {
			row := raw.Data[k*raw.Stride : k*raw.Stride+d]
			clear(row)
			for b := 0; b < r; b++ {
				axpy(rng.NormFloat64(), basis.RawRowView(b), row)
			}
		}
	}
	h := make([]float64, d)
	for c := range h {
		h[c] = rng.NormFloat64()
	}
	sign = make([]float64, n)
	for k := range sign {
		sign[k] = -1
		if dot(X.RawRowView(k), h) >= 0 {
			sign[k] = 1
		}
	}
	if trial%4 == 2 { // a point with both signs: the cone lies in its hyperplane
		copy(raw.Data[raw.Stride:raw.Stride+d], raw.Data[:d])
		sign[1] = -sign[0]
	}
	a = make([]float64, d)
	for c := range a {
		a[c] = 3 * rng.NormFloat64()
	}
	switch trial % 10 {
	case 5: // inside the cone (unless a hyperplane cuts it)
		copy(a, h)
	case 7: // in the polar cone: the projection is zero
		clear(a)
		for k := 0; k < n; k++ {
			axpy(-sign[k]*rng.Float64(), X.RawRowView(k), a)
		}
	}
	return X, sign, a
}

// checkProjection fails the test unless v (with active rows act and multipliers
// zeta) satisfies the optimality conditions of Π_K(a) and equals want.
func checkProjection(t *testing.T, X *mat.Dense, sign, a, v []float64, act []int, zeta, want []float64, trial int, start string) {
	t.Helper()
	rowMax := 0.0
	for k := 0; k < X.RawMatrix().Rows; k++ {
		rowMax = math.Max(rowMax, norm2(X.RawRowView(k)))
	}
	scale := (1 + norm2(a)) * rowMax
	for k := 0; k < X.RawMatrix().Rows; k++ {
		if g := sign[k] * dot(X.RawRowView(k), v); g < -1e-9*scale {
			t.Fatalf("trial %d, %s: row %d violated: gᵀv = %v", trial, start, k, g)
		}
	}
	r := append([]float64(nil), a...)
	for i, k := range act {
		if zeta[i] < 0 {
			t.Fatalf("trial %d, %s: multiplier %v < 0", trial, start, zeta[i])
		}
		if g := sign[k] * dot(X.RawRowView(k), v); math.Abs(g) > 1e-9*scale {
			t.Fatalf("trial %d, %s: active row %d has gᵀv = %v", trial, start, k, g)
		}
		axpy(zeta[i]*sign[k], X.RawRowView(k), r)
	}
	for c := range r {
		if math.Abs(r[c]-v[c]) > 1e-9*(1+norm2(a)) {
			t.Fatalf("trial %d, %s: v − a ≠ G_Aᵀζ", trial, start)
		}
		if math.Abs(v[c]-want[c]) > 1e-9*(1+norm2(a)) {
			t.Fatalf("trial %d, %s: batched projection %v, classic %v", trial, start, v, want)
		}
	}
}

// TestProjectionReusedOverCones: one projector without a caller's factor cache,
// reused over cones of the same points with other signs (as ADMM's polishing reuses
// a certificate projector over the blocks), gives each cone the projection a fresh
// projector gives: its own cache must not lend one cone's factor rows to another.
// Here the two rows x₁ = e₁ and x₂ = e₁ + e₂ enter together, x₂ first, for both
// arguments, once with signs (+, +) and once (−, +): the factor's second row
// differs in the sign of its off-diagonal entry.
func TestProjectionReusedOverCones(t *testing.T) {
	d := coneBatchMinCols
	X := mat.NewDense(2, d, nil)
	X.Set(0, 0, 1)
	X.Set(1, 0, 1)
	X.Set(1, 1, 1)
	var g mat.Dense
	g.Mul(X, X.T())
	reused := newConeProjector(X.RawMatrix())
	reused.gram = g.RawMatrix().Data
	for i, c := range []struct{ sign, a []float64 }{
		{[]float64{1, 1}, []float64{-3, -1}}, // Ga = (−3, −4), ζ = (2, 1)
		{[]float64{-1, 1}, []float64{1, -4}}, // Ga = (−1, −3), ζ = (5, 4)
		{[]float64{1, 1}, []float64{-3, -1}},
	} {
		a := make([]float64, d)
		copy(a, c.a)
		var xa mat.Dense
		xa.Mul(X, mat.NewDense(d, 1, a))
		reused.xa = xa.RawMatrix().Data
		want, _, _ := newConeProjector(X.RawMatrix()).project(a, c.sign, 0, 1, nil, nil)
		v, act, _ := reused.project(a, c.sign, 0, 1, nil, nil)
		if len(act) != 2 {
			t.Fatalf("cone %d: active rows %v, want both", i, act)
		}
		for k := range v {
			if math.Abs(v[k]-want[k]) > 1e-12 {
				t.Fatalf("cone %d: reused projector gives %v, a fresh one %v", i, v[:2], want[:2])
			}
		}
	}
}

// gramProjector is a projector onto X's cones that reads the Gram matrix XXᵀ and the
// products Xa of the argument a, as ADMM's v-step gives them.
func gramProjector(X *mat.Dense, a []float64) *coneProjector {
	c := newConeProjector(X.RawMatrix())
	var g, xa mat.Dense
	g.Mul(X, X.T())
	xa.Mul(X, mat.NewDense(len(a), 1, a))
	c.gram, c.xa = g.RawMatrix().Data, xa.RawMatrix().Data
	return c
}
