package solver

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/gocvx/gocvx/solver/dataset"
)

// ncTestProblem returns a random problem of n points in d dimensions (the last a bias
// column) with targets suited to the loss.
func ncTestProblem(n, d int, loss Loss, beta float64, seed uint64) *Problem {
	r := rand.New(rand.NewPCG(seed, 1))
	X := mat.NewDense(n, d, nil)
	y := make([]float64, n)
	for k := 0; k < n; k++ {
		for i := 0; i < d-1; i++ {
			X.Set(k, i, r.NormFloat64())
		}
		X.Set(k, d-1, 1)
		y[k] = r.NormFloat64()
		if loss.Classification() {
			y[k] = 1
			if X.At(k, 0)*X.At(k, 1%(d-1)) < 0 {
				y[k] = -1
			}
		}
	}
	return &Problem{X: X, Y: y, Loss: loss, Beta: beta}
}

// ncFiniteDifference returns the central-difference gradient of Network.Objective (the
// API's independent evaluation of J) with respect to θ = (vec(U), α).
func ncFiniteDifference(t *testing.T, p *ncParams, prob *Problem, h float64) []float64 {
	t.Helper()
	g := make([]float64, len(p.theta))
	for i := range p.theta {
		orig := p.theta[i]
		p.theta[i] = orig + h
		plus, err := p.network().Objective(prob.X, prob.Y, prob.Loss, prob.Beta)
		if err != nil {
			t.Fatal(err)
		}
		p.theta[i] = orig - h
		minus, _ := p.network().Objective(prob.X, prob.Y, prob.Loss, prob.Beta)
		p.theta[i] = orig
		g[i] = (plus - minus) / (2 * h)
	}
	return g
}

// ncAwayFromKinks reports whether every pre-activation and (for the hinge loss) every
// margin is at least gap away from its kink, so that finite differences with steps
// below gap see a smooth function.
func ncAwayFromKinks(net *Network, prob *Problem, gap float64) bool {
	var Z mat.Dense
	Z.Mul(prob.X, net.U.T())
	n, m := Z.Dims()
	for k := 0; k < n; k++ {
		f := 0.0
		for j := 0; j < m; j++ {
			z := Z.At(k, j)
			if math.Abs(z) < gap {
				return false
			}
			f += math.Max(z, 0) * net.Alpha[j]
		}
		if prob.Loss == Hinge && math.Abs(1-prob.Y[k]*f) < gap {
			return false
		}
	}
	return true
}

func relErr(a, b float64) float64 { return math.Abs(a-b) / math.Max(1, math.Abs(b)) }

// TestBaselineGradient checks the exact gradient of J (full batch and a mini-batch)
// against finite differences of Network.Objective, for every loss.
func TestBaselineGradient(t *testing.T) {
	for _, loss := range []Loss{Squared, Hinge, Logistic} {
		prob := ncTestProblem(9, 4, loss, 0.3, 5)
		var p *ncParams
		for seed := uint64(0); ; seed++ {
			p = ncInit(6, 4, 1.5, seed)
			if ncAwayFromKinks(p.network(), prob, 1e-3) {
				break
			}
		}
		n, d := prob.X.Dims()
		gW := mat.NewDense(d, 6, nil)
		gA := make([]float64, 6)
		var w ncWorkspace
		value, _ := w.lossGradient(p, prob.X, prob.Y, loss, 1, gW, gA)
		want, _ := p.network().Objective(prob.X, prob.Y, loss, prob.Beta)
		if got := value + prob.Beta*ncRegularizer(p.theta); relErr(got, want) > 1e-13 {
			t.Errorf("%v: objective %v, Network.Objective %v", loss, got, want)
		}
		grad := append(append([]float64(nil), gW.RawMatrix().Data...), gA...)
		for i, v := range p.theta {
			grad[i] += prob.Beta * v
		}
		fd := ncFiniteDifference(t, p, prob, 1e-6)
		for i := range grad {
			if relErr(grad[i], fd[i]) > 1e-7 {
				t.Errorf("%v: ∂J/∂θ[%d] = %v, finite difference %v", loss, i, grad[i], fd[i])
			}
		}
		// A mini-batch with scale 1/|B| is the mean of the per-point gradients.
		rows := []int{7, 2, 4}
		Xb := w.gather(prob.X, rows)
		yb := []float64{prob.Y[7], prob.Y[2], prob.Y[4]}
		bW := mat.NewDense(d, 6, nil)
		bA := make([]float64, 6)
		w.lossGradient(p, Xb, yb, loss, 1.0/3, bW, bA)
		sub := &Problem{X: mat.DenseCopyOf(Xb), Y: yb, Loss: loss}
		fdb := ncFiniteDifference(t, p, sub, 1e-6)
		bgrad := append(append([]float64(nil), bW.RawMatrix().Data...), bA...)
		for i := range bgrad {
			if relErr(bgrad[i], fdb[i]/3) > 1e-7 {
				t.Errorf("%v batch: gradient[%d] = %v, finite difference %v", loss, i, bgrad[i], fdb[i]/3)
			}
		}
		_ = n
	}
}

