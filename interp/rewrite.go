package interp

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"strings"
)

// rewrites adds the edits that make yaegi behave like Go 1.26 and like a
// notebook kernel should, over the whole cell (statements and declarations):
//
//   - loop variables are per iteration (a copy at the top of the body when the
//     body has closures, goroutines or takes addresses);
//   - range over an integer becomes a counted loop, range over a function (an
//     iterator) a call with a yield function;
//   - min, max and clear become calls of generic helpers or loops;
//   - calls of generic functions get explicit type arguments (yaegi's inference
//     is weaker than Go's);
//   - go statements recover panics, which are reported to the cell instead of
//     ending the process;
//   - unnamed parameters of functions with a body are named _, and an untyped
//     nil assigned among several values gets the type of its destination
//     (yaegi bugs, see nameParams and typedNils);
//   - print and println write to standard error, os.Stdout and os.Stderr
//     handed to writers write where fmt.Println does; time.Sleep and
//     context.Background/TODO follow the cell's interrupt; calls of compiled
//     functions that take a context are marked while they run (holdContextCall).
func (g *generator) rewrites() {
	var stack []ast.Node
	visit := func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		var parent ast.Node
		if len(stack) > 0 {
			parent = stack[len(stack)-1]
		}
		stack = append(stack, n)
		switch n := n.(type) {
		case *ast.CallExpr:
			g.rewriteCall(n, parent)
		case *ast.SelectorExpr:
			g.rewriteSelector(n, parent)
		case *ast.RangeStmt:
			g.rewriteRange(n, stack)
		case *ast.ForStmt:
			g.rewriteFor(n, parent)
		case *ast.GoStmt:
			g.rewriteGo(n)
		case *ast.Ident:
			g.rewriteIdent(n, parent)
		case *ast.CompositeLit:
			g.rewriteCompositeLit(n)
		case *ast.FuncLit:
			g.nameParams(n.Type)
		case *ast.FuncDecl:
			if n.Body != nil {
				g.nameParams(n.Type)
			}
		case *ast.AssignStmt:
			if len(n.Lhs) == len(n.Rhs) {
				dst := make([]types.Type, len(n.Lhs))
				for i, l := range n.Lhs {
					dst[i] = g.info.TypeOf(l)
				}
				g.typedNils(dst, n.Rhs)
			}
		case *ast.ValueSpec:
			if len(n.Names) == len(n.Values) {
				dst := make([]types.Type, len(n.Names))
				for i, id := range n.Names {
					dst[i] = g.info.TypeOf(id)
				}
				g.typedNils(dst, n.Values)
			}
		}
		return true
	}
	for _, s := range g.pc.stmts {
		ast.Inspect(s, visit)
	}
	for _, f := range g.pc.funcs {
		ast.Inspect(f, visit)
	}
	// Function bodies, for the deferred-closure check: the cell's own body and
	// every function and function literal.
	g.checkDeferredClosures(g.pc.stmts)
	for _, f := range g.pc.funcs {
		if f.Body != nil {
			g.checkDeferredClosures(f.Body.List)
		}
	}
	for _, s := range g.pc.stmts {
		ast.Inspect(s, func(n ast.Node) bool {
			if fl, ok := n.(*ast.FuncLit); ok {
				g.checkDeferredClosures(fl.Body.List)
			}
			return true
		})
	}
	for _, f := range g.pc.funcs {
		ast.Inspect(f, func(n ast.Node) bool {
			if fl, ok := n.(*ast.FuncLit); ok {
				g.checkDeferredClosures(fl.Body.List)
			}
			return true
		})
	}
}

