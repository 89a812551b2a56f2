package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gocvx/gocvx/bench/internal/refinstance"
	"github.com/gocvx/gocvx/internal/testenv"
	"github.com/gocvx/gocvx/solver"
)

// goMethod is a method of package solver that solves the convex program of the
// profile (MATH.md §3) and certifies its gap. Keep this table current: a method
// added to the solver that solves this program belongs here.
type goMethod struct {
	name  string // in -methods
	label string // in tables and plots
	doc   string
	// make returns the Method given to Solve (nil: Solve's default).
	make func() solver.Method
	// dense is set for methods that factor a dense 2Pd × 2Pd system: they are run
	// only up to -dense-max-weights weights.
	dense bool
}

var goMethods = []goMethod{
	{name: "default", label: "default", doc: "Solve(ctx, prob, settings, nil), the solver's default route", make: func() solver.Method { return nil }},
	{name: "admm", label: "ADMM", doc: "&solver.ADMM{}", make: func() solver.Method { return &solver.ADMM{} }},
	{name: "admm-slack", label: "ADMM (slack)", doc: "&solver.ADMM{Slack: true}", make: func() solver.Method { return &solver.ADMM{Slack: true} }},
	{name: "admm-warm", label: "ADMM (warm start)", doc: "&solver.ADMM{WarmStart: true}", make: func() solver.Method { return &solver.ADMM{WarmStart: true} }},
	{name: "ipm", label: "InteriorPoint", doc: "&solver.InteriorPoint{}, where it supports the loss", make: func() solver.Method { return &solver.InteriorPoint{} }, dense: true},
}

// The methods that are not in package solver.
const (
	methodCvxopt = "cvxopt"
	methodAdam   = "adam"
)

func findGoMethod(name string) (goMethod, bool) {
	for _, m := range goMethods {
		if m.name == name {
			return m, true
		}
	}
	return goMethod{}, false
}

// env is what every measurement records about its circumstances.
type env struct {
	timeLimit time.Duration
	maxIter   int // Settings.MaxIterations of the Go methods (0: each method's default)
	threads   int
	seed      uint64
}

// base returns a record of p by method, with the problem's and the run's fields.
func (e *env) base(p *problem, method string, tol float64) *record {
	n, d := p.prob.X.Dims()
	return &record{
		Problem: p.id, Data: p.data, Loss: p.loss.String(), BetaLabel: p.betaLabel, Beta: p.prob.Beta,
		N: n, D: d, Patterns: p.arr.Len(), Weights: p.weights(), Method: method, Tolerance: tol,
		TimeLimit: e.timeLimit.Seconds(), MaxIterations: e.maxIter, Threads: e.threads, Load: num(loadAverage()),
		Date: time.Now().UTC().Format(time.RFC3339),
	}
}

// notReached is the record of a tighter tolerance after the looser one was not
// certified: the methods' iterates do not depend on the tolerance (it only stops
// them), so the tighter one cannot be certified sooner, and is not run.
func notReached(r *record, looser float64) *record {
	r.Status = "not run"
	r.Message = fmt.Sprintf("%g was not certified (same iterates, so %g cannot be certified within the time limit either)", looser, r.Tolerance)
	return r
}

// runGo solves p with m to each tolerance (loosest first) within the time limit.
func (e *env) runGo(m goMethod, p *problem, tols []float64) []*record {
	var out []*record
	var prev *record
	for _, tol := range tols {
		r := e.base(p, m.name, tol)
		if prev != nil && !prev.Certified {
			out = append(out, notReached(r, prev.Tolerance))
			prev = r
			continue
		}
		s := &solver.Settings{Arrangement: p.arr, Tolerance: tol, TimeLimit: e.timeLimit, MaxIterations: e.maxIter, Seed: e.seed}
		cpu0, start := cpuSeconds(), time.Now()
		res, err := solver.Solve(context.Background(), p.prob, s, m.make())
		wall := time.Since(start)
		r.Runtime, r.CPU = wall.Seconds(), cpuSeconds()-cpu0
		if err != nil {
			r.Status, r.Message = "error", err.Error()
		} else {
			fillResult(r, res, tol, wall, prev == nil)
		}
		out = append(out, r)
		prev = r
		runtime.GC() // the next solve's time should not pay for this one's garbage
	}
	return out
}

