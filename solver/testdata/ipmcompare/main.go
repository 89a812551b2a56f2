// Command ipmcompare times solver.InteriorPoint against cvxopt on identical programs
// (the same data, labels, β and activation patterns; cvxopt through
// solver/testdata/cvxopt_ref.py with Debian's /usr/bin/python3) and prints a Markdown
// table: wall time, iterations and certified gap of each, the speed-up, and the
// relative difference of the optima. Times are CPU seconds of the solve (the machine
// may be shared; the wall times are in the table too).
//
// The instances are those of the benchmark BenchmarkInteriorPoint in package solver
// (ipmBenchProblem there; the two generators draw the same numbers in the same order):
// n points with d − 1 Gaussian features and a bias column, targets from a planted
// 5-neuron ReLU network, P patterns from Gaussian directions.
//
// Both sides stop at a relative gap of 1e-6: the Go method by its certificate
// (Settings.Tolerance), cvxopt at an absolute gap of 1e-6 times the Go optimum (its
// abstol; its own reltol is relative to an objective that lacks the constant ½‖y‖²
// of the squared loss and stopped there at gaps up to 1e-5 of the program's optimum).
// cvxopt runs to the end when a timed start (-timed iterations) predicts a solve
// within -full; otherwise its time is extrapolated as setup + first iteration + the
// mean timed iteration × the iterations cvxopt took on the largest fully solved
// instance of the same loss and β in this run or, from an earlier run, -iterations
// (marked "≈"; cvxopt's iteration counts grow with the size, so this understates its
// time). Run it with one thread on each side for a like-for-like comparison:
//
//	GOMAXPROCS=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
//	  go run ./solver/testdata/ipmcompare -sizes 100x10x16,200x10x32 -betas 1e-4,1e-3,1e-2,1e-1,1
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
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/gocvx/gocvx/solver"
)

var (
	sizesFlag  = flag.String("sizes", "100x10x16,200x10x32", "comma-separated n×d×P")
	lossesFlag = flag.String("losses", "squared,hinge,logistic", "comma-separated losses")
	betasFlag  = flag.String("betas", "1e-4,1e-3,1e-2,1e-1,1", "comma-separated β")
	seedFlag   = flag.Uint64("seed", 1, "seed of the instances")
	fullFlag   = flag.Duration("full", 10*time.Minute, "longest predicted cvxopt solve that is run to the end")
	timedFlag  = flag.Int("timed", 3, "cvxopt iterations timed to predict a solve")
	repeatFlag = flag.Int("repeat", 3, "Go solves per instance (the fastest is reported)")
	cvxFlag    = flag.Bool("cvxopt", true, "run cvxopt")
	itersFlag  = flag.String("iterations", "", "cvxopt iterations per loss/β for extrapolation, as printed by an earlier run (loss/β=N,…)")
)

const script = "solver/testdata/cvxopt_ref.py"

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ipmcompare:", err)
		os.Exit(1)
	}
}

type size struct{ n, d, p int }

