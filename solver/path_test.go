package solver

import (
	"context"
	"math"
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
