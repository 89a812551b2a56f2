package interp

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"slices"
	"sort"
	"strings"
)

// compiled is a cell turned into what the interpreter runs.
type compiled struct {
	pc   *parsedCell
	prog *program // the program with the cell applied
	info *types.Info

	newDecls []*declaration // the cell's declarations (also unchanged ones)
	changed  []*declaration // those that are new or differ from what they replace
	newVars  []*hoistedVar
	// inert is set for a cell that declares nothing and whose statements only
	// evaluate expressions that call nothing (a name, 1 + 1, x.F, m[k]): replaying
	// it could not change the program's state, so it is not recorded for replays.
	inert   bool
	replay  bool   // yaegi cannot apply the change in place
	body    string // the statements, for the cell function (with line directives)
	at      int64  // the position of its first statement (encodeAt), which run records
	funcs   string // assignments of the cell's functions (kindFunc), with directives
	notes   []string
	hidden  map[string]bool // packages the hoisted types name (see hiddenAlias)
	retyped map[string]bool // package variables (and functions) whose type changes

	// checkedAlone is set when the cell was checked alone (checkAlone), without
	// the earlier declarations; declaredAlone when that check declared variables
	// of the cell in the program's package.
	checkedAlone, declaredAlone bool
}

// compileError is a cell that does not compile; positions are in cell numbering.
type compileError struct{ msgs []string }

func (e *compileError) Error() string { return strings.Join(e.msgs, "\n") }

// edit replaces code[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// render returns code[start:end] with the edits inside it applied, preceded by a
// line directive, with a directive after each edit so that every original token
// keeps its cell position.
func (pc *parsedCell) render(start, end int, edits []edit) string {
	return pc.renderText(start, end, edits, true)
}

func (pc *parsedCell) renderText(start, end int, edits []edit, directives bool) string {
	var b strings.Builder
	if directives {
		b.WriteString(pc.directive(start))
	}
	at := start
	for _, e := range edits {
		if e.start < start || e.end > end || e.start < at {
			continue
		}
		b.WriteString(pc.code[at:e.start])
		b.WriteString(e.text)
		at = e.end
		if at < end && directives {
			b.WriteString(pc.directive(at))
		}
	}
	b.WriteString(pc.code[at:end])
	return b.String()
}

func (pc *parsedCell) renderNode(n ast.Node, edits []edit) string {
	return pc.render(pc.offset(n.Pos()), pc.offset(n.End()), edits)
}

// compiler holds what compiling a cell needs from the session.
type compiler struct {
	fset     *token.FileSet
	importer *symbolImporter
	sources  *cellModules // packages from source, nil for none
	prog     *program
	temp     []*token.File // files parsed for one check (hoistFile), see dropTemp
}

// dropTemp removes from the file set the files that only one compilation needed.
func (cc *compiler) dropTemp() {
	for _, f := range cc.temp {
		cc.fset.RemoveFile(f)
	}
	cc.temp = nil
}

// receiverName returns the base type name of a method's receiver.
func receiverName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return ""
	}
	t := fd.Recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.ParenExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

func docText(g *ast.CommentGroup) string {
	if g == nil {
		return ""
	}
	return g.Text()
}

