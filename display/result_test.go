package display

import (
	"math"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/gocvx/gocvx/solver"
)

func goldenResult(h []solver.Iteration) *solver.Result {
	return &solver.Result{
		Method: "ADMM", Factorization: "woodbury", Status: solver.IterationLimit,
		Objective: 12.5000125, Gap: 1e-6, Iterations: len(h), Runtime: 1234567 * time.Microsecond,
		History: h, ActiveNeurons: 7, Patterns: 512, Rho: 0.8, Factorizations: 3,
		Certificate: &solver.Certificate{Primal: 12.5000125, Dual: 12.499988, Gap: 2e-6},
		Network:     &solver.Network{U: mat.NewDense(9, 2, nil), Alpha: make([]float64, 9)},
	}
}

func TestRenderResult(t *testing.T) {
	res := goldenResult(synthHistory(120, 0.95, time.Millisecond, 0))
	for name, v := range map[string]any{"pointer": res, "value": *res} {
		t.Run(name, func(t *testing.T) {
			b := Render(v)
			wantText := "ADMM (woodbury): iteration limit after 120 iterations in 1.23s\n" +
				"  factorization   woodbury\n" +
				"  status          iteration limit\n" +
				"  objective       12.500013\n" +
				"  gap             1.00e-06\n" +
				"  iterations      120\n" +
				"  time            1.23s\n" +
				"  dual bound      12.499988\n" +
				"  patterns        512\n" +
				"  penalty ρ       0.8 (3 factorizations)\n" +
				"  active neurons  7 of 9"
			if b.Data[MIMEText] != wantText {
				t.Errorf("text/plain =\n%s\nwant\n%s", b.Data[MIMEText], wantText)
			}
			html, _ := b.Data[MIMEHTML].(string)
			for _, want := range []string{
				"<caption", "ADMM (woodbury): iteration limit after 120 iterations in 1.23s",
				"<th", "factorization</th><td", "woodbury", "12.500013", "1.00e-06", "7 of 9", "penalty ρ</th>", "512",
				`<img width="624" height="384" alt="Objective gap: ADMM"`,
			} {
				if !strings.Contains(html, want) {
					t.Errorf("HTML lacks %q", want)
				}
			}
			if got := pngWidthIn(t, html); got != pngPixels(624) {
				t.Errorf("inline plot is %d pixels wide, want %d", got, pngPixels(624))
			}
		})
	}
}

func TestRenderResultWithoutHistory(t *testing.T) {
	res := &solver.Result{Method: "SGD", Status: solver.Canceled, Objective: 3, Gap: math.NaN(), Iterations: 0}
	b := Render(res)
	html := b.Data[MIMEHTML].(string)
	if strings.Contains(html, "<img") {
		t.Error("a result without history has a plot")
	}
	if !strings.Contains(html, "<td style=\"text-align:left\">n/a</td>") {
		t.Errorf("NaN gap not shown as n/a: %s", html)
	}
	if b := Render((*solver.Result)(nil)); b.Data[MIMEText] != "<nil>" {
		t.Errorf("nil result renders as %q", b.Data[MIMEText])
	}
}

func TestConvergencePlotFallsBack(t *testing.T) {
	h := synthHistory(30, 0.9, time.Millisecond, 0)
	for i := range h {
		h[i].Gap = math.NaN()
	}
	fig := ConvergencePlot(&solver.Result{Method: "ADMM", History: h})
	if fig.Err != nil || fig.Plot.Title.Text != "Duality gap: ADMM" {
		t.Errorf("without reference gaps got %v / %q, want the duality gap plot", fig.Err, fig.titleText())
	}
	for i := range h {
		h[i].DualityGap = 0 // methods without a certificate
	}
	fig = ConvergencePlot(&solver.Result{Method: "SGD", History: h})
	if fig.Err != nil || fig.Plot.Title.Text != "Training objective: SGD" {
		t.Errorf("without gaps got %v / %q, want the objective plot", fig.Err, fig.titleText())
	}
	if fig := GapPlot([]Run{{History: h}}, ByIteration); fig.Err == nil {
		t.Error("GapPlot without finite gaps has no error")
	}
}

