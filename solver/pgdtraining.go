package solver

import (
	"context"
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// PGDTraining is PGD adversarial training (Madry et al. 2018) of the non-convex
// network, the baseline for convex adversarial training: it minimizes
//
//	Σₖ max_{‖δₖ‖∞ ≤ ε} ℓ(f(xₖ + δₖ), yₖ) + (β/2) Σⱼ (‖uⱼ‖² + αⱼ²)
//
// by replacing every batch with its PGD points (random start, Steps sign steps; see
// PGD and Attack) against the current weights before an Adam step on them (Madry et
// al. trained with Adam). Width, regularization, initialization, batching, stopping and
// the best-point rule follow the other baselines (see baseline.go).
//
// The History objective is the adversarial objective of each epoch's weights, with the
// inner maximum estimated by PGD from the clean points on the whole training set (a
// lower bound on the true worst case); TrainAccuracy is the clean training accuracy.
type PGDTraining struct {
	// Epsilon is the l∞ radius ε ≥ 0 of the training perturbations.
	Epsilon float64
	// Neurons is the width m; zero means 64.
	Neurons int
	// Steps is the number of PGD steps per batch; zero means 10.
	Steps int
	// StepSize is the PGD step; zero means 2.5ε/Steps.
	StepSize float64
	// LearningRate is Adam's η; zero means 0.001.
	LearningRate float64
	// BatchSize is the number of points per step; zero means the full batch.
	BatchSize int
	// Epochs is the number of passes over the data; zero means
	// Settings.MaxIterations, or 500 when that is zero too.
	Epochs int
	// InitScale multiplies the initial weights' standard deviations; zero means 1.
	InitScale float64
	// Min and Max bound every perturbed coordinate; the box applies when Max > Min.
	Min, Max float64
	// Bias leaves the last column of X (the bias column of ones) unperturbed.
	Bias bool
}

// defaultTrainingPGDSteps: training attacks every batch of every epoch, so it uses
// half the evaluation attack's steps (Madry et al. used 7 to 40).
const defaultTrainingPGDSteps = 10

func (m *PGDTraining) String() string { return fmt.Sprintf("PGD training (ε=%g)", m.Epsilon) }

func (m *PGDTraining) solve(ctx context.Context, p *Problem, s *Settings) (*Result, error) {
	var cfg ncConfig
	if err := cfg.fill(m.String(), m.Neurons, m.BatchSize, m.Epochs, m.InitScale, s); err != nil {
		return nil, err
	}
	if _, err := atkCheck(&Network{}, p.X, p.Y, p.Loss, m.Epsilon, m.Min, m.Max); err != nil {
		return nil, err
	}
	if m.Steps < 0 {
		return nil, fmt.Errorf("solver: PGD training Steps must be ≥ 0, got %d", m.Steps)
	}
	if err := checkRate("PGD training", "StepSize", m.StepSize); err != nil {
		return nil, err
	}
	opt, err := newAdamState("PGD training", m.LearningRate, 0, 0, 0)
	if err != nil {
		return nil, err
	}
	steps := m.Steps
	if steps == 0 {
		steps = defaultTrainingPGDSteps
	}
	attack := atkPGDConfig{steps: steps, step: m.StepSize, random: true, box: m.Max > m.Min, lo: m.Min, hi: m.Max, bias: m.Bias}
	attack.fill(m.Epsilon)
	evalAttack := attack
	evalAttack.random = false

	hook := func(w *ncParams, Xb *mat.Dense, y []float64, r *rand.Rand) {
		Xadv, _ := atkPGD(&Network{U: mat.DenseCopyOf(w.W.T()), Alpha: w.Alpha}, Xb, y, p.Loss, m.Epsilon, &attack, r)
		Xb.Copy(Xadv)
	}
	eval := func(w *ncParams, prob *Problem) (float64, float64) {
		net := &Network{U: mat.DenseCopyOf(w.W.T()), Alpha: w.Alpha}
		_, acc := ncEvaluate(w, prob)
		Xadv, _ := atkPGD(net, prob.X, prob.Y, prob.Loss, m.Epsilon, &evalAttack, nil)
		pred := w.predict(Xadv)
		obj := prob.Loss.Value(pred, prob.Y) + prob.Beta*ncRegularizer(w.theta)
		return obj, acc
	}
	if m.Epsilon == 0 {
		hook, eval = nil, nil
	}
	return ncTrain(ctx, p, s, cfg, opt, hook, eval)
}
