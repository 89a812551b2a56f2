package solver

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/gocvx/gocvx/internal/testenv"
	"gonum.org/v1/gonum/mat"
)

// advInstance is a robust program in the JSON format of testdata/adversarial_ref.py.
type advInstance struct {
	Program    string      `json:"program"`
	Loss       string      `json:"loss"`
	Beta       float64     `json:"beta"`
	Epsilon    float64     `json:"epsilon"`
	Bias       bool        `json:"bias"`
	Seed       int         `json:"seed,omitempty"`
	X          [][]float64 `json:"X"`
	Y          []float64   `json:"y"`
	Patterns   []string    `json:"patterns"`
	Generators [][]float64 `json:"generators,omitempty"`
	Reference  *struct {
		Objective     float64 `json:"objective"`
		Status        string  `json:"status"`
		Seconds       float64 `json:"seconds"`
		ConeViolation float64 `json:"cone_violation"`
	} `json:"reference,omitempty"`
}

// problem returns the instance's Problem, arrangement and method.
func (in *advInstance) problem(t testing.TB) (*Problem, *Arrangement, *Adversarial) {
	t.Helper()
	p := &Problem{X: denseOf(in.X), Y: in.Y, Loss: lossNamed(t, in.Loss), Beta: in.Beta}
	return p, parsePatterns(t, in.Patterns, in.Generators), &Adversarial{Epsilon: in.Epsilon, Bias: in.Bias}
}

// advData returns n points of d − 1 standard normal features and a bias column, and
// labels (or, for the squared loss, targets) of a random 3-neuron network plus noise.
func advData(n, d int, loss Loss, seed uint64) (*mat.Dense, []float64) {
	r := rand.New(rand.NewPCG(seed, 7))
	X := mat.NewDense(n, d, nil)
	U := mat.NewDense(3, d, nil)
	for j := 0; j < 3; j++ {
		for c := 0; c < d; c++ {
			U.Set(j, c, r.NormFloat64())
		}
	}
	y := make([]float64, n)
	for k := 0; k < n; k++ {
		for c := 0; c < d-1; c++ {
			X.Set(k, c, r.NormFloat64())
		}
		X.Set(k, d-1, 1)
		f := 0.3 * r.NormFloat64()
		for j := 0; j < 3; j++ {
			f += math.Max(0, mat.Dot(X.RowView(k), U.RowView(j))) * float64(1-2*(j%2))
		}
		switch {
		case loss == Squared:
			y[k] = f
		case f >= 0:
			y[k] = 1
		default:
			y[k] = -1
		}
	}
	return X, y
}

// TestWorstLossBruteForce compares the closed-form worst-case losses with a brute-force
// maximization over the vertices of the l∞ ball (the loss of a linear model is convex
// in δ, so its maximum over the box is at a vertex), with and without an unperturbed
// bias coordinate, and checks that random interior points never exceed it.
func TestWorstLossBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, loss := range []Loss{Hinge, Squared, Logistic} {
		for trial := 0; trial < 200; trial++ {
			d := 1 + r.IntN(6)
			dS := d
			if d > 1 && trial%2 == 0 {
				dS = d - 1
			}
			x, a := make([]float64, d), make([]float64, d)
			for c := range x {
				x[c], a[c] = r.NormFloat64(), r.NormFloat64()
			}
			y := float64(1 - 2*r.IntN(2))
			if loss == Squared {
				y = 2 * r.NormFloat64()
			}
			eps := 0.5 * r.Float64()
			t1 := 0.0
			for c := 0; c < dS; c++ {
				t1 += math.Abs(a[c])
			}
			closed := loss.worstLoss(dot(x, a), eps*t1, y)
			brute := math.Inf(-1)
			xd := make([]float64, d)
			for mask := 0; mask < 1<<dS; mask++ {
				copy(xd, x)
				for c := 0; c < dS; c++ {
					if mask>>c&1 == 1 {
						xd[c] += eps
					} else {
						xd[c] -= eps
					}
				}
				brute = math.Max(brute, loss.Value([]float64{dot(xd, a)}, []float64{y}))
			}
			if math.Abs(closed-brute) > 1e-12*(1+brute) {
				t.Fatalf("%v d=%d dS=%d ε=%g: closed form %.15g, vertices %.15g", loss, d, dS, eps, closed, brute)
			}
			for k := 0; k < 20; k++ {
				copy(xd, x)
				for c := 0; c < dS; c++ {
					xd[c] += eps * (2*r.Float64() - 1)
				}
				if v := loss.Value([]float64{dot(xd, a)}, []float64{y}); v > closed*(1+1e-12)+1e-15 {
					t.Fatalf("%v: interior point loss %v exceeds the worst case %v", loss, v, closed)
				}
			}
		}
	}
}

