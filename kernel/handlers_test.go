package kernel

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The handlers' unit tests: each request goes through state.handle, the wrapper the
// sockets use, with a recorder for a writer and the fake engine of kernel_test.go;
// no socket is opened. The jupyter_client and raw-socket tests are the end-to-end
// layer above them.

func newFake() *fakeEngine { return &fakeEngine{vars: map[string]string{}} }

// execute runs one execute_request with content and returns its recorder.
func execute(t *testing.T, st *state, content string, lines ...string) *recorder {
	t.Helper()
	w := newRecorder(t, lines...)
	st.handle(w, request("execute_request", content))
	return w
}

// jsonEqual reports whether got, a decoded JSON value, equals want written as Go
// values (numbers as float64, as encoding/json decodes them).
func jsonEqual(got, want any) bool { return reflect.DeepEqual(got, want) }

func TestKernelInfoHandler(t *testing.T) {
	st, _, _ := testState(t, newFake())
	w := newRecorder(t)
	st.handle(w, request("kernel_info_request", "{}"))
	r := w.theReply("kernel_info_reply")
	if r["status"] != "ok" || r["protocol_version"] != ProtocolVersion || r["implementation"] != "gocvx" ||
		r["implementation_version"] != "test" || r["banner"] != "gocvx test" || r["debugger"] != false {
		t.Errorf("kernel_info_reply = %v", r)
	}
	li, _ := r["language_info"].(map[string]any)
	if li["name"] != "go" || li["file_extension"] != ".go" || li["mimetype"] != "text/x-go" {
		t.Errorf("language_info = %v", li)
	}
	if links, _ := r["help_links"].([]any); len(links) != 3 {
		t.Errorf("help_links = %v", r["help_links"])
	}
	if got := w.types(); !slices.Equal(got, []string{"busy", "idle"}) {
		t.Errorf("published %v, want busy, idle", got)
	}
}

func TestExecuteHandler(t *testing.T) {
	st, _, _ := testState(t, newFake())
	w := execute(t, st, `{"code":"print hello\nvalue 42"}`)
	r := w.theReply("execute_reply")
	want := map[string]any{"status": "ok", "execution_count": 1.0, "payload": []any{}, "user_expressions": map[string]any{}}
	if !jsonEqual(r, want) {
		t.Errorf("execute_reply = %v, want %v", r, want)
	}
	if got, want := w.types(), []string{"busy", "execute_input", "stream", "execute_result", "idle"}; !slices.Equal(got, want) {
		t.Errorf("published %v, want %v", got, want)
	}
	if in := w.the("execute_input"); !jsonEqual(in, map[string]any{"code": "print hello\nvalue 42", "execution_count": 1.0}) {
		t.Errorf("execute_input = %v", in)
	}
	if s := w.the("stream"); !jsonEqual(s, map[string]any{"name": "stdout", "text": "hello\n"}) {
		t.Errorf("stream = %v", s)
	}
	res := w.the("execute_result")
	if !jsonEqual(res, map[string]any{"execution_count": 1.0, "data": map[string]any{"text/plain": "42"}, "metadata": map[string]any{}}) {
		t.Errorf("execute_result = %v", res)
	}

	// A second cell takes the next count; a silent one and one not stored do not.
	if r := execute(t, st, `{"code":"value 1"}`).theReply("execute_reply"); r["execution_count"] != 2.0 {
		t.Errorf("second cell: execution_count %v, want 2", r["execution_count"])
	}
	silent := execute(t, st, `{"code":"print quiet\nvalue 3","silent":true}`)
	if r := silent.theReply("execute_reply"); r["execution_count"] != 2.0 || r["status"] != "ok" {
		t.Errorf("silent cell: reply %v", r)
	}
	if got := silent.types(); !slices.Equal(got, []string{"busy", "idle"}) {
		t.Errorf("silent cell published %v, want only busy, idle", got)
	}
	unstored := execute(t, st, `{"code":"value 4","store_history":false}`)
	if r := unstored.theReply("execute_reply"); r["execution_count"] != 2.0 {
		t.Errorf("store_history false: execution_count %v, want 2", r["execution_count"])
	}
	if res := unstored.the("execute_result"); res["execution_count"] != 2.0 {
		t.Errorf("store_history false: execute_result %v", res)
	}
	// The history has the two stored cells with their results.
	h := newRecorder(t)
	st.handle(h, request("history_request", `{"hist_access_type":"tail","output":true,"n":10}`))
	wantHist := []any{
		[]any{1.0, 1.0, []any{"print hello\nvalue 42", "42"}},
		[]any{1.0, 2.0, []any{"value 1", "1"}},
	}
	if got := h.theReply("history_reply")["history"]; !jsonEqual(got, wantHist) {
		t.Errorf("history = %v, want %v", got, wantHist)
	}
}

