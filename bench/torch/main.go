// Command torch measures how fast the convex route reaches the global optimum of a
// two-layer ReLU training problem against back-propagation with Adam, ours (solver.Adam)
// and PyTorch's (torch.optim.Adam through Debian's python3-torch, /usr/bin/python3):
//
//	go run ./bench/torch                     # breast cancer, squared loss
//	go run ./bench/torch -data mnist -loss hinge
//
// It solves the convex program with ADMM (its objective F* is the optimum over the
// sampled activation patterns, recovered as a network of m* neurons), then trains the
// same network (width m*, same weight decay, same objective, float64, full batch, the
// same initial weights for both Adam implementations) for each learning rate of -lrs,
// and reports the time each needs to reach an objective within 1% of F*, against the
// time ADMM took to converge (and to come within 1% of F* itself). Go and PyTorch get
// the same number of threads (-threads).
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gocvx/gocvx/solver"
	"github.com/gocvx/gocvx/solver/dataset"
)

func main() {
	data := flag.String("data", "breast", "data set: breast (n=569, d=30), mnist (2 against 8, 10×10, n=1935, d=100) or spirals (n=200)")
	lossName := flag.String("loss", "squared", "loss: squared, hinge or logistic")
	beta := flag.Float64("beta", 1, "weight decay β")
	patterns := flag.Int("patterns", 0, "sampled directions for the arrangement (0: ADMM's default)")
	neurons := flag.Int("neurons", 0, "width of the Adam network (0: the convex solution's active neurons)")
	lrs := flag.String("lrs", "0.001,0.003,0.01,0.03,0.1", "Adam learning rates to try")
	budget := flag.Duration("budget", 20*time.Second, "time limit of each Adam run")
	threads := flag.Int("threads", 1, "threads for Go (GOMAXPROCS) and for PyTorch")
	within := flag.Float64("within", 0.01, "relative distance to F* that counts as reached")
	seed := flag.Uint64("seed", 1, "seed of the patterns and of the initial weights")
	admmLimit := flag.Duration("admm-limit", 0, "time limit of the ADMM solve (0: none)")
	exact := flag.Bool("exact", false, "solve the exact program (every activation pattern; for spirals, d = 3)")
	points := flag.Int("n", 200, "number of points of the spirals")
	flag.Parse()
	cfg := config{data: *data, loss: *lossName, beta: *beta, patterns: *patterns, exact: *exact, points: *points,
		neurons: *neurons, lrs: *lrs, budget: *budget, admmLimit: *admmLimit, threads: *threads, within: *within, seed: *seed}
	if err := run(&cfg); err != nil {
		fmt.Fprintln(os.Stderr, "torch:", err)
		os.Exit(1)
	}
}

type config struct {
	data, loss, lrs   string
	beta, within      float64
	patterns, points  int
	neurons, threads  int
	exact             bool
	budget, admmLimit time.Duration
	seed              uint64
}

func problem(data, lossName string, beta float64, points int) (*solver.Problem, error) {
	var loss solver.Loss
	switch lossName {
	case "squared":
		loss = solver.Squared
	case "hinge":
		loss = solver.Hinge
	case "logistic":
		loss = solver.Logistic
	default:
		return nil, fmt.Errorf("unknown loss %q", lossName)
	}
	var ds *dataset.Set
	var err error
	switch data {
	case "breast":
		if ds, err = dataset.BreastCancer(); err == nil {
			var sc *dataset.Scaler
			if sc, err = dataset.FitScaler(ds.X); err == nil {
				ds.X, err = sc.Transform(ds.X)
			}
		}
	case "mnist":
		ds, err = dataset.MNIST2v8()
	case "spirals":
		ds, err = dataset.Spirals(points, 0.02, 1)
	default:
		err = fmt.Errorf("unknown data set %q", data)
	}
	if err != nil {
		return nil, err
	}
	return &solver.Problem{X: dataset.AddBias(ds.X), Y: ds.Y, Loss: loss, Beta: beta}, nil
}

// reach returns the first elapsed time at which objective ≤ target, or −1.
func reach(objective []float64, elapsed []time.Duration, target float64) time.Duration {
	for i, v := range objective {
		if v <= target {
			return elapsed[i]
		}
	}
	return -1
}

