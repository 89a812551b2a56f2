package interp

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"

	yaegi "github.com/traefik/yaegi/interp"

	"github.com/gocvx/gocvx/cellio"
)

// Errors and tracebacks: how a failed cell becomes its cellio.Error. A compile
// error keeps the checker's or the interpreter's messages with cell positions; a
// panic is named as Go names it (panicName) and its frames come from the lines
// yaegi writes while the panic unwinds (traceWriter, output.go).

// yaegiPos matches a position in the interpreter's messages: "_.go:700003:5" or
// "700003:5" (yaegi drops its default file name).
var yaegiPos = regexp.MustCompile(`(?:_\.go:)?\b(\d+):(\d+)\b`)

// cellPos rewrites the interpreter's positions in text into cell positions
// ("Cell7:3:5"); ok reports whether text held one.
func (s *Session) cellPos(text string) (out string, ok bool) {
	out = yaegiPos.ReplaceAllStringFunc(text, func(m string) string {
		sm := yaegiPos.FindStringSubmatch(m)
		line, _ := strconv.Atoi(sm[1])
		s.mu.RLock()
		name, known := s.cellNames[line/lineBase]
		s.mu.RUnlock()
		if line < lineBase || !known {
			return m
		}
		ok = true
		return fmt.Sprintf("%s:%d:%s", name, line%lineBase, sm[2])
	})
	return out, ok
}

// yaegiMessage cleans an interpreter error for display.
func (s *Session) yaegiMessage(err error) string {
	msg, _ := s.cellPos(err.Error())
	return strings.ReplaceAll(msg, cellPackage+".", "")
}

// compileErr converts a parse or compile failure.
func compileErr(err error) *cellio.Error {
	var lines []string
	var ce *compileError
	switch {
	case errors.As(err, &ce):
		lines = ce.msgs
	default:
		if el, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range el.Unwrap() {
				lines = append(lines, e.Error())
			}
		}
		if lines == nil {
			for _, l := range strings.Split(err.Error(), "\n") {
				if strings.TrimSpace(l) != "" {
					lines = append(lines, l)
				}
			}
		}
	}
	if se, ok := err.(interface{ Len() int }); ok && se.Len() > 0 && len(lines) == 0 {
		lines = []string{err.Error()}
	}
	if len(lines) == 0 {
		lines = []string{err.Error()}
	}
	return &cellio.Error{Name: "CompileError", Value: strings.Join(lines, "\n"), Traceback: lines}
}

// cellPanic is a cell that panicked.
type cellPanic struct {
	value  any
	frames []traceLine
	stack  []byte
	at     string // the statement of the cell that ran, in yaegi's encoding
	// stopped: the guard stopped the cell (it did not panic by itself)
	stopped bool
	reset   string // what was done to free memory, for the message
}

func (p *cellPanic) Error() string { return fmt.Sprint(p.value) }

// toError converts a run failure into the cell's error.
func (s *Session) toError(err error) *cellio.Error {
	if errors.Is(err, errAbandoned) {
		msg := fmt.Sprintf("the cell was interrupted but did not stop within %v: it waits in compiled code that takes no context (a lock taken twice, a WaitGroup or a channel that nothing releases, a long computation); it was abandoned there: that call goes on in the background, nothing more of the cell runs when it returns, and the next cell starts now", s.abandonAfter)
		return &cellio.Error{Name: "Interrupted", Value: msg, Traceback: []string{"Interrupted: " + msg}}
	}
	if errors.Is(err, errInterrupted) {
		return &cellio.Error{Name: "Interrupted", Value: "the cell was interrupted", Traceback: []string{"Interrupted: the cell was interrupted"}}
	}
	var ce *compileError
	if errors.As(err, &ce) {
		return compileErr(err)
	}
	p, ok := err.(*cellPanic)
	if !ok {
		return &cellio.Error{Name: "Error", Value: err.Error(), Traceback: []string{err.Error()}}
	}
	name, value := panicName(p.value)
	if _, ok := p.value.(memoryError); ok && p.stopped {
		value = "the cell was stopped: " + value
		if p.reset != "" {
			value += "; " + p.reset
		}
	}
	tb := []string{name + ": " + value}
	tb = append(tb, s.formatFrames(p.frames, p.at, 0, panicKind(p.value))...)
	return &cellio.Error{Name: name, Value: value, Traceback: tb}
}

// panicName returns the ename and evalue of a panic value.
func panicName(v any) (string, string) {
	if rv, ok := v.(reflect.Value); ok {
		// yaegi panics with the reflect.Value of an interpreted panic value.
		if !rv.IsValid() || !rv.CanInterface() {
			return "panic", fmt.Sprint(v)
		}
		v = rv.Interface()
	}
	if v == errGoexit {
		return "Goexit", errGoexit.Error()
	}
	switch v := v.(type) {
	case exitPanic:
		return "Exit", fmt.Sprintf("os.Exit(%d) was called; the kernel keeps running", v.code)
	case memoryError:
		return "MemoryError", v.Error()
	case yaegi.Panic:
		return panicName(v.Value)
	case runtime.Error:
		return "runtime error", strings.TrimPrefix(v.Error(), "runtime error: ")
	case error:
		msg := v.Error()
		if strings.HasPrefix(msg, "reflect: ") || strings.HasPrefix(msg, "runtime error: ") {
			return "runtime error", goRuntimeMessage(msg)
		}
		return "panic", msg
	case string:
		if strings.HasPrefix(v, "reflect: ") {
			return "runtime error", goRuntimeMessage(v)
		}
		return "panic", v
	case fmt.Stringer:
		return "panic", v.String()
	}
	return "panic", fmt.Sprintf("%v", v)
}

// goRuntimeMessage words the interpreter's reflect panics as Go's runtime does.
func goRuntimeMessage(msg string) string {
	msg = strings.TrimPrefix(msg, "runtime error: ")
	switch msg {
	case "reflect: slice index out of range", "reflect: array index out of range", "reflect: string index out of range":
		return "index out of range"
	case "reflect: call of reflect.Value.Elem on zero Value", "reflect: call of reflect.Value.Field on zero Value",
		"reflect: call of reflect.Value.Set on zero Value":
		return "invalid memory address or nil pointer dereference"
	}
	return msg
}

// cellName returns the name of the cell with serial number id.
func (s *Session) cellName(id int) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if n, ok := s.cellNames[id]; ok {
		return n
	}
	return "a cell"
}
