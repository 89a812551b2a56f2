package interp

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"slices"
	"strings"
)

// cellPackage is the package that cell declarations live in, for the type checker
// and for yaegi. It is not "main": yaegi runs a package main's main function after
// every evaluation once one is declared, and cells may well declare a main.
const cellPackage = "gocvxcells"

// parsedCell is a cell split into its top-level parts, each with positions that the
// file set reports as "CellN:line:col" in the cell's own numbering.
type parsedCell struct {
	num     int
	id      int    // the session's serial number of the cell, for yaegi positions
	program bool   // the cell started with a package clause
	name    string // "Cell7"
	code    string

	imports []*ast.ImportSpec
	funcs   []*ast.FuncDecl // top-level functions and methods
	stmts   []ast.Stmt      // everything else, in order (type/var/const as DeclStmt)

	declFile, stmtFile *ast.File
	declTok, stmtTok   *token.File
	importTok          *token.File
	declBase, stmtBase int // offset of the cell's first byte in each parsed source

	frameIndexState // its functions and statements, for tracebacks (frames.go)
	// rangeBodies holds the offsets of the bodies of range loops over functions,
	// which run as functions (yield) of their own.
	rangeBodies map[int]bool
}

// span is a byte range [start, end) of the cell's code.
type span struct{ start, end int }

type scanTok struct {
	pos int
	tok token.Token
	lit string
}

// scanCell returns the tokens of code, with automatic semicolons, and no comments.
func scanCell(code string) []scanTok {
	fset := token.NewFileSet()
	f := fset.AddFile("", -1, len(code))
	var s scanner.Scanner
	s.Init(f, []byte(code), func(token.Position, string) {}, 0)
	var toks []scanTok
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		toks = append(toks, scanTok{f.Offset(pos), tok, lit})
	}
	return toks
}

// topLevelDecls finds the import and func declarations at the top level of a
// cell, from its tokens toks (scanCell of code): the parts that cannot appear
// inside a function body. A func keyword starts a
// declaration when a name follows, or a receiver and then a name and "(" (a method);
// otherwise it starts a function literal, which is a statement.
func topLevelDecls(toks []scanTok, code string) []span {
	var spans []span
	depth := 0
	stmtStart := true
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if depth == 0 && stmtStart && (t.tok == token.IMPORT || t.tok == token.FUNC) {
			if j, ok := declEnd(toks, i); ok {
				end := len(code)
				if j < len(toks) {
					end = toks[j].pos
					if toks[j].tok == token.SEMICOLON && toks[j].lit == ";" {
						end++
					}
				}
				spans = append(spans, span{t.pos, end})
				i = j
				stmtStart = true
				continue
			}
		}
		switch t.tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth--
		}
		stmtStart = depth == 0 && t.tok == token.SEMICOLON
	}
	return spans
}

