package interp

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"sort"
)

// Hoisting: the variables a cell defines at its top level become package
// variables with their checked types, so that later cells see them.

// topLevelDefs returns the names that := and var statements define at the top
// level of a cell.
func topLevelDefs(stmts []ast.Stmt) []string {
	var out []string
	for _, s := range stmts {
		for _, id := range definedIdents(s) {
			if id.Name != "_" {
				out = append(out, id.Name)
			}
		}
	}
	return out
}

// definedIdents returns the identifiers a top-level statement may define.
func definedIdents(s ast.Stmt) []*ast.Ident {
	var out []*ast.Ident
	switch s := s.(type) {
	case *ast.AssignStmt:
		if s.Tok == token.DEFINE {
			for _, l := range s.Lhs {
				if id, ok := l.(*ast.Ident); ok {
					out = append(out, id)
				}
			}
		}
	case *ast.DeclStmt:
		if gd := s.Decl.(*ast.GenDecl); gd.Tok == token.VAR {
			for _, sp := range gd.Specs {
				out = append(out, sp.(*ast.ValueSpec).Names...)
			}
		}
	}
	return out
}

// hoistVars decides which variables defined at the cell's top level become
// package variables (hoist) and which stay local to the cell function (local:
// those whose type cannot be named outside the cell). A statement's new
// variables are hoisted all or none, since it stays a := or becomes a plain
// assignment as a whole; the variables it redeclares (the err of a second
// "b, err :=") are assigned, as in Go, whether hoisted or not.
func (cc *compiler) hoistVars(c *compiled, stmts []ast.Stmt, info *types.Info) (hoist, local map[*ast.Ident]bool, err error) {
	pc := c.pc
	hoist, local = map[*ast.Ident]bool{}, map[*ast.Ident]bool{}
	hoistedObj := map[types.Object]bool{}
	var msgs []string
	for _, s := range stmts {
		type def struct {
			id   *ast.Ident
			obj  *types.Var
			text string
		}
		var defs []def
		var reused []*ast.Ident // redeclared by a :=, so assigned
		unnamed := ""
		for _, id := range definedIdents(s) {
			if id.Name == "_" {
				continue
			}
			obj, _ := info.Defs[id].(*types.Var)
			if obj == nil {
				if as, ok := s.(*ast.AssignStmt); ok && as.Tok == token.DEFINE {
					reused = append(reused, id)
				}
				continue
			}
			text, ok := typeText(obj.Type(), func(p *types.Package) string { return p.Name() })
			if !ok && unnamed == "" {
				unnamed = id.Name
			}
			defs = append(defs, def{id, obj, text})
		}
		if unnamed != "" {
			for _, d := range defs {
				local[d.id] = true
				why := "its type cannot be named"
				if d.id.Name != unnamed {
					why = "it is defined together with " + unnamed + ", whose type cannot be named"
				}
				c.notes = append(c.notes, fmt.Sprintf("note: %s (%s) is local to %s: %s, so later cells cannot see it\n", d.id.Name, d.obj.Type(), pc.name, why))
			}
			for _, id := range reused {
				if hoistedObj[info.Uses[id]] {
					// The := stays one and would declare a local of that
					// name, which the notebook's variable must not become.
					msgs = append(msgs, fmt.Sprintf("%s: %s is a variable of the notebook, which this := cannot assign since %s stays local to the cell (its type cannot be named): define %s in a statement of its own", cc.fset.Position(id.Pos()), id.Name, unnamed, unnamed))
				}
			}
			continue
		}
		for _, d := range defs {
			hoist[d.id] = true
			hoistedObj[d.obj] = true
			hv := &hoistedVar{name: d.id.Name, typ: d.obj.Type(), typeText: d.text, cell: pc.num, node: s, src: pc.text(s.Pos(), s.End()), pc: pc}
			c.newVars = append(c.newVars, hv)
		}
	}
	// A statement of the cell that uses an earlier cell's variable that the
	// cell then defines anew: it is one package variable, so it keeps one type.
	byName := map[string]*hoistedVar{}
	for _, hv := range c.newVars {
		if byName[hv.name] == nil {
			byName[hv.name] = hv
		}
	}
	firstDef := map[string]*ast.Ident{}
	for id := range hoist {
		if f := firstDef[id.Name]; f == nil || id.Pos() < f.Pos() {
			firstDef[id.Name] = id
		}
	}
	var uses []*ast.Ident
	for id, obj := range info.Uses {
		v, ok := obj.(*types.Var)
		if !ok || v.Pkg() == nil || v.Pkg().Name() != cellPackage || v.Parent() != v.Pkg().Scope() {
			continue
		}
		hv, old := byName[id.Name], cc.prog.vars[id.Name]
		if hv == nil || old == nil || old.typeText == hv.typeText || cc.fset.Position(id.Pos()).Filename != pc.name {
			continue
		}
		uses = append(uses, id)
	}
	sort.Slice(uses, func(i, j int) bool { return uses[i].Pos() < uses[j].Pos() })
	for _, id := range uses {
		hv, old := byName[id.Name], cc.prog.vars[id.Name]
		msgs = append(msgs, fmt.Sprintf("%s: %s here is the notebook's %s (%s), which this cell then defines anew with type %s at %s: a notebook variable has one type at a time; use another name for one of them", cc.fset.Position(id.Pos()), id.Name, id.Name, old.typeText, hv.typeText, cc.fset.Position(firstDef[id.Name].Pos())))
	}
	if len(msgs) > 0 {
		return nil, nil, &compileError{dedupe(msgs)}
	}
	return hoist, local, nil
}

// hoistStmt turns a top-level definition into an assignment to the hoisted
// package variables (for the second check; the source edits do the same),
// unless it defines a variable that stays local.
func hoistStmt(s ast.Stmt, local map[*ast.Ident]bool) {
	as, ok := s.(*ast.AssignStmt)
	if !ok || as.Tok != token.DEFINE {
		return
	}
	for _, l := range as.Lhs {
		if id, ok := l.(*ast.Ident); ok && local[id] {
			return
		}
	}
	as.Tok = token.ASSIGN
}

// stmtsForCheck replaces top-level var declarations of hoisted variables by
// assignments of their initial values.
func stmtsForCheck(stmts []ast.Stmt, hoist map[*ast.Ident]bool) []ast.Stmt {
	var out []ast.Stmt
	for _, s := range stmts {
		ds, ok := s.(*ast.DeclStmt)
		if !ok {
			out = append(out, s)
			continue
		}
		gd := ds.Decl.(*ast.GenDecl)
		var keep []ast.Spec
		for _, sp := range gd.Specs {
			vs := sp.(*ast.ValueSpec)
			if len(vs.Names) == 0 || !hoist[vs.Names[0]] {
				keep = append(keep, vs)
				continue
			}
			if len(vs.Values) > 0 {
				lhs := make([]ast.Expr, len(vs.Names))
				for i, n := range vs.Names {
					lhs[i] = n
				}
				out = append(out, &ast.AssignStmt{Lhs: lhs, TokPos: vs.Names[0].End(), Tok: token.ASSIGN, Rhs: vs.Values})
			}
		}
		if len(keep) > 0 {
			cp := *gd
			cp.Specs = keep
			out = append(out, &ast.DeclStmt{Decl: &cp})
		}
	}
	return out
}
