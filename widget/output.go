package widget

import (
	"bytes"
	"encoding/json"
	"sync"

	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/display"
	"github.com/gocvx/gocvx/internal/cellrt"
)

// Output is an area of outputs inside a widget layout (OutputModel, OutputView):
// what cell code prints and displays while the area captures it (Capture, Redraw)
// appears there instead of in the cell, also when it runs in a callback between
// cells. The area's outputs are part of its state (the outputs key), so every
// front end, a notebook saved with its widget state and the headless runner's page
// show them.
type Output struct {
	dom
	area *area

	mu     sync.Mutex
	redraw *area // what Redraw collects, while it runs
}

// NewOutput returns an empty output area.
func NewOutput() *Output {
	o := &Output{dom: newDOM("OutputModel", "OutputView", outputModule, outputVersion, "", nil,
		map[string]any{"msg_id": "", "outputs": []any{}})}
	o.area = &area{o: o}
	return o
}

// Capture runs f with what it prints (fmt.Print, os.Stdout and os.Stderr) and
// displays (display.Show, plots, display.Update of displays it showed) going to the
// area, after the area's outputs, and returns when f does.
func (o *Output) Capture(f func()) {
	defer cellrt.Redirect(o.area)()
	f()
}

// Redraw runs f like Capture, but replaces the area's outputs by what f shows,
// all at once when f returns (no flicker, and one message to the front end). A
// panic of f is shown in the area, with its traceback, as the area's last output.
func (o *Output) Redraw(f func()) {
	fresh := &area{o: o, batch: true}
	o.mu.Lock()
	o.redraw = fresh
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		o.redraw = nil
		o.mu.Unlock()
	}()
	func() {
		defer cellrt.Redirect(fresh)()
		defer func() {
			if r := recover(); r != nil {
				cellrt.ReportPanic(r)
			}
		}()
		f()
	}()
	fresh.mu.Lock()
	outs, ids := fresh.outputs, fresh.ids
	fresh.mu.Unlock()
	o.area.replace(outs, ids)
}

// Show appends the rendering of v (see display.Render) to the area (during
// Redraw, to what replaces the area's outputs).
func (o *Output) Show(v any) { o.current().Display(display.Render(v), "", false) }

// Clear empties the area (during Redraw, what replaces its outputs).
func (o *Output) Clear() { o.current().Clear(false) }

// current is the area that Show and Clear change.
func (o *Output) current() *area {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.redraw != nil {
		return o.redraw
	}
	return o.area
}

// Outputs returns the number of outputs in the area.
func (o *Output) Outputs() int {
	o.area.mu.Lock()
	defer o.area.mu.Unlock()
	return len(o.area.outputs)
}

// area is the cellio.Output of an Output widget: it keeps the outputs as nbformat
// outputs and sends them to the front end on every change, or (batch) only keeps
// them, for Redraw.
type area struct {
	o     *Output
	batch bool

	mu        sync.Mutex
	outputs   []any    // nbformat outputs: map[string]any
	ids       []string // the display ID of each output ("" for none)
	clearNext bool
}

var _ cellio.Output = (*area)(nil)

func (a *area) Stream(name, text string) {
	if text == "" {
		return
	}
	a.mu.Lock()
	a.beforeOutput()
	if n := len(a.outputs); n > 0 {
		if last, ok := a.outputs[n-1].(map[string]any); ok && last["output_type"] == "stream" && last["name"] == name {
			merged := map[string]any{"output_type": "stream", "name": name, "text": last["text"].(string) + text}
			a.outputs = append(append([]any(nil), a.outputs[:n-1]...), merged)
			a.sendLocked()
			return
		}
	}
	a.add(map[string]any{"output_type": "stream", "name": name, "text": text}, "")
}

func (a *area) Display(b cellio.Bundle, id string, update bool) {
	out := map[string]any{"output_type": "display_data", "data": jsonValue(b.Data), "metadata": jsonValue(b.Metadata)}
	a.mu.Lock()
	if update {
		replaced := false
		outs := append([]any(nil), a.outputs...)
		for i, oid := range a.ids {
			if id != "" && oid == id {
				outs[i] = out
				replaced = true
			}
		}
		a.outputs = outs
		if replaced {
			a.sendLocked()
			return
		}
		a.mu.Unlock()
		return
	}
	a.beforeOutput()
	a.add(out, id)
}

func (a *area) Clear(wait bool) {
	a.mu.Lock()
	if wait {
		a.clearNext = true
		a.mu.Unlock()
		return
	}
	a.outputs, a.ids, a.clearNext = nil, nil, false
	a.sendLocked()
}

// beforeOutput applies a pending clear_output(wait). a.mu is held.
func (a *area) beforeOutput() {
	if a.clearNext {
		a.outputs, a.ids, a.clearNext = nil, nil, false
	}
}

// add appends an output and sends the area; a.mu is held and released.
func (a *area) add(out map[string]any, id string) {
	a.outputs = append(append([]any(nil), a.outputs...), out)
	a.ids = append(append([]string(nil), a.ids...), id)
	a.sendLocked()
}

// replace sets the outputs and sends them.
func (a *area) replace(outs []any, ids []string) {
	a.mu.Lock()
	a.outputs, a.ids, a.clearNext = outs, ids, false
	a.sendLocked()
}

// sendLocked releases a.mu and sends the outputs to the front end (not for a
// batch). Lists are replaced, never changed in place, so the one sent stays as
// it was.
func (a *area) sendLocked() {
	outs := a.outputs
	if outs == nil {
		outs = []any{}
	}
	a.mu.Unlock()
	if !a.batch {
		a.o.set(map[string]any{"outputs": outs})
	}
}

// jsonValue returns v as plain JSON values, as the front end will see it: Go
// values (ints, structs) become what encoding/json makes of them.
func jsonValue(v map[string]any) map[string]any {
	if v == nil {
		return map[string]any{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return map[string]any{"text/plain": "widget: output not encodable: " + err.Error()}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out map[string]any
	if dec.Decode(&out) != nil || out == nil {
		return map[string]any{}
	}
	return out
}
