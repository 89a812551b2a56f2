package kernel

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gocvx/gocvx/cellio"
)

// commFake is a CommEngine with one comm target, "echo": a comm opened on it answers
// every comm_msg at once with the same data and buffers, and leaves a callback that
// prints what it received (or, for data {"fail": true}, fails; for {"block": true},
// waits for an interrupt).
type commFake struct {
	*fakeEngine
	mu       sync.Mutex
	open     map[string]string
	received []cellio.Comm
}

func newCommFake() *commFake {
	return &commFake{fakeEngine: newFake(), open: map[string]string{}}
}

func (e *commFake) ReceiveComm(m cellio.Comm, out cellio.Output) func(ctx context.Context) *cellio.Error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.received = append(e.received, m)
	co := out.(cellio.CommOutput)
	switch m.Kind {
	case cellio.CommOpen:
		if m.Target != "echo" {
			co.Comm(cellio.Comm{Kind: cellio.CommClose, ID: m.ID})
			return nil
		}
		e.open[m.ID] = m.Target
		return nil
	case cellio.CommClose:
		delete(e.open, m.ID)
		return nil
	}
	if _, ok := e.open[m.ID]; !ok {
		return nil
	}
	co.Comm(cellio.Comm{Kind: cellio.CommMsg, ID: m.ID, Data: m.Data, Metadata: map[string]any{"echo": true}, Buffers: m.Buffers})
	return func(ctx context.Context) *cellio.Error {
		switch {
		case m.Data["fail"] == true:
			return &cellio.Error{Name: "panic", Value: "callback failed", Traceback: []string{"panic: callback failed"}}
		case m.Data["block"] == true:
			<-ctx.Done()
			return &cellio.Error{Name: "Interrupted", Value: "interrupted", Traceback: []string{"Interrupted"}}
		}
		out.Stream("stdout", fmt.Sprintf("callback got %v\n", m.Data["n"]))
		return nil
	}
}

func (e *commFake) Comms(target string) map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	list := map[string]string{}
	for id, t := range e.open {
		if target == "" || t == target {
			list[id] = t
		}
	}
	return list
}

// TestCommRouting checks the way of comm messages through the handlers: a
// comm_open reaches the engine (an unknown target is closed by it), comm_info lists
// the open comms of a target, a comm_msg reaches the engine with its data, metadata
// and buffers and is answered at once, and its callback waits in the executor's
// queue, runs there between busy and idle, and publishes its output and its error
// with the comm_msg as parent.
func TestCommRouting(t *testing.T) {
	e := newCommFake()
	st, _, _ := testState(t, e)

	w := newRecorder(t)
	st.handle(w, request("comm_open", `{"comm_id":"c1","target_name":"echo","data":{"x":1}}`))
	w = newRecorder(t)
	st.handle(w, request("comm_open", `{"comm_id":"c2","target_name":"nowhere","data":{}}`))
	if c := w.the("comm_close"); !jsonEqual(c, map[string]any{"comm_id": "c2", "data": map[string]any{}}) {
		t.Errorf("comm_close of an unknown target = %v", c)
	}

	for target, want := range map[string]map[string]any{
		"echo":    {"c1": map[string]any{"target_name": "echo"}},
		"":        {"c1": map[string]any{"target_name": "echo"}},
		"another": {},
	} {
		w = newRecorder(t)
		st.handle(w, request("comm_info_request", fmt.Sprintf(`{"target_name":%q}`, target)))
		if r := w.theReply("comm_info_reply"); !jsonEqual(r, map[string]any{"status": "ok", "comms": want}) {
			t.Errorf("comm_info_reply for %q = %v", target, r)
		}
	}

	req := request("comm_msg", `{"comm_id":"c1","data":{"n":7}}`)
	req.Metadata = []byte(`{"version":"2.1.0"}`)
	req.Buffers = [][]byte{{1, 2, 3}}
	w = newRecorder(t)
	st.handle(w, req)
	got := e.received[len(e.received)-1]
	if got.Kind != cellio.CommMsg || got.ID != "c1" || got.Data["n"] != 7.0 || got.Metadata["version"] != "2.1.0" ||
		len(got.Buffers) != 1 || !slices.Equal(got.Buffers[0], []byte{1, 2, 3}) {
		t.Errorf("the engine received %+v", got)
	}
	if ts := w.types(); !slices.Equal(ts, []string{"busy", "comm_msg", "idle"}) {
		t.Errorf("comm_msg published %v at once", ts)
	}
	echo := w.published[1]
	if !jsonEqual(echo.content, map[string]any{"comm_id": "c1", "data": map[string]any{"n": 7.0}}) ||
		echo.metadata["echo"] != true || len(echo.buffers) != 1 || !slices.Equal(echo.buffers[0], []byte{1, 2, 3}) {
		t.Errorf("answer = %+v", echo)
	}
	if len(st.execs) != 1 {
		t.Fatalf("%d requests queued, want the callback", len(st.execs))
	}
	q := <-st.execs
	st.runQueued(q)
	if ts := w.types(); !slices.Equal(ts, []string{"busy", "comm_msg", "idle", "busy", "stream", "idle"}) {
		t.Errorf("after the callback ran: %v", ts)
	}
	if s := w.the("stream"); s["text"] != "callback got 7\n" {
		t.Errorf("callback output = %v", s)
	}

	w = newRecorder(t)
	st.handle(w, request("comm_msg", `{"comm_id":"c1","data":{"fail":true}}`))
	st.runQueued(<-st.execs)
	if e := w.the("error"); e["evalue"] != "callback failed" {
		t.Errorf("error of the callback = %v", e)
	}

	// comm_msg of a closed comm reaches the engine, which ignores it.
	st.handle(newRecorder(t), request("comm_close", `{"comm_id":"c1","data":{}}`))
	w = newRecorder(t)
	st.handle(w, request("comm_msg", `{"comm_id":"c1","data":{"n":8}}`))
	if ts := w.types(); !slices.Equal(ts, []string{"busy", "idle"}) || len(st.execs) != 0 {
		t.Errorf("comm_msg after comm_close: published %v, %d queued", ts, len(st.execs))
	}
}

