package solver

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// ipmPolls counts an InteriorPoint run's polls per stage and iteration (from the
// recorder), and at the first poll of a chosen stage once a chosen number of
// iterations is recorded calls act (cancel the context, or wait).
type ipmPolls struct {
	mu         sync.Mutex
	iteration  int
	stage      ipmStage
	after      int    // act at the first poll of stage once this many iterations are recorded (< 0: never)
	act        func() // what to do there
	actedAt    int    // the iteration count when it acted (−1: not yet)
	polls      map[ipmStage]map[int]int
	afterActed int // polls after act
}

// ipmStageNames names the stages in the tests' logs.
var ipmStageNames = map[ipmStage]string{ipmPollBlocks: "blocks", ipmPollPatterns: "patterns", ipmPollGram: "K",
	ipmPollCholesky: "Cholesky", ipmPollCG: "conjugate gradients"}

func newIPMPolls(stage ipmStage, after int, act func()) *ipmPolls {
	return &ipmPolls{stage: stage, after: after, act: act, actedAt: -1, polls: map[ipmStage]map[int]int{}}
}

func (pc *ipmPolls) record(it Iteration) {
	pc.mu.Lock()
	pc.iteration = it.Iteration
	pc.mu.Unlock()
}

func (pc *ipmPolls) poll(stage ipmStage) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.polls[stage] == nil {
		pc.polls[stage] = map[int]int{}
	}
	pc.polls[stage][pc.iteration]++
	if pc.actedAt >= 0 {
		pc.afterActed++
		return
	}
	if pc.after >= 0 && stage == pc.stage && pc.iteration >= pc.after {
		pc.actedAt = pc.iteration
		pc.act()
	}
}

