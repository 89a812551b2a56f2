package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"maps"
	"runtime/debug"
	"runtime/trace"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/kernel/early"
)

// replyWriter answers one request, as http.ResponseWriter answers an HTTP request.
// The kernel's writer (socketWriter) sends on the request's socket, on iopub and on
// stdin; the handlers' tests record in memory instead (recorder_test.go).
type replyWriter interface {
	// reply sends the reply to the client that sent the request.
	reply(msgType string, content any)
	// publish sends a message on iopub with the request as its parent.
	publish(msgType string, content any)
	// publishParts sends a message on iopub with the request as its parent, with
	// the message's metadata and binary buffers (comm messages carry both).
	publishParts(msgType string, content any, metadata map[string]any, buffers [][]byte)
	// readLine asks the client for a line of input (input_request on stdin) and
	// waits for it until ctx is done.
	readLine(ctx context.Context, prompt string, password bool) (string, error)
}

// handler answers one request type.
type handler func(st *state, w replyWriter, req *Message)

// handlers maps a msg_type to its handler; shell and control share it (execute
// requests on shell go through the executor queue first).
var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"kernel_info_request": (*state).kernelInfo,
		"execute_request":     (*state).execute,
		"is_complete_request": (*state).isComplete,
		"complete_request":    (*state).complete,
		"inspect_request":     (*state).inspect,
		"history_request":     (*state).historyRequest,
		"comm_info_request":   (*state).commInfo,
		"comm_open":           (*state).comm,
		"comm_msg":            (*state).comm,
		"comm_close":          (*state).comm,
		"shutdown_request":    (*state).shutdownRequest,
		"interrupt_request":   (*state).interruptRequest,
		"connect_request":     (*state).connect,
	}
}

// state is what the handlers of one kernel share: everything but the sockets.
type state struct {
	version string // implementation_version
	banner  string
	conn    ConnectionInfo // for connect_reply
	log     *log.Logger
	stop    func() // ends Serve (shutdown_request)

	historyReady chan struct{} // closed when history is set
	history      *history

	// execs holds the execute requests, and the callbacks of comm messages,
	// waiting for the executor, which runs them one at a time (executeLoop);
	// abortQueued empties it of execute requests after a failed cell.
	execs chan queued

	ready     chan struct{} // closed when engine and engineErr are set
	engine    Engine
	engineErr error
	// build starts building the engine if it is not built or being built yet
	// (server.startEngine); nil when the engine is given.
	build func()

	mu         sync.Mutex
	cancelCell context.CancelFunc // interrupts the running cell; nil between cells
	running    replyWriter        // the request the executor runs; nil between requests
	count      int                // execution_count
	shutdown   bool               // a shutdown_request was received
}

// queued is a request waiting for the executor, with its writer: an execute
// request, or (run set) the callbacks that a comm message asks cell code to run.
type queued struct {
	w   replyWriter
	req *Message
	run func(ctx context.Context) *cellio.Error
}

// hist waits for the history (opened while the kernel starts) and returns it.
func (st *state) hist() *history {
	<-st.historyReady
	return st.history
}

// getEngine waits for the engine, building it if nobody asked yet; it returns
// nil if it could not be created.
func (st *state) getEngine() Engine {
	if st.build != nil {
		st.build()
	}
	<-st.ready
	return st.engine
}

// executionCount returns the current execution_count.
func (st *state) executionCount() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.count
}

// handle runs the handler of req between busy and idle statuses, the wrapper around
// every handler. A request of a type the kernel does not handle gets its busy and
// idle statuses and no reply, as the protocol allows ("kernels do not need to send
// any reply for messages they don't handle"), so that a client waiting for its idle
// status is not left waiting.
func (st *state) handle(w replyWriter, req *Message) { st.serve(w, req, false) }

// handleRunning is handle for a request that the executor runs (an execute
// request): while its handler runs, it is the running request.
func (st *state) handleRunning(w replyWriter, req *Message) { st.serve(w, req, true) }

