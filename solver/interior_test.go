package solver

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"
)

// TestInteriorPointAgreesWithADMM solves the same sampled program both ways: the
// objectives agree, each method's certified bounds contain the other's optimum, and
// the history records every Newton step with the gap bound after each centering.
func TestInteriorPointAgreesWithADMM(t *testing.T) {
	p := smallProblem(Squared, 40, 3)
	arr, err := SampleArrangement(p.X, 20, 5)
	if err != nil {
		t.Fatal(err)
	}
	s := &Settings{Arrangement: arr, Tolerance: 1e-8, MaxIterations: 50000}
	ipm, err := Solve(context.Background(), p, s, &InteriorPoint{})
	if err != nil {
		t.Fatal(err)
	}
	admm, err := Solve(context.Background(), p, s, &ADMM{})
	if err != nil {
		t.Fatal(err)
	}
	if ipm.Status != Optimal || admm.Status != Optimal {
		t.Fatalf("statuses %v (%s), %v", ipm.Status, ipm.Message, admm.Status)
	}
	if rel := math.Abs(ipm.Objective-admm.Objective) / admm.Objective; rel > 1e-6 {
		t.Errorf("interior point %.10g, ADMM %.10g: relative difference %.2g", ipm.Objective, admm.Objective, rel)
	}
	if ipm.Certificate.Dual > admm.Objective*(1+1e-9) || admm.Certificate.Dual > ipm.Objective*(1+1e-9) {
		t.Errorf("a dual bound exceeds the other's optimum: %+v, %+v", ipm.Certificate, admm.Certificate)
	}
	if len(ipm.History) != ipm.Iterations {
		t.Errorf("%d history entries for %d Newton steps", len(ipm.History), ipm.Iterations)
	}
	centred := 0
	for _, it := range ipm.History {
		if !math.IsNaN(it.DualityGap) {
			centred++
		}
	}
	if centred < 3 {
		t.Errorf("%d centerings recorded a gap bound, want several", centred)
	}
	// The objective of the recovered network is the convex objective.
	if rel := math.Abs(ipm.Objective-ipm.Certificate.Primal) / ipm.Objective; rel > 1e-9 {
		t.Errorf("network objective %.12g, convex %.12g", ipm.Objective, ipm.Certificate.Primal)
	}
}

func TestInteriorPointRefuses(t *testing.T) {
	for _, c := range []struct {
		p    *Problem
		m    *InteriorPoint
		want string
	}{
		{smallProblem(Hinge, 10, 1), &InteriorPoint{}, "squared loss only"},
		{&Problem{X: smallProblem(Squared, 10, 1).X, Y: smallProblem(Squared, 10, 1).Y, Loss: Squared}, &InteriorPoint{}, "β > 0"},
		{smallProblem(Squared, 10, 1), &InteriorPoint{Mu: 0.5}, "Mu must be > 1"},
	} {
		_, err := Solve(context.Background(), c.p, nil, c.m)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q", c.m, err, c.want)
		}
	}
}

// TestInteriorPointCancel checks that a cancelled solve returns promptly with the
// current, strictly feasible point.
func TestInteriorPointCancel(t *testing.T) {
	p := smallProblem(Squared, 300, 7)
	ctx, cancel := context.WithCancel(context.Background())
	var steps int
	rec := RecorderFunc(func(it Iteration) {
		steps = it.Iteration
		if steps == 3 {
			cancel()
		}
	})
	start := time.Now()
	res, err := Solve(ctx, p, &Settings{Patterns: 40, Recorder: rec}, &InteriorPoint{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != Canceled || res.Iterations != 3 {
		t.Errorf("status %v after %d steps, want canceled after 3", res.Status, res.Iterations)
	}
	if res.Certificate.ConeViolation != 0 || !finite(res.Objective) {
		t.Errorf("point: violation %v, objective %v", res.Certificate.ConeViolation, res.Objective)
	}
	t.Logf("canceled after %v", time.Since(start))
}