// compile type-checks pc against the program and produces what yaegi runs, in
// four steps: the cell's declarations (declarations), a first check of its
// statements as a function body to learn the types of its top-level variables,
// which are then hoisted to package variables (hoistVars), a second check of the
// program as yaegi will run it, and the generation of the interpreter's source
// (generate).
func (cc *compiler) compile(pc *parsedCell) (_ *compiled, err error) {
	defer cc.dropTemp()
	c := &compiled{pc: pc, prog: cc.prog.clone(), hidden: map[string]bool{}}
	q := c.prog

	// Imports: explicit ones first, then the packages the cell uses by name.
	if err := cc.addImports(c); err != nil {
		return nil, err
	}
	typeConst, stmts := cc.declarations(c)

	// Names the cell declares replace earlier declarations and variables.
	declared := map[string]bool{}
	for _, d := range c.newDecls {
		for _, n := range d.names {
			declared[n] = true
		}
	}
	cc.removeReplaced(c, declared)
	// The variables the cell defines replace those of earlier cells only once
	// the cell is checked: until its := runs, a statement of the cell may still
	// use (assign) the earlier cells' variable of that name, as a function body
	// uses a package variable before it declares a local one.
	topDefs := topLevelDefs(stmts)
	definesNone := definesNothing(stmts) // before hoisting turns := into =

	// Pass 1: the statements in a function, as Go would check them, to learn the
	// types of the variables defined at the cell's top level. A cell that
	// declares nothing is checked alone, in the package of the program's last
	// check (checkAlone).
	info1 := newInfo()
	alone := q.pkg != nil && len(c.newDecls) == 0
	var errs []types.Error
	if alone {
		errs = cc.checkAlone(q.pkg, q.imports, cc.cellFile(nil, pc, typeConst, pc.funcs, stmts, true), nil, info1)
	} else {
		files := cc.programFiles(q, pc, false)
		if hf := cc.hoistFile(q.sortedVars()); hf != nil {
			files = append(files, hf)
		}
		errs, _ = cc.check(append(files, cc.cellFile(importDecl(q.imports), pc, typeConst, pc.funcs, stmts, true)), info1)
	}
	if msgs := cellErrors(errs, pc, true, topDefs); len(msgs) > 0 {
		return nil, &compileError{msgs}
	}

	// Hoist the top-level variables: their types become package variables.
	hoist, local, err := cc.hoistVars(c, stmts, info1)
	if err != nil {
		return nil, err
	}
	hoisted := map[string]bool{}
	for _, hv := range c.newVars {
		hoisted[hv.name] = true
	}
	cc.removeReplaced(c, hoisted)
	for _, hv := range c.newVars {
		q.ownVars()[hv.name] = hv
	}
	for _, d := range c.newDecls {
		for _, n := range d.names {
			q.ownDecls()[n] = d
		}
	}

	// Pass 2: the program as yaegi will run it, with the variables hoisted. The
	// earlier declarations need checking again only if the cell changes one of
	// them or the type of a variable they may use.
	changedTypes := cc.classifyChanges(c)
	for _, s := range stmts {
		hoistStmt(s, local)
	}
	info2 := info1
	switch {
	case alone && !c.replay && len(c.retyped) == 0 && definesNone && len(staleErrors(errs, pc)) == 0:
		// A cell that declares and defines nothing (an expression, a call):
		// the second pass would check the first one's file again, in the same
		// package, with nothing hoisted. Its result is the first one's.
		errs = nil
		c.checkedAlone = true
	case alone && !c.replay && len(c.retyped) == 0:
		var fresh []*hoistedVar // the variables that the package does not have yet
		for _, v := range c.newVars {
			if q.pkg.Scope().Lookup(v.name) == nil {
				fresh = append(fresh, v)
			}
		}
		info2 = newInfo()
		errs = cc.checkAlone(q.pkg, q.imports, cc.cellFile(nil, pc, typeConst, pc.funcs, stmtsForCheck(stmts, hoist), false), fresh, info2)
		c.checkedAlone, c.declaredAlone = true, len(fresh) > 0
		defer func() {
			if err != nil && c.declaredAlone {
				cc.prog.pkg = nil // its scope has variables of a cell that failed
			}
		}()
	default:
		files := append(cc.programFiles(q, pc, c.replay || len(c.retyped) > 0), cc.cellFile(importDecl(q.imports), pc, typeConst, pc.funcs, stmtsForCheck(stmts, hoist), false))
		if hf := cc.hoistFile(q.sortedVars()); hf != nil {
			files = append(files, hf)
		}
		info2 = newInfo()
		errs, q.pkg = cc.check(files, info2)
	}
	if msgs := cellErrors(errs, pc, false, topDefs); len(msgs) > 0 {
		return nil, &compileError{msgs}
	}
	if msgs := staleErrors(errs, pc); len(msgs) > 0 {
		return nil, &compileError{append([]string{fmt.Sprintf("%s changes %s, which earlier cells still use:", pc.name, strings.Join(changedTypes, ", "))}, msgs...)}
	}
	c.info = info2
	if usesRetyped(c, info2, cc.fset) {
		c.replay = true
	}
	if err := generate(c, stmts, hoist); err != nil {
		return nil, err
	}
	c.inert = len(c.newDecls) == 0 && len(c.newVars) == 0 && !pc.program && onlyInertExprs(stmts, info2)
	return c, nil
}