func (st *state) serve(w replyWriter, req *Message, running bool) {
	h, ok := handlers[req.Header.MsgType]
	if !ok {
		st.log.Printf("no handler for %q; ignored", req.Header.MsgType)
		h = func(*state, replyWriter, *Message) {}
	}
	tw := &trackingWriter{replyWriter: w}
	w.publish("status", kernelStatus{"busy"})
	defer st.idle(w)
	if running {
		defer st.swapRunning(st.swapRunning(w))
	}
	defer st.recoverHandler(tw, req)
	h(st, tw, req)
}

// idle publishes the idle status of a request. A request answered while a cell or
// callbacks run (a comm message of a widget the user moves, an interrupt) must not
// leave the front end believing the kernel idle (JupyterLab shows the latest
// status): the running request's busy status is said again after it.
func (st *state) idle(w replyWriter) {
	w.publish("status", kernelStatus{"idle"})
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.running != nil && st.running != w {
		st.running.publish("status", kernelStatus{"busy"})
	}
}

// swapRunning records the writer of the request the executor runs (nil: none) and
// returns the one recorded before; the executor puts that back before it
// publishes the request's idle status.
func (st *state) swapRunning(w replyWriter) replyWriter {
	st.mu.Lock()
	defer st.mu.Unlock()
	prev := st.running
	st.running = w
	return prev
}

// trackingWriter remembers whether a reply was sent.
type trackingWriter struct {
	replyWriter
	replied bool
}

func (w *trackingWriter) reply(msgType string, content any) {
	w.replied = true
	w.replyWriter.reply(msgType, content)
}

// recoverHandler keeps a panicking handler (a bug in the kernel or the engine, never
// a cell's own panic, which the engine reports as the cell's error) from ending the
// process: it logs the panic with its stack and, if the request got no reply yet,
// answers it with an error so that the client does not wait forever.
func (st *state) recoverHandler(w *trackingWriter, req *Message) {
	v := recover()
	if v == nil {
		return
	}
	msgType := req.Header.MsgType
	st.log.Printf("panic while handling %s: %v\n%s", msgType, v, debug.Stack())
	if w.replied || !strings.HasSuffix(msgType, "_request") {
		return
	}
	e := &cellio.Error{Name: "KernelError", Value: fmt.Sprintf("the kernel failed while handling %s: %v", msgType, v)}
	w.reply(strings.TrimSuffix(msgType, "_request")+"_reply", newErrorReply(e, st.executionCount()))
}

// abortQueued answers every execute request waiting in the queue with status
// "aborted" (stop_on_error after a failed cell). The callbacks of comm messages
// waiting among them are not aborted (they answer what the user did in the front
// end, which a failed cell does not undo): they run, in their order.
func (st *state) abortQueued() {
	for {
		select {
		case q := <-st.execs:
			if q.run != nil {
				st.runQueued(q)
				continue
			}
			q.w.publish("status", kernelStatus{"busy"})
			q.w.reply("execute_reply", abortedReply{Status: "aborted", ExecutionCount: st.executionCount()})
			q.w.publish("status", kernelStatus{"idle"})
		default:
			return
		}
	}
}

