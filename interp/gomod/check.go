package gomod

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"strings"
	"sync"
)

// Importer is a types.Importer that type-checks the packages of the graphs
// added to it from their source, and asks Fallback for every other package
// (the kernel's compiled packages): a package from source that imports
// gonum/mat gets the very *types.Package the cells get, so their types are
// the same. It also refuses, with the place, the code that the interpreter
// (≈ Go 1.21) cannot run although go/types accepts it. Importer is safe for
// concurrent use.
type Importer struct {
	Fallback types.Importer
	// Renames maps the import paths of packages that the interpreter knows
	// under another path to that path (see Checked.Source).
	Renames map[string]string

	mu      sync.Mutex
	pkgs    map[string]*Package
	checked map[string]*Checked
}

// Checked is a package type-checked from source.
type Checked struct {
	Package *Package
	Types   *types.Package
	Fset    *token.FileSet
	Files   []*ast.File // in the order of Package.GoFiles
	Info    *types.Info

	edits [][]edit // per file, what modernize plans
}

// NewImporter returns an importer that asks fallback for the packages it has
// no source for.
func NewImporter(fallback types.Importer) *Importer {
	return &Importer{Fallback: fallback, pkgs: map[string]*Package{}, checked: map[string]*Checked{}}
}

// Add makes the packages of g importable from source. A package already
// checked in another version (another module version, or a local package
// that changed) is checked again at its next import, and so is every
// package that imports it.
func (im *Importer) Add(g *Graph) {
	im.mu.Lock()
	defer im.mu.Unlock()
	changed := false
	for ip, p := range g.Packages {
		if old := im.pkgs[ip]; old == nil || !samePackage(old, p) {
			changed = changed || old != nil
		}
		im.pkgs[ip] = p
	}
	if changed || len(g.stamps) > 0 {
		// Types of a package that was checked again differ from those its
		// importers saw: start over (checking is cheap next to running).
		im.checked = map[string]*Checked{}
	}
}

func samePackage(a, b *Package) bool {
	if a.Dir != b.Dir || len(a.GoFiles) != len(b.GoFiles) {
		return false
	}
	for i := range a.GoFiles {
		if a.GoFiles[i] != b.GoFiles[i] {
			return false
		}
	}
	return true
}

// Has reports whether path is a package from source.
func (im *Importer) Has(path string) bool {
	im.mu.Lock()
	defer im.mu.Unlock()
	return im.pkgs[path] != nil
}

// Import implements types.Importer.
func (im *Importer) Import(path string) (*types.Package, error) {
	im.mu.Lock()
	defer im.mu.Unlock()
	c, err := im.checkLocked(path, nil)
	if err != nil || c == nil {
		if err != nil {
			return nil, err
		}
		return im.Fallback.Import(path)
	}
	return c.Types, nil
}

// Checked returns the package path checked from source, checking it if needed;
// nil, nil when path is not a package from source.
func (im *Importer) Checked(path string) (*Checked, error) {
	im.mu.Lock()
	defer im.mu.Unlock()
	return im.checkLocked(path, nil)
}

// checkLocked type-checks a package from source; stack holds the packages
// being checked, for import cycles. im.mu is held.
func (im *Importer) checkLocked(path string, stack []string) (*Checked, error) {
	p := im.pkgs[path]
	if p == nil {
		return nil, nil
	}
	if c := im.checked[path]; c != nil {
		return c, nil
	}
	for _, s := range stack {
		if s == path {
			return nil, fmt.Errorf("import cycle: %s", strings.Join(append(stack, path), " → "))
		}
	}
	if p.Refusal != "" {
		return nil, fmt.Errorf("package %s %s; %s", path, p.Refusal, Alternative)
	}
	fset := token.NewFileSet()
	c := &Checked{Package: p, Fset: fset, Info: &types.Info{
		Types:     map[ast.Expr]types.TypeAndValue{},
		Defs:      map[*ast.Ident]types.Object{},
		Uses:      map[*ast.Ident]types.Object{},
		Instances: map[*ast.Ident]types.Instance{},
	}}
	for _, name := range p.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("package %s: %v", path, err)
		}
		c.Files = append(c.Files, f)
	}
	var errs []string
	conf := types.Config{
		Importer: importerFunc(func(q string) (*types.Package, error) {
			d, err := im.checkLocked(q, append(stack, path))
			if err != nil {
				return nil, err
			}
			if d == nil {
				return im.Fallback.Import(q)
			}
			return d.Types, nil
		}),
		Error: func(err error) {
			if len(errs) < 10 {
				errs = append(errs, err.Error())
			}
		},
	}
	if m := p.Module; m != nil && m.GoVersion != "" {
		conf.GoVersion = "go" + m.GoVersion
	}
	tp, _ := conf.Check(path, fset, c.Files, c.Info)
	if len(errs) > 0 {
		return nil, fmt.Errorf("package %s does not compile in the kernel:\n\t%s", path, strings.Join(errs, "\n\t"))
	}
	c.Types = tp
	for _, f := range c.Files {
		edits, why := c.modernize(f, c.qualifier(f, im.Renames), func(p *types.Package) bool {
			return p == c.Types || im.pkgs[p.Path()] != nil
		})
		if why != "" {
			return nil, fmt.Errorf("package %s %s; %s", path, why, Alternative)
		}
		c.edits = append(c.edits, edits)
	}
	im.checked[path] = c
	return c, nil
}

type importerFunc func(string) (*types.Package, error)

func (f importerFunc) Import(p string) (*types.Package, error) { return f(p) }

// capturedAt reports where obj is used in a function literal of body or has
// its address taken there.
func capturedAt(c *Checked, obj types.Object, body *ast.BlockStmt) (token.Pos, bool) {
	if obj == nil || body == nil {
		return token.NoPos, false
	}
	var pos token.Pos
	var inLit func(n ast.Node, lit bool) bool
	inLit = func(n ast.Node, lit bool) bool {
		ast.Inspect(n, func(m ast.Node) bool {
			if pos.IsValid() {
				return false
			}
			switch m := m.(type) {
			case *ast.FuncLit:
				if !lit {
					inLit(m.Body, true)
					return false
				}
			case *ast.UnaryExpr:
				if id, ok := ast.Unparen(m.X).(*ast.Ident); ok && m.Op == token.AND && c.Info.Uses[id] == obj {
					pos = m.Pos()
				}
			case *ast.Ident:
				if lit && c.Info.Uses[m] == obj {
					pos = m.Pos()
				}
			}
			return true
		})
		return pos.IsValid()
	}
	return pos, inLit(body, false)
}

// fileVersion is the Go version of a file: its //go:build goX.Y line, or its
// module's; "" when neither says.
func fileVersion(c *Checked, f *ast.File) string {
	if f.GoVersion != "" {
		return f.GoVersion
	}
	if m := c.Package.Module; m != nil && m.GoVersion != "" {
		return "go" + m.GoVersion
	}
	return ""
}

// versionLess compares Go versions "go1.N[.P]" by their minor number.
func versionLess(a, b string) bool {
	minor := func(v string) int {
		v = strings.TrimPrefix(v, "go1.")
		n := 0
		for _, r := range v {
			if r < '0' || r > '9' {
				break
			}
			n = n*10 + int(r-'0')
		}
		return n
	}
	return minor(a) < minor(b)
}

// Source is a SourceFS.Transform: the file as Checked.Source writes it, the
// package being checked first if needed.
func (im *Importer) Source(p *Package, name string, src []byte) ([]byte, error) {
	c, err := im.Checked(p.ImportPath)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return src, nil
	}
	return c.Source(name, src, im.Renames), nil
}
