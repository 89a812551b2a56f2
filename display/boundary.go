package display

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/gocvx/gocvx/solver"
)

// Resolution of the decision-region raster and of the grid the boundary is traced on.
const (
	boundaryCols = 240
	boundaryRows = 200
)

// Region colours: light tints of the two class colours, so the points stay readable.
var (
	positiveTint = color.RGBA{0xCF, 0xE3, 0xF1, 0xFF} // light blue
	negativeTint = color.RGBA{0xF8, 0xDD, 0xCA, 0xFF} // light vermillion
)

// BoundaryPlot draws the decision regions sign f(x) of a network over 2-D data, the
// boundary f(x) = 0, and the points coloured by label (y > 0 is class +1).
//
// X must have exactly two columns that vary; other columns must be constant (a bias
// column of ones) and keep their value over the whole picture. The figure holds an
// error otherwise, or when the network does not take X's columns.
func BoundaryPlot(net *solver.Network, X *mat.Dense, y []float64) *Figure {
	if X == nil || X.IsEmpty() {
		return errFigure("BoundaryPlot: no data")
	}
	n, d := X.Dims()
	if len(y) != n {
		return errFigure("BoundaryPlot: X has %d rows, y has %d", n, len(y))
	}
	var varying []int
	for j := 0; j < d; j++ {
		for i := 1; i < n; i++ {
			if X.At(i, j) != X.At(0, j) {
				varying = append(varying, j)
				break
			}
		}
	}
	if len(varying) != 2 {
		return errFigure("BoundaryPlot: X has %d varying columns, want 2 (and constant ones, such as a bias)", len(varying))
	}
	cx, cy := varying[0], varying[1]
	xmin, xmax := colRange(X, cx)
	ymin, ymax := colRange(X, cy)
	padX, padY := 0.08*(xmax-xmin), 0.08*(ymax-ymin)
	xmin, xmax, ymin, ymax = xmin-padX, xmax+padX, ymin-padY, ymax+padY

	// Evaluate f on the grid of cell centres, constant columns held at their value.
	grid := mat.NewDense(boundaryRows*boundaryCols, d, nil)
	for r := 0; r < boundaryRows; r++ {
		for c := 0; c < boundaryCols; c++ {
			row := grid.RawRowView(r*boundaryCols + c)
			for j := 0; j < d; j++ {
				row[j] = X.At(0, j)
			}
			row[cx] = xmin + (float64(c)+0.5)*(xmax-xmin)/boundaryCols
			row[cy] = ymin + (float64(r)+0.5)*(ymax-ymin)/boundaryRows
		}
	}
	f, err := net.Predict(grid)
	if err != nil {
		return figureErr(fmt.Errorf("display: BoundaryPlot: %v", err))
	}
	img := image.NewRGBA(image.Rect(0, 0, boundaryCols, boundaryRows))
	for r := 0; r < boundaryRows; r++ {
		for c := 0; c < boundaryCols; c++ {
			tint := negativeTint
			if f[r*boundaryCols+c] > 0 {
				tint = positiveTint
			}
			img.SetRGBA(c, boundaryRows-1-r, tint) // image rows run downwards
		}
	}

	p := newPlot("Decision boundary", fmt.Sprintf("x%s", subscriptDigits(cx+1)), fmt.Sprintf("x%s", subscriptDigits(cy+1)))
	p.Add(plotter.NewImage(img, xmin, ymin, xmax, ymax))
	fg := &fieldGrid{f: f, xmin: xmin, xmax: xmax, ymin: ymin, ymax: ymax}
	contour := plotter.NewContour(fg, []float64{0}, nil)
	contour.LineStyles = []draw.LineStyle{{Color: color.Black, Width: vg.Points(1.5)}}
	p.Add(contour)

	var pos, neg plotter.XYs
	for i := 0; i < n; i++ {
		pt := plotter.XY{X: X.At(i, cx), Y: X.At(i, cy)}
		if y[i] > 0 {
			pos = append(pos, pt)
		} else {
			neg = append(neg, pt)
		}
	}
	addPoints(p, "class +1", pos, seriesColor(0), draw.CircleGlyph{})
	addPoints(p, "class −1", neg, seriesColor(1), draw.TriangleGlyph{})
	p.Legend.Add("predicted +1", swatch{positiveTint})
	p.Legend.Add("predicted −1", swatch{negativeTint})
	p.Legend.Add("f(x) = 0", &plotter.Line{LineStyle: contour.LineStyles[0]})
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xmin, xmax, ymin, ymax
	p.X.Padding, p.Y.Padding = 0, 0
	return &Figure{Plot: p, Width: DefaultWidth, Height: 4.5 * vg.Inch}
}

// addPoints adds a scatter of points with a dark outline so that they stand out on
// the tinted regions.
func addPoints(p *plot.Plot, label string, pts plotter.XYs, c color.Color, shape draw.GlyphDrawer) {
	if len(pts) == 0 {
		return
	}
	outline, err := plotter.NewScatter(pts)
	if err != nil {
		return
	}
	fill, _ := plotter.NewScatter(pts)
	outline.GlyphStyle = draw.GlyphStyle{Color: color.Black, Radius: vg.Points(3.6), Shape: shape}
	fill.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(2.8), Shape: shape}
	p.Add(outline, fill)
	p.Legend.Add(label, outline, fill)
}

func colRange(X *mat.Dense, j int) (lo, hi float64) {
	n, _ := X.Dims()
	lo, hi = math.Inf(1), math.Inf(-1)
	for i := 0; i < n; i++ {
		lo, hi = math.Min(lo, X.At(i, j)), math.Max(hi, X.At(i, j))
	}
	return lo, hi
}

// subscriptDigits writes a positive integer with Unicode subscript digits.
func subscriptDigits(k int) string {
	const subs = "₀₁₂₃₄₅₆₇₈₉"
	digits := []rune(subs)
	var out []rune
	for _, r := range fmt.Sprint(k) {
		out = append(out, digits[r-'0'])
	}
	return string(out)
}

// fieldGrid is the network's output on the raster grid, as gonum's contour plotter
// reads it.
type fieldGrid struct {
	f                      []float64
	xmin, xmax, ymin, ymax float64
}

func (g *fieldGrid) Dims() (c, r int)   { return boundaryCols, boundaryRows }
func (g *fieldGrid) Z(c, r int) float64 { return g.f[r*boundaryCols+c] }
func (g *fieldGrid) X(c int) float64 {
	return g.xmin + (float64(c)+0.5)*(g.xmax-g.xmin)/boundaryCols
}
func (g *fieldGrid) Y(r int) float64 {
	return g.ymin + (float64(r)+0.5)*(g.ymax-g.ymin)/boundaryRows
}

// swatch is a legend thumbnail filled with one colour, for the decision regions.
type swatch struct{ c color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	inset := (r.Max.Y - r.Min.Y) / 6
	r.Min.Y += inset
	r.Max.Y -= inset
	c.SetColor(s.c)
	c.Fill(r.Path())
	c.StrokeLines(draw.LineStyle{Color: color.Gray{Y: 150}, Width: vg.Points(0.5)},
		[]vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}, r.Min})
}
