package interp

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"sort"
	"strings"
)

// generator turns a checked cell into the source yaegi compiles. It works on the
// cell's own text: everything is copied verbatim except for small edits, and
// line directives keep each token's position in the cell.
type generator struct {
	c     *compiled
	pc    *parsedCell
	info  *types.Info
	hoist map[*ast.Ident]bool
	edits []edit
	late  []edit // edits that must follow the others starting at the same offset
	temps int
	errs  []string // constructs the interpreter cannot run, found while rewriting
	// frame0 is the position of the cell function's first statement when the
	// prologue of its frame sets it (see framer.firstWrite), or 0.
	frame0 int64
}

func (g *generator) off(p token.Pos) int { return g.pc.offset(p) }

func (g *generator) add(start, end int, text string) {
	if start < 0 || end < start {
		return
	}
	g.edits = append(g.edits, edit{start, end, text})
}

// collectEdits gathers every edit of the cell: the hoisting of top-level
// variables, the display of the last expression, and the rewrites that give
// yaegi Go 1.26 semantics (see rewrite.go).
func (g *generator) collectEdits(stmts []ast.Stmt) {
	for _, s := range stmts {
		switch s := s.(type) {
		case *ast.AssignStmt:
			if s.Tok == token.ASSIGN && len(s.Lhs) > 0 {
				if id, ok := s.Lhs[0].(*ast.Ident); ok && g.hoist[id] {
					// hoisted: the checker already saw "=", the text still has ":="
					g.add(g.off(s.TokPos), g.off(s.TokPos)+2, "=")
				} else {
					for _, l := range s.Lhs {
						if id, ok := l.(*ast.Ident); ok && g.hoist[id] {
							g.add(g.off(s.TokPos), g.off(s.TokPos)+2, "=")
							break
						}
					}
				}
			}
		case *ast.DeclStmt:
			g.hoistVarDecl(s.Decl.(*ast.GenDecl))
		}
	}
	if n := len(g.pc.stmts); n > 0 {
		if es, ok := g.pc.stmts[n-1].(*ast.ExprStmt); ok {
			g.result(es)
		}
	}
	g.rewrites()
	g.instrumentFrames()
	g.edits = append(g.edits, g.late...)
	sort.SliceStable(g.edits, func(i, j int) bool { return g.edits[i].start < g.edits[j].start })
}

// hoistVarDecl turns "var a, b T = x, y" into "a, b = x, y" (and "var a T" into
// an assignment of the zero value) for hoisted variables.
func (g *generator) hoistVarDecl(gd *ast.GenDecl) {
	if gd.Tok != token.VAR {
		return
	}
	any := false
	for _, sp := range gd.Specs {
		vs := sp.(*ast.ValueSpec)
		if len(vs.Names) > 0 && g.hoist[vs.Names[0]] {
			any = true
		}
	}
	if !any {
		return
	}
	if gd.Lparen.IsValid() {
		g.add(g.off(gd.Pos()), g.off(gd.Lparen)+1, "")
		g.add(g.off(gd.Rparen), g.off(gd.Rparen)+1, "")
	} else {
		g.add(g.off(gd.Pos()), g.off(gd.Specs[0].Pos()), "")
	}
	for _, sp := range gd.Specs {
		vs := sp.(*ast.ValueSpec)
		names := make([]string, len(vs.Names))
		for i, n := range vs.Names {
			names[i] = n.Name
		}
		lhs := strings.Join(names, ", ")
		if len(vs.Values) > 0 {
			g.add(g.off(vs.Pos()), g.off(vs.Values[0].Pos()), lhs+" = ")
			continue
		}
		var zeros []string
		for _, n := range vs.Names {
			zeros = append(zeros, "*new("+g.typeOf(n)+")")
		}
		g.add(g.off(vs.Pos()), g.off(vs.End()), lhs+" = "+strings.Join(zeros, ", "))
	}
}

