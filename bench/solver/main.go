// Command solver benchmarks the convex solvers of package solver and writes a Markdown
// report to standard output:
//
//   - ADMM against cvxopt's interior-point method on the identical program (the same
//     data, labels, β and activation patterns, MATH.md §3), for n ∈ {250, 500, 1000,
//     2000}, d = 20, P = 50: time to a 1e-4 relative gap, objectives, per-iteration
//     cost and its log-log slope in n;
//   - the rate of ADMM's per-iteration products (GFLOP/s) against gonum's own
//     matrix-vector and matrix-matrix rates on this machine;
//   - the default method (solver.Auto, Solve with a nil method) against cvxopt on
//     the same instances, to a certified 1e-4;
//   - ADMM against the Go interior-point method (solver.InteriorPoint) on the same
//     instances: time, Newton steps and cost per step;
//   - iterations to tolerance of the default ADMM (scale-aware ρ, residual balancing,
//     over-relaxation, Anderson acceleration) against fixed ρ and the other variants;
//   - with -route, InteriorPoint against ADMM on small programs of every loss (the
//     budgets of solver.Auto); with -mnist, certified solves of MNIST 2 vs 8; with
//     -ipm-routes, InteriorPoint's dense and n×n routes on breast cancer and digits;
//   - with -polish (alone), ADMM with and without polishing on the instances at
//     β = 0.02·n and 1 and on the profile's breast cancer and digits 3 vs 8 programs;
//   - with -overrun (alone), ADMM (or the methods of -overrun-methods) under time
//     limits on MNIST 2 vs 8 at 28×28 (how long after its limit Solve returns) and
//     ADMM's iterations per second there;
//   - with -certify (alone), the iterations ADMM needs to certify each gap of
//     -certify-tols against those after which its iterates stay within it.
//
// Usage:
//
//	go run ./bench/solver                       # everything (cvxopt at n = 2000 takes long)
//	go run ./bench/solver -sizes 250,500 -cvxopt=false
//	go run ./bench/solver -sizes 250,1000 -beta 1e-3 -rho=false
//	go run ./bench/solver -cvxopt=false -ipm=false -rho=false -sizes 250 -route
//	go run ./bench/solver -cvxopt=false -ipm=false -rho=false -sizes 250 -mnist
//	GOMAXPROCS=1 go run ./bench/solver -cvxopt=false -ipm=false -rho=false -sizes 250 -ipm-routes
//	go run ./bench/solver -sizes 250,1000 -polish   # only ADMM with and without polishing
//	go run ./bench/solver -overrun                  # only time limits and iterations at d = 785
//	go run ./bench/solver -overrun -overrun-limits 2s -overrun-methods default,ipm
//
// cvxopt is driven through solver/testdata/cvxopt_ref.py with Debian's /usr/bin/python3.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/gocvx/gocvx/bench/internal/refinstance"
	"github.com/gocvx/gocvx/solver"
)

