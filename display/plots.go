package display

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/gocvx/gocvx/solver"
)

// Series is one labelled curve y(x), for the plots that take data a cell computed.
type Series struct {
	Label string // legend entry
	X, Y  []float64
}

// checkSeries returns an error naming the first series with mismatched or no data.
func checkSeries(fn string, series []Series) error {
	if len(series) == 0 {
		return fmt.Errorf("display: %s: no series", fn)
	}
	for i, s := range series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("display: %s: series %d (%q) has %d x values and %d y values", fn, i, s.Label, len(s.X), len(s.Y))
		}
	}
	return nil
}

func figureErr(err error) *Figure { return &Figure{Err: err} }

// seriesLabels returns the legend entry of series i, empty when there is only one
// series (its label then goes in the title).
func seriesLabel(series []Series, i int) string {
	if len(series) == 1 {
		return ""
	}
	return series[i].Label
}

func seriesTitle(base string, series []Series) string {
	if len(series) == 1 && series[0].Label != "" {
		return base + ": " + series[0].Label
	}
	return base
}

// spansDecades reports whether the positive values in vs span at least two decades,
// the point where a log axis reads better than a linear one.
func spansDecades(vs ...[]float64) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		for _, x := range v {
			if x > 0 && !math.IsInf(x, 0) {
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
		}
	}
	return hi >= 100*lo
}

// LinePlot draws each series as a line (with markers when it has at most 30 points)
// under the given title and axis labels; put units in the labels, e.g. "time (s)".
func LinePlot(title, xLabel, yLabel string, series []Series) *Figure {
	if err := checkSeries("LinePlot", series); err != nil {
		return figureErr(err)
	}
	p := newPlot(seriesTitle(title, series), xLabel, yLabel)
	for i, s := range series {
		addLine(p, i, seriesLabel(series, i), finiteXYs(s.X, s.Y, 0, false))
	}
	niceRange(&p.Y)
	return &Figure{Plot: p}
}

// AccuracySeries returns the training accuracy recorded in a history as a series
// against the iteration (iterations without it, NaN, are left out).
func AccuracySeries(label string, h []solver.Iteration) Series {
	s := Series{Label: label}
	for _, it := range h {
		if !math.IsNaN(it.TrainAccuracy) {
			s.X = append(s.X, float64(it.Iteration))
			s.Y = append(s.Y, it.TrainAccuracy)
		}
	}
	return s
}

// AccuracyPlot draws accuracies against the iteration, e.g. the training and test
// accuracy of the network recovered after each iteration. Y values are fractions in
// [0, 1], drawn in percent.
func AccuracyPlot(series []Series) *Figure {
	if err := checkSeries("AccuracyPlot", series); err != nil {
		return figureErr(err)
	}
	p := newPlot(seriesTitle("Accuracy", series), "iteration", "accuracy (%)")
	for i, s := range series {
		addLine(p, i, seriesLabel(series, i), finiteXYs(s.X, percent(s.Y), 0, false))
	}
	p.Y.Max = 100
	niceRange(&p.Y)
	return &Figure{Plot: p}
}

func percent(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = 100 * x
	}
	return out
}

func ints(v []int) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// PatternPlot draws the number of distinct activation patterns found against the
// number of Gaussian samples drawn, beside the line where every sample is new and,
// when exact > 0, the exact number of patterns (from enumeration). A nil drawn means
// 1, 2, …, len(distinct), as solver.PatternCurve counts. Axes are logarithmic when
// the samples span two decades or more.
func PatternPlot(drawn, distinct []int, exact int) *Figure {
	if drawn == nil {
		drawn = make([]int, len(distinct))
		for i := range drawn {
			drawn[i] = i + 1
		}
	}
	if len(drawn) != len(distinct) || len(drawn) == 0 {
		return errFigure("PatternPlot: %d sample counts and %d pattern counts", len(drawn), len(distinct))
	}
	x, y := ints(drawn), ints(distinct)
	p := newPlot("Activation patterns found by sampling", "samples drawn", "distinct patterns")
	logAxes := spansDecades(x)
	if logAxes {
		setLogX(p)
		setLogY(p)
	}
	floor := 0.0
	if logAxes {
		floor = 0.5 // counts below one cannot be shown on a log axis
	}
	pts := thin(finiteXYs(x, y, floor, logAxes))
	lo, hi := pts[0].X, pts[0].X
	for _, pt := range pts {
		lo, hi = math.Min(lo, pt.X), math.Max(hi, pt.X)
	}
	if exact > 0 {
		hi = math.Min(hi, math.Max(float64(exact), lo))
	}
	diag := plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}}
	addStyledLine(p, "every sample new", diag, referenceLine(), nil)
	addStyledLine(p, "distinct patterns", pts, seriesLine(0), glyphShape(0))
	if exact > 0 {
		xmin, xmax := pts[0].X, pts[len(pts)-1].X
		for _, pt := range pts {
			xmin, xmax = math.Min(xmin, pt.X), math.Max(xmax, pt.X)
		}
		ex := plotter.XYs{{X: xmin, Y: float64(exact)}, {X: xmax, Y: float64(exact)}}
		st := seriesLine(1)
		st.Dashes = dashes[1]
		addStyledLine(p, fmt.Sprintf("exact count (%d)", exact), ex, st, nil)
	}
	if logAxes {
		decadeRange(&p.X)
		decadeRange(&p.Y)
	} else {
		p.X.Min, p.Y.Min = 0, 0
	}
	return &Figure{Plot: p}
}

