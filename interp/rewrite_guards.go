package interp

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"runtime"
	"strings"
)

// Rewrites that keep the kernel alive and interruptible: goroutines and callbacks
// that compiled code runs on goroutines of its own recover their panics, calls of
// compiled functions that take a context are marked while they run, and a make
// larger than the memory ceiling fails before it allocates.

// guardFinalizer makes the finalizer that runtime.SetFinalizer attaches recover
// its panic and report it to the cell (or the next one): a panic in a finalizer
// would end the process. A function literal gets the guard at the start of its
// body; a declared function f of parameter type T becomes
// "func(a T) { guard; f(a) }". Other finalizer expressions are left alone.
func (g *generator) guardFinalizer(call *ast.CallExpr) {
	se, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok || len(call.Args) != 2 {
		return
	}
	if path, name := g.pkgFunc(se); path != "runtime" || name != "SetFinalizer" {
		return
	}
	guard := g.goGuard(0)
	switch f := ast.Unparen(call.Args[1]).(type) {
	case *ast.FuncLit:
		g.insertAt(f.Body.Lbrace+1, " "+g.goGuard(g.position(f.Body.Lbrace+1)))
	case *ast.Ident:
		fn, ok := g.obj(f).(*types.Func)
		if !ok {
			return
		}
		sig := fn.Type().(*types.Signature)
		if sig.Params().Len() != 1 {
			return
		}
		t, ok := g.yt(sig.Params().At(0).Type())
		if !ok {
			return
		}
		a := g.temp("A")
		g.insertAt(f.Pos(), fmt.Sprintf("func(%s %s) { %s", a, t, guard))
		g.insertAt(f.End(), fmt.Sprintf("(%s) }", a))
	}
}

// holdContextCall marks the calls of compiled functions that take a context
// (solver.Solve, display.SolveLive, db.QueryContext...) while they run: "f(ctx,
// x)" becomes "func() (R1, R2) { defer gocvxrt.Hold()(); return f(ctx, x) }()".
// After an interrupt, the engine waits for such a call to return, however long
// it takes, instead of abandoning the cell 3 s later: a function that takes a
// context is trusted to return once the context is cancelled, and the next
// cell must not start while it still runs (see Session.run). Calls in go and
// defer statements, functions of the context package (they return at once),
// and calls whose results cannot be written are left alone.
func (g *generator) holdContextCall(call *ast.CallExpr, parent ast.Node) {
	switch p := parent.(type) {
	case *ast.GoStmt:
		if p.Call == call {
			return
		}
	case *ast.DeferStmt:
		if p.Call == call {
			return
		}
	}
	se, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return
	}
	if path, _ := g.pkgFunc(se); path != "" {
		if path == "context" || sourcePackageNames[path] != "" {
			return
		}
	} else if sel, ok := g.info.Selections[se]; !ok || sel.Kind() != types.MethodVal || !compiledMethod(sel) {
		return
	}
	sig, ok := g.info.Types[call.Fun].Type.(*types.Signature)
	if !ok || !takesContext(sig) {
		return
	}
	var results []string
	for i := 0; i < sig.Results().Len(); i++ {
		t := sig.Results().At(i).Type()
		if mentionsTypeParam(t) {
			return
		}
		ts, ok := g.yt(t)
		if !ok {
			return
		}
		results = append(results, ts)
	}
	if as, ok := parent.(*ast.AssignStmt); ok && as.Tok != token.DEFINE && len(as.Rhs) == 1 && ast.Unparen(as.Rhs[0]) == call && call.Rparen+1 == as.End() {
		// An assignment (hoisted top-level := included) is made inside the
		// function literal, so that it still takes place when an interrupt
		// stops the cell as the call returns: the result of an interrupted
		// solve is kept.
		g.insertAt(as.Pos(), "func() { defer gocvxrt.Hold()(); ")
		g.add(g.off(call.Rparen), g.off(call.Rparen)+1, ") }()")
		return
	}
	open := "func() { defer gocvxrt.Hold()(); "
	switch len(results) {
	case 0:
	case 1:
		open = "func() " + results[0] + " { defer gocvxrt.Hold()(); return "
	default:
		open = "func() (" + strings.Join(results, ", ") + ") { defer gocvxrt.Hold()(); return "
	}
	g.insertAt(call.Pos(), open)
	// The closing replaces the call's parenthesis, so that it comes before
	// what other rewrites insert after the call (gocvxrt.Result's ")").
	g.add(g.off(call.Rparen), g.off(call.Rparen)+1, ") }()")
}

