package widget

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/internal/cellrt"
)

// front is the front end of a test: the output that cell code publishes to (it
// keeps the comm messages, and what is printed and displayed), and the
// messages the kernel answers with.
type front struct {
	mu      sync.Mutex
	comms   []cellio.Comm
	streams []string // "name: text"
	shown   []cellio.Bundle
}

func (f *front) Stream(name, text string) {
	f.mu.Lock()
	f.streams = append(f.streams, name+": "+text)
	f.mu.Unlock()
}

func (f *front) Display(b cellio.Bundle, id string, update bool) {
	f.mu.Lock()
	f.shown = append(f.shown, b)
	f.mu.Unlock()
}

func (f *front) Clear(bool) {}

func (f *front) Comm(m cellio.Comm) {
	f.mu.Lock()
	f.comms = append(f.comms, m)
	f.mu.Unlock()
}

// take returns the comm messages received so far and forgets them.
func (f *front) take() []cellio.Comm {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.comms
	f.comms = nil
	return c
}

// enter makes f the output of a running cell for the test.
func enter(t *testing.T) *front {
	f := &front{}
	leave := cellrt.Enter(context.Background(), f)
	t.Cleanup(leave)
	return f
}

// send delivers a message of the front end and runs the work it leaves; it
// returns the kernel's answers.
func send(t *testing.T, id string, data map[string]any, buffers ...[]byte) []cellio.Comm {
	t.Helper()
	ans := &front{}
	work, known := cellrt.Receive(cellio.Comm{Kind: cellio.CommMsg, ID: id, Data: data, Buffers: buffers}, ans.Comm)
	if !known {
		t.Fatalf("comm %s unknown", id)
	}
	if work != nil {
		work()
	}
	return ans.take()
}

// asJSON returns v encoded and decoded again, as the other side sees it.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	json.Unmarshal(b, &out)
	return out
}

// TestOpenFullState checks the comm_open of a control: target, protocol version
// in the metadata, the full state with model and view names, modules and versions,
// and references to its layout and style models, opened before it.
func TestOpenFullState(t *testing.T) {
	f := enter(t)
	s := NewIntSlider("n", 3, 0, 10)
	opens := f.take()
	if len(opens) != 3 {
		t.Fatalf("%d comm messages for a slider, want 3 comm_open (layout, style, slider)", len(opens))
	}
	names := map[string]string{}
	for _, o := range opens {
		st := o.Data["state"].(map[string]any)
		if o.Kind != cellio.CommOpen || o.Target != Target || o.Metadata["version"] != "2.1.0" {
			t.Errorf("open = %+v", o)
		}
		names[st["_model_name"].(string)] = o.ID
	}
	slider := opens[2].Data["state"].(map[string]any)
	want := map[string]any{
		"_model_name": "IntSliderModel", "_model_module": "@jupyter-widgets/controls", "_model_module_version": "2.0.0",
		"_view_name": "IntSliderView", "_view_module": "@jupyter-widgets/controls", "_view_module_version": "2.0.0",
		"value": 3.0, "min": 0.0, "max": 10.0, "step": 1.0, "description": "n", "readout_format": "d",
		"layout": "IPY_MODEL_" + names["LayoutModel"], "style": "IPY_MODEL_" + names["SliderStyleModel"],
		"continuous_update": true, "disabled": false, "orientation": "horizontal", "readout": true,
		"behavior": "drag-tap", "description_allow_html": false, "_dom_classes": []any{}, "tabbable": nil, "tooltip": nil,
	}
	if got := asJSON(t, slider); !reflect.DeepEqual(got, want) {
		t.Errorf("state =\n%v\nwant\n%v", got, want)
	}
	if opens[2].ID != s.ModelID() || names["LayoutModel"] == "" || names["SliderStyleModel"] == "" {
		t.Errorf("models %v, slider %s", names, s.ModelID())
	}
	b := s.Render()
	view := b.Data[ViewMIME].(map[string]any)
	if view["model_id"] != s.ModelID() || view["version_major"] != 2 || view["version_minor"] != 1 {
		t.Errorf("view = %v", view)
	}
	if b.Data["text/plain"] != `IntSlider(description="n", value=3, min=0, max=10)` {
		t.Errorf("text = %q", b.Data["text/plain"])
	}
}

