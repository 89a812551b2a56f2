package interp

import (
	"context"
	"fmt"
	"io"
	"math"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/display"
	"github.com/gocvx/gocvx/internal/cellrt"
	"github.com/gocvx/gocvx/interp/internal/rt"
)

// rtPath is the import path of the helpers that generated cell code calls.
const rtPath = "gocvx.internal/gocvxrt"

type rtMethods = rt.Methods

// render is how a cell's value becomes its execute_result.
var render = display.Render

// rtInterfaces are the packages of the interfaces that the API of rtSymbols
// reaches (see package ifaces; TestRTInterfaces checks it), which an
// interpreter takes with gocvxrt: given here, since walking its types at run
// time took half a millisecond of every kernel's start.
var rtInterfaces = []string{"context", "fmt", "io"}

// rtSymbols returns the helpers, bound to the session.
func (s *Session) rtSymbols() map[string]reflect.Value {
	return map[string]reflect.Value{
		"Run":        reflect.ValueOf(s.rtRun),
		"Result":     reflect.ValueOf(s.rtResult),
		"ResultN":    reflect.ValueOf(s.rtResultN),
		"ResultRich": reflect.ValueOf(s.rtResultRich),
		"Methods":    reflect.ValueOf((*rtMethods)(nil)),
		"Context":    reflect.ValueOf(func() context.Context { return rt.Live }),
		"Bundle":     reflect.ValueOf(richBundle),
		"BundleType": reflect.ValueOf((*cellio.Bundle)(nil)),
		"AsError":    reflect.ValueOf(func(err error) error { return err }),
		"AsStringer": reflect.ValueOf(func(s fmt.Stringer) fmt.Stringer { return s }),
		"Print":      reflect.ValueOf(func(a ...any) { fmt.Fprint(s.stderr, a...) }),
		"Println":    reflect.ValueOf(func(a ...any) { fmt.Fprintln(s.stderr, a...) }),
		"Sleep":      reflect.ValueOf(s.sleep),
		"GoPanic":    reflect.ValueOf(s.goPanic),
		"Frame":      reflect.ValueOf(s.rtFrame),
		"At":         reflect.ValueOf(s.rtAt),
		"Begin":      reflect.ValueOf(s.rtBegin),
		"Stdin":      reflect.ValueOf(io.Reader(s.stdin)),
		"Stdout":     reflect.ValueOf(&rt.Stream{W: s.stdout}),
		"Stderr":     reflect.ValueOf(&rt.Stream{W: s.stderr}),
		"MakeLen":    reflect.ValueOf(s.makeLen),
		"Guard":      reflect.ValueOf(s.guardFunc),
		"GuardB":     reflect.ValueOf(s.guardBench),
		"Hold":       reflect.ValueOf(s.hold),
		"Work":       reflect.ValueOf(s.rtWork),
		"Active":     reflect.ValueOf(s.active),
	}
}

// rtRun calls the cell function f unless the cell was interrupted before it
// started, and records its panic.
func (s *Session) rtRun(f func()) {
	rs := &s.runState
	rs.mu.Lock()
	if rs.canceled {
		rs.mu.Unlock()
		return
	}
	rs.entered = true
	left, gen := rs.left, rs.gen
	rs.mu.Unlock()
	defer close(left)
	defer s.active()()
	defer func() {
		if r := recover(); r != nil {
			rs.mu.Lock()
			// Not a cell abandoned after an interrupt, nor a panic that the
			// stop caused (a channel receive woken by the stop leaves the
			// wrong type in its result).
			if rs.gen == gen && !s.isStopped() {
				rs.panicked, rs.stack = r, debug.Stack()
			}
			rs.mu.Unlock()
		}
	}()
	f()
}

// isStopped reports whether the interpreter is stopped (see settle).
func (s *Session) isStopped() bool {
	ctl := s.ctl.Load()
	if ctl == nil {
		return false
	}
	raised, _, _ := ctl.stopState()
	return raised
}

func (s *Session) setResult(b cellio.Bundle) {
	rs := &s.runState
	rs.mu.Lock()
	rs.result = &b
	rs.mu.Unlock()
}

// rtResult records the cell's value; a nil interface (a nil error, most often)
// is no value to show, as Python does not show None.
func (s *Session) rtResult(v any) {
	if v == nil {
		return
	}
	s.setResult(render(v))
}

func (s *Session) rtResultN(vs ...any) {
	text := ""
	for i, v := range vs {
		if i > 0 {
			text += " "
		}
		text += fmt.Sprint(render(v).Data["text/plain"])
	}
	s.setResult(cellio.Bundle{Data: map[string]any{"text/plain": text}, Metadata: map[string]any{}})
}

func (s *Session) rtResultRich(v any, m rtMethods) { s.setResult(richBundle(v, m)) }

