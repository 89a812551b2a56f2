package interp

import (
	"go/ast"
	"go/types"
)

// rewrites adds the edits that make yaegi behave like Go 1.26 and like a
// notebook kernel should, over the whole cell (statements and declarations).
func (g *generator) rewrites() {
	visit := func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			g.rewriteCall(n)
		case *ast.SelectorExpr:
			g.rewriteSelector(n)
		}
		return true
	}
	for _, s := range g.pc.stmts {
		ast.Inspect(s, visit)
	}
	for _, f := range g.pc.funcs {
		ast.Inspect(f, visit)
	}
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

func (g *generator) rewriteCall(call *ast.CallExpr) {
	// print and println write to standard error, as in Go (yaegi writes them to
	// standard output).
	if id, ok := call.Fun.(*ast.Ident); ok {
		if b, ok := g.info.Uses[id].(*types.Builtin); ok {
			switch b.Name() {
			case "print":
				g.replaceNode(id, "gocvxrt.Print")
			case "println":
				g.replaceNode(id, "gocvxrt.Println")
			}
		}
	}
}

func (g *generator) rewriteSelector(se *ast.SelectorExpr) {
	switch p, name := g.pkgFunc(se); {
	case p == "time" && name == "Sleep":
		// A sleep in compiled code would not notice an interrupt.
		g.replaceNode(se, "gocvxrt.Sleep")
	}
}