// compiledMethod reports whether a method selection calls compiled code: a
// method of a type of a compiled package, or of an interface declared there
// (whose dynamic value is most often compiled). An interface of the cells, or
// a method promoted to a cell type, may well run interpreted code, which an
// interrupt stops itself; it is not trusted to return.
func compiledMethod(sel *types.Selection) bool {
	recv := sel.Recv()
	if p, ok := recv.(*types.Pointer); ok {
		recv = p.Elem()
	}
	n, ok := types.Unalias(recv).(*types.Named)
	if !ok || n.Obj().Pkg() == nil {
		return false
	}
	path := n.Obj().Pkg().Path()
	return n.Obj().Pkg().Name() != cellPackage && sourcePackageNames[path] == "" && path != "context"
}

// takesContext reports whether one of the parameters of sig is a context.Context.
func takesContext(sig *types.Signature) bool {
	for i := 0; i < sig.Params().Len(); i++ {
		if n, ok := types.Unalias(sig.Params().At(i).Type()).(*types.Named); ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "context" && n.Obj().Name() == "Context" {
			return true
		}
	}
	return false
}

// sizes are the sizes of types on the machine the kernel runs on.
var sizes = types.SizesFor("gc", runtime.GOARCH)

// rewriteMake checks the size of a make against the memory ceiling before it
// allocates ("make([]T, n)" → "make([]T, gocvxrt.MakeLen(int64(n), size of T))"):
// Go cannot recover from an allocation that the system refuses, so one larger
// than the machine would end the kernel; one larger than the ceiling is a
// MemoryError instead. Small constant sizes are left alone.
func (g *generator) rewriteMake(call *ast.CallExpr) {
	if len(call.Args) < 2 {
		return
	}
	t := g.info.Types[call.Args[0]].Type
	if t == nil {
		return
	}
	if mentionsTypeParam(t) {
		return // no size before instantiation (and yaegi's generics are fragile)
	}
	var size int64
	switch u := t.Underlying().(type) {
	case *types.Slice:
		size = sizes.Sizeof(u.Elem())
	case *types.Chan:
		size = sizes.Sizeof(u.Elem())
	case *types.Map:
		size = sizes.Sizeof(u.Key()) + sizes.Sizeof(u.Elem())
	}
	if size <= 0 {
		return
	}
	for _, a := range call.Args[1:] {
		if tv := g.info.Types[a]; tv.Value != nil {
			if n, ok := constant.Int64Val(constant.ToInt(tv.Value)); ok && n <= (1<<20)/size {
				continue
			}
		}
		g.insertAt(a.Pos(), "gocvxrt.MakeLen(int64(")
		g.insertAt(a.End(), fmt.Sprintf("), %d)", size))
	}
}

// mentionsTypeParam reports whether t is or contains a type parameter.
func mentionsTypeParam(t types.Type) bool {
	found := false
	var walk func(t types.Type, depth int)
	walk = func(t types.Type, depth int) {
		if found || depth > 20 {
			return
		}
		switch t := t.(type) {
		case *types.TypeParam:
			found = true
		case *types.Named:
			if ta := t.TypeArgs(); ta != nil {
				for i := 0; i < ta.Len(); i++ {
					walk(ta.At(i), depth+1)
				}
			}
			walk(t.Underlying(), depth+1)
		case *types.Alias:
			walk(types.Unalias(t), depth+1)
		case *types.Pointer:
			walk(t.Elem(), depth+1)
		case *types.Slice:
			walk(t.Elem(), depth+1)
		case *types.Array:
			walk(t.Elem(), depth+1)
		case *types.Chan:
			walk(t.Elem(), depth+1)
		case *types.Map:
			walk(t.Key(), depth+1)
			walk(t.Elem(), depth+1)
		case *types.Struct:
			for i := 0; i < t.NumFields(); i++ {
				walk(t.Field(i).Type(), depth+1)
			}
		case *types.Signature:
			for i := 0; i < t.Params().Len(); i++ {
				walk(t.Params().At(i).Type(), depth+1)
			}
			for i := 0; i < t.Results().Len(); i++ {
				walk(t.Results().At(i).Type(), depth+1)
			}
		}
	}
	walk(t, 0)
	return found
}

