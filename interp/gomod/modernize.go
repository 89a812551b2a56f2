package gomod

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"path/filepath"
	"strconv"
	"strings"
)

// modernize plans the edits that make a file of Go 1.22 or later run on
// yaegi (≈ Go 1.21), which go/types accepted:
//
//   - range over an integer: `for i := range n {` becomes
//     `for _gocvxI1, _gocvxN1 := T(0), n; _gocvxI1 < _gocvxN1; _gocvxI1++ { i := _gocvxI1; _ = i;`
//     (n evaluated once, i a new variable in each iteration);
//   - the built-in functions min, max and clear: a constant min or max is
//     replaced by its value, another call's function by a function literal
//     of the call's types (`func(x0, x1 float64) float64 {…}(a, b)`), which
//     keeps NaN semantics of floats;
//   - a loop variable that a closure captures or whose address is taken, in a
//     file at Go 1.22 or later: the body starts with a copy (`v := v`), the
//     per-iteration variable of Go 1.22;
//   - a temporary value of an interpreted type with methods converted to an
//     interface implicitly: the conversion written out (see boxing).
//
// The edits change no line count. What it cannot rewrite (a range over a
// function, `for i = range n` with an existing variable, a three-clause loop
// whose captured variable the body changes, a type the file cannot name) is
// returned as a refusal, with its place.
// interpreted tells the packages whose types the interpreter defines (the
// package itself and the other packages from source).
func (c *Checked) modernize(f *ast.File, qual func(*types.Package) (string, bool), interpreted func(*types.Package) bool) ([]edit, string) {
	m := &modernizer{c: c, qual: qual, interpreted: interpreted, goVersion: fileVersion(c, f)}
	var stack []ast.Node // the nodes being visited, for the function a return is in
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		if m.why != "" {
			return false
		}
		switch n := n.(type) {
		case *ast.RangeStmt:
			m.rangeStmt(n)
		case *ast.ForStmt:
			m.forStmt(n)
		case *ast.CallExpr:
			m.builtin(n)
		}
		m.boxing(n, m.results(stack))
		stack = append(stack, n)
		return true
	})
	return m.edits, m.why
}

// results returns the result types of the innermost function in stack.
func (m *modernizer) results(stack []ast.Node) *types.Tuple {
	for i := len(stack) - 1; i >= 0; i-- {
		switch fn := stack[i].(type) {
		case *ast.FuncDecl:
			if obj := m.c.Info.Defs[fn.Name]; obj != nil {
				return obj.Type().(*types.Signature).Results()
			}
			return nil
		case *ast.FuncLit:
			if sig, ok := m.c.Info.TypeOf(fn).(*types.Signature); ok {
				return sig.Results()
			}
			return nil
		}
	}
	return nil
}

type modernizer struct {
	c           *Checked
	qual        func(*types.Package) (string, bool)
	interpreted func(*types.Package) bool
	goVersion   string
	edits       []edit
	n           int    // loops rewritten, for unique names
	why         string // the refusal, with its place
}

func (m *modernizer) off(p token.Pos) int { return m.c.Fset.Position(p).Offset }

func (m *modernizer) refuse(n ast.Node, what string) {
	if m.why == "" {
		p := m.c.Fset.Position(n.Pos())
		m.why = fmt.Sprintf("uses %s (%s:%d), which the interpreter (yaegi, ≈ Go 1.21) cannot run", what, filepath.Base(p.Filename), p.Line)
	}
}

// typeName writes t as the file can name it.
func (m *modernizer) typeName(t types.Type) (string, bool) {
	ok := true
	s := types.TypeString(t, func(p *types.Package) string {
		n, found := m.qual(p)
		ok = ok && found
		return n
	})
	return s, ok
}

// perIteration reports whether the file has Go 1.22 loop variables.
func (m *modernizer) perIteration() bool {
	return m.goVersion == "" || !versionLess(m.goVersion, "go1.22")
}