// match returns the index of the token closing the bracket at toks[i].
func match(toks []scanTok, i int) int {
	depth := 0
	for j := i; j < len(toks); j++ {
		switch toks[j].tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return len(toks)
}

// declEnd returns the index of the token ending the declaration starting at
// toks[i] (the semicolon after it, or len(toks)), and whether it is a declaration.
func declEnd(toks []scanTok, i int) (int, bool) {
	at := func(k int) token.Token {
		if k < len(toks) {
			return toks[k].tok
		}
		return token.EOF
	}
	if toks[i].tok == token.IMPORT {
		j := i + 1
		if at(j) == token.LPAREN {
			j = match(toks, j) + 1
		}
		for j < len(toks) && toks[j].tok != token.SEMICOLON {
			j++
		}
		return j, true
	}
	// func
	j := i + 1
	switch at(j) {
	case token.IDENT:
		j++
	case token.LPAREN:
		k := match(toks, j)
		if at(k+1) != token.IDENT || at(k+2) != token.LPAREN {
			return 0, false // a function literal
		}
		j = k + 2
	default:
		return 0, false
	}
	if at(j) == token.LBRACK { // type parameters
		j = match(toks, j) + 1
	}
	if at(j) != token.LPAREN {
		return 0, false
	}
	j = match(toks, j) + 1
	// Results, then the body: a brace opens the body unless it belongs to a struct
	// or interface type in the results.
	for j < len(toks) {
		switch toks[j].tok {
		case token.LPAREN, token.LBRACK:
			j = match(toks, j) + 1
			continue
		case token.LBRACE:
			if j > 0 && (toks[j-1].tok == token.STRUCT || toks[j-1].tok == token.INTERFACE) {
				j = match(toks, j) + 1
				continue
			}
			j = match(toks, j) + 1
			for j < len(toks) && toks[j].tok != token.SEMICOLON {
				j++
			}
			return j, true
		case token.SEMICOLON:
			return j, true
		}
		j++
	}
	return j, true
}

// blank replaces the bytes of code inside (keep false) or outside (keep true) the
// spans with spaces, keeping newlines, so that offsets and lines stay the same.
func blank(code string, spans []span, keep bool) string {
	b := []byte(code)
	in := make([]bool, len(b))
	for _, s := range spans {
		for k := s.start; k < s.end && k < len(b); k++ {
			in[k] = true
		}
	}
	for k := range b {
		if in[k] != keep && b[k] != '\n' {
			b[k] = ' '
		}
	}
	return string(b)
}

const (
	declPrefix = "package " + cellPackage + "\n"
	stmtPrefix = "package " + cellPackage + "\nfunc _() {\n"
)

// lineDirective returns a //line comment that makes the next line line 1 of name.
func lineDirective(name string) string { return "//line " + name + ":1:1\n" }

// parseCell splits code into declarations and statements and parses both with
// positions in the cell's numbering. Syntax errors come back as a scanner.ErrorList.
func parseCell(fset *token.FileSet, num int, code string) (*parsedCell, error) {
	name := fmt.Sprintf("Cell%d", num)
	pc := &parsedCell{num: num, name: name, code: code, rangeBodies: map[int]bool{}}
	// A whole program pasted into a cell: its package clause goes (the cell is
	// run as the program's main, see compile).
	toks := scanCell(code)
	if len(toks) >= 2 && toks[0].tok == token.PACKAGE && toks[1].tok == token.IDENT {
		end := toks[1].pos + len(toks[1].lit)
		code = blank(code, []span{{0, end}}, false)
		pc.code = code
		pc.program = true
		toks = toks[2:] // the same tokens, without the clause
	}
	spans := topLevelDecls(toks, code)

	// Imports and functions are parsed from two files, since a file must start
	// with its imports and a cell need not.
	var importSpans, funcSpans []span
	for _, sp := range spans {
		if strings.HasPrefix(code[sp.start:], "import") {
			importSpans = append(importSpans, sp)
		} else {
			funcSpans = append(funcSpans, sp)
		}
	}
	// A cell without imports or without functions (most cells) has no file of
	// them to parse: it would be blank after its package clause.
	var errs scanner.ErrorList
	var imf *ast.File
	if len(importSpans) > 0 {
		importSrc := declPrefix + lineDirective(name) + blank(code, importSpans, true)
		f, err := parser.ParseFile(fset, name+".imports", importSrc, parser.SkipObjectResolution)
		if err != nil {
			addErrors(&errs, err)
		}
		imf = f
	}
	df := &ast.File{Name: ast.NewIdent(cellPackage)}
	if len(funcSpans) > 0 {
		declSrc := declPrefix + lineDirective(name) + blank(code, funcSpans, true)
		pc.declBase = len(declSrc) - len(code)
		f, err := parser.ParseFile(fset, name+".decls", declSrc, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			addErrors(&errs, err)
		}
		df = f
	}
	stmtSrc := stmtPrefix + lineDirective(name) + blank(code, spans, false) + "\n}\n"
	pc.stmtBase = len(stmtPrefix) + len(lineDirective(name))
	// The statements' comments are read only for the doc comments of the
	// cell's types, constants and functions (see compiler.declarations).
	mode := parser.SkipObjectResolution
	if len(funcSpans) > 0 || slices.ContainsFunc(toks, func(t scanTok) bool { return t.tok == token.TYPE || t.tok == token.CONST }) {
		mode |= parser.ParseComments
	}
	sf, err := parser.ParseFile(fset, name+".stmts", stmtSrc, mode)
	if err != nil {
		addErrors(&errs, err)
	}
	if len(errs) > 0 {
		// The files of a cell that does not parse are not needed after its
		// errors are formatted (which they are, in errs).
		for _, f := range []*ast.File{imf, df, sf} {
			if f != nil {
				if tf := fset.File(f.FileStart); tf != nil {
					fset.RemoveFile(tf)
				}
			}
		}
		errs.Sort()
		errs.RemoveMultiples()
		return nil, errs
	}
	pc.declFile, pc.stmtFile = df, sf
	if len(funcSpans) > 0 {
		pc.declTok = fset.File(df.Pos())
	}
	pc.stmtTok = fset.File(sf.Pos())
	if imf != nil {
		pc.importTok = fset.File(imf.Pos())
		pc.imports = append(pc.imports, imf.Imports...)
	}
	for _, d := range df.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok {
			pc.funcs = append(pc.funcs, fd)
		}
	}
	if len(sf.Decls) == 1 {
		if fd, ok := sf.Decls[0].(*ast.FuncDecl); ok && fd.Body != nil {
			pc.stmts = fd.Body.List
		}
	}
	return pc, nil
}

