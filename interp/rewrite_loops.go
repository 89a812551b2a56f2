package interp

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"
)

// Loop rewrites: per-iteration loop variables (Go 1.22) where closures, goroutines
// or addresses capture them, range over integers as counted loops, and range over
// functions as calls with a yield function literal.

// captures reports whether body may keep a reference to a loop variable beyond
// its iteration: a closure, a goroutine, a defer or an address.
func captures(body ast.Node) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit, *ast.GoStmt, *ast.DeferStmt:
			found = true
		case *ast.UnaryExpr:
			if n.Op == token.AND {
				found = true
			}
		}
		return !found
	})
	return found
}

// assigns reports whether body assigns to one of names.
func assigns(body ast.Node, names map[string]bool) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if n.Tok != token.DEFINE {
				for _, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok && names[id.Name] {
						found = true
					}
				}
			}
		case *ast.IncDecStmt:
			if id, ok := n.X.(*ast.Ident); ok && names[id.Name] {
				found = true
			}
		}
		return !found
	})
	return found
}

// copyLoopVars gives each iteration its own copy of the loop variables.
func (g *generator) copyLoopVars(body *ast.BlockStmt, names []string) {
	if len(names) == 0 || !captures(body) {
		return
	}
	// The original body becomes a nested block, where it may declare the same
	// names again (as code written for Go < 1.22 does: "i := i").
	list := strings.Join(names, ", ")
	g.insertAt(body.Lbrace+1, " "+list+" := "+list+"; {")
	g.insertAt(body.Rbrace, "}")
	g.deferLoopVars(body, names)
}

// deferLoopVars passes the loop variables that a deferred function literal
// uses as arguments: yaegi builds a deferred literal only when it runs, at
// the function's end, when the iteration's variables hold their last values;
// arguments are evaluated at the defer statement.
func (g *generator) deferLoopVars(body *ast.BlockStmt, names []string) {
	ast.Inspect(body, func(n ast.Node) bool {
		if _, ok := n.(*ast.FuncLit); ok {
			return false
		}
		ds, ok := n.(*ast.DeferStmt)
		if !ok {
			return true
		}
		fl, ok := ast.Unparen(ds.Call.Fun).(*ast.FuncLit)
		if !ok || ds.Call.Ellipsis.IsValid() {
			return false
		}
		var params, args []string
		for _, name := range names {
			var t types.Type
			ast.Inspect(fl.Body, func(m ast.Node) bool {
				if id, ok := m.(*ast.Ident); ok && id.Name == name && t == nil {
					if v, ok := g.info.Uses[id].(*types.Var); ok {
						t = v.Type()
					}
				}
				return t == nil
			})
			if t == nil {
				continue
			}
			ts, ok := g.yt(t)
			if !ok {
				return false
			}
			params = append(params, name+" "+ts)
			args = append(args, name)
		}
		if len(params) == 0 {
			return false
		}
		sep := ""
		if len(fl.Type.Params.List) > 0 {
			sep = ", "
		}
		g.insertAt(fl.Type.Params.Opening+1, strings.Join(params, ", ")+sep)
		sep = ""
		if len(ds.Call.Args) > 0 {
			sep = ", "
		}
		g.insertAt(ds.Call.Lparen+1, strings.Join(args, ", ")+sep)
		return false
	})
}

func identNames(exprs ...ast.Expr) []string {
	var out []string
	for _, e := range exprs {
		if id, ok := e.(*ast.Ident); ok && id.Name != "_" {
			out = append(out, id.Name)
		}
	}
	return out
}

func (g *generator) rewriteFor(fs *ast.ForStmt, parent ast.Node) {
	as, ok := fs.Init.(*ast.AssignStmt)
	if !ok || as.Tok != token.DEFINE {
		return
	}
	names := identNames(as.Lhs...)
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
	}
	if assigns(fs.Body, set) {
		label := ""
		if ls, ok := parent.(*ast.LabeledStmt); ok {
			label = ls.Label.Name
		}
		g.carryLoopVars(fs, names, label)
		return
	}
	g.copyLoopVars(fs.Body, names)
}

