package gomod

import (
	"go/ast"
	"go/token"
	"go/types"
	"path"
	"sort"
	"strconv"
)

// Source returns the text of the file name of a checked package as the
// interpreter should read it. Every use of a generic function whose type
// arguments were inferred gets them written out (`Sum(xs...)` becomes
// `Sum[float64](xs...)`), since yaegi fails to infer them in package code
// ("undefined type for T"); a type argument that the file cannot name (a type
// of a package it does not import) is left to inference. A package that
// renames maps to another path (import path → the path the interpreter knows
// it by) is imported from there, without a name, and every use of it is
// written with the new path's last element, the name of the package there.
// src is the file's text (build lines blanked, same length); the edits add no
// line, so positions keep their line numbers.
func (c *Checked) Source(name string, src []byte, renames map[string]string) []byte {
	var f *ast.File
	for i, n := range c.Package.GoFiles {
		if n == name && i < len(c.Files) {
			f = c.Files[i]
		}
	}
	if f == nil {
		return src
	}
	explicit := map[*ast.Ident]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		var x ast.Expr
		switch n := n.(type) {
		case *ast.IndexExpr:
			x = n.X
		case *ast.IndexListExpr:
			x = n.X
		default:
			return true
		}
		switch x := ast.Unparen(x).(type) {
		case *ast.Ident:
			explicit[x] = true
		case *ast.SelectorExpr:
			explicit[x.Sel] = true
		}
		return true
	})
	qual := c.qualifier(f, renames)
	var edits []edit
	for i, g := range c.Files {
		if g == f && i < len(c.edits) {
			edits = append(edits, c.edits[i]...)
		}
	}
	off := func(p token.Pos) int { return c.Fset.Position(p).Offset }
	for _, is := range f.Imports {
		ip, err := strconv.Unquote(is.Path.Value)
		if r := renames[ip]; err == nil && r != "" {
			edits = append(edits, edit{off(is.Pos()), off(is.End()), strconv.Quote(r)})
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			if pn, ok := c.Info.Uses[id].(*types.PkgName); ok && renames[pn.Imported().Path()] != "" {
				edits = append(edits, edit{off(id.Pos()), off(id.End()), path.Base(renames[pn.Imported().Path()])})
			}
		}
		return true
	})
	for id, inst := range c.Info.Instances {
		if explicit[id] || c.Fset.File(id.Pos()) != c.Fset.File(f.Pos()) {
			continue
		}
		if _, ok := inst.Type.(*types.Signature); !ok {
			continue
		}
		args, ok := typeList(inst.TypeArgs, qual)
		if !ok {
			continue
		}
		edits = append(edits, edit{off(id.End()), off(id.End()), "[" + args + "]"})
	}
	if len(edits) == 0 {
		return src
	}
	return apply(src, edits)
}

// edit replaces src[from:to] by text.
type edit struct {
	from, to int
	text     string
}

// apply makes edits that do not overlap, in the order of their places (a
// name replaced and type arguments inserted after it: the replacement first).
func apply(src []byte, edits []edit) []byte {
	sort.SliceStable(edits, func(i, j int) bool {
		if edits[i].from != edits[j].from {
			return edits[i].from < edits[j].from
		}
		return edits[i].to > edits[j].to
	})
	out := make([]byte, 0, len(src)+16*len(edits))
	last := 0
	for _, e := range edits {
		if e.from < last || e.to > len(src) {
			continue
		}
		out = append(out, src[last:e.from]...)
		out = append(out, e.text...)
		last = e.to
	}
	return append(out, src[last:]...)
}

// qualifier names a package as the file f does: "" for its own, the import
// name for another (the renamed one for a package in renames); ok is false
// for a package the file does not import.
func (c *Checked) qualifier(f *ast.File, renames map[string]string) func(*types.Package) (string, bool) {
	names := importNames(f)
	return func(p *types.Package) (string, bool) {
		if p == c.Types {
			return "", true
		}
		n, ok := names[p.Path()]
		if r := renames[p.Path()]; ok && r != "" {
			return path.Base(r), true
		}
		if ok && n == "" {
			n = p.Name()
		}
		return n, ok
	}
}

// importNames maps the import paths of a file to the names it uses for them.
func importNames(f *ast.File) map[string]string {
	names := map[string]string{}
	for _, is := range f.Imports {
		p, err := strconv.Unquote(is.Path.Value)
		if err != nil {
			continue
		}
		switch {
		case is.Name == nil:
			names[p] = "" // the package's own name, filled in by typeList
		case is.Name.Name != "_" && is.Name.Name != ".":
			names[p] = is.Name.Name
		}
	}
	return names
}

// typeList writes type arguments as the file can name them.
func typeList(list *types.TypeList, qual func(*types.Package) (string, bool)) (string, bool) {
	ok := true
	q := func(p *types.Package) string {
		n, found := qual(p)
		ok = ok && found
		return n
	}
	s := ""
	for i := 0; i < list.Len(); i++ {
		if i > 0 {
			s += ", "
		}
		s += types.TypeString(list.At(i), q)
	}
	return s, ok
}
