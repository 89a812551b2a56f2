package display

import (
	"bytes"
	"flag"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/plot/vg"

	"github.com/gocvx/gocvx/solver"
)

var update = flag.Bool("update", false, "rewrite the golden SVGs in testdata/")

// pngDir, when set in the environment, receives the PNG of every golden figure so
// that a person can look at them (go test -run Golden with DISPLAY_PNG_DIR=/tmp/x).
var pngDir = os.Getenv("DISPLAY_PNG_DIR")

// synthHistory returns a deterministic history of n iterations converging linearly
// at the given rate, with residuals and accuracy, as a solver would record it.
func synthHistory(n int, rate float64, step time.Duration, phase float64) []solver.Iteration {
	h := make([]solver.Iteration, n)
	const optimum = 12.5
	for k := range h {
		i := float64(k + 1)
		gap := 0.8 * math.Pow(rate, i) * (1 + 0.3*math.Sin(i/3+phase))
		dual := math.NaN() // certified every 10 iterations, as the convex methods do
		if (k+1)%10 == 0 {
			dual = 1.4 * gap * (1 + 0.1*math.Cos(i))
		}
		h[k] = solver.Iteration{
			DualityGap:     dual,
			Patterns:       512,
			Iteration:      k + 1,
			Objective:      optimum * (1 + gap),
			Gap:            gap,
			PrimalResidual: 3 * math.Pow(rate, i) * (1 + 0.2*math.Cos(i/2+phase)),
			DualResidual:   1.5 * math.Pow(rate*1.01, i) * (1 + 0.2*math.Sin(i/2+phase)),
			Elapsed:        time.Duration(k+1) * step,
			TrainAccuracy:  0.97 - 0.45*math.Exp(-i/8-phase),
			ActiveNeurons:  12 + int(40*math.Exp(-i/25-phase)),
		}
	}
	return h
}

func goldenRuns() []Run {
	return []Run{
		{Label: "ρ = 0.1", History: synthHistory(300, 0.97, 2*time.Millisecond, 0)},
		{Label: "ρ = 1", History: synthHistory(150, 0.93, 2100*time.Microsecond, 1)},
		{Label: "ρ = 10", History: synthHistory(220, 0.95, 1900*time.Microsecond, 2)},
	}
}

// goldenFigures are the figures whose SVGs are compared byte for byte with
// testdata/NAME.svg.
func goldenFigures() map[string]*Figure {
	runs := goldenRuns()
	return map[string]*Figure{
		"gap_iteration": GapPlot(runs, ByIteration),
		"gap_time":      GapPlot(runs, ByTime),
		"objective":     ObjectivePlot(runs[:1], ByIteration),
		"duality_gap":   DualityGapPlot(runs, ByIteration),
		"residuals":     ResidualPlot(runs[:2], ByIteration),
		"neurons":       NeuronPlot(runs),
		"accuracy": AccuracyPlot([]Series{
			AccuracySeries("train", runs[0].History[:40]),
			synthCurve("test", 40, func(i float64) float64 { return 0.93 - 0.4*math.Exp(-i/7) }),
		}),
		"patterns":        PatternPlot([]int{10, 30, 100, 300, 1000, 3000, 10000, 30000}, []int{10, 29, 91, 240, 520, 790, 905, 931}, 940),
		"patterns_linear": PatternPlot([]int{5, 10, 20, 40}, []int{5, 9, 15, 21}, 0),
		"violation":       ViolationPlot([]int{50, 100, 200, 500, 1000, 2000, 5000}, []float64{0.31, 0.2, 0.12, 0.05, 0.022, 0.011, 0.004}, []float64{1.3, 0.66, 0.33, 0.13, 0.066, 0.033, 0.013}),
		"robustness":      RobustnessPlot(goldenRobust()...),
		"time_bars":       TimeBars([]string{"ADMM", "ADMM (Woodbury)", "interior point", "SGD ×10"}, []float64{1.84, 0.92, 27.5, 6.3}),
		"scaling": ScalingPlot("training points n", "time per iteration (s)", []Series{
			{Label: "ADMM", X: []float64{250, 500, 1000, 2000, 4000, 8000}, Y: []float64{0.0021, 0.0043, 0.0081, 0.017, 0.033, 0.069}},
			{Label: "interior point", X: []float64{250, 500, 1000, 2000}, Y: []float64{0.09, 0.41, 2.1, 9.8}},
		}),
		"line": LinePlot("SCP against ADMM", "sampled patterns N", "training objective", []Series{
			{Label: "SCP", X: []float64{10, 20, 40, 80, 160}, Y: []float64{9.1, 7.4, 6.6, 6.25, 6.1}},
			{Label: "ADMM (exact)", X: []float64{10, 160}, Y: []float64{6.02, 6.02}},
		}),
		// A title wider than the plot beside a wide legend column (it was clipped on
		// the left), one wider than the figure (wrapped), and scripts in labels.
		"line_long_title": LinePlot("Accuracy of the recovered network after k ADMM iterations", "log₁₀ of the time to solve (s)", "accuracy of x₁₂ (%)", []Series{
			{Label: "ADMM, default ρ₀ with residual balancing", X: []float64{-2, -1, 0}, Y: []float64{80, 91, 93}},
			{Label: "ADMM, fixed ρ = 10ρ₀", X: []float64{-2, -1, 0}, Y: []float64{62, 85, 92}},
		}),
		"line_wrapped_title": LinePlot("Objective of SCP against the number N of sampled directions, with ADMM on the exact program for reference", "N", "objective", []Series{
			{Label: "SCP", X: []float64{10, 20, 40, 80, 160}, Y: []float64{9.1, 7.4, 6.6, 6.25, 6.1}},
		}),
		"boundary":    goldenBoundary(),
		"image_grid":  goldenGrid(),
		"convergence": ConvergencePlot(&solver.Result{Method: "ADMM", History: runs[1].History}),
	}
}

