package display_test

import (
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/plot/vg"

	"github.com/gocvx/gocvx/display"
	"github.com/gocvx/gocvx/solver"
)

// history returns n iterations of a solve converging linearly at the given rate.
func history(n int, rate float64) []solver.Iteration {
	h := make([]solver.Iteration, n)
	for k := range h {
		gap := math.Pow(rate, float64(k+1))
		h[k] = solver.Iteration{
			Iteration: k + 1, Objective: 10 * (1 + gap), Gap: gap,
			PrimalResidual: gap, DualResidual: 2 * gap,
			Elapsed:       time.Duration(k+1) * time.Millisecond,
			TrainAccuracy: 0.95 - 0.4*gap, ActiveNeurons: 10 + int(20*gap),
		}
	}
	return h
}

func ExampleGapPlot() {
	runs := []display.Run{
		{Label: "ρ = 0.1", History: history(200, 0.95)},
		{Label: "ρ = 1", History: history(100, 0.9)},
	}
	// In a cell, the figure as last expression (or display.Show) draws it inline.
	fmt.Println(display.GapPlot(runs, display.ByIteration))
	fmt.Println(display.GapPlot(runs, display.ByTime))
	// Output:
	// <figure 624×384: Objective gap>
	// <figure 624×384: Objective gap>
}

func ExampleDualityGapPlot() {
	h := history(100, 0.9)
	for i := range h {
		if h[i].Iteration%10 != 0 {
			h[i].DualityGap = math.NaN() // certified every 10 iterations
		} else {
			h[i].DualityGap = 2 * h[i].Gap
		}
	}
	fmt.Println(display.DualityGapPlot([]display.Run{display.RunOf(&solver.Result{Method: "ADMM", History: h}, "")}, display.ByTime))
	// Output: <figure 624×384: Duality gap: ADMM>
}

func ExampleObjectivePlot() {
	fmt.Println(display.ObjectivePlot([]display.Run{{Label: "SGD", History: history(50, 0.9)}}, display.ByIteration))
	// Output: <figure 624×384: Training objective: SGD>
}

func ExampleResidualPlot() {
	fmt.Println(display.ResidualPlot([]display.Run{{History: history(50, 0.9)}}, display.ByIteration))
	// Output: <figure 624×384: Primal and dual residuals>
}

func ExampleNeuronPlot() {
	fmt.Println(display.NeuronPlot([]display.Run{{Label: "β = 0.01", History: history(50, 0.9)}}))
	// Output: <figure 624×384: Active neurons: β = 0.01>
}

func ExampleConvergencePlot() {
	res := &solver.Result{Method: "ADMM", History: history(80, 0.9)}
	fmt.Println(display.ConvergencePlot(res))
	// Output: <figure 624×384: Objective gap: ADMM>
}

func ExampleAccuracyPlot() {
	h := history(30, 0.8)
	test := display.Series{Label: "test"}
	for _, it := range h {
		test.X = append(test.X, float64(it.Iteration))
		test.Y = append(test.Y, it.TrainAccuracy-0.03)
	}
	fmt.Println(display.AccuracyPlot([]display.Series{display.AccuracySeries("train", h), test}))
	// Output: <figure 624×384: Accuracy>
}

func ExamplePatternPlot() {
	drawn := []int{10, 100, 1000, 10000}
	distinct := []int{10, 95, 610, 930}
	fmt.Println(display.PatternPlot(drawn, distinct, 940))
	// Output: <figure 624×384: Activation patterns found by sampling>
}

func ExampleViolationPlot() {
	fmt.Println(display.ViolationPlot([]int{100, 1000, 10000}, []float64{0.2, 0.03, 0.002}, []float64{0.9, 0.09, 0.009}))
	// Output: <figure 624×384: Violation rate against patterns sampled>
}

func ExampleRobustnessPlot() {
	eps := []float64{0, 0.1, 0.2}
	// Curves as solver.RobustnessCurve returns them.
	fig := display.RobustnessPlot(
		&solver.RobustCurve{Method: "convex", Epsilon: eps, Clean: []float64{0.97, 0.97, 0.97}, Adversarial: []float64{0.97, 0.4, 0.05}},
		&solver.RobustCurve{Method: "convex adversarial", Epsilon: eps, Clean: []float64{0.97, 0.93, 0.86}, Adversarial: []float64{0.97, 0.8, 0.58}},
	)
	fmt.Println(fig)
	// Output: <figure 624×384: Clean and adversarial accuracy>
}