// TestUpdates checks both ways of state: the kernel sends the changed keys
// (update); an update of the front end is applied, echoed (echo_update), a value
// the kernel changes on the way is sent back (update), keys the front end may not
// change are ignored; request_state gets the full state.
func TestUpdates(t *testing.T) {
	f := enter(t)
	s := NewFloatSlider("x", 0.5, 0, 1, 0.1)
	f.take()
	s.SetValue(0.25)
	if u := f.take(); len(u) != 1 || !reflect.DeepEqual(u[0].Data, map[string]any{"method": "update", "state": map[string]any{"value": 0.25}, "buffer_paths": []any{}}) {
		t.Errorf("SetValue sent %+v", u)
	}
	ans := send(t, s.ModelID(), map[string]any{"method": "update", "state": map[string]any{"value": 0.75, "max": 9.0}})
	if len(ans) != 1 || ans[0].Data["method"] != "echo_update" || !reflect.DeepEqual(ans[0].Data["state"], map[string]any{"value": 0.75}) {
		t.Errorf("answer = %+v", ans)
	}
	if s.Value() != 0.75 || s.get("max") != 1.0 {
		t.Errorf("value %v, max %v", s.Value(), s.get("max"))
	}
	ans = send(t, s.ModelID(), map[string]any{"method": "update", "state": map[string]any{"value": 2.0}})
	if len(ans) != 2 || ans[1].Data["method"] != "update" || !reflect.DeepEqual(ans[1].Data["state"], map[string]any{"value": 1.0}) {
		t.Errorf("answer to 2.0 = %+v", ans)
	}
	ans = send(t, s.ModelID(), map[string]any{"method": "update", "state": map[string]any{"value": "many"}})
	if len(ans) != 1 || ans[0].Data["method"] != "update" || !reflect.DeepEqual(ans[0].Data["state"], map[string]any{"value": 1.0}) {
		t.Errorf("answer to a string = %+v", ans)
	}
	ans = send(t, s.ModelID(), map[string]any{"method": "request_state"})
	st := ans[0].Data["state"].(map[string]any)
	if len(ans) != 1 || ans[0].Data["method"] != "update" || st["_model_name"] != "FloatSliderModel" || st["value"] != 1.0 {
		t.Errorf("request_state answered %+v", ans)
	}
}

// TestBuffers checks binary values: an Image's bytes leave the JSON state and
// travel as a buffer named by buffer_paths, both ways, nested paths included.
func TestBuffers(t *testing.T) {
	f := enter(t)
	img := NewImage([]byte("PNG1"), "png")
	open := f.take()[1]
	if _, ok := open.Data["state"].(map[string]any)["value"]; ok {
		t.Error("the bytes are in the JSON state")
	}
	if !reflect.DeepEqual(open.Data["buffer_paths"], []any{[]any{"value"}}) || len(open.Buffers) != 1 || string(open.Buffers[0]) != "PNG1" {
		t.Errorf("comm_open: paths %v, buffers %q", open.Data["buffer_paths"], open.Buffers)
	}
	img.SetValue([]byte("PNG2"))
	if u := f.take(); len(u) != 1 || string(u[0].Buffers[0]) != "PNG2" {
		t.Errorf("SetValue sent %+v", u)
	}

	st := map[string]any{"a": []byte("x"), "b": map[string]any{"c": []any{1, []byte("y")}}, "d": 2}
	clean, paths, bufs := splitBuffers(st)
	if !reflect.DeepEqual(clean, map[string]any{"b": map[string]any{"c": []any{1, nil}}, "d": 2}) ||
		!reflect.DeepEqual(paths, []any{[]any{"a"}, []any{"b", "c", 1}}) || string(bufs[0]) != "x" || string(bufs[1]) != "y" {
		t.Errorf("split: %v %v %q", clean, paths, bufs)
	}
	if _, ok := st["a"]; !ok || st["b"].(map[string]any)["c"].([]any)[1] == nil {
		t.Error("split changed its argument")
	}
	back := asJSON(t, clean).(map[string]any)
	putBuffers(back, asJSON(t, paths), bufs)
	if string(back["a"].([]byte)) != "x" || string(back["b"].(map[string]any)["c"].([]any)[1].([]byte)) != "y" {
		t.Errorf("put: %v", back)
	}
}

