package solver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/mat"
)

// Problem is a weight-decay training problem for a two-layer ReLU network
//
//	minimize_{u,α}  ℓ(f(X), y) + (β/2) Σⱼ (‖uⱼ‖₂² + αⱼ²),   f(x) = Σⱼ (xᵀuⱼ)₊ αⱼ.
//
// A bias is a column of ones in X (see dataset.AddBias).
type Problem struct {
	X    *mat.Dense // n×d data, one point per row
	Y    []float64  // n targets; labels in {−1, +1} for Hinge and Logistic
	Loss Loss
	Beta float64 // β ≥ 0, the weight-decay strength
}

// maxDataScale bounds the scale of X and y: squares of 1e100 and their sums over any
// feasible n, d and P stay far below the float64 limit 1.8e308, while data at 1e150
// overflow in XᵀX, in ‖A‖² (FISTA's step) and in ½‖y‖²; symmetrically, the largest
// |X| must be at least 1e-100 (unless X = 0), as the squares of data at 1e-155 are
// subnormal or zero and the scale-aware ρ of ADMM divides by them.
const maxDataScale = 1e100

// Validate returns an error describing the first thing wrong with p: missing or empty
// data, a shape mismatch, NaN or Inf entries, data whose squares the solvers could not
// represent (the largest |X| outside [1e-100, 1e100], unless X = 0, or |y| beyond
// 1e100), labels outside {−1, +1} for a classification loss, β < 0 or an unknown loss.
func (p *Problem) Validate() error {
	if p == nil || p.X == nil || p.X.IsEmpty() {
		return errors.New("solver: problem has no data")
	}
	n, d := p.X.Dims()
	if len(p.Y) != n {
		return fmt.Errorf("solver: X has %d rows, y has %d", n, len(p.Y))
	}
	big := 0.0
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			v := p.X.At(i, j)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("solver: X[%d,%d] is %v", i, j, v)
			}
			big = math.Max(big, math.Abs(v))
		}
	}
	if big > maxDataScale || big > 0 && big < 1/maxDataScale {
		return fmt.Errorf("solver: X has entries up to %.3g in magnitude; the solvers form products like XᵀX and need the largest |X| in [%g, %g]: rescale X (dividing X and β by c leaves the convex program's optimum unchanged, with weights multiplied by c)", big, 1/maxDataScale, maxDataScale)
	}
	if p.Loss < Squared || p.Loss > Logistic {
		return fmt.Errorf("solver: unknown loss %v", p.Loss)
	}
	for k, y := range p.Y {
		if math.IsNaN(y) || math.IsInf(y, 0) {
			return fmt.Errorf("solver: y[%d] is %v", k, y)
		}
		if p.Loss.Classification() && y != 1 && y != -1 {
			return fmt.Errorf("solver: %v loss needs labels in {-1, +1}, y[%d] is %v", p.Loss, k, y)
		}
		if math.Abs(y) > maxDataScale {
			return fmt.Errorf("solver: y[%d] is %.3g; the squared loss of targets beyond %g overflows: rescale y", k, y, maxDataScale)
		}
	}
	if math.IsNaN(p.Beta) || math.IsInf(p.Beta, 0) || p.Beta < 0 {
		return fmt.Errorf("solver: beta must be finite and ≥ 0, got %v", p.Beta)
	}
	return nil
}

// Status tells how a solve ended.
type Status int

const (
	// NotTerminated is the zero Status: the solve has not ended.
	NotTerminated Status = iota
	// Optimal means the stopping tolerances (residuals or gap) were met.
	Optimal
	// IterationLimit means Settings.MaxIterations was reached first.
	IterationLimit
	// TimeLimit means Settings.TimeLimit was reached first.
	TimeLimit
	// Canceled means the context was cancelled; the result holds the best point so far.
	Canceled
	// Infeasible means no nonzero point satisfies the constraints (only the zero
	// network is feasible, e.g. an adversarial radius too large for every pattern).
	Infeasible
	// Failure means the method broke down numerically.
	Failure
)

