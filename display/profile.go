package display

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot/plotter"
)

// ProfileRun is one line of a performance profile (Dolan and Moré's, in absolute
// time): a method's wall time to solve each problem of a benchmark set. bench/profile
// writes these as JSON (ProfileRun marshals +Inf as null), so a notebook can read them
// back and draw them with ProfilePlot.
type ProfileRun struct {
	// Method names the line in the legend, e.g. "ADMM", "cvxopt" or "Adam (PyTorch)".
	Method string
	// Tolerance is the relative gap the times are to (1e-4, 1e-6), or for a method
	// that certifies nothing (Adam) the relative distance to the certified optimum it
	// had to reach; zero when not stated. Lines of one method at several tolerances
	// share a colour and differ in dashes.
	Tolerance float64
	// Seconds holds, for each problem of the set, the wall time in seconds until the
	// method had solved it to Tolerance; +Inf (or NaN) when it did not: a failure, a
	// time limit, or a problem the method was not run on. The runs of one profile
	// list the same problems in the same order, so that their fractions compare.
	Seconds []float64
}

// Fraction returns the fraction of the run's problems solved within t seconds,
// |{p : Seconds[p] ≤ t}| / len(Seconds): the height of the profile at t. It is 0 for
// a run without problems.
func (r ProfileRun) Fraction(t float64) float64 {
	if len(r.Seconds) == 0 {
		return 0
	}
	solved := 0
	for _, s := range r.Seconds {
		if s <= t { // false for NaN, and +Inf ≤ t only at t = +Inf
			solved++
		}
	}
	return float64(solved) / float64(len(r.Seconds))
}

// Solved returns the number of problems with a finite time.
func (r ProfileRun) Solved() int {
	solved := 0
	for _, s := range r.Seconds {
		if !math.IsNaN(s) && !math.IsInf(s, 0) {
			solved++
		}
	}
	return solved
}

// profileJSON is the JSON form of a ProfileRun: unsolved problems are null, which
// encoding/json can write where it cannot write +Inf.
type profileJSON struct {
	Method    string     `json:"method"`
	Tolerance float64    `json:"tolerance"`
	Seconds   []*float64 `json:"seconds"`
}