func (m *modernizer) rangeStmt(n *ast.RangeStmt) {
	switch t := m.c.Info.TypeOf(n.X).Underlying().(type) {
	case *types.Signature:
		m.refuse(n, "range over a function")
		return
	case *types.Basic:
		if t.Info()&types.IsInteger != 0 {
			m.rangeInt(n)
			return
		}
	}
	if n.Tok == token.DEFINE && m.perIteration() {
		m.copyVars(n.Body, n.Key, n.Value)
	}
}

func (m *modernizer) rangeInt(n *ast.RangeStmt) {
	if n.Tok == token.ASSIGN {
		m.refuse(n, "range over an integer assigning an existing variable")
		return
	}
	t := m.c.Info.TypeOf(n.X)
	zero := "0"
	if b, ok := t.(*types.Basic); !ok || b.Info()&types.IsUntyped == 0 {
		name, ok := m.typeName(t)
		if !ok {
			m.refuse(n, "range over an integer of a type the file does not name")
			return
		}
		zero = name + "(0)"
	}
	m.n++
	i, num := fmt.Sprintf("_gocvxI%d", m.n), fmt.Sprintf("_gocvxN%d", m.n)
	from := n.Range
	if n.Key != nil {
		from = n.Key.Pos()
	}
	m.edits = append(m.edits,
		edit{m.off(from), m.off(n.X.Pos()), fmt.Sprintf("%s, %s := %s, ", i, num, zero)},
		edit{m.off(n.X.End()), m.off(n.X.End()), fmt.Sprintf("; %s < %s; %s++", i, num, i)})
	if id, ok := n.Key.(*ast.Ident); ok && id.Name != "_" {
		at := m.off(n.Body.Lbrace) + 1
		m.edits = append(m.edits, edit{at, at, fmt.Sprintf(" %s := %s; _ = %s;", id.Name, i, id.Name)})
	}
}

func (m *modernizer) forStmt(n *ast.ForStmt) {
	as, ok := n.Init.(*ast.AssignStmt)
	if !ok || as.Tok != token.DEFINE || !m.perIteration() {
		return
	}
	var captured []ast.Expr
	for _, e := range as.Lhs {
		if id, ok := e.(*ast.Ident); ok && id.Name != "_" {
			if _, ok := capturedAt(m.c, m.c.Info.Defs[id], n.Body); ok {
				if assigned(m.c, m.c.Info.Defs[id], n.Body) {
					m.refuse(n, "a three-clause loop whose body changes the variable "+id.Name+" that a closure captures (Go 1.22 gives each iteration its own)")
					return
				}
				captured = append(captured, id)
			}
		}
	}
	m.copyVars(n.Body, captured...)
}

// copyVars starts body with a copy of each loop variable that a closure in
// it captures or whose address it takes.
func (m *modernizer) copyVars(body *ast.BlockStmt, vars ...ast.Expr) {
	var b strings.Builder
	for _, e := range vars {
		id, ok := e.(*ast.Ident)
		if !ok || id.Name == "_" {
			continue
		}
		if _, ok := capturedAt(m.c, m.c.Info.Defs[id], body); ok {
			fmt.Fprintf(&b, " %s := %s;", id.Name, id.Name)
		}
	}
	if b.Len() > 0 {
		at := m.off(body.Lbrace) + 1
		m.edits = append(m.edits, edit{at, at, b.String()})
	}
}

// assigned reports whether body assigns obj or changes it with ++ or --.
func assigned(c *Checked, obj types.Object, body *ast.BlockStmt) bool {
	found := false
	is := func(e ast.Expr) bool {
		id, ok := ast.Unparen(e).(*ast.Ident)
		return ok && c.Info.Uses[id] == obj
	}
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for _, l := range n.Lhs {
				found = found || is(l)
			}
		case *ast.IncDecStmt:
			found = found || is(n.X)
		}
		return !found
	})
	return found
}

func (m *modernizer) builtin(call *ast.CallExpr) {
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok {
		return
	}
	b, ok := m.c.Info.Uses[id].(*types.Builtin)
	if !ok {
		return
	}
	switch b.Name() {
	case "min", "max":
		m.minMax(call, id, b.Name())
	case "clear":
		m.clear(call, id)
	}
}