func (s Status) String() string {
	switch s {
	case NotTerminated:
		return "not terminated"
	case Optimal:
		return "optimal"
	case IterationLimit:
		return "iteration limit"
	case TimeLimit:
		return "time limit"
	case Canceled:
		return "canceled"
	case Infeasible:
		return "infeasible"
	case Failure:
		return "failure"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Recorder receives every iteration of a running solve, on the solver's goroutine;
// Record should return quickly (display's live progress throttles its own drawing).
type Recorder interface {
	Record(it Iteration)
}

// RecorderFunc adapts a function to a Recorder.
type RecorderFunc func(it Iteration)

// Record calls f(it).
func (f RecorderFunc) Record(it Iteration) { f(it) }

// Iteration is one row of a solve's history.
type Iteration struct {
	Iteration int // 1-based
	// Objective is the training objective of the network the iterate recovers. For
	// ADMM that is the convex objective of its current point v, which the cone
	// projections keep feasible (in the slack form v may violate the cones slightly
	// until convergence, and the network's objective is reported); for GatedReLU it
	// is the gated model's objective, for SCP the program's.
	Objective float64
	// Gap is (Objective − Reference)/|Reference| when Settings.Reference is set,
	// NaN otherwise.
	Gap float64
	// PrimalResidual and DualResidual are the method's residual norms; NaN for
	// methods without residuals. ADMM with the hinge and logistic losses (its cone
	// form) computes the dual residual only at its first iteration and at its
	// certificate checks, every tenth iteration: it costs a product of its own.
	PrimalResidual, DualResidual float64
	Elapsed                      time.Duration // since the solve started
	// TrainAccuracy is the fraction of training points classified correctly, NaN for
	// regression or when not computed this iteration.
	TrainAccuracy float64
	// ActiveNeurons is the number of nonzero neurons of the current iterate.
	ActiveNeurons int
	// Patterns is the number of activation patterns (blocks) of the program solved;
	// zero for methods without patterns.
	Patterns int
	// Rho is ADMM's penalty ρ at this iteration (zero for other methods).
	Rho float64
	// DualityGap is the method's relative duality gap when computed this iteration;
	// the convex methods compute it every few iterations and record NaN in between.
	// Methods without a certificate leave it zero (their Result.Certificate is nil).
	DualityGap float64
}

// Network is a two-layer ReLU network f(x) = Σⱼ (xᵀuⱼ)₊ αⱼ.
type Network struct {
	U     *mat.Dense // m×d; row j is the first-layer weight vector uⱼ
	Alpha []float64  // m output weights αⱼ
}

// Neurons returns the width m.
func (n *Network) Neurons() int { return len(n.Alpha) }

func (n *Network) check(X *mat.Dense) error {
	if n == nil || n.U == nil {
		if n != nil && len(n.Alpha) == 0 {
			return nil // the zero network
		}
		return errors.New("solver: network has no weights")
	}
	m, d := n.U.Dims()
	if m != len(n.Alpha) {
		return fmt.Errorf("solver: network has %d neurons but %d output weights", m, len(n.Alpha))
	}
	if X == nil || X.IsEmpty() {
		return errors.New("solver: no data")
	}
	if _, c := X.Dims(); c != d {
		return fmt.Errorf("solver: X has %d columns, the network takes %d inputs", c, d)
	}
	return nil
}

// Predict returns f(xₖ) for every row xₖ of X.
func (n *Network) Predict(X *mat.Dense) ([]float64, error) {
	if err := n.check(X); err != nil {
		return nil, err
	}
	rows, _ := X.Dims()
	out := make([]float64, rows)
	if n.Neurons() == 0 {
		return out, nil
	}
	var pre mat.Dense
	pre.Mul(X, n.U.T()) // n×m pre-activations xₖᵀuⱼ
	for k := range out {
		row := pre.RawRowView(k)
		s := 0.0
		for j, a := range n.Alpha {
			if row[j] > 0 {
				s += row[j] * a
			}
		}
		out[k] = s
	}
	return out, nil
}

// Accuracy returns the fraction of rows of X whose sign(f(xₖ)) equals yₖ ∈ {−1, +1}
// (f(xₖ) = 0 counts as +1).
func (n *Network) Accuracy(X *mat.Dense, y []float64) (float64, error) {
	pred, err := n.Predict(X)
	if err != nil {
		return 0, err
	}
	if len(y) != len(pred) {
		return 0, fmt.Errorf("solver: X has %d rows, y has %d", len(pred), len(y))
	}
	correct := 0
	for k, p := range pred {
		label := 1.0
		if p < 0 {
			label = -1
		}
		if label == y[k] {
			correct++
		}
	}
	return float64(correct) / float64(len(y)), nil
}

// Objective returns the non-convex training objective
// ℓ(f(X), y) + (β/2) Σⱼ (‖uⱼ‖₂² + αⱼ²) of the network on the given data.
func (n *Network) Objective(X *mat.Dense, y []float64, loss Loss, beta float64) (float64, error) {
	pred, err := n.Predict(X)
	if err != nil {
		return 0, err
	}
	p := Problem{X: X, Y: y, Loss: loss, Beta: beta}
	if err := p.Validate(); err != nil {
		return 0, err
	}
	reg := 0.0
	for j, a := range n.Alpha {
		u := n.U.RawRowView(j)
		for _, v := range u {
			reg += v * v
		}
		reg += a * a
	}
	return loss.Value(pred, y) + beta/2*reg, nil
}

// Method is a training algorithm that Solve runs: the convex solvers (*ADMM, *SCP,
// *GatedReLU, *Adversarial) and the non-convex baselines (*SGD, *Adam, *PGDTraining).
// A Method keeps no state between calls, so one value can be reused across cells.
type Method interface {
	// String names the method in results and plots.
	String() string
	// solve runs the method on a validated problem with defaults filled in.
	solve(ctx context.Context, p *Problem, s *Settings) (*Result, error)
}
