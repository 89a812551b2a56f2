package solver

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// atkTestNetwork returns a random network of m neurons on inputs (x₁, x₂, 1).
func atkTestNetwork(m int, seed uint64) *Network {
	r := rand.New(rand.NewPCG(seed, 2))
	U := mat.NewDense(m, 3, nil)
	alpha := make([]float64, m)
	for j := 0; j < m; j++ {
		for i := 0; i < 3; i++ {
			U.Set(j, i, r.NormFloat64())
		}
		alpha[j] = r.NormFloat64()
	}
	return &Network{U: U, Alpha: alpha}
}

// TestAttackGradient checks the exact input gradient of the attack objective against
// finite differences, for the margin (classification) and the squared loss.
func TestAttackGradient(t *testing.T) {
	net := atkTestNetwork(7, 1)
	prob := ncTestProblem(20, 3, Hinge, 0, 9)
	for _, loss := range []Loss{Logistic, Hinge, Squared} {
		y := prob.Y
		if loss == Squared {
			y = make([]float64, len(y))
			for k := range y {
				y[k] = 0.3 * float64(k%5)
			}
		}
		phi, grad := atkObjective(net, prob.X, y, loss)
		const h = 1e-6
		for k := 0; k < 20; k++ {
			if !ncAwayFromKinks(net, &Problem{X: mat.NewDense(1, 3, prob.X.RawRowView(k)), Y: y[k : k+1], Loss: Squared}, 1e-3) {
				continue
			}
			for i := 0; i < 3; i++ {
				x := mat.DenseCopyOf(prob.X.Slice(k, k+1, 0, 3))
				x.Set(0, i, prob.X.At(k, i)+h)
				plus, _ := atkObjective(net, x, y[k:k+1], loss)
				x.Set(0, i, prob.X.At(k, i)-h)
				minus, _ := atkObjective(net, x, y[k:k+1], loss)
				fd := (plus[0] - minus[0]) / (2 * h)
				if relErr(grad.At(k, i), fd) > 1e-7 {
					t.Errorf("%v point %d: ∂φ/∂x%d = %v, finite difference %v", loss, k, i, grad.At(k, i), fd)
				}
			}
			// φ is the margin or the squared loss of the network's prediction.
			f, _ := net.Predict(prob.X.Slice(k, k+1, 0, 3).(*mat.Dense))
			want := -y[k] * f[0]
			if loss == Squared {
				want = 0.5 * (f[0] - y[k]) * (f[0] - y[k])
			}
			if relErr(phi[k], want) > 1e-14 {
				t.Errorf("%v point %d: φ = %v, want %v", loss, k, phi[k], want)
			}
		}
	}
}

// TestFGSM: every free coordinate moves by exactly ±ε (or stays, where the gradient is
// zero), in the direction of the gradient's sign; the bias column and the box are kept.
func TestFGSM(t *testing.T) {
	net := atkTestNetwork(5, 3)
	prob := ncTestProblem(30, 3, Logistic, 0, 2)
	const eps = 0.2
	_, grad := atkObjective(net, prob.X, prob.Y, Logistic)
	Xadv, err := (&FGSM{Bias: true}).Perturb(net, prob.X, prob.Y, Logistic, eps)
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 30; k++ {
		for i := 0; i < 3; i++ {
			want := prob.X.At(k, i)
			if g := grad.At(k, i); i < 2 && g != 0 {
				want += eps * math.Copysign(1, g)
			}
			if Xadv.At(k, i) != want {
				t.Fatalf("point %d coordinate %d: %v, want %v", k, i, Xadv.At(k, i), want)
			}
		}
	}
	boxed, _ := (&FGSM{Min: -0.5, Max: 0.5, Bias: true}).Perturb(net, prob.X, prob.Y, Logistic, eps)
	for k := 0; k < 30; k++ {
		for i := 0; i < 2; i++ {
			v, x0 := boxed.At(k, i), prob.X.At(k, i)
			inBall := math.Abs(v-x0) <= eps+1e-15
			if math.Abs(x0) <= 0.5+eps && (v < -0.5 || v > 0.5 || !inBall) || math.Abs(x0) > 0.5+eps && v != x0 {
				t.Fatalf("boxed point %d coordinate %d: %v from %v", k, i, v, x0)
			}
		}
	}
	if _, err := (&FGSM{}).Perturb(net, prob.X, prob.Y, Logistic, -1); err == nil || !strings.HasPrefix(err.Error(), "solver: ") {
		t.Errorf("negative radius: error %v", err)
	}
	if _, err := (&FGSM{}).Perturb(net, mat.NewDense(2, 4, nil), []float64{1, -1}, Logistic, 0.1); err == nil {
		t.Error("FGSM accepted 4 columns for a 3-input network")
	}
}

