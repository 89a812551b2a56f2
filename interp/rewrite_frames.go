package interp

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"slices"
)

// Frame positions, for exact tracebacks. yaegi reports, for each interpreted
// frame a panic unwinds, only the function (its position is the function's first
// node; see traceback.go). So every function of a cell keeps the position of the
// statement it runs in a local variable, and hands it to the session when it
// returns, normally or by a panic (a deferred gocvxrt.Frame, run just before
// yaegi writes the frame's line): the frame's statement, from which the traceback
// takes the call in progress or the panicking call.
//
// In every function body (the cell's own, functions, methods, function
// literals), nested at depth d:
//
//   - the body starts with "var gocvxL<d> int; defer gocvxrt.Frame(&gocvxL<d>)",
//     or "gocvxL<d> := <position>; defer gocvxrt.Frame(&gocvxL<d>)" when its
//     first statement sets its position (see firstWrite);
//   - each statement is preceded by "gocvxL<d> = <position>"; a statement that
//     ends a loop iteration (the end of the loop's body, a continue) sets the
//     loop's position, where the loop's condition and post statement run next;
//   - a function without results sets the position of its closing brace at its
//     end, where its deferred calls run when it returns there (Go's traceback
//     names that line); a return statement has its own position;
//   - each defer statement is followed by "defer gocvxrt.Frame(&gocvxL<d>)",
//     which records the frame's position where its deferred calls run: yaegi
//     writes no line for a frame whose deferred call panics.
//
// Only what can be on a panic's stack pays for it: a statement gets its position
// when it can fail or calls something (canFail), a function its variable and its
// deferred call when one of its statements does (so a leaf that only computes,
// such as func sq(x int) int { return x * x }, costs nothing more; nor does
// a cell's own body of that kind, see bodyText), and the
// positions where deferred calls run are set only in functions that defer. That
// costs a local variable and a deferred call per call of such a function, and an
// assignment per such statement (BenchmarkCallsInCell, BenchmarkLoopInCell).

// frameVar names the position variable of a function body nested at depth d.
func frameVar(d int) string { return fmt.Sprintf("gocvxL%d", d) }

// positionBits is how many low bits of an encoded position hold the column.
const positionBits = 12

// encodePosition encodes a cell position for the position variables: the line in
// the interpreter's numbering (id·lineBase + line) and the column.
func encodePosition(id, line, col int) int64 {
	return int64(id*lineBase+line)<<positionBits | int64(min(col, 1<<positionBits-1))
}

// decodePosition returns the cell serial number, line and column of an encoded
// position.
func decodePosition(v int64) (id, line, col int) {
	l := int(v >> positionBits)
	return l / lineBase, l % lineBase, int(v & (1<<positionBits - 1))
}

// position encodes the cell position of pos.
func (g *generator) position(pos token.Pos) int64 {
	l, c := g.pc.lineCol(g.off(pos))
	return encodePosition(g.pc.id, l, c)
}

// instrumentFrames adds the position edits of every function body of the cell.
// Writes before statements come first among the edits at their offset (they must
// precede an edit that replaces the statement's first token); the prologues
// come after the edits at the brace (a goroutine's guard must be registered
// before the frame's deferred call, to run after it).
func (g *generator) instrumentFrames() {
	f := &framer{g: g}
	f.block(g.pc.stmts, 0, 0, hasDefer(g.pc.stmts))
	// The cell function's prologue is bodyText's; its first statement is the
	// first that is not empty, a type or a constant (moved to package level).
	for _, s := range g.pc.stmts {
		if ds, ok := s.(*ast.DeclStmt); ok && ds.Decl.(*ast.GenDecl).Tok != token.VAR {
			continue
		}
		if _, ok := s.(*ast.EmptyStmt); !ok {
			g.frame0 = f.firstWrite(s, 0)
			break
		}
	}
	for _, fd := range g.pc.funcs {
		if fd.Body != nil {
			f.function(fd.Body, fd.Type.Results == nil || fd.Type.Results.NumFields() == 0, 0)
		}
	}
	g.edits = append(f.writes, g.edits...)
	g.edits = append(g.edits, f.prologues...)
}

// framer collects the edits of instrumentFrames.
type framer struct {
	g         *generator
	writes    []edit // before statements
	prologues []edit // at the start of function bodies
}

func (f *framer) write(off int, d int, pos int64) {
	f.writes = append(f.writes, edit{off, off, writeText(d, pos)})
}

func writeText(d int, pos int64) string { return fmt.Sprintf("%s = %d; ", frameVar(d), pos) }

