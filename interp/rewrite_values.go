package interp

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strings"
)

// Rewrites for values of cell-defined types that reach compiled code: yaegi hands
// compiled code a value without its interpreted methods, so the methods through
// which it renders or describes itself (String, Error, HTML, …) are passed along.

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

// boxCopies gives every value of a cell type that n turns into an interface
// value a storage of its own, as Go's conversion to an interface copies the
// value. yaegi keeps a reference instead: to the variable, or to the slot of
// the expression in the function's frame, which the next evaluation of the
// expression overwrites, and its wrappers read the receiver through that slot
// when a method is called. So the values a loop appends to a []fmt.Stringer
// all became the last one ("2 2 2"), as did an interface variable when the
// variable it was assigned from changed.
//
// The value goes through a function, func(v T) I { return v }(x), whose frame
// is new at each call and never reused (interp/gomod does the same for the
// temporaries of packages compiled from source). For the empty interface it
// does so only inside a loop: there yaegi's own boxing shares the slot between
// the iterations (and fmt prints yaegi's wrapper instead of the value), while
// elsewhere it keeps the value's methods for fmt and type switches, which the
// function's result loses. n is the node being visited; stack is the path to
// it, n included.
func (g *generator) boxCopies(n ast.Node, stack []ast.Node) {
	switch n := n.(type) {
	case *ast.AssignStmt:
		if n.Tok == token.ASSIGN && len(n.Lhs) == len(n.Rhs) {
			for i, r := range n.Rhs {
				g.boxCopy(r, g.info.TypeOf(n.Lhs[i]), stack)
			}
		}
	case *ast.ValueSpec:
		if n.Type != nil && len(n.Names) == len(n.Values) {
			for i, v := range n.Values {
				g.boxCopy(v, g.info.TypeOf(n.Names[i]), stack)
			}
		}
	case *ast.SendStmt:
		if ch, ok := types.Unalias(g.info.TypeOf(n.Chan)).Underlying().(*types.Chan); ok {
			g.boxCopy(n.Value, ch.Elem(), stack)
		}
	case *ast.CompositeLit:
		g.boxElements(n, stack)
	case *ast.CallExpr:
		g.boxArgs(n, stack)
	}
}

// boxArgs is boxCopies for the arguments of a conversion, of append, or of a
// function call.
func (g *generator) boxArgs(call *ast.CallExpr, stack []ast.Node) {
	if tv, ok := g.info.Types[call.Fun]; ok && tv.IsType() {
		if len(call.Args) == 1 {
			g.boxCopy(call.Args[0], tv.Type, stack)
		}
		return
	}
	switch g.builtin(call.Fun) {
	case "append":
		if s, ok := types.Unalias(g.info.TypeOf(call)).Underlying().(*types.Slice); ok && !call.Ellipsis.IsValid() {
			for _, a := range call.Args[1:] {
				g.boxCopy(a, s.Elem(), stack)
			}
		}
		return
	case "":
	default:
		return
	}
	sig, ok := types.Unalias(g.info.TypeOf(call.Fun)).Underlying().(*types.Signature)
	if !ok {
		return
	}
	for i, a := range call.Args {
		if call.Ellipsis.IsValid() && i == len(call.Args)-1 {
			return
		}
		if pt := paramType(sig, i); pt != nil {
			g.boxCopy(a, pt, stack)
		}
	}
}

// boxElements is boxCopies for the elements of a composite literal. It also
// gives the values of cell types in interface-typed fields or elements of
// composite literals of compiled types (a Recorder in solver.Settings{...})
// yaegi's wrapper with their methods: yaegi stores the bare value there, which
// reflect refuses. Elements that are composite literals themselves are left
// to yaegi, which makes a new value for each.
func (g *generator) boxElements(lit *ast.CompositeLit, stack []ast.Node) {
	t := g.info.TypeOf(lit)
	if t == nil {
		return
	}
	if p, ok := t.Underlying().(*types.Pointer); ok {
		t = p.Elem()
	}
	for i, el := range lit.Elts {
		kv, isKV := el.(*ast.KeyValueExpr)
		if _, ok := ast.Unparen(valueOf(el)).(*ast.CompositeLit); ok {
			continue
		}
		switch u := types.Unalias(t).Underlying().(type) {
		case *types.Slice:
			g.boxCopy(valueOf(el), u.Elem(), stack)
		case *types.Array:
			g.boxCopy(valueOf(el), u.Elem(), stack)
		case *types.Map:
			if isKV {
				g.boxCopy(kv.Key, u.Key(), stack)
				g.boxCopy(kv.Value, u.Elem(), stack)
			}
		case *types.Struct:
			if !isKV {
				if i < u.NumFields() {
					g.boxCopy(el, u.Field(i).Type(), stack)
				}
				continue
			}
			if id, ok := kv.Key.(*ast.Ident); ok {
				if f, ok := g.obj(id).(*types.Var); ok && f.IsField() {
					g.boxCopy(kv.Value, f.Type(), stack)
				}
			}
		}
	}
}

// valueOf is the value of an element of a composite literal.
func valueOf(el ast.Expr) ast.Expr {
	if kv, ok := el.(*ast.KeyValueExpr); ok {
		return kv.Value
	}
	return el
}

// boxCopy passes e through a function when it is a value of a cell type with
// methods (not a constant) that becomes a value of the interface type target
// (see boxCopies).
func (g *generator) boxCopy(e ast.Expr, target types.Type, stack []ast.Node) {
	tv, ok := g.info.Types[e]
	if !ok || target == nil || tv.Type == nil || tv.Value != nil || !tv.IsValue() {
		return
	}
	at := tv.Type
	iface, ok := types.Unalias(target).Underlying().(*types.Interface)
	if !ok || types.IsInterface(at) || !isCellType(at) || mentionsTypeParam(at) || mentionsTypeParam(target) {
		return
	}
	if iface.Empty() {
		if !hasMethods(at) || !inLoop(stack) {
			return
		}
	}
	ts, ok1 := g.yt(at)
	is, ok2 := g.yt(target)
	if !ok1 || !ok2 {
		return
	}
	g.insertAt(e.Pos(), fmt.Sprintf("func(gocvxV %s) %s { return gocvxV }(", ts, is))
	g.insertAt(e.End(), ")")
}

// hasMethods reports whether values of t, or pointers to them, have methods.
func hasMethods(t types.Type) bool {
	if types.NewMethodSet(t).Len() > 0 {
		return true
	}
	_, isPtr := t.(*types.Pointer)
	return !isPtr && types.NewMethodSet(types.NewPointer(t)).Len() > 0
}

// inLoop reports whether the last node of stack is inside a loop of the
// function around it.
func inLoop(stack []ast.Node) bool {
	for i := len(stack) - 2; i >= 0; i-- {
		switch stack[i].(type) {
		case *ast.ForStmt, *ast.RangeStmt:
			return true
		case *ast.FuncLit, *ast.FuncDecl:
			return false
		}
	}
	return false
}