func addErrors(list *scanner.ErrorList, err error) {
	if el, ok := err.(scanner.ErrorList); ok {
		for _, e := range el {
			list.Add(e.Pos, e.Msg)
		}
		return
	}
	list.Add(token.Position{}, err.Error())
}

// offset returns the offset in the cell's code of pos, a position in one of the
// cell's parsed files, or -1.
func (pc *parsedCell) offset(pos token.Pos) int {
	if !pos.IsValid() {
		return -1
	}
	if pc.declTok != nil && pc.declTok.Base() <= int(pos) && int(pos) <= pc.declTok.Base()+pc.declTok.Size() {
		return pc.declTok.Offset(pos) - pc.declBase
	}
	if pc.stmtTok != nil && pc.stmtTok.Base() <= int(pos) && int(pos) <= pc.stmtTok.Base()+pc.stmtTok.Size() {
		o := pc.stmtTok.Offset(pos) - pc.stmtBase
		if o > len(pc.code) {
			o = len(pc.code)
		}
		return o
	}
	return -1
}

// text returns the cell's source between two positions of its parsed files.
func (pc *parsedCell) text(from, to token.Pos) string {
	a, b := pc.offset(from), pc.offset(to)
	if a < 0 || b < a || b > len(pc.code) {
		return ""
	}
	return pc.code[a:b]
}

// lineCol returns the 1-based line and byte column of an offset in the cell.
func (pc *parsedCell) lineCol(off int) (int, int) {
	line, col := 1, 1
	for i := 0; i < off && i < len(pc.code); i++ {
		if pc.code[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// directive returns a /*line*/ comment that gives the next character the position
// of offset off in the cell, as yaegi sees it. yaegi scopes imports by file name,
// so all cell code stays in yaegi's default file "_.go" and the cell is encoded in
// the line number: line id·lineBase + l (see Session.cellPos).
func (pc *parsedCell) directive(off int) string {
	l, c := pc.lineCol(off)
	return fmt.Sprintf("/*line _.go:%d:%d*/", pc.id*lineBase+l, c)
}

// lineBase separates the cells' line numbers in the interpreter's positions: the
// lines of the cell with serial number id are id·lineBase + 1 … id·lineBase + the
// cell's lines. go/scanner accepts line numbers up to 2³⁰, so a session numbers
// at most maxSerial cells, each of fewer than lineBase lines.
const (
	lineBase  = 10_000
	maxSerial = 1<<30/lineBase - 1
)

// isBlankCode reports whether code holds nothing but space and comments: its
// first token is the end (the rest of a cell that has one is not scanned).
func isBlankCode(code string) bool {
	switch t := strings.TrimSpace(code); {
	case t == "":
		return true
	case t[0] != '/':
		return false // not a comment
	}
	f := token.NewFileSet().AddFile("", -1, len(code))
	var s scanner.Scanner
	s.Init(f, []byte(code), func(token.Position, string) {}, 0)
	_, tok, _ := s.Scan()
	return tok == token.EOF
}

// removeFiles forgets the cell's files (of a cell parsed only to be examined).
func (pc *parsedCell) removeFiles(fset *token.FileSet) {
	for _, f := range []*token.File{pc.declTok, pc.stmtTok, pc.importTok} {
		if f != nil {
			fset.RemoveFile(f)
		}
	}
}
