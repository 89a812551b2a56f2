package solver

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// An Attack perturbs inputs within an l∞ ball to increase a network's loss; it
// evaluates the robustness of any two-layer ReLU network (convex, adversarially
// trained or back-propagation trained) through RobustAccuracy.
//
// Perturb returns points x′ₖ with ‖x′ₖ − xₖ‖∞ ≤ ε that try to maximize the loss of net
// at (x′ₖ, yₖ). For the classification losses it maximizes the negative margin
// −yₖ f(x′ₖ): Hinge and Logistic are nonincreasing functions of the margin, so a point
// of least margin maximizes both, and unlike the hinge loss the margin's gradient does
// not vanish at points classified with margin above 1. For Squared it maximizes
// ½(f(x′ₖ) − yₖ)².
type Attack interface {
	Perturb(net *Network, X *mat.Dense, y []float64, loss Loss, epsilon float64) (*mat.Dense, error)
}

// FGSM is the fast gradient sign method (Goodfellow et al. 2015) under l∞:
// x′ = x + ε sign(∇ₓφ(x)) for the attack objective φ (see Attack), clipped to the box.
type FGSM struct {
	// Min and Max bound every perturbed coordinate (pixels: 0 and 1); the box applies
	// when Max > Min, so the zero value means no box.
	Min, Max float64
	// Bias leaves the last column of X unperturbed: the bias column of ones
	// (dataset.AddBias), which is not part of the input.
	Bias bool
}

// PGD is projected gradient ascent with sign steps under l∞ (Madry et al. 2018):
//
//	x ← Π(x + η sign(∇ₓφ(x)))
//
// where Π projects onto the ball ‖x − x₀‖∞ ≤ ε intersected with the box. It keeps, for
// every point, the iterate of largest attack objective φ (see Attack) over all steps
// and restarts; with RandomStart false the unperturbed point is one of them.
type PGD struct {
	// Steps is the number of gradient steps; zero means 20.
	Steps int
	// StepSize is η; zero means 2.5ε/Steps (Madry et al.'s choice: enough to cross
	// the ball from a corner with room for course corrections).
	StepSize float64
	// RandomStart starts from a uniform point of the ball instead of x₀.
	RandomStart bool
	// Restarts is the number of runs from independent random starts (the first run
	// starts at x₀ when RandomStart is false); zero means 1.
	Restarts int
	// Seed seeds the random starts; the same seed gives the same bits.
	Seed uint64
	// Min and Max bound every perturbed coordinate; the box applies when Max > Min.
	Min, Max float64
	// Bias leaves the last column of X (the bias column of ones) unperturbed.
	Bias bool
}

// defaultPGDSteps: 20 steps of 2.5ε/20 reach any point of the ball; more steps
// rarely change the accuracy of the small networks of the notebooks.
const defaultPGDSteps = 20

// atkStream is the random stream of the attacks' random starts.
const atkStream = 0x61746b20 // "atk "

// Perturb returns the FGSM points (see Attack).
func (a *FGSM) Perturb(net *Network, X *mat.Dense, y []float64, loss Loss, epsilon float64) (*mat.Dense, error) {
	box, err := atkCheck(net, X, y, loss, epsilon, a.Min, a.Max)
	if err != nil {
		return nil, err
	}
	Xadv := mat.DenseCopyOf(X)
	_, grad := atkObjective(net, X, y, loss)
	atkStep(Xadv, grad, X, epsilon, epsilon, box, a.Min, a.Max, a.Bias)
	return Xadv, nil
}

// Perturb returns the PGD points (see Attack).
func (a *PGD) Perturb(net *Network, X *mat.Dense, y []float64, loss Loss, epsilon float64) (*mat.Dense, error) {
	box, err := atkCheck(net, X, y, loss, epsilon, a.Min, a.Max)
	if err != nil {
		return nil, err
	}
	if a.Steps < 0 || a.Restarts < 0 {
		return nil, errors.New("solver: PGD Steps and Restarts must be ≥ 0")
	}
	if math.IsNaN(a.StepSize) || math.IsInf(a.StepSize, 0) || a.StepSize < 0 {
		return nil, fmt.Errorf("solver: PGD StepSize must be finite and ≥ 0, got %v", a.StepSize)
	}
	cfg := atkPGDConfig{
		steps: a.Steps, step: a.StepSize, restarts: a.Restarts, random: a.RandomStart,
		box: box, lo: a.Min, hi: a.Max, bias: a.Bias,
	}
	cfg.fill(epsilon)
	r := rand.New(rand.NewPCG(a.Seed, atkStream))
	Xadv, _ := atkPGD(net, X, y, loss, epsilon, &cfg, r)
	return Xadv, nil
}

// RobustAccuracy returns the fraction of points that net classifies correctly both at
// xₖ and at the attacked point x′ₖ = attack.Perturb(…)ₖ with ‖x′ₖ − xₖ‖∞ ≤ ε; labels
// are ±1. With ε = 0 it is the clean accuracy. It is an upper bound on the accuracy
// under the worst perturbation, as tight as the attack is strong.
func RobustAccuracy(net *Network, X *mat.Dense, y []float64, epsilon float64, attack Attack) (float64, error) {
	if attack == nil {
		return 0, errors.New("solver: nil attack")
	}
	clean, err := net.Predict(X)
	if err != nil {
		return 0, err
	}
	Xadv, err := attack.Perturb(net, X, y, Logistic, epsilon)
	if err != nil {
		return 0, err
	}
	adv, err := net.Predict(Xadv)
	if err != nil {
		return 0, err
	}
	correct := 0
	for k, yk := range y {
		if (clean[k] >= 0) == (yk > 0) && (adv[k] >= 0) == (yk > 0) {
			correct++
		}
	}
	return float64(correct) / float64(len(y)), nil
}

