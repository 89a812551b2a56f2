package display

import (
	"context"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/gocvx/gocvx/solver"
)

// xorProblem is a small XOR-like classification problem [x₁ x₂ 1] → ±1.
func xorProblem() *solver.Problem {
	const n = 60
	X := mat.NewDense(n, 3, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		a := 2*math.Pi*float64(i)/n + 0.3
		r := 0.5 + 0.5*float64(i%3)/2
		x1, x2 := r*math.Cos(a), r*math.Sin(a)
		X.SetRow(i, []float64{x1, x2, 1})
		y[i] = 1
		if x1*x2 < 0 {
			y[i] = -1
		}
	}
	return &solver.Problem{X: X, Y: y, Loss: solver.Squared, Beta: 1e-3}
}

// TestSolveLive runs one small real solve (SGD, 60 points, 40 epochs) through
// SolveLive: the cell sees a live display that ends as the result, and a recorder in
// the settings still sees every iteration.
func TestSolveLive(t *testing.T) {
	sink := enterCell(t)
	prob := xorProblem()
	var seen int
	settings := &solver.Settings{Seed: 1, MaxIterations: 40,
		Recorder: solver.RecorderFunc(func(solver.Iteration) { seen++ })}
	res, err := SolveLive(context.Background(), prob, settings, &solver.SGD{Neurons: 8, LearningRate: 0.05, Momentum: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	if seen != len(res.History) || seen == 0 {
		t.Errorf("the user's recorder saw %d iterations, the history has %d", seen, len(res.History))
	}
	ev := sink.all()
	if len(ev) < 2 {
		t.Fatalf("published %d events, want a live display and its final update", len(ev))
	}
	first, last := ev[0], ev[len(ev)-1]
	if first.kind != "display" || last.kind != "update" || last.id != first.id {
		t.Errorf("events: first %s %q, last %s %q", first.kind, first.id, last.kind, last.id)
	}
	if !strings.HasPrefix(first.data[MIMEText].(string), "SGD: iteration 1 ") {
		t.Errorf("first frame = %q", first.data[MIMEText])
	}
	if want := Render(res).Data[MIMEText]; last.data[MIMEText] != want {
		t.Errorf("final frame = %q, want the result %q", last.data[MIMEText], want)
	}

	// The trained network's decision boundary draws over the data.
	fig := BoundaryPlot(res.Network, prob.X, prob.Y)
	if fig.Err != nil {
		t.Fatal(fig.Err)
	}
	checkPNG(t, fig, true)
}
