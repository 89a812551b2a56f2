package solver

import (
	"context"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// SCP is the sampled-convex-program algorithm (MATH.md §5): sample N first-layer
// directions hₕ uniformly on the unit sphere, fix them, and train only the output
// weights with an ℓ₁ penalty,
//
//	minimize_{α ∈ ℝᴺ} ℓ(Σₕ (X hₕ)₊ αₕ, y) + β‖α‖₁,
//
// an unconstrained convex program solved by FISTA with restarts and backtracking (for
// the hinge loss with Huber smoothing and continuation). The network has the neurons
// hₕ√|αₕ| with output weights sign(αₕ)√|αₕ|, so its weight-decay objective equals
// the program's.
type SCP struct {
	// Samples is the number N of sampled directions; zero means Settings.Patterns, and
	// if that is zero too, min(scpMaxDefault, (2/ψ)(n − 1 + ln(1/ξ))) with ψ = 0.1,
	// ξ = 0.01 (MATH.md §5).
	Samples int
	// Directions, if not nil, are the directions to use (N×d, one per row; they are
	// normalized), instead of sampling; Samples is then ignored.
	Directions *mat.Dense
}

func (m *SCP) String() string { return "SCP" }

const (
	scpDefaultIterations = 20000
	scpDefaultTolerance  = 1e-6 // relative duality gap
	scpMaxDefault        = 4000 // caps the default N so that the n×N features stay small
)

// scpModel is A α = Φα with the features Φ = (X Hᵀ)₊ (n×N).
type scpModel struct {
	phi blas64.General
}

func (s *scpModel) size() int  { return s.phi.Cols }
func (s *scpModel) group() int { return 1 }
func (s *scpModel) apply(x, ax []float64) {
	blas64.Gemv(blas.NoTrans, 1, s.phi, blas64.Vector{N: len(x), Inc: 1, Data: x}, 0, blas64.Vector{N: len(ax), Inc: 1, Data: ax})
}
func (s *scpModel) polishBlocks(x []float64) []*polishBlock {
	n, N := s.phi.Rows, s.phi.Cols
	ones := make([]float64, n)
	for k := range ones {
		ones[k] = 1
	}
	blocks := make([]*polishBlock, N)
	for j := range blocks {
		blocks[j] = &polishBlock{base: blas64.General{Rows: n, Cols: 1, Stride: s.phi.Stride, Data: s.phi.Data[j:]}, pred: ones, u: x[j : j+1]}
	}
	return blocks
}
func (s *scpModel) adjoint(r, atr []float64) {
	blas64.Gemv(blas.Trans, 1, s.phi, blas64.Vector{N: len(r), Inc: 1, Data: r}, 0, blas64.Vector{N: len(atr), Inc: 1, Data: atr})
}

// SCPDirections returns the N unit directions SCP samples for data with d columns and
// the given seed (rows of an N×d matrix).
func SCPDirections(d, samples int, seed uint64) (*mat.Dense, error) {
	if d <= 0 || samples <= 0 {
		return nil, fmt.Errorf("solver: need positive dimension and samples, got d=%d, N=%d", d, samples)
	}
	rng := newRand(seed, streamSCP)
	h := make([]float64, samples*d)
	for i := 0; i < samples; i++ {
		row := h[i*d : (i+1)*d]
		for {
			for j := range row {
				row[j] = rng.NormFloat64()
			}
			if nr := norm2(row); nr > 0 {
				scal(1/nr, row)
				break
			}
		}
	}
	return mat.NewDense(samples, d, h), nil
}

func (m *SCP) solve(ctx context.Context, p *Problem, s *Settings) (*Result, error) {
	start := time.Now()
	n, d := p.X.Dims()
	if m.Directions != nil {
		if _, c := m.Directions.Dims(); c != d {
			return nil, fmt.Errorf("solver: SCP directions have %d columns, X has %d", c, d)
		}
		H := mat.DenseCopyOf(m.Directions)
		r, _ := H.Dims()
		for i := 0; i < r; i++ {
			row := H.RawRowView(i)
			nr := norm2(row)
			if nr == 0 || math.IsNaN(nr) || math.IsInf(nr, 0) {
				return nil, fmt.Errorf("solver: SCP direction %d has norm %v", i, nr)
			}
			scal(1/nr, row)
		}
		return solveSCP(ctx, p, s, H, start)
	}
	N := m.Samples
	if N < 0 {
		return nil, fmt.Errorf("solver: SCP samples must be ≥ 0, got %d", N)
	}
	if N == 0 {
		N = s.Patterns
	}
	if N == 0 {
		N = min(scpMaxDefault, int(math.Ceil(2/0.1*(float64(n)-1+math.Log(100)))))
	}
	H, err := SCPDirections(d, N, s.Seed)
	if err != nil {
		return nil, err
	}
	return solveSCP(ctx, p, s, H, start)
}

// solveSCP solves the SCP program with the directions H (N×d, unit rows).
func solveSCP(ctx context.Context, p *Problem, s *Settings, H *mat.Dense, start time.Time) (*Result, error) {
	n, d := p.X.Dims()
	N, _ := H.Dims()
	var phi mat.Dense
	phi.Mul(p.X, H.T())
	raw := phi.RawMatrix()
	for k := 0; k < n; k++ {
		row := raw.Data[k*raw.Stride : k*raw.Stride+N]
		for j, v := range row {
			if v < 0 {
				row[j] = 0
			}
		}
	}
	fs := &fistaSettings{loss: p.Loss, y: p.Y, beta: p.Beta, tol: s.Tolerance, maxIter: s.MaxIterations,
		timeLimit: s.TimeLimit, start: start, reference: s.Reference, recorder: s.Recorder, patterns: N}
	if fs.tol == 0 {
		fs.tol = scpDefaultTolerance
	}
	if fs.maxIter == 0 {
		fs.maxIter = scpDefaultIterations
	}
	out := fista(ctx, &scpModel{phi: raw}, fs, nil)
	// The network: neuron hₕ√|αₕ|, output sign(αₕ)√|αₕ| for every nonzero αₕ.
	var rows, alpha []float64
	hr := H.RawMatrix()
	for j, a := range out.x {
		if a == 0 {
			continue
		}
		r := math.Sqrt(math.Abs(a))
		for c := 0; c < d; c++ {
			rows = append(rows, hr.Data[j*hr.Stride+c]*r)
		}
		alpha = append(alpha, math.Copysign(r, a))
	}
	net := &Network{Alpha: alpha}
	if len(alpha) > 0 {
		net.U = mat.NewDense(len(alpha), d, rows)
	}
	objective, err := net.Objective(p.X, p.Y, p.Loss, p.Beta)
	if err != nil {
		return nil, err
	}
	cert := out.cert
	return &Result{
		Method: "SCP", Status: out.status, Message: out.message, Objective: objective, Gap: cert.Gap, Iterations: out.iters,
		History: out.history, Network: net, ActiveNeurons: net.Neurons(), Patterns: N, Certificate: &cert,
		Dual: append([]float64(nil), out.eta...), Runtime: time.Since(start),
	}, nil
}
