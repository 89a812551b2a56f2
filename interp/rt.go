package interp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gocvx/gocvx/display"
	"github.com/gocvx/gocvx/internal/cellrt"
	"github.com/gocvx/gocvx/interp/internal/rt"
)

// rtPath is the import path of the helpers that generated cell code calls.
const rtPath = "gocvx.internal/gocvxrt"

type rtMethods = rt.Methods

// render is how a cell's value becomes its execute_result.
var render = display.Render

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
		"BundleType": reflect.ValueOf((*display.Bundle)(nil)),
		"AsError":    reflect.ValueOf(func(err error) error { return err }),
		"AsStringer": reflect.ValueOf(func(s fmt.Stringer) fmt.Stringer { return s }),
		"Print":      reflect.ValueOf(func(a ...any) { fmt.Fprint(s.stderr, a...) }),
		"Println":    reflect.ValueOf(func(a ...any) { fmt.Fprintln(s.stderr, a...) }),
		"Sleep":      reflect.ValueOf(sleep),
		"GoPanic":    reflect.ValueOf(s.goPanic),
		"At":         reflect.ValueOf(s.rtAt),
		"Deep":       reflect.ValueOf(s.rtDeep),
		"Overflow":   reflect.ValueOf(func() error { return errOverflow }),
		"Stdin":      reflect.ValueOf(io.Reader(s.stdin)),
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
	left := rs.left
	rs.mu.Unlock()
	defer close(left)
	defer func() {
		if r := recover(); r != nil {
			rs.mu.Lock()
			rs.panicked, rs.stack = r, debug.Stack()
			rs.mu.Unlock()
		}
	}()
	f()
}

func (s *Session) setResult(b display.Bundle) {
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
	s.setResult(display.Bundle{Data: map[string]any{"text/plain": text}, Metadata: map[string]any{}})
}

func (s *Session) rtResultRich(v any, m rtMethods) { s.setResult(richBundle(v, m)) }

// richBundle builds the bundle of a cell-typed value from its own methods.
func richBundle(v any, m rtMethods) display.Bundle {
	if m.Render != nil {
		return m.Render()
	}
	b := display.Bundle{Data: map[string]any{}, Metadata: map[string]any{}}
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
// interrupted (the interpreter then stops the cell).
func sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-cellrt.Context().Done():
	}
}

// goPanic reports a panic of a goroutine that a cell started: to the running
// cell's standard error, or, when no cell runs, to the next cell's.
func (s *Session) goPanic(cell int, r any) {
	name, value := panicName(r)
	var b strings.Builder
	origin := s.cellName(cell)
	fmt.Fprintf(&b, "%s in a goroutine started by %s: %s\n", name, origin, value)
	for _, f := range s.formatFrames(s.frames(s.trace.take()), "") {
		b.WriteString(f)
		b.WriteString("\n")
	}
	s.streams.write(stderrStream, []byte(b.String()))
}

// rtAt records the statement of the cell that runs (encoded line, column).
func (s *Session) rtAt(line, col int) {
	rs := &s.runState
	rs.mu.Lock()
	rs.atLine, rs.atCol = line, col
	rs.mu.Unlock()
}

// maxStackBytes bounds the stack memory of the process when recursive cell
// functions run: Go ends the process when a goroutine's stack would grow past
// 1 GB (from 512 MB, stacks double), and an interpreted call takes about
// 1.6 KB of stack, so 256 MB is about 160 000 nested calls.
const maxStackBytes = 256 << 20

var (
	deepCalls  atomic.Uint64
	deepSample = []metrics.Sample{{Name: "/memory/classes/heap/stacks:bytes"}}
	deepMu     sync.Mutex
)

// deep reports whether goroutine stacks have grown too large. It is called at
// the entry of every recursive cell function and measures every 256th call.
func deep() bool {
	if deepCalls.Add(1)%256 != 0 {
		return false
	}
	deepMu.Lock()
	defer deepMu.Unlock()
	metrics.Read(deepSample)
	return deepSample[0].Value.Kind() == metrics.KindUint64 && deepSample[0].Value.Uint64() > maxStackBytes
}

var errOverflow = errors.New("stack overflow: the recursion used more than 256 MB of stack (stopped before Go's stack limit would end the kernel)")

// rtDeep is the guard of recursive cell functions. Past the limit it stops the
// interpreter, as an interrupt does: every frame then returns at once, where a
// panic would take minutes to unwind ten thousand interpreted frames (yaegi
// recovers and panics again in each). It returns true, asking the caller to
// panic, only when the interpreter cannot be stopped that way.
func (s *Session) rtDeep() bool {
	if !deep() {
		return false
	}
	rs := &s.runState
	rs.mu.Lock()
	already := rs.overflow
	rs.overflow = true
	rs.mu.Unlock()
	if already {
		return false
	}
	ctl := newControl(s.yi)
	if ctl == nil {
		return true
	}
	ctl.stop()
	if s.interrupt != nil {
		s.interrupt()
	}
	return false
}
