// Command adversarial compares convex adversarial training with PGD adversarial
// training of the non-convex network (MATH.md §7, §9 experiment 6) and prints a
// Markdown table: on the breast-cancer data and on MNIST 2-vs-8 at 10×10 pixels, for
// every radius ε of a grid from 0 to where accuracy collapses, the clean and PGD test
// accuracy of
//
//	(a) standard convex training (ADMM on the program of MATH.md §3, trained once),
//	(b) convex adversarial training (solver.Adversarial at ε),
//	(c) PGD adversarial training of the non-convex network (solver.PGDTraining at ε),
//	(d) plain SGD training of the non-convex network (trained once),
//
// and the training times of (b) and (c). All four use the same loss (hinge), β and
// bias column; the attack is PGD with random start (Steps, step 2.5ε/Steps) that
// leaves the bias column alone and, on MNIST, keeps pixels in [0, 1].
//
// Usage:
//
//	go run ./bench/adversarial              # both data sets: 2¼ CPU-minutes (5 on a loaded machine)
//	go run ./bench/adversarial -data breast -eps-breast 0,0.1,0.2
//
// MNIST is subsampled (-mnist-train, -mnist-test) to keep the run short; the table
// says how many points each set has. (b) samples its own robust patterns at every ε
// (solver.SampleRobustArrangement, -patterns directions); (a) uses -patterns Gaussian
// ones.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gocvx/gocvx/solver"
	"github.com/gocvx/gocvx/solver/dataset"
)

var (
	dataFlag      = flag.String("data", "breast,mnist", "data sets: breast, mnist")
	epsBreast     = flag.String("eps-breast", "0,0.05,0.1,0.2,0.3,0.5", "radii for the breast-cancer data (standardized features)")
	epsMNIST      = flag.String("eps-mnist", "0,0.02,0.05,0.1,0.15,0.2", "radii for MNIST (pixels in [0, 1])")
	mnistTrain    = flag.Int("mnist-train", 600, "MNIST training points (subsampled, stratified)")
	mnistTest     = flag.Int("mnist-test", 400, "MNIST test points (subsampled, stratified)")
	patternsFlag  = flag.Int("patterns", 32, "sampled directions for the convex programs")
	betaFlag      = flag.Float64("beta", 0, "β (0: 0.002·n)")
	itersFlag     = flag.Int("iterations", 200, "ADMM iteration limit of (a) and (b)")
	tolFlag       = flag.Float64("tolerance", 1e-3, "ADMM relative tolerance of (a) and (b)")
	epochsFlag    = flag.Int("epochs", 300, "epochs of (c) and (d)")
	neuronsFlag   = flag.Int("neurons", 32, "width of the non-convex networks (c) and (d)")
	pgdStepsFlag  = flag.Int("train-steps", 7, "PGD steps per batch in (c)")
	atkStepsFlag  = flag.Int("attack-steps", 20, "PGD steps of the evaluation attack")
	restartsFlag  = flag.Int("restarts", 2, "random restarts of the evaluation attack")
	seedFlag      = flag.Uint64("seed", 2023, "seed of splits, patterns, initializations and attacks")
	batchFlag     = flag.Int("batch", 0, "batch size of (c) and (d) (0: full batch)")
	learningRateF = flag.Float64("lr", 0.01, "Adam's learning rate in (c)")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/adversarial:", err)
		os.Exit(1)
	}
}

// task is a prepared data set: standardized (breast cancer) or raw pixels (MNIST),
// with a bias column.
type task struct {
	name        string
	train, test *dataset.Set
	eps         []float64
	box         bool // pixels: attacks clip to [0, 1]
}

func run() error {
	var tasks []*task
	for _, name := range strings.Split(*dataFlag, ",") {
		t, err := load(strings.TrimSpace(name))
		if err != nil {
			return err
		}
		tasks = append(tasks, t)
	}
	start := time.Now()
	for _, t := range tasks {
		if err := bench(t); err != nil {
			return err
		}
	}
	fmt.Printf("\nTotal run time %v.\n", time.Since(start).Round(time.Second))
	return nil
}

func load(name string) (*task, error) {
	switch name {
	case "breast":
		s, err := dataset.BreastCancer()
		if err != nil {
			return nil, err
		}
		tr, te, err := dataset.Split(s, 0.2, true, *seedFlag)
		if err != nil {
			return nil, err
		}
		tr, te, err = dataset.Standardize(tr, te)
		if err != nil {
			return nil, err
		}
		tr.X, te.X = dataset.AddBias(tr.X), dataset.AddBias(te.X)
		eps, err := floats(*epsBreast)
		return &task{name: "breast cancer (standardized, n = 455 train, 114 test, d = 30 + bias)", train: tr, test: te, eps: eps}, err
	case "mnist":
		s, err := dataset.MNIST2v8()
		if err != nil {
			return nil, err
		}
		tr, te, err := dataset.Split(s, 0.3, true, *seedFlag)
		if err != nil {
			return nil, err
		}
		if tr, err = subsample(tr, *mnistTrain); err != nil {
			return nil, err
		}
		if te, err = subsample(te, *mnistTest); err != nil {
			return nil, err
		}
		tr.X, te.X = dataset.AddBias(tr.X), dataset.AddBias(te.X)
		eps, err := floats(*epsMNIST)
		name := fmt.Sprintf("MNIST 2 vs 8 (10×10 pixels in [0, 1], subsampled: n = %d train, %d test, d = 100 + bias)", tr.Len(), te.Len())
		return &task{name: name, train: tr, test: te, eps: eps, box: true}, err
	}
	return nil, fmt.Errorf("unknown data set %q", name)
}

