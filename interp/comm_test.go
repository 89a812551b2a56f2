package interp

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocvx/gocvx/cellio"
)

// commRecorder is a recorder that also keeps the comm messages it carries, as the
// kernel's output does.
type commRecorder struct {
	recorder
	cmu   sync.Mutex
	comms []cellio.Comm
}

func (r *commRecorder) Comm(m cellio.Comm) {
	r.cmu.Lock()
	r.comms = append(r.comms, m)
	r.cmu.Unlock()
}

// model returns the ID of the last model opened with the given model name.
func (r *commRecorder) model(t *testing.T, name string) string {
	t.Helper()
	r.cmu.Lock()
	defer r.cmu.Unlock()
	for i := len(r.comms) - 1; i >= 0; i-- {
		c := r.comms[i]
		if st, ok := c.Data["state"].(map[string]any); ok && c.Kind == cellio.CommOpen && st["_model_name"] == name {
			return c.ID
		}
	}
	t.Fatalf("no %s opened among %d comm messages", name, len(r.comms))
	return ""
}

func (r *commRecorder) methods() []string {
	r.cmu.Lock()
	defer r.cmu.Unlock()
	var ms []string
	for _, c := range r.comms {
		if m, ok := c.Data["method"].(string); ok {
			ms = append(ms, m)
		}
	}
	return ms
}

// execute runs a cell that must succeed.
func executeOK(t *testing.T, s *Session, n int, code string, out cellio.Output) {
	t.Helper()
	if o := s.Execute(context.Background(), cellio.Cell{Code: code, Number: n, Output: out}); o.Error != nil {
		t.Fatalf("cell %d: %v", n, o.Error)
	}
}

// frontUpdate sends what the front end sends when the user moves a control, and
// returns the output the kernel answers on and the callbacks' run.
func frontUpdate(s *Session, id string, state map[string]any) (*commRecorder, func(context.Context) *cellio.Error) {
	out := &commRecorder{}
	run := s.ReceiveComm(cellio.Comm{Kind: cellio.CommMsg, ID: id,
		Data: map[string]any{"method": "update", "state": state, "buffer_paths": []any{}}}, out)
	return out, run
}

// TestWidgetCallbacks checks the way from a change in the front end to a
// callback of a cell: the state is applied and echoed as the message arrives, the
// callback runs only when run is called (between cells), its output goes to the
// cell that showed the widget, and a panic in it is reported there with the
// callback's frame while the session goes on.
func TestWidgetCallbacks(t *testing.T) {
	s := newTestSession(t)
	home := &commRecorder{}
	executeOK(t, s, 1, `n := widget.NewIntSlider("n", 3, 0, 10)
n.Observe(func(v int) {
	if v == 9 {
		panic("nine")
	}
	fmt.Println("got", v)
})
n`, home)
	id := home.model(t, "IntSliderModel")

	ans, run := frontUpdate(s, id, map[string]any{"value": 7.0})
	if got := ans.methods(); strings.Join(got, ",") != "echo_update" {
		t.Errorf("answer to the update: %v", got)
	}
	out := &commRecorder{}
	executeOK(t, s, 2, `n.Value()`, out)
	if run == nil {
		t.Fatal("no callbacks to run")
	}
	if strings.Contains(home.stdout.String(), "got") {
		t.Fatal("the callback ran before it was run")
	}
	if e := run(context.Background()); e != nil {
		t.Fatalf("callback: %v", e)
	}
	if got := home.stdout.String(); got != "got 7\n" {
		t.Errorf("the widget's cell shows %q", got)
	}

	// Out of range: clamped, echoed as sent, and the kept value sent back.
	ans, run = frontUpdate(s, id, map[string]any{"value": 12.0})
	if got := ans.methods(); strings.Join(got, ",") != "echo_update,update" {
		t.Errorf("answer to an update out of range: %v", got)
	}
	run(context.Background())
	if got := home.stdout.String(); got != "got 7\ngot 10\n" {
		t.Errorf("after 12: %q", got)
	}

	_, run = frontUpdate(s, id, map[string]any{"value": 9.0})
	if e := run(context.Background()); e != nil {
		t.Fatalf("a panicking callback failed the run: %v", e)
	}
	if got := home.stderr.String(); !strings.Contains(got, "panic in a callback: nine") || !strings.Contains(got, "Cell1:4:3") {
		t.Errorf("the panic is reported as %q", got)
	}
	executeOK(t, s, 3, `n.Value()`, &commRecorder{})
}

// TestWidgetChangesCoalesce checks that changes arriving while callbacks wait run
// them once, with the latest value.
func TestWidgetChangesCoalesce(t *testing.T) {
	s := newTestSession(t)
	home := &commRecorder{}
	executeOK(t, s, 1, `x := widget.NewFloatSlider("x", 0, 0, 1, 0.01)
x.Observe(func(v float64) { fmt.Println("x", v) })
x`, home)
	id := home.model(t, "FloatSliderModel")
	var runs []func(context.Context) *cellio.Error
	for _, v := range []float64{0.1, 0.2, 0.3} {
		if _, run := frontUpdate(s, id, map[string]any{"value": v}); run != nil {
			runs = append(runs, run)
		}
	}
	if len(runs) != 1 {
		t.Fatalf("%d callbacks queued for 3 changes, want 1", len(runs))
	}
	runs[0](context.Background())
	if got := home.stdout.String(); got != "x 0.3\n" {
		t.Errorf("callbacks printed %q", got)
	}
}

// TestWidgetCallbackInterrupted checks that an interrupt stops a long callback,
// that the next cell runs, and that the callback, ended by the interrupt as every
// function of earlier cells is, is reported instead of being called.
func TestWidgetCallbackInterrupted(t *testing.T) {
	s := newTestSession(t)
	home := &commRecorder{}
	executeOK(t, s, 1, `clicks := 0
b := widget.NewButton("spin")
b.OnClick(func() {
	clicks++
	for clicks == 1 {
	}
})
b`, home)
	id := home.model(t, "ButtonModel")
	click := func() func(context.Context) *cellio.Error {
		return s.ReceiveComm(cellio.Comm{Kind: cellio.CommMsg, ID: id,
			Data: map[string]any{"method": "custom", "content": map[string]any{"event": "click"}}}, &commRecorder{})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	e := click()(ctx)
	if e == nil || e.Name != "Interrupted" {
		t.Fatalf("interrupted callback: %v", e)
	}
	executeOK(t, s, 2, `1 + 1`, &commRecorder{})
	// The callback still runs after the interrupt.
	if e := click()(context.Background()); e != nil {
		t.Fatalf("second click: %v", e)
	}
	out := &recorder{}
	if o := s.Execute(context.Background(), cellio.Cell{Code: "clicks", Number: 3, Output: out}); resultText(o) != "2" {
		t.Errorf("clicks = %q after the second click, want 2", resultText(o))
	}
	if got := home.stderr.String(); !strings.Contains(got, "interrupted") || strings.Contains(got, "run the cell") {
		t.Errorf("the widget's cell shows %q", got)
	}
	// A redefinition replays the cells in a new interpreter: the widget of the
	// replaced one says so instead of calling a function of it.
	executeOK(t, s, 4, "type replayed struct{ A int }", &commRecorder{})
	executeOK(t, s, 5, "type replayed struct{ A, B int }", &commRecorder{})
	if e := click()(context.Background()); e != nil {
		t.Fatalf("click after the replay: %v", e)
	}
	if got := home.stderr.String(); !strings.Contains(got, "run the cell that made the widget again") {
		t.Errorf("after a replay, the widget's cell shows %q", got)
	}
}
