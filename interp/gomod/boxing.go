package gomod

import (
	"go/ast"
	"go/token"
	"go/types"
)

// yaegi v0.16.1 boxes a temporary value into an interface by reference: when
// an expression computes a value of an interpreted named type that has
// methods (a conversion Int(i), an operation x+1 or -x on such a value) and
// the value is converted implicitly to an interface (passed as an interface
// argument, appended to a []any, assigned to an interface variable, stored
// in a map or a slice literal of interfaces), the interface keeps a pointer
// to the temporary, which the next evaluation overwrites: in a loop, every
// element ends up with the last value. An explicit conversion to the
// interface copies the value, so boxing writes one: `append(items, Int(i))`
// becomes `append(items, any(Int(i)))`, `it = x + 1` becomes `it = Item(x + 1)`.
// (Found on github.com/google/btree v1.0, whose trees kept one item.)

// boxing plans the explicit conversions for the implicit ones under n.
func (m *modernizer) boxing(n ast.Node, results *types.Tuple) {
	switch n := n.(type) {
	case *ast.CallExpr:
		m.boxCall(n)
	case *ast.AssignStmt:
		if n.Tok == token.ASSIGN && len(n.Lhs) == len(n.Rhs) {
			for i, r := range n.Rhs {
				m.box(r, m.c.Info.TypeOf(n.Lhs[i]))
			}
		}
	case *ast.ValueSpec:
		if n.Type != nil {
			for _, v := range n.Values {
				m.box(v, m.c.Info.TypeOf(n.Type))
			}
		}
	case *ast.SendStmt:
		if ch, ok := m.c.Info.TypeOf(n.Chan).Underlying().(*types.Chan); ok {
			m.box(n.Value, ch.Elem())
		}
	case *ast.ReturnStmt:
		if results != nil && results.Len() == len(n.Results) {
			for i, r := range n.Results {
				m.box(r, results.At(i).Type())
			}
		}
	case *ast.CompositeLit:
		m.boxLiteral(n)
	}
}

func (m *modernizer) boxCall(call *ast.CallExpr) {
	if tv, ok := m.c.Info.Types[call.Fun]; ok && tv.IsType() {
		return // a conversion
	}
	if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
		if b, ok := m.c.Info.Uses[id].(*types.Builtin); ok {
			if b.Name() == "append" && len(call.Args) > 1 && call.Ellipsis == token.NoPos {
				if s, ok := m.c.Info.TypeOf(call.Args[0]).Underlying().(*types.Slice); ok {
					for _, a := range call.Args[1:] {
						m.box(a, s.Elem())
					}
				}
			}
			return
		}
	}
	sig, ok := m.c.Info.TypeOf(call.Fun).Underlying().(*types.Signature)
	if !ok {
		return
	}
	params := sig.Params()
	for i, a := range call.Args {
		var t types.Type
		switch {
		case sig.Variadic() && i >= params.Len()-1:
			if call.Ellipsis != token.NoPos {
				continue
			}
			t = params.At(params.Len() - 1).Type().(*types.Slice).Elem()
		case i < params.Len():
			t = params.At(i).Type()
		default:
			continue
		}
		m.box(a, t)
	}
}

func (m *modernizer) boxLiteral(lit *ast.CompositeLit) {
	t := m.c.Info.TypeOf(lit)
	if t == nil {
		return
	}
	for i, e := range lit.Elts {
		kv, isKV := e.(*ast.KeyValueExpr)
		switch u := t.Underlying().(type) {
		case *types.Slice:
			m.box(value(e), u.Elem())
		case *types.Array:
			m.box(value(e), u.Elem())
		case *types.Map:
			if isKV {
				m.box(kv.Key, u.Key())
				m.box(kv.Value, u.Elem())
			}
		case *types.Struct:
			if isKV {
				if id, ok := kv.Key.(*ast.Ident); ok {
					if f, ok := m.c.Info.Uses[id].(*types.Var); ok {
						m.box(kv.Value, f.Type())
					}
				}
			} else if i < u.NumFields() {
				m.box(e, u.Field(i).Type())
			}
		}
	}
}

// value is the value of an element of a literal, without its key.
func value(e ast.Expr) ast.Expr {
	if kv, ok := e.(*ast.KeyValueExpr); ok {
		return kv.Value
	}
	return e
}

// box writes the conversion of e to target when target is an interface and e
// computes a temporary value of an interpreted named type with methods.
func (m *modernizer) box(e ast.Expr, target types.Type) {
	if target == nil || !types.IsInterface(target) || !m.temporary(e) {
		return
	}
	if _, isParam := target.(*types.TypeParam); isParam {
		return
	}
	iface, ok1 := m.typeName(target)
	val, ok2 := m.typeName(m.c.Info.TypeOf(e))
	if !ok1 || !ok2 {
		return
	}
	m.edits = append(m.edits,
		edit{m.off(e.Pos()), m.off(e.Pos()), "func(_gocvxV " + val + ") " + iface + " { return _gocvxV }("},
		edit{m.off(e.End()), m.off(e.End()), ")"})
}

// temporary reports whether e computes a new value of an interpreted named
// type that has methods: a conversion, or an arithmetic or unary operation.
func (m *modernizer) temporary(e ast.Expr) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.CallExpr:
		if tv, ok := m.c.Info.Types[e.Fun]; !ok || !tv.IsType() {
			return false
		}
	case *ast.BinaryExpr:
	case *ast.UnaryExpr:
		if e.Op == token.AND || e.Op == token.ARROW {
			return false
		}
	default:
		return false
	}
	n, ok := types.Unalias(m.c.Info.TypeOf(e)).(*types.Named)
	if !ok || types.IsInterface(n) || n.Obj().Pkg() == nil || !m.interpreted(n.Obj().Pkg()) {
		return false
	}
	return types.NewMethodSet(n).Len() > 0 || types.NewMethodSet(types.NewPointer(n)).Len() > 0
}
