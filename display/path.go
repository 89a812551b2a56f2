package display

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/gocvx/gocvx/solver"
)

// PathPlot draws a regularization path: the training objective, the active neurons
// and, when test data are given, the test performance of the networks trained at
// each β, in panels stacked over one logarithmic β axis. results[i] is the solve at
// betas[i], as solver.Path returns them (any order of β; a nil result is an error).
// Points of solves that did not end Optimal are drawn as crosses and counted in the
// title, so a path whose small-β end was not certified says so.
//
// With Xtest and ytest (not nil), the third panel is the test accuracy (sign of the
// network against labels ±1) when every label is ±1, else the test root-mean-square
// error; the title names the β of the best one, the one to choose by validation:
//
//	results, err := solver.Path(ctx, prob, betas, nil, nil)
//	display.PathPlot(betas, results, test.X, test.Y)
func PathPlot(betas []float64, results []*solver.Result, Xtest *mat.Dense, ytest []float64) *Figure {
	if len(betas) == 0 || len(betas) != len(results) {
		return errFigure("PathPlot: %d values of β and %d results", len(betas), len(results))
	}
	if (Xtest == nil) != (ytest == nil) {
		return errFigure("PathPlot: give both the test points and their labels, or neither")
	}
	pts := make([]pathPoint, len(betas))
	for i, b := range betas {
		r := results[i]
		switch {
		case !(b > 0) || math.IsInf(b, 0):
			return errFigure("PathPlot: β = %v cannot be drawn on a log axis (β must be positive and finite)", b)
		case r == nil:
			return errFigure("PathPlot: result %d (β = %g) is nil", i, b)
		}
		pts[i] = pathPoint{beta: b, objective: r.Objective, neurons: float64(r.ActiveNeurons), optimal: r.Status == solver.Optimal, test: math.NaN()}
	}
	testLabel, best := "", ""
	if Xtest != nil {
		var err error
		if testLabel, best, err = pathTest(pts, results, Xtest, ytest); err != nil {
			return figureErr(err)
		}
	}
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].beta < pts[j].beta })

	title := "Regularization path"
	if best != "" {
		title += ": " + best
	}
	if uncertified := countUncertified(pts); uncertified > 0 {
		title += fmt.Sprintf(" (%d of %d solves not certified optimal: ×)", uncertified, len(pts))
	}
	panels := []*plot.Plot{
		pathPanel(pts, "objective", func(p pathPoint) float64 { return p.objective }),
		pathPanel(pts, "active neurons", func(p pathPoint) float64 { return p.neurons }),
	}
	panels[1].Y.Min = 0
	niceRange(&panels[1].Y)
	if testLabel != "" {
		acc := pathPanel(pts, testLabel, func(p pathPoint) float64 { return p.test })
		if testLabel == "test accuracy (%)" {
			acc.Y.Max = math.Min(100, acc.Y.Max)
			niceRange(&acc.Y)
			acc.Y.Max = math.Min(100, acc.Y.Max)
		}
		panels = append(panels, acc)
	}
	return stackedFigure(title, "β (weight decay)", panels)
}

// pathPoint is one β of a path with what the panels draw.
type pathPoint struct {
	beta, objective, neurons, test float64
	optimal                        bool
}

func countUncertified(pts []pathPoint) int {
	c := 0
	for _, p := range pts {
		if !p.optimal {
			c++
		}
	}
	return c
}

// pathTest fills in the test accuracy (labels ±1, in percent) or RMSE of each
// result's network and returns the panel's axis label and a line naming the best β.
func pathTest(pts []pathPoint, results []*solver.Result, X *mat.Dense, y []float64) (label, best string, err error) {
	classes := true
	for _, v := range y {
		classes = classes && (v == 1 || v == -1)
	}
	bestAt := -1
	for i, r := range results {
		if r.Network == nil {
			return "", "", fmt.Errorf("display: PathPlot: result %d (β = %g) has no network", i, pts[i].beta)
		}
		if classes {
			acc, err := r.Network.Accuracy(X, y)
			if err != nil {
				return "", "", fmt.Errorf("display: PathPlot: %v", err)
			}
			pts[i].test = 100 * acc
		} else {
			pred, err := r.Network.Predict(X)
			if err != nil {
				return "", "", fmt.Errorf("display: PathPlot: %v", err)
			}
			if len(pred) != len(y) {
				return "", "", fmt.Errorf("display: PathPlot: %d test points and %d labels", len(pred), len(y))
			}
			s := 0.0
			for k, p := range pred {
				s += (p - y[k]) * (p - y[k])
			}
			pts[i].test = math.Sqrt(s / float64(len(y)))
		}
		better := bestAt < 0 || (classes && pts[i].test > pts[bestAt].test) || (!classes && pts[i].test < pts[bestAt].test)
		if better || (pts[i].test == pts[bestAt].test && pts[i].beta > pts[bestAt].beta) {
			bestAt = i // ties go to the larger β, the simpler network
		}
	}
	if classes {
		return "test accuracy (%)", fmt.Sprintf("best test accuracy %.1f %% at β = %g", pts[bestAt].test, pts[bestAt].beta), nil
	}
	return "test RMSE", fmt.Sprintf("least test RMSE %.4g at β = %g", pts[bestAt].test, pts[bestAt].beta), nil
}