var (
	sizesFlag     = flag.String("sizes", "250,500,1000,2000", "comma-separated numbers of points n")
	dFlag         = flag.Int("d", 20, "features, including the bias column")
	pFlag         = flag.Int("P", 50, "sampled activation patterns")
	betaFlag      = flag.Float64("beta", 0, "β (0: 0.02·n)")
	cvxoptFlag    = flag.Bool("cvxopt", true, "run cvxopt's interior-point method on the same instances")
	cvxoptMaxN    = flag.Int("cvxopt-max-n", 2000, "largest n given to cvxopt")
	cvxoptFullN   = flag.Int("cvxopt-full-n", 250, "largest n that cvxopt solves to the end; beyond it a full solve is extrapolated from timed iterations")
	cvxoptTimed   = flag.Int("cvxopt-timed-iterations", 2, "iterations timed on instances beyond -cvxopt-full-n")
	cvxoptTimeout = flag.Duration("cvxopt-timeout", 3*time.Hour, "time limit of one cvxopt solve")
	keepFlag      = flag.String("keep", "", "directory to keep the instance files in (default: a temporary one)")
	rhoFlag       = flag.Bool("rho", true, "run the ρ / variant comparison")
	ipmFlag       = flag.Bool("ipm", true, "run the Go interior-point method (solver.InteriorPoint) on the same instances")
	seedFlag      = flag.Uint64("seed", 2023, "seed of the instances")
	oneThread     = flag.Bool("one-thread", true, "also time the certified ADMM solve on one thread (GOMAXPROCS 1, Settings.Threads 1)")
	routeFlag     = flag.Bool("route", false, "compare InteriorPoint and ADMM on small programs of every loss (the threshold of solver.Auto)")
	routeLimit    = flag.Duration("route-limit", 30*time.Second, "time limit of each solve of -route")
	routeLosses   = flag.String("route-losses", "squared,hinge,logistic", "losses of -route")
	routeSizes    = flag.String("route-sizes", "100:5:20,200:10:30,300:12:50,250:20:50,400:20:75,500:25:100", "instances of -route, as n:d:P")
	mnistFlag     = flag.Bool("mnist", false, "time certified solves on MNIST 2 vs 8 at 10×10 and 28×28 (hinge and squared, P = 64)")
	mnistLimit    = flag.Duration("mnist-limit", 2*time.Minute, "time limit of each MNIST solve")
	mnistBeta     = flag.Float64("mnist-beta", 1e-3, "β of the MNIST solves")
	polishFlag    = flag.Bool("polish", false, "only compare ADMM with and without polishing (one thread)")
	polishLimit   = flag.Duration("polish-limit", time.Minute, "time limit of each solve of -polish")
	certifyFlag   = flag.Bool("certify", false, "only report the certificate's lag behind ADMM's iterates at each -certify-tols, on the -sizes instances")
	certifyTols   = flag.String("certify-tols", "1e-4,1e-6", "relative gaps of -certify")
	overrunFlag   = flag.Bool("overrun", false, "only time ADMM under time limits on MNIST 2 vs 8 at 28×28, and its iterations per second there")
	overrunLimits = flag.String("overrun-limits", "10s,30s", "time limits of -overrun")
	overrunMethod = flag.String("overrun-methods", "admm", "methods of -overrun: admm (&solver.ADMM{}), default (Solve's own route), ipm (&solver.InteriorPoint{})")
	overrunLosses = flag.String("overrun-losses", "squared,hinge,logistic", "losses of -overrun")
)

