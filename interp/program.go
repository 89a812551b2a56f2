package interp

import (
	"go/ast"
	"go/token"
	"go/types"
	"maps"
	"sort"
	"strconv"
	"strings"
)

// declKind is what a package-level name of the cells is.
type declKind int

const (
	kindType    declKind = iota
	kindConst            // a whole const group (iota makes its specs inseparable)
	kindFunc             // a non-generic function: run as a package variable holding a func
	kindGeneric          // a generic function or init: a real declaration
	kindMethod
	kindVar // a variable hoisted from := or var at a cell's top level
)

func (k declKind) String() string {
	return [...]string{"type", "const", "func", "func", "method", "var"}[k]
}

// declaration is one package-level declaration made by a cell, in its latest version.
type declaration struct {
	kind  declKind
	names []string // the names it declares ("T.M" for a method)
	cell  *parsedCell
	node  ast.Node // *ast.FuncDecl, *ast.TypeSpec or *ast.GenDecl (const)
	src   string   // its source text, to tell a real change from a re-run
	sig   string   // kindFunc: the signature's source text ("(a int) int")
	ysig  string   // kindFunc: the signature as yaegi sees it (after rewrites)
	doc   string   // doc comment, for inspection
	// yaegi text: the declaration (types, consts, methods, generics) or the
	// assignment of the function literal (kindFunc), with line directives.
	text string
}

// hoistedVar is a variable defined at the top level of a cell, kept as a package
// variable so that later cells see it.
type hoistedVar struct {
	name     string
	typ      types.Type
	typeText string // the type in the cells' source form ("[]float64", "*mat.Dense")
	cell     int
	node     ast.Node // the defining identifier's statement, for inspection
	src      string   // the statement's source, for inspection
	pc       *parsedCell
}

// program is the state of the cells' package: the latest declaration of every name
// and the hoisted variables. The type checker sees it as one package of several
// files; yaegi sees it as chunks compiled in order (or, after a replay, as one).
type program struct {
	decls   map[string]*declaration // by name (methods as "T.M")
	vars    map[string]*hoistedVar
	imports map[string]string // name → path: every import any cell made or needed
	cells   []*recordedCell   // cells whose statements replay rebuilds
	// pkg is the package of the type check that made the program (the check
	// of the whole program, or of the cell alone: see compiler.checkAlone): its
	// scope holds exactly the program's declarations and variables, as the
	// checker made them. Nil in a new program, and after a cell that failed
	// left names of its own in the scope.
	pkg *types.Package
	// shared says which maps are still those of the program this one was
	// cloned from (see clone).
	shared int
}

func newProgram() *program {
	return &program{decls: map[string]*declaration{}, vars: map[string]*hoistedVar{}, imports: map[string]string{}}
}

// clone returns a copy that a failing cell can be applied to and thrown away.
// The copy shares p's maps until it changes one (copy on write: every change
// of a program's maps goes through ownDecls, ownVars or ownImports), so that a
// cell that changes none of them, an expression or a call, does not copy what
// every earlier cell declared. A program that was cloned is not changed
// afterwards (the session's program is replaced, never changed in place).
// The copy shares the recorded cells' array with p too: only the copy that
// becomes the session's program appends to it (record), once, and p is then
// dropped, so no two programs ever append to the same array. (Copying the list
// made every cell cost time in proportion to the cells before it.)
func (p *program) clone() *program {
	return &program{decls: p.decls, vars: p.vars, imports: p.imports, cells: p.cells, pkg: p.pkg, shared: sharedDecls | sharedVars | sharedImports}
}

// The maps that a program shares with the one it was cloned from.
const (
	sharedDecls = 1 << iota
	sharedVars
	sharedImports
)

// ownDecls returns the program's declarations, for a change: a copy of its
// own if it shared them.
func (q *program) ownDecls() map[string]*declaration {
	if q.shared&sharedDecls != 0 {
		q.decls = maps.Clone(q.decls)
		q.shared &^= sharedDecls
	}
	return q.decls
}

// ownVars is ownDecls for the variables.
func (q *program) ownVars() map[string]*hoistedVar {
	if q.shared&sharedVars != 0 {
		q.vars = maps.Clone(q.vars)
		q.shared &^= sharedVars
	}
	return q.vars
}

// ownImports is ownDecls for the imports.
func (q *program) ownImports() map[string]string {
	if q.shared&sharedImports != 0 {
		q.imports = maps.Clone(q.imports)
		q.shared &^= sharedImports
	}
	return q.imports
}

// sortedDecls returns the distinct declarations in a stable order (by cell, then
// position), so that generated sources are deterministic.
func (p *program) sortedDecls() []*declaration {
	seen := map[*declaration]bool{}
	var out []*declaration
	for _, d := range p.decls {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].cell.num != out[j].cell.num {
			return out[i].cell.num < out[j].cell.num
		}
		return out[i].node.Pos() < out[j].node.Pos()
	})
	return out
}

