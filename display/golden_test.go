package display

import (
	"bytes"
	"flag"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

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
		h[k] = solver.Iteration{
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
		"residuals":     ResidualPlot(runs[:2], ByIteration),
		"neurons":       NeuronPlot(runs),
	}
}

func TestGolden(t *testing.T) {
	for name, fig := range goldenFigures() {
		t.Run(name, func(t *testing.T) {
			if fig.Err != nil {
				t.Fatalf("figure error: %v", fig.Err)
			}
			got := []byte(fig.SVG())
			path := filepath.Join("testdata", name+".svg")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("SVG differs from %s (run go test -run Golden -update and look at the picture)", path)
			}
			if again := fig.SVG(); again != string(got) {
				t.Error("drawing the same figure twice gave different SVGs")
			}
			checkPNG(t, fig)
			if pngDir != "" {
				if err := os.WriteFile(filepath.Join(pngDir, name+".png"), fig.PNG(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// checkPNG checks that the figure's PNG has twice its CSS size in pixels and is not
// blank: a good share of pixels differ from the white background, in several colours.
func checkPNG(t *testing.T, fig *Figure) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(fig.PNG()))
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	w, h := fig.cssSize()
	if b := img.Bounds(); b.Dx() != 2*w || b.Dy() != 2*h {
		t.Errorf("PNG is %d×%d pixels, want %d×%d", b.Dx(), b.Dy(), 2*w, 2*h)
	}
	inked, colours := inkStats(img)
	if inked < 0.01 {
		t.Errorf("PNG is nearly blank: %.2f%% of pixels drawn", 100*inked)
	}
	if colours < 2 {
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
