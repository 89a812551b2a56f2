package gomod

import (
	"go/ast"
	"go/types"
	"sort"
	"strconv"
)

// Source returns the text of the file name of a checked package as the
// interpreter should read it: every use of a generic function whose type
// arguments were inferred gets them written out (`Sum(xs...)` becomes
// `Sum[float64](xs...)`), since yaegi fails to infer them in package code
// ("undefined type for T"). src is the file's text (build lines blanked, same
// length); the edits add no line, so positions keep their line numbers. A
// type argument that the file cannot name (a type of a package it does not
// import) is left to inference.
func (c *Checked) Source(name string, src []byte) []byte {
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
	names := importNames(f)
	// qual names a package as the file does: "" for its own, the import
	// name for another; ok is false for a package the file does not import.
	qual := func(p *types.Package) (string, bool) {
		if p == c.Types {
			return "", true
		}
		n, ok := names[p.Path()]
		if ok && n == "" {
			n = p.Name()
		}
		return n, ok
	}
	type edit struct {
		at   int
		text string
	}
	var edits []edit
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
		edits = append(edits, edit{c.Fset.Position(id.End()).Offset, "[" + args + "]"})
	}
	if len(edits) == 0 {
		return src
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].at < edits[j].at })
	out := make([]byte, 0, len(src)+16*len(edits))
	last := 0
	for _, e := range edits {
		if e.at < last || e.at > len(src) {
			continue
		}
		out = append(out, src[last:e.at]...)
		out = append(out, e.text...)
		last = e.at
	}
	return append(out, src[last:]...)
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