// interrupt cancels the running cell, if any.
func (st *state) interrupt() {
	st.mu.Lock()
	cancel := st.cancelCell
	st.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// decode unmarshals the content of req into v; on failure it logs and returns false.
func (st *state) decode(req *Message, v any) bool {
	if err := json.Unmarshal(req.Content, v); err != nil {
		st.log.Printf("bad %s content: %v", req.Header.MsgType, err)
		return false
	}
	return true
}

// kernelInfo answers kernel_info_request, which a front end sends first and
// whose reply it waits for: only then does the kernel start building the engine
// (if no request needed it before), so that the two do not compete for the CPU.
func (st *state) kernelInfo(w replyWriter, req *Message) {
	if st.build != nil {
		defer st.build()
	}
	w.reply("kernel_info_reply", early.KernelInfo(st.version, st.banner))
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

// execute runs a cell. The path of a cell through the kernel, in order:
//
//  1. count: a stored execute (not silent, store_history not false) takes the next
//     execution count; the cell's context is made cancellable by interrupt_request;
//  2. execute_input on iopub;
//  3. the engine runs the cell (Engine.Execute), its output published as it comes
//     (cellOutput: stream, display_data, update_display_data, clear_output), its
//     input read through the writer (cellInput: input_request on stdin);
//  4. the outcome: an error is published and replied (and queued executes are
//     aborted when stop_on_error); a value is published as execute_result;
//  5. history: the stored cell is recorded with its text/plain result;
//  6. the reply, with the pager payload and the user expressions evaluated;
//  7. the history file gets the record (after the reply: it is not on the path
//     of the round trip; history requests see the record from step 5).
func (st *state) execute(w replyWriter, req *Message) {
	var r executeRequest
	if !st.decode(req, &r) {
		e := &cellio.Error{Name: "BadRequest", Value: "execute_request content is not valid"}
		w.reply("execute_reply", newErrorReply(e, st.executionCount()))
		return
	}
	store := (r.StoreHistory == nil || *r.StoreHistory) && !r.Silent
	stopOnError := r.StopOnError == nil || *r.StopOnError

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st.mu.Lock()
	if store {
		st.count++
	}
	n := st.count
	st.cancelCell = cancel
	st.mu.Unlock()
	defer func() {
		st.mu.Lock()
		st.cancelCell = nil
		st.mu.Unlock()
	}()

	if !r.Silent {
		w.publish("execute_input", executeInput{Code: r.Code, ExecutionCount: n})
	}
	c := cellio.Cell{Code: r.Code, Number: n, Output: &cellOutput{w: w, silent: r.Silent}}
	if r.AllowStdin {
		c.Input = &cellInput{w: w, ctx: ctx}
	}
	e := st.getEngine()
	var out cellio.Outcome
	if e != nil {
		region := trace.StartRegion(ctx, "kernel.engine")
		out = e.Execute(ctx, c)
		region.End()
	} else {
		out.Error = &cellio.Error{Name: "KernelError", Value: "the cell engine failed to start: " + st.engineErr.Error()}
	}

	if out.Error != nil {
		if !r.Silent {
			w.publish("error", errorOutput{EName: out.Error.Name, EValue: out.Error.Value, Traceback: nonNil(out.Error.Traceback)})
		}
		if store {
			st.hist().add(n, r.Code, nil)
		}
		w.reply("execute_reply", newErrorReply(out.Error, n))
		st.hist().flushSoon()
		if stopOnError {
			st.abortQueued()
		}
		return
	}
	var result *string
	if out.Value != nil && !r.Silent {
		data := withText(*out.Value)
		if t, ok := data["text/plain"].(string); ok {
			result = &t
		}
		w.publish("execute_result", executeResult{ExecutionCount: n, Data: data, Metadata: out.Value.Metadata})
	}
	if store {
		st.hist().add(n, r.Code, result)
	}
	payload := []pagePayload{}
	if out.Page != nil {
		payload = append(payload, pagePayload{Source: "page", Data: withText(*out.Page)})
	}
	w.reply("execute_reply", executeReply{
		Status: "ok", ExecutionCount: n, Payload: payload,
		UserExpressions: userExpressions(ctx, e, r.UserExpressions, n, c.Output),
	})
	st.hist().flushSoon()
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
			values[name] = userExpressionError{Status: "error", EName: out.Error.Name, EValue: out.Error.Value, Traceback: nonNil(out.Error.Traceback)}
		case out.Value != nil:
			values[name] = userExpressionValue{Status: "ok", Data: out.Value.Data, Metadata: out.Value.Metadata}
		default:
			values[name] = userExpressionValue{Status: "ok", Data: jsonObject{"text/plain": ""}}
		}
	}
	return values
}

// cellOutput publishes what a running cell produces on iopub.
type cellOutput struct {
	w      replyWriter
	silent bool
}

func (o *cellOutput) Stream(name, text string) {
	if o.silent || text == "" {
		return
	}
	o.w.publish("stream", stream{Name: name, Text: text})
}

func (o *cellOutput) Display(b cellio.Bundle, displayID string, update bool) {
	if o.silent {
		return
	}
	msgType := "display_data"
	if update && displayID != "" {
		msgType = "update_display_data"
	}
	o.w.publish(msgType, displayData{Data: b.Data, Metadata: b.Metadata, Transient: transient{DisplayID: displayID}})
}

