package solver

import (
	"context"
	"path/filepath"
	"testing"
)

// TestADMMLeavesZero: on the small form of MNIST 2 vs 8 (testdata/cases/
// admm_hinge_zero_stall.json: 100 images at 10×10, hinge, β = 0.02·n, where ∇ℓ(0)
// is dual infeasible), ADMM with its defaults must leave the zero network within a
// few certificate checks and certify the optimum in a few hundred iterations. Before
// the stall rule (see stalledAtZero) v stayed at zero until iteration 235, with ρ at
// its default, and the solve certified 1e-6 after 670 iterations (130 with it).
func TestADMMLeavesZero(t *testing.T) {
	c := readJSON[userCase](t, filepath.Join("testdata", "cases", "admm_hinge_zero_stall.json"))
	p := &Problem{X: denseOf(c.X), Y: c.Y, Loss: lossNamed(t, c.Loss), Beta: c.Beta}
	arr := c.arrangement(t)
	lastZero, rho0 := 0, 0.0
	s := &Settings{Arrangement: arr, Tolerance: c.Tolerance, Recorder: RecorderFunc(func(it Iteration) {
		if it.Iteration == 1 {
			rho0 = it.Rho
		}
		if it.ActiveNeurons == 0 {
			lastZero = it.Iteration
		}
	})}
	res, err := Solve(context.Background(), p, s, &ADMM{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v after %d iterations, last at zero %d, ρ %.4g → %.4g, gap %.3g", res.Status, res.Iterations, lastZero, rho0, res.Rho, res.Gap)
	// Two checks at zero raise ρ fivefold; the old code sat there for 23 checks.
	if lastZero > 10*admmCheckEvery {
		t.Errorf("v stayed at zero until iteration %d", lastZero)
	}
	if res.Status != Optimal || res.Iterations > 400 {
		t.Errorf("%v after %d iterations (gap %.3g): want Optimal within 400", res.Status, res.Iterations, res.Gap)
	}
	if res.Rho > rho0*rhoRange {
		t.Errorf("ρ %.4g beyond its bound %.4g", res.Rho, rho0*rhoRange)
	}
}