// declarations records the cell's declarations in c.newDecls: its types and
// constants, which move to package level (typeConst), and its functions and
// methods. The other statements are what runs in the cell function (stmts).
func (cc *compiler) declarations(c *compiled) (typeConst, stmts []ast.Stmt) {
	pc := c.pc
	for _, s := range pc.stmts {
		if ds, ok := s.(*ast.DeclStmt); ok {
			if gd := ds.Decl.(*ast.GenDecl); gd.Tok == token.TYPE || gd.Tok == token.CONST {
				typeConst = append(typeConst, s)
				continue
			}
		}
		stmts = append(stmts, s)
	}
	for _, s := range typeConst {
		gd := s.(*ast.DeclStmt).Decl.(*ast.GenDecl)
		if gd.Tok == token.CONST {
			d := &declaration{kind: kindConst, cell: pc, node: gd, src: pc.text(gd.Pos(), gd.End()), doc: docText(gd.Doc)}
			for _, sp := range gd.Specs {
				for _, n := range sp.(*ast.ValueSpec).Names {
					if n.Name != "_" {
						d.names = append(d.names, n.Name)
					}
				}
			}
			d.text = pc.renderNode(gd, nil)
			c.newDecls = append(c.newDecls, d)
			continue
		}
		for _, sp := range gd.Specs {
			ts := sp.(*ast.TypeSpec)
			src := "type " + pc.text(ts.Pos(), ts.End())
			doc := docText(ts.Doc)
			if doc == "" && len(gd.Specs) == 1 {
				doc = docText(gd.Doc)
			}
			d := &declaration{kind: kindType, names: []string{ts.Name.Name}, cell: pc, node: ts, src: src, doc: doc}
			d.text = "type " + pc.renderNode(ts, nil)
			c.newDecls = append(c.newDecls, d)
		}
	}
	for _, fd := range pc.funcs {
		d := &declaration{cell: pc, node: fd, src: pc.text(fd.Pos(), fd.End()), doc: docText(fd.Doc)}
		if fd.Doc == nil {
			d.doc = docText(cc.commentBefore(pc, fd.Pos()))
		}
		switch {
		case fd.Recv != nil:
			d.kind = kindMethod
			d.names = []string{receiverName(fd) + "." + fd.Name.Name}
		case fd.Type.TypeParams != nil || fd.Name.Name == "init" || fd.Body == nil:
			d.kind = kindGeneric
			d.names = []string{fd.Name.Name}
			if fd.Name.Name == "init" {
				d.names = []string{fmt.Sprintf("init·%d·%d", pc.num, fd.Pos())}
			}
		default:
			d.kind = kindFunc
			d.names = []string{fd.Name.Name}
			d.sig = pc.text(fd.Type.Params.Pos(), fd.Type.End())
		}
		c.newDecls = append(c.newDecls, d)
	}
	return typeConst, stmts
}

// generate writes the interpreter's source of the checked cell: the text of each
// declaration, the cell function's body, and the function declarations that the
// cell function assigns (see gen.go and rewrite*.go).
func generate(c *compiled, stmts []ast.Stmt, hoist map[*ast.Ident]bool) error {
	pc := c.pc
	g := &generator{c: c, pc: pc, info: c.info, hoist: hoist}
	g.collectEdits(stmts)
	if len(g.errs) > 0 {
		return &compileError{dedupe(g.errs)}
	}
	for _, d := range c.newDecls {
		g.declText(d)
	}
	c.body = g.bodyText(stmts)
	if pc.program && len(stmts) == 0 {
		for _, d := range c.newDecls {
			if d.kind == kindFunc && d.names[0] == "main" && d.sig == "()" {
				c.body = "gocvxrt.Begin(); main()\n" // a pasted program runs (Begin: see bodyText)
			}
		}
	}
	var fb strings.Builder
	for _, d := range c.newDecls {
		if d.kind == kindFunc {
			fb.WriteString(d.text)
			fb.WriteString("\n")
		}
	}
	c.funcs = fb.String()
	return nil
}

// commentBefore returns the comment group of the cell's statement file that ends
// on the line before pos (a function's doc comment, which the statement file
// holds since the function itself was blanked out of it).
func (cc *compiler) commentBefore(pc *parsedCell, pos token.Pos) *ast.CommentGroup {
	line := cc.fset.Position(pos).Line
	for _, g := range pc.stmtFile.Comments {
		if cc.fset.Position(g.End()).Line == line-1 {
			return g
		}
	}
	return nil
}

