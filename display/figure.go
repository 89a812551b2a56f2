package display

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Default figure size: 6.5 × 4 inches is 624 × 384 CSS pixels, which fits the output
// area of a notebook at its usual width without scaling text down.
const (
	DefaultWidth  = 6.5 * vg.Inch
	DefaultHeight = 4 * vg.Inch
)

// cssDPI is the resolution of a CSS pixel; pngDPI draws PNGs at 1.5 times that, sharp
// on high-density screens (the metadata keeps the CSS size) while a 1 000-iteration
// plot still draws and encodes in about 25 ms (twice would take 40).
const (
	cssDPI = 96
	pngDPI = 3 * cssDPI / 2
)

// Figure is a plot with the size to draw it at. The plot functions of this package
// return Figures; a cell may change the plot through Plot (gonum/plot's API: titles,
// axis ranges, more plotters) before showing it.
//
// Render gives image/svg+xml and image/png (with width and height metadata in CSS
// pixels) and a one-line text/plain description. Unless LegendInside is set, the
// legend is drawn in a column to the right of the plot, so it never covers data.
type Figure struct {
	Plot *plot.Plot
	// Width and Height are the drawing size; zero means DefaultWidth and DefaultHeight.
	Width, Height vg.Length
	// LegendInside draws the legend where Plot.Legend places it (inside the data area)
	// instead of in a column to the right.
	LegendInside bool
	// Err is set when the figure could not be built from its input (mismatched
	// lengths, nothing to plot); the figure then renders as the error message.
	Err error

	// custom, when set, draws the figure instead of Plot (layouts that one plot
	// cannot express, such as image grids); title names it.
	custom func(c draw.Canvas)
	title  string
}

// empty reports whether there is nothing to draw.
func (f *Figure) empty() bool { return f.Plot == nil && f.custom == nil }

func (f *Figure) titleText() string {
	if f.Plot != nil {
		return f.Plot.Title.Text
	}
	return f.title
}

func (f *Figure) size() (w, h vg.Length) {
	w, h = f.Width, f.Height
	if w <= 0 {
		w = DefaultWidth
	}
	if h <= 0 {
		h = DefaultHeight
	}
	return w, h
}

// draw draws the figure on c, with the legend to the right of the plot unless
// LegendInside is set.
//
// The canvas must already be white (SVG fills it; PNG canvases start white), so
// the plot's own white background is not painted again: each full-canvas fill costs
// a PNG several milliseconds.
func (f *Figure) draw(c draw.Canvas) {
	if f.custom != nil {
		f.custom(c)
		return
	}
	p := f.Plot
	if p.BackgroundColor != nil {
		if r, g, b, a := p.BackgroundColor.RGBA(); r&g&b&a == 0xffff {
			saved := p.BackgroundColor
			p.BackgroundColor = nil
			defer func() { p.BackgroundColor = saved }()
		}
	}
	if p.Title.Text != "" {
		// The title row spans the figure (the legend column starts below it): a
		// title wider than that is wrapped, or shrunk when one word is too long.
		title, sty := p.Title.Text, p.Title.TextStyle
		defer func() { p.Title.Text, p.Title.TextStyle = title, sty }()
		p.Title.Text, p.Title.TextStyle = fitTitle(title, sty, c.Max.X-c.Min.X-2*titleMargin)
	}
	legendWidth := p.Legend.Rectangle(c).Size().X
	if f.LegendInside || legendWidth <= 0 {
		// A margin on the right for half of the last tick label.
		drawPlot(p, draw.Crop(c, 0, -vg.Points(12), 0, 0), c)
		return
	}
	gap := vg.Points(8)
	saved := p.Legend
	defer func() { p.Legend = saved }()
	p.Legend = plot.NewLegend()
	p.Legend.TextStyle = saved.TextStyle
	drawPlot(p, draw.Crop(c, 0, -(legendWidth+2*gap), 0, 0), c)

	// The legend column starts at the top of the data area (below the title).
	col := draw.Crop(c, 0, 0, 0, 0)
	col.Min.X = c.Max.X - legendWidth - gap
	col.Max.X = c.Max.X - gap/2
	if p.Title.Text != "" {
		col.Max.Y -= p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
	}
	col.Max.Y -= p.Y.Padding
	leg := saved
	leg.Top, leg.Left = true, true
	leg.XOffs, leg.YOffs = 0, 0
	leg.Draw(col)
}

