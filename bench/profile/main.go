// Command profile runs the solver's performance profile, in the manner of the
// benchmark of the scnn library: a grid of data sets × losses × β, each program
// solved by every method of package solver that solves the convex program
// (MATH.md §3), beside cvxopt's interior-point method on the identical program and
// PyTorch's Adam on the non-convex one, and reports the share of problems certified
// to a relative duality gap of 1e-4 and 1e-6 against wall time.
//
//	go run ./bench/profile -quick                  # 12 small problems, Go methods only
//	go run ./bench/profile                         # the full grid (hours)
//	go run ./bench/profile -data iris-1v2,spirals -loss hinge -beta 1e-3 -methods admm,cvxopt
//	go run ./bench/profile -summary-only           # the summary of what was measured
//	go run ./bench/profile -reuse bench/profile/results-baseline.jsonl  # cvxopt and Adam records copied, not rerun
//
// Every problem is the Problem of package solver (loss summed over the points, β the
// weight decay) on a data set with a bias column, and P = 64 sampled patterns (fixed
// seed, one arrangement per data set, the same for every method). For each problem
// and method, the program is solved with Settings.Tolerance 1e-4 and then 1e-6, each
// within -timelimit; a solve is certified when it ends Optimal with a certified gap
// (Result.Gap) within the tolerance, and its time is the wall time of the Solve call.
// A tighter tolerance is not run after a looser one failed: the iterates do not
// depend on the tolerance, so it cannot be certified sooner. The history of the 1e-4
// solve also gives the time of its first certificate ≤ 1e-2.
//
// cvxopt (solver/testdata/cvxopt_ref.py with Debian's /usr/bin/python3) solves the
// programs of at most -cvxopt-max-weights weights (2·P·d) with reltol = tolerance;
// Adam (bench/torch/adam.py: torch.optim.Adam, full batch, float64) trains a network
// as wide as the convex solution's active neurons from solver.InitialNetwork, at each
// of -adam-lrs, until its objective is within 1 % of the certified optimum F*.
//
// Results go to a JSON-lines file, one line per solve, written as they are measured:
// a rerun skips what the file holds (same problem, method, tolerance and thread
// count), so an interrupted run resumes. The summary (Markdown, standard output)
// gives the profile table, the problems not certified, the speed-up over cvxopt per
// program, the time ratio against Adam and a check of every certified objective
// against cvxopt's; the profile itself is written as JSON ([]display.ProfileRun) for
// display.ProfilePlot.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gocvx/gocvx/display"
)

// The full grid.
const (
	allData   = "breast,digits-3v8,digits-4v9,iris-1v2,iris-0v1,mnist10-2v8,mnist10-3v5,mnist28-2v8,spirals"
	allLosses = "squared,hinge,logistic"
	allBetas  = "1e-4,1e-3,1e-2,1e-1,1,0.02n"
)

type config struct {
	data, losses, betas, methods []string
	tols, lrs                    []float64
	patterns                     int
	seed                         uint64
	timeLimit, cvxoptLimit       time.Duration
	maxIter                      int
	adamBudget                   time.Duration
	threads                      int
	cvxoptMax, denseMax          int
	within                       float64
	out, profileOut, plot        string
	reuse                        string
	summaryOnly, cpu             bool
}

