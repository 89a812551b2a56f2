package interp

import (
	"fmt"
	"go/types"
	"html"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/interp/symbols"
)

// Inspect returns documentation for the identifier at the cursor (code points):
// for a name of a preloaded package, its declaration and doc comment from the
// compiled-in table; for a name declared by a cell, its declaration; for a field
// or method, its signature. Detail 0 and 1 give the same content (Go has no
// separate source view beyond the declaration). It is safe while a cell runs.
func (s *Session) Inspect(code string, cursor, detail int) (cellio.Bundle, bool) {
	code = goPart(code)
	at := byteOffset(code, cursor)
	// The identifier around the cursor, and the expression before its dot.
	end := at
	for end < len(code) {
		r, size := utf8.DecodeRuneInString(code[end:])
		if !isIdentRune(r) {
			break
		}
		end += size
	}
	start := identStart(code, at)
	if start == end {
		// Just after a call's parenthesis: inspect the function.
		i := strings.LastIndexByte(code[:at], '(')
		if i <= 0 {
			return cellio.Bundle{}, false
		}
		end = i
		start = identStart(code, end)
		if start == end {
			return cellio.Bundle{}, false
		}
	}
	name := code[start:end]
	base := ""
	if start > 0 && code[start-1] == '.' {
		base = exprBefore(code, start-1)
	}
	text, ok := s.describe(code[:lineStart(code, start)], base, name)
	if !ok {
		return cellio.Bundle{}, false
	}
	return textBundle(text), true
}

// textBundle is a documentation page, as text and preformatted HTML.
func textBundle(text string) cellio.Bundle {
	return cellio.Bundle{
		Data: map[string]any{
			"text/plain": text,
			"text/html":  "<pre>" + html.EscapeString(text) + "</pre>",
		},
		Metadata: map[string]any{},
	}
}

// describe returns the documentation of name, or of base.name.
func (s *Session) describe(before, base, name string) (string, bool) {
	s.mu.RLock()
	q := s.prog
	s.mu.RUnlock()
	if base == "" {
		if d := q.decls[name]; d != nil {
			return declDoc(d), true
		}
		if v := q.vars[name]; v != nil {
			return fmt.Sprintf("var %s %s\n\n%s:\n%s\n", v.name, v.typeText, v.pc.name, v.src), true
		}
		if p := q.imports[name]; p != "" {
			return docEntry(p)
		}
		if p := autoImportPath(name, s.importer); p != "" {
			return docEntry(p)
		}
		if o := types.Universe.Lookup(name); o != nil {
			if text, ok := docEntry("builtin." + name); ok {
				return text, true
			}
			return types.ObjectString(o, nil), true
		}
		if t, isType := s.typeOfExpr(q, before, name); t != nil {
			if isType {
				return "type " + name + " " + t.Underlying().String(), true
			}
			return name + " " + types.TypeString(t, pkgName), true
		}
		return "", false
	}
	// A package member.
	if !strings.ContainsAny(base, ".()[]") && q.vars[base] == nil && q.decls[base] == nil && !declaresName(before, base) {
		p := q.imports[base]
		if p == "" {
			p = autoImportPath(base, s.importer)
		}
		if p != "" {
			if text, ok := docEntry(p + "." + name); ok {
				return text, true
			}
			if text, ok := s.modules.doc(p, name); ok {
				return text, true
			}
			if pkg, err := s.importer.Import(p); err == nil {
				if o := pkg.Scope().Lookup(name); o != nil {
					return types.ObjectString(o, pkgName), true
				}
			}
			return "", false
		}
	}
	// A field or method of base's type.
	t, _ := s.typeOfExpr(q, before, base)
	if t == nil {
		return "", false
	}
	if d := q.decls[typeName(t)+"."+name]; d != nil {
		return declDoc(d), true
	}
	obj, _, _ := types.LookupFieldOrMethod(t, true, nil, name)
	if obj == nil {
		// unexported names of the cells' package
		for _, p := range []*types.Package{namedPkg(t)} {
			if p != nil {
				obj, _, _ = types.LookupFieldOrMethod(t, true, p, name)
			}
		}
	}
	if obj == nil {
		return "", false
	}
	sig := types.ObjectString(obj, pkgName)
	if fn, ok := obj.(*types.Func); ok && fn.Pkg() != nil {
		if recv := fn.Type().(*types.Signature).Recv(); recv != nil {
			if text, ok := docEntry(fn.Pkg().Path() + "." + typeName(recv.Type()) + "." + name); ok {
				return text, true
			}
		}
	}
	return sig, true
}

func pkgName(p *types.Package) string {
	if p.Name() == cellPackage {
		return ""
	}
	return p.Name()
}

// typeName returns the name of a named type or of the type a pointer points to.
func typeName(t types.Type) string {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return n.Obj().Name()
	}
	return ""
}

func namedPkg(t types.Type) *types.Package {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return n.Obj().Pkg()
	}
	return nil
}

// docEntry formats an entry of the compiled-in documentation table.
func docEntry(key string) (string, bool) {
	decl, doc, ok := symbols.Doc(key)
	if !ok {
		return "", false
	}
	if doc != "" {
		return decl + "\n\n" + doc, true
	}
	return decl + "\n", true
}

// declDoc describes a declaration made by a cell.
func declDoc(d *declaration) string {
	var b strings.Builder
	b.WriteString(d.src)
	b.WriteString("\n")
	if d.doc != "" {
		b.WriteString("\n")
		b.WriteString(d.doc)
	}
	fmt.Fprintf(&b, "\n(declared in %s)\n", d.cell.name)
	return b.String()
}

// helpRequest matches "name?", "name??", "?name" and "%help name".
var helpRequest = regexp.MustCompile(`^\s*(?:\?\s*([\p{L}_][\p{L}\p{N}_.]*)|([\p{L}_][\p{L}\p{N}_.]*)\s*\?{1,2}|%help(?:\s+([\p{L}_][\p{L}\p{N}_.]*))?)\s*$`)

// helpTarget returns what a help request asks about ("" for general help).
func helpTarget(code string) (string, bool) {
	m := helpRequest.FindStringSubmatch(code)
	if m == nil {
		return "", false
	}
	return m[1] + m[2] + m[3], true
}

// help answers "name?" and "%help" cells with a page.
func (s *Session) help(code string) (*cellio.Bundle, bool) {
	target, ok := helpTarget(code)
	if !ok {
		return nil, false
	}
	if target == "" {
		b := textBundle(helpPage())
		return &b, true
	}
	base, name := "", target
	if i := strings.LastIndexByte(target, '.'); i >= 0 {
		base, name = target[:i], target[i+1:]
	}
	text, ok := s.describe("", base, name)
	if !ok {
		text = fmt.Sprintf("no documentation found for %s\n", target)
	}
	b := textBundle(text)
	return &b, true
}

const generalHelp = `gocvx: Go cells on the yaegi interpreter

  name?  or  ?name      documentation of a package, function, type or method
                        (fmt.Println?, mat.NewDense?, solver.Solve?) or of a
                        name declared by a cell
  %help                 this page
  Tab                   completion; Shift-Tab: inspection

Cells hold any mix of imports, declarations and statements. Variables, functions
and types stay defined across cells; redefining them takes effect everywhere.
The last expression of a cell is shown as its result. The standard library,
gonum, gonum/plot and the gocvx packages (solver, display, cell, dataset) are
preloaded: a cell may use them without importing them.
`