func synthCurve(label string, n int, f func(float64) float64) Series {
	s := Series{Label: label}
	for i := 1; i <= n; i++ {
		s.X = append(s.X, float64(i))
		s.Y = append(s.Y, f(float64(i)))
	}
	return s
}

func goldenRobust() []*solver.RobustCurve {
	eps := []float64{0, 0.05, 0.1, 0.15, 0.2, 0.25}
	return []*solver.RobustCurve{
		{Method: "convex (standard)", Epsilon: eps, Clean: []float64{0.97, 0.97, 0.97, 0.97, 0.97, 0.97}, Adversarial: []float64{0.97, 0.71, 0.38, 0.15, 0.05, 0.01}},
		{Method: "convex adversarial", Epsilon: eps, Clean: []float64{0.97, 0.95, 0.93, 0.9, 0.86, 0.8}, Adversarial: []float64{0.97, 0.88, 0.8, 0.69, 0.58, 0.45}},
		{Method: "PGD training", Epsilon: eps, Clean: []float64{0.97, 0.94, 0.91, 0.87, 0.82, 0.76}, Adversarial: []float64{0.97, 0.86, 0.76, 0.63, 0.5, 0.37}},
	}
}

// goldenBoundary is a hand-built network whose positive region is the outside of an
// octagon around the origin, over deterministic points labelled by it (with two
// labels flipped, as real data would have).
func goldenBoundary() *Figure {
	const m = 8
	u := mat.NewDense(m+1, 3, nil)
	alpha := make([]float64, m+1)
	for j := 0; j < m; j++ {
		th := 2 * math.Pi * float64(j) / m
		u.SetRow(j, []float64{math.Cos(th), math.Sin(th), -0.6})
		alpha[j] = 1
	}
	u.SetRow(m, []float64{0, 0, 1})
	alpha[m] = -0.35
	net := &solver.Network{U: u, Alpha: alpha}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 160
	X := mat.NewDense(n, 3, nil)
	for i := 0; i < n; i++ {
		X.SetRow(i, []float64{4*rng.Float64() - 2, 3*rng.Float64() - 1.5, 1})
	}
	f, err := net.Predict(X)
	if err != nil {
		panic(err)
	}
	y := make([]float64, n)
	for i, v := range f {
		y[i] = 1
		if v <= 0 {
			y[i] = -1
		}
	}
	y[3], y[17] = -y[3], -y[17]
	return BoundaryPlot(net, X, y)
}

// goldenGrid draws procedural 10×10 "digits" (a ring and a bar) and perturbed copies.
func goldenGrid() *Figure {
	ring := func(cx, cy, r float64) []float64 {
		px := make([]float64, 100)
		for i := 0; i < 10; i++ {
			for j := 0; j < 10; j++ {
				d := math.Hypot(float64(j)-cx, float64(i)-cy)
				px[i*10+j] = math.Max(0, 1-math.Abs(d-r))
			}
		}
		return px
	}
	bar := func(k int) []float64 {
		px := make([]float64, 100)
		for i := 1; i < 9; i++ {
			j := k + (i-1)/3
			px[i*10+j] = 1
		}
		return px
	}
	clean := [][]float64{ring(4.5, 4.5, 3), ring(4.5, 3, 2), bar(3), bar(5), ring(4, 5, 2.5)}
	var adv [][]float64
	for k, im := range clean {
		a := make([]float64, len(im))
		for i, v := range im {
			s := 0.2
			if (i*37+k*11+i*i)%7 < 3 {
				s = -0.2
			}
			a[i] = math.Min(1, math.Max(0, v+s))
		}
		adv = append(adv, a)
	}
	return ImageGrid("MNIST 2 against 8: clean and attacked (ε = 0.2)", []ImageRow{
		{Label: "clean", Images: clean, Captions: []string{"pred 8", "pred 8", "pred 2", "pred 2", "pred 8"}},
		{Label: "PGD", Images: adv, Captions: []string{"pred 2", "pred 8", "pred 8", "pred 2", "pred 2"}},
	})
}