// TestAdversarialGolden solves the committed robust programs (every loss, two sizes,
// three radii, patterns fixed in the files) and compares with cvxopt's interior-point
// optimum recorded by testdata/adversarial_ref.py: within 1e-4 relative, with the
// certificate's dual bound below the optimum, the robust cones satisfied, and the
// recovered network's adversarial objective equal to the convex objective.
func TestAdversarialGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "adversarial", "robust_*.json"))
	if err != nil || len(files) < 6 {
		t.Fatalf("%d golden robust instances (%v), want ≥ 6", len(files), err)
	}
	for _, f := range files {
		in := readJSON[advInstance](t, f)
		t.Run(filepath.Base(f), func(t *testing.T) {
			p, arr, m := in.problem(t)
			ref := in.Reference.Objective
			// The certificate bounds the error: the gap tolerance is below the test's.
			res, err := Solve(context.Background(), p, &Settings{Arrangement: arr, Tolerance: 5e-5, MaxIterations: 100000}, m)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != Optimal {
				t.Errorf("status %v after %d iterations", res.Status, res.Iterations)
			}
			c := res.Certificate
			if rel := math.Abs(c.Primal-ref) / ref; rel > 1e-4 {
				t.Errorf("objective %.10g, cvxopt %.10g: relative difference %.2g", c.Primal, ref, rel)
			}
			if c.Dual > ref*(1+1e-7) {
				t.Errorf("dual bound %.10g exceeds the optimum %.10g", c.Dual, ref)
			}
			if c.ConeViolation > 1e-6 {
				t.Errorf("robust cone violation %.2g", c.ConeViolation)
			}
			if math.Abs(res.Objective-c.Primal) > 1e-6*c.Primal {
				t.Errorf("network's adversarial objective %.10g, convex objective %.10g", res.Objective, c.Primal)
			}
			t.Logf("%d iterations, %v, gap %.2g", res.Iterations, res.Runtime.Round(time.Millisecond), c.Gap)
		})
	}
}

// TestAdversarialLiveCvxopt runs testdata/adversarial_ref.py on two fresh random
// instances (a new seed every run, logged) and compares the optima.
func TestAdversarialLiveCvxopt(t *testing.T) {
	if testing.Short() {
		t.Skip("runs cvxopt")
	}
	python := testenv.RequirePython(t, "cvxopt", "numpy")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 2))
	losses := []Loss{Squared, Hinge, Logistic}
	r.Shuffle(len(losses), func(i, j int) { losses[i], losses[j] = losses[j], losses[i] })
	for _, loss := range losses[:2] {
		n, d, pats := 15+r.IntN(15), 3+r.IntN(2), 4+r.IntN(4)
		X, y := advData(n, d, loss, r.Uint64())
		arr, err := SampleArrangement(X, pats, r.Uint64())
		if err != nil {
			t.Fatal(err)
		}
		eps := 0.02 + 0.15*r.Float64()
		p := &Problem{X: X, Y: y, Loss: loss, Beta: 0.05 + 0.2*r.Float64()}
		in := &advInstance{Program: "robust", Loss: loss.String(), Beta: p.Beta, Epsilon: eps, Bias: true, Y: y,
			X: matrixRows(X), Patterns: patternStrings(arr)}
		var ref reference
		runReference(t, python, "adversarial_ref.py", in, &ref)
		res, err := Solve(context.Background(), p, &Settings{Arrangement: arr, Tolerance: 2e-5, MaxIterations: 100000},
			&Adversarial{Epsilon: eps, Bias: true})
		if err != nil {
			t.Fatal(err)
		}
		rel := math.Abs(res.Certificate.Primal-ref.Objective) / ref.Objective
		t.Logf("%v n=%d d=%d P=%d β=%.3f ε=%.3f: ADMM %.10g (%v, %d iterations), cvxopt %.10g (%s), relative difference %.2g",
			loss, n, d, arr.Len(), p.Beta, eps, res.Certificate.Primal, res.Status, res.Iterations, ref.Objective, ref.Status, rel)
		if rel > 1e-4 {
			t.Errorf("%v: ADMM %.10g, cvxopt %.10g", loss, res.Certificate.Primal, ref.Objective)
		}
	}
}

