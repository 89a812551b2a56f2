package solver

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// randomConeBlock draws a projection instance for the cone tests: data X (n × d, n
// in [30, 70), d in [4, 12), its last column all ones), the signs ±1 of a pattern's
// cone {v : sᵢ(Xv)ᵢ ≥ 0} and a point a to project.
func randomConeBlock(rng *rand.Rand) (X *mat.Dense, sign, a []float64) {
	n, d := 30+rng.IntN(40), 4+rng.IntN(8)
	X = randomData(n, d, true, rng.Uint64())
	sign = make([]float64, n)
	for k := range sign {
		sign[k] = float64(2*rng.IntN(2) - 1)
	}
	a = make([]float64, d)
	for c := range a {
		a[c] = rng.NormFloat64()
	}
	return X, sign, a
}

// TestProjectionStopIsUpperBound: a projection stopped after k steps of its outer
// loop returns a point a + G_Aᵀζ, ζ ≥ 0, whose norm bounds ‖Π_K(a)‖ from above, and
// stops at the first poll that says so; one bounded to k steps (the certificate's
// maxSteps) returns the same point.
func TestProjectionStopIsUpperBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	cut := 0
	for trial := 0; trial < 40; trial++ {
		X, sign, a := randomConeBlock(rng)
		full := newConeProjector(X.RawMatrix())
		polls := 0
		full.stop = func() bool { polls++; return false }
		pv, _, _ := full.project(a, sign, 0, 1, nil, nil)
		exact := norm2(pv)
		if full.stopped {
			t.Fatalf("trial %d: a projection never told to stop reports stopped", trial)
		}
		for k := 0; k < polls-1; k++ {
			proj := newConeProjector(X.RawMatrix())
			proj.batchLimit = 1 // as the certificate's projections bounded by maxSteps
			calls := 0
			proj.stop = func() bool { calls++; return calls > k }
			v, act, zeta := proj.project(a, sign, 0, 1, nil, nil)
			if !proj.stopped || calls != k+1 {
				t.Fatalf("trial %d, stop after %d: stopped %v after %d polls", trial, k, proj.stopped, calls)
			}
			r := append([]float64(nil), a...)
			for i, row := range act {
				if zeta[i] < 0 {
					t.Fatalf("trial %d, stop after %d: multiplier %v < 0", trial, k, zeta[i])
				}
				axpy(zeta[i]*sign[row], X.RawRowView(row), r)
			}
			for c := range r {
				if math.Abs(r[c]-v[c]) > 1e-9*(1+norm2(a)) {
					t.Fatalf("trial %d, stop after %d: v is not a + G_Aᵀζ", trial, k)
				}
			}
			if norm2(v) < exact*(1-1e-12) {
				t.Fatalf("trial %d, stop after %d: ‖v‖ = %v below ‖Π_K(a)‖ = %v", trial, k, norm2(v), exact)
			}
			// The certificate's bound on the steps (maxSteps > 0) ends at the same
			// point, without stopped.
			if k > 0 {
				capped := newConeProjector(X.RawMatrix())
				capped.maxSteps = k
				cv, _, _ := capped.project(a, sign, 0, 1, nil, nil)
				if capped.stopped || math.Abs(norm2(cv)-norm2(v)) > 1e-12*(1+norm2(v)) {
					t.Fatalf("trial %d, %d steps: stopped %v, ‖v‖ %v against %v when stopped there", trial, k, capped.stopped, norm2(cv), norm2(v))
				}
			}
			cut++
		}
	}
	if cut < 20 {
		t.Fatalf("only %d cut projections: the instances need more outer steps", cut)
	}
}

// interruptProblem is a program whose certificates and v-steps project onto cones
// with many tight rows (squared loss, small β).
func interruptProblem() (*Problem, *Settings) {
	p := smallProblem(Squared, 300, 11)
	p.Beta = 1e-3
	return p, &Settings{Patterns: 32, Seed: 3, Threads: 1, Tolerance: 1e-12, MaxIterations: 400}
}

// pollCount counts an ADMM run's polls per stage and iteration (from the recorder),
// and cancels its context at the first poll of a chosen stage after a chosen
// iteration.
type pollCount struct {
	mu            sync.Mutex
	iteration     int
	stage         pollStage
	after         int // cancel at the first poll of stage once this many iterations are recorded (< 0: never)
	cancel        context.CancelFunc
	canceledAt    int // the iteration count when it cancelled (−1: not yet)
	polls         map[pollStage]map[int]int
	pollsAfterCut map[pollStage]int
}

func newPollCount(stage pollStage, after int, cancel context.CancelFunc) *pollCount {
	return &pollCount{stage: stage, after: after, cancel: cancel, canceledAt: -1, polls: map[pollStage]map[int]int{}, pollsAfterCut: map[pollStage]int{}}
}