// checkDeferredClosures refuses, with a compile error, a deferred call that
// calls a function literal created by the same function body: yaegi v0.16.1
// deadlocks then (the literal, when it returns, locks the frame of the
// function that created it, which its deferred calls already hold). Calling
// a literal directly in a defer ("defer func() {...}()") is fine.
func (g *generator) checkDeferredClosures(body []ast.Stmt) {
	// Variables of this body assigned a function literal (not in nested literals).
	lits := map[types.Object]bool{}
	var defers []*ast.DeferStmt
	var walk func(n ast.Node) bool
	walk = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.AssignStmt:
			for i, r := range n.Rhs {
				if _, ok := ast.Unparen(r).(*ast.FuncLit); ok && i < len(n.Lhs) {
					if id, ok := n.Lhs[i].(*ast.Ident); ok {
						if o := g.obj(id); o != nil {
							lits[o] = true
						}
					}
				}
			}
		case *ast.ValueSpec:
			for i, r := range n.Values {
				if _, ok := ast.Unparen(r).(*ast.FuncLit); ok && i < len(n.Names) {
					if o := g.obj(n.Names[i]); o != nil {
						lits[o] = true
					}
				}
			}
		case *ast.DeferStmt:
			defers = append(defers, n)
		}
		return true
	}
	for _, s := range body {
		ast.Inspect(s, walk)
	}
	for _, d := range defers {
		ast.Inspect(d.Call, func(n ast.Node) bool {
			// A call of the literal, or the literal handed to a function that
			// the deferred call runs.
			if id, ok := n.(*ast.Ident); ok && lits[g.obj(id)] {
				l, c := g.pc.lineCol(g.off(id.Pos()))
				g.errs = append(g.errs, fmt.Sprintf("%s:%d:%d: %s is a function literal of this function, called by a deferred call: the interpreter would hang (yaegi bug); declare %s as a function of the cell, or call it without defer", g.pc.name, l, c, id.Name, id.Name))
			}
			return true
		})
	}
}

// obj returns the object an identifier defines or uses.
func (g *generator) obj(id *ast.Ident) types.Object {
	if o := g.info.Defs[id]; o != nil {
		return o
	}
	return g.info.Uses[id]
}

// pkgFunc returns the package path and name of a qualified identifier (fmt.Println).
func (g *generator) pkgFunc(se *ast.SelectorExpr) (string, string) {
	id, ok := se.X.(*ast.Ident)
	if !ok {
		return "", ""
	}
	pn, ok := g.info.Uses[id].(*types.PkgName)
	if !ok {
		return "", ""
	}
	return pn.Imported().Path(), se.Sel.Name
}

// replaceNode replaces the text of n.
func (g *generator) replaceNode(n ast.Node, text string) {
	g.add(g.off(n.Pos()), g.off(n.End()), text)
}

// insertAt inserts text at pos.
func (g *generator) insertAt(pos token.Pos, text string) {
	o := g.off(pos)
	g.add(o, o, text)
}

// yt renders a type for yaegi; ok is false when it cannot be written.
func (g *generator) yt(t types.Type) (string, bool) {
	if _, ok := typeText(t, func(p *types.Package) string { return p.Name() }); !ok {
		return "", false
	}
	return yaegiType(t, g.c.hidden), true
}

// ytIn is yt for code inside a generic function's body when generic is true:
// its type parameters may be written there.
func (g *generator) ytIn(t types.Type, generic bool) (string, bool) {
	if _, ok := typeTextScoped(t, func(p *types.Package) string { return p.Name() }, generic); !ok {
		return "", false
	}
	return yaegiType(t, g.c.hidden), true
}

// temp returns a fresh name for generated code.
func (g *generator) temp(base string) string {
	g.temps++
	return fmt.Sprintf("gocvx%s%d", base, g.temps)
}

func (g *generator) builtin(e ast.Expr) string {
	if id, ok := ast.Unparen(e).(*ast.Ident); ok {
		if b, ok := g.info.Uses[id].(*types.Builtin); ok {
			return b.Name()
		}
	}
	return ""
}

func (g *generator) rewriteCall(call *ast.CallExpr, parent ast.Node) {
	switch name := g.builtin(call.Fun); name {
	case "print", "println":
		// Go writes them to standard error (yaegi to standard output).
		g.replaceNode(call.Fun, "gocvxrt."+strings.ToUpper(name[:1])+name[1:])
		return
	case "min", "max":
		g.rewriteMinMax(call, name)
		return
	case "clear":
		g.rewriteClear(call, parent)
		return
	case "make":
		g.rewriteMake(call)
		return
	case "panic":
		// Go reports a panic value by its Error or String method: keep them.
		if len(call.Args) == 1 && isCellType(g.info.Types[call.Args[0]].Type) {
			t := g.info.Types[call.Args[0]].Type
			errIface := types.Universe.Lookup("error").Type().Underlying().(*types.Interface)
			switch {
			case types.Implements(t, errIface):
				g.insertAt(call.Args[0].Pos(), "gocvxrt.AsError(")
				g.insertAt(call.Args[0].End(), ")")
			case hasStringMethod(t):
				g.insertAt(call.Args[0].Pos(), "gocvxrt.AsStringer(")
				g.insertAt(call.Args[0].End(), ")")
			}
		}
		return
	}
	g.instantiate(call)
	g.wrapArgs(call)
	g.guardCallback(call)
	g.guardFinalizer(call)
	g.holdContextCall(call, parent)
}