// firstWrite removes the position write of depth d before s, the first
// statement of a function body, and returns its position (0 if there is none):
// the prologue sets it instead, as it declares the variable. yaegi compiles
// an assignment of a constant into some fifty allocations.
func (f *framer) firstWrite(s ast.Stmt, d int) int64 {
	off := f.g.off(s.Pos())
	for i, e := range f.writes {
		if e.start != off || e.end != off {
			continue
		}
		if pos := f.g.position(s.Pos()); e.text == writeText(d, pos) {
			f.writes = slices.Delete(f.writes, i, i+1)
			return pos
		}
	}
	return 0
}

// prologue returns the start of a function body at depth d whose first
// statement is at first (firstWrite), or 0.
func prologue(d int, first int64) string {
	v := frameVar(d)
	if first != 0 {
		return fmt.Sprintf("%s := %d; defer gocvxrt.Frame(&%s)", v, first, v)
	}
	return fmt.Sprintf("var %s int; defer gocvxrt.Frame(&%s)", v, v)
}

// writeEnd sets the position before the closing brace at off, after the block's
// last statement, which may end on the same line.
func (f *framer) writeEnd(off int, d int, pos int64) {
	f.writes = append(f.writes, edit{off, off, fmt.Sprintf("; %s = %d; ", frameVar(d), pos)})
}

// function instruments a function body at depth d; noResults says whether it
// can end at its closing brace.
func (f *framer) function(body *ast.BlockStmt, noResults bool, d int) {
	g := f.g
	if !g.bodyCanFail(body.List) {
		// No frame of it can be on a panic's stack; its literals may.
		for _, s := range body.List {
			f.literals(s, d)
		}
		return
	}
	defers := hasDefer(body.List)
	f.block(body.List, d, 0, defers)
	first := f.firstWrite(body.List[0], d)
	f.prologues = append(f.prologues, edit{g.off(body.Lbrace) + 1, g.off(body.Lbrace) + 1, " " + prologue(d, first) + "; "})
	if noResults && defers {
		f.writeEnd(g.off(body.Rbrace), d, g.position(body.Rbrace))
	}
}

// hasDefer reports whether the statements defer a call (not in function literals).
func hasDefer(list []ast.Stmt) bool {
	found := false
	for _, s := range list {
		ast.Inspect(s, func(n ast.Node) bool {
			switch n.(type) {
			case *ast.DeferStmt:
				found = true
			case *ast.FuncLit:
				return false
			}
			return !found
		})
	}
	return found
}

// bodyCanFail reports whether a statement of the list, or of its blocks, can
// fail or calls something (function literals apart).
func (g *generator) bodyCanFail(list []ast.Stmt) bool {
	found := false
	for _, s := range list {
		ast.Inspect(s, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				return false
			case ast.Stmt:
				if g.canFail(n) {
					found = true
				}
			}
			return !found
		})
	}
	return found
}

// canFail reports whether the statement s, at its own position (its blocks
// apart), calls something or can fail with a runtime error: an index, slice or
// type assertion, a dereference, an integer division or shift by a variable, a
// send, a comparison of interfaces, or a range over a function.
func (g *generator) canFail(s ast.Stmt) bool {
	switch s := s.(type) {
	case *ast.SendStmt:
		return true
	case *ast.SelectStmt:
		for _, c := range s.Body.List {
			if cc, ok := c.(*ast.CommClause); ok {
				if _, send := cc.Comm.(*ast.SendStmt); send {
					return true
				}
			}
		}
	case *ast.RangeStmt:
		if _, ok := g.info.TypeOf(s.X).Underlying().(*types.Signature); ok {
			return true
		}
	case *ast.AssignStmt:
		if (s.Tok == token.QUO_ASSIGN || s.Tok == token.REM_ASSIGN || s.Tok == token.SHL_ASSIGN || s.Tok == token.SHR_ASSIGN) && !g.isConst(s.Rhs[0]) {
			return true
		}
	}
	found := false
	statementParts(s, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.CallExpr, *ast.IndexExpr, *ast.IndexListExpr, *ast.SliceExpr, *ast.StarExpr, *ast.TypeAssertExpr:
			found = true
		case *ast.SelectorExpr:
			if t := g.info.TypeOf(n.X); t != nil {
				if _, ptr := t.Underlying().(*types.Pointer); ptr {
					found = true
				}
			}
		case *ast.BinaryExpr:
			switch n.Op {
			case token.QUO, token.REM, token.SHL, token.SHR:
				found = found || !g.isConst(n.Y)
			case token.EQL, token.NEQ:
				if t := g.info.TypeOf(n.X); t != nil && types.IsInterface(t) {
					found = true
				}
			}
		}
	})
	return found
}

