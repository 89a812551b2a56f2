package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"
	"strings"

	"github.com/gocvx/gocvx/display"
)

// table holds the records of one selection (problems × methods × tolerances at one
// thread count) for the summary.
type table struct {
	problems []string  // in grid order
	methods  []string  // as selected: Go methods, cvxopt, adam
	tols     []float64 // loosest first
	within   float64   // Adam's relative distance to F*
	rec      map[string]*record
	threads  int
	// cpu measures the profile and the speed-ups over cvxopt in CPU seconds instead
	// of wall-clock seconds (Adam, without a CPU time, stays in wall time).
	cpu bool
}

func newTable(recs []*record, problems, methods []string, tols []float64, within float64, threads int) *table {
	t := &table{problems: problems, methods: methods, tols: sortedDesc(tols), within: within, threads: threads, rec: map[string]*record{}}
	for _, r := range recs {
		if r.Threads == threads {
			t.rec[r.key()] = r // a later line (a re-measurement) wins
		}
	}
	return t
}

// secs returns the time of a certified record on the table's clock, +Inf when
// not certified.
func (t *table) secs(r *record) float64 {
	s := r.seconds()
	if t.cpu && !math.IsInf(s, 1) && r.CPU > 0 {
		return r.CPU
	}
	return s
}

func (t *table) get(problem, method string, tol float64) *record {
	return t.rec[recordKey(problem, method, tol, t.threads)]
}

// methodTols returns the tolerances a method is measured at: Adam's one distance,
// everyone else's tolerances.
func (t *table) methodTols(method string) []float64 {
	if method == methodAdam {
		return []float64{t.within}
	}
	return t.tols
}

// label names a method in tables and plots.
func label(method string) string {
	switch method {
	case methodAdam:
		return "Adam (PyTorch)"
	case methodCvxopt:
		return "cvxopt"
	}
	if m, ok := findGoMethod(method); ok {
		return m.label
	}
	return method
}

// profiles returns one ProfileRun per method and tolerance over all the selected
// problems: the certified time, +Inf where the method did not certify the problem
// or was not run on it (cvxopt beyond its size limit, Adam without an optimum).
func (t *table) profiles() []display.ProfileRun {
	var runs []display.ProfileRun
	for _, m := range t.methods {
		for _, tol := range t.methodTols(m) {
			run := display.ProfileRun{Method: label(m), Tolerance: tol, Seconds: make([]float64, len(t.problems))}
			if m == methodAdam {
				run.Method = fmt.Sprintf("Adam (PyTorch), within %g %% of F*", 100*t.within)
			}
			for i, p := range t.problems {
				run.Seconds[i] = t.secs(t.get(p, m, tol))
			}
			runs = append(runs, run)
		}
	}
	return runs
}

// ran counts the problems a method has a record of at tol (measured, or recorded as
// not run because a looser tolerance failed).
func (t *table) ran(method string, tol float64) int {
	c := 0
	for _, p := range t.problems {
		if t.get(p, method, tol) != nil {
			c++
		}
	}
	return c
}

// median returns the median of v (the mean of the middle two for an even count,
// +Inf when one of them is); NaN for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	k := len(s) / 2
	if len(s)%2 == 1 {
		return s[k]
	}
	return (s[k-1] + s[k]) / 2
}

// ratio is one problem's comparison of two times.
type ratio struct {
	problem string
	num     float64 // seconds (or +Inf)
	den     float64
}

// value is num/den: +Inf when only den is finite, 0 when only num is, NaN when
// neither is.
func (r ratio) value() float64 {
	switch ni, di := math.IsInf(r.num, 1), math.IsInf(r.den, 1); {
	case ni && di:
		return math.NaN()
	case ni:
		return math.Inf(1)
	case di:
		return 0
	}
	return r.num / r.den
}

// ratios pairs the times of method a (numerator) and b on every problem where b has
// a record, e.g. cvxopt's time over ADMM's (the speed-up), or ADMM's over Adam's.
func (t *table) ratios(a string, tolA float64, b string, tolB float64) []ratio {
	var out []ratio
	for _, p := range t.problems {
		ra, rb := t.get(p, a, tolA), t.get(p, b, tolB)
		if ra == nil || rb == nil {
			continue
		}
		out = append(out, ratio{problem: p, num: t.secs(ra), den: t.secs(rb)})
	}
	return out
}

// gapTo1e2 returns the record of the method's loosest solve with its time to a
// certified gap of 1e-2 as Seconds (for the comparison with Adam within 1 %).
func (t *table) gapTo1e2(problem, method string) *record {
	r := t.get(problem, method, t.tols[0])
	if r == nil {
		return nil
	}
	c := *r
	c.Certified, c.Seconds = r.SecondsGap1e2 != nil, r.SecondsGap1e2
	return &c
}