// titleMargin keeps a title off the figure's left and right edges.
const titleMargin = vg.Length(4)

// minTitleSize is the smallest font size fitTitle shrinks a title to.
const minTitleSize = vg.Length(8)

// fitTitle breaks a title wider than width into lines at spaces, each as long as fits,
// and shrinks the font (down to minTitleSize) when a single word is wider than width.
func fitTitle(title string, sty text.Style, width vg.Length) (string, text.Style) {
	if width <= 0 || sty.Width(title) <= width {
		return title, sty
	}
	var lines []string
	for _, para := range strings.Split(title, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			switch {
			case line == "":
				line = w
			case sty.Width(line+" "+w) <= width:
				line += " " + w
			default:
				lines = append(lines, line)
				line = w
			}
		}
		lines = append(lines, line)
	}
	title = strings.Join(lines, "\n")
	if w := sty.Width(title); w > width {
		sty.Font.Size = max(minTitleSize, sty.Font.Size*width/w)
	}
	return title, sty
}

// drawPlot draws p on c, with its title inside bounds (the whole figure) and the
// labels of logarithmic axes placed by itself.
//
// The title is centred over c as gonum centres it, but moved sideways as far as
// needed to stay within bounds: a plot narrowed by a wide legend column would
// otherwise clip a long title on the left.
//
// gonum pads the data area for an axis label as if it sat at the arithmetic middle of
// the axis range, which on a log axis lies near one end, so the data area shrinks by
// the label's length. The labels are drawn where gonum would draw them.
func drawPlot(p *plot.Plot, c, bounds draw.Canvas) {
	_, logX := p.X.Scale.(plot.LogScale)
	_, logY := p.Y.Scale.(plot.LogScale)
	xLabel, yLabel := "", ""
	if logX && p.X.Label.Position == draw.PosCenter {
		xLabel, p.X.Label.Text = p.X.Label.Text, ""
		defer func() { p.X.Label.Text = xLabel }()
	}
	if logY && p.Y.Label.Position == draw.PosCenter {
		yLabel, p.Y.Label.Text = p.Y.Label.Text, ""
		defer func() { p.Y.Label.Text = yLabel }()
	}
	inner := c
	if yLabel != "" {
		sty := p.Y.Label.TextStyle
		inner = draw.Crop(inner, sty.FontExtents().Descent+sty.Height(yLabel)+p.Y.Label.Padding, 0, 0, 0)
	}
	if xLabel != "" {
		sty := p.X.Label.TextStyle
		inner = draw.Crop(inner, 0, 0, sty.Height(xLabel)+p.X.Label.Padding, 0)
	}
	if p.Title.Text != "" {
		title, sty := p.Title.Text, p.Title.TextStyle
		p.Title.Text = ""
		defer func() { p.Title.Text = title }()
		if p.BackgroundColor != nil {
			c.SetColor(p.BackgroundColor)
			c.Fill(c.Rectangle.Path())
		}
		// gonum's placement: centred over the plot (right of a y label placed
		// here), top at the top edge.
		x := inner.Center().X
		half := sty.Width(title) / 2
		x = max(x, bounds.Min.X+titleMargin+half)
		x = min(x, bounds.Max.X-titleMargin-half)
		c.FillText(sty, vg.Point{X: x, Y: c.Max.Y + sty.FontExtents().Descent}, title)
		inner.Max.Y -= sty.Rectangle(title).Size().Y + p.Title.Padding
	}
	p.Draw(inner)
	if xLabel == "" && yLabel == "" {
		return
	}
	data := p.DataCanvas(inner)
	if yLabel != "" {
		sty := p.Y.Label.TextStyle
		sty.Rotation += math.Pi / 2
		x := c.Min.X + p.Y.Label.TextStyle.Height(yLabel) - p.Y.Label.TextStyle.FontExtents().Descent
		c.FillText(sty, vg.Point{X: x, Y: data.Center().Y}, yLabel)
	}
	if xLabel != "" {
		sty := p.X.Label.TextStyle
		c.FillText(sty, vg.Point{X: data.Center().X, Y: c.Min.Y + sty.FontExtents().Descent}, xLabel)
	}
}

