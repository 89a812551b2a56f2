package display

import (
	"image/color"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/gocvx/gocvx/solver"
)

// Run is one labelled solve history, for the plots that overlay several runs.
type Run struct {
	Label   string // legend entry, e.g. "ρ = 1"
	History []solver.Iteration
}

// RunOf returns the run of a result, labelled with label, or with the result's method
// when label is empty.
func RunOf(res *solver.Result, label string) Run {
	if res == nil {
		return Run{Label: label}
	}
	if label == "" {
		label = res.Method
	}
	return Run{Label: label, History: res.History}
}

// XAxis chooses what the history plots put on their horizontal axis.
type XAxis int

const (
	// ByIteration plots against the iteration number.
	ByIteration XAxis = iota
	// ByTime plots against the wall-clock time since the solve started.
	ByTime
)

// GapFloor is the smallest relative gap the gap plots show: smaller (including zero
// and negative) gaps are drawn at GapFloor, as a log axis cannot show them. 1e-12 is
// about where rounding in an objective summed over thousands of points takes over.
const GapFloor = 1e-12

// historyX returns the x values of a history and the axis label; times are in
// seconds, or milliseconds when every run took less than a second.
func historyX(runs []Run, x XAxis) (xs [][]float64, label string) {
	if x != ByTime {
		for _, r := range runs {
			v := make([]float64, len(r.History))
			for i, it := range r.History {
				v[i] = float64(it.Iteration)
			}
			xs = append(xs, v)
		}
		return xs, "iteration"
	}
	var longest time.Duration
	for _, r := range runs {
		for _, it := range r.History {
			longest = max(longest, it.Elapsed)
		}
	}
	unit, label := time.Second, "time (s)"
	if longest < time.Second {
		unit, label = time.Millisecond, "time (ms)"
	}
	for _, r := range runs {
		v := make([]float64, len(r.History))
		for i, it := range r.History {
			v[i] = float64(it.Elapsed) / float64(unit)
		}
		xs = append(xs, v)
	}
	return xs, label
}

// maxLinePoints bounds the points of a history line: more cannot be told apart at
// notebook width, and they would make SVGs large and redraws slow.
const maxLinePoints = 2000

// thin keeps at most maxLinePoints points of a line, evenly spaced, first and last
// included.
func thin(pts plotter.XYs) plotter.XYs {
	if len(pts) <= maxLinePoints {
		return pts
	}
	out := make(plotter.XYs, 0, maxLinePoints)
	step := float64(len(pts)-1) / float64(maxLinePoints-1)
	for k := 0; k < maxLinePoints; k++ {
		out = append(out, pts[int(math.Round(float64(k)*step))])
	}
	return out
}

// finiteXYs pairs xs and ys, dropping pairs that are not finite and, when positive is
// set, clamping y to floor.
func finiteXYs(xs, ys []float64, floor float64, positive bool) plotter.XYs {
	pts := make(plotter.XYs, 0, len(xs))
	for i := range xs {
		x, y := xs[i], ys[i]
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		if positive && y < floor {
			y = floor
		}
		pts = append(pts, plotter.XY{X: x, Y: y})
	}
	return pts
}

// addLine adds the i-th series as a line in the i-th style (with point markers when
// it has few points) and, when label is not empty, a legend entry.
func addLine(p *plot.Plot, i int, label string, pts plotter.XYs) {
	addStyledLine(p, label, pts, seriesLine(i), glyphShape(i))
}

// addStyledLine adds pts as a line of the given style, with markers of the given
// shape (none when glyph is nil or the line has more than 30 points), and a legend
// entry when label is not empty.
func addStyledLine(p *plot.Plot, label string, pts plotter.XYs, style draw.LineStyle, glyph draw.GlyphDrawer) {
	if len(pts) == 0 {
		return
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return
	}
	l.LineStyle = style
	thumbs := []plot.Thumbnailer{l}
	p.Add(l)
	if glyph != nil && len(pts) <= 30 {
		s, err := plotter.NewScatter(pts)
		if err == nil {
			s.GlyphStyle = draw.GlyphStyle{Color: style.Color, Radius: vg.Points(2.5), Shape: glyph}
			p.Add(s)
			thumbs = append(thumbs, s)
		}
	}
	if label != "" {
		p.Legend.Add(label, thumbs...)
	}
}

// addLegendStyle adds a legend entry that explains a line style (solid, dashed) in
// grey, for plots where colour tells runs apart and style tells quantities apart.
func addLegendStyle(p *plot.Plot, label string, dash []vg.Length) {
	p.Legend.Add(label, &plotter.Line{LineStyle: draw.LineStyle{Color: color.Gray{Y: 90}, Width: vg.Points(1.5), Dashes: dash}})
}

// glyphShape varies point markers between series.
func glyphShape(i int) draw.GlyphDrawer {
	shapes := []draw.GlyphDrawer{
		draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{},
		draw.BoxGlyph{}, draw.PyramidGlyph{}, draw.RingGlyph{}, draw.CrossGlyph{},
	}
	return shapes[i%len(shapes)]
}

// titled returns base, or "base: label" for a single labelled run (a legend with one
// entry would waste the space it takes).
func titled(base string, runs []Run) string {
	if len(runs) == 1 && runs[0].Label != "" {
		return base + ": " + runs[0].Label
	}
	return base
}

func legendLabel(runs []Run, i int) string {
	if len(runs) == 1 {
		return ""
	}
	return runs[i].Label
}

