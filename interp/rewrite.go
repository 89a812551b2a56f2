package interp

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"runtime"
	"slices"
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
	guard := fmt.Sprintf("defer func() { if r := recover(); r != nil { gocvxrt.GoPanic(%d, r) } }(); ", g.pc.id)
	switch f := ast.Unparen(call.Args[1]).(type) {
	case *ast.FuncLit:
		g.insertAt(f.Body.Lbrace+1, " "+guard)
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

// wrapArgs keeps the methods of values of cell types that compiled code
// receives as "any": yaegi hands compiled code the bare value, so fmt would
// print an error of a cell type as a struct, and display would not find a
// cell type's HTML method. Errors go through a parameter of type error (yaegi
// then wraps them with their Error method); values with rendering methods are
// rendered first by display.Show, ShowID and Update.
func (g *generator) wrapArgs(call *ast.CallExpr) {
	fn := ""
	var path string
	if se, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
		path, fn = g.pkgFunc(se)
	}
	if path == "" || sourcePackageNames[path] != "" {
		return // not a compiled package function
	}
	sig, ok := g.info.Types[call.Fun].Type.(*types.Signature)
	if !ok {
		return
	}
	errType := types.Universe.Lookup("error").Type()
	for i, a := range call.Args {
		pt := paramType(sig, i)
		if pt == nil || call.Ellipsis.IsValid() {
			return
		}
		iface, ok := pt.Underlying().(*types.Interface)
		if !ok || !iface.Empty() {
			continue
		}
		at := g.info.Types[a].Type
		if at == nil {
			continue
		}
		if path == displayPath && (fn == "Show" || fn == "ShowID" || (fn == "Update" && i == 1)) {
			if m := methodsOf(at, "v"); m != "" {
				if t, ok := g.yt(at); ok {
					g.insertAt(a.Pos(), fmt.Sprintf("func(v %s) gocvxrt.BundleType { return gocvxrt.Bundle(v, gocvxrt.Methods{%s}) }(", t, m))
					g.insertAt(a.End(), ")")
				}
				continue
			}
		}
		if types.Identical(at, errType) || isCellType(at) && types.Implements(at, errType.Underlying().(*types.Interface)) {
			g.insertAt(a.Pos(), "gocvxrt.AsError(")
			g.insertAt(a.End(), ")")
		}
	}
}

const displayPath = "github.com/gocvx/gocvx/display"

// paramType returns the type of the parameter receiving argument i.
func paramType(sig *types.Signature, i int) types.Type {
	n := sig.Params().Len()
	switch {
	case sig.Variadic() && i >= n-1:
		return sig.Params().At(n - 1).Type().(*types.Slice).Elem()
	case i < n:
		return sig.Params().At(i).Type()
	}
	return nil
}

