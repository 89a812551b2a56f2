package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"runtime"
	"slices"
	"unicode/utf8"

	"github.com/gocvx/gocvx/cellio"
)

// handler answers one request type.
type handler func(w *replyWriter, req *Message)

// handlers maps a msg_type to its handler; shell and control share it (execute
// requests on shell go through the executor queue first).
var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"kernel_info_request": kernelInfo,
		"execute_request":     execute,
		"is_complete_request": isComplete,
		"complete_request":    complete,
		"inspect_request":     inspect,
		"history_request":     historyRequest,
		"comm_info_request":   commInfo,
		"comm_open":           commOpen,
		"comm_msg":            commIgnore,
		"comm_close":          commIgnore,
		"shutdown_request":    shutdown,
		"interrupt_request":   interrupt,
		"connect_request":     connect,
	}
}

// decode unmarshals the content of req into v; on failure it logs and returns false.
func (w *replyWriter) decode(v any) bool {
	if err := json.Unmarshal(w.req.msg.Content, v); err != nil {
		w.s.log.Printf("%s: bad %s content: %v", w.req.sock.name, w.req.msg.Header.MsgType, err)
		return false
	}
	return true
}

func kernelInfo(w *replyWriter, req *Message) {
	version := w.s.k.Version
	if version == "" {
		version = "devel"
	}
	w.reply("kernel_info_reply", map[string]any{
		"status":                 "ok",
		"protocol_version":       ProtocolVersion,
		"implementation":         "gocvx",
		"implementation_version": version,
		"language_info":          cellio.Go(),
		"banner": "gocvx " + version + ": Go (" + runtime.Version() + ") on the yaegi interpreter,\n" +
			"with convex training of two-layer ReLU networks (import \"github.com/gocvx/gocvx/solver\").",
		"debugger": false,
		"help_links": []map[string]string{
			{"text": "Go documentation", "url": "https://go.dev/doc/"},
			{"text": "Go standard library", "url": "https://pkg.go.dev/std"},
			{"text": "gocvx", "url": "https://github.com/gocvx/gocvx"},
		},
	})
}

// executeRequest is the content of execute_request.
type executeRequest struct {
	Code         string `json:"code"`
	Silent       bool   `json:"silent"`
	StoreHistory *bool  `json:"store_history"`
	AllowStdin   bool   `json:"allow_stdin"`
	StopOnError  *bool  `json:"stop_on_error"`
	// UserExpressions maps names to expressions evaluated after the code ran
	// successfully; the reply maps the names to their values or errors.
	UserExpressions map[string]string `json:"user_expressions"`
}

func execute(w *replyWriter, req *Message) {
	var r executeRequest
	if !w.decode(&r) {
		w.reply("execute_reply", errorReply("BadRequest", "execute_request content is not valid", 0))
		return
	}
	store := (r.StoreHistory == nil || *r.StoreHistory) && !r.Silent
	stopOnError := r.StopOnError == nil || *r.StopOnError
	s := w.s

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.mu.Lock()
	if store {
		s.count++
	}
	n := s.count
	s.cancelCell = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.cancelCell = nil
		s.mu.Unlock()
	}()

	if !r.Silent {
		w.publish("execute_input", map[string]any{"code": r.Code, "execution_count": n})
	}
	c := cellio.Cell{Code: r.Code, Number: n, Output: &cellOutput{w: w, silent: r.Silent}}
	if r.AllowStdin {
		c.Input = &cellInput{w: w, ctx: ctx}
	}
	var out cellio.Outcome
	e := s.getEngine()
	if e != nil {
		out = e.Execute(ctx, c)
	} else {
		out.Error = &cellio.Error{Name: "KernelError", Value: "the cell engine failed to start: " + s.engineErr.Error(), Traceback: []string{}}
	}

	var result *string
	switch {
	case out.Error != nil:
		e := out.Error
		tb := e.Traceback
		if tb == nil {
			tb = []string{}
		}
		if !r.Silent {
			w.publish("error", map[string]any{"ename": e.Name, "evalue": e.Value, "traceback": tb})
		}
		if store {
			s.history.add(n, r.Code, nil)
		}
		rep := errorReply(e.Name, e.Value, n)
		rep["traceback"] = tb
		w.reply("execute_reply", rep)
		if stopOnError {
			s.abortQueued()
		}
		return
	case out.Value != nil && !r.Silent:
		data, meta := bundle(*out.Value)
		if _, ok := data["text/plain"]; !ok {
			data["text/plain"] = ""
		}
		if t, ok := data["text/plain"].(string); ok {
			result = &t
		}
		w.publish("execute_result", map[string]any{"execution_count": n, "data": data, "metadata": meta})
	}
	if store {
		s.history.add(n, r.Code, result)
	}
	payload := []any{}
	if out.Page != nil {
		data, _ := bundle(*out.Page)
		if _, ok := data["text/plain"]; !ok {
			data["text/plain"] = ""
		}
		payload = append(payload, map[string]any{"source": "page", "data": data, "start": 0})
	}
	w.reply("execute_reply", map[string]any{
		"status": "ok", "execution_count": n, "payload": payload,
		"user_expressions": userExpressions(ctx, e, r.UserExpressions, n, c.Output),
	})
}

