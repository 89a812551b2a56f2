package interp

import (
	"fmt"
	"go/ast"
	"go/token"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// The frames of a traceback. While a panic unwinds, yaegi writes one line per
// interpreted frame, innermost first, naming the frame's function by the
// position of its first node (traceWriter collects them). Each frame, just
// before its line, recorded the position of the statement it ran (gocvxrt.Frame,
// see rewrite_frames.go) in the session's frameRing; the line is paired with the
// newest record of the same function. The statement then gives the exact place:
// for the innermost frame the panicking call (or, for a runtime error, the
// failing expression), for the others the call in progress. A frame whose
// deferred call panicked writes no line: the call of its caller that does not
// call the frame above it names it.

// frameRing keeps the latest positions that frames recorded when they returned
// (normally or by a panic), for the lines of a panic that follow them.
type frameRing struct {
	next  atomic.Uint64
	slots [128]atomic.Int64
}

func (r *frameRing) add(pos int64) {
	i := r.next.Add(1)
	r.slots[i%uint64(len(r.slots))].Store(pos)
}

// snapshot returns the recorded positions, newest first.
func (r *frameRing) snapshot() []int64 {
	n := r.next.Load()
	k := min(n, uint64(len(r.slots)))
	out := make([]int64, 0, k)
	for i := uint64(0); i < k; i++ {
		out = append(out, r.slots[(n-i)%uint64(len(r.slots))].Load())
	}
	return out
}

// rtFrame records the position of a returning frame (the value of its position
// variable).
func (s *Session) rtFrame(p *int) {
	if p != nil && *p != 0 {
		s.ring.add(int64(*p))
	}
}

// traceLine is a line yaegi wrote for a frame while a panic unwound, with the
// positions recorded until then, newest first.
type traceLine struct {
	text    string
	records []int64
}

// cellFunc is a function of a cell: the cell's own body (index 0), a declared
// function or method, or a function literal.
type cellFunc struct {
	name       string
	start, end int // offsets of its body, braces included (the whole cell for its body)
	parent     int // the enclosing function's index, -1 for the cell body
	hasDefer   bool
}

// cellIndex describes the functions and statements of a cell, for tracebacks.
type cellIndex struct {
	funcs []cellFunc
	decls map[string]int   // a declared function's name ("f", "T.m") → its index
	stmts map[int]ast.Stmt // a statement's offset → the statement
}

// index returns the functions and statements of the cell, built once.
func (pc *parsedCell) index() *cellIndex {
	pc.indexOnce.Do(func() { pc.idx = buildIndex(pc) })
	return pc.idx
}

func buildIndex(pc *parsedCell) *cellIndex {
	x := &cellIndex{decls: map[string]int{}, stmts: map[int]ast.Stmt{}}
	x.funcs = append(x.funcs, cellFunc{name: pc.name, start: 0, end: len(pc.code), parent: -1})
	literals := map[int]int{} // function index → literals counted in it
	ranges := map[int]int{}   // function index → range-over-function bodies counted in it
	var walk func(n ast.Node, fn int)
	addFunc := func(name string, body *ast.BlockStmt, parent int) int {
		x.funcs = append(x.funcs, cellFunc{name: name, start: pc.offset(body.Lbrace), end: pc.offset(body.Rbrace) + 1, parent: parent})
		return len(x.funcs) - 1
	}
	walk = func(n ast.Node, fn int) {
		ast.Inspect(n, func(m ast.Node) bool {
			switch m := m.(type) {
			case *ast.FuncLit:
				literals[fn]++
				name := fmt.Sprintf("%s.func%d", x.funcs[fn].name, literals[fn])
				if x.funcs[fn].parent >= 0 && strings.Contains(x.funcs[fn].name, ".func") {
					name = fmt.Sprintf("%s.%d", x.funcs[fn].name, literals[fn])
				}
				walk(m.Body, addFunc(name, m.Body, fn))
				return false
			case *ast.RangeStmt:
				if !pc.rangeBodies[pc.offset(m.Body.Lbrace)] {
					return true
				}
				// The body runs as a yield function, named as Go names it.
				ranges[fn]++
				walk(m.X, fn)
				walk(m.Body, addFunc(fmt.Sprintf("%s-range%d", x.funcs[fn].name, ranges[fn]), m.Body, fn))
				return false
			case *ast.BlockStmt:
				for _, s := range m.List {
					x.stmts[pc.offset(s.Pos())] = s
				}
			case *ast.CaseClause:
				for _, s := range m.Body {
					x.stmts[pc.offset(s.Pos())] = s
				}
			case *ast.CommClause:
				for _, s := range m.Body {
					x.stmts[pc.offset(s.Pos())] = s
				}
			case *ast.DeferStmt:
				x.funcs[fn].hasDefer = true
			}
			return true
		})
	}
	for _, s := range pc.stmts {
		x.stmts[pc.offset(s.Pos())] = s
		walk(s, 0)
	}
	for _, fd := range pc.funcs {
		if fd.Body == nil {
			continue
		}
		name := fd.Name.Name
		if r := receiverName(fd); r != "" {
			name = r + "." + name
		}
		i := addFunc(name, fd.Body, 0)
		x.decls[name] = i
		walk(fd.Body, i)
	}
	return x
}

// funcAt returns the index of the innermost function of the cell containing the
// offset.
func (x *cellIndex) funcAt(off int) int {
	best, size := 0, x.funcs[0].end+1
	for i, f := range x.funcs[1:] {
		if f.start <= off && off < f.end && f.end-f.start < size {
			best, size = i+1, f.end-f.start
		}
	}
	return best
}

// place is a resolved cell position: the cell, its function and, when known, the
// statement at it.
type place struct {
	pc        *parsedCell
	fn        int
	off       int
	line, col int
	stmt      ast.Stmt
}

// funcKey identifies a function of a cell.
type funcKey struct {
	cell, fn int
}

func (p place) key() funcKey { return funcKey{p.pc.id, p.fn} }

func (p place) name() string { return p.pc.index().funcs[p.fn].name }

func (p place) String() string { return fmt.Sprintf("%s:%d:%d", p.pc.name, p.line, p.col) }

// at returns the place of an offset of the same cell.
func (p place) at(off int) place {
	l, c := p.pc.lineCol(off)
	return place{pc: p.pc, fn: p.fn, off: off, line: l, col: c, stmt: p.stmt}
}

// cellByID returns the parsed cell with serial number id, if the session still
// has it.
func (s *Session) cellByID(id int) *parsedCell {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for pc := range s.parsed {
		if pc.id == id {
			return pc
		}
	}
	return nil
}

// placeOf resolves a cell position (serial number, line, column).
func (s *Session) placeOf(id, line, col int) (place, bool) {
	pc := s.cellByID(id)
	if pc == nil {
		return place{}, false
	}
	off := pc.offsetOf(line, col)
	if off < 0 {
		return place{}, false
	}
	x := pc.index()
	return place{pc: pc, fn: x.funcAt(off), off: off, line: line, col: col, stmt: x.stmts[off]}, true
}

// offsetOf returns the offset of a line and column of the cell, or -1.
func (pc *parsedCell) offsetOf(line, col int) int {
	l := 1
	for i := 0; i < len(pc.code); i++ {
		if l == line {
			if i+col-1 <= len(pc.code) {
				return i + col - 1
			}
			return -1
		}
		if pc.code[i] == '\n' {
			l++
		}
	}
	if l == line && col == 1 {
		return len(pc.code)
	}
	return -1
}

// traceFrame is a frame of a traceback being built.
type traceFrame struct {
	place place
	exact bool // place is the frame's recorded statement, not yaegi's first node
}

// formatFrames renders the frames of a panic as traceback lines ("  lookup at
// Cell2:3:9"), innermost first. at is the cell's statement that ran (rtAt, for
// the cell's own frame when no record names it); lit, if not 0, is a position in
// the body of a goroutine's function literal that recovered the panic (it has no
// line); kind is the runtime error's kind, for the innermost position.
func (s *Session) formatFrames(lines []traceLine, at string, lit int64, kind string) []string {
	if os.Getenv("GOCVX_RAW") != "" {
		for _, l := range lines {
			fmt.Fprintln(ProcessStderr(), l.text)
		}
	}
	var frames []traceFrame
	var last []int64 // the latest snapshot of records
	for _, l := range lines {
		last = l.records
		if f, ok := s.lineFrame(l); ok {
			frames = append(frames, f)
		}
	}
	if lit != 0 {
		last = s.ring.snapshot()
		id, line, col := decodePosition(lit)
		if p, ok := s.placeOf(id, line, col); ok {
			frames = append(frames, s.recorded(p, last))
		}
	}
	frames = s.withDeferring(frames, last)
	frames = s.withCellFrame(frames, at, last)
	var out []string
	for i, f := range frames {
		p := f.place
		if f.exact && p.stmt != nil {
			if i == 0 {
				p = innermost(p, kind)
			} else {
				p = callIn(p, frames[i-1].place)
			}
		}
		out = append(out, fmt.Sprintf("  %s at %s", p.name(), p))
	}
	return out
}

// lineFrame resolves a line of yaegi's traceback: its function, from the
// position of the function's first node, at the statement the function recorded.
func (s *Session) lineFrame(l traceLine) (traceFrame, bool) {
	i := strings.Index(l.text, ": panic: ")
	if i < 0 {
		return traceFrame{}, false
	}
	fn := strings.TrimSuffix(l.text[i+len(": panic: "):], "(...)")
	sm := yaegiPos.FindStringSubmatch(l.text[:i])
	var p place
	ok := false
	if sm != nil {
		line, _ := strconv.Atoi(sm[1])
		col, _ := strconv.Atoi(sm[2])
		p, ok = s.placeOf(line/lineBase, line%lineBase, col)
	}
	if !ok {
		if fn != cellPackage+"."+runFunc {
			return traceFrame{}, false
		}
		// The cell function, at a position of generated code: the cell's body,
		// named by its newest record.
		for _, r := range l.records {
			if q, ok := s.recordPlace(r); ok && q.fn == 0 {
				return traceFrame{place: q, exact: true}, true
			}
		}
		return traceFrame{}, false
	}
	return s.recorded(p, l.records), true
}

// recorded returns the frame of the function at p, at its newest record.
func (s *Session) recorded(p place, records []int64) traceFrame {
	for _, r := range records {
		if q, ok := s.recordPlace(r); ok && q.key() == p.key() {
			return traceFrame{place: q, exact: true}
		}
	}
	return traceFrame{place: p}
}

// recordPlace resolves a recorded position.
func (s *Session) recordPlace(r int64) (place, bool) {
	id, line, col := decodePosition(r)
	return s.placeOf(id, line, col)
}

// withDeferring adds the frames that ran a deferred call that panicked: yaegi
// writes no line for them. Such a frame sits between a frame and its caller
// when the caller's call in progress does not call the frame's function but a
// function with deferred calls; its position is where it was returning (the
// record its "defer gocvxrt.Frame" left before its deferred calls ran).
func (s *Session) withDeferring(frames []traceFrame, records []int64) []traceFrame {
	var out []traceFrame
	for i, f := range frames {
		out = append(out, f)
		if i+1 == len(frames) || !frames[i+1].exact || frames[i+1].place.stmt == nil {
			continue
		}
		caller := frames[i+1].place
		x := caller.pc.index()
		callee := -1
		for _, c := range calls(caller.stmt) {
			j, ok := x.decls[calleeName(c)]
			if !ok {
				continue
			}
			if j == f.place.fn && caller.pc == f.place.pc {
				callee = -1
				break
			}
			if callee < 0 && x.funcs[j].hasDefer {
				callee = j
			}
		}
		if callee < 0 {
			continue
		}
		p := place{pc: caller.pc, fn: callee}
		p = p.at(x.funcs[callee].end - 1)
		if r := s.recorded(p, records); r.exact {
			out = append(out, r)
		} else {
			out = append(out, traceFrame{place: p})
		}
	}
	return out
}

// withCellFrame makes the cell's own frame the last: yaegi writes no line for
// it when a deferred call of the cell panicked, and it may name generated code.
func (s *Session) withCellFrame(frames []traceFrame, at string, records []int64) []traceFrame {
	if n := len(frames); n > 0 && frames[n-1].place.fn == 0 {
		return frames
	}
	if at == "" {
		return frames
	}
	sm := yaegiPos.FindStringSubmatch(at)
	if sm == nil {
		return frames
	}
	line, _ := strconv.Atoi(sm[1])
	col, _ := strconv.Atoi(sm[2])
	p, ok := s.placeOf(line/lineBase, line%lineBase, col)
	if !ok {
		return frames
	}
	p.fn = 0
	return append(frames, s.recorded(p, records))
}

// innermost returns the place of the panic in the statement at p: its panic
// call, the expression that fails for a runtime error of that kind, or the only
// call (into compiled code) of the statement; else the statement.
func innermost(p place, kind string) place {
	cs := calls(p.stmt)
	for _, c := range cs {
		if id, ok := ast.Unparen(c.Fun).(*ast.Ident); ok && id.Name == "panic" {
			return p.at(p.pc.offset(c.Pos()))
		}
	}
	if e := failing(p.stmt, kind); e != nil {
		return p.at(p.pc.offset(e.Pos()))
	}
	if len(cs) == 1 {
		return p.at(p.pc.offset(cs[0].Pos()))
	}
	return p.at(p.pc.offset(p.stmt.Pos()))
}

// callIn returns the place of the call in progress in the statement at p, which
// called the function of callee: the call of that function, else the only call,
// else the first call of a function value (a literal held in a variable).
func callIn(p, callee place) place {
	cs := calls(p.stmt)
	x := callee.pc.index()
	want := x.funcs[callee.fn].name
	for _, c := range cs {
		if name := calleeName(c); name != "" && (name == want || strings.HasSuffix(want, "."+name) && strings.Count(want, ".") == 1) {
			return p.at(p.pc.offset(c.Pos()))
		}
		if fl, ok := ast.Unparen(c.Fun).(*ast.FuncLit); ok && callee.pc == p.pc && p.pc.offset(fl.Body.Lbrace) == x.funcs[callee.fn].start {
			return p.at(p.pc.offset(c.Pos()))
		}
	}
	if len(cs) == 1 {
		return p.at(p.pc.offset(cs[0].Pos()))
	}
	for _, c := range cs {
		if id, ok := ast.Unparen(c.Fun).(*ast.Ident); ok && id.Name != "panic" {
			if _, declared := p.pc.index().decls[id.Name]; !declared {
				return p.at(p.pc.offset(c.Pos()))
			}
		}
	}
	return p.at(p.pc.offset(p.stmt.Pos()))
}

// calleeName names what a call calls: "f" for f(…), "m" for x.m(…).
func calleeName(c *ast.CallExpr) string {
	switch f := ast.Unparen(c.Fun).(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	case *ast.IndexExpr: // an instantiation
		if id, ok := f.X.(*ast.Ident); ok {
			return id.Name
		}
	}
	return ""
}

// statementParts calls visit on the parts of the statement s that run at its
// position: everything but the statements of its blocks and the bodies of its
// function literals (those have positions of their own).
func statementParts(s ast.Stmt, visit func(ast.Node)) {
	clauses := map[*ast.BlockStmt]bool{}
	ast.Inspect(s, func(n ast.Node) bool {
		switch n := n.(type) {
		case nil:
			return false
		case *ast.FuncLit:
			visit(n)
			return false
		case *ast.SwitchStmt:
			clauses[n.Body] = true
		case *ast.TypeSwitchStmt:
			clauses[n.Body] = true
		case *ast.SelectStmt:
			clauses[n.Body] = true
		case *ast.BlockStmt:
			return clauses[n]
		case *ast.CaseClause:
			for _, e := range n.List {
				ast.Inspect(e, func(m ast.Node) bool {
					if m != nil {
						visit(m)
					}
					_, lit := m.(*ast.FuncLit)
					return !lit
				})
			}
			return false
		case *ast.CommClause:
			if n.Comm != nil {
				statementParts(n.Comm, visit)
			}
			return false
		}
		visit(n)
		return true
	})
}

// calls returns the calls of the statement s that run at its position, in
// source order.
func calls(s ast.Stmt) []*ast.CallExpr {
	var out []*ast.CallExpr
	statementParts(s, func(n ast.Node) {
		if c, ok := n.(*ast.CallExpr); ok {
			out = append(out, c)
		}
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pos() < out[j].Pos() })
	return out
}

// failing returns the only expression of the statement s that can fail with a
// runtime error of the kind, or nil.
func failing(s ast.Stmt, kind string) ast.Expr {
	var found []ast.Expr
	statementParts(s, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.IndexExpr:
			if kind == "index" || kind == "map" {
				found = append(found, n)
			}
		case *ast.SliceExpr:
			if kind == "index" {
				found = append(found, n)
			}
		case *ast.BinaryExpr:
			if kind == "divide" && (n.Op == token.QUO || n.Op == token.REM) {
				found = append(found, n)
			}
		case *ast.TypeAssertExpr:
			if kind == "assert" {
				found = append(found, n)
			}
		}
	})
	if len(found) == 1 {
		return found[0]
	}
	return nil
}

// panicKind classifies a runtime error for failing: "index" (index or slice
// bounds out of range), "map" (assignment to entry in nil map), "divide"
// (integer divide by zero), "assert" (interface conversion); "" otherwise.
func panicKind(v any) string {
	name, msg := panicName(v)
	if name != "runtime error" && !strings.HasPrefix(msg, "interface conversion") {
		return ""
	}
	switch {
	case strings.Contains(msg, "out of range"):
		return "index"
	case strings.Contains(msg, "nil map"):
		return "map"
	case strings.Contains(msg, "divide by zero"):
		return "divide"
	case strings.HasPrefix(msg, "interface conversion"):
		return "assert"
	}
	return ""
}

// frameIndexState is embedded in parsedCell: its index, built once.
type frameIndexState struct {
	indexOnce sync.Once
	idx       *cellIndex
}