// interruptIPMProblem is a hinge program with more points than a chunk of rows of K
// (128) and fewer than dP, so that both routes' steps have several polls of every
// kind.
func interruptIPMProblem(t *testing.T) (*Problem, *Settings) {
	p := smallProblem(Hinge, 200, 4)
	arr, err := SampleArrangement(p.X, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, d := p.X.Dims(); d*arr.Len() <= 200 {
		t.Fatalf("dP = %d, want more than n = 200", d*arr.Len())
	}
	return p, &Settings{Arrangement: arr, Threads: 1, Tolerance: 1e-8}
}

// TestInteriorPointInterruptedStep cancels the context from inside a Newton step, at
// each kind of poll of each route (forming the blocks, the n×n route's per-pattern
// terms, the dense route's K, the panels of either route's Cholesky factorization,
// the conjugate gradients), and checks that the step's work stops at the poll (an
// uninterrupted run polls that stage several times in that step), that the solve says
// Canceled without counting the cut step, that the history is the uninterrupted
// run's up to there, and that the point returned is the best of those iterates, with
// its certificate unchanged by the cut step and bracketing the optimum.
func TestInteriorPointInterruptedStep(t *testing.T) {
	p, s := interruptIPMProblem(t)
	const after = 25 // the gap is about 1e-2 there; the n×n route hands over to the dense one after 36
	type reference struct {
		polls *ipmPolls
		res   *Result
	}
	refs := map[string]reference{}
	for _, route := range []string{FactorWoodbury, FactorCholesky} {
		ref := newIPMPolls(0, -1, nil)
		sr := *s
		sr.Recorder = RecorderFunc(ref.record)
		full, err := Solve(context.Background(), p, &sr, &InteriorPoint{Factorization: route, onPoll: ref.poll})
		if err != nil || full.Status != Optimal {
			t.Fatalf("%s: the uninterrupted solve: %v, %v", route, err, full.Status)
		}
		refs[route] = reference{ref, full}
	}
	for _, tc := range []struct {
		route string
		stage ipmStage
	}{
		{FactorWoodbury, ipmPollBlocks},
		{FactorWoodbury, ipmPollPatterns},
		{FactorWoodbury, ipmPollCholesky},
		{FactorWoodbury, ipmPollCG},
		{FactorCholesky, ipmPollBlocks},
		{FactorCholesky, ipmPollGram},
		{FactorCholesky, ipmPollCholesky},
	} {
		ref, full := refs[tc.route].polls, refs[tc.route].res
		lo, hi := full.Certificate.Dual, full.Certificate.Primal // bracket the optimum

		ctx, cancel := context.WithCancel(context.Background())
		pc := newIPMPolls(tc.stage, after, cancel)
		si := *s
		si.Recorder = RecorderFunc(pc.record)
		res, err := Solve(ctx, p, &si, &InteriorPoint{Factorization: tc.route, onPoll: pc.poll})
		cancel()
		if err != nil {
			t.Fatalf("%s/%s: %v", tc.route, ipmStageNames[tc.stage], err)
		}
		at := pc.actedAt
		if at < after {
			t.Fatalf("%s/%s: no poll of the stage after iteration %d", tc.route, ipmStageNames[tc.stage], after)
		}
		if n := ref.polls[tc.stage][at]; n < 2 {
			t.Fatalf("%s/%s: the uninterrupted run polls %d times in step %d: nothing to cut", tc.route, ipmStageNames[tc.stage], n, at+1)
		}
		if pc.afterActed != 0 {
			t.Errorf("%s/%s: %d polls after the cancellation", tc.route, ipmStageNames[tc.stage], pc.afterActed)
		}
		if res.Status != Canceled || res.Iterations != at || len(res.History) != at {
			t.Fatalf("%s/%s: status %v after %d iterations (%d recorded), want canceled after %d", tc.route, ipmStageNames[tc.stage], res.Status, res.Iterations, len(res.History), at)
		}
		best := 0
		for i, it := range res.History {
			want := full.History[i]
			if it.DualityGap != want.DualityGap || it.Objective != want.Objective {
				t.Fatalf("%s/%s: iteration %d: gap %v, objective %v; uninterrupted %v, %v", tc.route, ipmStageNames[tc.stage], i+1, it.DualityGap, it.Objective, want.DualityGap, want.Objective)
			}
			if it.DualityGap < res.History[best].DualityGap {
				best = i
			}
		}
		c := res.Certificate
		if c.Gap != res.History[best].DualityGap || c.Primal != res.History[best].Objective || res.Gap != c.Gap {
			t.Errorf("%s/%s: certificate %+v, want the best iterate's (iteration %d: gap %v, primal %v)", tc.route, ipmStageNames[tc.stage], c, best+1, res.History[best].DualityGap, res.History[best].Objective)
		}
		if c.Dual > hi*(1+1e-12) || c.Primal < lo*(1-1e-12) || c.ConeViolation > 1e-12 || !(c.Gap > 1e-6) {
			t.Errorf("%s/%s: certificate %+v does not bracket the optimum in [%v, %v] honestly", tc.route, ipmStageNames[tc.stage], c, lo, hi)
		}
		if math.Abs(res.Objective-c.Primal) > 1e-9*math.Abs(c.Primal) {
			t.Errorf("%s/%s: objective %v, certified primal %v", tc.route, ipmStageNames[tc.stage], res.Objective, c.Primal)
		}
		t.Logf("%s/%s: cancelled in step %d (%d polls of the stage in it uninterrupted), gap %.3g", tc.route, ipmStageNames[tc.stage], at+1, ref.polls[tc.stage][at], c.Gap)
	}
}

// TestInteriorPointStepPredicted: a step that takes long (a poll inside it waits) is
// the prediction of the next one on its route; when that prediction ends past
// TimeLimit, the solve returns with TimeLimit before starting the step. The wait (2 s
// of a 3 s limit) leaves the solve's own work a second of slack: the test does not
// depend on the machine's speed unless setup and two steps of a 200-point program
// take that long.
func TestInteriorPointStepPredicted(t *testing.T) {
	p, s := interruptIPMProblem(t)
	const after = 2
	pc := newIPMPolls(ipmPollBlocks, after, func() { time.Sleep(2 * time.Second) })
	si := *s
	si.TimeLimit = 3 * time.Second
	si.Recorder = RecorderFunc(pc.record)
	res, err := Solve(context.Background(), p, &si, &InteriorPoint{Factorization: FactorWoodbury, onPoll: pc.poll})
	if err != nil {
		t.Fatal(err)
	}
	if pc.actedAt != after {
		t.Fatalf("waited at iteration %d, want %d", pc.actedAt, after)
	}
	if res.Status != TimeLimit || res.Iterations != after+1 {
		t.Fatalf("status %v after %d iterations, want the time limit after %d (the step that waited completes)", res.Status, res.Iterations, after+1)
	}
	if n := pc.polls[ipmPollBlocks][after+1]; n != 0 {
		t.Errorf("%d polls after step %d: the next step was started", n, after+1)
	}
	if res.Certificate == nil || res.Certificate.Gap != res.Gap || !(res.Gap > 0) {
		t.Errorf("certificate %+v, gap %v", res.Certificate, res.Gap)
	}
}

// TestSetupStops: newLinsys (both routes) and program.gram stop at a poll of pr.stop
// with errInterrupted and no Gram matrix kept, and unstopped they compute what
// gonum's Syrk and Potrf compute, bit for bit.
func TestSetupStops(t *testing.T) {
	p := smallProblem(Squared, 150, 9)
	p.X = randomData(150, 7, true, 9)
	arr, err := SampleArrangement(p.X, 12, 1)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := newProgram(p, arr)
	if err != nil {
		t.Fatal(err)
	}
	n, d := pr.n, pr.d
	for _, route := range []string{FactorCholesky, FactorWoodbury} {
		polls := 0
		pr.stop = func() bool { polls++; return false }
		ls, err := newLinsys(pr, route, 0.7)
		if err != nil {
			t.Fatal(err)
		}
		all := polls
		for k := 1; k < all; k += max(1, all/7) {
			polls = 0
			pr.stop = func() bool { polls++; return polls >= k }
			if _, err := newLinsys(pr, route, 0.7); err != errInterrupted || polls != k {
				t.Fatalf("%s: stop at poll %d of %d: %v after %d polls", route, k, all, err, polls)
			}
		}
		// The same factors as gonum's: B's, and S's or A_D's.
		b := make([]float64, d*d)
		blas64.Syrk(blas.Trans, 1, pr.X, 0, blas64.Symmetric{Uplo: blas.Lower, N: d, Stride: d, Data: b})
		for i := 0; i < d; i++ {
			b[i*d+i] += pr.tau2
		}
		lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: d, Stride: d, Data: b})
		for i, v := range b {
			if r, c := i/d, i%d; c <= r && v != ls.bChol.Data[i] {
				t.Fatalf("%s: factor of B differs from gonum's at (%d, %d): %v, %v", route, r, c, ls.bChol.Data[i], v)
			}
		}
		t.Logf("%s: %d polls", route, all)
	}
	// The lower triangle of A Aᵀ (the Woodbury route's H and co-activations) in
	// blocks of rows.
	low, lowRef := make([]float64, n*n), make([]float64, n*n)
	blas64.Syrk(blas.NoTrans, 1, pr.X, 0, blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: lowRef})
	for i0 := 0; i0 < n; i0 += 17 {
		syrkRows(blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: low}, pr.X, false, i0, min(n, i0+17))
	}
	for i, v := range lowRef {
		if low[i] != v {
			t.Fatalf("A Aᵀ (lower) differs from gonum's Syrk at (%d, %d)", i/n, i%n)
		}
	}
	pr.stop = nil
	ref := make([]float64, n*n)
	blas64.Syrk(blas.NoTrans, 1, pr.X, 0, blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: ref})
	pr.stop = func() bool { return true }
	if g := pr.gram(); g != nil || pr.gramXX != nil {
		t.Fatal("a stopped gram returned or kept a matrix")
	}
	pr.stop = func() bool { return false }
	g := pr.gram()
	for r := 0; r < n; r++ {
		for c := r; c < n; c++ {
			if g[r*n+c] != ref[r*n+c] || g[c*n+r] != ref[r*n+c] {
				t.Fatalf("XXᵀ differs from gonum's Syrk at (%d, %d)", r, c)
			}
		}
	}
}

