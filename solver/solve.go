package solver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gonum.org/v1/gonum/mat"
)

// Settings control a solve. The zero value (or a nil *Settings) is valid: every field
// documents what its zero value means.
type Settings struct {
	// Patterns is the number of Gaussian directions hᵢ ~ N(0, I) sampled to build the
	// hyperplane arrangement (duplicates are dropped, so fewer distinct patterns may
	// remain). Zero means the method's default.
	Patterns int
	// Exact asks for every activation pattern of the data (EnumerateArrangement: its
	// cost grows like n^rank, practical for rank ≤ 3) instead of sampling; Patterns is
	// then ignored. The exact program has many overlapping blocks and converges more
	// slowly than a sampled one.
	Exact bool
	// Seed seeds every random choice; the same seed gives the same bits. Zero is a
	// seed like any other.
	Seed uint64
	// MaxIterations bounds the iterations; zero means the method's default.
	MaxIterations int
	// TimeLimit bounds the wall-clock time; zero means no limit.
	TimeLimit time.Duration
	// Tolerance is the relative stopping tolerance: the convex methods stop when their
	// relative duality gap (and, for ADMM, the relative primal residual) is below it.
	// Zero means the method's default (1e-6).
	Tolerance float64
	// Reference is the optimal objective when known from elsewhere (an exact solve or
	// an interior-point solution); the history then records relative gaps. Zero means
	// unknown.
	Reference float64
	// Recorder, if not nil, receives every iteration as it completes.
	Recorder Recorder
	// Threads is the number of goroutines for a method's independent per-block work
	// (ADMM's cone projections); zero means GOMAXPROCS. The result does not depend on
	// it. (The matrix products run through gonum, which splits large ones over
	// GOMAXPROCS goroutines itself: GOMAXPROCS=1 makes a solve single-threaded.)
	Threads int
	// columns, if positive, is the number of columns of the user's X when the method
	// solves its reduction to the row space (see reduce.go): ADMM computes its
	// scale-aware ρ for it, so that the reduction changes the cost of an iteration
	// and not the iterates.
	columns int
	// Arrangement, if not nil, gives the activation patterns to use (from
	// SampleArrangement, EnumerateArrangement or NewArrangement on the same X), so that
	// several methods or settings solve the identical program; Patterns, Exact and the
	// pattern sampling of Seed are then ignored.
	Arrangement *Arrangement
}

// Result is the outcome of Solve.
type Result struct {
	Method string // the method's String()
	// Route says which method the default one (Auto) chose and why; empty for the
	// others.
	Route string
	// Beta is the β the program was solved at (Problem.Beta).
	Beta float64
	// Factorization names the linear-algebra route the method used ("cholesky",
	// "woodbury"), empty for methods without one.
	Factorization string
	Status        Status
	// Message says why the method failed (Status Failure); empty otherwise.
	Message string
	// Objective is the training objective of Network on the training data.
	Objective float64
	// Gap is the method's optimality certificate: for the convex methods the relative
	// duality gap of Certificate; for the non-convex baselines the relative gap to
	// Settings.Reference when set; NaN otherwise.
	Gap        float64
	Iterations int
	Runtime    time.Duration
	History    []Iteration
	// Network is the trained (for convex methods, recovered) network.
	Network *Network
	// ActiveNeurons is the number of nonzero neurons in Network.
	ActiveNeurons int

	// The fields below are set by the convex methods.

	// Arrangement holds the activation patterns of the program solved (the gates for
	// GatedReLU), and Patterns their number P. SCP sets Patterns to its number of
	// sampled directions and leaves Arrangement nil.
	Arrangement *Arrangement
	Patterns    int
	// Certificate is the duality-gap certificate of the final point (nil for the
	// non-convex baselines).
	Certificate *Certificate
	// V and W are the convex solution (P×d: row i is vᵢ, resp. wᵢ, of pattern i) for
	// ADMM and GatedReLU (W is nil for GatedReLU, whose blocks are unconstrained).
	V, W *mat.Dense
	// Dual is the dual variable η of the predictions at the solution (the gradient of
	// the loss at the convex predictions for smooth losses); CheckViolations uses it.
	Dual []float64
	// Rho is ADMM's final penalty ρ and Factorizations the number of factorizations of
	// its u-step matrix (one, plus the refactorizations of residual balancing).
	Rho            float64
	Factorizations int
	// Rank is rank X when the method solved the program in X's row space, which
	// Solve and Path do for ADMM, InteriorPoint, GatedReLU and Auto when rank X < d
	// (zero columns or dependent ones, see reduce.go): V, W and Network are mapped
	// back to X's columns and the certificate is unchanged. Zero when it solved with
	// X itself.
	Rank int
	// Gated is the gated ReLU model trained by GatedReLU (nil for other methods); its
	// ReLU equivalent on the training points is Network.
	Gated *GatedNetwork
	// ADMM counts ADMM's inner work (nil for other methods).
	ADMM *ADMMStats
}