func run() error {
	var sizes []size
	for _, s := range strings.Split(*sizesFlag, ",") {
		var z size
		if _, err := fmt.Sscanf(s, "%dx%dx%d", &z.n, &z.d, &z.p); err != nil {
			return fmt.Errorf("size %q: want n×d×P like 200x10x32", s)
		}
		sizes = append(sizes, z)
	}
	losses := map[string]solver.Loss{"squared": solver.Squared, "hinge": solver.Hinge, "logistic": solver.Logistic}
	var betas []float64
	for _, b := range strings.Split(*betasFlag, ",") {
		v, err := strconv.ParseFloat(b, 64)
		if err != nil || !(v > 0) {
			return fmt.Errorf("β %q: want a positive number", b)
		}
		betas = append(betas, v)
	}
	dir, err := os.MkdirTemp("", "ipmcompare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Printf("| loss | n | d | P | weights 2dP | β | Go CPU (wall) | Go iterations | Go gap | cvxopt CPU (wall) | cvxopt iterations | speed-up (CPU) | optima differ by |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	fullIters := map[string]int{} // loss/β → iterations of the largest full cvxopt solve
	if *itersFlag != "" {
		for _, kv := range strings.Split(*itersFlag, ",") {
			k, v, ok := strings.Cut(kv, "=")
			n, err := strconv.Atoi(v)
			if !ok || err != nil {
				return fmt.Errorf("-iterations: %q is not loss/β=N", kv)
			}
			fullIters[k] = n
		}
	}
	for _, z := range sizes {
		for _, name := range strings.Split(*lossesFlag, ",") {
			loss, ok := losses[name]
			if !ok {
				return fmt.Errorf("unknown loss %q", name)
			}
			for _, beta := range betas {
				prob, arr := problem(loss, z.n, z.d, z.p, beta, *seedFlag)
				goRes, goCPU, err := solveGo(prob, arr)
				if err != nil {
					return err
				}
				status := ""
				if goRes.Status != solver.Optimal {
					status = fmt.Sprintf(" (%v)", goRes.Status)
				}
				row := fmt.Sprintf("| %s | %d | %d | %d | %d | %g | %s (%s)%s | %d | %.1e |", name, z.n, z.d, arr.Len(), 2*z.d*arr.Len(), beta,
					seconds(goCPU), seconds(goRes.Runtime.Seconds()), status, goRes.Iterations, goRes.Gap)
				if !*cvxFlag {
					fmt.Println(row + " | | | |")
					continue
				}
				key := fmt.Sprintf("%s/%g", name, beta)
				path := filepath.Join(dir, fmt.Sprintf("%s_%d_%d_%d_%g.json", name, z.n, z.d, z.p, beta))
				if err := writeInstance(path, prob, arr); err != nil {
					return err
				}
				cvx, estimated, err := solveCvxopt(path, 1e-6*math.Abs(goRes.Objective), fullIters[key])
				if err != nil {
					fmt.Println(row + fmt.Sprintf(" %s | | | |", err))
					continue
				}
				mark := ""
				if estimated {
					mark = "≈ "
				} else {
					fullIters[key] = cvx.Iterations
				}
				diff := "—"
				if !estimated {
					diff = fmt.Sprintf("%.1e", math.Abs(goRes.Objective-cvx.Objective)/math.Abs(cvx.Objective))
				}
				status = ""
				if !estimated && cvx.Status != "optimal" {
					status = " (" + cvx.Status + ")"
				}
				fmt.Printf("%s %s%s (%s)%s | %d | %.0f× | %s |\n", row, mark, seconds(cvx.CPUSeconds), seconds(cvx.Seconds), status, cvx.Iterations, cvx.CPUSeconds/goCPU, diff)
			}
		}
	}
	var known []string
	for k, v := range fullIters {
		known = append(known, fmt.Sprintf("%s=%d", k, v))
	}
	slices.Sort(known)
	fmt.Fprintf(os.Stderr, "-iterations %s\n", strings.Join(known, ","))
	return nil
}

func seconds(s float64) string {
	switch {
	case s < 0.1:
		return fmt.Sprintf("%.2g ms", 1000*s)
	case s < 10:
		return fmt.Sprintf("%.2f s", s)
	}
	return fmt.Sprintf("%.0f s", s)
}

// problem draws an instance exactly as solver's ipmBenchProblem does.
func problem(loss solver.Loss, n, d, p int, beta float64, seed uint64) (*solver.Problem, *solver.Arrangement) {
	rng := rand.New(rand.NewPCG(seed, uint64(n*d*p)))
	X := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < d-1; j++ {
			X.Set(i, j, rng.NormFloat64())
		}
		X.Set(i, d-1, 1)
	}
	U := mat.NewDense(5, d, nil)
	alpha := make([]float64, 5)
	for j := 0; j < 5; j++ {
		for c := 0; c < d; c++ {
			U.Set(j, c, rng.NormFloat64()/math.Sqrt(float64(d)))
		}
		alpha[j] = rng.NormFloat64()
	}
	f, err := (&solver.Network{U: U, Alpha: alpha}).Predict(X)
	if err != nil {
		panic(err)
	}
	y := make([]float64, n)
	if loss == solver.Squared {
		for k := range y {
			y[k] = f[k] + 0.1*rng.NormFloat64()
		}
	} else {
		noisy := make([]float64, n)
		for k := range noisy {
			noisy[k] = f[k] + 0.3*rng.NormFloat64()
		}
		sorted := slices.Clone(noisy)
		slices.Sort(sorted)
		med := sorted[n/2]
		for k := range y {
			y[k] = -1
			if noisy[k] >= med {
				y[k] = 1
			}
		}
	}
	arr, err := solver.SampleArrangement(X, p, seed)
	if err != nil {
		panic(err)
	}
	return &solver.Problem{X: X, Y: y, Loss: loss, Beta: beta}, arr
}