const script = "solver/testdata/cvxopt_ref.py"

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/solver:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	dir := *keepFlag
	if dir == "" {
		dir, err = os.MkdirTemp("", "gocvx-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var sizes []int
	for _, f := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("bad -sizes: %v", err)
		}
		sizes = append(sizes, n)
	}
	if *overrunFlag {
		fmt.Printf("# Solver benchmarks: time limits and iterations at d = 785\n\nMachine: %s/%s, %d CPUs, %s. Command: `go run ./bench/solver %s`.\n\n",
			runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), strings.Join(os.Args[1:], " "))
		if err := overrunTable(); err != nil {
			return err
		}
		return rateTable()
	}
	if *certifyFlag {
		fmt.Printf("# Solver benchmarks: the certificate\n\nMachine: %s/%s, %d CPUs, %s. Command: `go run ./bench/solver %s`.\n\n",
			runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), strings.Join(os.Args[1:], " "))
		return certifyLag(sizes)
	}
	if *polishFlag {
		fmt.Printf("# Solver benchmarks: polishing\n\nMachine: %s/%s, %d CPUs, %s. Command: `go run ./bench/solver %s`.\n\n",
			runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), strings.Join(os.Args[1:], " "))
		return polishComparison(sizes)
	}
	fmt.Printf("# Solver benchmarks\n\n")
	fmt.Printf("Machine: %s/%s, %d CPUs (GOMAXPROCS %d), %s. Command: `go run ./bench/solver %s`.\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), strings.Join(os.Args[1:], " "))
	betaDesc := "β = 0.02·n"
	if *betaFlag > 0 {
		betaDesc = fmt.Sprintf("β = %g", *betaFlag)
	}
	fmt.Printf("Instances: X has n rows of N(0, I₁₉) features and a bias column (d = %d), y = a planted 5-neuron ReLU network plus N(0, 0.1²) noise, squared loss, %s, P = %d patterns from Gaussian directions (seed %d). ADMM and cvxopt solve the identical program (cvxopt_ref.py states it as a cone QP). %s.\n\n", *dFlag, betaDesc, *pFlag, *seedFlag, loadAverage())

	rates := measureGonum(sizes)
	var rows []sizeRow
	fullIters := 0 // iterations of the largest full cvxopt solve
	for _, n := range sizes {
		r, err := measureSize(root, dir, n, &fullIters)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	if *ipmFlag {
		ipmTable(rows)
	}
	cvxoptTable(rows)
	autoTable(rows)
	costTable(rows, rates)

	if *rhoFlag {
		if err := rhoComparison(); err != nil {
			return err
		}
	}
	if *routeFlag {
		if err := routeComparison(); err != nil {
			return err
		}
	}
	if *mnistFlag {
		if err := mnistSolves(); err != nil {
			return err
		}
	}
	if *ipmRoutesFlag {
		if err := ipmRoutes(); err != nil {
			return err
		}
	}
	return nil
}

// sizeRow holds the measurements of one benchmark size n.
type sizeRow struct {
	n                                 int
	ref, admmObj, admmGap             float64
	admmTime, admmTo4, admmIter       float64
	admmIters                         int
	perIter, flops                    float64
	route                             string
	cvxObj, cvxTime, cvxGap, cvxPerIt float64
	cvxIters                          int
	cvxErr                            string
	cvxEstimated                      bool
	admmCPU, cvxCPU                   float64
	oneWall, oneCPU                   float64 // the certified solve on one thread
	ipm                               *ipmRun
	auto                              *autoRun
}

// measureSize writes the instance of n points to dir and times ADMM (with a
// reference solve to 1e-10), the default method, the Go interior-point method and
// cvxopt on it; fullIters carries the iteration count of the largest full cvxopt
// solve into the extrapolation of larger ones.
func measureSize(root, dir string, n int, fullIters *int) (sizeRow, error) {
	r := sizeRow{n: n}
	prob, arr := instance(n, *dFlag, *pFlag, *seedFlag)
	path := filepath.Join(dir, fmt.Sprintf("bench_n%d.json", n))
	if err := writeInstance(path, prob, arr); err != nil {
		return r, err
	}
	// Reference optimum: ADMM to a 1e-10 duality gap; its CPU time after the first
	// iteration (which includes the factorization) gives the cost per iteration.
	var cpuFirst float64
	first := solver.RecorderFunc(func(it solver.Iteration) {
		if it.Iteration == 1 {
			cpuFirst = cpuSeconds()
		}
	})
	ref, err := solver.Solve(context.Background(), prob, &solver.Settings{Arrangement: arr, Tolerance: 1e-10, MaxIterations: 20000, Recorder: first}, &solver.ADMM{})
	if err != nil {
		return r, err
	}
	cpuEnd := cpuSeconds()
	r.ref = ref.Certificate.Primal
	// The timed run: stop on ADMM's own certificate at 1e-4.
	cpu0 := cpuSeconds()
	res, err := solver.Solve(context.Background(), prob, &solver.Settings{Arrangement: arr, Tolerance: 1e-4, Reference: r.ref}, &solver.ADMM{})
	if err != nil {
		return r, err
	}
	r.admmCPU = cpuSeconds() - cpu0
	r.admmObj, r.admmTime, r.admmIters, r.route = res.Objective, res.Runtime.Seconds(), res.Iterations, res.Factorization
	r.admmGap = (res.Objective - r.ref) / math.Abs(r.ref)
	r.admmTo4 = timeTo(ref, 1e-4, r.ref)
	// Per-iteration cost: the reference run's CPU time after the first iteration.
	r.perIter = (cpuEnd - cpuFirst) / float64(len(ref.History)-1)
	r.flops = iterationFlops(n, *dFlag, arr.Len(), ref)
	fmt.Fprintf(os.Stderr, "n=%d: ADMM %s, %d iterations in %.2fs (reference %d iterations in %.2fs, %d active of %d), gap %.2g\n", n, res.Factorization, res.Iterations, res.Runtime.Seconds(), ref.Iterations, ref.Runtime.Seconds(), ref.ActiveNeurons, 2*arr.Len(), r.admmGap)
	if *oneThread {
		procs := runtime.GOMAXPROCS(1)
		cpu0 := cpuSeconds()
		one, err := solver.Solve(context.Background(), prob, &solver.Settings{Arrangement: arr, Tolerance: 1e-4, Threads: 1}, &solver.ADMM{})
		runtime.GOMAXPROCS(procs)
		if err != nil {
			return r, err
		}
		r.oneWall, r.oneCPU = one.Runtime.Seconds(), cpuSeconds()-cpu0
	}
	r.auto, err = runAuto(prob, arr, r.ref)
	if err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "n=%d: default method %v in %.2fs (%s)\n", n, r.auto.status, r.auto.wall, r.auto.route)
	if *ipmFlag {
		r.ipm, err = runIPM(prob, arr, r.ref)
		if err != nil {
			return r, err
		}
		fmt.Fprintf(os.Stderr, "n=%d: interior point %v, %d Newton steps in %.1fs, gap %.2g\n", n, r.ipm.status, r.ipm.steps, r.ipm.wall, r.ipm.gap)
	}
	if *cvxoptFlag && n <= *cvxoptMaxN {
		full := n <= *cvxoptFullN
		maxiters := 0
		if !full {
			maxiters = *cvxoptTimed
		}
		out, err := cvxopt(root, path, 1e-4, maxiters, *cvxoptTimeout)
		switch {
		case err != nil:
			r.cvxErr = err.Error()
		case full:
			r.cvxObj, r.cvxTime, r.cvxIters = out.Objective, out.Seconds, out.Iterations
			r.cvxCPU = out.CPUSeconds
			r.cvxGap = (out.Objective - r.ref) / math.Abs(r.ref)
			r.cvxPerIt = mean(out.IterationSeconds)
			*fullIters = out.Iterations
		default:
			// Extrapolate: setup and first iteration, then the mean timed
			// iteration times the iterations of the largest full solve.
			r.cvxPerIt = mean(out.IterationSeconds)
			r.cvxIters = *fullIters
			if r.cvxIters == 0 {
				r.cvxIters = 25
			}
			r.cvxTime = out.FirstIteration + r.cvxPerIt*float64(r.cvxIters)
			r.cvxCPU = out.FirstIterationCPU + mean(out.IterationCPUSeconds)*float64(r.cvxIters)
			r.cvxEstimated = true
		}
		fmt.Fprintf(os.Stderr, "n=%d: cvxopt %.1fs (estimated %v) %v\n", n, r.cvxTime, r.cvxEstimated, err)
	}
	return r, nil
}