func TestExecuteUserExpressionsHandler(t *testing.T) {
	st, _, _ := testState(t, newFake())
	w := execute(t, st, `{"code":"set x 21","user_expressions":{"good":"get x","bad":"fail nope","empty":""}}`)
	r := w.theReply("execute_reply")
	want := map[string]any{
		"good":  map[string]any{"status": "ok", "data": map[string]any{"text/plain": "21"}, "metadata": map[string]any{}},
		"bad":   map[string]any{"status": "error", "ename": "Failure", "evalue": "nope", "traceback": []any{"Failure: nope"}},
		"empty": map[string]any{"status": "ok", "data": map[string]any{"text/plain": ""}, "metadata": map[string]any{}},
	}
	if !jsonEqual(r["user_expressions"], want) {
		t.Errorf("user_expressions = %v\nwant %v", r["user_expressions"], want)
	}
	// The expressions neither take execution counts nor enter the history.
	if r["execution_count"] != 1.0 {
		t.Errorf("execution_count = %v, want 1", r["execution_count"])
	}
	if got := st.history.query(historyRequestContent{HistAccessType: "tail"}); len(got) != 1 {
		t.Errorf("history holds %d entries, want 1", len(got))
	}
	// After a failed cell, they are not evaluated.
	f := execute(t, st, `{"code":"fail early","user_expressions":{"good":"get x"}}`)
	if r := f.theReply("execute_reply"); r["status"] != "error" || r["user_expressions"] != nil {
		t.Errorf("failed cell: reply %v", r)
	}
}

func TestExecuteErrorHandler(t *testing.T) {
	for _, stop := range []bool{true, false} {
		st, _, _ := testState(t, newFake())
		var waiting []*recorder
		for range 2 {
			q := newRecorder(t)
			waiting = append(waiting, q)
			st.execs <- queued{q, request("execute_request", `{"code":"print later"}`)}
		}
		content := `{"code":"fail on purpose"}`
		if !stop {
			content = `{"code":"fail on purpose","stop_on_error":false}`
		}
		w := execute(t, st, content)
		r := w.theReply("execute_reply")
		want := map[string]any{"status": "error", "ename": "Failure", "evalue": "on purpose", "traceback": []any{"Failure: on purpose"}, "execution_count": 1.0}
		if !jsonEqual(r, want) {
			t.Errorf("stop_on_error %v: execute_reply = %v, want %v", stop, r, want)
		}
		if e := w.the("error"); !jsonEqual(e, map[string]any{"ename": "Failure", "evalue": "on purpose", "traceback": []any{"Failure: on purpose"}}) {
			t.Errorf("error = %v", e)
		}
		if stop {
			// The queued executes are answered "aborted", each between busy and idle.
			for i, q := range waiting {
				if r := q.theReply("execute_reply"); !jsonEqual(r, map[string]any{"status": "aborted", "execution_count": 1.0}) {
					t.Errorf("queued execute %d: reply %v", i, r)
				}
				if got := q.types(); !slices.Equal(got, []string{"busy", "idle"}) {
					t.Errorf("queued execute %d published %v", i, got)
				}
			}
			if len(st.execs) != 0 {
				t.Errorf("%d executes left in the queue", len(st.execs))
			}
		} else if len(st.execs) != 2 {
			t.Errorf("stop_on_error false: %d executes left in the queue, want 2", len(st.execs))
		}
	}
}