func newInfo() *types.Info {
	return &types.Info{
		Types:      map[ast.Expr]types.TypeAndValue{},
		Defs:       map[*ast.Ident]types.Object{},
		Uses:       map[*ast.Ident]types.Object{},
		Instances:  map[*ast.Ident]types.Instance{},
		Selections: map[*ast.SelectorExpr]*types.Selection{},
	}
}

// removeReplaced removes from the program what the cell's names replace.
func (cc *compiler) removeReplaced(c *compiled, declared map[string]bool) {
	q := c.prog
	for name := range declared {
		if d := q.decls[name]; d != nil {
			if d.kind == kindConst {
				// A const group goes as a whole (iota ties its specs together).
				for _, n := range d.names {
					delete(q.ownDecls(), n)
				}
			}
			delete(q.ownDecls(), name)
			if d.kind == kindType {
				// Its methods go too, unless the cell redeclares them.
				for k, m := range q.decls {
					if m.kind == kindMethod && strings.HasPrefix(k, name+".") && !declared[k] {
						c.replay = true
						delete(q.ownDecls(), k)
					}
				}
			}
		}
		delete(q.ownVars(), name)
		if _, ok := q.imports[name]; ok {
			delete(q.ownImports(), name)
		}
	}
}

// classifyChanges decides whether yaegi can take the cell in place or needs a
// replay, and marks which declarations change; it returns the names of changed
// declarations that earlier code may use.
func (cc *compiler) classifyChanges(c *compiled) []string {
	old := cc.prog
	var names []string
	c.retyped = map[string]bool{}
	for _, d := range c.newDecls {
		var prev *declaration
		for _, n := range d.names {
			if p := old.decls[n]; p != nil {
				prev = p
			}
		}
		same := prev != nil && prev.kind == d.kind && prev.src == d.src
		if !same {
			c.changed = append(c.changed, d)
		}
		for _, n := range d.names {
			if v := old.vars[n]; v != nil {
				names = append(names, n)
				if d.kind == kindFunc {
					c.retyped[n] = true // a variable becomes a function variable
				} else {
					c.replay = true // a variable becomes a type or a constant
				}
			}
			p := old.decls[n]
			if p == nil || same {
				continue
			}
			names = append(names, n)
			switch {
			case d.kind == kindFunc && p.kind == kindFunc && p.sig == d.sig:
				// Same signature: reassigning the function variable is enough.
			case d.kind == kindFunc && p.kind == kindFunc:
				c.retyped[n] = true
			default:
				c.replay = true
			}
		}
	}
	for _, v := range c.newVars {
		if p := old.vars[v.name]; p != nil && p.typeText != v.typeText {
			c.retyped[v.name] = true
			names = append(names, v.name)
		}
		if p := old.decls[v.name]; p != nil {
			names = append(names, v.name)
			if p.kind == kindFunc {
				c.retyped[v.name] = true
			} else {
				c.replay = true
			}
		}
	}
	sort.Strings(names)
	return names
}

// usesRetyped reports whether earlier cells' declarations use a package-level
// name whose type the cell changes: yaegi compiled them against the old
// variable, so the program must be replayed.
func usesRetyped(c *compiled, info *types.Info, fset *token.FileSet) bool {
	if len(c.retyped) == 0 {
		return false
	}
	for id, obj := range info.Uses {
		if !c.retyped[id.Name] || obj.Pkg() == nil || obj.Parent() != obj.Pkg().Scope() {
			continue
		}
		if fset.Position(id.Pos()).Filename != c.pc.name {
			return true
		}
	}
	return false
}

// programFiles returns the earlier cells' declarations as files for the checker.
// Function bodies are left out unless full is set (they cannot change the
// types the new cell sees, but a change may break them).
func (cc *compiler) programFiles(q *program, current *parsedCell, full bool) []*ast.File {
	byCell := map[*parsedCell][]ast.Decl{}
	var order []*parsedCell
	for _, d := range q.sortedDecls() {
		if d.cell == current {
			continue
		}
		if _, ok := byCell[d.cell]; !ok {
			order = append(order, d.cell)
		}
		var decl ast.Decl
		switch n := d.node.(type) {
		case *ast.FuncDecl:
			if full {
				decl = n
			} else {
				cp := *n
				cp.Body = nil
				decl = &cp
			}
		case *ast.TypeSpec:
			decl = &ast.GenDecl{Tok: token.TYPE, TokPos: n.Pos(), Specs: []ast.Spec{n}}
		case *ast.GenDecl:
			decl = n
		}
		byCell[d.cell] = append(byCell[d.cell], decl)
	}
	var files []*ast.File
	for _, pc := range order {
		f := &ast.File{Name: ast.NewIdent(cellPackage), Decls: append([]ast.Decl{importDecl(q.imports)}, byCell[pc]...)}
		files = append(files, f)
	}
	return files
}