// richBundle builds the bundle of a cell-typed value from its own methods.
func richBundle(v any, m rtMethods) cellio.Bundle {
	if m.Render != nil {
		return m.Render()
	}
	b := cellio.Bundle{Data: map[string]any{}, Metadata: map[string]any{}}
	if m.Data != nil {
		for k, x := range m.Data() {
			b.Data[k] = x
		}
	}
	set := func(mime string, f func() string) {
		if f != nil {
			b.Data[mime] = f()
		}
	}
	set("text/html", m.HTML)
	set("text/markdown", m.Markdown)
	set("text/latex", m.LaTeX)
	set("image/svg+xml", m.SVG)
	if m.PNG != nil {
		b.Data["image/png"] = m.PNG()
	}
	if m.JPEG != nil {
		b.Data["image/jpeg"] = m.JPEG()
	}
	switch {
	case m.String != nil:
		b.Data["text/plain"] = m.String()
	case m.Error != nil:
		b.Data["text/plain"] = m.Error()
	}
	if _, ok := b.Data["text/plain"]; !ok {
		b.Data["text/plain"] = fmt.Sprint(render(v).Data["text/plain"])
	}
	// Let display encode what needs encoding (PNG bytes to base64).
	return render(b)
}

// sleep is time.Sleep for cells: it returns early when the running cell is
// interrupted, or the interpreter stopped (an interrupt of a later cell, the
// guard): the interpreter then stops the cell or goroutine that slept.
func (s *Session) sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	stopped := s.stopped()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-cellrt.Context().Done():
	case <-stopped:
	}
}

// goPanic reports a panic of a goroutine that a cell started: to the running
// cell's standard error, or, when no cell runs, to the next cell's.
func (s *Session) goPanic(cell int, lit int64, r any) {
	name, value := panicName(r)
	var b strings.Builder
	origin := s.cellName(cell)
	fmt.Fprintf(&b, "%s in a goroutine started by %s: %s\n", name, origin, value)
	for _, f := range s.formatFrames(s.trace.take(), "", lit, panicKind(r)) {
		b.WriteString(f)
		b.WriteString("\n")
	}
	s.streams.write(stderrStream, []byte(b.String()))
}

// rtAt records the statement of the cell that runs, at (see encodeAt), before
// every statement of a cell function but its first, whose position run sets.
// The statements of a cell that was abandoned after an interrupt stop here, when
// the compiled call that blocked it returns: the goroutine ends (its deferred
// calls run).
func (s *Session) rtAt(at int64) {
	line, col := decodeAt(at)
	rs := &s.runState
	rs.mu.Lock()
	if rs.abandoned[line/lineBase] {
		rs.mu.Unlock()
		runtime.Goexit()
	}
	rs.atLine, rs.atCol = line, col
	rs.mu.Unlock()
}

// rtBegin is rtAt for the first statement of a cell function, whose position
// run has recorded. It is called before a first statement that calls
// something: one that may block in compiled code until the cell is abandoned.
// Its lock orders what the cell's goroutine did until then (yaegi reads the
// interpreter's global frame as it calls the cell function) before what later
// cells do while the abandoned goroutine stays blocked.
func (s *Session) rtBegin() {
	rs := &s.runState
	rs.mu.Lock()
	abandoned := rs.abandoned[rs.atLine/lineBase]
	rs.mu.Unlock()
	if abandoned {
		runtime.Goexit()
	}
}

// encodeAt encodes the position of a statement in the interpreter's numbering
// (line id·lineBase + l, byte column c) as one integer, line·2³² + c, so that a
// call of rtAt has a single argument: yaegi compiles each untyped constant
// argument of a call of compiled code into some fifty allocations.
func encodeAt(line, col int) int64 { return int64(line)<<32 | int64(col) }

func decodeAt(at int64) (line, col int) { return int(at >> 32), int(at & (1<<32 - 1)) }

// makeLen returns n, the length or capacity of a make of elements of size
// bytes, unless the make would allocate more than the memory ceiling: then it
// panics with a MemoryError (see rewriteMake).
func (s *Session) makeLen(n, size int64) int64 {
	if s.limit > 0 && n > 0 && n > s.limit/size {
		total := int64(math.MaxInt64)
		if n <= math.MaxInt64/size {
			total = n * size
		}
		panic(memoryError{size: total, limit: s.limit})
	}
	return n
}

// guardFunc wraps a function of the cell that compiled code calls on a
// goroutine of its own (time.AfterFunc): its panic is reported like the panic
// of a go statement instead of ending the process.
func (s *Session) guardFunc(cell int, f func()) func() {
	if f == nil {
		return nil
	}
	return func() {
		defer s.active()()
		defer func() {
			if r := recover(); r != nil && !s.isStopped() {
				s.goPanic(cell, 0, r)
			}
		}()
		f()
	}
}

// guardBench is guardFunc for testing.Benchmark, which runs the benchmark
// function on goroutines of its own.
func (s *Session) guardBench(cell int, f func(*testing.B)) func(*testing.B) {
	if f == nil {
		return nil
	}
	return func(b *testing.B) {
		defer s.active()()
		defer func() {
			if r := recover(); r != nil && !s.isStopped() {
				s.goPanic(cell, 0, r)
			}
		}()
		f(b)
	}
}

// hold counts a call of compiled code that takes a context while it runs (see
// holdContextCall): it returns the function that ends the count.
func (s *Session) hold() func() {
	s.held.Add(1)
	var once sync.Once
	return func() { once.Do(func() { s.held.Add(-1) }) }
}
