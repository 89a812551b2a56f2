package interp

import (
	"go/parser"
	"go/token"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	yaegi "github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/gocvx/gocvx/interp/gomod"
	"github.com/gocvx/gocvx/interp/internal/ifaces"
	"github.com/gocvx/gocvx/interp/symbols"
)

// The compiled packages an interpreter holds. yaegi's Use copies every symbol of
// the tables it is given into maps of the interpreter's own: for all the
// kernel's packages (175, 6 845 symbols) that was most of the CPU time of
// creating an interpreter, which the first cell after a kernel's start waits
// for, and every replay. So an interpreter starts with an empty table for every
// compiled package, which makes it resolve an import of any of them as before,
// and with the full tables of the few that yaegi's own setup adjusts (fmt, os,
// log, flag, math/bits: the cells' standard streams, os.Args, log.Fatal); the
// symbols of any other package are copied in (use) before the first chunk that
// imports it is compiled: a cell's imports, the hidden ones of its variables'
// types, a replay's, and those of the packages from source (stdsrc, and the
// modules' files as yaegi reads them, usingFS).
//
// With a package come the packages that declare the interfaces its API reaches
// (symbols.Interfaces, see package ifaces): where interpreted code gives a value
// of its own type to compiled code as such an interface (its value to
// bufio.NewWriter as an io.Writer, a type assertion to it), yaegi looks up the
// interface's wrapper in the table of the interface's package, at run time too.
// Since every table exists from the start, filling one adds no package to the
// interpreter's map of packages, which goroutines of earlier cells may read
// while a cell compiles; and no code can reach the interfaces of a package
// before its table is filled, so no goroutine reads a table while it is filled.

// yaegiPackages is what of the compiled packages an interpreter holds.
type yaegiPackages struct {
	yi *yaegi.Interpreter
	im *symbolImporter
	// overrides are the session's symbols that replace those of a table, by
	// path; they are copied in after the table.
	overrides map[string]map[string]reflect.Value
	filled    map[string]bool // tables copied in
	closed    map[string]bool // packages whose interfaces' packages are filled too
}

// eagerPackages are the packages whose tables an interpreter gets at once: those
// that yaegi adjusts when it takes the standard library (its fixStdlib), which
// it does once, to the tables it holds then.
var eagerPackages = []string{"fmt", "os", "log", "flag", "math/bits"}

// initialTables is what a new interpreter is given first: the tables of
// eagerPackages and of their interfaces' packages, an empty one for every other
// package, and yaegi's wrappers for the standard library's functions that take
// values of any type (stdlib.Symbols["."], which fmt.Println needs to find a
// String method). Built once per process; yaegi copies what it is given.
var initialTables = sync.OnceValues(func() (yaegi.Exports, []string) {
	im := theImporter()
	empty := map[string]reflect.Value{}
	exports := make(yaegi.Exports, len(im.tables)+1)
	exports["."] = stdlib.Symbols["."]
	for p := range im.tables {
		exports[im.key(p)] = empty
	}
	var filled []string
	for _, p := range eagerPackages {
		for _, q := range im.withInterfaces(p, im.tables[p]) {
			if !slices.Contains(filled, q) {
				exports[im.key(q)] = im.tables[q]
				filled = append(filled, q)
			}
		}
	}
	return exports, filled
})

// newYaegiPackages sets up yi (just created) with initialTables, and with the
// overrides of the eager packages and of the packages that have no table
// (gocvxrt), with their interfaces' packages; the overrides of other packages
// are copied in after their tables.
func newYaegiPackages(yi *yaegi.Interpreter, im *symbolImporter, overrides map[string]map[string]reflect.Value) (*yaegiPackages, error) {
	y := &yaegiPackages{yi: yi, im: im, overrides: overrides, filled: map[string]bool{}, closed: map[string]bool{}}
	initial, filled := initialTables()
	if err := yi.Use(initial); err != nil {
		return nil, err
	}
	for _, p := range filled {
		y.filled[p] = true
	}
	for _, p := range eagerPackages {
		y.closed[p] = true
	}
	now := yaegi.Exports{}
	for p, syms := range overrides {
		switch {
		case y.filled[p]:
			now[im.key(p)] = syms
		case im.tables[p] == nil:
			if err := y.use(im.withInterfaces(p, syms)...); err != nil {
				return nil, err
			}
			now[p+"/"+guessPackageName(p)] = syms
		}
	}
	return y, yi.Use(now)
}

// use fills the tables of the compiled packages among paths, and of the
// packages that declare the interfaces their APIs reach; other paths (packages
// from source, already filled) are skipped.
func (y *yaegiPackages) use(paths ...string) error {
	batch := yaegi.Exports{}
	over := yaegi.Exports{}
	for _, p := range paths {
		if y.closed[p] || y.im.tables[p] == nil {
			continue
		}
		y.closed[p] = true
		for _, q := range y.im.withInterfaces(p, y.im.tables[p]) {
			if y.filled[q] {
				continue
			}
			y.filled[q] = true
			batch[y.im.key(q)] = y.im.tables[q]
			if syms := y.overrides[q]; syms != nil {
				over[y.im.key(q)] = syms
			}
		}
	}
	if len(batch) == 0 {
		return nil
	}
	if err := y.yi.Use(batch); err != nil {
		return err
	}
	return y.yi.Use(over)
}

// useImports fills the tables of the packages that the Go source src imports.
func (y *yaegiPackages) useImports(name string, src []byte) error {
	f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
	if err != nil {
		return nil // yaegi reports it when it parses the file
	}
	paths := make([]string, 0, len(f.Imports))
	for _, is := range f.Imports {
		if p, err := strconv.Unquote(is.Path.Value); err == nil {
			paths = append(paths, p)
		}
	}
	return y.use(paths...)
}

// usingFS is the source tree yaegi reads the packages from source in (see
// gomod.SourceFS): the compiled packages a file imports are filled into the
// interpreter when yaegi reads it, before it compiles the file.
type usingFS struct {
	*gomod.SourceFS
	y *yaegiPackages // set once the interpreter exists
}

// ReadFile implements fs.ReadFileFS.
func (f *usingFS) ReadFile(name string) ([]byte, error) {
	b, err := f.SourceFS.ReadFile(name)
	if err == nil && strings.HasSuffix(name, ".go") {
		err = f.y.useImports(name, b)
	}
	return b, err
}

// withInterfaces returns p (if it has a table) and the packages with tables that
// declare the interfaces with methods that table, p's API, reaches: from the
// generated symbols.Interfaces (rtInterfaces for gocvxrt), or else found once
// per process by package ifaces.
func (im *symbolImporter) withInterfaces(p string, table map[string]reflect.Value) []string {
	im.mu.Lock()
	defer im.mu.Unlock()
	if d, ok := im.deps[p]; ok {
		return d
	}
	deps, ok := symbols.Interfaces[p]
	switch {
	case p == rtPath:
		deps = rtInterfaces
	case !ok:
		deps = ifaces.Packages(table)
	}
	var d []string
	if im.tables[p] != nil {
		d = append(d, p)
	}
	for _, q := range deps {
		if q != p && im.tables[q] != nil {
			d = append(d, q)
		}
	}
	im.deps[p] = d
	return d
}