// typeOf returns the source form of an identifier's type, as yaegi will see it
// (the session declares the packages it names).
func (g *generator) typeOf(id *ast.Ident) string {
	for _, v := range g.c.newVars {
		if v.name == id.Name {
			return yaegiType(v.typ, g.c.hidden)
		}
	}
	return "int"
}

// hiddenAlias is the name under which yaegi imports a package for the types of
// hoisted variables, whatever name the cells use for it.
func hiddenAlias(p string) string {
	var b strings.Builder
	b.WriteString("gocvxp_")
	for _, r := range p {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// yaegiType renders t for yaegi, naming packages by their hidden aliases, which
// it records in need.
func yaegiType(t types.Type, need map[string]bool) string {
	return types.TypeString(t, func(p *types.Package) string {
		if p.Name() == cellPackage {
			return ""
		}
		if sourcePackageNames[p.Path()] != "" {
			return yaegiPath(p.Path())
		}
		need[p.Path()] = true
		return hiddenAlias(p.Path())
	})
}

// richMethods are the methods through which a cell type renders itself; they
// must be called in interpreted code, since a value of an interpreted type that
// reaches compiled code has lost its methods.
var richMethods = []struct{ name, result string }{
	{"String", "string"}, {"Error", "string"}, {"HTML", "string"}, {"Markdown", "string"},
	{"LaTeX", "string"}, {"SVG", "string"}, {"PNG", "[]byte"}, {"JPEG", "[]byte"},
	{"Render", "github.com/gocvx/gocvx/cellio.Bundle"}, {"Render", "map[string]any"},
}

// methodsOf returns the rich methods of a cell-defined type t, as the fields of a
// gocvxrt.Methods literal for a variable named v.
func methodsOf(t types.Type, v string) string {
	base := t
	if p, ok := t.(*types.Pointer); ok {
		base = p.Elem()
	}
	n, ok := types.Unalias(base).(*types.Named)
	if !ok || n.Obj().Pkg() == nil || n.Obj().Pkg().Name() != cellPackage {
		return ""
	}
	if _, isIface := n.Underlying().(*types.Interface); isIface {
		return ""
	}
	ms := types.NewMethodSet(types.NewPointer(base))
	var fields []string
	for _, rm := range richMethods {
		sel := ms.Lookup(n.Obj().Pkg(), rm.name)
		if sel == nil {
			continue
		}
		sig := sel.Type().(*types.Signature)
		if sig.Params().Len() != 0 || sig.Results().Len() != 1 {
			continue
		}
		got := types.TypeString(sig.Results().At(0).Type(), nil)
		if got == "map[string]interface{}" {
			got = "map[string]any"
		}
		if got != rm.result {
			continue
		}
		field := rm.name
		if rm.name == "Render" && rm.result != "github.com/gocvx/gocvx/cellio.Bundle" {
			field = "Data"
		}
		fields = append(fields, fmt.Sprintf("%s: %s.%s", field, v, rm.name))
	}
	return strings.Join(fields, ", ")
}

// result makes the last expression of the cell its displayed value, unless it
// has none (a call of a function without results) or is a write's (n, err).
func (g *generator) result(es *ast.ExprStmt) {
	tv, ok := g.info.Types[es.X]
	if !ok || tv.IsVoid() || tv.IsType() || tv.IsBuiltin() {
		return
	}
	start, end := g.off(es.X.Pos()), g.off(es.X.End())
	if tup, ok := tv.Type.(*types.Tuple); ok {
		if isWriteResult(tup) && isWriteCall(es.X) {
			return
		}
		vars := make([]string, tup.Len())
		for i := range vars {
			vars[i] = fmt.Sprintf("gocvxV%d", i)
		}
		list := strings.Join(vars, ", ")
		g.add(start, start, "{ "+list+" := ")
		g.add(end, end, "; gocvxrt.ResultN("+list+") }")
		return
	}
	if b, ok := tv.Type.(*types.Basic); ok && tv.Value != nil && b.Info()&types.IsUntyped != 0 {
		// An untyped constant: give it its default type, as := would.
		g.add(start, start, "gocvxrt.Result(")
		g.add(end, end, ")")
		return
	}
	if m := methodsOf(tv.Type, "gocvxV"); m != "" {
		g.add(start, start, "{ gocvxV := ")
		g.add(end, end, "; gocvxrt.ResultRich(gocvxV, gocvxrt.Methods{"+m+"}) }")
		return
	}
	g.add(start, start, "gocvxrt.Result(")
	g.add(end, end, ")")
}

// isWriteResult reports whether a result list is (int, error), what writes
// return (fmt.Println): such a value is not worth displaying.
func isWriteResult(t *types.Tuple) bool {
	if t.Len() != 2 {
		return false
	}
	b, ok := t.At(0).Type().(*types.Basic)
	return ok && b.Kind() == types.Int && types.Identical(t.At(1).Type(), types.Universe.Lookup("error").Type())
}

// isWriteCall reports whether call is a print, write or scan (fmt.Println,
// w.Write, fmt.Sscan...), whose (n, err) result is not worth displaying.
func isWriteCall(x ast.Expr) bool {
	call, ok := ast.Unparen(x).(*ast.CallExpr)
	if !ok {
		return false
	}
	name := ""
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.SelectorExpr:
		name = f.Sel.Name
	case *ast.Ident:
		name = f.Name
	}
	for _, p := range []string{"Print", "Fprint", "Sprint", "Write", "Scan", "Sscan", "Fscan", "Read", "Copy"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// declText sets the yaegi text of one of the cell's declarations.
func (g *generator) declText(d *declaration) {
	pc := g.pc
	switch n := d.node.(type) {
	case *ast.FuncDecl:
		if d.kind == kindFunc {
			d.ysig = pc.renderText(g.off(n.Type.Params.Pos()), g.off(n.Type.End()), g.edits, false)
			// f = func(params) results { body }
			d.text = n.Name.Name + " = " + pc.render(g.off(n.Type.Func), g.off(n.Name.Pos()), nil) +
				pc.render(g.off(n.Name.End()), g.off(n.End()), g.edits)
			return
		}
		d.text = pc.render(g.off(n.Pos()), g.off(n.End()), g.edits)
	case *ast.TypeSpec:
		d.text = "type " + pc.render(g.off(n.Pos()), g.off(n.End()), g.edits)
	case *ast.GenDecl:
		d.text = pc.render(g.off(n.Pos()), g.off(n.End()), g.edits)
	}
}

// bodyText returns the statements of the cell function, after the prologue of
// its frame position (see rewrite_frames.go). A body in which no statement sets
// that position (a cell that calls nothing and cannot fail, such as 1 + 1) goes
// without the prologue: its deferred gocvxrt.Frame would record nothing.
func (g *generator) bodyText(stmts []ast.Stmt) string {
	var b strings.Builder
	for _, s := range stmts {
		if _, ok := s.(*ast.EmptyStmt); ok {
			continue
		}
		// Record which statement of the cell runs, for a cell that the guard
		// stops (it has no traceback of its own; see rewrite_frames.go for
		// panics). run records the first (compiled.at), which saves the
		// compilation of its constant; gocvxrt.Begin checks, before a first
		// statement that may block in compiled code (one that can fail, which
		// sets its frame's position), that the cell was not abandoned (see
		// rtBegin).
		l, c := g.pc.lineCol(g.off(s.Pos()))
		switch at := encodeAt(g.pc.id*lineBase+l, c); {
		case g.c.at != 0:
			fmt.Fprintf(&b, "gocvxrt.At(%d); ", at)
		case g.frame0 != 0:
			g.c.at = at
			b.WriteString("gocvxrt.Begin(); ")
		default:
			g.c.at = at
		}
		b.WriteString(g.pc.render(g.off(s.Pos()), g.off(s.End()), g.edits))
		b.WriteString("\n")
	}
	if g.frame0 == 0 && !strings.Contains(b.String(), frameVar(0)) {
		return b.String()
	}
	return prologue(0, g.frame0) + "\n" + b.String()
}