// atkExactMax returns max φ(x) over the box [x₀ − ε, x₀ + ε]² for a network on inputs
// (x₁, x₂, 1). On each cell of the arrangement of the lines {x : (x, 1)ᵀuⱼ = 0} the
// network is affine, so the margin is affine and the squared loss convex there; either
// way the maximum over a cell is attained at one of its vertices, which are the box's
// corners, the lines' crossings with the box's edges and the lines' pairwise crossings
// inside the box. The maximum over all these points is the exact maximum.
func atkExactMax(net *Network, x0 []float64, y float64, loss Loss, eps float64) float64 {
	lo := []float64{x0[0] - eps, x0[1] - eps}
	hi := []float64{x0[0] + eps, x0[1] + eps}
	inside := func(p [2]float64) bool {
		const slack = 1e-12
		return p[0] >= lo[0]-slack && p[0] <= hi[0]+slack && p[1] >= lo[1]-slack && p[1] <= hi[1]+slack
	}
	cands := [][2]float64{{lo[0], lo[1]}, {lo[0], hi[1]}, {hi[0], lo[1]}, {hi[0], hi[1]}}
	m := net.Neurons()
	for j := 0; j < m; j++ {
		a, b, c := net.U.At(j, 0), net.U.At(j, 1), net.U.At(j, 2)
		for _, x := range []float64{lo[0], hi[0]} {
			if b != 0 {
				if p := [2]float64{x, -(a*x + c) / b}; inside(p) {
					cands = append(cands, p)
				}
			}
		}
		for _, yy := range []float64{lo[1], hi[1]} {
			if a != 0 {
				if p := [2]float64{-(b*yy + c) / a, yy}; inside(p) {
					cands = append(cands, p)
				}
			}
		}
		for l := j + 1; l < m; l++ {
			a2, b2, c2 := net.U.At(l, 0), net.U.At(l, 1), net.U.At(l, 2)
			det := a*b2 - a2*b
			if det == 0 {
				continue
			}
			if p := [2]float64{(-c*b2 + c2*b) / det, (-a*c2 + a2*c) / det}; inside(p) {
				cands = append(cands, p)
			}
		}
	}
	X := mat.NewDense(len(cands), 3, nil)
	for i, p := range cands {
		X.SetRow(i, []float64{p[0], p[1], 1})
	}
	ys := make([]float64, len(cands))
	for i := range ys {
		ys[i] = y
	}
	phi, _ := atkObjective(net, X, ys, loss)
	best := math.Inf(-1)
	for _, v := range phi {
		best = math.Max(best, v)
	}
	return best
}

// atkGridMax returns max φ over a (g+1)×(g+1) grid of the box.
func atkGridMax(net *Network, x0 []float64, y float64, loss Loss, eps float64, g int) float64 {
	X := mat.NewDense((g+1)*(g+1), 3, nil)
	for a := 0; a <= g; a++ {
		for b := 0; b <= g; b++ {
			X.SetRow(a*(g+1)+b, []float64{x0[0] - eps + 2*eps*float64(a)/float64(g), x0[1] - eps + 2*eps*float64(b)/float64(g), 1})
		}
	}
	ys := make([]float64, (g+1)*(g+1))
	for i := range ys {
		ys[i] = y
	}
	phi, _ := atkObjective(net, X, ys, loss)
	best := math.Inf(-1)
	for _, v := range phi {
		best = math.Max(best, v)
	}
	return best
}

// TestPGDWorstCase shows the attack is strong enough to trust on tiny cases: on 2-D
// networks PGD's objective comes within one step's worth of the maximum over a dense
// grid of the l∞ ball, and never exceeds the exact maximum (vertex enumeration).
//
// One step's worth: near a maximum on a kink, sign steps of size η oscillate across it,
// so the best iterate can fall short by up to G·η with G = max ‖∇ₓφ‖₁ over the ball
// (bounded by Σⱼ |αⱼ| (|uⱼ₁| + |uⱼ₂|), times max |f − y| = √(2·max φ) for the squared
// loss). The margin's landscape has several local maxima (the objective is not
// concave), which the random restarts are there to escape.
func TestPGDWorstCase(t *testing.T) {
	const eps, grid, steps = 0.3, 200, 100
	const stepSize = eps / 50
	attack := &PGD{Steps: steps, StepSize: stepSize, RandomStart: true, Restarts: 20, Seed: 1, Bias: true}
	worst, worstStep := 0.0, 0.0
	for seed := uint64(0); seed < 6; seed++ {
		net := atkTestNetwork(6, 10+seed)
		g1 := 0.0
		for j, a := range net.Alpha {
			g1 += math.Abs(a) * (math.Abs(net.U.At(j, 0)) + math.Abs(net.U.At(j, 1)))
		}
		prob := ncTestProblem(10, 3, Logistic, 0, 20+seed)
		for _, loss := range []Loss{Logistic, Squared} {
			Xadv, err := attack.Perturb(net, prob.X, prob.Y, loss, eps)
			if err != nil {
				t.Fatal(err)
			}
			phi, _ := atkObjective(net, Xadv, prob.Y, loss)
			for k := 0; k < 10; k++ {
				x0 := prob.X.RawRowView(k)
				if d := mat.Norm(mat.NewVecDense(3, floats3Sub(Xadv.RawRowView(k), x0)), math.Inf(1)); d > eps+1e-12 || Xadv.At(k, 2) != 1 {
					t.Fatalf("point %d: perturbation of l∞ norm %v, bias %v", k, d, Xadv.At(k, 2))
				}
				exact := atkExactMax(net, x0, prob.Y[k], loss, eps)
				gridMax := atkGridMax(net, x0, prob.Y[k], loss, eps, grid)
				round := 1e-12 * math.Max(1, math.Abs(exact))
				if gridMax > exact+round || phi[k] > exact+round {
					t.Errorf("net %d %v point %d: grid %v or PGD %v above the exact maximum %v", seed, loss, k, gridMax, phi[k], exact)
				}
				g := g1
				if loss == Squared {
					g *= math.Sqrt(2 * exact)
				}
				if gridMax-phi[k] > g*stepSize {
					t.Errorf("net %d %v point %d: PGD reaches %v, the grid %v (exact %v), more than G·η = %v below",
						seed, loss, k, phi[k], gridMax, exact, g*stepSize)
				}
				worst = math.Max(worst, exact-phi[k])
				worstStep = math.Max(worstStep, (exact-phi[k])/(g*stepSize))
			}
		}
	}
	t.Logf("largest shortfall of PGD below the exact maximum: %.2g (%.2g of G·η)", worst, worstStep)
}