// atkCheck validates an attack's inputs and reports whether the box applies.
func atkCheck(net *Network, X *mat.Dense, y []float64, loss Loss, epsilon, lo, hi float64) (bool, error) {
	if err := net.check(X); err != nil {
		return false, err
	}
	p := Problem{X: X, Y: y, Loss: loss}
	if err := p.Validate(); err != nil {
		return false, err
	}
	if math.IsNaN(epsilon) || math.IsInf(epsilon, 0) || epsilon < 0 {
		return false, fmt.Errorf("solver: attack radius must be finite and ≥ 0, got %v", epsilon)
	}
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return false, fmt.Errorf("solver: attack box [%v, %v] must be finite", lo, hi)
	}
	return hi > lo, nil
}

// atkObjective returns the attack objective φ(xₖ) of every row (see Attack) and its
// exact input gradient ∇ₓφ, row k for point k:
//
//	∇ₓf(x) = Σⱼ αⱼ 1[xᵀuⱼ > 0] uⱼ,  ∇ₓφ = −y ∇ₓf (classification),  (f − y) ∇ₓf (squared),
//
// with the ReLU's subgradient 0 at 0.
func atkObjective(net *Network, X *mat.Dense, y []float64, loss Loss) ([]float64, *mat.Dense) {
	n, d := X.Dims()
	phi := make([]float64, n)
	grad := mat.NewDense(n, d, nil)
	if net.Neurons() == 0 {
		for k := range phi {
			phi[k], _ = loss.attack(0, y[k])
		}
		return phi, grad
	}
	// Uᵀ as a dense d×m copy: XUᵀ then runs on rows of length m (see ncParams).
	var Z mat.Dense
	Z.Mul(X, mat.DenseCopyOf(net.U.T()))
	for k := 0; k < n; k++ {
		row := Z.RawRowView(k)
		f := 0.0
		for j, z := range row {
			if z > 0 {
				f += z * net.Alpha[j]
			}
		}
		var c float64
		phi[k], c = loss.attack(f, y[k])
		for j, z := range row {
			if z > 0 {
				row[j] = c * net.Alpha[j]
			} else {
				row[j] = 0
			}
		}
	}
	grad.Mul(&Z, net.U)
	return phi, grad
}

// atkStep moves Xadv by size·sign(grad) and projects onto the ball of radius epsilon
// around X0 intersected with the box. A coordinate of X0 that lies outside the box by
// more than epsilon cannot reach it and stays at X0. With bias, the last column is
// left alone.
func atkStep(Xadv, grad, X0 *mat.Dense, size, epsilon float64, box bool, lo, hi float64, bias bool) {
	n, d := Xadv.Dims()
	if bias {
		d--
	}
	for k := 0; k < n; k++ {
		x, g, x0 := Xadv.RawRowView(k), grad.RawRowView(k), X0.RawRowView(k)
		for i := 0; i < d; i++ {
			switch {
			case g[i] > 0:
				x[i] += size
			case g[i] < 0:
				x[i] -= size
			}
			x[i] = atkProject(x[i], x0[i], epsilon, box, lo, hi)
		}
	}
}

// atkProject clamps v to [x0 − ε, x0 + ε] ∩ [lo, hi] (the box only when box is set).
func atkProject(v, x0, epsilon float64, box bool, lo, hi float64) float64 {
	a, b := x0-epsilon, x0+epsilon
	if box {
		a, b = math.Max(a, lo), math.Min(b, hi)
		if a > b {
			return x0
		}
	}
	return math.Min(math.Max(v, a), b)
}

// atkPGDConfig is a PGD attack with defaults filled in.
type atkPGDConfig struct {
	steps, restarts int
	step            float64
	random, box     bool
	lo, hi          float64
	bias            bool
}

func (c *atkPGDConfig) fill(epsilon float64) {
	if c.steps == 0 {
		c.steps = defaultPGDSteps
	}
	if c.restarts == 0 {
		c.restarts = 1
	}
	if c.step == 0 {
		c.step = 2.5 * epsilon / float64(c.steps)
	}
}

// atkPGD runs PGD (see the PGD type) and returns the best points and their attack
// objective values.
func atkPGD(net *Network, X *mat.Dense, y []float64, loss Loss, epsilon float64, c *atkPGDConfig, r *rand.Rand) (*mat.Dense, []float64) {
	n, d := X.Dims()
	best := mat.DenseCopyOf(X)
	bestPhi := make([]float64, n)
	for k := range bestPhi {
		bestPhi[k] = math.Inf(-1)
	}
	if epsilon == 0 {
		phi, _ := atkObjective(net, X, y, loss)
		return best, phi
	}
	free := d
	if c.bias {
		free--
	}
	Xadv := mat.NewDense(n, d, nil)
	for run := 0; run < c.restarts; run++ {
		Xadv.Copy(X)
		if c.random || run > 0 {
			for k := 0; k < n; k++ {
				x, x0 := Xadv.RawRowView(k), X.RawRowView(k)
				for i := 0; i < free; i++ {
					x[i] = atkProject(x0[i]+epsilon*(2*r.Float64()-1), x0[i], epsilon, c.box, c.lo, c.hi)
				}
			}
		}
		for t := 0; ; t++ {
			phi, grad := atkObjective(net, Xadv, y, loss)
			for k, v := range phi {
				if v > bestPhi[k] {
					bestPhi[k] = v
					copy(best.RawRowView(k), Xadv.RawRowView(k))
				}
			}
			if t == c.steps {
				break
			}
			atkStep(Xadv, grad, X, c.step, epsilon, c.box, c.lo, c.hi, c.bias)
		}
	}
	return best, bestPhi
}