// carryLoopVars gives each iteration of a three-clause loop whose body assigns
// its variables (labelled label, or "") its own copy of them, as copyLoopVars
// does, and carries the copies' values back to the header's variables when the
// iteration ends or continues: in Go 1.22 the post statement works on a fresh
// copy of the previous iteration's values. For "for i := 0; i < n; i++":
//
//	{ p := &i; i := i; q := &i; { body, with "continue" → "{ *p = *q; continue }" }; *p = *q }
//
// (pointers, because the body may declare i again).
func (g *generator) carryLoopVars(fs *ast.ForStmt, names []string, label string) {
	if len(names) == 0 || !captures(fs.Body) {
		return
	}
	var pre, back []string
	for _, n := range names {
		p, q := g.temp("P"), g.temp("Q")
		pre = append(pre, fmt.Sprintf("%s := &%s; %s := %s; %s := &%s;", p, n, n, n, q, n))
		back = append(back, fmt.Sprintf("*%s = *%s", p, q))
	}
	carry := strings.Join(back, "; ")
	var walk func(n ast.Node, nested bool)
	walk = func(n ast.Node, nested bool) {
		ast.Inspect(n, func(m ast.Node) bool {
			switch m := m.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ForStmt:
				walk(m.Body, true)
				return false
			case *ast.RangeStmt:
				walk(m.Body, true)
				return false
			case *ast.BranchStmt:
				if m.Tok != token.CONTINUE {
					return false
				}
				mine := m.Label == nil && !nested || m.Label != nil && m.Label.Name == label
				if mine {
					g.replaceNode(m, "{ "+carry+"; "+g.pc.text(m.Pos(), m.End())+" }")
				}
				return false
			}
			return true
		})
	}
	walk(fs.Body, false)
	g.insertAt(fs.Body.Lbrace+1, " "+strings.Join(pre, " ")+" {")
	g.insertAt(fs.Body.Rbrace, "}; "+carry+" ")
	g.deferLoopVars(fs.Body, names)
}

func (g *generator) rewriteRange(rs *ast.RangeStmt, stack []ast.Node) {
	t := g.info.Types[rs.X].Type
	if t == nil {
		return
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		if u.Info()&types.IsInteger != 0 {
			g.rangeInt(rs, t)
			return
		}
	case *types.Signature:
		g.rangeFunc(rs, u, stack)
		return
	}
	if rs.Tok == token.DEFINE {
		g.copyLoopVars(rs.Body, identNames(rs.Key, rs.Value))
	}
}

// rangeInt turns "for i := range n" into a counted loop (n evaluated once).
func (g *generator) rangeInt(rs *ast.RangeStmt, t types.Type) {
	typ := "int"
	if b, ok := t.(*types.Basic); !ok || b.Info()&types.IsUntyped == 0 {
		var ok2 bool
		if typ, ok2 = g.yt(t); !ok2 {
			return
		}
	}
	n := g.temp("N")
	key := ""
	if id, ok := rs.Key.(*ast.Ident); ok && id.Name != "_" {
		key = id.Name
	}
	// Keep the text of n (with its own edits) between two replacements:
	// "for i := range n {" → "for i, N := T(0), T(n); i < N; i++ {".
	var pre, post string
	switch {
	case key != "" && rs.Tok == token.DEFINE:
		pre = fmt.Sprintf(" %s, %s := %s(0), %s(", key, n, typ, typ)
		post = fmt.Sprintf("); %s < %s; %s++ ", key, n, key)
	case key != "":
		// "for i = range n": n is evaluated at each iteration here.
		pre = fmt.Sprintf(" %s = 0; %s < %s(", key, key, typ)
		post = fmt.Sprintf("); %s++ ", key)
	default:
		i := g.temp("I")
		pre = fmt.Sprintf(" %s, %s := %s(0), %s(", i, n, typ, typ)
		post = fmt.Sprintf("); %s < %s; %s++ ", i, n, i)
	}
	g.add(g.off(rs.For+3), g.off(rs.X.Pos()), pre)
	g.add(g.off(rs.X.End()), g.off(rs.Body.Lbrace), post)
	if key != "" && rs.Tok == token.DEFINE {
		g.copyLoopVars(rs.Body, []string{key})
	}
}