// isCellType reports whether t is (a pointer to) a named type declared by a cell.
func isCellType(t types.Type) bool {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Name() == cellPackage
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
	var edits, closing []edit
	var returns []*ast.ReturnStmt
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
				if encl == nil || inFuncRange {
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
	refuse := func() {
		l, c := g.pc.lineCol(g.off(rs.Pos()))
		g.errs = append(g.errs, fmt.Sprintf("%s:%d:%d: a range loop over a function whose body jumps with goto, uses labels, or returns from a cell's top level or from a nested range over a function cannot run in a cell (the interpreter has no range over functions); collect the values first (slices.Collect, maps.Collect)", g.pc.name, l, c))
	}
	if !ok {
		refuse()
		return
	}
	// The declarations before the loop and the returns after it.
	open, after := "", ""
	if len(returns) > 0 {
		flag := g.temp("Ret")
		var decls, results []string
		for i := 0; i < encl.Results().Len(); i++ {
			t, tok := g.ytIn(encl.Results().At(i).Type(), generic)
			if !tok {
				refuse()
				return
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
	}
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

// rewriteGo makes the goroutine recover a panic and report it to the cell (or
// the next one), instead of ending the process.
func (g *generator) rewriteGo(gs *ast.GoStmt) {
	guard := fmt.Sprintf("defer func() { if r := recover(); r != nil { gocvxrt.GoPanic(%d, r) } }(); ", g.pc.id)
	call := gs.Call
	if fl, ok := ast.Unparen(call.Fun).(*ast.FuncLit); ok && len(call.Args) == 0 {
		g.insertAt(fl.Body.Lbrace+1, " "+guard)
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

// interfaceArg reports whether e is an argument of call parent passed for a
// parameter of an interface type whose methods are all among methods (io.Reader,
// io.Writer): any reader can replace os.Stdin there, any writer os.Stdout.
func (g *generator) interfaceArg(e ast.Expr, parent ast.Node, methods ...string) bool {
	call, ok := parent.(*ast.CallExpr)
	if !ok {
		return false
	}
	sig, ok := g.info.Types[call.Fun].Type.(*types.Signature)
	if !ok {
		return false
	}
	for i, a := range call.Args {
		if a != e {
			continue
		}
		pt := paramType(sig, i)
		if pt == nil {
			return false
		}
		iface, ok := pt.Underlying().(*types.Interface)
		if !ok || iface.NumMethods() == 0 {
			return false // any: the value itself is wanted (fmt.Println(os.Stdout))
		}
		for m := 0; m < iface.NumMethods(); m++ {
			if !slices.Contains(methods, iface.Method(m).Name()) {
				return false
			}
		}
		return true
	}
	return false
}

// methodExpr turns a method expression of a cell type (T.m), whose type yaegi
// gets wrong, into the equivalent function literal.
func (g *generator) methodExpr(se *ast.SelectorExpr, sel *types.Selection) {
	sig, ok := sel.Type().(*types.Signature)
	if !ok || sig.Params().Len() == 0 || !isCellType(sig.Params().At(0).Type()) {
		return
	}
	var params, args []string
	for i := 0; i < sig.Params().Len(); i++ {
		t := sig.Params().At(i).Type()
		if sig.Variadic() && i == sig.Params().Len()-1 {
			et, ok := g.yt(t.(*types.Slice).Elem())
			if !ok {
				return
			}
			params = append(params, fmt.Sprintf("gocvxP%d ...%s", i, et))
			args = append(args, fmt.Sprintf("gocvxP%d...", i))
			continue
		}
		ts, ok := g.yt(t)
		if !ok {
			return
		}
		params = append(params, fmt.Sprintf("gocvxP%d %s", i, ts))
		if i > 0 {
			args = append(args, fmt.Sprintf("gocvxP%d", i))
		}
	}
	var results []string
	for i := 0; i < sig.Results().Len(); i++ {
		ts, ok := g.yt(sig.Results().At(i).Type())
		if !ok {
			return
		}
		results = append(results, ts)
	}
	ret := ""
	if len(results) > 0 {
		ret = "return "
	}
	g.replaceNode(se, fmt.Sprintf("func(%s) (%s) { %sgocvxP0.%s(%s) }",
		strings.Join(params, ", "), strings.Join(results, ", "), ret, se.Sel.Name, strings.Join(args, ", ")))
}

// rewriteCompositeLit converts values of cell types stored in interface-typed
// fields or elements of a composite literal of compiled types (a Recorder in
// solver.Settings{...}): yaegi stores the bare value there, which reflect
// refuses; assigned first to a variable of the interface type, the value gets
// yaegi's wrapper with its methods.
func (g *generator) rewriteCompositeLit(lit *ast.CompositeLit) {
	t := g.info.Types[lit].Type
	if t == nil {
		return
	}
	wrap := func(e ast.Expr, target types.Type) {
		if _, ok := target.Underlying().(*types.Interface); !ok || types.IsInterface(g.info.Types[e].Type) {
			return
		}
		if iface := target.Underlying().(*types.Interface); iface.Empty() || !isCellType(g.info.Types[e].Type) {
			return
		}
		ts, ok := g.yt(target)
		if !ok {
			return
		}
		g.insertAt(e.Pos(), fmt.Sprintf("func() %s { var v %s = ", ts, ts))
		g.insertAt(e.End(), "; return v }()")
	}
	switch u := t.Underlying().(type) {
	case *types.Struct:
		if isCellType(t) {
			return
		}
		for i, el := range lit.Elts {
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				if id, ok := kv.Key.(*ast.Ident); ok {
					for j := 0; j < u.NumFields(); j++ {
						if u.Field(j).Name() == id.Name {
							wrap(kv.Value, u.Field(j).Type())
						}
					}
				}
			} else if i < u.NumFields() {
				wrap(el, u.Field(i).Type())
			}
		}
	case *types.Slice, *types.Array, *types.Map:
		var elem types.Type
		switch u := u.(type) {
		case *types.Slice:
			elem = u.Elem()
		case *types.Array:
			elem = u.Elem()
		case *types.Map:
			elem = u.Elem()
		}
		if isCellType(elem) {
			return
		}
		for _, el := range lit.Elts {
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				el = kv.Value
			}
			if _, ok := el.(*ast.CompositeLit); ok {
				continue
			}
			wrap(el, elem)
		}
	}
}

// hasStringMethod reports whether t has a String() string method.
func hasStringMethod(t types.Type) bool {
	obj, _, _ := types.LookupFieldOrMethod(t, true, nil, "String")
	fn, ok := obj.(*types.Func)
	if !ok {
		return false
	}
	sig := fn.Type().(*types.Signature)
	if sig.Params().Len() != 0 || sig.Results().Len() != 1 {
		return false
	}
	b, ok := sig.Results().At(0).Type().(*types.Basic)
	return ok && b.Kind() == types.String
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