// TestFirstSteps checks one full-batch epoch of SGD and of Adam against the update
// rules applied to a finite-difference gradient: θ₁ = θ₀ − η ∇J/n for SGD, and
// θ₁ = θ₀ − η g/(|g| + ε) with g = ∇J/n for Adam's bias-corrected first step.
func TestFirstSteps(t *testing.T) {
	prob := ncTestProblem(12, 3, Logistic, 0.1, 2)
	n, _ := prob.X.Dims()
	const seed, m, rate = 4, 5, 1e-3
	p0 := ncInit(m, 3, 1, seed)
	fd := ncFiniteDifference(t, p0, prob, 1e-6)
	for _, method := range []Method{&SGD{Neurons: m, LearningRate: rate, Epochs: 1}, &Adam{Neurons: m, LearningRate: rate, Epochs: 1}} {
		res, err := Solve(context.Background(), prob, &Settings{Seed: seed}, method)
		if err != nil {
			t.Fatal(err)
		}
		if res.Iterations != 1 || len(res.History) != 1 || res.Status != IterationLimit {
			t.Fatalf("%v: %d iterations, %d rows, status %v", method, res.Iterations, len(res.History), res.Status)
		}
		got := append(append([]float64(nil), mat.DenseCopyOf(res.Network.U.T()).RawMatrix().Data...), res.Network.Alpha...)
		for i, g := range fd {
			g /= float64(n)
			want := p0.theta[i] - rate*g
			if _, ok := method.(*Adam); ok {
				want = p0.theta[i] - rate*g/(math.Abs(g)+1e-8)
			}
			if math.Abs(got[i]-want) > 1e-9 {
				t.Errorf("%v: θ₁[%d] = %v, want %v", method, i, got[i], want)
			}
		}
		if res.Objective != res.History[0].Objective {
			t.Errorf("%v: result objective %v, epoch objective %v", method, res.Objective, res.History[0].Objective)
		}
		if acc, _ := res.Network.Accuracy(prob.X, prob.Y); acc != res.History[0].TrainAccuracy {
			t.Errorf("%v: recorded accuracy %v, Network.Accuracy %v", method, res.History[0].TrainAccuracy, acc)
		}
	}
}

func ncSameResult(a, b *Result) bool {
	if len(a.History) != len(b.History) || a.Objective != b.Objective {
		return false
	}
	for i := range a.History {
		if math.Float64bits(a.History[i].Objective) != math.Float64bits(b.History[i].Objective) {
			return false
		}
	}
	ra, rb := a.Network.U.RawMatrix().Data, b.Network.U.RawMatrix().Data
	for i := range ra {
		if math.Float64bits(ra[i]) != math.Float64bits(rb[i]) {
			return false
		}
	}
	for i := range a.Network.Alpha {
		if math.Float64bits(a.Network.Alpha[i]) != math.Float64bits(b.Network.Alpha[i]) {
			return false
		}
	}
	return true
}