// cellFile builds the file the checker sees for the cell itself, with the
// import declaration imports (nil for checkAlone, which sets it).
func (cc *compiler) cellFile(imports *ast.GenDecl, pc *parsedCell, typeConst []ast.Stmt, funcs []*ast.FuncDecl, stmts []ast.Stmt, noBodies bool) *ast.File {
	f := &ast.File{Name: ast.NewIdent(cellPackage), Decls: []ast.Decl{imports}}
	for _, s := range typeConst {
		f.Decls = append(f.Decls, s.(*ast.DeclStmt).Decl)
	}
	for _, fd := range funcs {
		if noBodies {
			cp := *fd
			cp.Body = nil
			f.Decls = append(f.Decls, &cp)
		} else {
			f.Decls = append(f.Decls, fd)
		}
	}
	body := &ast.BlockStmt{List: stmts}
	if len(pc.stmtFile.Decls) == 1 {
		if fd, ok := pc.stmtFile.Decls[0].(*ast.FuncDecl); ok && fd.Body != nil {
			body.Lbrace, body.Rbrace = fd.Body.Lbrace, fd.Body.Rbrace
		}
	}
	f.Decls = append(f.Decls, &ast.FuncDecl{
		Name: ast.NewIdent(cellFuncName(pc.num)),
		Type: &ast.FuncType{Func: body.Lbrace, Params: &ast.FieldList{}},
		Body: body,
	})
	return f
}

func cellFuncName(n int) string { return fmt.Sprintf("GocvxCell%d", n) }

// hoistFile declares the hoisted variables vars for the checker.
func (cc *compiler) hoistFile(vars []*hoistedVar) *ast.File {
	if len(vars) == 0 {
		return nil
	}
	aliases := map[string]string{}
	var b strings.Builder
	var decls strings.Builder
	for _, v := range vars {
		t := types.TypeString(v.typ, func(p *types.Package) string {
			if p.Name() == cellPackage {
				return ""
			}
			a, ok := aliases[p.Path()]
			if !ok {
				a = fmt.Sprintf("gocvxp%d", len(aliases))
				aliases[p.Path()] = a
			}
			return a
		})
		fmt.Fprintf(&decls, "var %s %s\n", v.name, t)
	}
	b.WriteString("package " + cellPackage + "\n")
	paths := make([]string, 0, len(aliases))
	for p := range aliases {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Fprintf(&b, "import %s %q\n", aliases[p], p)
	}
	b.WriteString(decls.String())
	f, err := parser.ParseFile(cc.fset, "hoisted", b.String(), parser.SkipObjectResolution)
	if f != nil {
		if tf := cc.fset.File(f.FileStart); tf != nil {
			cc.temp = append(cc.temp, tf)
		}
	}
	if err != nil {
		return nil
	}
	return f
}

// check type-checks files as the cells' package and returns the errors and the
// package.
func (cc *compiler) check(files []*ast.File, info *types.Info) ([]types.Error, *types.Package) {
	pkg := types.NewPackage(cellPackage, cellPackage)
	return cc.checkInto(pkg, files, info), pkg
}

// checkInto type-checks files into pkg and returns the errors.
func (cc *compiler) checkInto(pkg *types.Package, files []*ast.File, info *types.Info) (errs []types.Error) {
	defer func() {
		if r := recover(); r != nil {
			errs = append(errs, types.Error{Fset: cc.fset, Msg: fmt.Sprintf("internal error of the type checker: %v", r)})
		}
	}()
	conf := types.Config{
		Importer:  cc.typesImporter(),
		GoVersion: "go1.26",
		Error: func(err error) {
			if te, ok := err.(types.Error); ok {
				errs = append(errs, te)
			}
		},
	}
	types.NewChecker(&conf, cc.fset, pkg, info).Files(files)
	return errs
}

