package solver

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"
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

// interruptIPMProblem is a hinge program with more points than the 64 columns of a
// Cholesky factorization's panel and fewer than dP, so that both routes' steps have
// several polls of every kind.
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
// TimeLimit, the solve returns with TimeLimit before starting the step. The poll
// waits half the time left (of a 3 s limit), so that the step's prediction exceeds
// what remains after it, and the step's own work has the other half: the test does
// not depend on the machine's speed unless setup and three steps of a 200-point
// program take most of 3 s (with the race detector at load 9 the first two had
// taken more than the 1 s that a fixed wait of 2 s left).
func TestInteriorPointStepPredicted(t *testing.T) {
	p, s := interruptIPMProblem(t)
	const after = 2
	si := *s
	si.TimeLimit = 3 * time.Second
	start := time.Now()
	pc := newIPMPolls(ipmPollBlocks, after, func() { time.Sleep((si.TimeLimit - time.Since(start)) / 2) })
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
