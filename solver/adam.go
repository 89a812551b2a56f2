package solver

import (
	"context"
	"fmt"
	"math"
)

// Adam trains the non-convex network with the Adam optimizer (Kingma and Ba 2015):
//
//	m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  θ ← θ − η (m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
//
// elementwise, with g an estimate of ∇J/n on a batch and t the step count (see the
// baselines' conventions in baseline.go). The weight decay is part of the objective J,
// so it enters g, as with PyTorch's Adam and its weight_decay = β/n.
type Adam struct {
	// Neurons is the width m; zero means 64.
	Neurons int
	// LearningRate is η; zero means 0.001, the default of Kingma and Ba.
	LearningRate float64
	// Beta1 and Beta2 are the moment decay rates in [0, 1); zero means 0.9 and 0.999.
	Beta1, Beta2 float64
	// Epsilon is ε in the denominator; zero means 1e-8.
	Epsilon float64
	// BatchSize is the number of points per step; zero means the full batch.
	BatchSize int
	// Epochs is the number of passes over the data; zero means
	// Settings.MaxIterations, or 500 when that is zero too.
	Epochs int
	// InitScale multiplies the initial weights' standard deviations (1/√d for uⱼ,
	// 1/√m for αⱼ); zero means 1.
	InitScale float64
}

func (m *Adam) String() string { return "Adam" }

func (m *Adam) solve(ctx context.Context, p *Problem, s *Settings) (*Result, error) {
	var cfg ncConfig
	if err := cfg.fill("Adam", m.Neurons, m.BatchSize, m.Epochs, m.InitScale, s); err != nil {
		return nil, err
	}
	opt, err := newAdamState("Adam", m.LearningRate, m.Beta1, m.Beta2, m.Epsilon)
	if err != nil {
		return nil, err
	}
	return ncTrain(ctx, p, s, cfg, opt, nil, nil)
}

// adamState is one run's moment estimates.
type adamState struct {
	rate, beta1, beta2, eps float64
	t                       int
	m, v                    []float64
}

func newAdamState(name string, rate, beta1, beta2, eps float64) (*adamState, error) {
	for _, f := range []struct {
		field string
		v     float64
	}{{"LearningRate", rate}, {"Epsilon", eps}} {
		if err := checkRate(name, f.field, f.v); err != nil {
			return nil, err
		}
	}
	if !(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1) {
		return nil, fmt.Errorf("solver: %s Beta1 and Beta2 must lie in [0, 1), got %v and %v", name, beta1, beta2)
	}
	o := &adamState{rate: rate, beta1: beta1, beta2: beta2, eps: eps}
	if o.rate == 0 {
		o.rate = 0.001
	}
	if o.beta1 == 0 {
		o.beta1 = 0.9
	}
	if o.beta2 == 0 {
		o.beta2 = 0.999
	}
	if o.eps == 0 {
		o.eps = 1e-8
	}
	return o, nil
}

func (o *adamState) step(theta, grad []float64) {
	if o.m == nil {
		o.m = make([]float64, len(theta))
		o.v = make([]float64, len(theta))
	}
	o.t++
	c1 := 1 - math.Pow(o.beta1, float64(o.t))
	c2 := math.Sqrt(1 - math.Pow(o.beta2, float64(o.t)))
	for i, g := range grad {
		o.m[i] = o.beta1*o.m[i] + (1-o.beta1)*g
		o.v[i] = o.beta2*o.v[i] + (1-o.beta2)*g*g
		theta[i] -= o.rate / c1 * o.m[i] / (math.Sqrt(o.v[i])/c2 + o.eps)
	}
}