// TestRequestStates checks the control comm: request_states is answered with the
// state of every open model, with their buffers.
func TestRequestStates(t *testing.T) {
	enter(t)
	img := NewImage([]byte("PNG"), "png")
	ans := &front{}
	work, known := cellrt.Receive(cellio.Comm{Kind: cellio.CommOpen, ID: "ctl", Target: ControlTarget}, ans.Comm)
	if !known || work != nil {
		t.Fatalf("control comm_open: known %v", known)
	}
	got := send(t, "ctl", map[string]any{"method": "request_states"})
	if len(got) != 1 || got[0].Data["method"] != "update_states" {
		t.Fatalf("answer %+v", got)
	}
	states := got[0].Data["states"].(map[string]any)
	entry := states[img.ModelID()].(map[string]any)
	if entry["model_name"] != "ImageModel" || entry["model_module"] != controlsModule || entry["state"].(map[string]any)["format"] != "png" {
		t.Errorf("entry = %v", entry)
	}
	i := slices.IndexFunc(got[0].Data["buffer_paths"].([]any), func(p any) bool {
		return reflect.DeepEqual(p, []any{img.ModelID(), "state", "value"})
	})
	if i < 0 || string(got[0].Buffers[i]) != "PNG" {
		t.Errorf("buffer paths %v", got[0].Data["buffer_paths"])
	}
	cellrt.Receive(cellio.Comm{Kind: cellio.CommClose, ID: "ctl"}, ans.Comm)
	if _, open := cellrt.Comms(ControlTarget)["ctl"]; open {
		t.Error("the control comm is still open after comm_close")
	}
}

// TestObserveFromFront checks that observers run in the work of a change, once
// for changes that arrive before it runs, with the latest value, and that a change
// back to the value they saw last calls nothing.
func TestObserveFromFront(t *testing.T) {
	enter(t)
	d := NewDropdown("loss", []string{"squared", "hinge", "logistic"}, 0)
	var got []string
	d.Observe(func(v string) { got = append(got, v) })
	var works []func()
	for _, i := range []float64{1, 2} {
		w, _ := cellrt.Receive(cellio.Comm{Kind: cellio.CommMsg, ID: d.ModelID(),
			Data: map[string]any{"method": "update", "state": map[string]any{"index": i}}}, func(cellio.Comm) {})
		if w != nil {
			works = append(works, w)
		}
	}
	if len(works) != 1 {
		t.Fatalf("%d works queued", len(works))
	}
	works[0]()
	send(t, d.ModelID(), map[string]any{"method": "update", "state": map[string]any{"index": 2.0}})
	if !slices.Equal(got, []string{"logistic"}) {
		t.Errorf("observers saw %v", got)
	}
	send(t, d.ModelID(), map[string]any{"method": "update", "state": map[string]any{"index": 7.0}})
	if d.Value() != "logistic" {
		t.Errorf("an index out of the list was taken: %v", d.Value())
	}
}