func (pc *pollCount) record(it Iteration) {
	pc.mu.Lock()
	pc.iteration = it.Iteration
	pc.mu.Unlock()
}

func (pc *pollCount) poll(stage pollStage) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.polls[stage] == nil {
		pc.polls[stage] = map[int]int{}
	}
	pc.polls[stage][pc.iteration]++
	if pc.canceledAt >= 0 {
		pc.pollsAfterCut[stage]++
		return
	}
	if pc.after >= 0 && stage == pc.stage && pc.iteration >= pc.after {
		pc.canceledAt = pc.iteration
		pc.cancel()
	}
}

// bestCertified returns the least objective over the history's certified rows.
func bestCertified(h []Iteration) float64 {
	best := math.Inf(1)
	for _, it := range h {
		if !math.IsNaN(it.DualityGap) {
			best = math.Min(best, it.Objective)
		}
	}
	return best
}

// TestADMMInterruptedStep cancels the context from inside an ADMM step (a v-step
// projection, a certificate's projection) and checks that the step's work stops at
// the poll (an uninterrupted run polls that stage many more times at that
// iteration), that the solve says Canceled, returns the best certified point and a
// certificate whose bound holds (below the optimum of an uninterrupted solve).
func TestADMMInterruptedStep(t *testing.T) {
	p, s := interruptProblem()
	// At the scale-aware ρ (the squared loss's default scaled to β leaves the
	// v-step's projections at iteration 25 too few steps to cut).
	arr, err := arrangementFor(p, s, admmDefaultPatterns)
	if err != nil {
		t.Fatal(err)
	}
	rho := scaleAwareRho(t, p, arr)
	ref := newPollCount(pollVStep, -1, nil)
	sr := *s
	sr.Recorder = RecorderFunc(ref.record)
	if _, err := Solve(context.Background(), p, &sr, &ADMM{Rho: rho, NoPolish: true, onPoll: ref.poll}); err != nil {
		t.Fatal(err)
	}
	so := *s
	so.Tolerance = 1e-8
	opt, err := Solve(context.Background(), p, &so, &InteriorPoint{})
	if err != nil || opt.Certificate == nil || !(opt.Certificate.Gap <= 1e-6) {
		t.Fatalf("the optimum: %v", err)
	}
	lo, hi := opt.Certificate.Dual, opt.Certificate.Primal // bracket the optimum
	for _, tc := range []struct {
		name  string
		stage pollStage
		after int
	}{
		{"v-step", pollVStep, 25},
		{"certificate", pollCertificate, 25},
		{"first certificate", pollCertificate, 0},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		pc := newPollCount(tc.stage, tc.after, cancel)
		si := *s
		si.Recorder = RecorderFunc(pc.record)
		res, err := Solve(ctx, p, &si, &ADMM{Rho: rho, NoPolish: true, onPoll: pc.poll})
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if pc.canceledAt < 0 {
			t.Fatalf("%s: no poll of the stage after iteration %d", tc.name, tc.after)
		}
		at := pc.canceledAt
		if n := ref.polls[tc.stage][at]; n < 3 {
			t.Fatalf("%s: the uninterrupted run polls %d times at iteration %d: nothing to cut", tc.name, n, at)
		}
		// One thread: the poll that cancelled stops the work; at most the final
		// certificate of the point the interrupted step returned to polls once more
		// (and stops at once).
		if after := pc.pollsAfterCut; after[pollVStep] != 0 || after[pollPolish] != 0 || after[pollCertificate] > 1 {
			t.Errorf("%s: polls after the cancellation: %v", tc.name, after)
		}
		if res.Status != Canceled {
			t.Errorf("%s: status %v, want canceled", tc.name, res.Status)
		}
		if tc.stage == pollVStep && res.Iterations != at {
			t.Errorf("%s: %d iterations, want %d (the interrupted step does not count)", tc.name, res.Iterations, at)
		}
		c := res.Certificate
		if c == nil || c.Dual > hi*(1+1e-12) || c.Primal < lo*(1-1e-12) {
			t.Fatalf("%s: certificate %+v does not bracket the optimum in [%v, %v]", tc.name, c, lo, hi)
		}
		if c.Gap != relativeGap(c.Primal, c.Dual) {
			t.Errorf("%s: gap %v, primal %v, dual %v", tc.name, c.Gap, c.Primal, c.Dual)
		}
		if best := bestCertified(res.History); len(res.History) > 0 && !math.IsInf(best, 1) &&
			math.Abs(res.Objective-best) > 1e-9*math.Abs(best) {
			t.Errorf("%s: returned objective %v, the best certified %v", tc.name, res.Objective, best)
		}
		t.Logf("%s: cancelled at iteration %d (the full run polls %d times there), gap %.3g", tc.name, at, ref.polls[tc.stage][at], c.Gap)
	}
}

