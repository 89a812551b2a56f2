package display

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/gocvx/gocvx/solver"
)

var inf = math.Inf(1)

// goldenProfileRuns is a hand-made profile of 8 problems: a method that certifies 6
// of them to 1e-4 and 4 to 1e-6, a reference that is slower but solves 7 and 7, and
// Adam at 1 % with one problem it was not run on.
func goldenProfileRuns() []ProfileRun {
	return []ProfileRun{
		{Method: "ADMM", Tolerance: 1e-4, Seconds: []float64{0.012, 0.05, 0.3, inf, 1.7, 0.09, inf, 12}},
		{Method: "ADMM", Tolerance: 1e-6, Seconds: []float64{0.02, 0.11, 2.5, inf, inf, 0.4, inf, 41}},
		{Method: "cvxopt", Tolerance: 1e-4, Seconds: []float64{0.9, 1.3, 4.1, 22, 8, 2.2, inf, 95}},
		{Method: "cvxopt", Tolerance: 1e-6, Seconds: []float64{1.1, 1.6, 5.3, 27, 9.5, 2.9, inf, 120}},
		{Method: "Adam (PyTorch), within 1 %", Tolerance: 1e-2, Seconds: []float64{0.03, 0.2, 0.15, math.NaN(), 0.6, 0.08, 3, inf}},
	}
}

// goldenPath is a path of 7 β on a hand-built problem: points on five rings, labelled
// +1 outside radius 1.1 (and every 7th flipped), and networks whose width shrinks and
// whose threshold radius grows with β, so that the test accuracy peaks inside the
// range; the two smallest β are not certified.
func goldenPath() ([]float64, []*solver.Result, *mat.Dense, []float64) {
	const n = 60
	X := mat.NewDense(n, 3, nil)
	y := make([]float64, n)
	for k := 0; k < n; k++ {
		a := 2 * math.Pi * float64(k) / n
		r := 0.5 + float64(k%5)/4
		X.SetRow(k, []float64{r * math.Cos(a), r * math.Sin(a), 1})
		y[k] = -1
		if r > 1.1 {
			y[k] = 1
		}
		if k%7 == 0 {
			y[k] = -y[k]
		}
	}
	betas := []float64{1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100}
	var results []*solver.Result
	for i, b := range betas {
		m := 12 - i // neurons: one bias neuron and m − 1 directions
		U := mat.NewDense(m, 3, nil)
		alpha := make([]float64, m)
		for j := 0; j < m-1; j++ {
			th := 2 * math.Pi * float64(j) / float64(m-1)
			U.SetRow(j, []float64{math.Cos(th), math.Sin(th), -(0.4 + 0.2*float64(i))})
			alpha[j] = 1
		}
		U.SetRow(m-1, []float64{0, 0, 1})
		alpha[m-1] = -0.05
		status := solver.Optimal
		if i < 2 {
			status = solver.TimeLimit
		}
		results = append(results, &solver.Result{
			Method: "ADMM", Status: status, Objective: 0.05 + 40*b/(1+b),
			Network: &solver.Network{U: U, Alpha: alpha}, ActiveNeurons: m,
		})
	}
	return betas, results, X, y
}

func profileGoldenFigures() map[string]*Figure {
	runs := goldenProfileRuns()
	betas, results, X, y := goldenPath()
	return map[string]*Figure{
		"profile":         ProfilePlot(runs),
		"profile_one_tol": ProfilePlot([]ProfileRun{runs[0], runs[2]}),
		"path":            PathPlot(betas, results, X, y),
		"path_no_test":    PathPlot(betas[2:], results[2:], nil, nil),
	}
}

// TestProfileGolden compares the SVGs of the profile and path figures byte for byte
// with testdata/NAME.svg, as TestGolden does for the other plots.
func TestProfileGolden(t *testing.T) {
	for name, fig := range profileGoldenFigures() {
		t.Run(name, func(t *testing.T) {
			checkGoldenSVG(t, name, fig, "ProfileGolden")
			checkPNG(t, fig, true)
			writePNG(t, name, fig)
		})
	}
}