func TestGapFloor(t *testing.T) {
	h := synthHistory(10, 0.5, time.Millisecond, 0)
	h[9].Gap = 0
	h[8].Gap = -1e-3
	fig := GapPlot([]Run{{History: h}}, ByIteration)
	if fig.Err != nil {
		t.Fatal(fig.Err)
	}
	// The axis reaches down to the floor (and no further: it is widened to decades).
	if fig.Plot.Y.Min != GapFloor {
		t.Errorf("y axis starts at %g, want the floor %g", fig.Plot.Y.Min, GapFloor)
	}
	if svg := fig.SVG(); svg == "" {
		t.Error("a gap plot with zero and negative gaps does not draw")
	}
}

func TestFigureErrors(t *testing.T) {
	X := mat.NewDense(3, 3, []float64{0, 0, 1, 1, 2, 1, 2, 1, 3})
	net := &solver.Network{U: mat.NewDense(1, 3, nil), Alpha: []float64{1}}
	for name, fig := range map[string]*Figure{
		"boundary with 3 varying columns": BoundaryPlot(net, X, []float64{1, -1, 1}),
		"boundary with short labels":      BoundaryPlot(net, X, []float64{1}),
		"boundary wrong network": BoundaryPlot(&solver.Network{U: mat.NewDense(1, 4, nil), Alpha: []float64{1}},
			mat.NewDense(3, 3, []float64{0, 0, 1, 1, 2, 1, 2, 1, 1}), []float64{1, -1, 1}),
		"grid of non-square images": ImageGrid("", []ImageRow{{Images: [][]float64{make([]float64, 10)}}}),
		"grid of mixed sizes":       ImageGrid("", []ImageRow{{Images: [][]float64{make([]float64, 4), make([]float64, 9)}}}),
		"grid with extra captions":  ImageGrid("", []ImageRow{{Images: [][]float64{make([]float64, 4)}, Captions: []string{"a", "b"}}}),
		"patterns mismatched":       PatternPlot([]int{1, 2}, []int{1}, 0),
		"violation mismatched":      ViolationPlot([]int{1, 2}, []float64{1, 2}, []float64{1}),
		"robustness mismatched":     RobustnessPlot(&solver.RobustCurve{Method: "m", Epsilon: []float64{0, 1}, Clean: []float64{1}}),
		"robustness nil curve":      RobustnessPlot(nil),
		"bars negative":             TimeBars([]string{"a"}, []float64{-1}),
		"bars mismatched":           TimeBars([]string{"a", "b"}, []float64{1}),
		"scaling nothing positive":  ScalingPlot("n", "s", []Series{{X: []float64{0}, Y: []float64{1}}}),
		"accuracy no series":        AccuracyPlot(nil),
	} {
		t.Run(name, func(t *testing.T) {
			if fig.Err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(fig.Err.Error(), "display: ") {
				t.Errorf("error %q lacks the package prefix", fig.Err)
			}
			b := Render(fig)
			if b.Data[MIMEText] != fig.Err.Error() || b.Data[MIMEHTML] == nil || b.Data[MIMEPNG] != nil {
				t.Errorf("an erroneous figure renders as %v", b.Data)
			}
		})
	}
}

func TestThin(t *testing.T) {
	h := synthHistory(5000, 0.999, time.Millisecond, 0)
	fig := GapPlot([]Run{{History: h}}, ByIteration)
	if fig.Err != nil {
		t.Fatal(fig.Err)
	}
	// 5000 iterations are drawn with maxLinePoints points: the SVG path has that
	// many commands, not 5000.
	svg := fig.SVG()
	if n := strings.Count(svg, "L"); n > maxLinePoints+200 {
		t.Errorf("SVG has %d line-to commands for a thinned line of %d points", n, maxLinePoints)
	}
}

func TestPatternPlotCurve(t *testing.T) {
	// A curve as solver.PatternCurve returns it: the count after each draw.
	counts := make([]int, 5000)
	for j := range counts {
		counts[j] = int(900 * (1 - math.Exp(-float64(j+1)/800)))
	}
	fig := PatternPlot(nil, counts, 0)
	if fig.Err != nil {
		t.Fatal(fig.Err)
	}
	if fig.Plot.X.Min != 1 || fig.Plot.X.Max != 1e4 {
		t.Errorf("x axis [%g, %g], want the decades [1, 1e4] around 1…5000 draws", fig.Plot.X.Min, fig.Plot.X.Max)
	}
	if n := strings.Count(fig.SVG(), "L"); n > maxLinePoints+200 {
		t.Errorf("5000 draws give %d line-to commands; the curve is not thinned", n)
	}
}