// fillResult records a solve's outcome. A solve is certified when it ended Optimal
// with a finite certified gap ≤ tol; its time is the wall time of the Solve call.
func fillResult(r *record, res *solver.Result, tol float64, wall time.Duration, first bool) {
	r.Route = res.Method
	if res.Factorization != "" {
		r.Route += " (" + res.Factorization + ")"
	}
	r.Status, r.Message = res.Status.String(), res.Message
	r.Objective, r.Gap, r.Iterations, r.Neurons = num(res.Objective), num(res.Gap), res.Iterations, res.ActiveNeurons
	if res.Certificate != nil {
		r.ConeViolation = num(res.Certificate.ConeViolation)
	}
	r.Certified = res.Status == solver.Optimal && res.Gap <= tol && !math.IsNaN(res.Gap)
	if r.Certified {
		r.Seconds = num(wall.Seconds())
	}
	if first {
		for _, it := range res.History {
			if !math.IsNaN(it.DualityGap) && it.DualityGap <= 1e-2 {
				r.SecondsGap1e2 = num(it.Elapsed.Seconds())
				break
			}
		}
		if r.SecondsGap1e2 == nil && r.Certified && tol <= 1e-2 {
			r.SecondsGap1e2 = num(wall.Seconds())
		}
	}
}

// sourceDir is the directory of this file, to find the scripts of the repository.
func sourceDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// cvxoptOut is what cvxopt_ref.py solve prints.
type cvxoptOut struct {
	Objective  float64  `json:"objective"`
	Status     string   `json:"status"`
	Seconds    float64  `json:"seconds"`
	Iterations int      `json:"iterations"`
	Gap        *float64 `json:"relative_gap"`
	CPU        float64  `json:"cpu_seconds"`
}

// runCvxopt solves p with cvxopt's interior-point method (solver/testdata/cvxopt_ref.py
// on the identical program) to each tolerance as its reltol, loosest first, each
// within limit. Certified means cvxopt's status "optimal"; the time is its solve
// (after the problem is set up in Python).
func (e *env) runCvxopt(p *problem, tols []float64, limit time.Duration) []*record {
	in, err := json.Marshal(refinstance.New(p.prob, p.arr))
	script := filepath.Join(sourceDir(), "..", "..", "solver", "testdata", "cvxopt_ref.py")
	var out []*record
	var prev *record
	for _, tol := range tols {
		r := e.base(p, methodCvxopt, tol)
		r.TimeLimit = limit.Seconds()
		r.Route = "cvxopt"
		switch {
		case err != nil:
			r.Status, r.Message = "error", err.Error()
		case prev != nil && !prev.Certified:
			notReached(r, prev.Tolerance)
		default:
			e.cvxoptSolve(r, script, in, tol, limit)
		}
		out = append(out, r)
		prev = r
	}
	return out
}