// SVG returns the figure as an SVG document (fonts named, not embedded).
func (f *Figure) SVG() string {
	if f.Err != nil || f.empty() {
		return ""
	}
	w, h := f.size()
	c := vgsvg.New(w, h)
	// An opaque background under the legend column too: transparent regions would
	// show black text on a dark notebook theme.
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	f.draw(dc)
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return ""
	}
	return svgFixes.Replace(buf.String())
}

// svgFixes adjusts what vgsvg writes: the font gets fallbacks (Liberation Sans has
// the metrics of Arial, so text keeps its measured width where Liberation is not
// installed), embedded images get their true type (vgsvg labels PNGs as JPEG) and are
// scaled without smoothing, so digits stay crisp pixels.
var svgFixes = strings.NewReplacer(
	"font-family:Liberation Sans;", "font-family:Liberation Sans,Arial,Helvetica,sans-serif;",
	"xlink:href=\"data:image/jpg;base64,iVBOR", "xlink:href=\"data:image/png;base64,iVBOR",
	"<image ", `<image style="image-rendering:pixelated" `,
)

// PNG returns the figure as a PNG image at 1.5 times the CSS resolution (144 dpi).
func (f *Figure) PNG() []byte {
	if f.Err != nil || f.empty() {
		return nil
	}
	return f.pngAt(pngDPI)
}

func (f *Figure) pngAt(dpi int) []byte {
	w, h := f.size()
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
	f.draw(draw.New(c))
	// BestSpeed: plots are flat colour, so the fastest deflate level costs little size
	// and halves the encoding time, the larger part of drawing a PNG.
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, c.Image()); err != nil {
		return nil
	}
	return buf.Bytes()
}

// cssSize returns the figure's size in CSS pixels.
func (f *Figure) cssSize() (w, h int) {
	fw, fh := f.size()
	return int(math.Round(fw.Dots(cssDPI))), int(math.Round(fh.Dots(cssDPI)))
}

// String describes the figure in one line, e.g. "<figure 624×384: Objective gap>".
func (f *Figure) String() string {
	if f.Err != nil {
		return f.Err.Error()
	}
	w, h := f.cssSize()
	if f.titleText() == "" {
		return fmt.Sprintf("<figure %d×%d>", w, h)
	}
	return fmt.Sprintf("<figure %d×%d: %s>", w, h, f.titleText())
}

// Render returns the figure's bundle: SVG, PNG and text, or the error as text (and as
// red HTML) when Err is set.
func (f *Figure) Render() Bundle {
	if f.Err != nil {
		return Bundle{
			Data: map[string]any{
				MIMEText: f.Err.Error(),
				MIMEHTML: `<pre style="color:#b00">` + htmlEscape(f.Err.Error()) + `</pre>`,
			},
			Metadata: map[string]any{},
		}
	}
	if f.empty() {
		return textBundle("<figure with no plot>")
	}
	w, h := f.cssSize()
	return Bundle{
		Data: map[string]any{
			MIMEText: f.String(),
			MIMESVG:  f.SVG(),
			MIMEPNG:  base64.StdEncoding.EncodeToString(f.PNG()),
		},
		Metadata: map[string]any{
			MIMEPNG: map[string]any{"width": w, "height": h},
		},
	}
}

