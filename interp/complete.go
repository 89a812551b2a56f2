package interp

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gocvx/gocvx/cellio"
)

// Complete returns the completions of the identifier before the cursor: package
// names, members of packages, names declared by earlier cells, keywords and
// builtins, and after a dot the fields and methods of the expression's type (for
// a variable of an earlier cell or of the cell being written). Cursor, Start and
// End count Unicode code points. It is safe to call while a cell runs.
func (s *Session) Complete(code string, cursor int) cellio.Completion {
	if c, ok := magicCompletion(code, cursor); ok {
		return c
	}
	code = goPart(code)
	at := byteOffset(code, cursor)
	start := identStart(code, at)
	prefix := code[start:at]
	var cands []candidate
	if start > 0 && code[start-1] == '.' {
		base := exprBefore(code, start-1)
		if base != "" {
			cands = s.memberCandidates(code[:lineStart(code, start)], base)
		}
	} else {
		cands = s.nameCandidates(code)
	}
	seen := map[string]bool{}
	var matches []string
	var meta []map[string]any
	sort.Slice(cands, func(i, j int) bool { return cands[i].name < cands[j].name })
	for _, c := range cands {
		if !strings.HasPrefix(c.name, prefix) || seen[c.name] {
			continue
		}
		seen[c.name] = true
		matches = append(matches, c.name)
		meta = append(meta, map[string]any{"start": runeCount(code, start), "end": cursor, "text": c.name, "type": c.kind})
	}
	if matches == nil {
		matches = []string{}
	}
	return cellio.Completion{
		Matches:  matches,
		Start:    runeCount(code, start),
		End:      cursor,
		Metadata: map[string]any{"_jupyter_types_experimental": meta},
	}
}

type candidate struct{ name, kind string }

// byteOffset converts a code point offset into a byte offset.
func byteOffset(s string, runes int) int {
	if runes <= 0 {
		return 0
	}
	n := 0
	for i := range s {
		if n == runes {
			return i
		}
		n++
	}
	return len(s)
}

func runeCount(s string, bytes int) int { return utf8.RuneCountInString(s[:bytes]) }

func isIdentRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// identStart returns where the identifier ending at at begins.
func identStart(s string, at int) int {
	for at > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:at])
		if !isIdentRune(r) {
			break
		}
		at -= size
	}
	return at
}

func lineStart(s string, at int) int { return strings.LastIndexByte(s[:at], '\n') + 1 }