// referenceLine is the style of guide lines that are not data: thin, grey, dotted.
func referenceLine() draw.LineStyle {
	return draw.LineStyle{Color: color.Gray{Y: 130}, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}
}

// ViolationPlot draws the empirical violation rate (the fraction of freshly sampled
// patterns that would improve the objective, MATH §6) against the number of patterns
// sampled for the solve, beside the scenario bound: bound[i] is the violation
// probability the bound guarantees with patterns[i] samples (values above 1 are drawn
// at 1). The horizontal axis is logarithmic when it spans two decades.
func ViolationPlot(patterns []int, rate, bound []float64) *Figure {
	if len(patterns) == 0 || len(rate) != len(patterns) || (bound != nil && len(bound) != len(patterns)) {
		return errFigure("ViolationPlot: %d pattern counts, %d rates and %d bounds", len(patterns), len(rate), len(bound))
	}
	x := ints(patterns)
	p := newPlot("Violation rate against patterns sampled", "patterns sampled", "violation rate (fraction of fresh patterns)")
	if spansDecades(x) {
		setLogX(p)
	}
	addStyledLine(p, "empirical", finiteXYs(x, rate, 0, false), seriesLine(0), glyphShape(0))
	if bound != nil {
		b := make([]float64, len(bound))
		for i, v := range bound {
			b[i] = math.Min(v, 1)
		}
		st := seriesLine(1)
		st.Dashes = dashes[1]
		addStyledLine(p, "scenario bound", finiteXYs(x, b, 0, false), st, nil)
	}
	if spansDecades(x) {
		decadeRange(&p.X)
	}
	p.Y.Min = 0
	return &Figure{Plot: p}
}

// RobustnessPlot draws clean (solid) and adversarial (dashed) accuracy against ε for
// several training methods, one colour per method, in percent, from the curves that
// solver.RobustnessCurve measures (named by their Method, which a cell may change
// before plotting):
//
//	display.RobustnessPlot(standard, convex, pgd)
func RobustnessPlot(curves ...*solver.RobustCurve) *Figure {
	if len(curves) == 0 {
		return errFigure("RobustnessPlot: no curves")
	}
	p := newPlot("Clean and adversarial accuracy", "attack radius ε (ℓ∞)", "test accuracy (%)")
	for i, c := range curves {
		if c == nil {
			return errFigure("RobustnessPlot: curve %d is nil", i)
		}
		if len(c.Clean) != len(c.Epsilon) || len(c.Adversarial) != len(c.Epsilon) {
			return errFigure("RobustnessPlot: %q has %d radii, %d clean and %d adversarial accuracies",
				c.Method, len(c.Epsilon), len(c.Clean), len(c.Adversarial))
		}
		solid := seriesLine(i)
		solid.Dashes = nil
		dashed := solid
		dashed.Dashes = dashes[1]
		addStyledLine(p, c.Method, finiteXYs(c.Epsilon, percent(c.Clean), 0, false), solid, glyphShape(i))
		addStyledLine(p, "", finiteXYs(c.Epsilon, percent(c.Adversarial), 0, false), dashed, glyphShape(i))
	}
	addLegendStyle(p, "clean", nil)
	addLegendStyle(p, "attacked", dashes[1])
	p.X.Min = math.Min(p.X.Min, 0)
	p.Y.Min, p.Y.Max = 0, 100
	return &Figure{Plot: p}
}

