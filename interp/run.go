package interp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	yaegi "github.com/traefik/yaegi/interp"

	"github.com/gocvx/gocvx/cellio"
)

// Running a cell function: run calls it in the interpreter on a goroutine of its
// own, waits for its end (or for an interrupt, the guard, the abandon timeout) and
// turns what happened into a result or an error (see traceback.go).

var errInterrupted = errors.New("interrupted")

// errGoexit is a cell that called runtime.Goexit.
var errGoexit = errors.New("runtime.Goexit was called: the cell stopped there; the kernel keeps running")

// errAbandoned is an interrupted cell that did not stop within abandonAfter.
var errAbandoned = fmt.Errorf("%w, and abandoned", errInterrupted)

// abandonAfter is how long an interrupted cell has to stop before the kernel
// takes the next cell without it, unless a compiled call that takes a context
// runs (those are waited for): a child process stops within its own handling
// of the signal, interpreted code at once.
const abandonAfter = 3 * time.Second

// holdPoll is how often an interrupted cell waiting for a compiled call that
// takes a context checks whether that call returned.
const holdPoll = 10 * time.Millisecond

// The interpreter's names of the function that runs a cell's statements and of
// the one that replays an earlier cell: each cell redefines the same function,
// so that the code of the cells that ran can be collected.
const (
	runFunc    = "GocvxCell"
	replayFunc = "GocvxReplay"
	initFunc   = "GocvxInit" // assigns the functions of the cells after a rebuild
)

// runState is the cell function in flight: compiled code (gocvxrt.Run) marks when
// it is entered and left, so that an interrupt can wait for the real end.
type runState struct {
	mu        sync.Mutex
	entered   bool
	canceled  bool
	left      chan struct{}
	panicked  any
	stack     []byte
	gen       int                // counts runs, so that an abandoned one changes nothing
	abandoned map[int]bool       // serial numbers of the cells abandoned (see rtAt)
	cellDone  <-chan struct{}    // the running cell's context is done
	active    bool               // run is running a cell function
	stopped   error              // why the guard stopped it (errOverflow, memoryError)
	interrupt context.CancelFunc // cancels the running cell's context (cell.Context)
	atLine    int                // the cell's statement that runs (see rtAt)
	atCol     int
	result    *cellio.Bundle
}

// run calls the cell function name in the interpreter and waits for its end
// (at is the position of its first statement, see compiled.at, or 0):
// compile the call (callProgram), reset the run state (begin), execute it on a
// goroutine of its own (start), wait until the cell function has really
// returned or is abandoned (waitForEnd), and turn what happened into the
// cell's result or error (outcome).
func (s *Session) run(ctx context.Context, name string, live bool, at int64) (*cellio.Bundle, error) {
	prog, err := s.callProgram(name)
	if err != nil {
		return nil, err
	}
	return s.runProgram(ctx, prog, live, at)
}

// runProgram is run with the call compiled: prog, a program of callProgram,
// which may run more than once (cellcache.go).
func (s *Session) runProgram(ctx context.Context, prog *yaegi.Program, live bool, at int64) (*cellio.Bundle, error) {
	left, cellDone := s.begin(live, at)
	defer func() {
		rs := &s.runState
		rs.mu.Lock()
		rs.active = false
		rs.mu.Unlock()
	}()
	if s.guard != nil {
		s.guard.begin()
	}
	s.trace.take()

	s.settle()
	ctl := s.ctl.Load()
	execDone, execOver := s.start(ctx, prog, ctl)
	var execErr error
	finished := false
	select {
	case execErr = <-execDone:
		finished = true
	case <-cellDone:
		// The guard stopped the interpreter and cancelled the cell's context.
	case <-ctx.Done():
		s.stopInterp(ctl)
		rs := &s.runState
		rs.mu.Lock()
		interrupt := rs.interrupt
		rs.mu.Unlock()
		if interrupt != nil {
			interrupt()
		}
		execErr = ctx.Err()
	}
	abandoned := s.waitForEnd(ctx, finished, ctl != nil, left, execOver)
	if abandoned {
		s.abandon()
	}
	s.settle()
	s.syncOutput()
	return s.outcome(ctx, execErr, abandoned)
}

// callProgram compiles the call of the cell function name. It goes through an
// interpreted function (GocvxRun): a call of a compiled one at top level would
// take a slot of the interpreter's global frame per run.
func (s *Session) callProgram(name string) (p *yaegi.Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &compileError{[]string{s.yaegiMessage(fmt.Errorf("%v", r))}}
		}
	}()
	defer releaseTrees(s.yi)
	call := s.ycalls[name]
	if call == nil {
		return nil, fmt.Errorf("interp: no call of %s", name)
	}
	p, err = s.yi.CompileAST(call)
	if err != nil {
		return nil, &compileError{[]string{s.yaegiMessage(err)}}
	}
	return p, nil
}

// begin resets the run state for a new run, whose first statement is at at
// (see rtAt), and returns the channel that
// gocvxrt.Run closes when the cell function has returned, and, for a live cell
// (not a replay), the done channel of the cell's context, which the guard
// closes when it stops the cell.
func (s *Session) begin(live bool, at int64) (left chan struct{}, cellDone <-chan struct{}) {
	rs := &s.runState
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.entered, rs.canceled, rs.left, rs.panicked, rs.stack, rs.result = false, false, make(chan struct{}), nil, nil, nil
	rs.atLine, rs.atCol = decodeAt(at)
	rs.stopped, rs.active = nil, true
	rs.gen++
	if live {
		cellDone = rs.cellDone
	}
	return rs.left, cellDone
}