func (o *cellOutput) Clear(wait bool) {
	if o.silent {
		return
	}
	o.w.publish("clear_output", clearOutput{Wait: wait})
}

// cellInput asks the front end for lines through the request's writer.
type cellInput struct {
	w   replyWriter
	ctx context.Context // the cell's: an interrupt ends the wait
}

// errInterrupted is returned by ReadLine when the cell is interrupted while waiting.
var errInterrupted = errors.New("kernel: interrupted while waiting for input")

func (in *cellInput) ReadLine(prompt string, password bool) (string, error) {
	return in.w.readLine(in.ctx, prompt, password)
}

func (st *state) isComplete(w replyWriter, req *Message) {
	var r struct {
		Code string `json:"code"`
	}
	e := st.getEngine()
	if !st.decode(req, &r) || e == nil {
		w.reply("is_complete_reply", isCompleteReply{Status: "unknown"})
		return
	}
	status, indent := e.IsComplete(r.Code)
	switch status {
	case "complete", "invalid", "unknown":
		w.reply("is_complete_reply", isCompleteReply{Status: status})
	case "incomplete":
		w.reply("is_complete_reply", isCompleteReply{Status: status, Indent: indent})
	default:
		w.reply("is_complete_reply", isCompleteReply{Status: "unknown"})
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

func (st *state) complete(w replyWriter, req *Message) {
	var r codeRequest
	if !st.decode(req, &r) {
		r = codeRequest{}
	}
	cur := r.cursor()
	var c cellio.Completion
	if e := st.getEngine(); e != nil {
		c = e.Complete(r.Code, cur)
	}
	start, end := c.Start, c.End
	if len(c.Matches) == 0 {
		start, end = cur, cur
	}
	w.reply("complete_reply", completeReply{
		Status: "ok", Matches: nonNil(c.Matches), CursorStart: start, CursorEnd: end, Metadata: c.Metadata,
	})
}

func (st *state) inspect(w replyWriter, req *Message) {
	var r codeRequest
	if !st.decode(req, &r) {
		r = codeRequest{}
	}
	detail := 0
	if r.DetailLevel > 0 {
		detail = 1
	}
	var b cellio.Bundle
	var found bool
	if e := st.getEngine(); e != nil {
		b, found = e.Inspect(r.Code, r.cursor(), detail)
	}
	if !found {
		b = cellio.Bundle{}
	}
	w.reply("inspect_reply", inspectReply{Status: "ok", Found: found, Data: b.Data, Metadata: b.Metadata})
}

func (st *state) historyRequest(w replyWriter, req *Message) {
	var r historyRequestContent
	list := [][]any{}
	if !st.decode(req, &r) {
		w.reply("history_reply", historyReply{Status: "ok", History: list})
		return
	}
	for _, e := range st.hist().query(r) {
		if r.Output {
			var out any
			if e.output != nil {
				out = *e.output
			}
			list = append(list, []any{e.session, e.line, []any{e.input, out}})
		} else {
			list = append(list, []any{e.session, e.line, e.input})
		}
	}
	w.reply("history_reply", historyReply{Status: "ok", History: list})
}

func (st *state) shutdownRequest(w replyWriter, req *Message) {
	var r struct {
		Restart bool `json:"restart"`
	}
	st.decode(req, &r)
	w.reply("shutdown_reply", shutdownReply{Status: "ok", Restart: r.Restart})
	st.mu.Lock()
	st.shutdown = true
	st.mu.Unlock()
	st.stop()
}

func (st *state) interruptRequest(w replyWriter, req *Message) {
	st.interrupt()
	w.reply("interrupt_reply", statusReply{Status: "ok"})
}

func (st *state) connect(w replyWriter, req *Message) {
	c := st.conn
	w.reply("connect_reply", connectReply{
		Status: "ok", ShellPort: c.ShellPort, IOPubPort: c.IOPubPort,
		StdinPort: c.StdinPort, HBPort: c.HBPort, ControlPort: c.ControlPort,
	})
}