// ipmTable prints ADMM against the Go interior-point method.
func ipmTable(rows []sizeRow) {
	fmt.Printf("## ADMM against the Go interior-point method (squared loss, d = %d, P = %d)\n\n", *dFlag, *pFlag)
	fmt.Printf("solver.InteriorPoint (primal-dual, one dP × dP Cholesky factorization per iteration) to its certified gap of 1e-4, against ADMM to its certificate at 1e-4, on the same instances; gaps are relative to ADMM's optimum at 1e-10. CPU seconds count all threads.\n\n")
	fmt.Printf("| n | ADMM wall | ADMM CPU | interior point wall | interior point CPU | Newton steps | CPU s per step | interior point gap | interior point CPU ÷ ADMM CPU |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		ip := r.ipm
		fmt.Printf("| %d | %.3f s | %.3f s | %.1f s | %.1f s | %d (%v) | %.3f | %.1e | %.2g |\n", r.n, r.admmTime, r.admmCPU, ip.wall, ip.cpu, ip.steps, ip.status, ip.cpu/float64(ip.steps), ip.gap, ip.cpu/r.admmCPU)
	}
	fmt.Println()
}

// cvxoptTable prints ADMM against cvxopt.
func cvxoptTable(rows []sizeRow) {
	fmt.Printf("## ADMM against cvxopt (squared loss, d = %d, P = %d)\n\n", *dFlag, *pFlag)
	fmt.Printf("Time to a 1e-4 relative gap: ADMM stopped by its own duality-gap certificate at 1e-4 (whole solve, factorization included), and the time at which its iterates stay within 1e-4 of the optimum; cvxopt with reltol = 1e-4 (its own gap certificate). Gaps are relative to ADMM's optimum at a 1e-10 certified gap. For n > %d cvxopt's time is estimated (est.): its setup and first iteration plus the mean of %d timed iterations times the iteration count of the largest full solve (every interior-point iteration factors a KKT system of the same size).\n\n", *cvxoptFullN, *cvxoptTimed)
	fmt.Printf("Wall-clock and CPU seconds (user + system, all threads: cvxopt's OpenBLAS and gonum both use the 2 cores); the machine is shared, so CPU time is the steadier comparison.\n\n")
	fmt.Printf("ADMM's certified solve runs on %d threads (GOMAXPROCS) and, in the column \"1 thread\", again with GOMAXPROCS 1 and Settings.Threads 1.\n\n", runtime.GOMAXPROCS(0))
	fmt.Printf("| n | route | ADMM wall (certified 1e-4) | ADMM CPU | ADMM wall, 1 thread | ADMM iterations | ADMM gap | ADMM wall to 1e-4 | cvxopt wall | cvxopt CPU | cvxopt iterations | cvxopt gap | speed-up wall | speed-up CPU |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		cv, cc, sp, sc, cvIt, cvGap := "—", "—", "—", "—", "—", "—"
		if r.cvxErr != "" {
			cv = "failed: " + r.cvxErr
		} else if r.cvxEstimated {
			cv = fmt.Sprintf("≈ %.0f s (est.)", r.cvxTime)
			cc = fmt.Sprintf("≈ %.0f s (est.)", r.cvxCPU)
			sp = fmt.Sprintf("≈ %.0f×", r.cvxTime/r.admmTime)
			sc = fmt.Sprintf("≈ %.0f×", r.cvxCPU/r.admmCPU)
			cvIt = fmt.Sprintf("(%d)", r.cvxIters)
		} else if r.cvxTime > 0 {
			cv = fmt.Sprintf("%.1f s", r.cvxTime)
			cc = fmt.Sprintf("%.1f s", r.cvxCPU)
			sp = fmt.Sprintf("%.0f×", r.cvxTime/r.admmTime)
			sc = fmt.Sprintf("%.0f×", r.cvxCPU/r.admmCPU)
			cvIt = strconv.Itoa(r.cvxIters)
			cvGap = fmt.Sprintf("%.1e", r.cvxGap)
		}
		one := "—"
		if r.oneWall > 0 {
			one = fmt.Sprintf("%.3f s", r.oneWall)
		}
		fmt.Printf("| %d | %s | %.3f s | %.3f s | %s | %d | %.1e | %.3f s | %s | %s | %s | %s | %s | %s |\n", r.n, r.route, r.admmTime, r.admmCPU, one, r.admmIters, r.admmGap, r.admmTo4, cv, cc, cvIt, cvGap, sp, sc)
	}
	fmt.Println()
}

