package interp

import (
	"fmt"
	"go/ast"
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