// enclosingSignature returns the signature of the innermost function
// declaration or literal on the stack (the path from the root to the node
// being visited), or nil at a cell's top level and inside the body of a range
// loop over a function (which becomes a function literal itself); generic
// reports whether the code is inside a generic function declaration, whose
// type parameters it may then name.
func enclosingSignature(info *types.Info, stack []ast.Node) (sig *types.Signature, generic bool) {
	found := false
	for i := len(stack) - 2; i >= 0; i-- {
		switch n := stack[i].(type) {
		case *ast.FuncLit:
			if !found {
				sig, _ = info.TypeOf(n).(*types.Signature)
				found = true
			}
		case *ast.FuncDecl:
			obj := info.Defs[n.Name]
			if obj == nil {
				return nil, false
			}
			fs, _ := obj.Type().(*types.Signature)
			if fs == nil {
				return nil, false
			}
			if !found {
				sig = fs
			}
			generic = fs.TypeParams().Len() > 0 || fs.RecvTypeParams().Len() > 0
			return sig, generic
		case *ast.RangeStmt:
			if t := info.TypeOf(n.X); t != nil && !found {
				if _, isFunc := t.Underlying().(*types.Signature); isFunc {
					found = true // sig stays nil
				}
			}
		}
	}
	return sig, false
}

// rangeFunc turns "for k, v := range seq { body }" into seq(func(k K, v V)
// bool { body; return true }), with break and continue becoming returns.
// A return from the innermost function around the loop (stack is the path to it)
// stores its values, sets a flag and stops the iteration; the loop is followed
// by "if flag { return values }":
//
//	{ var ret bool; var r1 R1; seq(func(v V) bool { …; { r1 = x; ret = true; return false }; …; return true }); if ret { return r1 } }
//
// (a bare return copies the named results into r1…).
//
// Bodies that jump out with goto or a label, or return from inside a nested
// range over a function, are refused with a compile error.
func (g *generator) rangeFunc(rs *ast.RangeStmt, sig *types.Signature, stack []ast.Node) {
	encl, generic := enclosingSignature(g.info, stack)
	if sig.Params().Len() != 1 {
		return
	}
	yield, ok := sig.Params().At(0).Type().Underlying().(*types.Signature)
	if !ok || yield.Results().Len() != 1 {
		return
	}
	edits, returns, ok := g.yieldBody(rs, encl == nil)
	refuse := func() {
		l, c := g.pc.lineCol(g.off(rs.Pos()))
		g.errs = append(g.errs, fmt.Sprintf("%s:%d:%d: a range loop over a function whose body jumps with goto, uses labels, or returns from a cell's top level or from a nested range over a function cannot run in a cell (the interpreter has no range over functions); collect the values first (slices.Collect, maps.Collect)", g.pc.name, l, c))
	}
	if !ok {
		refuse()
		return
	}
	// The declarations before the loop and the returns after it.
	open, after, retEdits, closing, ok := g.yieldReturns(returns, encl, generic)
	if !ok {
		refuse()
		return
	}
	edits = append(edits, retEdits...)
	vars := []ast.Expr{rs.Key, rs.Value}
	var params []string
	var assigns []string
	for i := 0; i < yield.Params().Len(); i++ {
		t, ok := g.ytIn(yield.Params().At(i).Type(), generic)
		if !ok {
			return
		}
		name := g.temp("Y")
		if i < 2 && vars[i] != nil {
			if id, isID := vars[i].(*ast.Ident); isID && rs.Tok == token.DEFINE {
				if id.Name != "_" {
					name = id.Name
				}
			} else if rs.Tok == token.ASSIGN {
				assigns = append(assigns, fmt.Sprintf("%s = %s;", g.pc.text(vars[i].Pos(), vars[i].End()), name))
			}
		}
		params = append(params, name+" "+t)
	}
	g.add(g.off(rs.For), g.off(rs.X.Pos()), open)
	g.add(g.off(rs.X.End()), g.off(rs.Body.Lbrace)+1, fmt.Sprintf("(func(%s) bool { %s", strings.Join(params, ", "), strings.Join(assigns, " ")))
	g.edits = append(g.edits, edits...)
	g.add(g.off(rs.Body.Rbrace), g.off(rs.Body.Rbrace)+1, "; return true })"+after)
	// After every other edit, so that they come first where they end at the same
	// offset (the stable sort keeps the order of edits that start together).
	g.late = append(g.late, closing...)
}