func (p *program) sortedVars() []*hoistedVar {
	out := make([]*hoistedVar, 0, len(p.vars))
	for _, v := range p.vars {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// importDecl builds an import declaration of every package in imports, for one
// file of the type checker (imports are per file; every cell file gets them all).
func importDecl(imports map[string]string) *ast.GenDecl {
	names := make([]string, 0, len(imports))
	for n := range imports {
		names = append(names, n)
	}
	sort.Strings(names)
	d := &ast.GenDecl{Tok: token.IMPORT}
	for _, n := range names {
		d.Specs = append(d.Specs, &ast.ImportSpec{
			Name: ast.NewIdent(n),
			Path: &ast.BasicLit{Kind: token.STRING, Value: strconv.Quote(imports[n])},
		})
	}
	return d
}

// typeText renders t as source for the cells' package, qualifying packages by the
// name returned by qual; ok is false when t cannot be written in source (an
// unexported type of another package, or a type parameter, for instance).
func typeText(t types.Type, qual func(*types.Package) string) (s string, ok bool) {
	return typeTextScoped(t, qual, false)
}

// typeTextScoped is typeText for code inside a generic function's body, where
// the function's type parameters may be written when typeParams is true.
func typeTextScoped(t types.Type, qual func(*types.Package) string, typeParams bool) (s string, ok bool) {
	ok = true
	var check func(t types.Type)
	seen := map[types.Type]bool{}
	check = func(t types.Type) {
		if seen[t] || !ok {
			return
		}
		seen[t] = true
		switch t := t.(type) {
		case *types.Named:
			obj := t.Obj()
			if obj.Pkg() != nil && obj.Pkg().Name() != cellPackage && !obj.Exported() {
				ok = false
			}
			if obj.Parent() != nil && obj.Parent() != obj.Pkg().Scope() && obj.Pkg().Name() == cellPackage {
				ok = false // a type declared inside a function
			}
			if strings.ContainsRune(obj.Name(), '·') {
				ok = false
			}
			if ta := t.TypeArgs(); ta != nil {
				for i := 0; i < ta.Len(); i++ {
					check(ta.At(i))
				}
			}
		case *types.Alias:
			check(types.Unalias(t))
		case *types.Pointer:
			check(t.Elem())
		case *types.Slice:
			check(t.Elem())
		case *types.Array:
			check(t.Elem())
		case *types.Map:
			check(t.Key())
			check(t.Elem())
		case *types.Chan:
			check(t.Elem())
		case *types.Signature:
			for i := 0; i < t.Params().Len(); i++ {
				check(t.Params().At(i).Type())
			}
			for i := 0; i < t.Results().Len(); i++ {
				check(t.Results().At(i).Type())
			}
		case *types.Struct:
			for i := 0; i < t.NumFields(); i++ {
				f := t.Field(i)
				if !f.Exported() && f.Pkg() != nil && f.Pkg().Name() != cellPackage {
					ok = false
				}
				check(f.Type())
			}
		case *types.Interface:
			for i := 0; i < t.NumExplicitMethods(); i++ {
				check(t.ExplicitMethod(i).Type())
			}
			for i := 0; i < t.NumEmbeddeds(); i++ {
				check(t.EmbeddedType(i))
			}
		case *types.Basic:
			if t.Info()&types.IsUntyped != 0 || t.Kind() == types.Invalid {
				ok = false
			}
		case *types.TypeParam:
			ok = ok && typeParams
		case *types.Tuple:
			ok = false
		}
	}
	check(t)
	if !ok {
		return "", false
	}
	return types.TypeString(t, func(p *types.Package) string {
		if p.Name() == cellPackage {
			return ""
		}
		return qual(p)
	}), true
}

// onlyInertExprs reports whether stmts are expression statements that evaluate
// without effects on the program's state: no call other than a conversion or
// one of the builtins len, cap, min, max, real, imag and complex, no channel
// receive. (Evaluating one may still panic, as an index out of range, which a
// replay would only repeat.) A function literal's body does not run where it
// is written.
func onlyInertExprs(stmts []ast.Stmt, info *types.Info) bool {
	for _, st := range stmts {
		es, ok := st.(*ast.ExprStmt)
		if !ok {
			return false
		}
		inert := true
		ast.Inspect(es.X, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				return false
			case *ast.UnaryExpr:
				if n.Op == token.ARROW {
					inert = false
				}
			case *ast.CallExpr:
				if !isConversion(n, info) && !isInertBuiltin(n, info) {
					inert = false
				}
			}
			return inert
		})
		if !inert {
			return false
		}
	}
	return true
}

func isConversion(call *ast.CallExpr, info *types.Info) bool {
	tv, ok := info.Types[call.Fun]
	return ok && tv.IsType()
}

func isInertBuiltin(call *ast.CallExpr, info *types.Info) bool {
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok {
		return false
	}
	b, ok := info.Uses[id].(*types.Builtin)
	if !ok {
		return false
	}
	switch b.Name() {
	case "len", "cap", "min", "max", "real", "imag", "complex":
		return true
	}
	return false
}
