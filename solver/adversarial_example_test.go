package solver_test

import (
	"context"
	"fmt"

	"github.com/gocvx/gocvx/solver"
	"github.com/gocvx/gocvx/solver/dataset"
)

// Convex adversarial training on four blobs (an XOR-like ring) against standard
// convex training. The robust objective bounds the training loss under any attack of
// radius ε; PGD on fresh points shows the difference in accuracy.
func ExampleAdversarial() {
	train, _ := dataset.Blobs(200, 4, 0.25, 1)
	test, _ := dataset.Blobs(200, 4, 0.25, 2)
	X, Xt := dataset.AddBias(train.X), dataset.AddBias(test.X)
	prob := &solver.Problem{X: X, Y: train.Y, Loss: solver.Hinge, Beta: 0.5}
	settings := &solver.Settings{Patterns: 64, Seed: 1, MaxIterations: 2000}
	const eps = 0.1

	robust, _ := solver.Solve(context.Background(), prob, settings, &solver.Adversarial{Epsilon: eps, Bias: true})
	standard, _ := solver.Solve(context.Background(), prob, settings, &solver.ADMM{})

	// The attacked training objective stays below the robust objective.
	attack := &solver.PGD{Steps: 20, RandomStart: true, Bias: true}
	Xadv, _ := attack.Perturb(robust.Network, X, train.Y, solver.Hinge, eps)
	attacked, _ := robust.Network.Objective(Xadv, train.Y, solver.Hinge, prob.Beta)
	fmt.Println("attacked objective within the robust bound:", attacked <= robust.Objective*(1+1e-9))

	r, _ := solver.RobustAccuracy(robust.Network, Xt, test.Y, eps, attack)
	s, _ := solver.RobustAccuracy(standard.Network, Xt, test.Y, eps, attack)
	fmt.Println("robust network at least as accurate under attack:", r >= s)
	// Output:
	// attacked objective within the robust bound: true
	// robust network at least as accurate under attack: true
}