func TestGolden(t *testing.T) {
	for name, fig := range goldenFigures() {
		t.Run(name, func(t *testing.T) {
			got := checkGoldenSVG(t, name, fig, "Golden")
			if again := fig.SVG(); again != got {
				t.Error("drawing the same figure twice gave different SVGs")
			}
			checkPNG(t, fig, name != "image_grid")
			writePNG(t, name, fig)
		})
	}
}

// checkGoldenSVG compares the figure's SVG byte for byte with testdata/NAME.svg
// (rewriting it first under -update; test names the -run pattern to say so) and
// returns it.
func checkGoldenSVG(t *testing.T, name string, fig *Figure, test string) string {
	t.Helper()
	if fig.Err != nil {
		t.Fatalf("figure error: %v", fig.Err)
	}
	got := fig.SVG()
	path := filepath.Join("testdata", name+".svg")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("SVG differs from %s (run go test -run %s -update and look at the picture)", path, test)
	}
	return got
}

// writePNG writes the figure's PNG as NAME.png to the folder given by pngDir, if
// any, for a person to look at.
func writePNG(t *testing.T, name string, fig *Figure) {
	t.Helper()
	if pngDir != "" {
		if err := os.WriteFile(filepath.Join(pngDir, name+".png"), fig.PNG(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkPNG checks that the figure's PNG has its CSS size at pngDPI in pixels and is not
// blank: a good share of pixels differ from the white background, in several colours.
func checkPNG(t *testing.T, fig *Figure, coloured bool) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(fig.PNG()))
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	w, h := fig.cssSize()
	if b := img.Bounds(); abs(b.Dx()-pngPixels(w)) > 1 || abs(b.Dy()-pngPixels(h)) > 1 {
		t.Errorf("PNG is %d×%d pixels, want %d×%d (%d dpi)", b.Dx(), b.Dy(), pngPixels(w), pngPixels(h), pngDPI)
	}
	inked, colours := inkStats(img)
	if inked < 0.01 {
		t.Errorf("PNG is nearly blank: %.2f%% of pixels drawn", 100*inked)
	}
	if coloured && colours < 2 {
		t.Errorf("PNG has %d non-grey colours", colours)
	}
}

// inkStats returns the fraction of non-white pixels and the number of distinct
// saturated colours (coarsely quantised) among them.
func inkStats(img image.Image) (inked float64, colours int) {
	b := img.Bounds()
	n := 0
	seen := map[[3]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				n++
			}
			hi, lo := max(r, g, bl), min(r, g, bl)
			if hi-lo > 0x4000 {
				seen[[3]uint32{r >> 14, g >> 14, bl >> 14}] = true
			}
		}
	}
	return float64(n) / float64(b.Dx()*b.Dy()), len(seen)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// pngPixels converts CSS pixels to the pixels of a full-resolution PNG.
func pngPixels(css int) int { return css * pngDPI / cssDPI }

// TestTitleWithinFigure: every line of a long title lies inside the figure, however
// wide the legend column (the title used to be centred over the plot area only and
// clipped on the left), and a title wider than the figure is wrapped.
func TestTitleWithinFigure(t *testing.T) {
	figs := goldenFigures()
	for name, lines := range map[string]int{"line_long_title": 1, "line_wrapped_title": 2} {
		fig := figs[name]
		w, _ := fig.size()
		sty := fig.Plot.Title.TextStyle
		re := regexp.MustCompile(`<text x="([-0-9.]+)"[^>]*font-size:13px">([^<]*)</text>`)
		got := re.FindAllStringSubmatch(fig.SVG(), -1)
		if len(got) != lines {
			t.Errorf("%s: %d title lines, want %d", name, len(got), lines)
		}
		for _, m := range got {
			x, _ := strconv.ParseFloat(m[1], 64)
			right := vg.Length(x) + sty.Width(m[2])
			if x < 0 || right > w {
				t.Errorf("%s: title line %q spans %.1f–%.1f pt, outside the figure's 0–%.1f", name, m[2], x, right, w)
			}
		}
	}
}