// rewriteMinMax replaces min and max (Go 1.21 builtins that yaegi lacks) by the
// constant they denote or a call of a function literal of the result's type
// (yaegi's generics are fragile with compiled named types such as
// time.Duration). NaN wins, as with the builtins.
func (g *generator) rewriteMinMax(call *ast.CallExpr, name string) {
	tv := g.info.Types[call]
	if tv.Value != nil {
		if text, ok := g.constText(tv); ok {
			g.replaceNode(call, text)
		}
		return
	}
	t, ok := g.yt(tv.Type)
	if !ok || call.Ellipsis.IsValid() {
		return
	}
	op := "<"
	if name == "max" {
		op = ">"
	}
	g.replaceNode(call.Fun, fmt.Sprintf("func(x %s, ys ...%s) %s { for _, y := range ys { if y != y || x == x && y %s x { x = y } }; return x }", t, t, t, op))
}

// constText writes a constant so that it keeps its type (or its kind when
// untyped: 1.0 stays a float).
func (g *generator) constText(tv types.TypeAndValue) (string, bool) {
	v := tv.Value
	s := v.ExactString()
	if v.Kind() == constant.Float {
		if f, ok := constant.Float64Val(v); ok {
			s = fmt.Sprint(f)
			if !strings.ContainsAny(s, ".eEn") {
				s += ".0"
			}
		}
	}
	if b, ok := tv.Type.(*types.Basic); ok && b.Info()&types.IsUntyped != 0 {
		return "(" + s + ")", true
	}
	t, ok := g.yt(tv.Type)
	return fmt.Sprintf("%s(%s)", t, s), ok
}

// rewriteClear replaces clear(x), a statement, by a loop.
func (g *generator) rewriteClear(call *ast.CallExpr, parent ast.Node) {
	if _, ok := parent.(*ast.ExprStmt); !ok || len(call.Args) != 1 {
		return
	}
	arg := call.Args[0]
	t := g.info.Types[arg].Type
	x := g.pc.text(arg.Pos(), arg.End())
	k := g.temp("K")
	switch u := t.Underlying().(type) {
	case *types.Map:
		g.replaceNode(call, fmt.Sprintf("for %s := range %s { delete(%s, %s) }", k, x, x, k))
	case *types.Slice:
		et, ok := g.yt(u.Elem())
		if !ok {
			return
		}
		g.replaceNode(call, fmt.Sprintf("for %s := range %s { %s[%s] = *new(%s) }", k, x, x, k, et))
	}
}

// instantiate adds explicit type arguments to a call of a generic function that
// relies on inference.
func (g *generator) instantiate(call *ast.CallExpr) {
	var id *ast.Ident
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	default:
		return // already explicit (IndexExpr) or not a named function
	}
	inst, ok := g.info.Instances[id]
	if !ok || inst.TypeArgs == nil {
		return
	}
	var args []string
	for i := 0; i < inst.TypeArgs.Len(); i++ {
		t, ok := g.yt(inst.TypeArgs.At(i))
		if !ok {
			return
		}
		args = append(args, t)
	}
	g.insertAt(id.End(), "["+strings.Join(args, ", ")+"]")
}

func (g *generator) rewriteIdent(id *ast.Ident, parent ast.Node) {
	// A source package (slices, maps, cmp, iter) is known to yaegi by the name of
	// its own path: yaegi's built-in versions would shadow an import.
	if pn, ok := g.info.Uses[id].(*types.PkgName); ok {
		if p := pn.Imported().Path(); sourcePackageNames[p] != "" {
			g.replaceNode(id, yaegiPath(p))
		}
		return
	}
	// A generic function used as a value (not called): instantiate it too.
	if call, ok := parent.(*ast.CallExpr); ok && call.Fun == id {
		return
	}
	if se, ok := parent.(*ast.SelectorExpr); ok && se.Sel == id {
		return // handled with the selector
	}
	if _, ok := parent.(*ast.IndexExpr); ok {
		return
	}
	if inst, ok := g.info.Instances[id]; ok && inst.TypeArgs != nil {
		if _, isFunc := g.info.Uses[id].(*types.Func); !isFunc {
			return
		}
		var args []string
		for i := 0; i < inst.TypeArgs.Len(); i++ {
			t, ok := g.yt(inst.TypeArgs.At(i))
			if !ok {
				return
			}
			args = append(args, t)
		}
		g.insertAt(id.End(), "["+strings.Join(args, ", ")+"]")
	}
}