func TestExecuteOutputsHandler(t *testing.T) {
	st, _, _ := testState(t, newFake())
	w := execute(t, st, `{"code":"display\npage"}`)
	got := w.types()
	want := []string{"busy", "execute_input", "display_data", "update_display_data", "clear_output", "display_data", "idle"}
	if !slices.Equal(got, want) {
		t.Fatalf("published %v, want %v", got, want)
	}
	w.mu.Lock()
	msgs := w.published
	w.mu.Unlock()
	wantContent := []map[string]any{
		{"data": map[string]any{"text/plain": "v1"}, "metadata": map[string]any{}, "transient": map[string]any{"display_id": "d1"}},
		{"data": map[string]any{"text/plain": "v2"}, "metadata": map[string]any{}, "transient": map[string]any{"display_id": "d1"}},
		{"wait": true},
		{"data": map[string]any{"text/html": "<b>v3</b>", "text/plain": "v3"}, "metadata": map[string]any{}, "transient": map[string]any{}},
	}
	for i, c := range wantContent {
		if !jsonEqual(msgs[i+2].content, c) {
			t.Errorf("%s = %v, want %v", msgs[i+2].msgType, msgs[i+2].content, c)
		}
	}
	r := w.theReply("execute_reply")
	wantPayload := []any{map[string]any{"source": "page", "data": map[string]any{"text/plain": "help text"}, "start": 0.0}}
	if !jsonEqual(r["payload"], wantPayload) {
		t.Errorf("payload = %v, want %v", r["payload"], wantPayload)
	}
}

func TestExecuteInputHandler(t *testing.T) {
	st, _, _ := testState(t, newFake())
	w := execute(t, st, `{"code":"read","allow_stdin":true}`, "Ada")
	if r := w.theReply("execute_reply"); r["status"] != "ok" {
		t.Errorf("execute_reply = %v", r)
	}
	if s := w.the("stream"); s["text"] != "read Ada\n" {
		t.Errorf("stream = %v", s)
	}
	if !slices.Equal(w.prompts, []string{"name? "}) {
		t.Errorf("prompts = %q", w.prompts)
	}
	// Without allow_stdin the cell has no input and the writer is never asked.
	w = execute(t, st, `{"code":"read"}`, "unused")
	if r := w.theReply("execute_reply"); r["ename"] != "EOF" {
		t.Errorf("without allow_stdin: execute_reply = %v", r)
	}
	if len(w.prompts) != 0 {
		t.Errorf("without allow_stdin: prompts = %q", w.prompts)
	}
}

func TestExecuteBadRequestHandler(t *testing.T) {
	st, logs, _ := testState(t, newFake())
	w := execute(t, st, `{"code": 42}`)
	if r := w.theReply("execute_reply"); r["status"] != "error" || r["ename"] != "BadRequest" {
		t.Errorf("execute_reply = %v", r)
	}
	if !strings.Contains(logs.String(), "bad execute_request content") {
		t.Errorf("log = %q", logs.String())
	}
}

func TestEngineFailedHandler(t *testing.T) {
	st, _, _ := testState(t, nil)
	st.engineErr = errors.New("no interpreter today")
	w := execute(t, st, `{"code":"value 1"}`)
	if r := w.theReply("execute_reply"); r["ename"] != "KernelError" || !strings.Contains(r["evalue"].(string), "no interpreter today") {
		t.Errorf("execute_reply = %v", r)
	}
	w = newRecorder(t)
	st.handle(w, request("is_complete_request", `{"code":"x"}`))
	if r := w.theReply("is_complete_reply"); r["status"] != "unknown" {
		t.Errorf("is_complete_reply = %v", r)
	}
	w = newRecorder(t)
	st.handle(w, request("complete_request", `{"code":"pri","cursor_pos":3}`))
	if r := w.theReply("complete_reply"); !jsonEqual(r, map[string]any{"status": "ok", "matches": []any{}, "cursor_start": 3.0, "cursor_end": 3.0, "metadata": map[string]any{}}) {
		t.Errorf("complete_reply = %v", r)
	}
}

