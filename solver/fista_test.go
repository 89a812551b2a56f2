package solver

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"
)

// brokenModel is a 1×1 linear model A = [1] that breaks after the power iteration of
// fista: from then on apply returns NaN for every nonzero x (as an overflowing product
// would), so the gradient at the start x = 0 is finite and no trial point of the line
// search is. If cancel is set, the first broken apply calls it.
type brokenModel struct {
	applies int
	cancel  func()
}

func (*brokenModel) size() int  { return 1 }
func (*brokenModel) group() int { return 1 }
func (b *brokenModel) apply(x, ax []float64) {
	b.applies++
	ax[0] = x[0]
	if b.applies > fistaPowerIters && x[0] != 0 {
		ax[0] = math.NaN()
		if b.cancel != nil {
			b.cancel()
		}
	}
}
func (*brokenModel) adjoint(r, atr []float64)                { atr[0] = r[0] }
func (*brokenModel) polishBlocks(x []float64) []*polishBlock { return nil }

// TestFistaLineSearchIsBounded: the backtracking of fista gives up after a bounded
// number of doublings of L and reports Failure with its reason (it used to double L
// forever on data scaled by 1e150, whose trial points are NaN), and a context
// cancelled during the line search stops it there.
func TestFistaLineSearchIsBounded(t *testing.T) {
	for _, loss := range allLosses {
		fs := &fistaSettings{loss: loss, y: []float64{1}, beta: 1e-3, tol: 1e-6, maxIter: 100, start: time.Now()}
		m := &brokenModel{}
		out := fista(context.Background(), m, fs, nil)
		if out.status != Failure || !strings.Contains(out.message, "line search") {
			t.Errorf("%v: status %v (%q), want a line-search failure", loss, out.status, out.message)
		}
		if trials := m.applies - fistaPowerIters - 1; trials != fistaMaxDoublings {
			t.Errorf("%v: %d trial points, want %d", loss, trials, fistaMaxDoublings)
		}
		if out.x[0] != 0 || out.iters != 0 || !finite(out.cert.Primal) || out.cert.Gap != math.Inf(1) {
			t.Errorf("%v: returned x = %v after %d iterations, certificate %+v; want the start 0 and no gap", loss, out.x, out.iters, out.cert)
		}
		ctx, cancel := context.WithCancel(context.Background())
		m = &brokenModel{cancel: cancel}
		if out := fista(ctx, m, fs, nil); out.status != Canceled || m.applies != fistaPowerIters+2 {
			t.Errorf("%v: cancelled in the line search: status %v after %d trial points", loss, out.status, m.applies-fistaPowerIters-1)
		}
	}
}

// TestSolveLargeData: the convex methods solve data at the largest and smallest
// scales Validate accepts (1e99 and 1e-99) to the same objective as the unscaled data with β
// scaled alike (with X = cX₀ and β = cβ₀, the blocks v = v₀/c give the same loss and
// penalty), and refuse data at 1e150 and 1e-160, whose squares overflow or underflow,
// with a clear error (they used to hang in fista's line search or return NaN).
func TestSolveLargeData(t *testing.T) {
	for _, m := range []Method{&ADMM{}, &GatedReLU{}, &SCP{Samples: 20}, &ADMM{WarmStart: true}} {
		for _, loss := range allLosses {
			if _, scp := m.(*SCP); scp && loss == Hinge {
				continue // its smoothed FISTA does not certify 1e-7 within the iterations
			}
			base := smallProblem(loss, 20, 3)
			s := &Settings{Patterns: 8, Seed: 1, Tolerance: 1e-7, MaxIterations: 5000}
			ref, err := Solve(context.Background(), base, s, m)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []float64{1e99, 1e-99} {
				p := *base
				p.X = mat.DenseCopyOf(base.X)
				p.X.Scale(c, p.X)
				p.Beta = base.Beta * c
				res, err := Solve(context.Background(), &p, s, m)
				if err != nil {
					t.Fatalf("%v %v at %g: %v", m, loss, c, err)
				}
				// The program's optimal value (GatedReLU's optimum need not be unique,
				// and its ReLU network depends on which optimum it found).
				got, want := res.Certificate.Primal, ref.Certificate.Primal
				if res.Status != Optimal || math.Abs(got-want) > 1e-5*want {
					t.Errorf("%v %v at %g: %v objective %v, unscaled %v objective %v", m, loss, c, res.Status, got, ref.Status, want)
				}
			}
			for _, c := range []float64{1e150, 1e-160} {
				p := *base
				p.X = mat.DenseCopyOf(base.X)
				p.X.Scale(c, p.X)
				if _, err := Solve(context.Background(), &p, s, m); err == nil || !strings.Contains(err.Error(), "rescale X") {
					t.Errorf("%v %v at %g: error %v, want a request to rescale X", m, loss, c, err)
				}
			}
		}
	}
}

// TestFistaCertificateBoundsSmallBeta runs FISTA on the gated cvxopt goldens at
// β ∈ {1e-4, 1e-3} (every loss; the hinge smoothed, as GatedReLU's warm start runs
// it) and checks every dual bound computed during the solve: each is at most the
// reference optimum, and each is at least what the division of η by
// t = max(1, w/β) gave at the same candidate (the certificate before Loss.rayDual),
// and some are above it.
func TestFistaCertificateBoundsSmallBeta(t *testing.T) {
	improved := 0 // bounds above the division's, over all instances
	for _, f := range smallBetaFiles(t, "gated") {
		in := readJSON[instance](t, f)
		t.Run(filepath.Base(f), func(t *testing.T) {
			p, arr := in.problem(t)
			pr, err := newProgram(p, arr)
			if err != nil {
				t.Fatal(err)
			}
			bc := &boundChecker{p: p, ref: in.Reference.Objective}
			fs := &fistaSettings{loss: pr.loss, y: pr.y, beta: pr.beta, tol: 1e-6, maxIter: 3000,
				start: time.Now(), patterns: pr.P, onCertificate: bc.check}
			out := fista(context.Background(), &gatedModel{pr: pr, buf: make([]float64, pr.n*pr.P)}, fs, nil)
			t.Logf("%v after %d iterations, gap %.3g; %d of %d bounds above the old scaling's", out.status, out.iters, out.cert.Gap, bc.above, bc.count)
			bc.report(t)
			improved += bc.above
		})
	}
	// The hinge instances' smoothed candidates are feasible but short at many checks
	// (the ray extends them to the domain's edge): the division never improved.
	if improved == 0 {
		t.Error("no bound above the division by t: the ray is not used")
	}
}