func (g *generator) rewriteSelector(se *ast.SelectorExpr, parent ast.Node) {
	if sel, ok := g.info.Selections[se]; ok && sel.Kind() == types.MethodExpr {
		g.methodExpr(se, sel)
		return
	}
	switch p, name := g.pkgFunc(se); {
	case p == "time" && name == "Sleep":
		// A sleep in compiled code would not notice an interrupt.
		g.replaceNode(se, "gocvxrt.Sleep")
	case p == "os" && name == "Stdin" && g.interfaceArg(se, parent, "Read"):
		// Standard input handed to a reader: the cell's input (input_request).
		g.replaceNode(se, "gocvxrt.Stdin")
	case p == "os" && (name == "Stdout" || name == "Stderr") && (g.interfaceArg(se, parent, "Write", "WriteString") || isWriteMethod(se, parent)):
		// Standard output or error handed to a writer, or written to: the
		// cell's stream, in order with fmt.Println (the *os.File itself goes
		// through a pipe, whose text can overtake the other stream's).
		g.replaceNode(se, "gocvxrt."+name)
	case p == "context" && (name == "Background" || name == "TODO"):
		// The context of the running cell: an interrupt cancels it, so that
		// compiled code given context.Background() stops too.
		g.replaceNode(se, "gocvxrt.Context")
	default:
		if call, ok := parent.(*ast.CallExpr); !ok || call.Fun != se {
			// a generic function value of a package: instantiate
			if inst, ok := g.info.Instances[se.Sel]; ok && inst.TypeArgs != nil {
				if _, isIdx := parent.(*ast.IndexExpr); isIdx {
					return
				}
				var args []string
				for i := 0; i < inst.TypeArgs.Len(); i++ {
					t, ok := g.yt(inst.TypeArgs.At(i))
					if !ok {
						return
					}
					args = append(args, t)
				}
				g.insertAt(se.End(), "["+strings.Join(args, ", ")+"]")
			}
		}
	}
}

// isWriteMethod reports whether parent selects the Write or WriteString
// method of x (os.Stdout.WriteString).
func isWriteMethod(x ast.Expr, parent ast.Node) bool {
	ps, ok := parent.(*ast.SelectorExpr)
	return ok && ps.X == x && (ps.Sel.Name == "Write" || ps.Sel.Name == "WriteString")
}

// nameParams names the unnamed parameters of a function with a body "_"
// ("func(float64) T" → "func(_ float64) T"). yaegi v0.16.1 gives an unnamed
// parameter no slot in the function's frame, but the call still stores the
// argument in the frame: the first local variable or composite literal of the
// body then shares its slot ("reflect.Set: value of type float64 is not
// assignable to type solver.ADMM"). Receivers and results are not affected.
func (g *generator) nameParams(ft *ast.FuncType) {
	if ft.Params == nil {
		return
	}
	for _, f := range ft.Params.List {
		if len(f.Names) == 0 {
			g.insertAt(f.Type.Pos(), "_ ")
		}
	}
}

// typedNils gives an untyped nil among several values assigned at once the
// type of its destination ("t, err = 1, nil" → "t, err = 1, (error)(nil)",
// and the same in var declarations): yaegi v0.16.1 panics with
// "reflect: New(nil)" on it.
func (g *generator) typedNils(dst []types.Type, values []ast.Expr) {
	if len(values) < 2 {
		return
	}
	for i, r := range values {
		id, ok := ast.Unparen(r).(*ast.Ident)
		if !ok || dst[i] == nil {
			continue
		}
		if _, isNil := g.info.Uses[id].(*types.Nil); !isNil {
			continue
		}
		if ts, ok := g.yt(dst[i]); ok {
			g.replaceNode(r, "("+ts+")(nil)")
		}
	}
}
