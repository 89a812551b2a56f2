// Package widget gives cells the standard Jupyter widgets: sliders, a dropdown, a
// check box, buttons, text, labels, progress bars, images, boxes and output areas,
// which JupyterLab, Notebook 7 and VS Code draw with the widget manager they already
// have (ipywidgets 8: @jupyter-widgets/base 6, controls 5, output 1), and Interact,
// which redraws a plot as the user moves the controls.
//
//	beta := widget.NewFloatLogSlider("β", 0.01, 1e-4, 1)
//	patterns := widget.NewIntSlider("patterns", 50, 5, 200)
//	widget.Interact(func(beta float64, p int) *plot.Plot {
//		return boundaryFor(beta, p)
//	}, beta, patterns)
//
// A widget is shown like any value: as the last expression of a cell, or with
// display.Show. It is displayed as application/vnd.jupyter.widget-view+json, with a
// line of text for front ends without the widget manager.
//
// # Protocol
//
// Each widget is a model whose state (a JSON object) lives in the kernel and in the
// front end, kept equal over a comm on the target "jupyter.widget", as the widget
// messaging protocol 2.1 says: the comm_open carries the full state (the model and
// view names, modules and versions, and every attribute) with the protocol version
// in its metadata; a change on either side is sent as an update of the changed
// keys; the kernel echoes every update of the front end back (echo_update, with the
// update as parent, so that other front ends follow and the sender can order its own
// changes) and answers request_state with the whole state; binary values ([]byte,
// an Image's pixels) travel as binary buffers located by buffer_paths. A widget's
// layout and style are models of their own, referred to as "IPY_MODEL_<id>". On the
// target "jupyter.widget.control" the front end gets every state at once
// (request_states, answered by update_states), as JupyterLab does when it opens a
// notebook whose kernel runs.
//
// # Callbacks
//
// Observe registers a function called with a control's new value, OnClick one
// called on a click. A change made in the front end is applied to the widget as
// soon as the kernel receives it, even while a cell runs (a running cell that reads
// a slider sees it move), and the callbacks run after the running cell, never beside
// one, in the order of the changes, and stopped by an interrupt like a cell. While a
// callback runs, further changes of the same widget are not queued: the callback
// runs once more afterwards, with the latest value, so dragging a slider over a
// plot that takes 300 ms to draw redraws it about three times a second instead of
// falling behind.
//
// What a callback prints or displays goes to the cell that last showed the widget
// (or made it), below its output, or to an Output widget that captures it. A
// panic in a callback is shown there with its traceback; the kernel goes on. A
// click cancels a Button's contexts at once, also while a cell runs: this is how a
// Stop button ends a long solve (StopButton).
//
// An interrupt or the memory or stack guard stops the callback that runs; the
// callbacks run again at the next change. A redefinition that replays the cells
// in a new interpreter ends the functions of the old one: a callback made before
// that is reported, not called; run the cell that made the widget again.
//
// # Without a front end
//
// The headless runner (gocvx run) keeps the state of every widget and writes it in
// the notebook's metadata (widgets, application/vnd.jupyter.widget-state+json), so
// that nbconvert and JupyterLab show the widgets of a saved notebook; its HTML page
// draws each widget's last state as static HTML, an output area with its plots.
// Outside a notebook (a Go program or test) widgets keep their state and call their
// callbacks, and nothing is sent.
package widget