// TestBaselineReproducible: the same seed gives the same bits, another seed other weights.
func TestBaselineReproducible(t *testing.T) {
	prob := ncTestProblem(40, 3, Hinge, 0.01, 3)
	for _, method := range []Method{
		&SGD{Neurons: 8, LearningRate: 0.05, Momentum: 0.9, BatchSize: 7, Epochs: 15},
		&Adam{Neurons: 8, LearningRate: 0.01, BatchSize: 16, Epochs: 15},
		&PGDTraining{Epsilon: 0.1, Neurons: 8, LearningRate: 0.01, BatchSize: 16, Epochs: 5, Bias: true},
	} {
		a, err := Solve(context.Background(), prob, &Settings{Seed: 11}, method)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Solve(context.Background(), prob, &Settings{Seed: 11}, method)
		c, _ := Solve(context.Background(), prob, &Settings{Seed: 12}, method)
		if !ncSameResult(a, b) {
			t.Errorf("%v: seed 11 twice gave different results", method)
		}
		if ncSameResult(a, c) {
			t.Errorf("%v: seeds 11 and 12 gave the same result", method)
		}
		if a.Method != method.String() || a.ActiveNeurons == 0 || a.ActiveNeurons > 8 {
			t.Errorf("%v: method %q, %d active neurons", method, a.Method, a.ActiveNeurons)
		}
	}
}