// imgTag returns an HTML <img> of the figure's PNG at its CSS size.
func (f *Figure) imgTag() string { return f.imgTagAt(pngDPI) }

// imgTagAt is imgTag with the PNG drawn at dpi (live frames use the CSS resolution,
// a quarter of the pixels, to draw faster).
func (f *Figure) imgTagAt(dpi int) string {
	w, h := f.cssSize()
	alt := "figure"
	if f.titleText() != "" {
		alt = f.titleText()
	}
	return fmt.Sprintf(`<img width="%d" height="%d" alt="%s" src="data:image/png;base64,%s">`,
		w, h, htmlEscape(alt), base64.StdEncoding.EncodeToString(f.pngAt(dpi)))
}

func errFigure(format string, args ...any) *Figure {
	return &Figure{Err: fmt.Errorf("display: "+format, args...)}
}

// House style of the plots.

var (
	sansFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

	// palette is Okabe and Ito's colour-blind-safe palette (yellow left out: too
	// light on white), in the order series are drawn.
	palette = []color.Color{
		color.RGBA{0x00, 0x72, 0xB2, 0xFF}, // blue
		color.RGBA{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
		color.RGBA{0x00, 0x9E, 0x73, 0xFF}, // bluish green
		color.RGBA{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
		color.RGBA{0xE6, 0x9F, 0x00, 0xFF}, // orange
		color.RGBA{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
		color.RGBA{0x00, 0x00, 0x00, 0xFF}, // black
	}
	// dashes tell series apart where colours repeat (and in grey-scale print).
	dashes = [][]vg.Length{
		nil,
		{vg.Points(6), vg.Points(3)},
		{vg.Points(2), vg.Points(2)},
		{vg.Points(6), vg.Points(2), vg.Points(2), vg.Points(2)},
	}
	gridColor = color.Gray{Y: 225}
)

// seriesColor returns the colour of the i-th series.
func seriesColor(i int) color.Color { return palette[i%len(palette)] }

// seriesLine returns the line style of the i-th series: its colour, and a dash
// pattern that changes each time the palette wraps around.
func seriesLine(i int) draw.LineStyle {
	return draw.LineStyle{
		Color:  seriesColor(i),
		Width:  vg.Points(1.5),
		Dashes: dashes[(i/len(palette))%len(dashes)],
	}
}

// newPlot returns a plot in the house style: sans-serif text sized for a notebook,
// light grid, the given title and axis labels (labels carry units).
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p, _ := newPlotGrid(title, xLabel, yLabel)
	return p
}

// newPlotGrid is newPlot that also returns the grid, for plots that change it.
func newPlotGrid(title, xLabel, yLabel string) (*plot.Plot, *plotter.Grid) {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sansFont, 13)
	p.Title.TextStyle.Handler = scripts{}
	p.Title.Padding = vg.Points(6)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sansFont, 11)
		a.Label.TextStyle.Handler = scripts{}
		a.Tick.Label.Font = font.From(sansFont, 10)
		a.Tick.Label.Handler = scripts{}
	}
	p.X.Tick.Marker = niceTicks{}
	p.Y.Tick.Marker = niceTicks{}
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Legend.TextStyle.Font = font.From(sansFont, 10)
	p.Legend.TextStyle.Handler = scripts{}
	p.Legend.ThumbnailWidth = vg.Points(24)
	p.Legend.Padding = vg.Points(3)
	g := plotter.NewGrid()
	g.Vertical.Color = gridColor
	g.Horizontal.Color = gridColor
	p.Add(g)
	return p, g
}

// setLogY makes p's y axis logarithmic with ticks at powers of ten.
func setLogY(p *plot.Plot) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = decadeTicks{}
	p.Y.Tick.Label.Handler = scripts{caret: true}
}