// TestCommCallbackInterrupted checks that interrupt_request stops a callback that
// runs in the executor, as it stops a cell.
func TestCommCallbackInterrupted(t *testing.T) {
	e := newCommFake()
	st, _, _ := testState(t, e)
	st.handle(newRecorder(t), request("comm_open", `{"comm_id":"c1","target_name":"echo","data":{}}`))
	w := newRecorder(t)
	st.handle(w, request("comm_msg", `{"comm_id":"c1","data":{"block":true}}`))
	done := make(chan struct{})
	go func() { defer close(done); st.runQueued(<-st.execs) }()
	for {
		st.mu.Lock()
		running := st.cancelCell != nil
		st.mu.Unlock()
		if running {
			break
		}
		select {
		case <-done:
			t.Fatal("the callback ended before the interrupt")
		case <-time.After(time.Millisecond):
		}
	}
	st.handle(newRecorder(t), request("interrupt_request", `{}`))
	<-done
	if e := w.the("error"); e["ename"] != "Interrupted" {
		t.Errorf("error = %v", e)
	}
}

// TestQueuedCallbacksNotAborted checks that a failed cell with stop_on_error
// aborts the executes queued behind it but runs the callbacks queued among them.
func TestQueuedCallbacksNotAborted(t *testing.T) {
	e := newCommFake()
	st, _, _ := testState(t, e)
	st.handle(newRecorder(t), request("comm_open", `{"comm_id":"c1","target_name":"echo","data":{}}`))
	before := newRecorder(t)
	st.execs <- queued{w: before, req: request("execute_request", `{"code":"print later"}`)}
	cb := newRecorder(t)
	st.handle(cb, request("comm_msg", `{"comm_id":"c1","data":{"n":1}}`))
	execute(t, st, `{"code":"fail on purpose"}`)
	if r := before.theReply("execute_reply"); r["status"] != "aborted" {
		t.Errorf("queued execute: %v", r)
	}
	if s := cb.the("stream"); s["text"] != "callback got 1\n" {
		t.Errorf("queued callback: %v", cb.published)
	}
	if len(st.execs) != 0 {
		t.Errorf("%d left in the queue", len(st.execs))
	}
}

// TestCellOutputComm checks what a cell's comm messages look like on iopub:
// comm_open with its target, metadata and buffers, also for a silent execute.
func TestCellOutputComm(t *testing.T) {
	w := newRecorder(t)
	out := &cellOutput{w: w, silent: true}
	out.Comm(cellio.Comm{Kind: cellio.CommOpen, ID: "m1", Target: "jupyter.widget",
		Data:     map[string]any{"state": map[string]any{"value": 3}, "buffer_paths": []any{[]any{"b"}}},
		Metadata: map[string]any{"version": "2.1.0"}, Buffers: [][]byte{[]byte("xyz")}})
	out.Comm(cellio.Comm{Kind: cellio.CommClose, ID: "m1"})
	if ts := w.types(); !slices.Equal(ts, []string{"comm_open", "comm_close"}) {
		t.Fatalf("published %v", ts)
	}
	open := w.published[0]
	want := map[string]any{"comm_id": "m1", "target_name": "jupyter.widget",
		"data": map[string]any{"state": map[string]any{"value": 3.0}, "buffer_paths": []any{[]any{"b"}}}}
	if !jsonEqual(open.content, want) || open.metadata["version"] != "2.1.0" || string(open.buffers[0]) != "xyz" {
		t.Errorf("comm_open = %+v", open)
	}
	if c := w.published[1].content; !jsonEqual(c, map[string]any{"comm_id": "m1", "data": map[string]any{}}) {
		t.Errorf("comm_close = %v", c)
	}
}

// TestBusyWhileRunning checks that a comm message answered while a request runs
// in the executor leaves the kernel busy: after its own idle status, the running
// request's busy status is published again (front ends show the latest status).
func TestBusyWhileRunning(t *testing.T) {
	e := newCommFake()
	st, _, _ := testState(t, e)
	st.handle(newRecorder(t), request("comm_open", `{"comm_id":"c1","target_name":"echo","data":{}}`))
	cell := newRecorder(t)
	prev := st.swapRunning(cell)
	w := newRecorder(t)
	st.handle(w, request("comm_msg", `{"comm_id":"c1","data":{"n":1}}`))
	if ts := w.types(); !slices.Equal(ts, []string{"busy", "comm_msg", "idle"}) {
		t.Errorf("the comm message published %v", ts)
	}
	if ts := cell.types(); !slices.Equal(ts, []string{"busy"}) {
		t.Errorf("the running request published %v after the comm message, want its busy again", ts)
	}
	st.swapRunning(prev)
	w = newRecorder(t)
	st.handle(w, request("comm_msg", `{"comm_id":"c1","data":{"n":2}}`))
	if ts := cell.types(); len(ts) != 1 {
		t.Errorf("with nothing running, the old request published %v", ts)
	}
	// The callbacks left by the messages run as the running request, then none runs.
	cb := newRecorder(t)
	q := <-st.execs
	q.w = cb
	st.runQueued(q)
	if ts := cb.types(); !slices.Equal(ts, []string{"busy", "idle"}) {
		t.Errorf("callbacks published %v", ts)
	}
	if r := st.swapRunning(nil); r != nil {
		t.Errorf("after the callbacks, %v is still running", r)
	}
}