// pathPanel draws value against β: a line through every point, filled circles at
// certified solves and crosses at the others. The y axis is logarithmic when the
// positive values span two decades.
func pathPanel(pts []pathPoint, yLabel string, value func(pathPoint) float64) *plot.Plot {
	p := newPlot("", "", yLabel)
	setLogX(p)
	var line, good, bad plotter.XYs
	var ys []float64
	for _, pt := range pts {
		v := value(pt)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		xy := plotter.XY{X: pt.beta, Y: v}
		line = append(line, xy)
		ys = append(ys, v)
		if pt.optimal {
			good = append(good, xy)
		} else {
			bad = append(bad, xy)
		}
	}
	logY := spansDecades(ys) && allPositive(ys)
	if logY {
		setLogY(p)
	}
	addStyledLine(p, "", line, seriesLine(0), nil)
	addPathMarks(p, good, draw.GlyphStyle{Color: seriesColor(0), Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}})
	addPathMarks(p, bad, draw.GlyphStyle{Color: seriesColor(1), Radius: vg.Points(4), Shape: draw.CrossGlyph{}})
	if logY {
		decadeRange(&p.Y)
	} else {
		niceRange(&p.Y)
	}
	return p
}

func allPositive(v []float64) bool {
	for _, x := range v {
		if !(x > 0) {
			return false
		}
	}
	return true
}

func addPathMarks(p *plot.Plot, pts plotter.XYs, style draw.GlyphStyle) {
	if len(pts) == 0 {
		return
	}
	if s, err := plotter.NewScatter(pts); err == nil {
		s.GlyphStyle = style
		p.Add(s)
	}
}

// stackedFigure draws panels one above the other over a shared x axis (the x range
// of all panels, tick labels on the bottom one only), the data areas aligned, with
// the title on top and xLabel under the bottom panel. Axis labels are drawn here
// rather than by gonum, which places a log axis's label off its centre.
func stackedFigure(title, xLabel string, panels []*plot.Plot) *Figure {
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for _, p := range panels {
		xmin, xmax = math.Min(xmin, p.X.Min), math.Max(xmax, p.X.Max)
	}
	if xmin == xmax { // one β: a decade around it
		xmin, xmax = xmin/math.Sqrt(10), xmax*math.Sqrt(10)
	}
	yLabels := make([]string, len(panels))
	for i, p := range panels {
		p.X.Min, p.X.Max = xmin, xmax
		decadeRange(&p.X)
		if i < len(panels)-1 {
			p.X.Tick.Marker = unlabelled{p.X.Tick.Marker}
		}
		yLabels[i], p.Y.Label.Text = p.Y.Label.Text, ""
	}
	ref := panels[0]
	fig := &Figure{Height: vg.Length(len(panels)) * 2.2 * vg.Inch, title: title}
	fig.custom = func(c draw.Canvas) {
		w := c.Max.X - c.Min.X
		top := c.Max.Y
		if title != "" {
			text, sty := fitTitle(title, ref.Title.TextStyle, w-2*titleMargin)
			sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
			c.FillText(sty, vg.Point{X: c.Min.X + w/2, Y: top - 2}, text)
			top -= sty.Height(text) + ref.Title.Padding
		}
		yl, xl := ref.Y.Label.TextStyle, ref.X.Label.TextStyle
		area := c
		area.Max.Y = top
		area.Min.X += yl.FontExtents().Descent + yl.Height("M") + ref.Y.Label.Padding
		area.Min.Y += xl.Height(xLabel) + ref.X.Label.Padding
		area.Max.X -= vg.Points(12) // half of the last tick label
		tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadY: vg.Points(6)}
		grid := make([][]*plot.Plot, len(panels))
		for i, p := range panels {
			grid[i] = []*plot.Plot{p}
		}
		canvases := plot.Align(grid, tiles, area)
		for i, p := range panels {
			p.Draw(canvases[i][0])
			data := p.DataCanvas(canvases[i][0])
			// As drawPlot places a y label: rotated, its baseline one line height
			// (less the descent) from the left edge, centred on the data.
			sty := yl
			sty.Rotation += math.Pi / 2
			c.FillText(sty, vg.Point{X: c.Min.X + yl.Height("M") - yl.FontExtents().Descent, Y: data.Center().Y}, yLabels[i])
			if i == len(panels)-1 {
				sty := xl
				sty.XAlign, sty.YAlign = draw.XCenter, draw.YBottom
				c.FillText(sty, vg.Point{X: data.Center().X, Y: c.Min.Y + xl.FontExtents().Descent}, xLabel)
			}
		}
	}
	return fig
}

// unlabelled keeps a Ticker's ticks and drops their labels (the upper panels of a
// stacked figure share the bottom panel's labels).
type unlabelled struct{ plot.Ticker }

func (u unlabelled) Ticks(min, max float64) []plot.Tick {
	ticks := u.Ticker.Ticks(min, max)
	for i := range ticks {
		ticks[i].Label = ""
	}
	return ticks
}
