package interp

import (
	"fmt"
	"go/ast"
	"strconv"
)

// Imports of a cell: the ones it writes, and the packages it uses by their usual
// name without importing them (autoImportPath).

// addImports adds the cell's explicit imports and the packages it uses by their
// usual names without importing them (as goimports would).
func (cc *compiler) addImports(c *compiled) error {
	pc, q := c.pc, c.prog
	var msgs []string
	for _, is := range pc.imports {
		p, _ := strconv.Unquote(is.Path.Value)
		srcName, fromSource := cc.sourcePackage(p)
		if !cc.importer.has(p) && !fromSource {
			msgs = append(msgs, fmt.Sprintf("%s: package %s is not available: cells can import the standard library, gonum, gonum/plot and gocvx packages", cc.fset.Position(is.Path.Pos()), p))
			continue
		}
		name := cc.importer.name(p)
		if fromSource {
			name = srcName
		}
		if is.Name != nil {
			name = is.Name.Name
		}
		switch name {
		case "_":
			continue
		case ".":
			msgs = append(msgs, fmt.Sprintf("%s: dot imports are not supported in cells; import %q and qualify its names", cc.fset.Position(is.Pos()), p))
			continue
		}
		if old, ok := q.imports[name]; ok && old != p {
			msgs = append(msgs, fmt.Sprintf("%s: %s already names package %q in this notebook; import %q under another name (import x %q)", cc.fset.Position(is.Pos()), name, old, p, p))
			continue
		}
		if d := q.decls[name]; d != nil && d.cell.num != pc.num {
			delete(q.decls, name)
		}
		q.imports[name] = p
	}
	if len(msgs) > 0 {
		return &compileError{msgs}
	}
	// Auto-import: a selector x.Y whose x is not declared anywhere and is the
	// usual name of an available package.
	local := map[string]bool{}
	for _, s := range pc.stmts {
		for _, n := range topLevelDefs([]ast.Stmt{s}) {
			local[n] = true
		}
		if ds, ok := s.(*ast.DeclStmt); ok {
			for _, sp := range ds.Decl.(*ast.GenDecl).Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					local[sp.Name.Name] = true
				case *ast.ValueSpec:
					for _, n := range sp.Names {
						local[n.Name] = true
					}
				}
			}
		}
	}
	for _, fd := range pc.funcs {
		if fd.Recv == nil {
			local[fd.Name.Name] = true
		}
	}
	visit := func(n ast.Node) bool {
		se, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := se.X.(*ast.Ident)
		if !ok {
			return true
		}
		name := id.Name
		if _, ok := q.imports[name]; ok || local[name] || q.decls[name] != nil || q.vars[name] != nil {
			return true
		}
		if p := autoImportPath(name, cc.importer); p != "" {
			q.imports[name] = p
		}
		return true
	}
	ast.Inspect(pc.stmtFile, visit)
	ast.Inspect(pc.declFile, visit)
	return nil
}

// autoImportPath returns the path of the available package usually imported
// under name, or "".
func autoImportPath(name string, im *symbolImporter) string {
	if p, ok := preferredImports[name]; ok {
		if im.has(p) {
			return p
		}
	}
	return im.byName(name)
}

// preferredImports settles names that several available packages share.
var preferredImports = map[string]string{
	"rand":     "math/rand",
	"template": "text/template",
	"draw":     "gonum.org/v1/plot/vg/draw",
	"scanner":  "text/scanner",
	"constant": "go/constant",
	"pprof":    "runtime/pprof",
	"big":      "math/big",
	"json":     "encoding/json",
	"cell":     "github.com/gocvx/gocvx/cell",
	"solver":   "github.com/gocvx/gocvx/solver",
	"display":  "github.com/gocvx/gocvx/display",
	"dataset":  "github.com/gocvx/gocvx/solver/dataset",
	"plot":     "gonum.org/v1/plot",
	"mat":      "gonum.org/v1/gonum/mat",
	"stat":     "gonum.org/v1/gonum/stat",
	"floats":   "gonum.org/v1/gonum/floats",
	"optimize": "gonum.org/v1/gonum/optimize",
	"distuv":   "gonum.org/v1/gonum/stat/distuv",
	"plotter":  "gonum.org/v1/plot/plotter",
	"vg":       "gonum.org/v1/plot/vg",
	"plotutil": "gonum.org/v1/plot/plotutil",
	"vgimg":    "gonum.org/v1/plot/vg/vgimg",
	"vgsvg":    "gonum.org/v1/plot/vg/vgsvg",
}