func main() {
	var c config
	data := flag.String("data", allData, "comma-separated data sets: breast, digits-AvB, iris-AvB, mnist10-AvB, mnist28-AvB, spirals")
	losses := flag.String("loss", allLosses, "comma-separated losses")
	betas := flag.String("beta", allBetas, "comma-separated β: numbers, or multiples of n such as 0.02n")
	methods := flag.String("methods", "default,admm,ipm,cvxopt,adam", "comma-separated methods: "+methodNames())
	tols := flag.String("tols", "1e-4,1e-6", "comma-separated relative gaps to certify")
	flag.IntVar(&c.patterns, "patterns", 64, "Gaussian directions sampled for the arrangement (P after duplicates are dropped)")
	flag.Uint64Var(&c.seed, "seed", 1, "seed of the arrangement and of Adam's initial weights")
	flag.DurationVar(&c.timeLimit, "timelimit", 60*time.Second, "time limit of each solve of a Go method")
	flag.IntVar(&c.maxIter, "max-iterations", 0, "Settings.MaxIterations of the Go methods (0: each method's default, e.g. ADMM's 10 000, which may end a solve before -timelimit)")
	flag.DurationVar(&c.cvxoptLimit, "cvxopt-timelimit", 10*time.Minute, "time limit of each cvxopt solve")
	flag.DurationVar(&c.adamBudget, "adam-budget", 60*time.Second, "time limit of each Adam run (per learning rate)")
	flag.IntVar(&c.threads, "threads", 1, "threads: GOMAXPROCS, and OpenBLAS's and PyTorch's threads")
	flag.IntVar(&c.cvxoptMax, "cvxopt-max-weights", 2000, "largest program (2·P·d weights) given to cvxopt")
	flag.IntVar(&c.denseMax, "dense-max-weights", 4000, "largest program given to methods that factor a dense 2Pd × 2Pd system (InteriorPoint)")
	lrs := flag.String("adam-lrs", "0.001,0.003,0.01,0.03,0.1", "Adam's learning rates; the best is reported")
	flag.Float64Var(&c.within, "adam-within", 0.01, "relative distance to F* that Adam must reach")
	flag.StringVar(&c.out, "out", filepath.Join(sourceDir(), "results.jsonl"), "results file (JSON lines; appended, and read to resume)")
	flag.StringVar(&c.reuse, "reuse", "", "an earlier results file whose cvxopt and Adam records (which do not depend on package solver) of the selected problems are copied into -out instead of measured again, keeping their dates and loads")
	flag.StringVar(&c.profileOut, "profile-out", "", "where to write the profile as JSON []display.ProfileRun (default: the results file's name with -profile.json)")
	flag.StringVar(&c.plot, "plot", "", "also draw the profile (display.ProfilePlot) to this file, .png or .svg")
	flag.BoolVar(&c.cpu, "cpu", false, "summarize (profile, speed-ups over cvxopt) in CPU seconds instead of wall-clock seconds: steadier on a loaded machine")
	flag.BoolVar(&c.summaryOnly, "summary-only", false, "measure nothing: summarize the results file for the selection")
	quick := flag.Bool("quick", false, "a CI-sized subset: -data iris-1v2,spirals -beta 1e-2,1 -timelimit 10s -methods default,admm,ipm, into a new file in the temporary directory, unless given")
	flag.Parse()
	if *quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range map[string]string{"data": "iris-1v2,spirals", "beta": "1e-2,1", "timelimit": "10s",
			"methods": "default,admm,ipm", "out": filepath.Join(os.TempDir(), fmt.Sprintf("gocvx-profile-quick-%d.jsonl", os.Getpid()))} {
			if !set[name] {
				if err := flag.Set(name, v); err != nil {
					fatal(err)
				}
			}
		}
	}
	c.data, c.losses, c.betas, c.methods = split(*data), split(*losses), split(*betas), split(*methods)
	var err error
	if c.tols, err = floats(*tols); err != nil {
		fatal(fmt.Errorf("-tols: %v", err))
	}
	if c.lrs, err = floats(*lrs); err != nil {
		fatal(fmt.Errorf("-adam-lrs: %v", err))
	}
	if c.profileOut == "" {
		c.profileOut = strings.TrimSuffix(c.out, ".jsonl") + "-profile.json"
	}
	if err := run(&c); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "profile:", err)
	os.Exit(1)
}

