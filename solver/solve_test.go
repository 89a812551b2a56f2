package solver

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"
)

// smallProblem returns a classification or regression problem on 2-D points with a
// bias column.
func smallProblem(loss Loss, n int, seed uint64) *Problem {
	rng := rand.New(rand.NewPCG(seed, 5))
	X := randomData(n, 3, true, seed)
	y := make([]float64, n)
	for k := range y {
		v := X.At(k, 0)*X.At(k, 1) + 0.2*rng.NormFloat64()
		if loss == Squared {
			y[k] = v
		} else if v >= 0 {
			y[k] = 1
		} else {
			y[k] = -1
		}
	}
	return &Problem{X: X, Y: y, Loss: loss, Beta: 0.1}
}

var convexMethods = []Method{&ADMM{}, &ADMM{Slack: true}, &GatedReLU{}, &SCP{Samples: 50}}

func TestInvalidInput(t *testing.T) {
	good := smallProblem(Hinge, 10, 1)
	nanX := mat.DenseCopyOf(good.X)
	nanX.Set(2, 1, math.NaN())
	infX := mat.DenseCopyOf(good.X)
	infX.Set(0, 0, math.Inf(1))
	badY := append([]float64(nil), good.Y...)
	badY[3] = 0.5
	nanY := append([]float64(nil), good.Y...)
	nanY[1] = math.NaN()
	tests := []struct {
		name string
		p    *Problem
		want string
	}{
		{"nil", nil, "no data"},
		{"empty", &Problem{X: &mat.Dense{}, Y: nil}, "no data"},
		{"shape", &Problem{X: good.X, Y: good.Y[:9], Loss: Hinge}, "X has 10 rows, y has 9"},
		{"NaN in X", &Problem{X: nanX, Y: good.Y, Loss: Hinge}, "X[2,1] is NaN"},
		{"Inf in X", &Problem{X: infX, Y: good.Y, Loss: Hinge}, "X[0,0] is +Inf"},
		{"NaN in y", &Problem{X: good.X, Y: nanY, Loss: Squared}, "y[1] is NaN"},
		{"labels", &Problem{X: good.X, Y: badY, Loss: Hinge}, "labels in {-1, +1}"},
		{"labels logistic", &Problem{X: good.X, Y: badY, Loss: Logistic}, "labels in {-1, +1}"},
		{"negative beta", &Problem{X: good.X, Y: good.Y, Loss: Hinge, Beta: -1}, "beta"},
		{"NaN beta", &Problem{X: good.X, Y: good.Y, Loss: Hinge, Beta: math.NaN()}, "beta"},
		{"loss", &Problem{X: good.X, Y: good.Y, Loss: Loss(7), Beta: 1}, "unknown loss"},
	}
	for _, tt := range tests {
		for _, m := range convexMethods {
			_, err := Solve(context.Background(), tt.p, nil, m)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "solver: ") {
				t.Errorf("%s, %v: error %v, want one containing %q", tt.name, m, err, tt.want)
			}
		}
	}
	// Bad settings and method fields: each refused with its own message.
	for _, c := range []struct {
		s    *Settings
		m    Method
		want string
	}{
		{&Settings{Patterns: -1}, &ADMM{}, "must be ≥ 0"},
		{&Settings{Tolerance: -1}, &ADMM{}, "must be ≥ 0"},
		{&Settings{Threads: -2}, &ADMM{}, "must be ≥ 0"},
		{nil, &ADMM{Rho: -1}, "rho must be positive"},
		{nil, &ADMM{Relaxation: 2.5}, "relaxation must be in (0, 2)"},
		{nil, &ADMM{Factorization: "lu"}, "unknown factorization lu"},
		{nil, &SCP{Samples: -3}, "samples must be ≥ 0"},
		{&Settings{Arrangement: mustSample(t, randomData(11, 3, false, 1), 5)}, &ADMM{}, "arrangement has patterns of 11 points, X has 10 rows"},
	} {
		_, err := Solve(context.Background(), good, c.s, c.m)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "solver: ") {
			t.Errorf("%+v with %+v: error %v, want one containing %q", c.s, c.m, err, c.want)
		}
	}
	if _, err := Solve(nil, good, nil, nil); err == nil || !strings.Contains(err.Error(), "nil context") { //nolint:staticcheck // a nil context is the error tested
		t.Errorf("nil context: error %v", err)
	}
}