func ExampleBoundaryPlot() {
	// f(x) = (x₁)₊ − (−x₁)₊ = x₁ on data [x₁ x₂ 1] (a bias column).
	net := &solver.Network{U: mat.NewDense(2, 3, []float64{1, 0, 0, -1, 0, 0}), Alpha: []float64{1, -1}}
	X := mat.NewDense(4, 3, []float64{-1, -1, 1, -1, 1, 1, 1, -1, 1, 1, 1, 1})
	y := []float64{-1, -1, 1, 1}
	fmt.Println(display.BoundaryPlot(net, X, y))
	// Output: <figure 624×432: Decision boundary>
}

func ExampleImageGrid() {
	digit := make([]float64, 100) // a 10×10 image
	for i := 2; i < 8; i++ {
		digit[i*10+5] = 1
	}
	fig := display.ImageGrid("digits", []display.ImageRow{
		{Label: "clean", Images: [][]float64{digit, digit}, Captions: []string{"2", "8"}},
	})
	fmt.Println(fig)
	// Output: <figure 248×147: digits>
}

func ExampleTimeBars() {
	fmt.Println(display.TimeBars([]string{"ADMM", "interior point"}, []float64{0.8, 12}))
	// Output: <figure 624×384: Run time>
}

func ExampleScalingPlot() {
	fig := display.ScalingPlot("training points n", "time per iteration (s)", []display.Series{
		{Label: "ADMM", X: []float64{1000, 2000, 4000}, Y: []float64{0.01, 0.02, 0.04}},
	})
	fmt.Println(fig)
	// Output: <figure 624×384: Scaling (log–log)>
}

func ExampleLinePlot() {
	fig := display.LinePlot("SCP against ADMM", "sampled patterns N", "objective", []display.Series{
		{Label: "SCP", X: []float64{10, 20, 40}, Y: []float64{9, 7, 6.5}},
		{Label: "ADMM", X: []float64{10, 40}, Y: []float64{6, 6}},
	})
	fmt.Println(fig)
	// Output: <figure 624×384: SCP against ADMM>
}

func ExampleFigure() {
	fig := display.GapPlot([]display.Run{{History: history(100, 0.9)}}, display.ByIteration)
	// A figure is a gonum plot plus a size: change either before showing it.
	fig.Plot.Title.Text = "ADMM on breast cancer"
	fig.Width, fig.Height = 8*vg.Inch, 3*vg.Inch
	fmt.Println(fig)
	// Bad input gives a figure that renders as its error.
	fmt.Println(display.LinePlot("t", "x", "y", []display.Series{{X: []float64{1, 2}, Y: []float64{1}}}))
	// Output:
	// <figure 768×288: ADMM on breast cancer>
	// display: LinePlot: series 0 ("") has 2 x values and 1 y values
}

func ExampleLive() {
	// In a cell the display updates in place while the solve runs:
	//
	//	live := &display.Live{Label: "ADMM ρ = 1"}
	//	res, err := solver.Solve(ctx, prob, &solver.Settings{Recorder: live}, &solver.ADMM{Rho: 1})
	//	live.Done(res)
	//
	// Outside a cell nothing is drawn and Done prints the result's summary.
	live := &display.Live{Label: "ADMM"}
	h := history(40, 0.7)
	for _, it := range h {
		live.Record(it)
	}
	live.Done(&solver.Result{Method: "ADMM", Factorization: "cholesky", Status: solver.Optimal,
		Objective: 10.0000064, Gap: 6.4e-7, Iterations: 40, Runtime: 40 * time.Millisecond,
		History: h, ActiveNeurons: 10})
	// Output:
	// ADMM (cholesky): optimal after 40 iterations in 40ms
	//   factorization   cholesky
	//   status          optimal
	//   objective       10.000006
	//   gap             6.40e-07
	//   iterations      40
	//   time            40ms
	//   active neurons  10
}

func ExampleProgress() {
	bar := display.NewProgress("attacks", 4)
	for i := 0; i < 4; i++ {
		bar.Add(1)
	}
	bar.Done() // outside a cell, prints the final line
	// Output: attacks [##############################] 100% 4/4 · 0s (done)
}