// solveGo solves the instance once untimed (the first solves of a process pay for
// growing the heap) and then -repeat times to a 1e-6 gap, and returns the result of
// the solve that took the least CPU time, and that time in seconds.
func solveGo(prob *solver.Problem, arr *solver.Arrangement) (*solver.Result, float64, error) {
	var best *solver.Result
	bestCPU := math.Inf(1)
	for i := range *repeatFlag + 1 {
		cpu0 := cpuSeconds()
		res, err := solver.Solve(context.Background(), prob, &solver.Settings{Arrangement: arr, Tolerance: 1e-6}, &solver.InteriorPoint{})
		if err != nil {
			return nil, 0, err
		}
		if t := cpuSeconds() - cpu0; i > 0 && t < bestCPU {
			best, bestCPU = res, t
		}
	}
	return best, bestCPU, nil
}

// cpuSeconds returns the CPU time of the process (user and system, all threads).
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func writeInstance(path string, prob *solver.Problem, arr *solver.Arrangement) error {
	n, _ := prob.X.Dims()
	rows := make([][]float64, n)
	for k := range rows {
		rows[k] = mat.Row(nil, k, prob.X)
	}
	pats := make([]string, arr.Len())
	for i := range pats {
		b := make([]byte, n)
		for k := range b {
			b[k] = '0'
			if arr.Active(i, k) {
				b[k] = '1'
			}
		}
		pats[i] = string(b)
	}
	data, err := json.Marshal(map[string]any{"program": "relu", "loss": prob.Loss.String(), "beta": prob.Beta,
		"X": rows, "y": prob.Y, "patterns": pats})
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// cvxResult is what cvxopt_ref.py reports (the fields used here).
type cvxResult struct {
	Objective      float64   `json:"objective"`
	Status         string    `json:"status"`
	Seconds        float64   `json:"seconds"`
	CPUSeconds     float64   `json:"cpu_seconds"`
	FirstIteration float64   `json:"first_iteration_seconds"`
	IterationTimes []float64 `json:"iteration_seconds"`
	FirstCPU       float64   `json:"first_iteration_cpu_seconds"`
	IterationCPU   []float64 `json:"iteration_cpu_seconds"`
	Iterations     int       `json:"-"` // counted from IterationTimes
}

// solveCvxopt times -timed iterations of cvxopt; when they predict a full solve (at
// the iterations of the last full solve of this loss and β, or 40) within -full it
// solves to the end, otherwise it returns the prediction (estimated = true).
// Iterations are counted from cvxopt's progress lines (its "iterations" field is
// missing for the logistic loss).
func solveCvxopt(path string, abstol float64, knownIters int) (*cvxResult, bool, error) {
	start, err := cvxopt(path, abstol, *timedFlag)
	if err != nil {
		return nil, false, err
	}
	if start.Status == "optimal" {
		start.Iterations = len(start.IterationTimes)
		return start, false, nil
	}
	iters := knownIters
	if iters == 0 {
		iters = 40
	}
	predicted := start.FirstIteration + mean(start.IterationTimes)*float64(iters)
	if predicted <= fullFlag.Seconds() {
		full, err := cvxopt(path, abstol, 0)
		if err != nil {
			return nil, false, err
		}
		full.Iterations = len(full.IterationTimes)
		return full, false, nil
	}
	if knownIters == 0 {
		return nil, false, fmt.Errorf("predicted %.0f s at 40 iterations, longer than -full, and no smaller instance of this loss and β was solved to the end", predicted)
	}
	return &cvxResult{Seconds: predicted, CPUSeconds: start.FirstCPU + mean(start.IterationCPU)*float64(iters), Iterations: iters}, true, nil
}

func cvxopt(path string, abstol float64, maxiters int) (*cvxResult, error) {
	in, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	args := []string{script, "solve", "--abstol", strconv.FormatFloat(abstol, 'g', -1, 64)}
	if maxiters > 0 {
		args = append(args, "--maxiters", strconv.Itoa(maxiters))
	}
	cmd := exec.Command("/usr/bin/python3", args...)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("cvxopt: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var r cvxResult
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