func methodNames() string {
	var names []string
	for _, m := range goMethods {
		names = append(names, m.name)
	}
	return strings.Join(append(names, methodCvxopt, methodAdam), ", ")
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func floats(s string) ([]float64, error) {
	var out []float64
	for _, f := range split(s) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || !(v > 0) {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no values")
	}
	return out, nil
}

func run(c *config) error {
	for _, m := range c.methods {
		if _, ok := findGoMethod(m); !ok && m != methodCvxopt && m != methodAdam {
			return fmt.Errorf("unknown method %q (%s)", m, methodNames())
		}
	}
	if c.threads < 1 {
		return fmt.Errorf("-threads must be ≥ 1")
	}
	runtime.GOMAXPROCS(c.threads)
	probs, err := problems(c.data, c.losses, c.betas, c.patterns, c.seed)
	if err != nil {
		return err
	}
	recs, err := readRecords(c.out)
	if err != nil {
		return err
	}
	load0 := loadAverage()
	start := time.Now()
	if c.reuse != "" { // copying is not measuring: also with -summary-only
		if recs, err = reuse(c, probs, recs); err != nil {
			return err
		}
	}
	if !c.summaryOnly {
		if recs, err = measure(c, probs, recs); err != nil {
			return err
		}
	}
	// The summary is over the selected problems that were measured (all of them
	// after a full run; fewer when summarizing a partial file).
	measured := map[string]bool{}
	for _, r := range recs {
		if r.Threads == c.threads && contains(c.methods, r.Method) {
			measured[r.Problem] = true
		}
	}
	var ids []string
	for _, p := range probs {
		if measured[p.id] {
			ids = append(ids, p.id)
		}
	}
	if len(ids) == 0 {
		return fmt.Errorf("%s holds no measurement of the %d selected problems by %s at %d thread(s)", c.out, len(probs), strings.Join(c.methods, ", "), c.threads)
	}
	t := newTable(recs, ids, c.methods, c.tols, c.within, c.threads)
	t.cpu = c.cpu
	profile, err := json.MarshalIndent(t.profiles(), "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(c.profileOut, append(profile, '\n'), 0o644); err != nil {
		return err
	}
	if c.plot != "" {
		if err := writePlot(c.plot, t.profiles()); err != nil {
			return err
		}
	}
	fmt.Printf("# Performance profile\n\n")
	fmt.Printf("Command: `go run ./bench/profile %s` (%s/%s, %d CPUs, %d thread(s), %s). Results: %s; profile for display.ProfilePlot: %s.\n\n",
		strings.Join(os.Args[1:], " "), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), c.threads, runtime.Version(), c.out, c.profileOut)
	if !c.summaryOnly {
		fmt.Printf("This run: %s, %v, load average %.1f at the start and %.1f at the end.\n\n", start.UTC().Format("2006-01-02 15:04 MST"), time.Since(start).Round(time.Second), load0, loadAverage())
	}
	if len(ids) < len(probs) {
		fmt.Printf("Measured so far: %d of the %d selected problems.\n\n", len(ids), len(probs))
	}
	t.write(os.Stdout)
	return nil
}