func (e *env) cvxoptSolve(r *record, script string, in []byte, tol float64, limit time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Python, script, "solve", "--reltol", strconv.FormatFloat(tol, 'g', -1, 64))
	cmd.Stdin = bytes.NewReader(in)
	threads := strconv.Itoa(e.threads)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS="+threads, "OPENBLAS_NUM_THREADS="+threads)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	stdout, err := cmd.Output()
	r.ProcessSeconds = time.Since(start).Seconds()
	r.Runtime = r.ProcessSeconds
	switch {
	case ctx.Err() != nil:
		r.Status, r.Message = "time limit", fmt.Sprintf("killed after %v", limit)
		return
	case err != nil:
		r.Status, r.Message = "error", fmt.Sprintf("%v: %s", err, lastLine(stderr.String()))
		return
	}
	var o cvxoptOut
	if err := json.Unmarshal(stdout, &o); err != nil {
		r.Status, r.Message = "error", "cvxopt_ref.py output: "+err.Error()
		return
	}
	r.Status, r.Objective, r.Iterations, r.Runtime, r.CPU = o.Status, num(o.Objective), o.Iterations, o.Seconds, o.CPU
	if o.Gap != nil {
		r.Gap = num(*o.Gap)
	}
	r.Certified = o.Status == "optimal"
	if r.Certified {
		r.Seconds = num(o.Seconds)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// adamJob is the input of bench/torch/adam.py (see its docstring).
type adamJob struct {
	X         [][]float64 `json:"X"`
	Y         []float64   `json:"y"`
	U0        [][]float64 `json:"U0"`
	Alpha0    []float64   `json:"alpha0"`
	Loss      string      `json:"loss"`
	Beta      float64     `json:"beta"`
	LR        float64     `json:"lr"`
	Steps     int         `json:"steps"`
	TimeLimit float64     `json:"time_limit"`
	Target    float64     `json:"target"`
	Threads   int         `json:"threads"`
}

type adamOut struct {
	Objective []float64 `json:"objective"`
	Elapsed   []float64 `json:"elapsed"`
	Steps     int       `json:"steps"`
}

// optimum returns the certified optimum F* of a problem, the least objective of the
// records certified to a relative gap ≤ 1e-4, and the width of the network to
// train: the active neurons of the Go solve with the least objective (as bench/torch
// takes the convex solution's). ok is false without a certified optimum or a width.
func optimum(recs []*record) (fstar float64, width int, ok bool) {
	fstar = math.Inf(1)
	best := math.Inf(1)
	for _, r := range recs {
		if r.Objective == nil {
			continue
		}
		if r.Certified && r.Tolerance <= 1e-4 && r.Method != methodAdam {
			fstar = math.Min(fstar, *r.Objective)
		}
		if r.Neurons > 0 && *r.Objective < best {
			best, width = *r.Objective, r.Neurons
		}
	}
	return fstar, width, !math.IsInf(fstar, 1) && width > 0
}

// runAdam trains the width-m network with PyTorch's full-batch Adam (bench/torch's
// adam.py: same objective, float64, initial weights from solver.InitialNetwork) at
// each learning rate for at most budget, and records the best time to an objective
// ≤ (1 + within)·F*.
func (e *env) runAdam(p *problem, fstar float64, m int, within float64, lrs []float64, budget time.Duration) *record {
	r := e.base(p, methodAdam, within)
	r.Route = "torch.optim.Adam"
	r.TimeLimit = budget.Seconds()
	r.Width, r.Optimum = m, fstar
	r.Target = fstar + within*math.Abs(fstar)
	_, d := p.prob.X.Dims()
	init, err := solver.InitialNetwork(m, d, 1, e.seed)
	if err != nil {
		r.Status, r.Message = "error", err.Error()
		return r
	}
	r.LRSeconds = map[string]*float64{}
	best, bestObj := math.Inf(1), math.Inf(1)
	start := time.Now()
	for _, lr := range lrs {
		job := adamJob{X: refinstance.Rows(p.prob.X), Y: p.prob.Y, U0: refinstance.Rows(init.U), Alpha0: init.Alpha,
			Loss: p.loss.String(), Beta: p.prob.Beta, LR: lr, Steps: math.MaxInt32,
			TimeLimit: budget.Seconds(), Target: r.Target, Threads: e.threads}
		out, err := runAdamScript(job, budget+time.Minute)
		key := strconv.FormatFloat(lr, 'g', -1, 64)
		if err != nil {
			r.Status, r.Message = "error", fmt.Sprintf("lr %g: %v", lr, err)
			return r
		}
		r.LRSeconds[key] = nil
		for i, v := range out.Objective {
			bestObj = math.Min(bestObj, v)
			if v <= r.Target {
				r.LRSeconds[key] = num(out.Elapsed[i])
				if out.Elapsed[i] < best {
					best, r.LR, r.Iterations = out.Elapsed[i], lr, i
				}
				break
			}
		}
	}
	r.Runtime = time.Since(start).Seconds()
	r.Objective = num(bestObj)
	r.Certified = !math.IsInf(best, 1)
	r.Status = "not reached"
	if r.Certified {
		r.Status, r.Seconds = "reached", num(best)
	}
	return r
}

func runAdamScript(job adamJob, limit time.Duration) (*adamOut, error) {
	in, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Python, filepath.Join(sourceDir(), "..", "torch", "adam.py"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("adam.py: %v: %s", err, lastLine(stderr.String()))
	}
	var out adamOut
	if err := json.Unmarshal(stdout, &out); err != nil {
		return nil, fmt.Errorf("adam.py output: %v", err)
	}
	if len(out.Objective) != len(out.Elapsed) {
		return nil, fmt.Errorf("adam.py: %d objectives and %d times", len(out.Objective), len(out.Elapsed))
	}
	return &out, nil
}

// sortedDesc returns the tolerances loosest first.
func sortedDesc(tols []float64) []float64 {
	out := append([]float64(nil), tols...)
	sort.Sort(sort.Reverse(sort.Float64Slice(out)))
	return out
}
