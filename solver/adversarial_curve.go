package solver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/mat"
)

// RobustCurve is one training method's accuracy on a test set against the l∞ radius
// ε, the data of display.RobustnessPlot: at each Epsilon[i] the network trained for
// that radius has accuracy Clean[i] on the unperturbed test points and Adversarial[i]
// under the attack at radius Epsilon[i] (see RobustAccuracy). Accuracies are
// fractions in [0, 1].
type RobustCurve struct {
	Method                      string
	Epsilon, Clean, Adversarial []float64
	// Runtime[i] is the training time of the network of Epsilon[i] (the same run's
	// time repeated when the method does not depend on ε, see RobustnessCurve), and
	// Status[i] how that training ended.
	Runtime []time.Duration
	Status  []Status
}

// RobustnessCurve trains a network on prob for every radius of epsilons with the
// method train(ε) and measures its clean and attacked accuracy on (testX, testY)
// (labels ±1) with attack at that radius. train is called once per radius; when it
// returns the same Method value as for the previous radius (a method that ignores ε,
// such as standard convex training or plain SGD), the network is trained once and
// evaluated at every radius. settings (nil for defaults) applies to every training;
// cancelling ctx stops between or inside trainings with the context's error.
//
// A notebook cell draws the curves of several methods with display.RobustnessPlot:
//
//	eps := []float64{0, 0.05, 0.1, 0.2}
//	atk := &solver.PGD{Steps: 20, RandomStart: true, Bias: true}
//	convex, _ := solver.RobustnessCurve(ctx, prob, Xtest, ytest, eps, nil,
//		func(e float64) solver.Method { return &solver.Adversarial{Epsilon: e, Bias: true} }, atk)
//	std := &solver.ADMM{}
//	plain, _ := solver.RobustnessCurve(ctx, prob, Xtest, ytest, eps, nil,
//		func(float64) solver.Method { return std }, atk)
//	display.RobustnessPlot(convex, plain)
func RobustnessCurve(ctx context.Context, prob *Problem, testX *mat.Dense, testY []float64, epsilons []float64,
	settings *Settings, train func(epsilon float64) Method, attack Attack) (*RobustCurve, error) {
	if train == nil || attack == nil {
		return nil, errors.New("solver: RobustnessCurve needs a training function and an attack")
	}
	if len(epsilons) == 0 {
		return nil, errors.New("solver: RobustnessCurve needs at least one radius")
	}
	for _, e := range epsilons {
		if math.IsNaN(e) || math.IsInf(e, 0) || e < 0 {
			return nil, fmt.Errorf("solver: radius %v is not finite and ≥ 0", e)
		}
	}
	if testX == nil || len(testY) == 0 {
		return nil, errors.New("solver: RobustnessCurve needs test data")
	}
	if r, _ := testX.Dims(); r != len(testY) {
		return nil, fmt.Errorf("solver: test X has %d rows, y has %d", r, len(testY))
	}
	c := &RobustCurve{}
	var last Method
	var res *Result
	for _, e := range epsilons {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m := train(e)
		if m == nil {
			return nil, fmt.Errorf("solver: no method for radius %v", e)
		}
		if res == nil || m != last {
			var err error
			res, err = Solve(ctx, prob, settings, m)
			if err != nil {
				return nil, err
			}
			if res.Status == Canceled {
				return nil, ctx.Err()
			}
			last = m
		}
		if c.Method == "" {
			c.Method = methodFamily(m)
		}
		clean, err := res.Network.Accuracy(testX, testY)
		if err != nil {
			return nil, err
		}
		adv, err := RobustAccuracy(res.Network, testX, testY, e, attack)
		if err != nil {
			return nil, err
		}
		c.Epsilon = append(c.Epsilon, e)
		c.Clean = append(c.Clean, clean)
		c.Adversarial = append(c.Adversarial, adv)
		c.Runtime = append(c.Runtime, res.Runtime)
		c.Status = append(c.Status, res.Status)
	}
	return c, nil
}

// methodFamily names a method without its radius (the curve's label).
func methodFamily(m Method) string {
	switch m.(type) {
	case *Adversarial:
		return "convex adversarial"
	case *PGDTraining:
		return "PGD training"
	}
	return m.String()
}
