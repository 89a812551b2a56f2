package solver_test

import (
	"context"
	"fmt"

	"github.com/gocvx/gocvx/solver"
	"github.com/gocvx/gocvx/solver/dataset"
)

// Train the same network by back-propagation from several initializations and attack
// the best one.
func ExampleSolveSeeds() {
	ds, _ := dataset.Blobs(200, 4, 0.3, 1) // four blobs on a ring, labels alternating ±1
	prob := &solver.Problem{X: dataset.AddBias(ds.X), Y: ds.Y, Loss: solver.Hinge, Beta: 0.01}
	runs, err := solver.SolveSeeds(context.Background(), prob, &solver.Settings{Seed: 1},
		&solver.Adam{Neurons: 16, LearningRate: 0.02, Epochs: 200}, 3)
	if err != nil {
		fmt.Println(err)
		return
	}
	best := runs[0]
	for _, r := range runs {
		if r.Objective < best.Objective {
			best = r
		}
	}
	clean, _ := best.Network.Accuracy(prob.X, prob.Y)
	robust, _ := solver.RobustAccuracy(best.Network, prob.X, prob.Y, 0.2,
		&solver.PGD{RandomStart: true, Restarts: 2, Bias: true})
	fmt.Printf("%d runs, %v after %d epochs\n", len(runs), best.Status, best.Iterations)
	fmt.Printf("clean accuracy above 95%%: %v, robust accuracy at ε = 0.2 below clean: %v\n", clean > 0.95, robust < clean)
	// Output:
	// 3 runs, iteration limit after 200 epochs
	// clean accuracy above 95%: true, robust accuracy at ε = 0.2 below clean: true
}
