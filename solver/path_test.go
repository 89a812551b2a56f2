package solver

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestPathWarmEqualsCold: along a decreasing path of β, every warm-started solve
// reaches the optimum of a cold solve at its β (both certified to the tolerance, so
// their objectives agree to twice it), records its β, and comes back in the order of
// the β's given.
func TestPathWarmEqualsCold(t *testing.T) {
	const tol = 1e-6
	betas := []float64{0.01, 1, 1e-3, 0.1} // not sorted: results follow this order
	for _, loss := range allLosses {
		for _, m := range []Method{&ADMM{}, nil} {
			p := smallProblem(loss, 40, 7)
			arr := mustSample(t, p.X, 12)
			s := &Settings{Arrangement: arr, Tolerance: tol, MaxIterations: 20000}
			path, err := Path(context.Background(), p, betas, s, m)
			if err != nil {
				t.Fatal(err)
			}
			warm, cold := 0, 0
			for i, b := range betas {
				q := *p
				q.Beta = b
				ref, err := Solve(context.Background(), &q, s, m)
				if err != nil {
					t.Fatal(err)
				}
				res := path[i]
				if res == nil || res.Beta != b {
					t.Fatalf("%v %v β=%g: result %v", loss, m, b, res)
				}
				if res.Status != Optimal || ref.Status != Optimal {
					t.Errorf("%v %v β=%g: path %v, cold %v", loss, m, b, res.Status, ref.Status)
				}
				if d := math.Abs(res.Certificate.Primal - ref.Certificate.Primal); d > 2*tol*math.Abs(ref.Certificate.Primal) {
					t.Errorf("%v %v β=%g: path %.10g, cold %.10g", loss, m, b, res.Certificate.Primal, ref.Certificate.Primal)
				}
				warm += res.Iterations
				cold += ref.Iterations
			}
			t.Logf("%v %v: %d iterations along the path, %d cold", loss, methodName(m), warm, cold)
		}
	}
}

// TestPathHingeZeroLoss: below some β the hinge program's solution is one network
// with zero loss whatever β (testdata/cases/admm_hinge_tiny_beta_rho.json, whose
// optimum is proportional to β), and only the dual scales with β. Warm-started from
// the solution at 1e-3 with its dual scaled by β/β_prev, the solve at the case's
// β = 1e-5 is certified at its first check; with the dual unscaled, its multipliers
// were 100 times those of a subgradient of β‖·‖ and it took 2 440 iterations.
func TestPathHingeZeroLoss(t *testing.T) {
	c := readJSON[userCase](t, filepath.Join("testdata", "cases", "admm_hinge_tiny_beta_rho.json"))
	p := &Problem{X: denseOf(c.X), Y: c.Y, Loss: Hinge, Beta: c.Beta}
	s := &Settings{Arrangement: c.arrangement(t), Tolerance: c.Tolerance}
	path, err := Path(context.Background(), p, []float64{1e-3, c.Beta}, s, &ADMM{})
	if err != nil {
		t.Fatal(err)
	}
	res, ref := path[1], c.Reference.Objective
	t.Logf("β = %g: %v after %d iterations, objective %.10g (cvxopt %.10g), gap %.3g", c.Beta, res.Status, res.Iterations, res.Objective, ref, res.Gap)
	if res.Status != Optimal || !(res.Gap <= c.Tolerance) {
		t.Errorf("status %v, certified gap %.3g", res.Status, res.Gap)
	}
	if rel := (res.Objective - ref) / ref; math.Abs(rel) > c.Tolerance+1e-8 {
		t.Errorf("objective %.10g, cvxopt %.10g", res.Objective, ref)
	}
	if res.Iterations > admmCheckEvery {
		t.Errorf("%d iterations from the solution at β = 1e-3, want %d (one check)", res.Iterations, admmCheckEvery)
	}
}

// TestPathInput: bad β's are errors; a cancelled context stops the path with Status
// Canceled and nil results for the β's not reached.
func TestPathInput(t *testing.T) {
	p := smallProblem(Squared, 20, 1)
	for _, betas := range [][]float64{nil, {1, -1}, {math.NaN()}, {math.Inf(1)}} {
		if _, err := Path(context.Background(), p, betas, nil, nil); err == nil || !strings.HasPrefix(err.Error(), "solver: ") {
			t.Errorf("betas %v: error %v", betas, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Path(ctx, p, []float64{1, 0.1}, nil, &ADMM{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0] == nil || res[0].Status != Canceled || res[1] != nil {
		t.Errorf("cancelled path: %v", res)
	}
}

// TestAutoRoute: Auto gives InteriorPoint, on the cheaper route of its Newton system,
// the programs whose estimated work (ipmEstimate) is within the loss's budget at
// β > 0, and ADMM the others, and says so in Result.Route. The shapes: small (every
// loss to InteriorPoint), shaped like the breast cancer data (n = 569 < dP = 1 984:
// every loss to InteriorPoint on the n×n route), and large
// (n = 3 000: every loss to ADMM); a small hinge program at β = 1e-3 is certified by
// the interior-point route.
func TestAutoRoute(t *testing.T) {
	for _, c := range []struct {
		n, d, patterns int
		interior       map[Loss]bool
	}{
		{100, 3, 12, map[Loss]bool{Squared: true, Hinge: true, Logistic: true}},
		{569, 30, 64, map[Loss]bool{Squared: true, Hinge: true, Logistic: true}},
		{3000, 40, 64, map[Loss]bool{Squared: false, Hinge: false, Logistic: false}},
	} {
		for _, loss := range allLosses {
			p := &Problem{X: randomData(c.n, c.d, true, 3), Y: smallProblem(loss, c.n, 3).Y, Loss: loss, Beta: 1e-3}
			arr := mustSample(t, p.X, c.patterns)
			n, d := p.X.Dims()
			route, work := ipmEstimate(n, d, arr.Len(), loss, activeCounts(arr))
			m, why := (&Auto{}).route(p, arr)
			ip, interior := m.(*InteriorPoint)
			if want := work <= loss.interiorBudget(); interior != want || interior != c.interior[loss] {
				t.Errorf("%v, n = %d, d = %d, P = %d: route %v (%s)", loss, n, d, arr.Len(), m, why)
			}
			if interior && ip.Factorization != route {
				t.Errorf("%v, n = %d: factorization %q, want the cheaper %q", loss, n, ip.Factorization, route)
			}
			if c.n == 569 && route != FactorWoodbury {
				t.Errorf("%v, n = %d < dP = %d: route %s", loss, n, d*arr.Len(), route)
			}
			t.Logf("%v n=%d d=%d P=%d: %s", loss, n, d, arr.Len(), why)
			q := *p
			q.Beta = 0
			if m, why := (&Auto{}).route(&q, arr); !isADMM(m) {
				t.Errorf("%v, β = 0: route %v (%s)", loss, m, why)
			}
		}
	}
	p := smallProblem(Hinge, 40, 7)
	p.Beta = 1e-3
	res, err := Solve(context.Background(), p, &Settings{Patterns: 12}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != Optimal || !strings.HasPrefix(res.Route, "interior point") {
		t.Errorf("hinge β = 1e-3: %v, gap %.2g, route %q", res.Status, res.Gap, res.Route)
	}
}

func isADMM(m Method) bool {
	_, ok := m.(*ADMM)
	return ok
}