// isConst reports whether e is a constant expression.
func (g *generator) isConst(e ast.Expr) bool {
	tv, ok := g.info.Types[e]
	return ok && tv.Value != nil
}

// block instruments the statements of a block of a function body at depth d;
// loop is the encoded position of the innermost enclosing loop whose header
// can fail (0 for none), which an unlabeled continue sets; defers says whether
// the function defers calls (its returns then set their positions).
func (f *framer) block(list []ast.Stmt, d int, loop int64, defers bool) {
	g := f.g
	for _, s := range list {
		switch s := s.(type) {
		case *ast.EmptyStmt:
			continue
		case *ast.CaseClause, *ast.CommClause:
			f.nested(s, d, loop, defers)
			continue
		case *ast.BranchStmt:
			if s.Tok == token.CONTINUE && s.Label == nil && loop != 0 {
				f.write(g.off(s.Pos()), d, loop)
			}
			continue
		case *ast.DeclStmt:
			if gd, ok := s.Decl.(*ast.GenDecl); ok && (gd.Tok == token.TYPE || gd.Tok == token.CONST) {
				continue // moved to package level at the cell's top level; runs nothing
			}
		case *ast.DeferStmt:
			g.late = append(g.late, edit{g.off(s.End()), g.off(s.End()), fmt.Sprintf("; defer gocvxrt.Frame(&%s)", frameVar(d))})
		case *ast.ReturnStmt:
			if defers {
				f.write(g.off(s.Pos()), d, g.position(s.Pos()))
				continue
			}
		}
		if g.canFail(s) {
			f.write(g.off(s.Pos()), d, g.position(s.Pos()))
		}
		f.nested(s, d, loop, defers)
	}
}

// nested instruments the blocks and function literals inside the statement s.
func (f *framer) nested(s ast.Stmt, d int, loop int64, defers bool) {
	ast.Inspect(s, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			f.function(n.Body, n.Type.Results == nil || n.Type.Results.NumFields() == 0, d+1)
			return false
		case *ast.ForStmt:
			f.loop(n, n.Body, d, defers)
			return false
		case *ast.RangeStmt:
			f.loop(n, n.Body, d, defers)
			return false
		case *ast.BlockStmt:
			f.block(n.List, d, loop, defers)
			return false
		case *ast.CaseClause:
			f.exprs(n.List, d)
			f.block(n.Body, d, loop, defers)
			return false
		case *ast.CommClause:
			if n.Comm != nil {
				f.nested(n.Comm, d, loop, defers)
			}
			f.block(n.Body, d, loop, defers)
			return false
		}
		return true
	})
}

// loop instruments a for or range statement: its header's function literals, and
// its body. When the header runs something that can fail after an iteration (a
// condition or post statement, an iterator function), the end of the body and
// its unlabeled continues set the loop's position again.
func (f *framer) loop(s ast.Stmt, body *ast.BlockStmt, d int, defers bool) {
	g := f.g
	again := false
	switch s := s.(type) {
	case *ast.ForStmt:
		for _, part := range []ast.Node{s.Init, s.Cond, s.Post} {
			if part != nil {
				f.literals(part, d)
			}
		}
		again = s.Cond != nil && g.canFail(&ast.ExprStmt{X: s.Cond}) || s.Post != nil && g.canFail(s.Post)
	case *ast.RangeStmt:
		f.literals(s.X, d)
		if _, overFunc := g.info.TypeOf(s.X).Underlying().(*types.Signature); overFunc {
			// The body becomes the yield function (rangeFunc): a frame of its
			// own, while the enclosing one stays at the range statement.
			g.pc.rangeBodies[g.off(body.Lbrace)] = true
			f.function(body, false, d+1)
			return
		}
	}
	pos := int64(0)
	if again {
		pos = g.position(s.Pos())
	}
	f.block(body.List, d, pos, defers)
	if again {
		f.writeEnd(g.off(body.Rbrace), d, pos)
	}
}

// exprs instruments the function literals of expressions.
func (f *framer) exprs(list []ast.Expr, d int) {
	for _, e := range list {
		f.literals(e, d)
	}
}

// literals instruments the function literals in n, which holds no statements of
// the function itself.
func (f *framer) literals(n ast.Node, d int) {
	ast.Inspect(n, func(m ast.Node) bool {
		if fl, ok := m.(*ast.FuncLit); ok {
			f.function(fl.Body, fl.Type.Results == nil || fl.Type.Results.NumFields() == 0, d+1)
			return false
		}
		return true
	})
}
