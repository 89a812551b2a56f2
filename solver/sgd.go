package solver

import (
	"context"
	"fmt"
)

// SGD trains the non-convex network by (mini-batch) stochastic gradient descent with
// heavy-ball momentum, the back-propagation baseline of [BGS] and [PE]:
//
//	v ← μ v + g,   θ ← θ − η v
//
// where g estimates ∇J/n on a batch (see the baselines' conventions in baseline.go:
// initialization, scaling by n, subgradients, one History row per epoch, best point
// returned). This is PyTorch's SGD with momentum and no dampening.
type SGD struct {
	// Neurons is the width m; zero means 64.
	Neurons int
	// LearningRate is the step η on the objective divided by n; zero means 0.01.
	LearningRate float64
	// Momentum is μ ∈ [0, 1); zero means plain gradient steps.
	Momentum float64
	// BatchSize is the number of points per step; zero means the full batch.
	BatchSize int
	// Epochs is the number of passes over the data; zero means
	// Settings.MaxIterations, or 500 when that is zero too.
	Epochs int
	// InitScale multiplies the initial weights' standard deviations (1/√d for uⱼ,
	// 1/√m for αⱼ); zero means 1.
	InitScale float64
}

// defaultSGDRate: with standardized features the curvature of the mean loss in the
// output weights is of order one, so 0.01 is stable with or without momentum 0.9.
const defaultSGDRate = 0.01

func (m *SGD) String() string { return "SGD" }

func (m *SGD) solve(ctx context.Context, p *Problem, s *Settings) (*Result, error) {
	var cfg ncConfig
	if err := cfg.fill("SGD", m.Neurons, m.BatchSize, m.Epochs, m.InitScale, s); err != nil {
		return nil, err
	}
	if err := checkRate("SGD", "LearningRate", m.LearningRate); err != nil {
		return nil, err
	}
	if !(m.Momentum >= 0 && m.Momentum < 1) {
		return nil, fmt.Errorf("solver: SGD Momentum must lie in [0, 1), got %v", m.Momentum)
	}
	opt := &sgdState{rate: m.LearningRate, momentum: m.Momentum}
	if opt.rate == 0 {
		opt.rate = defaultSGDRate
	}
	return ncTrain(ctx, p, s, cfg, opt, nil, nil)
}

// sgdState is one run's momentum buffer.
type sgdState struct {
	rate, momentum float64
	velocity       []float64
}

func (o *sgdState) step(theta, grad []float64) {
	if o.velocity == nil {
		o.velocity = make([]float64, len(theta))
	}
	for i, g := range grad {
		o.velocity[i] = o.momentum*o.velocity[i] + g
		theta[i] -= o.rate * o.velocity[i]
	}
}