// medianRatio returns the median of the defined ratios and how many there were.
func medianRatio(rs []ratio) (float64, int) {
	var v []float64
	for _, r := range rs {
		if x := r.value(); !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	return median(v), len(v)
}

// thresholds of the summary's profile table, in seconds.
var thresholds = []float64{0.1, 1, 10, 60}

func (t *table) clock() string {
	if t.cpu {
		return "CPU time (user + system, all threads)"
	}
	return "wall-clock time"
}

func fmtSeconds(s float64) string {
	switch {
	case math.IsInf(s, 1):
		return "—"
	case s < 0.1:
		return fmt.Sprintf("%.3f s", s)
	case s < 10:
		return fmt.Sprintf("%.2f s", s)
	}
	return fmt.Sprintf("%.1f s", s)
}

func fmtRatio(x float64) string {
	switch {
	case math.IsNaN(x):
		return "—"
	case math.IsInf(x, 1):
		return "∞"
	case x >= 100:
		return fmt.Sprintf("%.0f×", x)
	case x >= 10:
		return fmt.Sprintf("%.1f×", x)
	}
	return fmt.Sprintf("%.2f×", x)
}

// fmtRowRatio is a table cell of num/den: "—" when the denominator's method did
// not certify (the medians count that case as 0).
func fmtRowRatio(num, den float64) string {
	if math.IsInf(den, 1) {
		return "—"
	}
	return fmtRatio(ratio{num: num, den: den}.value())
}

func fmtTol(t float64) string { return strings.Replace(fmt.Sprintf("%.0e", t), "e-0", "e-", 1) }

// write writes the summary in Markdown: the profile table, the failures, the
// speed-ups over cvxopt, the comparison with Adam and the check of the certified
// objectives against cvxopt's.
func (t *table) write(w io.Writer) {
	fmt.Fprintf(w, "## Performance profile (%d problems)\n\n", len(t.problems))
	if lo, med, hi, first, last := t.circumstances(); first != "" {
		fmt.Fprintf(w, "Measured %s to %s; one-minute load average at the start of the solves: min %.1f, median %.1f, max %.1f (the machine has %d CPUs).\n\n", first, last, lo, med, hi, runtime.NumCPU())
	}
	fmt.Fprintf(w, "Share of the problems certified to each relative gap within a %s (Adam: within %g %% of the certified optimum F*, in wall time). \"Run on\" counts the problems the method has a record for; the others count as not solved.\n\n", t.clock(), 100*t.within)
	fmt.Fprintf(w, "| method | tolerance | run on | certified |")
	for _, th := range thresholds {
		fmt.Fprintf(w, " ≤ %g s |", th)
	}
	fmt.Fprintf(w, "\n|---|---|---|---|%s\n", strings.Repeat("---|", len(thresholds)))
	runs := t.profiles()
	k := 0
	for _, m := range t.methods {
		for _, tol := range t.methodTols(m) {
			r := runs[k]
			k++
			fmt.Fprintf(w, "| %s | %s | %d | %d (%.0f %%) |", label(m), fmtTol(tol), t.ran(m, tol), r.Solved(), 100*r.Fraction(math.MaxFloat64))
			for _, th := range thresholds {
				fmt.Fprintf(w, " %.0f %% |", 100*r.Fraction(th))
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w)
	t.writeGrids(w)
	t.writeCvxopt(w)
	t.writeAdam(w)
	t.writeCheck(w)
}

// circumstances returns the load averages and the first and last dates of the
// table's records.
func (t *table) circumstances() (lo, med, hi float64, first, last string) {
	var loads []float64
	for _, r := range t.rec {
		if !contains(t.problems, r.Problem) || !contains(t.methods, r.Method) {
			continue
		}
		if r.Load != nil {
			loads = append(loads, *r.Load)
		}
		if r.Date != "" && (first == "" || r.Date < first) {
			first = r.Date
		}
		if r.Date > last {
			last = r.Date
		}
	}
	if len(loads) == 0 {
		return math.NaN(), math.NaN(), math.NaN(), first, last
	}
	sort.Float64s(loads)
	return loads[0], median(loads), loads[len(loads)-1], first, last
}

// writeGrids writes, per method, a grid of the problems (rows data/loss, columns
// β) whose cells give the certified times at the tolerances, loosest first, or how
// the solve failed.
func (t *table) writeGrids(w io.Writer) {
	var rows, cols []string
	for _, p := range t.problems {
		row, col := splitProblem(p)
		if !contains(rows, row) {
			rows = append(rows, row)
		}
		if !contains(cols, col) {
			cols = append(cols, col)
		}
	}
	tols := make([]string, len(t.tols))
	for i, tol := range t.tols {
		tols[i] = fmtTol(tol)
	}
	fmt.Fprintf(w, "## Every problem\n\n")
	fmt.Fprintf(w, "Per method, the %s to a certified gap of %s; ✗ g: not certified, with the final certified gap g (∞: no dual bound) and why it stopped (it: iteration limit, tl: time limit, fail: failure); error: the method refused the problem; ·: not run.\n\n", t.clock(), strings.Join(tols, " / "))
	for _, m := range t.methods {
		if m == methodAdam {
			continue
		}
		fmt.Fprintf(w, "**%s**\n\n| data/loss | β = %s |\n|---|%s\n", label(m), strings.Join(cols, " | β = "), strings.Repeat("---|", len(cols)))
		for _, row := range rows {
			fmt.Fprintf(w, "| %s |", row)
			for _, col := range cols {
				fmt.Fprintf(w, " %s |", t.cell(row+"/β="+col, m))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
}

// splitProblem splits "data/loss/β=b" into "data/loss" and "b".
func splitProblem(id string) (row, col string) {
	row, col, _ = strings.Cut(id, "/β=")
	return row, col
}

// cell is a grid cell: the certified times at each tolerance, loosest first, up to
// the first failure.
func (t *table) cell(problem, method string) string {
	if !contains(t.problems, problem) {
		return ""
	}
	var parts []string
	for _, tol := range t.tols {
		r := t.get(problem, method, tol)
		switch {
		case r == nil:
			parts = append(parts, "·")
		case r.Certified:
			parts = append(parts, strings.TrimSuffix(fmtSeconds(t.secs(r)), " s"))
			continue
		case r.Status == "error":
			parts = append(parts, "error")
		case r.Status == "not run":
			parts = append(parts, "·")
		default:
			gap := "∞"
			if r.Gap != nil {
				gap = fmt.Sprintf("%.2g", *r.Gap)
			}
			parts = append(parts, fmt.Sprintf("✗ %s %s", gap, stopAbbrev(r.Status)))
		}
		break
	}
	out := strings.Join(parts, " / ")
	if len(parts) == len(t.tols) && !strings.ContainsAny(out, "✗·e") {
		out += " s"
	}
	return out
}

func stopAbbrev(status string) string {
	switch status {
	case "iteration limit":
		return "it"
	case "time limit":
		return "tl"
	case "failure":
		return "fail"
	}
	return status
}

// writeCvxopt writes the speed-up over cvxopt (cvxopt's certified time over the
// method's) on every program cvxopt was run on.
func (t *table) writeCvxopt(w io.Writer) {
	if !contains(t.methods, methodCvxopt) {
		return
	}
	fmt.Fprintf(w, "## Speed-up over cvxopt\n\n")
	fmt.Fprintf(w, "On the %s: cvxopt's solve time (its status optimal at reltol = tolerance) over the method's certified time, on the programs with at most the cvxopt limit of weights; ∞: only the method certified; —: the method did not certify the program (the medians count it as 0×).\n\n", t.clock())
	var gms []string
	for _, m := range t.methods {
		if m != methodCvxopt && m != methodAdam {
			gms = append(gms, m)
		}
	}
	fmt.Fprintf(w, "| problem | weights | tolerance | cvxopt |")
	for _, m := range gms {
		fmt.Fprintf(w, " %s | speed-up |", label(m))
	}
	fmt.Fprintf(w, "\n|---|---|---|---|%s\n", strings.Repeat("---|---|", len(gms)))
	for _, p := range t.problems {
		for _, tol := range t.tols {
			c := t.get(p, methodCvxopt, tol)
			if c == nil {
				continue
			}
			fmt.Fprintf(w, "| %s | %d | %s | %s |", p, c.Weights, fmtTol(tol), fmtSeconds(t.secs(c)))
			for _, m := range gms {
				r := t.get(p, m, tol)
				if r == nil {
					fmt.Fprintf(w, " — | — |")
					continue
				}
				fmt.Fprintf(w, " %s | %s |", fmtSeconds(t.secs(r)), fmtRowRatio(t.secs(c), t.secs(r)))
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w)
	for _, m := range gms {
		for _, tol := range t.tols {
			rs := t.ratios(methodCvxopt, tol, m, tol)
			med, n := medianRatio(rs)
			tenfold := 0
			for _, r := range rs {
				if r.value() >= 10 {
					tenfold++
				}
			}
			fmt.Fprintf(w, "- %s, %s: median speed-up %s over %d programs; at least 10× on %d\n", label(m), fmtTol(tol), fmtRatio(med), n, tenfold)
		}
	}
	fmt.Fprintln(w)
}

// writeAdam compares each method's time to a certified gap of 1e-2 and of the
// loosest tolerance with Adam's time to within 1 % of F*.
func (t *table) writeAdam(w io.Writer) {
	if !contains(t.methods, methodAdam) {
		return
	}
	fmt.Fprintf(w, "## Against Adam\n\n")
	fmt.Fprintf(w, "Time ratio method/Adam per problem: the method's time to a certified gap of 1e-2 (the first certificate ≤ 1e-2 in its history) and to %s, against PyTorch's Adam (best of the learning rates) reaching an objective within %g %% of F*; below 1× the method is faster. ∞: only Adam reached it; 0×: only the method did; problems where neither did are left out.\n\n", fmtTol(t.tols[0]), 100*t.within)
	for _, m := range t.methods {
		if m == methodAdam || m == methodCvxopt {
			continue
		}
		var r1, r4 []ratio
		for _, p := range t.problems {
			a := t.get(p, methodAdam, t.within)
			if a == nil {
				continue
			}
			if g := t.gapTo1e2(p, m); g != nil {
				r1 = append(r1, ratio{problem: p, num: g.seconds(), den: a.seconds()})
			}
			if g := t.get(p, m, t.tols[0]); g != nil {
				r4 = append(r4, ratio{problem: p, num: g.seconds(), den: a.seconds()})
			}
		}
		m1, n1 := medianRatio(r1)
		m4, n4 := medianRatio(r4)
		fmt.Fprintf(w, "- %s: median ratio to certified 1e-2 %s (%d problems), to certified %s %s (%d problems)\n", label(m), fmtRatio(m1), n1, fmtTol(t.tols[0]), fmtRatio(m4), n4)
	}
	fmt.Fprintf(w, "\n| problem | width | Adam to %g %% (lr) |", 100*t.within)
	for _, m := range t.methods {
		if m != methodAdam && m != methodCvxopt {
			fmt.Fprintf(w, " %s to 1e-2 | ratio |", label(m))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "|---|---|---|%s\n", strings.Repeat("---|---|", len(t.methods)-countOf(t.methods, methodAdam, methodCvxopt)))
	for _, p := range t.problems {
		a := t.get(p, methodAdam, t.within)
		if a == nil {
			continue
		}
		lr := ""
		if a.Certified {
			lr = fmt.Sprintf(" (%g)", a.LR)
		}
		fmt.Fprintf(w, "| %s | %d | %s%s |", p, a.Width, fmtSeconds(a.seconds()), lr)
		for _, m := range t.methods {
			if m == methodAdam || m == methodCvxopt {
				continue
			}
			g := t.gapTo1e2(p, m)
			if g == nil {
				fmt.Fprintf(w, " — | — |")
				continue
			}
			fmt.Fprintf(w, " %s | %s |", fmtSeconds(g.seconds()), fmtRowRatio(g.seconds(), a.seconds()))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// writeCheck compares every certified objective of a Go method with cvxopt's
// optimum certified to the tightest tolerance: a certificate is contradicted when the
// objective lies above cvxopt's by more than both tolerances allow.
func (t *table) writeCheck(w io.Writer) {
	if !contains(t.methods, methodCvxopt) {
		return
	}
	tight := t.tols[len(t.tols)-1]
	var bad []string
	checked := 0
	for _, p := range t.problems {
		c := t.get(p, methodCvxopt, tight)
		if c == nil || !c.Certified || c.Objective == nil {
			continue
		}
		for _, m := range t.methods {
			if m == methodAdam || m == methodCvxopt {
				continue
			}
			for _, tol := range t.tols {
				r := t.get(p, m, tol)
				if r == nil || !r.Certified || r.Objective == nil {
					continue
				}
				checked++
				rel := (*r.Objective - *c.Objective) / math.Abs(*c.Objective)
				if rel > tol+2*tight {
					bad = append(bad, fmt.Sprintf("%s %s at %s: objective %.8g is %.2g above cvxopt's %.8g", p, label(m), fmtTol(tol), *r.Objective, rel, *c.Objective))
				}
			}
		}
	}
	fmt.Fprintf(w, "## Certificates checked against cvxopt\n\n%d certified solves compared with cvxopt's optimum at %s; %d contradicted", checked, fmtTol(tight), len(bad))
	if len(bad) > 0 {
		fmt.Fprintf(w, ":\n\n- %s", strings.Join(bad, "\n- "))
	}
	fmt.Fprintf(w, ".\n\n")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func countOf(list []string, names ...string) int {
	c := 0
	for _, x := range list {
		if contains(names, x) {
			c++
		}
	}
	return c
}
