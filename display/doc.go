// Package display renders values as MIME bundles and publishes them to the running
// notebook cell.
//
// Rendering is pure: Render(v) returns the Bundle of any value (always with
// "text/plain"), and the plot functions return Figures that render as SVG and PNG.
// Publishing goes one way, through the cell engine's sink (internal/cellrt), the
// same in the ZeroMQ kernel and the headless runner:
//
//	display.Show(v)                 // display_data
//	id := display.ShowID(v)         // display_data with a display ID …
//	display.Update(id, w)           // … replaced in place (update_display_data)
//	display.HTML(s); display.Markdown(s); display.Clear(wait)
//
// Output goes to the cell running when it is published, also from a goroutine of an
// earlier cell; published while no cell runs, it appears at the start of the next
// cell. Outside a notebook (a plain Go program), Show, ShowID, HTML and Markdown
// print the text form to standard output and Update and Clear do nothing.
//
// A type renders itself, without importing display, through any of the methods
// HTML() string, Markdown() string, LaTeX() string, SVG() string, PNG() []byte,
// JPEG() []byte or Render() map[string]any (or Render() Bundle). image.Image renders
// as PNG, *plot.Plot as SVG and PNG, and *solver.Result as an HTML summary with its
// convergence plot.
//
// Plots of solver results (all PNG + SVG, titled, axes labelled with units, legends
// beside the data):
//
//	GapPlot, DualityGapPlot               several runs against iteration or time
//	ObjectivePlot, ResidualPlot           several runs against iteration or time
//	ConvergencePlot, NeuronPlot           one result; active neurons
//	AccuracyPlot                          train and test accuracy against iteration
//	PatternPlot, ViolationPlot            pattern counts; violation rate and bound
//	RobustnessPlot                        clean and attacked accuracy against ε
//	BoundaryPlot                          decision regions of a network on 2-D data
//	ImageGrid                             digits and their adversarial versions
//	TimeBars, ScalingPlot, LinePlot       run times; log–log costs; any curves
//	ProfilePlot                           share of problems solved against time
//	PathPlot                              objective, neurons, test accuracy against β
//
// Long computations: Live is a solver.Recorder that keeps one display updated with
// the progress and convergence plot of a running solve (SolveLive wires it up), and
// Progress is a progress bar for any loop.
//
// No generics and no functional options: cells call this package through yaegi.
package display