// guardedCallbacks are the compiled functions that call a function of the
// cell on a goroutine of their own (package path, function, argument): a
// panic there would end the process, so the argument is wrapped to report it
// as the panics of go statements are.
var guardedCallbacks = []struct {
	path, name string
	arg        int
	guard      string // the wrapper of the rt helpers
}{
	{"time", "AfterFunc", 1, "Guard"},
	{"context", "AfterFunc", 1, "Guard"},
	{"testing", "Benchmark", 0, "GuardB"},
}

// guardCallback wraps the function argument of a guardedCallbacks call.
func (g *generator) guardCallback(call *ast.CallExpr) {
	se, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return
	}
	path, name := g.pkgFunc(se)
	for _, c := range guardedCallbacks {
		if c.path == path && c.name == name && c.arg < len(call.Args) {
			a := call.Args[c.arg]
			g.insertAt(a.Pos(), fmt.Sprintf("gocvxrt.%s(%d, ", c.guard, g.pc.id))
			g.insertAt(a.End(), ")")
		}
	}
}

// goGuard returns the statement that makes a function that runs on a goroutine
// of its own recover its panic and report it (gocvxrt.GoPanic). lit is a
// position in the body of the function literal that gets the guard, for its
// frame in the traceback (yaegi writes no line for a frame that recovers), or 0
// for a function called by a literal of the rewrite, whose own frame has a line.
func (g *generator) goGuard(lit int64) string {
	return fmt.Sprintf("defer func() { if r := recover(); r != nil { gocvxrt.GoPanic(%d, %d, r) } }(); ", g.pc.id, lit)
}

// rewriteGo makes the goroutine recover a panic and report it to the cell (or
// the next one), instead of ending the process.
func (g *generator) rewriteGo(gs *ast.GoStmt) {
	guard := g.goGuard(0)
	call := gs.Call
	if fl, ok := ast.Unparen(call.Fun).(*ast.FuncLit); ok && len(call.Args) == 0 {
		g.insertAt(fl.Body.Lbrace+1, " "+g.goGuard(g.position(fl.Body.Lbrace+1)))
		return
	}
	if g.builtin(call.Fun) != "" {
		return
	}
	if len(call.Args) == 1 {
		if _, tuple := g.info.Types[call.Args[0]].Type.(*types.Tuple); tuple {
			return
		}
	}
	// Evaluate the function and its arguments now, call them in the goroutine:
	// "go f(a, b)" → "{ F, A1, A2 := f, a, b; go func() { guard; F(A1, A2) }() }".
	f := g.temp("F")
	names := []string{f}
	var args []string
	for range call.Args {
		n := g.temp("A")
		names = append(names, n)
		args = append(args, n)
	}
	ell := ""
	if call.Ellipsis.IsValid() {
		ell = "..."
	}
	tail := fmt.Sprintf("; go func() { %s%s(%s%s) }() }", guard, f, strings.Join(args, ", "), ell)
	g.add(g.off(gs.Pos()), g.off(call.Fun.Pos()), "{ "+strings.Join(names, ", ")+" := ")
	if len(call.Args) == 0 {
		g.add(g.off(call.Fun.End()), g.off(call.End()), tail)
		return
	}
	g.add(g.off(call.Fun.End()), g.off(call.Args[0].Pos()), ", ")
	last := call.Args[len(call.Args)-1]
	g.add(g.off(last.End()), g.off(call.End()), tail)
}