// TestAdversarialUpperBound checks the property of the formulation: the robust
// objective bounds the recovered network's true adversarial objective from above, so
// no attack on the training points beats it. PGD (random starts, many steps) on the
// network trained at ε must not exceed it; and since the robust constraints keep the
// network linear on every ball, PGD's sign steps reach the worst vertex, so the bound
// is also nearly attained.
func TestAdversarialUpperBound(t *testing.T) {
	for i, loss := range []Loss{Hinge, Logistic, Squared} {
		X, y := advData(60, 4, loss, uint64(20+i))
		p := &Problem{X: X, Y: y, Loss: loss, Beta: 0.1}
		const eps = 0.1
		res, err := Solve(context.Background(), p, &Settings{Patterns: 16, Seed: 3, Tolerance: 1e-6}, &Adversarial{Epsilon: eps, Bias: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.ActiveNeurons == 0 {
			t.Fatalf("%v: the robust network is zero; the bound is trivial", loss)
		}
		atk := &PGD{Steps: 40, RandomStart: true, Restarts: 3, Seed: 5, Bias: true}
		Xadv, err := atk.Perturb(res.Network, X, y, loss, eps)
		if err != nil {
			t.Fatal(err)
		}
		adv, err := res.Network.Objective(Xadv, y, loss, p.Beta)
		if err != nil {
			t.Fatal(err)
		}
		robust := res.Certificate.Primal
		t.Logf("%v: robust objective %.8g, PGD adversarial objective %.8g (%d neurons, gap %.1e)", loss, robust, adv, res.ActiveNeurons, res.Gap)
		if adv > robust*(1+1e-6) {
			t.Errorf("%v: PGD reaches %.10g above the robust objective %.10g", loss, adv, robust)
		}
		if adv < robust*(1-1e-3) {
			t.Errorf("%v: PGD reaches only %.10g of the robust objective %.10g (the network should be linear on every ball)", loss, adv, robust)
		}
		// The clean objective is smaller still, and the standard program's optimum on
		// the same patterns is smaller than the robust one.
		clean, _ := res.Network.Objective(X, y, loss, p.Beta)
		std, err := Solve(context.Background(), p, &Settings{Patterns: 16, Seed: 3, Tolerance: 1e-6}, &ADMM{})
		if err != nil {
			t.Fatal(err)
		}
		if clean > adv+1e-9 || std.Objective > robust*(1+1e-5) {
			t.Errorf("%v: clean %v, PGD %v, standard optimum %v, robust %v", loss, clean, adv, std.Objective, robust)
		}
	}
}

// TestAdversarialZeroEpsilon checks that ε = 0 reproduces the standard program's
// optimum (solved by ADMM on the same patterns).
func TestAdversarialZeroEpsilon(t *testing.T) {
	for i, loss := range []Loss{Squared, Hinge, Logistic} {
		X, y := advData(40, 4, loss, uint64(30+i))
		p := &Problem{X: X, Y: y, Loss: loss, Beta: 0.1}
		arr, err := SampleArrangement(X, 10, 4)
		if err != nil {
			t.Fatal(err)
		}
		s := &Settings{Arrangement: arr, Tolerance: 1e-7, MaxIterations: 100000}
		std, err := Solve(context.Background(), p, s, &ADMM{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := Solve(context.Background(), p, s, &Adversarial{Bias: true})
		if err != nil {
			t.Fatal(err)
		}
		rel := math.Abs(res.Objective-std.Objective) / std.Objective
		t.Logf("%v: ADMM %.10g (%d iterations), adversarial at ε = 0 %.10g (%d iterations)", loss, std.Objective, std.Iterations, res.Objective, res.Iterations)
		if res.Status != Optimal || rel > 1e-5 {
			t.Errorf("%v: %v, objective %.10g, standard %.10g (relative difference %.2g)", loss, res.Status, res.Objective, std.Objective, rel)
		}
	}
}

// TestAdversarialInfeasible checks the Infeasible status: without a bias column and
// with ε beyond every pattern's robust capacity only the zero network is feasible.
// The capacity itself is compared with a brute-force search over directions.
func TestAdversarialInfeasible(t *testing.T) {
	X, y := advData(30, 3, Hinge, 40)
	Xn := mat.DenseCopyOf(X.Slice(0, 30, 0, 2)) // no bias column
	p := &Problem{X: Xn, Y: y, Loss: Hinge, Beta: 0.1}
	arr, err := SampleArrangement(Xn, 12, 1)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := newProgram(p, arr)
	if err != nil {
		t.Fatal(err)
	}
	// Brute force in d = 2: the capacity is max over unit-l1 directions v of
	// minₖ sₖxₖᵀv; the maximum of a concave function on the l1 circle, sampled finely.
	largest := 0.0
	for i := 0; i < arr.Len(); i++ {
		capacity := robustCapacity(pr, i, 2)
		brute := math.Inf(-1)
		for s := 0; s < 20000; s++ {
			th := 2 * math.Pi * float64(s) / 20000
			v := []float64{math.Cos(th), math.Sin(th)}
			l1 := math.Abs(v[0]) + math.Abs(v[1])
			m := math.Inf(1)
			for k := 0; k < 30; k++ {
				m = math.Min(m, pr.sign[k*pr.P+i]*dot(pr.x[k*2:k*2+2], v)/l1)
			}
			brute = math.Max(brute, m)
		}
		if capacity < brute-1e-9 || capacity > brute+1e-3 {
			t.Errorf("pattern %d: capacity %v, brute force %v", i, capacity, brute)
		}
		largest = math.Max(largest, capacity)
	}
	res, err := Solve(context.Background(), p, &Settings{Arrangement: arr}, &Adversarial{Epsilon: 1.5 * largest})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != Infeasible || res.Network.Neurons() != 0 || res.Objective != 30 {
		t.Errorf("ε = 1.5 × the largest capacity: status %v, %d neurons, objective %v; want infeasible, the zero network, 30",
			res.Status, res.Network.Neurons(), res.Objective)
	}
	res, err = Solve(context.Background(), p, &Settings{Arrangement: arr}, &Adversarial{Epsilon: 0.5 * largest})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status == Infeasible {
		t.Errorf("ε = half the largest capacity reported infeasible")
	}
	// With a bias column the all-active pattern always admits a robust (linear)
	// neuron: never infeasible.
	pb := &Problem{X: X, Y: y, Loss: Hinge, Beta: 0.1}
	res, err = Solve(context.Background(), pb, &Settings{Patterns: 12, Seed: 1}, &Adversarial{Epsilon: 100, Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status == Infeasible && hasAllActive(res.Arrangement) {
		t.Errorf("bias column and the all-active pattern: reported infeasible")
	}
}

func hasAllActive(a *Arrangement) bool {
	for i := 0; i < a.Len(); i++ {
		if a.ActiveCount(i) == a.Points() {
			return true
		}
	}
	return false
}

// TestAdversarialCancel checks that a cancelled solve returns promptly with Status
// Canceled and the point so far, and that the Recorder sees every iteration.
func TestAdversarialCancel(t *testing.T) {
	X, y := advData(50, 4, Logistic, 50)
	p := &Problem{X: X, Y: y, Loss: Logistic, Beta: 0.1}
	ctx, cancel := context.WithCancel(context.Background())
	var rows []Iteration
	rec := RecorderFunc(func(it Iteration) {
		rows = append(rows, it)
		if it.Iteration == 25 {
			cancel()
		}
	})
	res, err := Solve(ctx, p, &Settings{Recorder: rec, Tolerance: 1e-12}, &Adversarial{Epsilon: 0.05, Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != Canceled || res.Iterations != 25 || len(res.History) != 25 || len(rows) != 25 {
		t.Fatalf("status %v after %d iterations, %d history rows, %d recorded", res.Status, res.Iterations, len(res.History), len(rows))
	}
	if res.Network.Neurons() == 0 || math.IsNaN(res.Objective) {
		t.Errorf("no point returned: %d neurons, objective %v", res.Network.Neurons(), res.Objective)
	}
	for i, it := range rows {
		if it.Iteration != i+1 || it.Patterns != res.Patterns || it.Rho <= 0 {
			t.Fatalf("row %d: %+v", i, it)
		}
		if (it.Iteration%advCheckEvery == 0) == math.IsNaN(it.DualityGap) {
			t.Fatalf("row %d: duality gap %v", i, it.DualityGap)
		}
	}
	// Cancelled before the first iteration.
	res, err = Solve(ctx, p, nil, &Adversarial{Epsilon: 0.05})
	if err != nil || res.Status != Canceled {
		t.Fatalf("pre-cancelled: %v, %v", res, err)
	}
}

// TestAdversarialDeterminism checks that the same seed gives the same bits.
func TestAdversarialDeterminism(t *testing.T) {
	X, y := advData(40, 3, Hinge, 60)
	p := &Problem{X: X, Y: y, Loss: Hinge, Beta: 0.1}
	s := &Settings{Patterns: 8, Seed: 9, MaxIterations: 300}
	a, err := Solve(context.Background(), p, s, &Adversarial{Epsilon: 0.1, Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Solve(context.Background(), p, s, &Adversarial{Epsilon: 0.1, Bias: true})
	if !mat.Equal(a.V, b.V) || !mat.Equal(a.W, b.W) || a.Objective != b.Objective {
		t.Error("two solves with the same seed differ")
	}
}

// TestAdversarialInvalid checks the errors for bad settings.
func TestAdversarialInvalid(t *testing.T) {
	X, y := advData(10, 3, Hinge, 1)
	p := &Problem{X: X, Y: y, Loss: Hinge, Beta: 0.1}
	for _, m := range []*Adversarial{
		{Epsilon: -1}, {Epsilon: math.NaN()}, {Epsilon: math.Inf(1)}, {Rho: -1}, {Relaxation: 2},
	} {
		if _, err := Solve(context.Background(), p, nil, m); err == nil {
			t.Errorf("%+v: no error", *m)
		}
	}
	p1 := &Problem{X: mat.NewDense(3, 1, []float64{1, 2, 3}), Y: []float64{1, -1, 1}, Loss: Hinge}
	if _, err := Solve(context.Background(), p1, nil, &Adversarial{Bias: true}); err == nil {
		t.Error("Bias with one column: no error")
	}
}

// TestRobustnessCurve checks the curves for the notebooks: the clean accuracy is the
// network's, the attacked one never exceeds it (RobustAccuracy counts a point only
// when both are right), a method that ignores ε is trained once, and the robustly
// trained network beats the standard one under attack at a large radius.
func TestRobustnessCurve(t *testing.T) {
	X, y := advData(200, 4, Hinge, 70)
	// The first 120 points train, the other 80 test (the same network labels both).
	Xt, yt := mat.DenseCopyOf(X.Slice(120, 200, 0, 4)), y[120:]
	X, y = mat.DenseCopyOf(X.Slice(0, 120, 0, 4)), y[:120]
	p := &Problem{X: X, Y: y, Loss: Hinge, Beta: 0.1}
	eps := []float64{0, 0.1, 0.3}
	atk := &PGD{Steps: 20, RandomStart: true, Seed: 1, Bias: true}
	s := &Settings{Patterns: 32, Seed: 2, MaxIterations: 500}
	std := &ADMM{}
	plain, err := RobustnessCurve(context.Background(), p, Xt, yt, eps, s, func(float64) Method { return std }, atk)
	if err != nil {
		t.Fatal(err)
	}
	robust, err := RobustnessCurve(context.Background(), p, Xt, yt, eps, s,
		func(e float64) Method { return &Adversarial{Epsilon: e, Bias: true} }, atk)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("standard: clean %v, PGD %v", plain.Clean, plain.Adversarial)
	t.Logf("robust:   clean %v, PGD %v", robust.Clean, robust.Adversarial)
	for _, c := range []*RobustCurve{plain, robust} {
		if len(c.Epsilon) != 3 || len(c.Clean) != 3 || len(c.Adversarial) != 3 || len(c.Runtime) != 3 || len(c.Status) != 3 {
			t.Fatalf("%s: lengths %d %d %d %d %d", c.Method, len(c.Epsilon), len(c.Clean), len(c.Adversarial), len(c.Runtime), len(c.Status))
		}
		for i := range c.Epsilon {
			if c.Adversarial[i] > c.Clean[i] {
				t.Errorf("%s ε=%g: attacked %v above clean %v", c.Method, c.Epsilon[i], c.Adversarial[i], c.Clean[i])
			}
		}
		if c.Clean[0] != c.Adversarial[0] {
			t.Errorf("%s: at ε = 0 attacked %v ≠ clean %v", c.Method, c.Adversarial[0], c.Clean[0])
		}
	}
	if plain.Runtime[0] != plain.Runtime[2] || plain.Clean[0] != plain.Clean[2] || plain.Method != "ADMM" {
		t.Errorf("a method independent of ε was retrained: %v, %v", plain.Runtime, plain.Clean)
	}
	if robust.Method != "convex adversarial" {
		t.Errorf("method %q", robust.Method)
	}
	if robust.Adversarial[2] <= plain.Adversarial[2] {
		t.Errorf("at ε = 0.3 the robust network's attacked accuracy %v is not above the standard one's %v", robust.Adversarial[2], plain.Adversarial[2])
	}
	net, _ := Solve(context.Background(), p, s, &Adversarial{Epsilon: 0.1, Bias: true})
	if acc, _ := net.Network.Accuracy(Xt, yt); acc != robust.Clean[1] {
		t.Errorf("clean accuracy %v, the network's %v", robust.Clean[1], acc)
	}
	if _, err := RobustnessCurve(context.Background(), p, Xt, yt, []float64{-1}, s, func(float64) Method { return std }, atk); err == nil {
		t.Error("negative radius: no error")
	}
	if _, err := RobustnessCurve(context.Background(), p, Xt, yt, eps, s, func(float64) Method { return std }, nil); err == nil {
		t.Error("nil attack: no error")
	}
}

// BenchmarkAdversarial times 50 iterations of convex adversarial training on synthetic
// data with a bias column, hinge loss, ε = 0.1 and robust patterns from P directions.
func BenchmarkAdversarial(b *testing.B) {
	for _, size := range []struct{ n, d, p int }{{200, 10, 32}, {500, 31, 32}} {
		X, y := advData(size.n, size.d, Hinge, 1)
		p := &Problem{X: X, Y: y, Loss: Hinge, Beta: 0.002 * float64(size.n)}
		arr, err := SampleRobustArrangement(X, size.p, 1, 0.1, true)
		if err != nil {
			b.Fatal(err)
		}
		s := &Settings{Arrangement: arr, MaxIterations: 50, Tolerance: 1e-12}
		b.Run(fmt.Sprintf("n=%d/d=%d/P=%d", size.n, size.d, arr.Len()), func(b *testing.B) {
			for b.Loop() {
				if _, err := Solve(context.Background(), p, s, &Adversarial{Epsilon: 0.1, Bias: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