func show(d time.Duration) string {
	if d < 0 {
		return "not reached"
	}
	return d.Round(time.Millisecond).String()
}

func run(c *config) error {
	data, beta, neurons, lrList, budget, threads, within, seed := c.data, c.beta, c.neurons, c.lrs, c.budget, c.threads, c.within, c.seed
	runtime.GOMAXPROCS(threads)
	prob, err := problem(data, c.loss, beta, c.points)
	if err != nil {
		return err
	}
	n, d := prob.X.Dims()
	ctx := context.Background()
	fmt.Printf("data %s: n=%d, d=%d (with bias), %v loss, β=%g, %d thread(s)\n", data, n, d, prob.Loss, beta, threads)

	cvx, err := solver.Solve(ctx, prob, &solver.Settings{Patterns: c.patterns, Exact: c.exact, Seed: seed, TimeLimit: c.admmLimit}, &solver.ADMM{})
	if err != nil {
		return fmt.Errorf("ADMM: %v", err)
	}
	opt := cvx.Objective
	target := opt * (1 + within)
	var cvxObj []float64
	var cvxTime []time.Duration
	for _, it := range cvx.History {
		cvxObj = append(cvxObj, it.Objective)
		cvxTime = append(cvxTime, it.Elapsed)
	}
	cvxReach := reach(cvxObj, cvxTime, target)
	fmt.Printf("ADMM: %v after %d iterations in %v, F* = %.10g, gap %.2g, %d patterns, %d active neurons; within %g%% of F* after %v\n",
		cvx.Status, cvx.Iterations, show(cvx.Runtime), opt, cvx.Gap, cvx.Patterns, cvx.ActiveNeurons, 100*within, show(cvxReach))

	m := neurons
	if m == 0 {
		m = cvx.ActiveNeurons
	}
	init, err := solver.InitialNetwork(m, d, 1, seed)
	if err != nil {
		return err
	}
	fmt.Printf("Adam: width %d, full batch, budget %v per run, target J ≤ %.10g\n\n", m, budget, target)
	fmt.Printf("%-8s %-7s %12s %9s %14s\n", "Adam", "lr", fmt.Sprintf("to %g%%", 100*within), "steps", "best J / F*")
	bestGo, bestTorch := time.Duration(-1), time.Duration(-1)
	for _, f := range strings.Split(lrList, ",") {
		lr, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return fmt.Errorf("learning rate %q: %v", f, err)
		}
		// Ours: stop as soon as an epoch reaches the target.
		rctx, cancel := context.WithCancel(ctx)
		var hit time.Duration = -1
		res, err := solver.Solve(rctx, prob, &solver.Settings{Seed: seed, TimeLimit: budget, Recorder: solver.RecorderFunc(func(it solver.Iteration) {
			if it.Objective <= target && hit < 0 {
				hit = it.Elapsed
				cancel()
			}
		})}, &solver.Adam{Neurons: m, LearningRate: lr, Epochs: math.MaxInt32})
		cancel()
		if err != nil {
			return err
		}
		fmt.Printf("%-8s %-7g %12s %9d %14.6f\n", "gocvx", lr, show(hit), res.Iterations, res.Objective/opt)
		if hit >= 0 && (bestGo < 0 || hit < bestGo) {
			bestGo = hit
		}

		tr, err := runTorch(prob, init, lr, math.MaxInt32, budget, target, threads)
		if err != nil {
			return err
		}
		tt := time.Duration(-1)
		best := math.Inf(1)
		for i, v := range tr.Objective {
			best = math.Min(best, v)
			if v <= target && tt < 0 {
				tt = time.Duration(tr.Elapsed[i] * float64(time.Second))
			}
		}
		fmt.Printf("%-8s %-7g %12s %9d %14.6f\n", "torch", lr, show(tt), tr.Steps, best/opt)
		if tt >= 0 && (bestTorch < 0 || tt < bestTorch) {
			bestTorch = tt
		}
	}
	fmt.Printf("\nADMM: %v (%v) in all, within %g%% of F* after %v; best Adam to within %g%%: gocvx %v, torch %v\n",
		show(cvx.Runtime), cvx.Status, 100*within, show(cvxReach), 100*within, show(bestGo), show(bestTorch))
	return nil
}
