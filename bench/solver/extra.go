package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/gocvx/gocvx/solver"
	"github.com/gocvx/gocvx/solver/dataset"
)

// loadAverage returns the machine's load averages as a sentence, from /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "Load average unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "Load average unknown"
	}
	return fmt.Sprintf("Load average at the start: %s %s %s (1, 5, 15 min)", f[0], f[1], f[2])
}

// routeComparison times InteriorPoint against ADMM on small programs of every loss
// (the benchmark's instance generator at small sizes; the classification losses
// label each point by the sign of its target), to a certified 1e-6, at a small and
// the default β: the measurement behind solver.Auto's budgets. The interior point
// solves its Newton system by the cheaper route (dense or n×n), named in the last
// column.
func routeComparison() error {
	fmt.Printf("## Auto's route: InteriorPoint against ADMM on small programs\n\n")
	fmt.Printf("The instances above at small n, d, P (hinge and logistic: labels sign(y)); both methods to a certified relative gap of 1e-6, at most %v each, on %d threads. %s.\n\n", *routeLimit, runtime.GOMAXPROCS(0), loadAverage())
	fmt.Printf("| loss | n | d | P | 2Pd | β | ADMM wall | ADMM iterations | interior point wall | Newton steps | its Newton system |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	losses, err := parseLosses(*routeLosses)
	if err != nil {
		return err
	}
	sizes, err := parseShapes(*routeSizes)
	if err != nil {
		return err
	}
	for _, loss := range losses {
		for _, c := range sizes {
			n, d, p := c[0], c[1], c[2]
			for _, beta := range []float64{1e-3, 0.02 * float64(n)} {
				prob, arr := instanceAt(n, d, p, beta)
				if loss != solver.Squared {
					prob.Loss = loss
					for k, v := range prob.Y {
						prob.Y[k] = 1
						if v < 0 {
							prob.Y[k] = -1
						}
					}
				}
				s := &solver.Settings{Arrangement: arr, Tolerance: 1e-6, MaxIterations: 100000, TimeLimit: *routeLimit}
				a, err := solver.Solve(context.Background(), prob, s, &solver.ADMM{})
				if err != nil {
					return err
				}
				ip, err := solver.Solve(context.Background(), prob, s, &solver.InteriorPoint{})
				if err != nil {
					return err
				}
				fmt.Printf("| %v | %d | %d | %d | %d | %g | %s | %d | %s | %d | %s |\n", loss, n, d, arr.Len(), 2*arr.Len()*d, beta,
					statusTime(a), a.Iterations, statusTime(ip), ip.Iterations, ip.Factorization)
				fmt.Fprintf(os.Stderr, "route %v 2Pd=%d β=%g: ADMM %s, interior point %s\n", loss, 2*arr.Len()*d, beta, statusTime(a), statusTime(ip))
			}
		}
	}
	fmt.Println()
	return nil
}

// instanceAt is instance with its own d and β.
func instanceAt(n, d, p int, beta float64) (*solver.Problem, *solver.Arrangement) {
	keepD, keepB := *dFlag, *betaFlag
	*dFlag, *betaFlag = d, beta
	defer func() { *dFlag, *betaFlag = keepD, keepB }()
	return instance(n, d, p, *seedFlag)
}

// statusTime is a result's wall time, with its status when not optimal.
func statusTime(r *solver.Result) string {
	if r.Status == solver.Optimal {
		return fmt.Sprintf("%.3f s", r.Runtime.Seconds())
	}
	return fmt.Sprintf("%.1f s (%v, gap %.1e)", r.Runtime.Seconds(), r.Status, r.Gap)
}

// mnistSolves times the default method (solver.Auto) to a certified 1e-4 on MNIST
// 2 vs 8 with a bias column, P = 64, at 10×10 and 28×28, hinge and squared loss, on
// the machine's threads and on one, with the peak heap.
func mnistSolves() error {
	fmt.Printf("## MNIST 2 vs 8 (P = 64, β = %g, certified 1e-4, at most %v)\n\n", *mnistBeta, *mnistLimit)
	fmt.Printf("dataset.MNISTPair(2, 8, side) with a bias column (n = 1935); the default method (solver.Auto, which routes these to ADMM). Wall and CPU seconds, the certified relative gap reached, and the Go heap's peak (runtime.MemStats.HeapSys). %s.\n\n", loadAverage())
	fmt.Printf("| side | d | loss | threads | status | certified gap | iterations | wall | CPU | heap |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, side := range []int{10, 28} {
		set, err := dataset.MNISTPair(2, 8, side)
		if err != nil {
			return err
		}
		X := dataset.AddBias(set.X)
		_, d := X.Dims()
		for _, loss := range []solver.Loss{solver.Hinge, solver.Squared} {
			for _, threads := range []int{runtime.GOMAXPROCS(0), 1} {
				prob := &solver.Problem{X: X, Y: set.Y, Loss: loss, Beta: *mnistBeta}
				procs := runtime.GOMAXPROCS(threads)
				runtime.GC()
				cpu0 := cpuSeconds()
				res, err := solver.Solve(context.Background(), prob, &solver.Settings{Patterns: 64, Tolerance: 1e-4, TimeLimit: *mnistLimit, Threads: threads}, nil)
				cpu := cpuSeconds() - cpu0
				runtime.GOMAXPROCS(procs)
				if err != nil {
					return err
				}
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				fmt.Printf("| %d | %d | %v | %d | %v | %.2g | %d | %.1f s | %.1f s | %d MB |\n", side, d, loss, threads, res.Status, res.Gap, res.Iterations, res.Runtime.Seconds(), cpu, ms.HeapSys>>20)
				fmt.Fprintf(os.Stderr, "MNIST %d %v %d threads: %v gap %.2g in %.1fs (%s)\n", side, loss, threads, res.Status, res.Gap, res.Runtime.Seconds(), res.Route)
			}
		}
	}
	fmt.Println()
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		fmt.Printf("Peak resident set size of the whole run: %d MB.\n\n", ru.Maxrss>>10)
	}
	return nil
}