// start executes prog on a goroutine of the session's workers (worker.go), not
// the caller's. execDone receives the
// interpreter's error (errGoexit for runtime.Goexit, the value of a panic that
// escaped the interpreter); execOver is closed after it was sent.
func (s *Session) start(ctx context.Context, prog *yaegi.Program, ctl *control) (execDone chan error, execOver chan struct{}) {
	execDone = make(chan error, 1)
	execOver = make(chan struct{})
	if ctl != nil {
		ctl.arm()
	}
	s.workers.run(func() {
		defer close(execOver)
		returned := false
		defer func() {
			switch r := recover(); {
			case r != nil:
				execDone <- fmt.Errorf("%v", r)
			case !returned: // runtime.Goexit
				execDone <- errGoexit
			}
		}()
		var err error
		if ctl != nil {
			_, err = s.yi.Execute(prog)
		} else {
			_, err = s.yi.ExecuteWithContext(ctx, prog)
		}
		returned = true
		execDone <- err
	})
	return execDone, execOver
}

// waitForEnd waits until the cell function has really returned, and the
// interpreter with it, so that nothing of the cell runs on while the next one
// does: interpreted code stops at once, the solver at its next iteration. While
// a call of compiled code that takes a context runs (the solver, counted by
// gocvxrt.Hold), the wait has no limit: such a call is trusted to return once
// its context is cancelled, and the next cell must not run beside it.
// Otherwise a cell that does not return within abandonAfter, blocked in
// compiled code (a lock taken twice, a WaitGroup that nobody releases) or
// computing there without a context, is abandoned: the call goes on in the
// background, and the interpreted code around it stops as soon as it returns
// (the interpreter's run id has changed). It reports whether the cell was
// abandoned.
func (s *Session) waitForEnd(ctx context.Context, finished, controlled bool, left, execOver <-chan struct{}) (abandoned bool) {
	rs := &s.runState
	rs.mu.Lock()
	if ctx.Err() != nil {
		rs.canceled = true
	}
	entered := rs.entered
	rs.mu.Unlock()
	var grace *time.Timer
	if !finished {
		grace = time.NewTimer(s.abandonAfter)
		defer grace.Stop()
	}
	// held: the last look found a held call, so the grace timer polls
	// (holdPoll). It outlives one wait: the cell function can be seen to have
	// returned (left) before the interpreter's evaluation (execOver) ends, while
	// the timer still polls for a call that has just returned, and that call's
	// end must give the rest of the evaluation abandonAfter again, not count as
	// a grace period that ran out.
	held := false
	wait := func(ready <-chan struct{}) (ok bool) {
		if grace == nil {
			<-ready
			return true
		}
		for {
			select {
			case <-ready:
				return true
			case <-grace.C:
				switch {
				case s.held.Load() > 0:
					held = true
					grace.Reset(holdPoll)
				case held:
					// The call returned: what follows it has abandonAfter again.
					held = false
					grace.Reset(s.abandonAfter)
				default:
					return false
				}
			}
		}
	}
	if entered {
		abandoned = !wait(left)
	}
	if controlled && !finished && !abandoned {
		abandoned = !wait(execOver)
	}
	return abandoned
}

// abandon records that the cell whose statement ran last was abandoned: its
// code stops before its next statement (see rtAt), once its compiled call
// returns. It is called before settle revives the interpreter, so that the
// cell cannot get there first.
func (s *Session) abandon() {
	rs := &s.runState
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.atLine <= 0 {
		return
	}
	if rs.abandoned == nil {
		rs.abandoned = map[int]bool{}
	}
	rs.abandoned[rs.atLine/lineBase] = true
}

// outcome is the result of a run that has ended: the cell's value, or why it
// failed (a panic with its frames, the guard, runtime.Goexit, an interrupt).
func (s *Session) outcome(ctx context.Context, execErr error, abandoned bool) (*cellio.Bundle, error) {
	rs := &s.runState
	rs.mu.Lock()
	panicked, stack, result, stopped := rs.panicked, rs.stack, rs.result, rs.stopped
	at := fmt.Sprintf("%d:%d", rs.atLine, rs.atCol)
	if rs.atLine == 0 {
		at = ""
	}
	rs.mu.Unlock()
	frames := s.trace.take()
	switch {
	case errors.Is(stopped, errOverflow):
		return nil, &cellPanic{value: runtimeError{errOverflow.Error()}, at: at, stopped: true}
	case stopped != nil:
		return nil, &cellPanic{value: stopped, at: at, stopped: true}
	case panicked != nil:
		return nil, &cellPanic{value: panicked, frames: frames, stack: stack, at: at}
	case errors.Is(execErr, errGoexit):
		return nil, &cellPanic{value: errGoexit, at: at}
	case abandoned && ctx.Err() != nil:
		return nil, errAbandoned
	case ctx.Err() != nil:
		return nil, errInterrupted
	case execErr != nil && !errors.Is(execErr, context.Canceled):
		return nil, &cellPanic{value: execErr, frames: frames, at: at}
	}
	return result, nil
}

// setInterrupt sets the function that cancels the running cell's context,
// and the context's done channel.
func (s *Session) setInterrupt(f context.CancelFunc, done <-chan struct{}) {
	rs := &s.runState
	rs.mu.Lock()
	rs.interrupt, rs.cellDone = f, done
	rs.mu.Unlock()
}