// setLogX makes p's x axis logarithmic with ticks at powers of ten.
func setLogX(p *plot.Plot) {
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = decadeTicks{}
	p.X.Tick.Label.Handler = scripts{caret: true}
}

// decadeTicks marks powers of ten on a log axis, labelled 10ᵏ, every decade when
// there are at most 8 and every 2nd, 3rd… otherwise, with unlabelled minor ticks at
// 2…9 × 10ᵏ when the axis spans at most 3 decades.
type decadeTicks struct{}

func (decadeTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max > 0) || max < min {
		return nil
	}
	lo := int(math.Floor(math.Log10(min)))
	hi := int(math.Ceil(math.Log10(max)))
	step := 1
	for (hi-lo)/step > 8 {
		step++
	}
	var ticks []plot.Tick
	for k := lo; k <= hi; k++ {
		v := math.Pow(10, float64(k))
		if (k-lo)%step == 0 {
			ticks = append(ticks, plot.Tick{Value: v, Label: powerOfTen(k)})
		} else {
			ticks = append(ticks, plot.Tick{Value: v})
		}
		if hi-lo <= 3 && k < hi {
			for m := 2; m < 10; m++ {
				ticks = append(ticks, plot.Tick{Value: float64(m) * v})
			}
		}
	}
	return ticks
}

// powerOfTen writes 10ᵏ as "10^k" for the tick labels' text handler (scripts) ("1" and "10" for k = 0, 1).
func powerOfTen(k int) string {
	switch k {
	case 0:
		return "1"
	case 1:
		return "10"
	}
	return "10^" + strings.Replace(strconv.Itoa(k), "-", "−", 1)
}

func htmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	return r.Replace(s)
}

// niceTicks marks a linear axis at multiples of 1, 2 or 5 × 10ᵏ, choosing the step
// that gives 4 to 8 labelled ticks, with an unlabelled tick halfway between.
type niceTicks struct{}

func (niceTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) || math.IsInf(max-min, 0) {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	step := niceStep(max-min, 6)
	prec := -int(math.Floor(math.Log10(step)))
	if prec < 0 {
		prec = 0
	}
	var ticks []plot.Tick
	first := math.Ceil(min/step-1e-9) * step
	for k := 0; ; k++ {
		v := first + float64(k)*step
		if v > max+step*1e-9 {
			break
		}
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		label := strings.Replace(strconv.FormatFloat(v, 'f', prec, 64), "-", "−", 1) // a true minus sign
		ticks = append(ticks, plot.Tick{Value: v, Label: label})
		if half := v + step/2; half <= max {
			ticks = append(ticks, plot.Tick{Value: half})
		}
	}
	if half := first - step/2; half >= min {
		ticks = append(ticks, plot.Tick{Value: half})
	}
	return ticks
}

// niceStep returns the multiple of 1, 2 or 5 × 10ᵏ closest to span/target.
func niceStep(span float64, target int) float64 {
	raw := span / float64(target)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	best := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if math.Abs(m*mag-raw) < math.Abs(best-raw) {
			best = m * mag
		}
	}
	return best
}

// decadeRange widens a log axis to whole powers of ten, so that its ends are labelled.
func decadeRange(a *plot.Axis) {
	if a.Min > 0 && a.Max > 0 && !math.IsInf(a.Min, 0) && !math.IsInf(a.Max, 0) {
		a.Min = math.Pow(10, math.Floor(math.Log10(a.Min)+1e-9))
		a.Max = math.Pow(10, math.Ceil(math.Log10(a.Max)-1e-9))
	}
}

// niceRange widens a linear axis to the multiples of niceTicks' step that enclose
// it, so that both ends carry a label.
func niceRange(a *plot.Axis) {
	if !(a.Max > a.Min) || math.IsInf(a.Max-a.Min, 0) {
		return
	}
	step := niceStep(a.Max-a.Min, 6)
	a.Min = math.Floor(a.Min/step+1e-9) * step
	a.Max = math.Ceil(a.Max/step-1e-9) * step
}
