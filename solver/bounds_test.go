package solver

import (
	"context"
	"math"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"
)

// The tests of this file check the bounds on every adaptive parameter and the
// best-point rule of the driver, on problems built from fuzzed numbers: ρ of ADMM and
// Adversarial never leaves [min(ρ₀, ρ_init)/rhoRange, max(ρ₀, ρ_init)·rhoRange], no
// objective or certificate is NaN, an Optimal status has a certified gap within the
// tolerance, and the returned objective is never above the objective of a certified
// iterate of its own history. The fuzz target (CI runs its seeds):
//
//	go test -run '^$' -fuzz '^FuzzAdaptiveBounds$' -fuzztime 60s ./solver

// checkAdaptive returns what is wrong with a result whose default ρ is rho0 and
// initial ρ rhoInit (0: no ρ), or "". best asks for the best-point rule, for the
// methods whose every iterate is feasible (ADMM's cone form: not its slack form, whose
// iterates are feasible only in the limit and which returns its last point, nor
// Adversarial, whose projections are inexact far from a solution).
func checkAdaptive(res *Result, rho0, rhoInit, tol float64, best bool) string {
	lo, hi := math.Min(rho0, rhoInit)/rhoRange, math.Max(rho0, rhoInit)*rhoRange
	for _, it := range res.History {
		if rhoInit > 0 && (it.Rho < lo*(1-1e-12) || it.Rho > hi*(1+1e-12)) {
			return "ρ left its bounds"
		}
		if math.IsNaN(it.Objective) {
			return "NaN objective in the history"
		}
	}
	if math.IsNaN(res.Objective) || res.Certificate == nil || math.IsNaN(res.Gap) {
		return "NaN objective or gap, or no certificate"
	}
	if res.Status == Optimal && !(res.Gap <= tol) {
		return "optimal with a gap above the tolerance"
	}
	if best && res.Status != Failure {
		for _, it := range res.History {
			// Certified rows (DualityGap set) of a feasible point bound the returned
			// objective (to rounding of the two evaluation orders).
			if !math.IsNaN(it.DualityGap) && it.Objective < res.Objective-1e-9*math.Abs(res.Objective) && res.Certificate.ConeViolation == 0 {
				return "an iterate of the history beats the returned point"
			}
		}
	}
	return ""
}

// defaultRho returns the default ρ of m's type on p (the first iteration's), or 0
// when the solve has no iteration (an infeasible adversarial program).
func defaultRho(t *testing.T, p *Problem, s *Settings, m Method) float64 {
	s1 := *s
	s1.MaxIterations = 1
	var d Method
	switch m := m.(type) {
	case *ADMM:
		d = &ADMM{Slack: m.Slack}
	case *Adversarial:
		d = &Adversarial{Epsilon: m.Epsilon}
	}
	res, err := Solve(context.Background(), p, &s1, d)
	if err != nil {
		t.Fatalf("default ρ: %v", err)
	}
	if len(res.History) == 0 {
		return 0
	}
	return res.History[0].Rho
}

// FuzzAdaptiveBounds solves a small problem (fuzzed shape, loss, β, ρ and method) and
// checks the bounds and the best-point rule (see checkAdaptive).
func FuzzAdaptiveBounds(f *testing.F) {
	f.Add(uint8(40), uint8(3), uint64(1002), uint8(2), 1e-3, 0.0, uint8(0)) // the logistic ρ runaway's scale
	f.Add(uint8(30), uint8(4), uint64(7), uint8(1), 1e-4, 1e-12, uint8(0))  // a ρ far too small
	f.Add(uint8(25), uint8(3), uint64(8), uint8(0), 1e-2, 1e12, uint8(1))   // far too large, slack form
	f.Add(uint8(20), uint8(3), uint64(9), uint8(2), 1e-3, 1e-9, uint8(2))   // Adversarial
	f.Add(uint8(35), uint8(5), uint64(10), uint8(1), 1e-3, 0.0, uint8(3))   // fixed ρ
	f.Fuzz(func(t *testing.T, n, d uint8, seed uint64, loss uint8, beta, rho float64, kind uint8) {
		if math.IsNaN(beta) || math.IsInf(beta, 0) || math.IsNaN(rho) || math.IsInf(rho, 0) || rho < 0 || rho > 1e200 || rho != 0 && rho < 1e-200 {
			return // bad input is an error, tested elsewhere
		}
		p := randomProblem(int(n%40)+3, int(d%5)+2, Loss(loss%3), math.Abs(beta), seed)
		var m Method
		switch kind % 4 {
		case 0:
			m = &ADMM{Rho: rho}
		case 1:
			m = &ADMM{Rho: rho, Slack: true}
		case 2:
			m = &Adversarial{Epsilon: 0.05, Rho: rho}
		default:
			m = &ADMM{Rho: rho, FixedRho: true}
		}
		s := &Settings{Patterns: 8, Seed: seed, MaxIterations: 300, Tolerance: 1e-6}
		rho0 := defaultRho(t, p, s, m)
		if rho0 == 0 {
			return
		}
		res, err := Solve(context.Background(), p, s, m)
		if err != nil {
			t.Fatalf("%s: %v", methodName(m), err)
		}
		init := rho
		if init == 0 {
			init = rho0
		}
		feasible := kind%4 == 0 || kind%4 == 3
		if msg := checkAdaptive(res, rho0, init, s.Tolerance, feasible); msg != "" {
			t.Fatalf("%s on %v n=%d β=%g: %s (status %v, gap %v)", methodName(m), p.Loss, int(n%40)+3, p.Beta, msg, res.Status, res.Gap)
		}
	})
}

// TestFistaStepBounded: FISTA's L shrinks by fistaShrink per iteration while the line
// search accepts, but never below fistaLFloor times its initial estimate (on a
// direction without curvature 0.9ᵏ would underflow to a zero L after 7 000
// iterations).
func TestFistaStepBounded(t *testing.T) {
	p := randomProblem(30, 3, Logistic, 1e-3, 3)
	fs := &fistaSettings{loss: p.Loss, y: p.Y, beta: p.Beta, tol: 1e-6, maxIter: 10, start: time.Now()}
	H, err := SCPDirections(3, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	var phi mat.Dense
	phi.Mul(p.X, H.T())
	f := newFistaRun(&scpModel{phi: phi.RawMatrix()}, fs, nil)
	f.dr = newDriver(context.Background(), &Settings{}, time.Now(), 10, 1e-6, fistaCheckEvery, 10)
	floor := f.lFloor
	if !(floor > 0) {
		t.Fatalf("floor %v", floor)
	}
	f.L = floor * 1e-3 // as if it had shrunk for ever
	var row Iteration
	if err := f.step(&row); err != nil {
		t.Fatal(err)
	}
	if f.L < floor {
		t.Errorf("L = %g below its floor %g", f.L, floor)
	}
}