// exprBefore returns the operand expression ending just before the dot at dot:
// identifiers, selections, calls and index expressions ("res.Network",
// "mat.NewDense(2, 2, nil)").
func exprBefore(s string, dot int) string {
	i := dot
	for i > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		switch {
		case isIdentRune(r) || r == '.':
			i -= size
		case r == ')' || r == ']':
			open := map[rune]rune{')': '(', ']': '['}[r]
			depth := 0
			j := i
			for j > 0 {
				c, sz := utf8.DecodeLastRuneInString(s[:j])
				j -= sz
				if c == r {
					depth++
				} else if c == open {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			if depth != 0 {
				return ""
			}
			i = j
		default:
			return strings.TrimLeft(s[i:dot], ".")
		}
	}
	return strings.TrimLeft(s[i:dot], ".")
}

var goKeywords = []string{"break", "case", "chan", "const", "continue", "default", "defer", "else",
	"fallthrough", "for", "func", "go", "goto", "if", "import", "interface", "map", "package",
	"range", "return", "select", "struct", "switch", "type", "var"}

// nameCandidates lists what a bare identifier can complete to.
func (s *Session) nameCandidates(code string) []candidate {
	var out []candidate
	for _, k := range goKeywords {
		out = append(out, candidate{k, "keyword"})
	}
	for _, n := range types.Universe.Names() {
		switch types.Universe.Lookup(n).(type) {
		case *types.Builtin, *types.Func:
			out = append(out, candidate{n, "function"})
		case *types.TypeName:
			out = append(out, candidate{n, "class"})
		default:
			out = append(out, candidate{n, "instance"})
		}
	}
	for name := range preferredImports {
		out = append(out, candidate{name, "module"})
	}
	for _, n := range s.importer.packageNames() {
		out = append(out, candidate{n, "module"})
	}
	s.mu.RLock()
	for name := range s.prog.imports {
		out = append(out, candidate{name, "module"})
	}
	for name, d := range s.prog.decls {
		if strings.ContainsAny(name, ".·") {
			continue
		}
		kind := "function"
		switch d.kind {
		case kindType:
			kind = "class"
		case kindConst:
			kind = "instance"
		}
		out = append(out, candidate{name, kind})
	}
	for name := range s.prog.vars {
		out = append(out, candidate{name, "instance"})
	}
	s.mu.RUnlock()
	// Names the cell being written declares (not every identifier it uses: the
	// one being typed, or a name not declared yet, is no completion).
	for _, n := range declaredNames(scanCell(code)) {
		out = append(out, candidate{n, "instance"})
	}
	return out
}

// declaredNames returns the names that the tokens of a cell, complete or not,
// declare: the left side of :=, names after var, const, type and func (and in
// their parenthesized groups), named parameters and results, and import names.
func declaredNames(toks []scanTok) []string {
	var names []string
	at := func(i int) token.Token {
		if i < 0 || i >= len(toks) {
			return token.ILLEGAL
		}
		return toks[i].tok
	}
	for i, t := range toks {
		switch t.tok {
		case token.DEFINE:
			// a, b := …: identifiers separated by commas before :=.
			for j := i - 1; at(j) == token.IDENT; j -= 2 {
				names = append(names, toks[j].lit)
				if at(j-1) != token.COMMA {
					break
				}
			}
		case token.VAR, token.CONST, token.TYPE:
			if at(i+1) == token.IDENT {
				names = append(names, identList(toks, i+1)...)
				continue
			}
			if at(i+1) != token.LPAREN {
				continue
			}
			// A group: the names that start its lines.
			for j := i + 2; j < len(toks) && toks[j].tok != token.RPAREN; j++ {
				if toks[j].tok == token.IDENT && (at(j-1) == token.LPAREN || at(j-1) == token.SEMICOLON) {
					names = append(names, identList(toks, j)...)
				}
			}
		case token.IMPORT:
			if at(i+1) == token.IDENT && at(i+2) == token.STRING {
				names = append(names, toks[i+1].lit)
			}
		case token.FUNC:
			j := i + 1
			if at(j) == token.LPAREN { // a receiver
				names = append(names, paramNames(toks, j)...)
				j = skipGroup(toks, j)
			}
			if at(j) == token.IDENT {
				if j == i+1 {
					names = append(names, toks[j].lit)
				}
				j++
			}
			if at(j) == token.LBRACK { // type parameters
				j = skipGroup(toks, j)
			}
			// Parameters, then results when parenthesized.
			for k := 0; k < 2 && at(j) == token.LPAREN; k++ {
				names = append(names, paramNames(toks, j)...)
				j = skipGroup(toks, j)
			}
		}
	}
	return names
}

// identList returns the identifiers of the list "a, b, c" starting at toks[i].
func identList(toks []scanTok, i int) []string {
	var names []string
	for ; i < len(toks) && toks[i].tok == token.IDENT; i += 2 {
		names = append(names, toks[i].lit)
		if i+1 >= len(toks) || toks[i+1].tok != token.COMMA {
			break
		}
	}
	return names
}

// skipGroup returns the index after the parenthesized group opening at toks[i]
// (the end of toks if it is not closed).
func skipGroup(toks []scanTok, i int) int {
	depth := 0
	for ; i < len(toks); i++ {
		switch toks[i].tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return i
}

// paramNames returns the names of the parameter list opening at toks[i]: the
// first identifier of each comma-separated entry when some entry is a name
// followed by a type ("a, b int"), none when the entries are types only.
func paramNames(toks []scanTok, i int) []string {
	end := skipGroup(toks, i)
	var entries [][]scanTok
	var cur []scanTok
	depth := 0
	for _, t := range toks[i+1 : max(end-1, i+1)] {
		switch t.tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth--
		case token.COMMA:
			if depth == 0 {
				entries = append(entries, cur)
				cur = nil
				continue
			}
		}
		cur = append(cur, t)
	}
	entries = append(entries, cur)
	named := false
	for _, e := range entries {
		if len(e) >= 2 && e[0].tok == token.IDENT && e[1].tok != token.PERIOD {
			named = true
		}
	}
	if !named {
		return nil
	}
	var names []string
	for _, e := range entries {
		if len(e) > 0 && e[0].tok == token.IDENT {
			names = append(names, e[0].lit)
		}
	}
	return names
}

// memberCandidates lists the members of base: a package's exports, or the
// fields and methods of base's type.
func (s *Session) memberCandidates(before, base string) []candidate {
	s.mu.RLock()
	q := s.prog
	s.mu.RUnlock()
	if !strings.ContainsAny(base, ".()[]") && q.vars[base] == nil && q.decls[base] == nil && !declaresName(before, base) {
		p := q.imports[base]
		if p == "" {
			p = autoImportPath(base, s.importer)
		}
		if p != "" {
			return s.packageMembers(p)
		}
	}
	t, isType := s.typeOfExpr(q, before, base)
	if t == nil {
		return nil
	}
	return members(t, isType)
}

// declaresName reports whether code seems to declare name (so that it is not a
// package name there).
func declaresName(code, name string) bool {
	toks := scanCell(code)
	for i, t := range toks {
		if t.tok == token.IDENT && t.lit == name && i+1 < len(toks) && (toks[i+1].tok == token.DEFINE || toks[i+1].tok == token.COMMA) {
			return true
		}
	}
	return false
}

func (s *Session) packageMembers(p string) []candidate {
	pkg, err := s.modules.tree.im.Import(p) // a package from source, or a compiled one
	if err != nil || pkg == nil {
		return nil
	}
	var out []candidate
	for _, n := range pkg.Scope().Names() {
		if !token.IsExported(n) {
			continue
		}
		out = append(out, candidate{n, objectKind(pkg.Scope().Lookup(n))})
	}
	return out
}

func objectKind(o types.Object) string {
	switch o.(type) {
	case *types.Func:
		return "function"
	case *types.TypeName:
		return "class"
	case *types.Const:
		return "instance"
	case *types.Var:
		return "instance"
	}
	return "instance"
}

// members lists the fields and methods of t (the methods of *t too, as a
// variable is addressable); for a type name, its methods.
func members(t types.Type, isType bool) []candidate {
	var out []candidate
	visible := func(name string, pkg *types.Package) bool {
		return token.IsExported(name) || pkg != nil && pkg.Name() == cellPackage
	}
	mt := t
	if _, ok := t.Underlying().(*types.Interface); !ok {
		if _, ok := t.(*types.Pointer); !ok {
			mt = types.NewPointer(t)
		}
	}
	ms := types.NewMethodSet(mt)
	for i := 0; i < ms.Len(); i++ {
		f := ms.At(i).Obj()
		if visible(f.Name(), f.Pkg()) {
			out = append(out, candidate{f.Name(), "function"})
		}
	}
	if isType {
		return out
	}
	st := t
	if p, ok := st.Underlying().(*types.Pointer); ok {
		st = p.Elem()
	}
	var walk func(st *types.Struct, depth int)
	walk = func(st *types.Struct, depth int) {
		for i := 0; i < st.NumFields(); i++ {
			f := st.Field(i)
			if visible(f.Name(), f.Pkg()) {
				out = append(out, candidate{f.Name(), "instance"})
			}
			if f.Embedded() && depth < 4 {
				ft := f.Type()
				if p, ok := ft.Underlying().(*types.Pointer); ok {
					ft = p.Elem()
				}
				if es, ok := ft.Underlying().(*types.Struct); ok {
					walk(es, depth+1)
				}
			}
		}
	}
	if str, ok := st.Underlying().(*types.Struct); ok {
		walk(str, 0)
	}
	return out
}

// typeOfExpr type-checks expr in the program, after the code of the cell that
// precedes it when that code is valid, and returns its type (and whether expr
// denotes a type).
func (s *Session) typeOfExpr(q *program, before, expr string) (types.Type, bool) {
	x, err := parser.ParseExprFrom(token.NewFileSet(), "expr", expr, 0)
	if err != nil {
		return nil, false
	}
	// The cells' declarations have positions in the session's file set, which
	// the checker needs; the temporary files are removed afterwards.
	fset := s.fset
	try := func(prefix string) (types.Type, bool, bool) {
		code := prefix + "\n_ = " + expr + "\n"
		pc, err := parseCell(fset, 0, code)
		if err != nil || len(pc.stmts) == 0 {
			return nil, false, false
		}
		defer pc.removeFiles(fset)
		last, ok := pc.stmts[len(pc.stmts)-1].(*ast.AssignStmt)
		if !ok || len(last.Rhs) != 1 {
			return nil, false, false
		}
		cc := &compiler{fset: fset, importer: s.importer, prog: q}
		defer cc.dropTemp()
		imports := map[string]string{}
		for k, v := range q.imports {
			imports[k] = v
		}
		ast.Inspect(x, func(n ast.Node) bool {
			if se, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := se.X.(*ast.Ident); ok && imports[id.Name] == "" && q.vars[id.Name] == nil && q.decls[id.Name] == nil {
					if p := autoImportPath(id.Name, s.importer); p != "" {
						imports[id.Name] = p
					}
				}
			}
			return true
		})
		qq := q.clone()
		qq.imports = imports
		cc.prog = qq
		files := cc.programFiles(qq, pc, false)
		if hf := cc.hoistFile(qq.sortedVars()); hf != nil {
			files = append(files, hf)
		}
		files = append(files, cc.cellFile(importDecl(qq.imports), pc, nil, nil, pc.stmts, true))
		info := newInfo()
		cc.check(files, info)
		tv, ok := info.Types[last.Rhs[0]]
		if !ok || tv.Type == nil || tv.Type == types.Typ[types.Invalid] {
			return nil, false, false
		}
		return tv.Type, tv.IsType(), true
	}
	if strings.TrimSpace(before) != "" {
		if t, isType, ok := try(before); ok {
			return t, isType
		}
	}
	t, isType, _ := try("")
	return t, isType
}

// packageNames returns the usual names of the available packages.
func (im *symbolImporter) packageNames() []string {
	seen := map[string]bool{}
	var out []string
	for p, n := range im.names {
		if strings.Contains(p, "internal") || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	for _, n := range sourcePackageNames {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
