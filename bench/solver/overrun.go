package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/gocvx/gocvx/solver"
	"github.com/gocvx/gocvx/solver/dataset"
)

// mnist28 returns MNIST 2 vs 8 at 28×28 with a bias column and P = 64 patterns
// (seed 1), as bench/profile builds it.
func mnist28() (*dataset.Set, *solver.Arrangement, error) {
	set, err := dataset.MNISTPair(2, 8, 28)
	if err != nil {
		return nil, nil, err
	}
	set = &dataset.Set{X: dataset.AddBias(set.X), Y: set.Y}
	arr, err := solver.SampleArrangement(set.X, 64, 1)
	if err != nil {
		return nil, nil, err
	}
	return set, arr, nil
}

// overrunMethods returns the methods of -overrun-methods by name (nil: Solve's
// default route).
func overrunMethods() ([]string, []solver.Method, error) {
	var names []string
	var methods []solver.Method
	for _, f := range strings.Split(*overrunMethod, ",") {
		name := strings.TrimSpace(f)
		switch name {
		case "admm":
			methods = append(methods, &solver.ADMM{})
		case "default":
			methods = append(methods, nil)
		case "ipm":
			methods = append(methods, &solver.InteriorPoint{})
		default:
			return nil, nil, fmt.Errorf("bad -overrun-methods: %q (admm, default, ipm)", name)
		}
		names = append(names, name)
	}
	return names, methods, nil
}

// overrunTable times the methods of -overrun-methods under a time limit on MNIST
// 2 vs 8 at 28×28 (the losses of -overrun-losses, β = 1e-3 and 1, each limit of
// -overrun-limits): the wall time until Solve returned, against the limit.
func overrunTable() error {
	set, arr, err := mnist28()
	if err != nil {
		return err
	}
	var limits []time.Duration
	for _, f := range strings.Split(*overrunLimits, ",") {
		l, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || l <= 0 {
			return fmt.Errorf("bad -overrun-limits: %q", f)
		}
		limits = append(limits, l)
	}
	names, methods, err := overrunMethods()
	if err != nil {
		return err
	}
	losses, err := parseLosses(*overrunLosses)
	if err != nil {
		return err
	}
	fmt.Printf("## Time limits on MNIST 2 vs 8 at 28×28 (d = 785, P = 64, tolerance 1e-4)\n\n")
	fmt.Printf("Wall seconds until Solve returned, the status, iterations and the one-minute load average at the start of each solve; Settings.Threads 0 (GOMAXPROCS %d); method default: Solve's own route (Result.Route).\n\n", runtime.GOMAXPROCS(0))
	fmt.Printf("| method | loss | β | TimeLimit | returned after | over the limit | status | iterations | load |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, limit := range limits {
		for m, method := range methods {
			for _, loss := range losses {
				for _, beta := range []float64{1e-3, 1} {
					prob := &solver.Problem{X: set.X, Y: set.Y, Loss: loss, Beta: beta}
					load := loadOne()
					runtime.GC()
					start := time.Now()
					res, err := solver.Solve(context.Background(), prob, &solver.Settings{Arrangement: arr, Tolerance: 1e-4, TimeLimit: limit}, method)
					wall := time.Since(start)
					if err != nil {
						return err
					}
					name := names[m]
					if res.Route != "" {
						name += " (" + res.Method + ")"
					}
					fmt.Printf("| %s | %v | %g | %v | %.2f s | %.2f s | %v | %d | %s |\n", name, loss, beta, limit, wall.Seconds(), (wall - limit).Seconds(), res.Status, res.Iterations, load)
					fmt.Fprintf(os.Stderr, "overrun %s %v β=%g limit %v: returned after %.2f s (%v, %d iterations)\n", name, loss, beta, limit, wall.Seconds(), res.Status, res.Iterations)
				}
			}
		}
	}
	fmt.Println()
	return nil
}

// rateTable measures ADMM's iterations 2–20 (two certificates among them) per second
// of wall and of CPU time on MNIST 2 vs 8 at 28×28, squared loss, β = 1, without
// polishing, on one thread and on two (GOMAXPROCS = Settings.Threads).
func rateTable() error {
	set, arr, err := mnist28()
	if err != nil {
		return err
	}
	fmt.Printf("## ADMM's iterations at d = 785 (MNIST 2 vs 8 at 28×28, squared, β = 1, P = 64)\n\n")
	fmt.Printf("Iterations 2–20 (two certificates among them) per second of wall and of CPU time, `&solver.ADMM{NoPolish: true}`, GOMAXPROCS = Settings.Threads.\n\n")
	fmt.Printf("| threads | it/s wall | it per CPU s | first iteration at | load |\n|---|---|---|---|---|\n")
	prob := &solver.Problem{X: set.X, Y: set.Y, Loss: solver.Squared, Beta: 1}
	for _, threads := range []int{1, 2} {
		procs := runtime.GOMAXPROCS(threads)
		load := loadOne()
		var t1 time.Duration
		var c1, cl float64
		rec := solver.RecorderFunc(func(it solver.Iteration) {
			if it.Iteration == 1 {
				t1, c1 = it.Elapsed, cpuSeconds()
			}
			cl = cpuSeconds()
		})
		runtime.GC()
		res, err := solver.Solve(context.Background(), prob, &solver.Settings{Arrangement: arr, Tolerance: 1e-12, MaxIterations: 20, Threads: threads, Recorder: rec}, &solver.ADMM{NoPolish: true})
		runtime.GOMAXPROCS(procs)
		if err != nil {
			return err
		}
		last := res.History[len(res.History)-1].Elapsed
		k := float64(res.Iterations - 1)
		fmt.Printf("| %d | %.3f | %.3f | %.2f s | %s |\n", threads, k/(last-t1).Seconds(), k/(cl-c1), t1.Seconds(), load)
		fmt.Fprintf(os.Stderr, "rate %d threads: %.3f it/s wall, %.3f per CPU s\n", threads, k/(last-t1).Seconds(), k/(cl-c1))
	}
	fmt.Println()
	return nil
}

// loadOne returns the one-minute load average, or "?".
func loadOne() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