// subsample returns a stratified subset of m points of s (all of s if m ≥ n).
func subsample(s *dataset.Set, m int) (*dataset.Set, error) {
	if m <= 0 || m >= s.Len() {
		return s, nil
	}
	_, sub, err := dataset.Split(s, float64(m)/float64(s.Len()), true, *seedFlag+1)
	return sub, err
}

func floats(list string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(list, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func bench(t *task) error {
	ctx := context.Background()
	n := t.train.Len()
	beta := *betaFlag
	if beta == 0 {
		beta = 0.002 * float64(n)
	}
	prob := &solver.Problem{X: t.train.X, Y: t.train.Y, Loss: solver.Hinge, Beta: beta}
	arr, err := solver.SampleArrangement(t.train.X, *patternsFlag, *seedFlag)
	if err != nil {
		return err
	}
	convexSettings := &solver.Settings{Arrangement: arr, MaxIterations: *itersFlag, Tolerance: *tolFlag, Seed: *seedFlag}
	// (b) samples its own robust patterns at each ε (see solver.SampleRobustArrangement).
	advSettings := &solver.Settings{Patterns: *patternsFlag, MaxIterations: *itersFlag, Tolerance: *tolFlag, Seed: *seedFlag}
	ncSettings := &solver.Settings{Seed: *seedFlag}
	lo, hi := 0.0, 0.0
	if t.box {
		lo, hi = 0, 1
	}
	attack := &solver.PGD{Steps: *atkStepsFlag, RandomStart: true, Restarts: *restartsFlag, Seed: *seedFlag, Bias: true, Min: lo, Max: hi}
	std := &solver.ADMM{}
	sgd := &solver.SGD{Neurons: *neuronsFlag, LearningRate: 0.05, Momentum: 0.9, Epochs: *epochsFlag, BatchSize: *batchFlag}
	methods := []struct {
		label string
		set   *solver.Settings
		train func(float64) solver.Method
	}{
		{"(a) standard convex", convexSettings, func(float64) solver.Method { return std }},
		{"(b) convex adversarial", advSettings, func(e float64) solver.Method { return &solver.Adversarial{Epsilon: e, Bias: true} }},
		{"(c) PGD training", ncSettings, func(e float64) solver.Method {
			return &solver.PGDTraining{Epsilon: e, Neurons: *neuronsFlag, Steps: *pgdStepsFlag, Epochs: *epochsFlag,
				LearningRate: *learningRateF, BatchSize: *batchFlag, Bias: true, Min: lo, Max: hi}
		}},
		{"(d) SGD", ncSettings, func(float64) solver.Method { return sgd }},
	}
	curves := make([]*solver.RobustCurve, len(methods))
	for i, m := range methods {
		c, err := solver.RobustnessCurve(ctx, prob, t.test.X, t.test.Y, t.eps, m.set, m.train, attack)
		if err != nil {
			return fmt.Errorf("%s: %v", m.label, err)
		}
		curves[i] = c
		fmt.Fprintf(os.Stderr, "%s %s done\n", t.name[:5], m.label)
	}
	fmt.Printf("\n### %s\n\nHinge loss, β = %g, P = %d sampled patterns (%d distinct); non-convex nets m = %d, %d epochs; "+
		"attack: PGD, %d steps, %d restarts, random start.\n\n", t.name, beta, *patternsFlag, arr.Len(), *neuronsFlag, *epochsFlag, *atkStepsFlag, *restartsFlag)
	fmt.Println("| ε | (a) clean / PGD | (b) clean / PGD | (c) clean / PGD | (d) clean / PGD | time (b) | time (c) | (b) ≥ (c) PGD, faster? |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for i, e := range t.eps {
		row := fmt.Sprintf("| %g |", e)
		for _, c := range curves {
			row += fmt.Sprintf(" %.1f / %.1f |", 100*c.Clean[i], 100*c.Adversarial[i])
		}
		b, c := curves[1], curves[2]
		verdict := "yes"
		switch {
		case b.Adversarial[i] < c.Adversarial[i] && b.Runtime[i] > c.Runtime[i]:
			verdict = "**no: lower accuracy, slower**"
		case b.Adversarial[i] < c.Adversarial[i]:
			verdict = "**no: lower accuracy**"
		case b.Runtime[i] > c.Runtime[i]:
			verdict = "**no: slower**"
		}
		row += fmt.Sprintf(" %v (%v) | %v | %s |", b.Runtime[i].Round(time.Millisecond), b.Status[i], c.Runtime[i].Round(time.Millisecond), verdict)
		fmt.Println(row)
	}
	fmt.Printf("\n(a) trained once in %v, (d) once in %v.\n", curves[0].Runtime[0].Round(time.Millisecond), curves[3].Runtime[0].Round(time.Millisecond))
	return nil
}
