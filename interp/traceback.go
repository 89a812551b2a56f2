package interp

import (
	"errors"
	"fmt"
	"go/ast"
	"os"
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
	frames []string
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
	tb = append(tb, s.formatFrames(s.frames(p.frames), p.at)...)
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

// frame is one interpreted frame of a panic.
type frame struct {
	fn  string // yaegi's name of the function ("gocvxcells.get")
	pos string // cell position, or "" when yaegi reported none in a cell
}

// frames parses yaegi's panic lines ("700002:5: panic: gocvxcells.f(...)"),
// innermost first, keeping the frames of the cells' package.
func (s *Session) frames(lines []string) []frame {
	if os.Getenv("GOCVX_RAW") != "" {
		fmt.Println(strings.Join(lines, "\n"))
	}
	var out []frame
	for _, l := range lines {
		i := strings.Index(l, ": panic: ")
		if i < 0 {
			continue
		}
		fn := strings.TrimSuffix(l[i+len(": panic: "):], "(...)")
		pos, ok := s.cellPos(l[:i])
		if !ok {
			pos = ""
		}
		if !strings.HasPrefix(fn, cellPackage+".") && pos == "" {
			continue
		}
		out = append(out, frame{fn, pos})
	}
	return out
}

// formatFrames renders frames as traceback lines ("  lookup at Cell2:2:9").
// yaegi's positions come from the first node of the frame's function that
// runs the same kind of operation, so inside a function they may point at an
// earlier line; the outermost frame, the cell's, is exact (at, from rtAt).
func (s *Session) formatFrames(frames []frame, at string) []string {
	if at != "" {
		if pos, ok := s.cellPos(at); ok {
			cell := frame{fn: cellPackage + "." + cellFuncName(0), pos: pos}
			if n := len(frames); n > 0 && strings.HasPrefix(frames[n-1].fn, cellPackage+".GocvxCell") && !strings.HasSuffix(frames[n-1].fn, ".func") {
				frames[n-1] = cell
			} else {
				frames = append(frames, cell)
			}
		}
	}
	var kept []frame
	var names []string
	for _, f := range frames {
		if f.pos == "" {
			continue
		}
		name := s.funcAt(f.pos)
		// yaegi adds a line for the function at its own declaration (the
		// "func" keyword, which no call or panic can be at): not a frame.
		if n := len(names); n > 0 && names[n-1] == name && f.pos == s.declPos(name) {
			continue
		}
		kept = append(kept, f)
		names = append(names, name)
	}
	// A caller's frame is at its call of the callee when that call is the
	// only one in the caller (yaegi's own position may be an earlier call).
	for i := 1; i < len(kept); i++ {
		if pos, ok := s.callSite(names[i], names[i-1]); ok {
			kept[i].pos = pos
		}
	}
	var out []string
	for i, f := range kept {
		out = append(out, fmt.Sprintf("  %s at %s", names[i], f.pos))
	}
	return out
}

// declPos returns the position of the declaration of the function name (from
// funcAt) in its cell, or "".
func (s *Session) declPos(name string) string {
	s.mu.RLock()
	d := s.prog.decls[name]
	s.mu.RUnlock()
	if d == nil {
		return ""
	}
	l, c := d.cell.lineCol(d.cell.offset(d.node.Pos()))
	return fmt.Sprintf("%s:%d:%d", d.cell.name, l, c)
}

// callSite returns the position of the only call of callee (a name from
// funcAt: "f" or "T.m") in the declaration of caller.
func (s *Session) callSite(caller, callee string) (string, bool) {
	s.mu.RLock()
	d := s.prog.decls[caller]
	s.mu.RUnlock()
	if d == nil {
		return "", false
	}
	fd, ok := d.node.(*ast.FuncDecl)
	if !ok || fd.Body == nil {
		return "", false
	}
	name := callee
	if i := strings.LastIndexByte(callee, '.'); i >= 0 {
		name = callee[i+1:]
	}
	var found []ast.Node
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		switch f := ast.Unparen(call.Fun).(type) {
		case *ast.Ident:
			if f.Name == name {
				found = append(found, call)
			}
		case *ast.SelectorExpr:
			if f.Sel.Name == name {
				found = append(found, call)
			}
		}
		return true
	})
	if len(found) != 1 {
		return "", false
	}
	l, c := d.cell.lineCol(d.cell.offset(found[0].Pos()))
	return fmt.Sprintf("%s:%d:%d", d.cell.name, l, c), true
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

// funcAt names the function of the program containing a cell position
// ("Cell3:2:5"): a function or method declared by a cell, or the cell itself.
func (s *Session) funcAt(pos string) string {
	parts := strings.Split(pos, ":")
	if len(parts) != 3 {
		return ""
	}
	line, _ := strconv.Atoi(parts[1])
	col, _ := strconv.Atoi(parts[2])
	before := func(l1, c1, l2, c2 int) bool { return l1 < l2 || l1 == l2 && c1 <= c2 }
	s.mu.RLock()
	defer s.mu.RUnlock()
	best := ""
	for _, d := range s.prog.sortedDecls() {
		fd, ok := d.node.(*ast.FuncDecl)
		if !ok || d.cell.name != parts[0] {
			continue
		}
		l1, c1 := d.cell.lineCol(d.cell.offset(fd.Pos()))
		l2, c2 := d.cell.lineCol(d.cell.offset(fd.End()))
		if before(l1, c1, line, col) && before(line, col, l2, c2) {
			best = d.names[0]
		}
	}
	if best == "" {
		return parts[0]
	}
	return best
}