// costTable prints ADMM's cost per iteration and its rate against gonum's.
func costTable(rows []sizeRow, rates []rate) {
	fmt.Printf("## Per-iteration cost\n\n")
	fmt.Printf("ADMM's cost per iteration is the CPU time (all threads) of the reference run after its first iteration (which includes the factorization), divided by the remaining iterations; its rate counts the floating-point operations of the iteration's matrix products (see iterationFlops) per CPU second. gonum's rates are single-threaded Dgemv on an n×dP matrix and Dgemm of X Vᵀ (n×d by d×2P, which may use both cores), best of five 100 ms trials. cvxopt's seconds per iteration are wall-clock.\n\n")
	fmt.Printf("| n | ADMM CPU ms/iteration | GFLOP/s of the iteration's products | gonum Dgemv GFLOP/s | gonum Dgemm GFLOP/s | ratio to Dgemv | cvxopt s/iteration |\n|---|---|---|---|---|---|---|\n")
	var xs, ys, cys []float64
	for i, r := range rows {
		g := r.flops / r.perIter / 1e9
		cvx := "—"
		if r.cvxPerIt > 0 {
			cvx = fmt.Sprintf("%.2f", r.cvxPerIt)
			cys = append(cys, math.Log(r.cvxPerIt))
		}
		fmt.Printf("| %d | %.3f | %.2f | %.2f | %.2f | %.0f%% | %s |\n", r.n, 1e3*r.perIter, g, rates[i].gemv, rates[i].gemm, 100*g/rates[i].gemv, cvx)
		xs = append(xs, math.Log(float64(r.n)))
		ys = append(ys, math.Log(r.perIter))
	}
	fmt.Println()
	if len(xs) >= 2 {
		fmt.Printf("Log-log slope of ADMM's CPU time per iteration against n: %.2f", slope(xs, ys))
		if len(cys) >= 2 {
			fmt.Printf("; of cvxopt's: %.2f", slope(xs[:len(cys)], cys))
		}
		fmt.Printf(".\n\n")
	}
}