// userExpressions evaluates the user_expressions of a successful execute request,
// in the order of their names, each to its MIME bundle (status "ok") or its error
// (status "error"), as ipykernel answers them.
func userExpressions(ctx context.Context, e Engine, exprs map[string]string, n int, output cellio.Output) map[string]any {
	values := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(exprs)) {
		out := e.Execute(ctx, cellio.Cell{Code: exprs[name], Number: n, Output: output, Transient: true})
		switch {
		case out.Error != nil:
			tb := out.Error.Traceback
			if tb == nil {
				tb = []string{}
			}
			values[name] = map[string]any{"status": "error", "ename": out.Error.Name, "evalue": out.Error.Value, "traceback": tb}
		case out.Value != nil:
			data, meta := bundle(*out.Value)
			values[name] = map[string]any{"status": "ok", "data": data, "metadata": meta}
		default:
			values[name] = map[string]any{"status": "ok", "data": map[string]any{"text/plain": ""}, "metadata": map[string]any{}}
		}
	}
	return values
}

func errorReply(name, value string, n int) map[string]any {
	return map[string]any{
		"status": "error", "ename": name, "evalue": value, "traceback": []string{},
		"execution_count": n,
	}
}

// bundle returns the data and metadata of b, never nil.
func bundle(b cellio.Bundle) (data, meta map[string]any) {
	data, meta = map[string]any{}, map[string]any{}
	for k, v := range b.Data {
		data[k] = v
	}
	for k, v := range b.Metadata {
		meta[k] = v
	}
	return data, meta
}

// cellOutput publishes what a running cell produces on iopub.
type cellOutput struct {
	w      *replyWriter
	silent bool
}

func (o *cellOutput) Stream(name, text string) {
	if o.silent || text == "" {
		return
	}
	o.w.publish("stream", map[string]any{"name": name, "text": text})
}

func (o *cellOutput) Display(b cellio.Bundle, displayID string, update bool) {
	if o.silent {
		return
	}
	data, meta := bundle(b)
	content := map[string]any{"data": data, "metadata": meta, "transient": map[string]any{}}
	if displayID != "" {
		content["transient"] = map[string]any{"display_id": displayID}
	}
	msgType := "display_data"
	if update && displayID != "" {
		msgType = "update_display_data"
	}
	o.w.publish(msgType, content)
}

func (o *cellOutput) Clear(wait bool) {
	if o.silent {
		return
	}
	o.w.publish("clear_output", map[string]any{"wait": wait})
}

// cellInput asks the front end for lines on the stdin socket.
type cellInput struct {
	w   *replyWriter
	ctx context.Context // the cell's: an interrupt ends the wait
}

// errInterrupted is returned by ReadLine when the cell is interrupted while waiting.
var errInterrupted = errors.New("kernel: interrupted while waiting for input")

func (in *cellInput) ReadLine(prompt string, password bool) (string, error) {
	s := in.w.s
	// Forget replies nobody waited for.
	select {
	case <-s.inputs:
	default:
	}
	m, err := s.message(&in.w.req.msg.Header, "input_request", map[string]any{"prompt": prompt, "password": password})
	if err != nil {
		return "", err
	}
	m.Identities = in.w.req.msg.Identities
	frames, err := Encode(m, s.key)
	if err != nil {
		return "", err
	}
	if err := s.stdin.send(frames); err != nil {
		return "", err
	}
	select {
	case v := <-s.inputs:
		return v, nil
	case <-in.ctx.Done():
		return "", errInterrupted
	}
}