func TestCompleteHandler(t *testing.T) {
	st, logs, _ := testState(t, newFake())
	for _, c := range []struct {
		content string
		want    map[string]any
	}{
		{`{"code":"pri","cursor_pos":3}`, map[string]any{"status": "ok", "matches": []any{"print", "page"}, "cursor_start": 0.0, "cursor_end": 3.0, "metadata": map[string]any{}}},
		// No cursor means the end; a cursor past the end is clamped; in code points.
		{`{"code":"héllo"}`, map[string]any{"status": "ok", "matches": []any{"print", "page"}, "cursor_start": 0.0, "cursor_end": 5.0, "metadata": map[string]any{}}},
		{`{"code":"pri","cursor_pos":99}`, map[string]any{"status": "ok", "matches": []any{"print", "page"}, "cursor_start": 0.0, "cursor_end": 3.0, "metadata": map[string]any{}}},
		// No match: the cursor is both ends.
		{`{"code":"zzz","cursor_pos":2}`, map[string]any{"status": "ok", "matches": []any{}, "cursor_start": 2.0, "cursor_end": 2.0, "metadata": map[string]any{}}},
	} {
		w := newRecorder(t)
		st.handle(w, request("complete_request", c.content))
		if r := w.theReply("complete_reply"); !jsonEqual(r, c.want) {
			t.Errorf("%s: complete_reply = %v, want %v", c.content, r, c.want)
		}
	}
	// A panic of the engine is a kernel error reply, logged with its stack.
	w := newRecorder(t)
	st.handle(w, request("complete_request", `{"code":"enginepanic"}`))
	if r := w.theReply("complete_reply"); r["status"] != "error" || r["ename"] != "KernelError" {
		t.Errorf("engine panic: complete_reply = %v", r)
	}
	if got := w.types(); !slices.Equal(got, []string{"busy", "idle"}) {
		t.Errorf("engine panic: published %v", got)
	}
	if !strings.Contains(logs.String(), "panic while handling complete_request: a bug in the engine's completion") {
		t.Errorf("log = %q", logs.String())
	}
}

func TestInspectHandler(t *testing.T) {
	st, _, _ := testState(t, newFake())
	for _, c := range []struct {
		content string
		want    map[string]any
	}{
		{`{"code":"print","cursor_pos":5,"detail_level":0}`, map[string]any{"status": "ok", "found": true, "data": map[string]any{"text/plain": "doc of print (detail 0)"}, "metadata": map[string]any{}}},
		{`{"code":"print","cursor_pos":5,"detail_level":2}`, map[string]any{"status": "ok", "found": true, "data": map[string]any{"text/plain": "doc of print (detail 1)"}, "metadata": map[string]any{}}},
		{`{"code":"","cursor_pos":0}`, map[string]any{"status": "ok", "found": false, "data": map[string]any{}, "metadata": map[string]any{}}},
	} {
		w := newRecorder(t)
		st.handle(w, request("inspect_request", c.content))
		if r := w.theReply("inspect_reply"); !jsonEqual(r, c.want) {
			t.Errorf("%s: inspect_reply = %v, want %v", c.content, r, c.want)
		}
	}
}

func TestIsCompleteHandler(t *testing.T) {
	st, _, _ := testState(t, newFake())
	for code, want := range map[string]map[string]any{
		"func f() {": {"status": "incomplete", "indent": "\t"},
		"x := 1":     {"status": "complete"},
	} {
		w := newRecorder(t)
		st.handle(w, request("is_complete_request", `{"code":"`+code+`"}`))
		if r := w.theReply("is_complete_reply"); !jsonEqual(r, want) {
			t.Errorf("%q: is_complete_reply = %v, want %v", code, r, want)
		}
	}
}

func TestHistoryHandler(t *testing.T) {
	st, _, _ := testState(t, newFake())
	for _, code := range []string{"value 1", "set a 2", "value 1"} {
		execute(t, st, `{"code":"`+code+`"}`)
	}
	for _, c := range []struct {
		content string
		want    []any
	}{
		{`{"hist_access_type":"tail","n":2}`, []any{[]any{1.0, 2.0, "set a 2"}, []any{1.0, 3.0, "value 1"}}},
		{`{"hist_access_type":"tail","n":1,"output":true}`, []any{[]any{1.0, 3.0, []any{"value 1", "1"}}}},
		{`{"hist_access_type":"range","session":0,"start":2,"stop":3,"output":true}`, []any{[]any{1.0, 2.0, []any{"set a 2", nil}}}},
		{`{"hist_access_type":"search","pattern":"value*","unique":true}`, []any{[]any{1.0, 3.0, "value 1"}}},
		{`{"hist_access_type":"nonsense"}`, []any{}},
		{`not json`, []any{}},
	} {
		w := newRecorder(t)
		st.handle(w, request("history_request", c.content))
		r := w.theReply("history_reply")
		if r["status"] != "ok" || !jsonEqual(r["history"], c.want) {
			t.Errorf("%s: history_reply = %v, want history %v", c.content, r, c.want)
		}
	}
}