// TestPGDTrainingZeroRadius: with ε = 0 PGD training is Adam, bit for bit.
func TestPGDTrainingZeroRadius(t *testing.T) {
	prob := ncTestProblem(30, 3, Logistic, 0.01, 8)
	a, err := Solve(context.Background(), prob, &Settings{Seed: 3}, &Adam{Neurons: 6, LearningRate: 0.01, BatchSize: 8, Epochs: 10})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Solve(context.Background(), prob, &Settings{Seed: 3}, &PGDTraining{Neurons: 6, LearningRate: 0.01, BatchSize: 8, Epochs: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !ncSameResult(a, b) {
		t.Error("PGD training with ε = 0 differs from Adam")
	}
}

// TestBaselineStopping covers every way a baseline run ends.
func TestBaselineStopping(t *testing.T) {
	prob := ncTestProblem(30, 3, Squared, 0.1, 4)
	ctx := context.Background()

	calls := 0
	res, err := Solve(ctx, prob, &Settings{MaxIterations: 7, Recorder: RecorderFunc(func(it Iteration) {
		calls++
		if it.Iteration != calls || !math.IsNaN(it.Gap) || !math.IsNaN(it.TrainAccuracy) {
			t.Errorf("row %d: %+v", calls, it)
		}
	})}, &Adam{Neurons: 4, Epochs: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != IterationLimit || res.Iterations != 7 || len(res.History) != 7 || calls != 7 {
		t.Errorf("MaxIterations 7 below Epochs 50: status %v, %d iterations, %d rows, %d records", res.Status, res.Iterations, len(res.History), calls)
	}
	minObj := math.Inf(1)
	for _, it := range res.History {
		minObj = math.Min(minObj, it.Objective)
	}
	if res.Objective > minObj {
		t.Errorf("result objective %v above the best epoch's %v", res.Objective, minObj)
	}
	// Equal up to rounding: Network.Objective multiplies XUᵀ, training X(Uᵀ) (see ncParams).
	if got, _ := res.Network.Objective(prob.X, prob.Y, prob.Loss, prob.Beta); relErr(got, res.Objective) > 1e-14 {
		t.Errorf("result objective %v, its network's objective %v", res.Objective, got)
	}

	cctx, cancel := context.WithCancel(ctx)
	res, err = Solve(cctx, prob, &Settings{Recorder: RecorderFunc(func(it Iteration) {
		if it.Iteration == 3 {
			cancel()
		}
	})}, &SGD{Neurons: 4, BatchSize: 5, Epochs: 100})
	cancel()
	if err != nil || res.Status != Canceled || res.Iterations != 3 || res.Network == nil {
		t.Errorf("cancel after epoch 3: %v, status %v, %d iterations", err, res.Status, res.Iterations)
	}

	res, _ = Solve(ctx, prob, &Settings{TimeLimit: time.Nanosecond}, &SGD{Neurons: 4})
	if res.Status != TimeLimit || res.Network == nil || math.IsNaN(res.Objective) {
		t.Errorf("time limit: status %v, objective %v", res.Status, res.Objective)
	}

	res, _ = Solve(ctx, prob, &Settings{Tolerance: 1e-4, Reference: 1}, &Adam{Neurons: 4, LearningRate: 0.01, Epochs: 5000})
	if res.Status != Optimal || res.Iterations >= 5000 {
		t.Errorf("tolerance: status %v after %d epochs", res.Status, res.Iterations)
	} else {
		h := res.History
		last, prev := h[len(h)-1].Objective, h[len(h)-2].Objective
		if math.Abs(last-prev) > 1e-4*math.Abs(last) {
			t.Errorf("stopped with relative change %v", math.Abs(last-prev)/last)
		}
		if g := h[len(h)-1].Gap; g != (last-1)/1 {
			t.Errorf("gap %v with reference 1 and objective %v", g, last)
		}
	}

	res, _ = Solve(ctx, prob, nil, &SGD{Neurons: 4, LearningRate: 1e150, Epochs: 20})
	if res.Status != Failure || math.IsInf(res.Objective, 0) || math.IsNaN(res.Objective) {
		t.Errorf("diverging SGD: status %v, objective %v", res.Status, res.Objective)
	}

	for _, bad := range []Method{
		&SGD{LearningRate: -1}, &SGD{Momentum: 1}, &SGD{Neurons: -1}, &Adam{Beta1: 1},
		&Adam{Epsilon: math.NaN()}, &PGDTraining{Epsilon: -0.1}, &PGDTraining{Steps: -1}, &SGD{InitScale: math.Inf(1)},
	} {
		if _, err := Solve(ctx, prob, nil, bad); err == nil || !strings.HasPrefix(err.Error(), "solver: ") {
			t.Errorf("%#v: error %v", bad, err)
		}
	}
}

// TestSolveSeeds: result i is the run with seed base+i.
func TestSolveSeeds(t *testing.T) {
	prob := ncTestProblem(20, 3, Logistic, 0.01, 6)
	method := &Adam{Neurons: 5, LearningRate: 0.01, Epochs: 10}
	runs, err := SolveSeeds(context.Background(), prob, &Settings{Seed: 100}, method, 3)
	if err != nil || len(runs) != 3 {
		t.Fatalf("%d runs, %v", len(runs), err)
	}
	one, _ := Solve(context.Background(), prob, &Settings{Seed: 102}, method)
	if !ncSameResult(runs[2], one) || ncSameResult(runs[0], runs[1]) {
		t.Error("SolveSeeds results do not match single runs with seeds 100, 101, 102")
	}
	if _, err := SolveSeeds(context.Background(), prob, nil, method, 0); err == nil {
		t.Error("SolveSeeds accepted 0 seeds")
	}
}

// TestBaselinesLearn: on the four-blob XOR-like ring (not linearly separable) full-batch
// Adam and mini-batch SGD with momentum reach high training accuracy.
func TestBaselinesLearn(t *testing.T) {
	ds, err := dataset.Blobs(200, 4, 0.25, 1)
	if err != nil {
		t.Fatal(err)
	}
	prob := &Problem{X: dataset.AddBias(ds.X), Y: ds.Y, Loss: Logistic, Beta: 1e-3}
	for _, method := range []Method{
		&Adam{Neurons: 16, LearningRate: 0.05, Epochs: 300},
		&SGD{Neurons: 16, LearningRate: 0.1, Momentum: 0.9, BatchSize: 20, Epochs: 60},
	} {
		res, err := Solve(context.Background(), prob, &Settings{Seed: 1}, method)
		if err != nil {
			t.Fatal(err)
		}
		acc, _ := res.Network.Accuracy(prob.X, prob.Y)
		first := res.History[0].Objective
		if acc < 0.97 || res.Objective > first/5 {
			t.Errorf("%v: accuracy %v, objective %v after epoch 1 and %v at best", method, acc, first, res.Objective)
		}
	}
}

// BenchmarkAdam measures full-batch Adam epochs (one forward and one backward pass and
// an update) and mini-batch SGD epochs on random data of the breast-cancer set's size.
func BenchmarkAdam(b *testing.B) {
	for _, size := range []struct{ n, d, m, batch int }{{569, 31, 125, 0}, {1935, 101, 64, 0}, {569, 31, 125, 32}} {
		prob := ncTestProblem(size.n, size.d, Squared, 1, 1)
		name := "Adam"
		var method Method = &Adam{Neurons: size.m, Epochs: 10}
		if size.batch > 0 {
			name = "SGD"
			method = &SGD{Neurons: size.m, Epochs: 10, BatchSize: size.batch, Momentum: 0.9}
		}
		b.Run(fmt.Sprintf("%s/n=%d/d=%d/m=%d/batch=%d", name, size.n, size.d, size.m, size.batch), func(b *testing.B) {
			for b.Loop() {
				if _, err := Solve(context.Background(), prob, nil, method); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(10*b.N), "µs/epoch")
		})
	}
}