// checkAlone type-checks the cell's file alone, in pkg, the package of the
// program's last check (program.pkg): its scope holds the earlier cells'
// declarations and variables as that check made them, and the checker takes an
// object that has its type as it is, so they are not checked again. fresh are
// the variables the cell defines that pkg does not have yet (second pass; a
// variable defined again with its type keeps its object), declared in pkg.
//
// Nothing else of the cell may enter pkg's scope, which has no way to remove a
// name: the cell's function is checked as a function literal assigned to the
// blank identifier, which declares nothing. (The checker compares packages by
// identity where it tells this package's unexported names from another's, in
// struct literals for one, so the cell must be checked in pkg itself.)
func (cc *compiler) checkAlone(pkg *types.Package, imports map[string]string, cellFile *ast.File, fresh []*hoistedVar, info *types.Info) []types.Error {
	f := *cellFile
	f.Decls = slices.Clone(f.Decls)
	f.Decls[0] = namedImports(imports, f.Decls[1:])
	last := len(f.Decls) - 1
	fd := f.Decls[last].(*ast.FuncDecl)
	f.Decls[last] = &ast.GenDecl{Tok: token.VAR, Specs: []ast.Spec{&ast.ValueSpec{
		Names:  []*ast.Ident{{Name: "_", NamePos: fd.Type.Func}},
		Values: []ast.Expr{&ast.FuncLit{Type: fd.Type, Body: fd.Body}},
	}}}
	files := []*ast.File{&f}
	if hf := cc.hoistFile(fresh); hf != nil {
		files = append(files, hf)
	}
	return cc.checkInto(pkg, files, info)
}

// namedImports returns the import declaration of the packages of imports
// (the program's, name → path) whose name decls mention: a cell cannot use an
// import that it does not name, and the checker would report each of the
// others as not used (an error that cells ignore).
func namedImports(imports map[string]string, decls []ast.Decl) *ast.GenDecl {
	named := map[string]string{}
	for _, d := range decls {
		ast.Inspect(d, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				if p, ok := imports[id.Name]; ok {
					named[id.Name] = p
				}
			}
			return true
		})
	}
	return importDecl(named)
}

// ignorable reports errors that do not apply to cells: unused imports (imports
// are shared by all cells), bodies left out on purpose, and unused top-level
// variables (they are package variables of the notebook).
func ignorable(e types.Error, topDefs []string) bool {
	m := e.Msg
	switch {
	case strings.Contains(m, "imported and not used"), strings.HasSuffix(m, "imported as") && strings.Contains(m, "not used"):
		return true
	case strings.Contains(m, "missing function body"), strings.Contains(m, "func init must have a body"):
		return true
	case strings.HasPrefix(m, "declared and not used: "):
		name := strings.TrimPrefix(m, "declared and not used: ")
		for _, n := range topDefs {
			if n == name {
				return true
			}
		}
	}
	return strings.Contains(m, "imported as") && strings.Contains(m, "and not used")
}

// cellErrors returns the messages of errors located in the cell.
func cellErrors(errs []types.Error, pc *parsedCell, pass1 bool, topDefs []string) []string {
	var msgs []string
	for _, e := range errs {
		if ignorable(e, topDefs) {
			continue
		}
		p := e.Fset.Position(e.Pos)
		if p.Filename != pc.name {
			continue
		}
		if last := pc.lastExpr(); last != nil && strings.HasSuffix(e.Msg, " is not used") && last.Pos() <= e.Pos && e.Pos < last.End() {
			continue // the cell's value, which it displays
		}
		msgs = append(msgs, fmt.Sprintf("%s: %s", p, e.Msg))
	}
	return dedupe(msgs)
}

// lastExpr returns the cell's last statement when it is an expression.
func (pc *parsedCell) lastExpr() ast.Expr {
	if n := len(pc.stmts); n > 0 {
		if es, ok := pc.stmts[n-1].(*ast.ExprStmt); ok {
			return es.X
		}
	}
	return nil
}

// staleErrors returns errors in earlier cells' declarations (which a change made
// by the cell broke).
func staleErrors(errs []types.Error, pc *parsedCell) []string {
	var msgs []string
	for _, e := range errs {
		if ignorable(e, nil) {
			continue
		}
		p := e.Fset.Position(e.Pos)
		if p.Filename == pc.name {
			continue
		}
		msgs = append(msgs, fmt.Sprintf("%s: %s", p, e.Msg))
	}
	return dedupe(msgs)
}

func dedupe(msgs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range msgs {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}
