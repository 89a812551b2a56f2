package solver

import (
	"context"
	"testing"

	"github.com/gocvx/gocvx/solver/dataset"
)

// TestPGDTrainingRobust: on the four-blob ring, PGD adversarial training at ε = 0.2
// gives a network whose accuracy under a PGD attack of that radius is clearly higher
// than that of the same network trained by Adam on clean points (same width,
// regularization, seed and schedule).
func TestPGDTrainingRobust(t *testing.T) {
	ds, err := dataset.Blobs(200, 4, 0.3, 1)
	if err != nil {
		t.Fatal(err)
	}
	prob := &Problem{X: dataset.AddBias(ds.X), Y: ds.Y, Loss: Hinge, Beta: 1e-2}
	const eps = 0.2
	settings := &Settings{Seed: 1}
	clean, err := Solve(context.Background(), prob, settings, &Adam{Neurons: 32, LearningRate: 0.02, Epochs: 100, BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	robust, err := Solve(context.Background(), prob, settings, &PGDTraining{Epsilon: eps, Neurons: 32, LearningRate: 0.02, Epochs: 100, BatchSize: 50, Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	attack := &PGD{Steps: 20, RandomStart: true, Restarts: 2, Bias: true}
	ra, err := RobustAccuracy(clean.Network, prob.X, prob.Y, eps, attack)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := RobustAccuracy(robust.Network, prob.X, prob.Y, eps, attack)
	if err != nil {
		t.Fatal(err)
	}
	if rb < ra+0.03 {
		t.Errorf("robust accuracy at ε = %v: %v after PGD training, %v after clean training", eps, rb, ra)
	}
	// The recorded objective is the adversarial one: above the clean objective of the
	// same network.
	cleanObj, err := robust.Network.Objective(prob.X, prob.Y, prob.Loss, prob.Beta)
	if err != nil {
		t.Fatal(err)
	}
	if robust.Objective <= cleanObj {
		t.Errorf("adversarial objective %v not above the clean objective %v", robust.Objective, cleanObj)
	}
	t.Logf("robust accuracy at ε = %v: Adam %.3f, PGD training %.3f", eps, ra, rb)
}