func (m *modernizer) minMax(call *ast.CallExpr, id *ast.Ident, name string) {
	tv := m.c.Info.Types[call]
	if tv.Value != nil {
		// A constant: its value, typed as the call is.
		v := constValue(tv.Value)
		if b, ok := tv.Type.(*types.Basic); !ok || b.Info()&types.IsUntyped == 0 {
			t, ok := m.typeName(tv.Type)
			if !ok {
				m.refuse(call, "the built-in function "+name+" on a type the file does not name")
				return
			}
			v = t + "(" + v + ")"
		}
		m.edits = append(m.edits, edit{m.off(call.Pos()), m.off(call.End()), v})
		return
	}
	t, ok := m.typeName(tv.Type)
	if !ok {
		m.refuse(call, "the built-in function "+name+" on a type the file does not name")
		return
	}
	op := "<"
	if name == "max" {
		op = ">"
	}
	nan := ""
	if b, ok := tv.Type.Underlying().(*types.Basic); ok && b.Info()&types.IsFloat != 0 {
		nan = " || %[1]s != %[1]s" // a NaN wins, as with the built-in
	}
	params := make([]string, len(call.Args))
	for i := range params {
		params[i] = fmt.Sprintf("_gocvxA%d", i)
	}
	var body strings.Builder
	fmt.Fprintf(&body, "func(%s %s) %s { _gocvxR := _gocvxA0;", strings.Join(params, ", "), t, t)
	for _, p := range params[1:] {
		fmt.Fprintf(&body, " if %[1]s %[2]s _gocvxR"+nan+" { _gocvxR = %[1]s };", p, op)
	}
	body.WriteString(" return _gocvxR }")
	m.edits = append(m.edits, edit{m.off(id.Pos()), m.off(id.End()), body.String()})
}

// constValue writes a constant as a Go literal.
func constValue(v constant.Value) string {
	switch v.Kind() {
	case constant.Float:
		f, _ := constant.Float64Val(v)
		s := strconv.FormatFloat(f, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEn") {
			s += ".0"
		}
		return s
	case constant.String:
		return strconv.Quote(constant.StringVal(v))
	}
	return v.ExactString()
}

func (m *modernizer) clear(call *ast.CallExpr, id *ast.Ident) {
	t := m.c.Info.TypeOf(call.Args[0])
	name, ok := m.typeName(t)
	u := coreType(t)
	if !ok || u == nil {
		m.refuse(call, "the built-in function clear on a type the file does not name")
		return
	}
	var lit string
	switch u := u.(type) {
	case *types.Map:
		lit = fmt.Sprintf("func(_gocvxM %s) { for _gocvxK := range _gocvxM { delete(_gocvxM, _gocvxK) } }", name)
	case *types.Slice:
		elem, ok := m.typeName(u.Elem())
		if !ok {
			m.refuse(call, "the built-in function clear on a type the file does not name")
			return
		}
		lit = fmt.Sprintf("func(_gocvxS %s) { var _gocvxZ %s; for _gocvxI := range _gocvxS { _gocvxS[_gocvxI] = _gocvxZ } }", name, elem)
	default:
		m.refuse(call, "the built-in function clear on a type that is neither a map nor a slice")
		return
	}
	m.edits = append(m.edits, edit{m.off(id.Pos()), m.off(id.End()), lit})
}

// coreType is the underlying type of t or, for a type parameter, the
// underlying type that all the terms of its constraint share (~map[K]V);
// nil when there is none.
func coreType(t types.Type) types.Type {
	tp, ok := t.(*types.TypeParam)
	if !ok {
		return t.Underlying()
	}
	iface, ok := tp.Constraint().Underlying().(*types.Interface)
	if !ok {
		return nil
	}
	var core types.Type
	for i := 0; i < iface.NumEmbeddeds(); i++ {
		var terms []*types.Term
		switch e := iface.EmbeddedType(i).(type) {
		case *types.Union:
			for j := 0; j < e.Len(); j++ {
				terms = append(terms, e.Term(j))
			}
		default:
			terms = append(terms, types.NewTerm(false, e))
		}
		for _, term := range terms {
			u := term.Type().Underlying()
			if core != nil && !types.Identical(core, u) {
				return nil
			}
			core = u
		}
	}
	return core
}