func floats3Sub(a, b []float64) []float64 { return []float64{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }

// TestRobustAccuracy: with ε = 0 it is the clean accuracy; on 2-D networks PGD's robust
// accuracy equals the exact one (a point is robust when the exact worst margin is
// positive) and FGSM's is never below it.
func TestRobustAccuracy(t *testing.T) {
	net := atkTestNetwork(6, 31)
	prob := ncTestProblem(60, 3, Logistic, 0, 32)
	clean, _ := net.Accuracy(prob.X, prob.Y)
	for _, a := range []Attack{&FGSM{Bias: true}, &PGD{Bias: true}} {
		if acc, err := RobustAccuracy(net, prob.X, prob.Y, 0, a); err != nil || acc != clean {
			t.Errorf("%T at ε = 0: %v (%v), clean accuracy %v", a, acc, err, clean)
		}
	}
	for _, eps := range []float64{0.05, 0.2, 0.5} {
		exact := 0
		for k := 0; k < 60; k++ {
			// −y f(x) < 0 everywhere on the ball; f = 0 counts as +1, so for y = +1 the
			// worst margin may be 0 and still correct.
			worst := atkExactMax(net, prob.X.RawRowView(k), prob.Y[k], Logistic, eps)
			if worst < 0 || (worst == 0 && prob.Y[k] > 0) {
				exact++
			}
		}
		want := float64(exact) / 60
		pgd, _ := RobustAccuracy(net, prob.X, prob.Y, eps, &PGD{Steps: 40, RandomStart: true, Restarts: 3, Seed: 2, Bias: true})
		fgsm, _ := RobustAccuracy(net, prob.X, prob.Y, eps, &FGSM{Bias: true})
		if pgd != want || fgsm < want || pgd > clean {
			t.Errorf("ε = %v: PGD %v, FGSM %v, exact %v, clean %v", eps, pgd, fgsm, want, clean)
		}
	}
	if _, err := RobustAccuracy(net, prob.X, prob.Y, 0.1, nil); err == nil {
		t.Error("RobustAccuracy accepted a nil attack")
	}
}

// TestPGDReproducible: the same seed gives the same points, another seed other points.
func TestPGDReproducible(t *testing.T) {
	net := atkTestNetwork(5, 41)
	prob := ncTestProblem(20, 3, Logistic, 0, 42)
	a, _ := (&PGD{RandomStart: true, Seed: 5}).Perturb(net, prob.X, prob.Y, Logistic, 0.3)
	b, _ := (&PGD{RandomStart: true, Seed: 5}).Perturb(net, prob.X, prob.Y, Logistic, 0.3)
	c, _ := (&PGD{RandomStart: true, Seed: 6}).Perturb(net, prob.X, prob.Y, Logistic, 0.3)
	if !mat.Equal(a, b) || mat.Equal(a, c) {
		t.Error("PGD random starts are not reproducible by seed")
	}
}

// BenchmarkPGD measures a 20-step PGD attack on MNIST-sized data (n = 1935 images of
// 10×10 pixels plus a bias) against a network of 64 neurons.
func BenchmarkPGD(b *testing.B) {
	const n, d, m = 1935, 101, 64
	prob := ncTestProblem(n, d, Logistic, 0, 1)
	net := ncInit(m, d, 1, 1).network()
	b.Run(fmt.Sprintf("n=%d/d=%d/m=%d/steps=20", n, d, m), func(b *testing.B) {
		for b.Loop() {
			if _, err := (&PGD{RandomStart: true, Bias: true}).Perturb(net, prob.X, prob.Y, Logistic, 0.1); err != nil {
				b.Fatal(err)
			}
		}
	})
}