func TestCommHandlers(t *testing.T) {
	st, logs, _ := testState(t, newFake())
	w := newRecorder(t)
	st.handle(w, request("comm_info_request", `{"target_name":"jupyter.widget"}`))
	if r := w.theReply("comm_info_reply"); !jsonEqual(r, map[string]any{"status": "ok", "comms": map[string]any{}}) {
		t.Errorf("comm_info_reply = %v", r)
	}
	// comm_open of an unknown target is closed at once, and comm_msg is dropped.
	w = newRecorder(t)
	st.handle(w, request("comm_open", `{"comm_id":"c1","target_name":"nowhere","data":{}}`))
	if got := w.types(); !slices.Equal(got, []string{"busy", "comm_close", "idle"}) {
		t.Errorf("comm_open published %v", got)
	}
	if c := w.the("comm_close"); !jsonEqual(c, map[string]any{"comm_id": "c1", "data": map[string]any{}}) {
		t.Errorf("comm_close = %v", c)
	}
	if len(w.replies) != 0 {
		t.Errorf("comm_open replied %v", w.replies)
	}
	if !strings.Contains(logs.String(), `no target "nowhere"`) {
		t.Errorf("log = %q", logs.String())
	}
	w = newRecorder(t)
	st.handle(w, request("comm_msg", `{"comm_id":"c1","data":{}}`))
	if got := w.types(); len(w.replies) != 0 || !slices.Equal(got, []string{"busy", "idle"}) {
		t.Errorf("comm_msg: replies %v, published %v", w.replies, got)
	}
}

func TestInterruptHandler(t *testing.T) {
	e := newFake()
	e.looping = make(chan struct{}, 1)
	st, _, _ := testState(t, e)
	// Nothing runs: the interrupt is answered and changes nothing.
	w := newRecorder(t)
	st.handle(w, request("interrupt_request", "{}"))
	if r := w.theReply("interrupt_reply"); !jsonEqual(r, map[string]any{"status": "ok"}) {
		t.Errorf("interrupt_reply = %v", r)
	}
	// A looping cell stops at the interrupt.
	cell := newRecorder(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		st.handle(cell, request("execute_request", `{"code":"loop"}`))
	}()
	select {
	case <-e.looping:
	case <-time.After(10 * time.Second):
		t.Fatal("the cell did not start within 10 s")
	}
	w = newRecorder(t)
	st.handle(w, request("interrupt_request", "{}"))
	w.theReply("interrupt_reply")
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the interrupted cell did not end within 10 s")
	}
	if r := cell.theReply("execute_reply"); r["status"] != "error" || r["ename"] != "Interrupted" {
		t.Errorf("interrupted cell: execute_reply = %v", r)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.cancelCell != nil {
		t.Error("the finished cell left its cancel function")
	}
}

func TestShutdownHandler(t *testing.T) {
	st, _, stopped := testState(t, newFake())
	w := newRecorder(t)
	st.handle(w, request("shutdown_request", `{"restart":true}`))
	if r := w.theReply("shutdown_reply"); !jsonEqual(r, map[string]any{"status": "ok", "restart": true}) {
		t.Errorf("shutdown_reply = %v", r)
	}
	select {
	case <-stopped:
	default:
		t.Error("shutdown_request did not stop the kernel")
	}
	if !st.shutdown {
		t.Error("shutdown not recorded")
	}
}

func TestConnectHandler(t *testing.T) {
	st, _, _ := testState(t, newFake())
	w := newRecorder(t)
	st.handle(w, request("connect_request", "{}"))
	want := map[string]any{"status": "ok", "shell_port": 1.0, "iopub_port": 2.0, "stdin_port": 3.0, "control_port": 4.0, "hb_port": 5.0}
	if r := w.theReply("connect_reply"); !jsonEqual(r, want) {
		t.Errorf("connect_reply = %v, want %v", r, want)
	}
}

func TestUnknownRequestHandler(t *testing.T) {
	st, logs, _ := testState(t, newFake())
	w := newRecorder(t)
	st.handle(w, request("debug_request", "{}"))
	if len(w.replies) != 0 || !slices.Equal(w.types(), []string{"busy", "idle"}) {
		t.Errorf("replies %v, published %v; want only busy and idle", w.replies, w.types())
	}
	if !strings.Contains(logs.String(), `no handler for "debug_request"`) {
		t.Errorf("log = %q", logs.String())
	}
}