func mustSample(t *testing.T, X *mat.Dense, p int) *Arrangement {
	t.Helper()
	a, err := SampleArrangement(X, p, 1)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestCancel cancels solves from the recorder after a few iterations and before the
// start: every method returns promptly with Status Canceled and a usable network.
func TestCancel(t *testing.T) {
	p := smallProblem(Logistic, 200, 2)
	for _, m := range convexMethods {
		ctx, cancel := context.WithCancel(context.Background())
		iters := 0
		rec := RecorderFunc(func(it Iteration) {
			iters = it.Iteration
			if it.Iteration == 5 {
				cancel()
			}
		})
		start := time.Now()
		res, err := Solve(ctx, p, &Settings{Recorder: rec, Tolerance: 1e-14, MaxIterations: 1 << 30}, m)
		cancel()
		if err != nil {
			t.Fatalf("%v: %v", m, err)
		}
		if res.Status != Canceled || iters != 5 || res.Iterations != 5 {
			t.Errorf("%v: status %v after %d iterations (recorded %d), want canceled after 5", m, res.Status, res.Iterations, iters)
		}
		if time.Since(start) > 30*time.Second {
			t.Errorf("%v: cancellation took %v", m, time.Since(start))
		}
		if _, err := res.Network.Predict(p.X); err != nil {
			t.Errorf("%v: canceled result's network: %v", m, err)
		}
		if math.IsNaN(res.Objective) {
			t.Errorf("%v: NaN objective", m)
		}
		// Already cancelled.
		ctx, cancel = context.WithCancel(context.Background())
		cancel()
		res, err = Solve(ctx, p, nil, m)
		if err != nil || res.Status != Canceled {
			t.Errorf("%v: pre-cancelled solve: %v, %v", m, res, err)
		}
	}
}

func TestTimeAndIterationLimits(t *testing.T) {
	p := smallProblem(Hinge, 100, 3)
	res, err := Solve(context.Background(), p, &Settings{MaxIterations: 7, Tolerance: 1e-14}, &ADMM{})
	if err != nil || res.Status != IterationLimit || res.Iterations != 7 || len(res.History) != 7 {
		t.Errorf("iteration limit: %v %v", res, err)
	}
	res, err = Solve(context.Background(), p, &Settings{TimeLimit: time.Nanosecond, Tolerance: 1e-14}, &ADMM{})
	if err != nil || res.Status != TimeLimit {
		t.Errorf("time limit: %v %v", res, err)
	}
}

// TestDeterminism: the same seed gives the same bits.
func TestDeterminism(t *testing.T) {
	p := smallProblem(Squared, 120, 4)
	for _, m := range convexMethods {
		s := &Settings{Seed: 42, Patterns: 20, MaxIterations: 300}
		a, err1 := Solve(context.Background(), p, s, m)
		b, err2 := Solve(context.Background(), p, s, m)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !mat.Equal(a.Network.U, b.Network.U) || !equalBits(a.Network.Alpha, b.Network.Alpha) || a.Objective != b.Objective {
			t.Errorf("%v: two solves with the same seed differ", m)
		}
		for i := range a.History {
			if a.History[i].Objective != b.History[i].Objective {
				t.Fatalf("%v: histories differ at %d", m, i)
			}
		}
		c, _ := Solve(context.Background(), p, &Settings{Seed: 43, Patterns: 20, MaxIterations: 300}, m)
		if c.Objective == a.Objective {
			t.Errorf("%v: another seed gave the same objective", m)
		}
	}
}

func equalBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// TestLinearConvergence: on a well-conditioned problem, plain ADMM (fixed ρ, no
// relaxation, no acceleration) reduces the relative objective gap by a constant factor
// over every block of iterations, until rounding ([BGS] Theorem 3.x; MATH.md §4).
func TestLinearConvergence(t *testing.T) {
	in := readJSON[instance](t, "testdata/golden/relu_squared_n20_d3_P6.json")
	p, arr := in.problem(t)
	ref, err := Solve(context.Background(), p, &Settings{Arrangement: arr, Tolerance: 1e-12, MaxIterations: 20000}, &ADMM{})
	if err != nil {
		t.Fatal(err)
	}
	opt := ref.Certificate.Primal
	plain := &ADMM{FixedRho: true, Relaxation: 1, Anderson: -1, NoPolish: true}
	res, err := Solve(context.Background(), p, &Settings{Arrangement: arr, Tolerance: 1e-14, MaxIterations: 2000, Reference: opt}, plain)
	if err != nil {
		t.Fatal(err)
	}
	const block, factor = 25, 0.8
	blockMax := func(j int) float64 {
		m := 0.0
		for _, it := range res.History[j*block : (j+1)*block] {
			m = math.Max(m, math.Abs(it.Gap))
		}
		return m
	}
	checked := 0
	for j := 1; (j+1)*block <= len(res.History); j++ {
		prev, cur := blockMax(j-1), blockMax(j)
		if prev < 1e-10 {
			break
		}
		if cur > factor*prev {
			t.Errorf("iterations %d–%d: gap %.3g, previous block %.3g: not reduced by %v", j*block+1, (j+1)*block, cur, prev, factor)
		}
		checked++
	}
	if checked < 5 {
		t.Errorf("only %d blocks before the gap reached 1e-10", checked)
	}
	t.Logf("%d blocks of %d iterations each reduced the gap by ≥ %v", checked, block, 1/factor)
}

// TestDefaultsConvergeFromBadRho: residual balancing recovers from a ρ a thousand
// times too small or large, raising or lowering it and refactoring the u-step matrix.
func TestDefaultsConvergeFromBadRho(t *testing.T) {
	in := readJSON[instance](t, "testdata/golden/relu_squared_n40_d4_P12.json")
	p, arr := in.problem(t)
	def, err := Solve(context.Background(), p, &Settings{Arrangement: arr, MaxIterations: 1}, &ADMM{})
	if err != nil {
		t.Fatal(err)
	}
	rho0 := def.History[0].Rho
	for _, k := range []float64{1e-3, 1e3} {
		// (Without polishing, which would end the solve before balancing had to act.)
		res, err := Solve(context.Background(), p, &Settings{Arrangement: arr, Tolerance: 1e-7}, &ADMM{Rho: k * rho0, NoPolish: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != Optimal || math.Abs(res.Objective-in.Reference.Objective) > 1e-5*in.Reference.Objective {
			t.Errorf("ρ₀ = %g: %v, objective %v, want %v", k*rho0, res.Status, res.Objective, in.Reference.Objective)
		}
		// Both directions: ρ used never to decrease (1/rhoChangeFactor was an
		// integer division, 0), so a ρ₀ far too large stayed.
		if res.Factorizations < 2 || (k < 1) != (res.Rho > k*rho0) {
			t.Errorf("ρ₀ = %g: %d factorizations, final ρ %g: balancing did not move ρ towards the default", k*rho0, res.Factorizations, res.Rho)
		}
		t.Logf("ρ₀ = default×%g: %d iterations, %d factorizations, final ρ = default×%.3g", k, res.Iterations, res.Factorizations, res.Rho/rho0)
	}
}

// TestWarmStart: starting from the gated ReLU solution reaches the same optimum.
func TestWarmStart(t *testing.T) {
	for _, loss := range allLosses {
		p := smallProblem(loss, 60, 6)
		arr := mustSample(t, p.X, 10)
		s := &Settings{Arrangement: arr, Tolerance: 1e-6, MaxIterations: 50000}
		cold, err := Solve(context.Background(), p, s, &ADMM{})
		if err != nil {
			t.Fatal(err)
		}
		warm, err := Solve(context.Background(), p, s, &ADMM{WarmStart: true})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(cold.Objective-warm.Objective) > 1e-5*math.Abs(cold.Objective) {
			t.Errorf("%v: cold %v, warm %v", loss, cold.Objective, warm.Objective)
		}
		t.Logf("%v: %d iterations cold, %d warm", loss, cold.Iterations, warm.Iterations)
	}
}

// TestExactProgram solves the exact program (all patterns of rank-3 data): no fresh
// pattern can then violate optimality, the network matches the convex optimum, and
// with a handful of sampled patterns instead the objective is higher and violations
// appear.
func TestExactProgram(t *testing.T) {
	p := smallProblem(Squared, 16, 7)
	res, err := Solve(context.Background(), p, &Settings{Exact: true, Tolerance: 1e-4, MaxIterations: 3000}, &ADMM{})
	if err != nil {
		t.Fatal(err)
	}
	if want := GeneralPositionCount(16, 3); float64(res.Patterns) != want || !res.Arrangement.Exact {
		t.Errorf("%d patterns, want %v", res.Patterns, want)
	}
	v, err := CheckViolations(p, res, 2000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if v.Violating != 0 || v.New != 0 {
		t.Errorf("exact program (gap %.2g): %+v", res.Gap, v)
	}
	few, err := Solve(context.Background(), p, &Settings{Patterns: 3, Tolerance: 1e-8}, &ADMM{})
	if err != nil {
		t.Fatal(err)
	}
	if few.Objective < res.Objective-1e-6*res.Objective {
		t.Errorf("3 patterns: objective %v below the exact optimum %v", few.Objective, res.Objective)
	}
	v, err = CheckViolations(p, few, 2000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if v.Violating == 0 || v.Rate <= 0 || v.MaxRatio <= 1 {
		t.Errorf("3 patterns: no violation found: %+v", v)
	}
	t.Logf("exact optimum %.6g with %d patterns (%d iterations, %v); 3 patterns: %.6g (%d iterations), violation rate %.3f", res.Objective, res.Patterns, res.Iterations, res.Runtime, few.Objective, few.Iterations, v.Rate)
	// SCP results are checked in their own program.
	scp, err := Solve(context.Background(), p, &Settings{Tolerance: 1e-8}, &SCP{Samples: 200})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckViolations(p, scp, 500, 1); err != nil {
		t.Error(err)
	}
	if _, err := CheckViolations(p, &Result{}, 10, 1); err == nil {
		t.Error("result without a dual accepted")
	}
}

// TestZeroSolution: β above the largest dual norm makes zero optimal; ADMM finds it
// and returns the zero network, which predicts 0 everywhere.
func TestZeroSolution(t *testing.T) {
	p := smallProblem(Squared, 40, 8)
	p.Beta = 1e6
	res, err := Solve(context.Background(), p, nil, &ADMM{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != Optimal || res.ActiveNeurons != 0 {
		t.Fatalf("%v with %d neurons", res.Status, res.ActiveNeurons)
	}
	pred, err := res.Network.Predict(p.X)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range pred {
		if v != 0 {
			t.Fatal("zero network predicts nonzero")
		}
	}
	if want := Squared.Value(make([]float64, 40), p.Y); res.Objective != want {
		t.Errorf("objective %v, want %v", res.Objective, want)
	}
}

// TestNoRegularization: β = 0 has no certificate but ADMM still converges on its
// residuals.
func TestNoRegularization(t *testing.T) {
	p := smallProblem(Squared, 40, 9)
	p.Beta = 0
	res, err := Solve(context.Background(), p, &Settings{Patterns: 8, MaxIterations: 20000}, &ADMM{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != Optimal {
		t.Errorf("status %v", res.Status)
	}
	withBeta, _ := Solve(context.Background(), &Problem{X: p.X, Y: p.Y, Loss: Squared, Beta: 1e-3}, &Settings{Patterns: 8, Tolerance: 1e-9, MaxIterations: 20000}, &ADMM{})
	if res.Objective > withBeta.Objective*(1+1e-3) {
		t.Errorf("β = 0 objective %v above the β = 1e-3 one %v", res.Objective, withBeta.Objective)
	}
}

func TestStatusAndLossStrings(t *testing.T) {
	for s := NotTerminated; s <= Failure; s++ {
		if strings.HasPrefix(s.String(), "Status(") {
			t.Errorf("status %d has no name", s)
		}
	}
	if Loss(9).String() != "Loss(9)" || Hinge.String() != "hinge" {
		t.Error("loss names")
	}
}

// TestDegenerateData: a zero feature, repeated rows and all-zero targets are handled.
func TestDegenerateData(t *testing.T) {
	X := mat.NewDense(12, 4, nil)
	for k := 0; k < 12; k++ {
		x := float64(k%6) - 2.5 // every row twice
		X.SetRow(k, []float64{x, 0, x * x / 4, 1})
	}
	for _, loss := range allLosses {
		y := make([]float64, 12)
		for k := range y {
			y[k] = 1
			if k%6 < 2 {
				y[k] = -1
			}
		}
		for _, m := range []Method{&ADMM{}, &ADMM{Slack: true}, &GatedReLU{}, &SCP{Samples: 30}} {
			res, err := Solve(context.Background(), &Problem{X: X, Y: y, Loss: loss, Beta: 0.05}, &Settings{Tolerance: 1e-5, MaxIterations: 20000}, m)
			if err != nil {
				t.Fatalf("%v %v: %v", loss, m, err)
			}
			if math.IsNaN(res.Objective) || math.IsNaN(res.Gap) {
				t.Errorf("%v %v: objective %v, gap %v", loss, m, res.Objective, res.Gap)
			}
			_, fista := m.(*ADMM)
			fista = !fista
			if loss == Hinge && fista {
				// FISTA on the smoothed hinge loss is slow on these duplicated,
				// degenerate features: require progress, not 1e-5.
				if res.Gap > 0.05 {
					t.Errorf("%v %v: gap %v", loss, m, res.Gap)
				}
				continue
			}
			if res.Status != Optimal {
				t.Errorf("%v %v: %v, objective %v", loss, m, res.Status, res.Objective)
			}
		}
	}
	zero := make([]float64, 12)
	res, err := Solve(context.Background(), &Problem{X: X, Y: zero, Loss: Squared, Beta: 0.1}, nil, &ADMM{})
	if err != nil || res.Status != Optimal || res.Objective != 0 || res.ActiveNeurons != 0 {
		t.Errorf("zero targets: %v %v", res, err)
	}
}

// TestReturnsCertifiedPoint: a solve that stops as Optimal returns the point whose
// certificate met the tolerance, not the one before it. (The Anderson safeguard used
// to restore the previous step's output whenever the stopping iteration had started
// from an extrapolated point, undoing that iteration: the returned objective and gap
// then differed from the last History row by 1e-8, and the gap could exceed the
// tolerance.) The two are computed along different product orders, so they agree to
// rounding, not bit for bit.
func TestReturnsCertifiedPoint(t *testing.T) {
	const tol = 1e-6
	cases := []struct {
		m    Method
		loss Loss
		seed uint64
	}{
		{&ADMM{}, Squared, 1}, {&ADMM{}, Squared, 2}, {&ADMM{}, Logistic, 1}, {&ADMM{}, Hinge, 3},
		{&ADMM{Slack: true}, Squared, 1}, {&ADMM{Slack: true}, Logistic, 1},
		{&Adversarial{Epsilon: 0.05}, Squared, 2}, {&Adversarial{Epsilon: 0.05}, Logistic, 2},
	}
	for _, c := range cases {
		p := smallProblem(c.loss, 20, c.seed)
		res, err := Solve(context.Background(), p, &Settings{Patterns: 16, Seed: c.seed, Tolerance: tol, MaxIterations: 20000}, c.m)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != Optimal {
			t.Errorf("%v %v seed %d: %v after %d iterations", c.m, c.loss, c.seed, res.Status, res.Iterations)
			continue
		}
		last := res.History[len(res.History)-1]
		if math.Abs(res.Objective-last.Objective) > 1e-12*math.Abs(last.Objective) || math.Abs(res.Gap-last.DualityGap) > 1e-12 || res.Gap > tol {
			t.Errorf("%v %v seed %d: returned objective %.16g and gap %.6g, certified at iteration %d: %.16g and %.6g",
				c.m, c.loss, c.seed, res.Objective, res.Gap, last.Iteration, last.Objective, last.DualityGap)
		}
	}
}