// instance returns the benchmark problem with n points and its arrangement.
func instance(n, d, p int, seed uint64) (*solver.Problem, *solver.Arrangement) {
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	X := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < d-1; j++ {
			X.Set(i, j, round6(rng.NormFloat64()))
		}
		X.Set(i, d-1, 1)
	}
	const planted = 5
	U := mat.NewDense(planted, d, nil)
	alpha := make([]float64, planted)
	for j := 0; j < planted; j++ {
		for c := 0; c < d; c++ {
			U.Set(j, c, rng.NormFloat64()/math.Sqrt(float64(d)))
		}
		alpha[j] = rng.NormFloat64()
	}
	f, _ := (&solver.Network{U: U, Alpha: alpha}).Predict(X)
	y := make([]float64, n)
	for k := range y {
		y[k] = round6(f[k] + 0.1*rng.NormFloat64())
	}
	beta := *betaFlag
	if beta == 0 {
		beta = 0.02 * float64(n)
	}
	prob := &solver.Problem{X: X, Y: y, Loss: solver.Squared, Beta: beta}
	arr, err := solver.SampleArrangement(X, p, seed)
	if err != nil {
		panic(err)
	}
	return prob, arr
}

// round6 rounds to 6 decimals so that the JSON instance is exactly the Go one.
func round6(v float64) float64 {
	s := strconv.FormatFloat(v, 'f', 6, 64)
	r, _ := strconv.ParseFloat(s, 64)
	return r
}