// parseLosses reads a comma-separated list of loss names.
func parseLosses(list string) ([]solver.Loss, error) {
	var out []solver.Loss
	for _, f := range strings.Split(list, ",") {
		found := false
		for _, l := range []solver.Loss{solver.Squared, solver.Hinge, solver.Logistic} {
			if strings.TrimSpace(f) == l.String() {
				out, found = append(out, l), true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown loss %q (squared, hinge, logistic)", f)
		}
	}
	return out, nil
}

// parseShapes reads a comma-separated list of n:d:P.
func parseShapes(list string) ([][3]int, error) {
	var out [][3]int
	for _, f := range strings.Split(list, ",") {
		var c [3]int
		if _, err := fmt.Sscanf(strings.TrimSpace(f), "%d:%d:%d", &c[0], &c[1], &c[2]); err != nil || c[0] < 1 || c[1] < 2 || c[2] < 1 {
			return nil, fmt.Errorf("bad shape %q (want n:d:P)", f)
		}
		out = append(out, c)
	}
	return out, nil
}

// autoRun is a solve of the default method (solver.Auto).
type autoRun struct {
	status         solver.Status
	route          string
	wall, cpu, gap float64
	certified      float64
	iterations     int
}

// runAuto solves an instance with the default method to a certified 1e-4 (at most 30
// minutes) and reports its route, times, certified gap and objective's gap to ref.
func runAuto(prob *solver.Problem, arr *solver.Arrangement, ref float64) (*autoRun, error) {
	cpu0 := cpuSeconds()
	res, err := solver.Solve(context.Background(), prob, &solver.Settings{Arrangement: arr, Tolerance: 1e-4, TimeLimit: 30 * time.Minute}, nil)
	if err != nil {
		return nil, err
	}
	return &autoRun{status: res.Status, route: res.Route, wall: res.Runtime.Seconds(), cpu: cpuSeconds() - cpu0,
		gap: (res.Objective - ref) / math.Abs(ref), certified: res.Gap, iterations: res.Iterations}, nil
}

// autoTable prints the default method against cvxopt.
func autoTable(rows []sizeRow) {
	fmt.Printf("## The default method (solver.Auto) against cvxopt (squared loss, d = %d, P = %d)\n\n", *dFlag, *pFlag)
	fmt.Printf("Solve with a nil method to a certified relative gap of 1e-4 (its route in the second column), on %d threads, against cvxopt as in the table above; the speed-ups divide cvxopt's time by the default method's.\n\n", runtime.GOMAXPROCS(0))
	fmt.Printf("| n | route | status | iterations | certified gap | gap to optimum | wall | CPU | cvxopt wall | cvxopt CPU | speed-up wall | speed-up CPU |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		a := r.auto
		route, _, _ := strings.Cut(a.route, ":")
		cv, cc, sp, sc := "—", "—", "—", "—"
		if r.cvxErr == "" && r.cvxTime > 0 {
			approx := ""
			if r.cvxEstimated {
				approx = "≈ "
			}
			cv, cc = fmt.Sprintf("%s%.1f s", approx, r.cvxTime), fmt.Sprintf("%s%.1f s", approx, r.cvxCPU)
			sp, sc = fmt.Sprintf("%s%.0f×", approx, r.cvxTime/a.wall), fmt.Sprintf("%s%.0f×", approx, r.cvxCPU/a.cpu)
		}
		fmt.Printf("| %d | %s | %v | %d | %.1e | %.1e | %.3f s | %.3f s | %s | %s | %s | %s |\n", r.n, route, a.status, a.iterations, a.certified, a.gap, a.wall, a.cpu, cv, cc, sp, sc)
	}
	fmt.Println()
}