// yieldBody collects the edits that turn the body of a range loop over a
// function into the body of its yield function: a continue returns true, a
// break returns false (not those of nested loops and switches), and the
// returns of the enclosing function, which yieldReturns handles. ok is false
// for what the yield function cannot do: goto, labels, a return from a cell's
// top level (topLevel) or from a nested range over a function.
func (g *generator) yieldBody(rs *ast.RangeStmt, topLevel bool) (edits []edit, returns []*ast.ReturnStmt, ok bool) {
	ok = true
	var walk func(n ast.Node, loopDepth int, inSwitch, inFuncRange bool)
	walk = func(n ast.Node, loopDepth int, inSwitch, inFuncRange bool) {
		ast.Inspect(n, func(m ast.Node) bool {
			if !ok {
				return false
			}
			switch m := m.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ReturnStmt:
				if topLevel || inFuncRange {
					ok = false
				}
				returns = append(returns, m)
			case *ast.LabeledStmt:
				ok = false
			case *ast.BranchStmt:
				if m.Label != nil || m.Tok == token.GOTO || m.Tok == token.FALLTHROUGH {
					if m.Tok != token.FALLTHROUGH {
						ok = false
					}
					return false
				}
				if loopDepth > 0 || (m.Tok == token.BREAK && inSwitch) {
					return false
				}
				text := "return true"
				if m.Tok == token.BREAK {
					text = "return false"
				}
				edits = append(edits, edit{g.off(m.Pos()), g.off(m.End()), text})
			case *ast.ForStmt:
				walk(m.Body, loopDepth+1, inSwitch, inFuncRange)
				return false
			case *ast.RangeStmt:
				_, overFunc := g.info.TypeOf(m.X).Underlying().(*types.Signature)
				walk(m.Body, loopDepth+1, inSwitch, inFuncRange || overFunc)
				return false
			case *ast.SwitchStmt:
				walk(m.Body, loopDepth, true, inFuncRange)
				return false
			case *ast.TypeSwitchStmt:
				walk(m.Body, loopDepth, true, inFuncRange)
				return false
			case *ast.SelectStmt:
				walk(m.Body, loopDepth, true, inFuncRange)
				return false
			}
			return true
		})
	}
	walk(rs.Body, 0, false, false)
	return edits, returns, ok
}

// yieldReturns turns the returns of the enclosing function (signature encl)
// inside a yield function into assignments of its results and a flag, and
// returns the text that declares them before the loop (open) and returns them
// after it (after); closing edits follow the others at the returns' ends. ok is
// false when a result type cannot be written.
func (g *generator) yieldReturns(returns []*ast.ReturnStmt, encl *types.Signature, generic bool) (open, after string, edits, closing []edit, ok bool) {
	if len(returns) == 0 {
		return "", "", nil, nil, true
	}
	flag := g.temp("Ret")
	var decls, results []string
	for i := 0; i < encl.Results().Len(); i++ {
		t, tok := g.ytIn(encl.Results().At(i).Type(), generic)
		if !tok {
			return "", "", nil, nil, false
		}
		r := g.temp("R")
		decls = append(decls, fmt.Sprintf("var %s %s;", r, t))
		results = append(results, r)
	}
	open = fmt.Sprintf("{ var %s bool; %s ", flag, strings.Join(decls, " "))
	after = fmt.Sprintf("; if %s { return %s } }", flag, strings.Join(results, ", "))
	stop := fmt.Sprintf("%s = true; return false }", flag)
	for _, r := range returns {
		start := g.off(r.Pos())
		if len(r.Results) == 0 {
			// A bare return: copy the named results (in scope here, or the
			// bare return would not compile; yaegi returns zeros for a bare
			// return after the literal has set them).
			var named []string
			for i := 0; i < encl.Results().Len(); i++ {
				if name := encl.Results().At(i).Name(); name != "_" && name != "" {
					named = append(named, fmt.Sprintf("%s = %s;", results[i], name))
				}
			}
			edits = append(edits, edit{start, start + len("return"), "{ " + strings.Join(named, " ") + " " + stop})
			continue
		}
		edits = append(edits, edit{start, start + len("return"), "{ " + strings.Join(results, ", ") + " ="})
		closing = append(closing, edit{g.off(r.End()), g.off(r.End()), "; " + stop})
		dst := make([]types.Type, len(r.Results))
		if len(r.Results) == encl.Results().Len() {
			for i := range dst {
				dst[i] = encl.Results().At(i).Type()
			}
		}
		g.typedNils(dst, r.Results)
	}
	return open, after, edits, closing, true
}