// TestButton checks that a click cancels the button's contexts as it arrives and
// runs the OnClick callbacks in the work, once per click.
func TestButton(t *testing.T) {
	enter(t)
	b := NewButton("Stop")
	ctx, cancel := b.Context(context.Background())
	defer cancel()
	n := 0
	b.OnClick(func() { n++ })
	click := map[string]any{"method": "custom", "content": map[string]any{"event": "click"}}
	w1, _ := cellrt.Receive(cellio.Comm{Kind: cellio.CommMsg, ID: b.ModelID(), Data: click}, func(cellio.Comm) {})
	if ctx.Err() == nil {
		t.Error("the click did not cancel the context at once")
	}
	w2, _ := cellrt.Receive(cellio.Comm{Kind: cellio.CommMsg, ID: b.ModelID(), Data: click}, func(cellio.Comm) {})
	if n != 0 || w1 == nil || w2 != nil {
		t.Fatalf("before the work: %d callbacks, works %v %v", n, w1 != nil, w2 != nil)
	}
	w1()
	if n != 2 {
		t.Errorf("%d callbacks for 2 clicks", n)
	}
}

// TestOutputArea checks that what Capture runs prints and displays becomes the
// area's outputs (streams merged), sent as its outputs key, and that Redraw
// replaces them with one update.
func TestOutputArea(t *testing.T) {
	f := enter(t)
	o := NewOutput()
	f.take()
	o.Capture(func() {
		cellrt.Current().Stream("stdout", "a")
		cellrt.Current().Stream("stdout", "b\n")
		cellrt.Current().Display(cellio.Bundle{Data: map[string]any{"text/plain": "shown"}}, "", false)
	})
	msgs := f.take()
	last := asJSON(t, msgs[len(msgs)-1].Data["state"]).(map[string]any)["outputs"]
	want := []any{
		map[string]any{"output_type": "stream", "name": "stdout", "text": "ab\n"},
		map[string]any{"output_type": "display_data", "data": map[string]any{"text/plain": "shown"}, "metadata": map[string]any{}},
	}
	if !reflect.DeepEqual(last, want) {
		t.Errorf("outputs = %v", last)
	}
	if len(f.streams) != 0 || len(f.shown) != 0 {
		t.Errorf("the cell got %v %v", f.streams, f.shown)
	}
	o.Redraw(func() { o.Show("new") })
	msgs = f.take()
	if len(msgs) != 1 || len(asJSON(t, msgs[0].Data["state"]).(map[string]any)["outputs"].([]any)) != 1 {
		t.Errorf("Redraw sent %+v", msgs)
	}
}

// TestInteract checks that Interact calls its function with the controls'
// values, shows the result in its area, calls it again when a control changes,
// and reports a function that does not fit instead of calling it.
func TestInteract(t *testing.T) {
	enter(t)
	n := NewIntSlider("n", 2, 0, 10)
	on := NewCheckbox("double", false)
	calls := 0
	in := Interact(func(n int, double bool) string {
		calls++
		if double {
			n *= 2
		}
		return strings.Repeat("*", n)
	}, n, on)
	if calls != 1 || text(in.Output()) != "**" {
		t.Errorf("first call: %d calls, %q", calls, text(in.Output()))
	}
	send(t, on.ModelID(), map[string]any{"method": "update", "state": map[string]any{"value": true}})
	n.SetValue(3)
	if calls != 3 || text(in.Output()) != "******" {
		t.Errorf("after changes: %d calls, %q", calls, text(in.Output()))
	}
	bad := Interact(func(s string) {}, n)
	if calls != 3 || !strings.Contains(text(bad.Output()), "parameter 1 of func(string) is string, but the IntSlider gives int") {
		t.Errorf("mismatch reported as %q", text(bad.Output()))
	}
}

// text returns the text of an area's outputs.
func text(o *Output) string {
	o.area.mu.Lock()
	defer o.area.mu.Unlock()
	var b strings.Builder
	for _, out := range o.area.outputs {
		m := out.(map[string]any)
		if m["output_type"] == "stream" {
			b.WriteString(m["text"].(string))
		} else if d, ok := m["data"].(map[string]any); ok {
			b.WriteString(d["text/plain"].(string))
		}
	}
	return b.String()
}
