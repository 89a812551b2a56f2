package widget_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/gocvx/gocvx/widget"
)

func ExampleIntSlider() {
	s := widget.NewIntSlider("patterns", 50, 5, 200)
	s.Observe(func(v int) { fmt.Println("patterns:", v) })
	s.SetValue(80)
	s.SetValue(500) // moved into the range
	fmt.Println(s)
	// Output:
	// patterns: 80
	// patterns: 200
	// IntSlider(description="patterns", value=200, min=5, max=200)
}

func ExampleFloatSlider() {
	eps := widget.NewFloatSlider("ε", 0.1, 0, 0.5, 0.01)
	eps.Observe(func(v float64) { fmt.Printf("ε = %.2f\n", v) })
	eps.SetValue(0.25)
	fmt.Println(eps.Value())
	// Output:
	// ε = 0.25
	// 0.25
}

func ExampleFloatLogSlider() {
	beta := widget.NewFloatLogSlider("β", 0.01, 1e-4, 10)
	beta.Observe(func(v float64) { fmt.Printf("β = %g\n", v) })
	beta.SetValue(0.1)
	beta.SetValue(1e6) // moved into the range
	// Output:
	// β = 0.1
	// β = 10
}

func ExampleDropdown() {
	loss := widget.NewDropdown("loss", []string{"squared", "hinge", "logistic"}, 0)
	loss.Observe(func(v string) { fmt.Println("loss:", v) })
	loss.SetValue("hinge")
	fmt.Println(loss.Index(), loss)
	// Output:
	// loss: hinge
	// 1 Dropdown(description="loss", index=1, labels=3)
}

func ExampleCheckbox() {
	exact := widget.NewCheckbox("exact arrangement", false)
	exact.Observe(func(on bool) { fmt.Println("exact:", on) })
	exact.SetValue(true)
	// Output:
	// exact: true
}

func ExampleText() {
	name := widget.NewText("run", "first")
	name.Observe(func(v string) { fmt.Printf("run %q\n", v) })
	name.SetValue("second")
	// Output:
	// run "second"
}

func ExampleButton() {
	stop := widget.NewButton("Stop")
	stop.SetButtonStyle("danger")
	ctx, cancel := stop.Context(context.Background())
	defer cancel()
	stop.OnClick(func() { fmt.Println("clicked") })
	stop.Click() // what a click in the front end does
	fmt.Println(ctx.Err())
	// Output:
	// clicked
	// context canceled
}

func ExampleStopButton() {
	ctx, done := widget.StopButton(context.Background())
	// A long call watches ctx: solver.Solve(ctx, …) or display.SolveLive(ctx, …).
	fmt.Println(ctx.Err())
	done()
	// Output:
	// Button(description="Stop")
	// <nil>
}

func ExampleLabel() {
	status := widget.NewLabel("waiting")
	status.SetValue("solved: gap 3e-7")
	fmt.Println(status.Value())
	// Output:
	// solved: gap 3e-7
}

func ExampleIntProgress() {
	bar := widget.NewIntProgress("iterations", 100)
	for i := 1; i <= 100; i++ {
		bar.SetValue(i)
	}
	bar.SetBarStyle("success")
	fmt.Println(bar.Value())
	// Output:
	// 100
}

func ExampleImage() {
	img := widget.NewImage([]byte("\x89PNG..."), "png")
	img.SetSize("300", "")
	fmt.Println(len(img.Value()), "bytes")
	// Output:
	// 7 bytes
}

func ExampleNewHBox() {
	run := widget.NewButton("Run")
	status := widget.NewLabel("idle")
	row := widget.NewHBox(run, status)
	fmt.Println(row)
	// Output:
	// HBox(children=2)
}

func ExampleNewVBox() {
	beta := widget.NewFloatLogSlider("β", 0.01, 1e-4, 1)
	out := widget.NewOutput()
	fmt.Println(widget.NewVBox(beta, out))
	// Output:
	// VBox(children=2)
}

func ExampleOutput() {
	out := widget.NewOutput()
	out.Show("first")
	out.Show("second")
	fmt.Println(out.Outputs())
	out.Redraw(func() { out.Show("only") })
	fmt.Println(out.Outputs())
	// Output:
	// 2
	// 1
}

func ExampleInteract() {
	n := widget.NewIntSlider("n", 2, 1, 5)
	widget.Interact(func(n int) string {
		fmt.Println("called with", n)
		return strings.Repeat("*", n)
	}, n)
	n.SetValue(4)
	// Output:
	// called with 2
	// called with 4
}