// measure runs every selected method on every problem that the results file does
// not already hold, appending each record as it is measured, and returns all
// records.
func measure(c *config, probs []*problem, recs []*record) ([]*record, error) {
	have := map[string]bool{}
	for _, r := range recs {
		have[r.key()] = true
	}
	app, err := openAppender(c.out)
	if err != nil {
		return nil, err
	}
	defer app.close()
	e := &env{timeLimit: c.timeLimit, maxIter: c.maxIter, threads: c.threads, seed: c.seed}
	tols := sortedDesc(c.tols)
	missing := func(p *problem, method string, tols []float64) bool {
		for _, tol := range tols {
			if !have[recordKey(p.id, method, tol, c.threads)] {
				return true
			}
		}
		return false
	}
	save := func(rs ...*record) error {
		for _, r := range rs {
			if err := app.write(r); err != nil {
				return err
			}
			have[r.key()] = true
			recs = append(recs, r)
			logRecord(r)
		}
		return nil
	}
	for _, p := range probs {
		for _, name := range c.methods {
			m, isGo := findGoMethod(name)
			switch {
			case !missing(p, name, tols) || name == methodAdam:
			case isGo && m.dense && p.weights() > c.denseMax:
				logSkip(p, name, fmt.Sprintf("%d weights > -dense-max-weights %d", p.weights(), c.denseMax))
			case isGo:
				if err := save(e.runGo(m, p, tols)...); err != nil {
					return nil, err
				}
			case p.weights() > c.cvxoptMax: // cvxopt
				logSkip(p, name, fmt.Sprintf("%d weights > -cvxopt-max-weights %d", p.weights(), c.cvxoptMax))
			default:
				if err := save(e.runCvxopt(p, tols, c.cvxoptLimit)...); err != nil {
					return nil, err
				}
			}
		}
		if !contains(c.methods, methodAdam) || !missing(p, methodAdam, []float64{c.within}) {
			continue
		}
		var mine []*record
		for _, r := range recs {
			if r.Problem == p.id && r.Threads == c.threads {
				mine = append(mine, r)
			}
		}
		fstar, width, ok := optimum(mine)
		if !ok {
			logSkip(p, methodAdam, "no certified optimum F* to approach")
			continue
		}
		if err := save(e.runAdam(p, fstar, width, c.within, c.lrs, c.adamBudget)); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

// reuse appends to the results file the records of c.reuse by cvxopt and Adam (the
// methods that do not run package solver, so a new solver does not change them) for
// the selected problems, methods and thread count that the file does not hold yet,
// and returns all records. An Adam record keeps the optimum F* it approached, which
// is the same for every solver that certifies it.
func reuse(c *config, probs []*problem, recs []*record) ([]*record, error) {
	old, err := readRecords(c.reuse)
	if err != nil {
		return nil, err
	}
	selected := map[string]bool{}
	for _, p := range probs {
		selected[p.id] = true
	}
	have := map[string]bool{}
	for _, r := range recs {
		have[r.key()] = true
	}
	app, err := openAppender(c.out)
	if err != nil {
		return nil, err
	}
	defer app.close()
	n := 0
	for _, r := range old {
		if (r.Method != methodCvxopt && r.Method != methodAdam) || !contains(c.methods, r.Method) ||
			!selected[r.Problem] || r.Threads != c.threads || have[r.key()] {
			continue
		}
		if err := app.write(r); err != nil {
			return nil, err
		}
		have[r.key()] = true
		recs = append(recs, r)
		n++
	}
	fmt.Fprintf(os.Stderr, "reused %d cvxopt and Adam records of %s\n", n, c.reuse)
	return recs, nil
}

func logRecord(r *record) {
	what := r.Status
	if r.Certified {
		what = fmt.Sprintf("%s in %.3g s", r.Status, *r.Seconds)
	}
	if r.Gap != nil {
		what += fmt.Sprintf(", gap %.2g", *r.Gap)
	}
	if r.Message != "" && !r.Certified {
		what += ": " + r.Message
	}
	fmt.Fprintf(os.Stderr, "%s %s %g: %s (%.1f s)\n", r.Problem, label(r.Method), r.Tolerance, what, r.Runtime)
}

func logSkip(p *problem, method, why string) {
	fmt.Fprintf(os.Stderr, "%s %s: not run (%s)\n", p.id, label(method), why)
}

// writePlot draws the profile with display.ProfilePlot as PNG or SVG, by the file's
// extension.
func writePlot(path string, runs []display.ProfileRun) error {
	fig := display.ProfilePlot(runs)
	if fig.Err != nil {
		return fig.Err
	}
	var data []byte
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		data = fig.PNG()
	case ".svg":
		data = []byte(fig.SVG())
	default:
		return fmt.Errorf("-plot %s: the file must end in .png or .svg", path)
	}
	return os.WriteFile(path, data, 0o644)
}
