package cellrt

import (
	"fmt"
	"os"
	"sync"

	"github.com/gocvx/gocvx/cellio"
)

// Comms and callbacks: the cell-facing package widget opens comms and handles what
// the front end sends on them; the cell engine hands the front end's messages to it
// through Receive, and runs the work they leave as cells run, between cells. The
// engine also gives the callbacks the services below (Redirect, Here, ReportPanic,
// Epoch) through the output it enters for cells and attaches between them.

// CommHandler receives the front end's messages on one comm (or, for a target, the
// comm_open that opens one). It is called as the kernel receives the message, also
// while a cell runs, so it must not call cell code: it updates what the message
// changes, answers with reply (its messages have the front end's message as
// parent), and returns the work that calls cell code, which the engine runs between
// cells (nil: none).
type CommHandler func(m cellio.Comm, reply func(cellio.Comm)) (work func())

type openComm struct {
	target  string
	handler CommHandler
}

var (
	commMu  sync.Mutex
	comms   = map[string]openComm{}
	targets = map[string]CommHandler{}
)

// OpenComm registers the comm id on target, whose messages from the front end go
// to h. Cell code publishes the comm_open itself (PublishComm).
func OpenComm(id, target string, h CommHandler) {
	commMu.Lock()
	comms[id] = openComm{target, h}
	commMu.Unlock()
}

// CloseComm forgets the comm id.
func CloseComm(id string) {
	commMu.Lock()
	delete(comms, id)
	commMu.Unlock()
}

// RegisterTarget makes open receive the comm_open messages of the front end on
// target; open keeps the comm by calling OpenComm.
func RegisterTarget(target string, open CommHandler) {
	commMu.Lock()
	targets[target] = open
	commMu.Unlock()
}

// Receive hands a message of the front end to the handler of its comm, or for a
// comm_open to the handler of its target, and returns the work it leaves. known is
// false for a comm_open of a target nobody registered (the engine closes that
// comm). A comm_open of a comm that is already open (a front end attaching to a
// comm the kernel opened) and messages of unknown comms change nothing.
func Receive(m cellio.Comm, reply func(cellio.Comm)) (work func(), known bool) {
	commMu.Lock()
	c, open := comms[m.ID]
	target, hasTarget := targets[m.Target]
	if m.Kind == cellio.CommClose {
		delete(comms, m.ID)
	}
	commMu.Unlock()
	switch {
	case m.Kind == cellio.CommOpen && open:
		return nil, true
	case m.Kind == cellio.CommOpen && hasTarget:
		return target(m, reply), true
	case m.Kind == cellio.CommOpen:
		return nil, false
	case open:
		return c.handler(m, reply), true
	}
	return nil, true
}

// Comms lists the open comms of target, or all of them when target is empty:
// comm ID → target name.
func Comms(target string) map[string]string {
	commMu.Lock()
	defer commMu.Unlock()
	list := map[string]string{}
	for id, c := range comms {
		if target == "" || c.target == target {
			list[id] = c.target
		}
	}
	return list
}

// PublishComm sends a comm message of cell code to the front end, through the
// output of the session (the running cell's kernel request, or between cells the
// latest one). It reports false when there is no front end to send it to (no
// session, or one that does not carry comms, as in a plain Go program).
func PublishComm(m cellio.Comm) bool {
	if c, ok := Current().(cellio.CommOutput); ok {
		c.Comm(m)
		return true
	}
	return false
}

// Redirect makes out receive what is printed and displayed from now on (the text
// of fmt.Print and the like, display.Show), in place of the running cell's output,
// until restore is called; comm messages still go where PublishComm sends them.
// Outside a cell engine only displays are redirected.
func Redirect(out cellio.Output) (restore func()) {
	if r, ok := Current().(interface {
		Redirect(cellio.Output) (restore func())
	}); ok {
		return r.Redirect(out)
	}
	mu.Lock()
	prev := output
	r := &redirected{Output: out, comms: prev}
	output = r
	mu.Unlock()
	return func() {
		mu.Lock()
		if output == r {
			output = prev
		}
		mu.Unlock()
	}
}

// redirected is an output redirected outside a cell engine: comm messages still
// go where they went.
type redirected struct {
	cellio.Output
	comms cellio.Output
}

func (r *redirected) Comm(m cellio.Comm) {
	if c, ok := r.comms.(cellio.CommOutput); ok {
		c.Comm(m)
	}
}

// Here returns the output of the running cell itself, not redirected: later
// output sent there appears in that cell (the kernel publishes it with the cell's
// request as parent). It is nil while no cell runs.
func Here() cellio.Output {
	if h, ok := Current().(interface{ Here() cellio.Output }); ok {
		return h.Here()
	}
	return Current()
}

// ReportPanic reports the panic value r of a callback that was recovered: the
// engine writes it with its traceback to the standard error of the running code's
// output (redirected or not); outside an engine it goes to the process's standard
// error.
func ReportPanic(r any) {
	if p, ok := Current().(interface{ ReportPanic(any) }); ok {
		p.ReportPanic(r)
		return
	}
	fmt.Fprintf(os.Stderr, "panic in a callback: %v\n", r)
}

// Epoch counts the times the engine replaced its interpreter (a redefinition
// that replays the cells in a new one): interpreted functions of a replaced
// interpreter no longer run, so a callback registered in an earlier epoch is
// dead. (An interrupt or the guard stops what runs, not the functions.) It is
// 0 outside an engine.
func Epoch() uint64 {
	if e, ok := Current().(interface{ Epoch() uint64 }); ok {
		return e.Epoch()
	}
	return 0
}

// Stopped reports whether the engine is stopping what runs in its interpreter
// (an interrupt, the memory or stack guard): an interpreted callback that
// returned then was cut short. The engine stops the interpreter before it
// cancels Context, so a callback can return before Context is done. It is
// false outside an engine.
func Stopped() bool {
	if e, ok := Current().(interface{ Stopped() bool }); ok {
		return e.Stopped()
	}
	return false
}
