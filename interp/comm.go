package interp

import (
	"context"
	"fmt"
	"strings"

	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/internal/cellrt"
)

// Comms: the front end's messages to cell code (Jupyter widgets) and the callbacks
// they run. The cell-facing packages register their comms in cellrt; the session
// hands them what the kernel receives (ReceiveComm) and runs the work they return
// like a cell (runWork): one at a time with cells, interruptible, under the guard,
// its output going to the output the message came with unless the callbacks
// redirect it (to the cell that showed the widget, or a widget's output area).

// workFunc is the interpreter's name of the cell function that runs callbacks.
const workFunc = "GocvxWork"

// ReceiveComm takes a comm message of the front end as it arrives, also while a
// cell runs: the handler of its comm (or target) updates what it changes and
// answers through out at once; the callbacks it leaves are returned, to be run
// between cells. A comm_open of a target that nothing registered is answered with
// comm_close.
func (s *Session) ReceiveComm(m cellio.Comm, out cellio.Output) (run func(ctx context.Context) *cellio.Error) {
	reply := func(c cellio.Comm) {
		if co, ok := out.(cellio.CommOutput); ok {
			co.Comm(c)
		}
	}
	work, known := cellrt.Receive(m, reply)
	if !known {
		reply(cellio.Comm{Kind: cellio.CommClose, ID: m.ID})
		return nil
	}
	if work == nil {
		return nil
	}
	return func(ctx context.Context) *cellio.Error { return s.runWork(ctx, out, work) }
}

// Comms lists the open comms of target (all of them when target is empty).
func (s *Session) Comms(target string) map[string]string { return cellrt.Comms(target) }

// runWork runs the callbacks of a comm message as a cell runs: after any running
// cell, with out as its output, interruptible by cancelling ctx. It goes through
// the interpreter (GocvxWork calls gocvxrt.Work, which calls work) so that an
// interrupt or the guard stops interpreted callbacks as they stop a cell.
func (s *Session) runWork(ctx context.Context, out cellio.Output, work func()) *cellio.Error {
	s.execMu.Lock()
	defer s.execMu.Unlock()
	if s.closed {
		return &cellio.Error{Name: "SessionClosed", Value: "the session is closed", Traceback: []string{"the session is closed"}}
	}
	defer s.enterCell(cellio.Cell{Output: out})()
	s.work = work
	defer func() { s.work = nil }()
	if _, err := s.run(ctx, workFunc, true, 0); err != nil {
		return s.toError(err)
	}
	return nil
}

// rtWork is gocvxrt.Work: it calls the callbacks runWork runs.
func (s *Session) rtWork() {
	if s.work != nil {
		s.work()
	}
}

// callbackPanic reports the panic of a callback that the cell-facing package
// recovered (cellrt.ReportPanic), with its traceback, on standard error of the
// output the callback writes to.
func (s *Session) callbackPanic(r any) {
	name, value := panicName(r)
	var b strings.Builder
	fmt.Fprintf(&b, "%s in a callback: %s\n", name, value)
	for _, f := range s.formatFrames(s.trace.take(), "", 0, panicKind(r)) {
		b.WriteString(f)
		b.WriteString("\n")
	}
	s.syncOutput()
	s.streams.write(stderrStream, []byte(b.String()))
}