func writeInstance(path string, prob *solver.Problem, arr *solver.Arrangement) error {
	data, err := json.Marshal(refinstance.New(prob, arr))
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

type cvxoptResult struct {
	Objective           float64   `json:"objective"`
	Status              string    `json:"status"`
	Seconds             float64   `json:"seconds"`
	Iterations          int       `json:"iterations"`
	FirstIteration      float64   `json:"first_iteration_seconds"`
	IterationSeconds    []float64 `json:"iteration_seconds"`
	CPUSeconds          float64   `json:"cpu_seconds"`
	FirstIterationCPU   float64   `json:"first_iteration_cpu_seconds"`
	IterationCPUSeconds []float64 `json:"iteration_cpu_seconds"`
}

// cpuSeconds returns the CPU time (user + system) of this process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// cvxopt runs the reference script on an instance file; maxiters > 0 stops it early
// (for timing iterations).
func cvxopt(root, path string, reltol float64, maxiters int, timeout time.Duration) (*cvxoptResult, error) {
	in, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := []string{filepath.Join(root, script), "solve", "--reltol", strconv.FormatFloat(reltol, 'g', -1, 64)}
	if maxiters > 0 {
		args = append(args, "--maxiters", strconv.Itoa(maxiters))
	}
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", args...)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("timed out after %v", timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, lastLine(stderr.String()))
	}
	var r cvxoptResult
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// timeTo returns the elapsed time at the first iteration after which every iterate's
// objective stays within tol (relative) of ref.
func timeTo(res *solver.Result, tol, ref float64) float64 {
	at := -1
	for i := len(res.History) - 1; i >= 0; i-- {
		if math.Abs(res.History[i].Objective-ref) > tol*math.Abs(ref) {
			break
		}
		at = i
	}
	if at < 0 {
		return math.NaN()
	}
	return res.History[at].Elapsed.Seconds()
}

// iterationFlops counts the floating-point operations of the matrix products of one
// ADMM iteration (default form, squared loss), averaged over the run: the u-step solve
// (two triangular solves with the dP×dP factor, or the Woodbury products and two
// triangular solves with the n×n factor), the product X argᵀ that checks every cone
// block, the batched product that verifies warm-started projections, the products
// X·v inside the other projections (2nd each) and their active-set work (about 4md
// per projection with m active rows).
func iterationFlops(n, d, p int, res *solver.Result) float64 {
	fn, fd, fp := float64(n), float64(d), float64(p)
	iters := float64(res.Iterations)
	products := 2 * fn * fd * 2 * fp // X argᵀ
	var solve float64
	switch res.Factorization {
	case solver.FactorCholesky:
		solve = 2 * (fd * fp) * (fd * fp)
	case solver.FactorWoodbury:
		solve = 2*fn*fn + 2*(2*fn*fd*fp)
	}
	st := res.ADMM
	proj := (2*fn*fd*float64(st.Products+st.Candidates) + 4*fd*float64(st.ActiveRows)) / iters
	return products + solve + proj
}

type rate struct{ gemv, gemm float64 }

// measureGonum times gonum's Dgemv on an n×(dP) matrix and Dgemm for X Vᵀ (n×d by
// d×2P), the shapes of the iteration, and keeps the best of five 100 ms trials (the
// machine is shared, so the best trial is the rate gonum can reach here).
func measureGonum(sizes []int) []rate {
	out := make([]rate, len(sizes))
	best := func(flops float64, f func()) float64 {
		r := 0.0
		for range 5 {
			reps, start := 0, time.Now()
			for time.Since(start) < 100*time.Millisecond {
				f()
				reps++
			}
			r = math.Max(r, flops*float64(reps)/time.Since(start).Seconds()/1e9)
		}
		return r
	}
	for i, n := range sizes {
		d, p := *dFlag, *pFlag
		cols := d * p
		a := make([]float64, n*cols)
		for j := range a {
			a[j] = float64(j%7) - 3
		}
		x := make([]float64, cols)
		y := make([]float64, n)
		g := blas64.General{Rows: n, Cols: cols, Stride: cols, Data: a}
		out[i].gemv = best(2*float64(n)*float64(cols), func() {
			blas64.Gemv(blas.NoTrans, 1, g, blas64.Vector{N: cols, Inc: 1, Data: x}, 0, blas64.Vector{N: n, Inc: 1, Data: y})
		})
		xm := blas64.General{Rows: n, Cols: d, Stride: d, Data: a[:n*d]}
		v := blas64.General{Rows: 2 * p, Cols: d, Stride: d, Data: make([]float64, 2*p*d)}
		c := blas64.General{Rows: n, Cols: 2 * p, Stride: 2 * p, Data: make([]float64, n*2*p)}
		out[i].gemm = best(2*float64(n)*float64(d)*float64(2*p), func() {
			blas64.Gemm(blas.NoTrans, blas.Trans, 1, xm, v, 0, c)
		})
	}
	return out
}

func slope(xs, ys []float64) float64 {
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(len(xs))
	my /= float64(len(ys))
	var num, den float64
	for i := range xs {
		num += (xs[i] - mx) * (ys[i] - my)
		den += (xs[i] - mx) * (xs[i] - mx)
	}
	return num / den
}

// rhoComparison reports iterations to 1e-4 and 1e-6 relative gaps for ADMM variants
// and fixed ρ on a mid-size instance of each loss.
func rhoComparison() error {
	fmt.Printf("## ρ, balancing, over-relaxation and acceleration\n\n")
	fmt.Printf("Iterations until the objective stays within 1e-4 and 1e-6 (relative) of the optimum, n = 500, d = %d, P = %d (same instance as above, squared loss). \"default ρ\" is the scale-aware value; \"×k\" multiplies it.\n\n", *dFlag, *pFlag)
	prob, arr := instance(500, *dFlag, *pFlag, *seedFlag)
	ref, err := solver.Solve(context.Background(), prob, &solver.Settings{Arrangement: arr, Tolerance: 1e-10, MaxIterations: 20000}, &solver.ADMM{})
	if err != nil {
		return err
	}
	opt := ref.Certificate.Primal
	defRho := ref.History[0].Rho
	type variant struct {
		name string
		m    *solver.ADMM
	}
	vs := []variant{
		{"default (balancing, α = 1.6, Anderson)", &solver.ADMM{}},
		{"no Anderson acceleration", &solver.ADMM{Anderson: -1}},
		{"no over-relaxation (α = 1)", &solver.ADMM{Relaxation: 1}},
		{"plain: fixed default ρ, α = 1, no Anderson", &solver.ADMM{FixedRho: true, Relaxation: 1, Anderson: -1}},
	}
	for _, k := range []float64{0.01, 0.1, 10, 100} {
		vs = append(vs, variant{fmt.Sprintf("fixed ρ = default ×%g (plain)", k), &solver.ADMM{Rho: defRho * k, FixedRho: true, Relaxation: 1, Anderson: -1}})
		vs = append(vs, variant{fmt.Sprintf("ρ = default ×%g, balancing on", k), &solver.ADMM{Rho: defRho * k}})
	}
	vs = append(vs, variant{"slack form (Bai et al. Alg. 3.1), defaults", &solver.ADMM{Slack: true}})
	vs = append(vs, variant{"slack form, plain", &solver.ADMM{Slack: true, FixedRho: true, Relaxation: 1, Anderson: -1}})
	fmt.Printf("| variant | ρ₀ | iterations to 1e-4 | to 1e-6 | time to 1e-6 | final ρ | factorizations |\n|---|---|---|---|---|---|---|\n")
	for _, v := range vs {
		res, err := solver.Solve(context.Background(), prob, &solver.Settings{Arrangement: arr, Tolerance: 1e-9, MaxIterations: 5000, Reference: opt}, v.m)
		if err != nil {
			return err
		}
		i4, i6 := itersTo(res, 1e-4, opt), itersTo(res, 1e-6, opt)
		t6 := "—"
		if i6 > 0 {
			t6 = fmt.Sprintf("%.2f s", res.History[i6-1].Elapsed.Seconds())
		}
		fmt.Printf("| %s | %.3g | %s | %s | %s | %.3g | %d |\n", v.name, res.History[0].Rho, itersString(i4), itersString(i6), t6, res.Rho, res.Factorizations)
	}
	fmt.Println()
	return nil
}

func itersTo(res *solver.Result, tol, ref float64) int {
	at := -1
	for i := len(res.History) - 1; i >= 0; i-- {
		if math.Abs(res.History[i].Objective-ref) > tol*math.Abs(ref) {
			break
		}
		at = i
	}
	if at < 0 {
		return -1
	}
	return res.History[at].Iteration
}

func itersString(i int) string {
	if i < 0 {
		return "> 5000"
	}
	return strconv.Itoa(i)
}

// moduleRoot finds the directory of go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// ipmRun is a solve of the Go interior-point method.
type ipmRun struct {
	status         solver.Status
	steps          int
	wall, cpu, gap float64
}

// runIPM solves an instance with solver.InteriorPoint to a gap bound of 1e-4 (at
// most 30 minutes) and reports its times and its objective's gap to ref.
func runIPM(prob *solver.Problem, arr *solver.Arrangement, ref float64) (*ipmRun, error) {
	cpu0 := cpuSeconds()
	res, err := solver.Solve(context.Background(), prob, &solver.Settings{Arrangement: arr, Tolerance: 1e-4, TimeLimit: 30 * time.Minute}, &solver.InteriorPoint{})
	if err != nil {
		return nil, err
	}
	return &ipmRun{status: res.Status, steps: res.Iterations, wall: res.Runtime.Seconds(), cpu: cpuSeconds() - cpu0,
		gap: (res.Objective - ref) / math.Abs(ref)}, nil
}
