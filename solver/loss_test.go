package solver

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// TestRayDual checks the maximization of the dual objective on a candidate's ray
// for every loss: the returned s is feasible (within [0, sMax] and keeping sη in the
// domain of ℓ*), its value is −ℓ*(sη), it is at least the value of the old scaling
// s = min(1, sMax) and of every point of a fine grid of the feasible interval, for
// candidates with the cone bound binding (sMax small), slack (sMax large) or absent
// (sMax = +Inf).
func TestRayDual(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for _, l := range []Loss{Squared, Hinge, Logistic} {
		for trial := 0; trial < 60; trial++ {
			n := 1 + rng.IntN(30)
			y, eta := make([]float64, n), make([]float64, n)
			for k := range y {
				y[k] = 1
				if rng.IntN(2) == 0 {
					y[k] = -1
				}
				eta[k] = rng.NormFloat64() * math.Pow(10, rng.Float64()*4-2)
			}
			l.clipDual(eta, y)
			sMax := []float64{math.Pow(10, rng.Float64()*6-4), math.Inf(1)}[trial%2]
			s, value := l.rayDual(eta, y, sMax)
			if !(s >= 0 && s <= sMax) {
				t.Fatalf("%v: s = %g outside [0, %g]", l, s, sMax)
			}
			scaled := make([]float64, n)
			for k := range eta {
				scaled[k] = s * eta[k]
			}
			// The domain's bound 1/maxₖ|ηₖ| may round s·|ηₖ| a unit past 1.
			for k := range scaled {
				if l != Squared && math.Abs(scaled[k]) > 1 {
					scaled[k] = math.Copysign(1, scaled[k])
				}
			}
			if want := l.negConjugate(scaled, y); math.Abs(value-want) > 1e-9*(1+math.Abs(want)) {
				t.Fatalf("%v: value %.15g, −ℓ*(sη) = %.15g", l, value, want)
			}
			old := make([]float64, n)
			for k := range eta {
				old[k] = math.Min(1, sMax) * eta[k]
			}
			tol := 1e-9 * (1 + math.Abs(value))
			if ov := l.negConjugate(old, y); value < ov-tol {
				t.Fatalf("%v: ray value %.15g below the old scaling's %.15g", l, value, ov)
			}
			top := sMax
			for _, e := range eta {
				if l != Squared && e != 0 {
					top = math.Min(top, 1/math.Abs(e))
				}
			}
			if math.IsInf(top, 1) {
				top = 10 * math.Max(s, 1)
			}
			for g := 0; g <= 200; g++ {
				for k := range eta {
					scaled[k] = math.Min(1, float64(g)/200) * top * eta[k]
				}
				if gv := l.negConjugate(scaled, y); value < gv-tol {
					t.Fatalf("%v: ray value %.15g at s = %g below %.15g at s = %g", l, value, s, gv, float64(g)/200*top)
				}
			}
		}
	}
}

// boundChecker checks the dual bounds of a solve whose optimum ref is known: each
// is at most ref, and at least what dividing its candidate η by t = max(1, w/β)
// gave (the certificate before Loss.rayDual). It counts the bounds, and those
// above the division's.
type boundChecker struct {
	p            *Problem
	ref          float64
	count, above int
	fail         string
}

// check is an onCertificate hook: the certificate c of candidate eta, whose
// constraints' largest value is worst.
func (b *boundChecker) check(c Certificate, eta []float64, worst float64) {
	b.count++
	if b.fail != "" {
		return
	}
	if c.Dual > b.ref+1e-7*math.Abs(b.ref)+1e-12 {
		b.fail = fmt.Sprintf("certificate %d: dual %.12g above the optimum %.12g", b.count, c.Dual, b.ref)
		return
	}
	div := math.Max(1, worst/b.p.Beta)
	old := make([]float64, len(eta))
	for k := range eta {
		old[k] = eta[k] / div
	}
	ov := b.p.Loss.negConjugate(old, b.p.Y)
	if c.Dual < ov-1e-12*(1+math.Abs(ov)) {
		b.fail = fmt.Sprintf("certificate %d: dual %.15g below the old scaling's %.15g", b.count, c.Dual, ov)
	}
	if c.Dual > ov+1e-9*(1+math.Abs(ov)) {
		b.above++
	}
}

// report fails t if no bound was checked or one failed.
func (b *boundChecker) report(t *testing.T) {
	t.Helper()
	if b.count == 0 {
		t.Fatal("no certificate computed")
	}
	if b.fail != "" {
		t.Error(b.fail)
	}
}

// TestCertificateBoundsSmallBeta runs ADMM on the cvxopt goldens at β ∈ {1e-4, 1e-3}
// (every loss) and checks every dual bound computed during the solve, not only the
// returned one: each is at most the reference optimum, and each is at least what the
// previous certificate (η divided by t = max(1, w/β)) gave at the same candidate.
func TestCertificateBoundsSmallBeta(t *testing.T) {
	for _, f := range smallBetaFiles(t, "relu") {
		in := readJSON[instance](t, f)
		t.Run(filepath.Base(f), func(t *testing.T) {
			p, arr := in.problem(t)
			bc := &boundChecker{p: p, ref: in.Reference.Objective}
			s := &Settings{Arrangement: arr, Tolerance: 1e-6, MaxIterations: 3000}
			if _, err := Solve(context.Background(), p, s, &ADMM{onCertificate: bc.check}); err != nil {
				t.Fatal(err)
			}
			bc.report(t)
		})
	}
}
