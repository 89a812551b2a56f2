package main

import (
	"context"
	"math"
	"testing"

	"github.com/gocvx/gocvx/internal/testenv"
	"github.com/gocvx/gocvx/solver"
	"github.com/gocvx/gocvx/solver/dataset"
)

// TestAdamMatchesTorch runs solver.Adam and torch.optim.Adam from the same initial
// weights on the same objective: two independent implementations of the gradient and
// of the update must give the same objective after every step, for every loss.
func TestAdamMatchesTorch(t *testing.T) {
	testenv.RequirePython(t, "torch")
	ds, err := dataset.Spirals(60, 0.05, 3)
	if err != nil {
		t.Fatal(err)
	}
	const m, steps, seed, lr = 12, 40, 7, 0.01
	for _, loss := range []solver.Loss{solver.Squared, solver.Hinge, solver.Logistic} {
		prob := &solver.Problem{X: dataset.AddBias(ds.X), Y: ds.Y, Loss: loss, Beta: 0.1}
		res, err := solver.Solve(context.Background(), prob, &solver.Settings{Seed: seed}, &solver.Adam{Neurons: m, LearningRate: lr, Epochs: steps})
		if err != nil {
			t.Fatal(err)
		}
		init, _ := solver.InitialNetwork(m, 3, 1, seed)
		tr, err := runTorch(prob, init, lr, steps, 0, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Objective) != steps+1 || len(res.History) != steps {
			t.Fatalf("%v: %d torch objectives, %d history rows", loss, len(tr.Objective), len(res.History))
		}
		worst := 0.0
		for i, it := range res.History {
			// History row i is J after step i+1; torch's objective[i+1] likewise.
			worst = math.Max(worst, math.Abs(it.Objective-tr.Objective[i+1])/math.Abs(tr.Objective[i+1]))
		}
		if worst > 1e-9 {
			t.Errorf("%v: objectives differ from PyTorch's by up to %.3g relative", loss, worst)
		}
		t.Logf("%v: largest relative difference from PyTorch over %d steps: %.2g", loss, steps, worst)
	}
}