// TestPotrfPolled: the polled factorization gives gonum's Potrf bit for bit, stops at
// the poll that says so, and reports a matrix that is not positive definite.
func TestPotrfPolled(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{5, 64, 65, 200} {
		g := make([]float64, n*(n+3))
		for i := range g {
			g[i] = rng.NormFloat64()
		}
		a := make([]float64, n*n)
		blas64.Syrk(blas.NoTrans, 1, blas64.General{Rows: n, Cols: n + 3, Stride: n + 3, Data: g}, 0, blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: a})
		want := append([]float64(nil), a...)
		if _, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: want}); !ok {
			t.Fatal("gonum's Potrf failed")
		}
		got := append([]float64(nil), a...)
		polls := 0
		ok, err := potrfPolled(blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: got}, func() bool { polls++; return false })
		if !ok || err != nil {
			t.Fatalf("n = %d: %v, %v", n, ok, err)
		}
		for i := 0; i < n; i++ {
			for j := 0; j <= i; j++ {
				if got[i*n+j] != want[i*n+j] {
					t.Fatalf("n = %d: (%d, %d) is %v, gonum's %v", n, i, j, got[i*n+j], want[i*n+j])
				}
			}
		}
		if wantPolls := (n + 63) / 64; n > 64 && polls != wantPolls {
			t.Errorf("n = %d: %d polls, want one per panel (%d)", n, polls, wantPolls)
		}
		if n > 64 {
			stopped := 0
			ok, err := potrfPolled(blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: append([]float64(nil), a...)}, func() bool { stopped++; return stopped == 2 })
			if ok || err != errInterrupted || stopped != 2 {
				t.Errorf("n = %d, stop at the second panel: %v, %v after %d polls", n, ok, err, stopped)
			}
		}
		a[(n/2)*n+n/2] = -1
		if ok, err := potrfPolled(blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: a}, nil); ok || err != nil {
			t.Errorf("n = %d: an indefinite matrix factored (%v, %v)", n, ok, err)
		}
	}
}