// TimeBars draws a bar chart comparing run times, one bar per label, each bar
// annotated with its time; seconds are shown in milliseconds when every time is
// below one second.
func TimeBars(labels []string, seconds []float64) *Figure {
	if len(labels) != len(seconds) || len(labels) == 0 {
		return errFigure("TimeBars: %d labels and %d times", len(labels), len(seconds))
	}
	scale, unit := 1.0, "s"
	longest := 0.0
	for _, s := range seconds {
		if math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
			return errFigure("TimeBars: time %v is not a finite non-negative number", s)
		}
		longest = math.Max(longest, s)
	}
	if longest < 1 {
		scale, unit = 1000, "ms"
	}
	vals := make(plotter.Values, len(seconds))
	for i, s := range seconds {
		vals[i] = s * scale
	}
	p, grid := newPlotGrid("Run time", "", "time ("+unit+")")
	grid.Vertical.Color = nil // vertical lines mean nothing between categories
	barWidth := vg.Points(math.Min(48, 300/float64(len(vals))))
	bars, err := plotter.NewBarChart(vals, barWidth)
	if err != nil {
		return figureErr(fmt.Errorf("display: TimeBars: %v", err))
	}
	bars.Color = seriesColor(0)
	bars.LineStyle.Width = 0
	p.Add(bars)
	p.NominalX(labels...)
	p.X.Tick.Label.Font.Size = 10
	annot := plotter.XYLabels{XYs: make(plotter.XYs, len(vals)), Labels: make([]string, len(vals))}
	for i, v := range vals {
		annot.XYs[i] = plotter.XY{X: float64(i), Y: v}
		annot.Labels[i] = formatSig(v)
	}
	if l, err := plotter.NewLabels(annot); err == nil {
		for i := range l.TextStyle {
			l.TextStyle[i].XAlign = draw.XCenter
			l.TextStyle[i].Font = p.Y.Tick.Label.Font
		}
		l.Offset = vg.Point{Y: vg.Points(3)}
		p.Add(l)
	}
	p.X.Min, p.X.Max = -0.6, float64(len(vals))-0.4 // half a slot of margin each side
	p.Y.Min = 0
	p.Y.Max = longest * scale * 1.12 // room for the annotations

	return &Figure{Plot: p}
}

// formatSig formats v with three significant digits (whole numbers from 1000 on).
func formatSig(v float64) string {
	if math.Abs(v) >= 1000 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// ScalingPlot draws each series on log–log axes with its fitted slope in the legend
// (the exponent k of y ∝ xᵏ by least squares on the logarithms), e.g. the cost per
// iteration against n. Non-positive values are left out.
func ScalingPlot(xLabel, yLabel string, series []Series) *Figure {
	if err := checkSeries("ScalingPlot", series); err != nil {
		return figureErr(err)
	}
	p := newPlot("Scaling (log–log)", xLabel, yLabel)
	setLogX(p)
	setLogY(p)
	drawn := false
	for i, s := range series {
		pts := make(plotter.XYs, 0, len(s.X))
		for k := range s.X {
			if s.X[k] > 0 && s.Y[k] > 0 && !math.IsInf(s.X[k], 0) && !math.IsInf(s.Y[k], 0) {
				pts = append(pts, plotter.XY{X: s.X[k], Y: s.Y[k]})
			}
		}
		label := s.Label
		if k, ok := logSlope(pts); ok {
			label = fmt.Sprintf("%s (slope %.2f)", s.Label, k)
		}
		drawn = drawn || len(pts) > 0
		addLine(p, i, label, pts)
	}
	if !drawn {
		return errFigure("ScalingPlot: no positive points to draw")
	}
	decadeRange(&p.X)
	decadeRange(&p.Y)
	return &Figure{Plot: p}
}

// logSlope fits log y = k log x + c by least squares; ok is false with fewer than two
// distinct x.
func logSlope(pts plotter.XYs) (k float64, ok bool) {
	n := float64(len(pts))
	if n < 2 {
		return 0, false
	}
	var sx, sy, sxx, sxy float64
	for _, pt := range pts {
		lx, ly := math.Log(pt.X), math.Log(pt.Y)
		sx += lx
		sy += ly
		sxx += lx * lx
		sxy += lx * ly
	}
	den := n*sxx - sx*sx
	if den <= 1e-12*n*sxx {
		return 0, false
	}
	return (n*sxy - sx*sy) / den, true
}