func isComplete(w *replyWriter, req *Message) {
	var r struct {
		Code string `json:"code"`
	}
	if !w.decode(&r) {
		w.reply("is_complete_reply", map[string]any{"status": "unknown"})
		return
	}
	e := w.s.getEngine()
	if e == nil {
		w.reply("is_complete_reply", map[string]any{"status": "unknown"})
		return
	}
	status, indent := e.IsComplete(r.Code)
	switch status {
	case "complete", "invalid", "unknown":
		w.reply("is_complete_reply", map[string]any{"status": status})
	case "incomplete":
		w.reply("is_complete_reply", map[string]any{"status": status, "indent": indent})
	default:
		w.reply("is_complete_reply", map[string]any{"status": "unknown"})
	}
}

// codeRequest is the content of complete_request and inspect_request.
type codeRequest struct {
	Code        string `json:"code"`
	CursorPos   *int   `json:"cursor_pos"`
	DetailLevel int    `json:"detail_level"`
}

// cursor returns the cursor in code points, clamped to the code; a missing cursor
// means the end.
func (r codeRequest) cursor() int {
	n := utf8.RuneCountInString(r.Code)
	if r.CursorPos == nil || *r.CursorPos > n {
		return n
	}
	return max(*r.CursorPos, 0)
}

func complete(w *replyWriter, req *Message) {
	var r codeRequest
	if !w.decode(&r) {
		r = codeRequest{}
	}
	cur := r.cursor()
	var c cellio.Completion
	if e := w.s.getEngine(); e != nil {
		c = e.Complete(r.Code, cur)
	}
	matches := c.Matches
	if matches == nil {
		matches = []string{}
	}
	meta := c.Metadata
	if meta == nil {
		meta = map[string]any{}
	}
	start, end := c.Start, c.End
	if len(c.Matches) == 0 {
		start, end = cur, cur
	}
	w.reply("complete_reply", map[string]any{
		"status": "ok", "matches": matches, "cursor_start": start, "cursor_end": end, "metadata": meta,
	})
}

func inspect(w *replyWriter, req *Message) {
	var r codeRequest
	if !w.decode(&r) {
		r = codeRequest{}
	}
	detail := 0
	if r.DetailLevel > 0 {
		detail = 1
	}
	var b cellio.Bundle
	var found bool
	if e := w.s.getEngine(); e != nil {
		b, found = e.Inspect(r.Code, r.cursor(), detail)
	}
	data, meta := bundle(b)
	if !found {
		data = map[string]any{}
	}
	w.reply("inspect_reply", map[string]any{"status": "ok", "found": found, "data": data, "metadata": meta})
}

func commInfo(w *replyWriter, req *Message) {
	w.reply("comm_info_reply", map[string]any{"status": "ok", "comms": map[string]any{}})
}

// commOpen closes every comm at once: the kernel registers no comm targets.
func commOpen(w *replyWriter, req *Message) {
	var r struct {
		CommID     string `json:"comm_id"`
		TargetName string `json:"target_name"`
	}
	if !w.decode(&r) || r.CommID == "" {
		return
	}
	w.s.log.Printf("comm_open: no target %q; closing comm %s", r.TargetName, r.CommID)
	w.publish("comm_close", map[string]any{"comm_id": r.CommID, "data": map[string]any{}})
}

// commIgnore drops comm_msg and comm_close: there are no open comms.
func commIgnore(w *replyWriter, req *Message) {}

func shutdown(w *replyWriter, req *Message) {
	var r struct {
		Restart bool `json:"restart"`
	}
	w.decode(&r)
	w.reply("shutdown_reply", map[string]any{"status": "ok", "restart": r.Restart})
	w.s.mu.Lock()
	w.s.shutdown = true
	w.s.mu.Unlock()
	w.s.stop()
}

func interrupt(w *replyWriter, req *Message) {
	w.s.interrupt()
	w.reply("interrupt_reply", map[string]any{"status": "ok"})
}

func connect(w *replyWriter, req *Message) {
	c := w.s.conn
	w.reply("connect_reply", map[string]any{
		"status": "ok", "shell_port": c.ShellPort, "iopub_port": c.IOPubPort,
		"stdin_port": c.StdinPort, "hb_port": c.HBPort, "control_port": c.ControlPort,
	})
}