// MarshalJSON writes the run as {"method", "tolerance", "seconds"} with null for the
// problems not solved.
func (r ProfileRun) MarshalJSON() ([]byte, error) {
	out := profileJSON{Method: r.Method, Tolerance: r.Tolerance, Seconds: make([]*float64, len(r.Seconds))}
	for i, s := range r.Seconds {
		if !math.IsNaN(s) && !math.IsInf(s, 0) {
			v := s
			out.Seconds[i] = &v
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes; null times become +Inf.
func (r *ProfileRun) UnmarshalJSON(data []byte) error {
	var in profileJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	r.Method, r.Tolerance = in.Method, in.Tolerance
	r.Seconds = make([]float64, len(in.Seconds))
	for i, s := range in.Seconds {
		r.Seconds[i] = math.Inf(1)
		if s != nil {
			r.Seconds[i] = *s
		}
	}
	return nil
}

// profileFloor is the shortest time ProfilePlot draws: a time of zero (a problem
// solved before the clock moved) cannot sit on a log axis.
const profileFloor = 1e-6

// ProfilePlot draws a performance profile: for each run, the percentage of problems
// solved against the wall time allowed (log axis), a step up at each problem's time,
// so a line further up and to the left is a faster, more reliable method; where a
// line ends on the right is the share it solved at all. Runs are told apart by colour
// per Method and by dashes per Tolerance (solid for the loosest); each legend entry
// names the tolerance when there are several and counts the problems solved, e.g.
// "ADMM (10⁻⁴): 41/72".
//
//	display.ProfilePlot([]display.ProfileRun{admm4, admm6, cvxopt4, cvxopt6})
func ProfilePlot(runs []ProfileRun) *Figure {
	if len(runs) == 0 {
		return errFigure("ProfilePlot: no runs")
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, r := range runs {
		if len(r.Seconds) == 0 {
			return errFigure("ProfilePlot: run %d (%q) has no problems", i, r.Method)
		}
		for _, s := range r.Seconds {
			if s < 0 {
				return errFigure("ProfilePlot: run %d (%q) has a negative time %v", i, r.Method, s)
			}
			if !math.IsInf(s, 0) && !math.IsNaN(s) {
				s = math.Max(s, profileFloor)
				lo, hi = math.Min(lo, s), math.Max(hi, s)
			}
		}
	}
	if math.IsInf(lo, 1) { // nothing solved: an empty profile on a nominal range
		lo, hi = 0.01, 1
	}
	lo = math.Pow(10, math.Floor(math.Log10(lo)+1e-9))
	hi = math.Pow(10, math.Ceil(math.Log10(hi)-1e-9))
	if hi <= lo {
		hi = 10 * lo
	}

	methods, tols := profileKeys(runs)
	title := "Performance profile"
	if problems := len(runs[0].Seconds); sameLength(runs) {
		title += fmt.Sprintf(" over %d problems", problems)
	}
	if len(tols) == 1 && tols[0] > 0 {
		title += ": relative gap " + formatTolerance(tols[0])
	}
	p := newPlot(title, "wall time (s)", "problems solved (%)")
	setLogX(p)
	for _, r := range runs {
		style := seriesLine(methods[r.Method])
		style.Dashes = dashes[(len(tols)-1-sort.SearchFloat64s(tols, r.Tolerance))%len(dashes)]
		label := fmt.Sprintf("%s: %d/%d", r.Method, r.Solved(), len(r.Seconds))
		if len(tols) > 1 && r.Tolerance > 0 {
			label = fmt.Sprintf("%s (%s): %d/%d", r.Method, formatTolerance(r.Tolerance), r.Solved(), len(r.Seconds))
		}
		addStyledLine(p, label, profileSteps(r, lo, hi), style, nil)
	}
	p.X.Min, p.X.Max = lo, hi
	p.Y.Min, p.Y.Max = 0, 100
	return &Figure{Plot: p}
}

func sameLength(runs []ProfileRun) bool {
	for _, r := range runs {
		if len(r.Seconds) != len(runs[0].Seconds) {
			return false
		}
	}
	return true
}

// profileKeys returns the colour index of each method (in order of first
// appearance) and the distinct tolerances in increasing order; the loosest gets
// the solid line.
func profileKeys(runs []ProfileRun) (map[string]int, []float64) {
	methods := map[string]int{}
	seen := map[float64]bool{}
	var tols []float64
	for _, r := range runs {
		if _, ok := methods[r.Method]; !ok {
			methods[r.Method] = len(methods)
		}
		if !seen[r.Tolerance] {
			seen[r.Tolerance] = true
			tols = append(tols, r.Tolerance)
		}
	}
	sort.Float64s(tols)
	return methods, tols
}

// profileSteps returns the staircase of a run in percent: from (lo, 0) up one step of
// 100/len(Seconds) at each finite time (clamped to [lo, hi]), then flat to hi.
func profileSteps(r ProfileRun, lo, hi float64) plotter.XYs {
	var times []float64
	for _, s := range r.Seconds {
		if !math.IsInf(s, 0) && !math.IsNaN(s) {
			times = append(times, math.Min(math.Max(s, lo), hi))
		}
	}
	sort.Float64s(times)
	step := 100 / float64(len(r.Seconds))
	pts := plotter.XYs{{X: lo, Y: 0}}
	for k, t := range times {
		pts = append(pts, plotter.XY{X: t, Y: float64(k) * step}, plotter.XY{X: t, Y: float64(k+1) * step})
	}
	return append(pts, plotter.XY{X: hi, Y: float64(len(times)) * step})
}

// formatTolerance writes a power of ten as 10⁻⁴ and other values as %g.
func formatTolerance(t float64) string {
	k := math.Round(math.Log10(t))
	if t > 0 && math.Abs(t-math.Pow(10, k)) <= 1e-12*t {
		digits := map[rune]rune{'0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹', '-': '⁻'}
		return "10" + strings.Map(func(r rune) rune { return digits[r] }, strconv.Itoa(int(k)))
	}
	return strconv.FormatFloat(t, 'g', -1, 64)
}
