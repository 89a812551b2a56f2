package main

import (
	"context"
	"fmt"
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

// routeComparison times InteriorPoint against ADMM on small squared-loss programs
// (the benchmark's instance generator at small sizes), to a certified 1e-6, at a
// small and the default β: the measurement behind solver.Auto's threshold.
func routeComparison() error {
	fmt.Printf("## Auto's route: InteriorPoint against ADMM on small programs\n\n")
	fmt.Printf("Squared loss, the instances above at small n, d, P; both to a certified relative gap of 1e-6 (at most 60 s). %s.\n\n", loadAverage())
	fmt.Printf("| n | d | P | 2Pd | β | ADMM wall | ADMM iterations | interior point wall | Newton steps |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range [][3]int{{100, 5, 20}, {200, 10, 30}, {250, 20, 50}} {
		n, d, p := c[0], c[1], c[2]
		for _, beta := range []float64{1e-3, 0.02 * float64(n)} {
			prob, arr := instanceAt(n, d, p, beta)
			s := &solver.Settings{Arrangement: arr, Tolerance: 1e-6, MaxIterations: 20000, TimeLimit: time.Minute}
			a, err := solver.Solve(context.Background(), prob, s, &solver.ADMM{})
			if err != nil {
				return err
			}
			ip, err := solver.Solve(context.Background(), prob, s, &solver.InteriorPoint{})
			if err != nil {
				return err
			}
			fmt.Printf("| %d | %d | %d | %d | %g | %s | %d | %s | %d |\n", n, d, arr.Len(), 2*arr.Len()*d, beta,
				statusTime(a), a.Iterations, statusTime(ip), ip.Iterations)
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