// ADMMStats counts the inner work of an ADMM solve.
type ADMMStats struct {
	// Projections is the number of cone projections (v-step blocks whose argument
	// lay outside its cone), Products the products X·v (n×d) they computed one by
	// one, Candidates the warm-started projections verified together in one matrix
	// product per iteration, and ActiveRows the sum of their final active-set sizes.
	Projections, Products, Candidates, ActiveRows int
	// Accelerated is the number of Anderson extrapolations taken, Rejected the number
	// the safeguard undid.
	Accelerated, Rejected int
}

// Solve trains a two-layer ReLU network on prob with method (nil means &Auto{}, which
// picks the route by the program's size and loss).
// settings may be nil. ADMM, InteriorPoint, GatedReLU and Auto solve the program in
// the row space of X when X has zero or linearly dependent columns (the same optimum
// and certificate, fewer columns; see Result.Rank). Invalid input is an error; a solve that stops early (iteration
// or time limit, cancellation) is not: cancelling ctx returns promptly a Result with
// Status Canceled, a nil error and the current point.
func Solve(ctx context.Context, prob *Problem, settings *Settings, method Method) (*Result, error) {
	s, err := checkInput(ctx, prob, settings)
	if err != nil {
		return nil, err
	}
	if method == nil {
		method = &Auto{}
	}
	rs, spent, err := rowSpaceFor(prob, method)
	if err != nil {
		return nil, err
	}
	res, err := solveMethod(ctx, prob, &s, method, nil, rs, spent)
	if err != nil {
		return nil, err
	}
	finishResult(res, prob)
	return res, nil
}

// checkInput validates the problem, the context and the settings, and returns a copy
// of the settings (the zero Settings for nil).
func checkInput(ctx context.Context, prob *Problem, settings *Settings) (Settings, error) {
	var s Settings
	if err := prob.Validate(); err != nil {
		return s, err
	}
	if ctx == nil {
		return s, errors.New("solver: nil context (use context.Background or cell.Context)")
	}
	if settings != nil {
		s = *settings
	}
	if s.Patterns < 0 || s.MaxIterations < 0 || s.TimeLimit < 0 || s.Tolerance < 0 || s.Threads < 0 {
		return s, errors.New("solver: Patterns, MaxIterations, TimeLimit, Tolerance and Threads must be ≥ 0")
	}
	return s, nil
}

// finishResult records β and applies the last line of defence against overflow
// inside a method: a non-finite objective is never a solution, whatever the method's
// own stopping test said.
func finishResult(res *Result, prob *Problem) {
	res.Beta = prob.Beta
	if !finite(res.Objective) && res.Status != Failure {
		res.Message = fmt.Sprintf("%s: the objective of the returned network is %v (the iterates overflowed; it stopped as %v)", res.Method, res.Objective, res.Status)
		res.Status = Failure
	}
}

// record hands it to rec (if any) and returns the history with it appended: what
// every method does at the end of an iteration.
func record(history []Iteration, rec Recorder, it Iteration) []Iteration {
	if rec != nil {
		rec.Record(it)
	}
	return append(history, it)
}

// arrangementFor returns the patterns a method should use: Settings.Arrangement, an
// exact enumeration when Settings.Exact, or a Gaussian sample of Settings.Patterns (or
// defaultPatterns) directions seeded by Settings.Seed.
func arrangementFor(p *Problem, s *Settings, defaultPatterns int) (*Arrangement, error) {
	switch {
	case s.Arrangement != nil:
		return s.Arrangement, nil
	case s.Exact:
		return EnumerateArrangement(p.X)
	}
	samples := s.Patterns
	if samples == 0 {
		samples = defaultPatterns
	}
	return SampleArrangement(p.X, samples, s.Seed)
}