// TestProfileFraction checks the profile's height against counts made by hand.
func TestProfileFraction(t *testing.T) {
	r := goldenProfileRuns()[0] // 0.012 0.05 0.3 inf 1.7 0.09 inf 12
	for _, c := range []struct {
		t, want float64
	}{
		{0, 0}, {0.011, 0}, {0.012, 1.0 / 8}, {0.1, 3.0 / 8}, {1, 4.0 / 8},
		{12, 6.0 / 8}, {1e9, 6.0 / 8}, {inf, 1},
	} {
		if got := r.Fraction(c.t); got != c.want {
			t.Errorf("Fraction(%v) = %v, want %v", c.t, got, c.want)
		}
	}
	adam := goldenProfileRuns()[4] // a NaN and an Inf among 8
	if got := adam.Fraction(1e9); got != 6.0/8 {
		t.Errorf("Fraction with NaN = %v, want 6/8", got)
	}
	if got := adam.Solved(); got != 6 {
		t.Errorf("Solved = %d, want 6", got)
	}
	if got := (ProfileRun{}).Fraction(1); got != 0 {
		t.Errorf("Fraction of no problems = %v, want 0", got)
	}
}

// TestProfileRunJSON: unsolved problems travel as null and come back as +Inf.
func TestProfileRunJSON(t *testing.T) {
	runs := goldenProfileRuns()
	data, err := json.Marshal(runs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"seconds":[0.012,0.05,0.3,null,1.7,0.09,null,12]`) {
		t.Errorf("JSON %s does not write unsolved problems as null", data)
	}
	var back []ProfileRun
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != len(runs) {
		t.Fatalf("%d runs back, want %d", len(back), len(runs))
	}
	for i, r := range runs {
		b := back[i]
		if b.Method != r.Method || b.Tolerance != r.Tolerance || len(b.Seconds) != len(r.Seconds) {
			t.Fatalf("run %d came back as %+v, want %+v", i, b, r)
		}
		for k, s := range r.Seconds {
			want := s
			if math.IsNaN(s) {
				want = inf
			}
			if b.Seconds[k] != want {
				t.Errorf("run %d problem %d: %v back, want %v", i, k, b.Seconds[k], want)
			}
		}
	}
}

// TestProfileAndPathErrors: bad input gives a figure holding a clear error.
func TestProfileAndPathErrors(t *testing.T) {
	betas, results, X, y := goldenPath()
	for name, c := range map[string]struct {
		fig  *Figure
		want string
	}{
		"no runs":        {ProfilePlot(nil), "no runs"},
		"empty run":      {ProfilePlot([]ProfileRun{{Method: "x"}}), `run 0 ("x") has no problems`},
		"negative time":  {ProfilePlot([]ProfileRun{{Method: "x", Seconds: []float64{1, -2}}}), "negative time -2"},
		"lengths":        {PathPlot(betas[:3], results, nil, nil), "3 values of β and 7 results"},
		"zero beta":      {PathPlot([]float64{0}, results[:1], nil, nil), "β = 0 cannot be drawn"},
		"nil result":     {PathPlot(betas[:1], []*solver.Result{nil}, nil, nil), "result 0 (β = 0.0001) is nil"},
		"labels only":    {PathPlot(betas, results, nil, y), "both the test points and their labels"},
		"label count":    {PathPlot(betas, results, X, y[:5]), "X has 60 rows, y has 5"},
		"no network":     {PathPlot(betas[:1], []*solver.Result{{Status: solver.Optimal}}, X, y), "has no network"},
		"wrong features": {PathPlot(betas, results, mat.NewDense(2, 4, nil), []float64{1, -1}), "X has 4 columns"},
	} {
		if c.fig.Err == nil || !strings.Contains(c.fig.Err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", name, c.fig.Err, c.want)
		}
	}
}

// TestPathPlotTest: the accuracy panel and the best β come from the networks, and
// regression targets give an RMSE panel instead.
func TestPathPlotTest(t *testing.T) {
	betas, results, X, y := goldenPath()
	fig := PathPlot(betas, results, X, y)
	best, bestBeta := -1.0, 0.0
	for i, r := range results {
		acc, err := r.Network.Accuracy(X, y)
		if err != nil {
			t.Fatal(err)
		}
		if 100*acc > best || (100*acc == best && betas[i] > bestBeta) {
			best, bestBeta = 100*acc, betas[i]
		}
	}
	if !strings.Contains(fig.title, "2 of 7 solves not certified") {
		t.Errorf("title %q does not count the uncertified solves", fig.title)
	}
	if want := fmt.Sprintf("at β = %g", bestBeta); !strings.Contains(fig.title, want) {
		t.Errorf("title %q does not name the best β (%s)", fig.title, want)
	}
	targets := make([]float64, len(y))
	for k := range targets {
		targets[k] = 0.5 * y[k]
	}
	reg := PathPlot(betas, results, X, targets)
	if reg.Err != nil || !strings.Contains(reg.title, "least test RMSE") {
		t.Errorf("regression targets: title %q, error %v; want an RMSE path", reg.title, reg.Err)
	}
	if !strings.Contains(reg.SVG(), "test RMSE") {
		t.Error("regression path has no RMSE axis")
	}
}