// GapPlot draws the relative objective gap (to Settings.Reference) of each run
// against iteration or time on a log axis, several runs overlaid. Gaps below GapFloor
// are drawn at GapFloor; NaN gaps (no reference objective) are left out, and a figure
// whose runs have no finite gap holds an error.
func GapPlot(runs []Run, x XAxis) *Figure {
	fig := logHistoryPlot(runs, x, "Objective gap", "relative objective gap",
		func(it solver.Iteration) float64 { return it.Gap }, false)
	if fig == nil {
		return errFigure("GapPlot: no finite gaps to draw (set solver.Settings.Reference, or use DualityGapPlot or ObjectivePlot)")
	}
	return fig
}

// DualityGapPlot draws the relative duality gap that convex methods certify every few
// iterations (solver.Iteration.DualityGap), against iteration or time on a log axis,
// several runs overlaid, through the iterations where it was computed. Runs without
// a certificate (all zero) are left out; gaps below GapFloor are drawn at GapFloor.
func DualityGapPlot(runs []Run, x XAxis) *Figure {
	fig := logHistoryPlot(runs, x, "Duality gap", "relative duality gap",
		func(it solver.Iteration) float64 { return it.DualityGap }, true)
	if fig == nil {
		return errFigure("DualityGapPlot: no duality gaps to draw (the method certifies none)")
	}
	return fig
}

// logHistoryPlot draws value(it) of each run on a log axis clamped to GapFloor, or
// returns nil when there is nothing to draw. With zeroMeansNone, a run whose finite
// values are all zero has none.
func logHistoryPlot(runs []Run, x XAxis, title, yLabel string, value func(solver.Iteration) float64, zeroMeansNone bool) *Figure {
	xs, xLabel := historyX(runs, x)
	p := newPlot(titled(title, runs), xLabel, yLabel)
	setLogY(p)
	drawn := false
	for i, r := range runs {
		ys := make([]float64, len(r.History))
		has := false
		for k, it := range r.History {
			ys[k] = value(it)
			has = has || (ys[k] != 0 && !math.IsNaN(ys[k]))
		}
		if zeroMeansNone && !has {
			continue
		}
		pts := thin(finiteXYs(xs[i], ys, GapFloor, true))
		drawn = drawn || len(pts) > 0
		addLine(p, i, legendLabel(runs, i), pts)
	}
	if !drawn {
		return nil
	}
	decadeRange(&p.Y)
	return &Figure{Plot: p}
}

// ObjectivePlot draws the training objective of each run against iteration or time,
// several runs overlaid, on a linear axis.
func ObjectivePlot(runs []Run, x XAxis) *Figure {
	xs, xLabel := historyX(runs, x)
	p := newPlot(titled("Training objective", runs), xLabel, "objective (loss + weight decay)")
	drawn := false
	for i, r := range runs {
		ys := make([]float64, len(r.History))
		for k, it := range r.History {
			ys[k] = it.Objective
		}
		pts := thin(finiteXYs(xs[i], ys, 0, false))
		drawn = drawn || len(pts) > 0
		addLine(p, i, legendLabel(runs, i), pts)
	}
	if !drawn {
		return errFigure("ObjectivePlot: no finite objectives to draw")
	}
	niceRange(&p.Y)
	return &Figure{Plot: p}
}

// ResidualPlot draws the primal (solid) and dual (dashed) residual norms of each run
// against iteration or time on a log axis; runs are told apart by colour. Residuals
// are clamped to GapFloor; NaN residuals (methods without them) are left out.
func ResidualPlot(runs []Run, x XAxis) *Figure {
	xs, xLabel := historyX(runs, x)
	p := newPlot(titled("Primal and dual residuals", runs), xLabel, "residual norm")
	setLogY(p)
	drawn := false
	for i, r := range runs {
		prim := make([]float64, len(r.History))
		dual := make([]float64, len(r.History))
		for k, it := range r.History {
			prim[k], dual[k] = it.PrimalResidual, it.DualResidual
		}
		ps, ds := thin(finiteXYs(xs[i], prim, GapFloor, true)), thin(finiteXYs(xs[i], dual, GapFloor, true))
		drawn = drawn || len(ps) > 0 || len(ds) > 0
		solid := draw.LineStyle{Color: seriesColor(i), Width: vg.Points(1.5)}
		dashed := solid
		dashed.Dashes = dashes[1]
		addStyledLine(p, legendLabel(runs, i), ps, solid, nil)
		addStyledLine(p, "", ds, dashed, nil)
	}
	addLegendStyle(p, "primal", nil)
	addLegendStyle(p, "dual", dashes[1])
	decadeRange(&p.Y)
	if !drawn {
		return errFigure("ResidualPlot: no finite residuals to draw (the method reports none)")
	}
	return &Figure{Plot: p}
}

// NeuronPlot draws the number of active (nonzero) neurons of each run's iterate
// against the iteration.
func NeuronPlot(runs []Run) *Figure {
	xs, xLabel := historyX(runs, ByIteration)
	p := newPlot(titled("Active neurons", runs), xLabel, "active neurons (nonzero weights)")
	drawn := false
	for i, r := range runs {
		ys := make([]float64, len(r.History))
		for k, it := range r.History {
			ys[k] = float64(it.ActiveNeurons)
		}
		pts := thin(finiteXYs(xs[i], ys, 0, false))
		drawn = drawn || len(pts) > 0
		addLine(p, i, legendLabel(runs, i), pts)
	}
	if !drawn {
		return errFigure("NeuronPlot: no iterations to draw")
	}
	p.Y.Min = 0
	niceRange(&p.Y)
	return &Figure{Plot: p}
}