// TestPolishBasesWithinLimit: bases that do not fit in the polisher's limit are not
// computed, and nothing moves.
func TestPolishBasesWithinLimit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n, d := 60, 12
	X := randomData(n, d, true, 9)
	y := make([]float64, n)
	for k := range y {
		y[k] = rng.NormFloat64()
	}
	var bs []*polishBlock
	var start [][]float64
	for j := 0; j < 3; j++ {
		b := &polishBlock{base: X.RawMatrix(), pred: make([]float64, n), cone: make([]float64, n), u: make([]float64, d)}
		for c := range b.u {
			b.u[c] = rng.NormFloat64()
		}
		for k := range b.pred {
			b.pred[k] = 1
			b.cone[k] = 1
			if dot(X.RawRowView(k), b.u) < 0 {
				b.cone[k] = -1
			}
		}
		// A tight row: the basis needs an SVD.
		row := X.RawRowView(j)
		f := dot(row, b.u) / dot(row, row)
		axpy(-f, row, b.u)
		bs, start = append(bs, b), append(start, append([]float64(nil), b.u...))
	}
	po := newPolisher(Squared, y, 0.5, bs)
	po.limit = float64(3 * n * d) // room for the tight rows of one block, not for its SVD
	if po.run(nil) || !po.skipped {
		t.Fatalf("a polisher without room for a basis ran (skipped %v)", po.skipped)
	}
	if po.work > po.limit {
		t.Errorf("work %g beyond the limit %g", po.work, po.limit)
	}
	for j, b := range bs {
		if b.z != nil {
			t.Errorf("block %d: basis computed", j)
		}
		for c := range b.u {
			if b.u[c] != start[j][c] {
				t.Fatalf("block %d moved", j)
			}
		}
	}
	po = newPolisher(Squared, y, 0.5, bs)
	polls := 0
	po.stop = func() bool { polls++; return polls > 1 }
	if po.run(nil) || !po.skipped || bs[0].z == nil || bs[1].z != nil {
		t.Errorf("stopped at the second basis: skipped %v, bases %v %v", po.skipped, bs[0].z != nil, bs[1].z != nil)
	}
}

// TestPolishEnterStops: with every block dormant, the polisher's first act is to
// project each block's dual direction onto its cone (enter). Those projections poll
// stop: a stop raised at the first poll ends the attempt before any block enters,
// with no poll after it, where an unstopped polisher enters a block after several
// polls. (At d = 785 these projections once ran 30 s past a solve's time limit.)
func TestPolishEnterStops(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n, d := 80, 10
	X := randomData(n, d, true, 11)
	y := make([]float64, n)
	for k := range y {
		y[k] = 3 * rng.NormFloat64()
	}
	dormant := func() []*polishBlock {
		var bs []*polishBlock
		for j := 0; j < 4; j++ {
			// The pattern of a random hyperplane h: its cone contains h.
			b := &polishBlock{base: X.RawMatrix(), pred: make([]float64, n), cone: make([]float64, n), u: make([]float64, d)}
			h := make([]float64, d)
			for c := range h {
				h[c] = rng.NormFloat64()
			}
			for k := range b.pred {
				if dot(X.RawRowView(k), h) >= 0 {
					b.pred[k], b.cone[k] = 1, 1
				} else {
					b.cone[k] = -1
				}
			}
			bs = append(bs, b)
		}
		return bs
	}
	// enter after the steps run takes before it (the bases, the system, the state).
	enter := func(po *polisher) bool {
		if !po.prepare() {
			t.Fatal("prepare failed")
		}
		po.build()
		return po.enter(po.state())
	}

	po := newPolisher(Squared, y, 0.01, dormant())
	polls := 0
	po.stop = func() bool { polls++; return false }
	if !enter(po) || polls < 3 {
		t.Fatalf("without a stop: entered %v after %d polls; the test needs a block to enter after several polls", len(po.dormant) < 4, polls)
	}

	po = newPolisher(Squared, y, 0.01, dormant())
	polls, after := 0, 0
	stopped := false
	po.stop = func() bool {
		if stopped {
			after++
		}
		polls++
		stopped = polls >= 2
		return stopped
	}
	if enter(po) || len(po.dormant) != 4 {
		t.Errorf("a block entered after the stop (%d dormant of 4)", len(po.dormant))
	}
	if after > 0 {
		t.Errorf("stop polled %d more times after it said stop", after)
	}
}
