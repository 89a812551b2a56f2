package interp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"go/ast"
	"go/types"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gocvx/gocvx/interp/gomod"
)

// cellModules is what a session knows of the packages its cells import from
// source: the notebook's module folder, the packages resolved so far, and
// the tree the type checker and the interpreter read them from.
type cellModules struct {
	notebook string // the notebook's path, "" for the working directory

	mu     sync.Mutex
	ws     *gomod.Workspace // opened at first use
	tree   *sourceTree
	graph  *gomod.Graph    // the packages of roots, as last resolved
	roots  []string        // the packages from source that cells imported
	probed map[string]bool // graphs (gomod.Graph.Key) the probe compiled
}

func newCellModules(notebook string) *cellModules {
	return &cellModules{notebook: notebook, tree: newSourceTree(), probed: map[string]bool{}}
}

// compiledPackage reports whether the kernel provides package p without
// source from the notebook's modules.
func compiledPackage(p string) bool { return theImporter().has(p) }

var (
	kernelModulesOnce sync.Once
	kernelModuleList  []gomod.Module
)

// kernelModules lists the modules that hold packages compiled into this
// program, at the versions it was built with (gonum, gonum/plot).
func kernelModules() []gomod.Module {
	kernelModulesOnce.Do(func() {
		bi, ok := debug.ReadBuildInfo()
		if !ok {
			return
		}
		im := theImporter()
		for _, d := range bi.Deps {
			m := d
			if d.Replace != nil {
				if d.Replace.Version == "" {
					continue // a local directory: no version to require
				}
				m = d.Replace
			}
			for p := range im.tables {
				if p == d.Path || strings.HasPrefix(p, d.Path+"/") {
					kernelModuleList = append(kernelModuleList, gomod.Module{Path: d.Path, Version: m.Version})
					break
				}
			}
		}
	})
	return kernelModuleList
}

// workspace returns the notebook's module folder, opening it if needed.
// m.mu is held.
func (m *cellModules) workspace() (*gomod.Workspace, error) {
	if m.ws != nil {
		return m.ws, nil
	}
	dir, err := gomod.Locate(m.notebook)
	if err != nil {
		return nil, err
	}
	ws, err := gomod.Open(dir, kernelModules())
	if err != nil {
		return nil, err
	}
	m.ws = ws
	return ws, nil
}

// has reports whether p is a package from source that cells may import now.
func (m *cellModules) has(p string) bool { return m.tree.im.Has(p) }

// name returns the name of a package from source, "" if p is none.
func (m *cellModules) name(p string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.graph != nil {
		if pkg := m.graph.Packages[p]; pkg != nil {
			return pkg.Name
		}
	}
	return ""
}

// need makes the packages paths importable from source, with those cells
// imported before: it resolves them through the go command (progress gets
// what it prints), type-checks them and has the probe compile them. rebuild
// is set when packages that the interpreter may already have compiled
// changed (another version after `%go get`, an edit of a local module): the
// interpreter must then be replaced. notes are warnings to show.
func (m *cellModules) need(ctx context.Context, progress io.Writer, paths []string) (rebuild bool, notes []string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	roots := append([]string(nil), m.roots...)
	for _, p := range paths {
		if !contains(roots, p) {
			roots = append(roots, p)
		}
	}
	if len(roots) == len(m.roots) && (m.graph == nil || !m.graph.Stale()) {
		return false, nil, nil
	}
	return m.resolveLocked(ctx, progress, roots)
}

func (m *cellModules) resolveLocked(ctx context.Context, progress io.Writer, roots []string) (bool, []string, error) {
	if len(roots) == 0 {
		return false, nil, nil
	}
	ws, err := m.workspace()
	if err != nil {
		return false, nil, err
	}
	g, err := ws.Resolve(ctx, progress, gomod.Kernel{Compiled: compiledPackage}, roots)
	if err != nil {
		return false, nil, err
	}
	check := newSourceTree()
	check.add(g)
	for _, r := range roots {
		if _, err := check.im.Import(r); err != nil {
			return false, nil, err
		}
	}
	if key := probeKey(g); !m.probed[key] && !probedBefore(ws.Dir(), key) {
		if err := probe(ctx, g, g.Order); err != nil {
			return false, nil, err
		}
		m.probed[key] = true
		rememberProbed(ws.Dir(), key)
	}
	rebuild := m.graph != nil && !m.graph.Same(g)
	m.tree.add(g)
	m.graph, m.roots = g, roots
	return rebuild, g.Notes, nil
}

// probedFile, in the module folder, lists the graphs that this program's
// probe compiled, so that a restarted kernel does not probe them again.
const probedFile = ".gocvx-probed"

// probeKey identifies a graph compiled by this program: the graph's key and
// the executable (its path, size and time: a rebuilt kernel probes again).
func probeKey(g *gomod.Graph) string {
	exe, _ := os.Executable()
	var stamp string
	if fi, err := os.Stat(exe); err == nil {
		stamp = fmt.Sprintf("%s %d %d", exe, fi.Size(), fi.ModTime().UnixNano())
	}
	sum := sha256.Sum256([]byte(stamp + "\n" + g.Key()))
	return hex.EncodeToString(sum[:])
}

func probedBefore(dir, key string) bool {
	b, err := os.ReadFile(filepath.Join(dir, probedFile))
	return err == nil && strings.Contains(string(b), key+"\n")
}

func rememberProbed(dir, key string) {
	f, err := os.OpenFile(filepath.Join(dir, probedFile), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return // the probe runs again next time
	}
	fmt.Fprintln(f, key)
	f.Close()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// command runs `%go ARGS`: get, mod, mod use, work use, work drop. What the
// go command prints and the result go to out. rebuild is set when packages
// the interpreter compiled changed.
func (m *cellModules) command(ctx context.Context, args string, out io.Writer) (rebuild bool, err error) {
	f := strings.Fields(args)
	usage := fmt.Errorf("usage: %%go get MODULE[@VERSION]…, %%go mod, %%go mod use [DIR], %%go work use DIR, %%go work drop DIR")
	if len(f) == 0 {
		return false, usage
	}
	m.mu.Lock()
	ws, err := m.workspace()
	if err != nil {
		m.mu.Unlock()
		return false, err
	}
	switch {
	case f[0] == "get" && len(f) > 1:
		_, err = ws.Go(ctx, out, f...)
	case f[0] == "mod" && len(f) == 1:
		text := ws.GoMod()
		if text == "" {
			text = "(no go.mod yet: the first import of a package that is not preloaded, or %go get, writes it)\n"
		}
		fmt.Fprintf(out, "module folder: %s\n%s", ws.Dir(), text)
	case f[0] == "mod" && f[1] == "use" && len(f) <= 3:
		dir := ""
		if len(f) == 3 {
			dir = f[2]
		}
		if err = gomod.Use(m.notebook, dir); err == nil {
			m.ws = nil
			if ws, err = m.workspace(); err == nil {
				fmt.Fprintf(out, "module folder: %s\n", ws.Dir())
			}
		}
	case f[0] == "work" && len(f) == 3 && f[1] == "use":
		var mp string
		if mp, err = ws.UseLocal(ctx, f[2]); err == nil {
			fmt.Fprintf(out, "%s comes from %s; edits there are picked up at the next cell\n", mp, f[2])
		}
	case f[0] == "work" && len(f) == 3 && f[1] == "drop":
		var mp string
		if mp, err = ws.DropLocal(ctx, f[2]); err == nil {
			fmt.Fprintf(out, "%s no longer comes from a local folder\n", mp)
		}
	default:
		err = usage
	}
	m.mu.Unlock()
	if err != nil {
		return false, err
	}
	rebuild, notes, err := m.refreshAll(ctx, out)
	for _, n := range notes {
		fmt.Fprintln(out, "note:", n)
	}
	return rebuild, err
}

// refreshAll resolves again every package cells imported from source.
func (m *cellModules) refreshAll(ctx context.Context, progress io.Writer) (bool, []string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.resolveLocked(ctx, progress, m.roots)
}

// imported lists the packages from source cells imported, sorted.
func (m *cellModules) imported() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]string(nil), m.roots...)
	sort.Strings(out)
	return out
}

// notebookPath is the notebook a session's module folder is keyed by:
// Options.Notebook, or else the path Jupyter gives a kernel in
// JPY_SESSION_NAME; "" (the working directory) when neither is set.
func notebookPath(opts Options) string {
	if opts.Notebook != "" {
		return opts.Notebook
	}
	return os.Getenv("JPY_SESSION_NAME")
}

// importSources makes the packages a cell imports that the kernel does not
// preload importable from source (cellModules.need), and notices when
// packages that cells imported before changed (the interpreter is then
// replaced before the cell runs). A failure is a compile error at the import.
func (s *Session) importSources(ctx context.Context, pc *parsedCell) error {
	var paths []string
	var at []string
	for _, is := range pc.imports {
		p, err := strconv.Unquote(is.Path.Value)
		if err != nil || p == "C" || compiledPackage(p) {
			continue
		}
		paths = append(paths, p)
		at = append(at, s.fset.Position(is.Path.Pos()).String())
	}
	before := s.modules.imported()
	if len(paths) == 0 && len(before) == 0 {
		return nil
	}
	rebuild, notes, err := s.modules.need(ctx, s.stderr, paths)
	if err != nil {
		msg := err.Error()
		if len(at) > 0 {
			msg = at[0] + ": " + msg
		}
		return &compileError{strings.Split(msg, "\n")}
	}
	// yaegi v0.16.1 gives the globals of a package from source imported by a
	// later chunk the frame slots of one imported before (its variables then
	// hold the other's values): a new package joins the others in a fresh
	// interpreter, where one chunk imports them all.
	for _, p := range paths {
		if !contains(before, p) && s.holdsSources() {
			rebuild = true
		}
	}
	if rebuild {
		s.dirty = true
	}
	for _, n := range notes {
		fmt.Fprintf(s.stderr, "[gocvx: %s]\n", n)
	}
	return nil
}

// holdsSources reports whether the interpreter has imported a package from
// source.
func (s *Session) holdsSources() bool {
	for _, p := range s.ynames {
		if s.modules.has(p) {
			return true
		}
	}
	for p := range s.yhidden {
		if s.modules.has(p) {
			return true
		}
	}
	return false
}

// usesStd reports whether a package from source imports the standard package
// p that the engine supplies from source (slices, maps, cmp, iter): the
// interpreter must have compiled it before it compiles that package.
func (m *cellModules) usesStd(p string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.graph == nil {
		return false
	}
	for _, pkg := range m.graph.Packages {
		if contains(pkg.Imports, p) {
			return true
		}
	}
	return false
}

// typesImporter is the importer of the type checker: packages from source,
// and the compiled ones through the symbol tables.
func (cc *compiler) typesImporter() types.Importer {
	if cc.sources != nil {
		return cc.sources.tree.im
	}
	return cc.importer
}

// sourcePackage returns the name of p if it is a package from source cells
// may import now.
func (cc *compiler) sourcePackage(p string) (string, bool) {
	if cc.sources == nil || !cc.sources.has(p) {
		return "", false
	}
	return cc.sources.name(p), true
}

// doc documents the member name of a package from source: its declaration
// and its doc comment.
func (m *cellModules) doc(p, name string) (string, bool) {
	c, err := m.tree.im.Checked(p)
	if err != nil || c == nil {
		return "", false
	}
	obj := c.Types.Scope().Lookup(name)
	if obj == nil || !obj.Exported() {
		return "", false
	}
	text := types.ObjectString(obj, pkgName) + "\n"
	for _, f := range c.Files {
		for _, d := range f.Decls {
			var doc *ast.CommentGroup
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.Name == name {
					doc = d.Doc
				}
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					switch sp := sp.(type) {
					case *ast.TypeSpec:
						if sp.Name.Name == name {
							doc = firstDoc(sp.Doc, d.Doc)
						}
					case *ast.ValueSpec:
						for _, n := range sp.Names {
							if n.Name == name {
								doc = firstDoc(sp.Doc, d.Doc)
							}
						}
					}
				}
			}
			if doc != nil {
				return text + "\n" + doc.Text(), true
			}
		}
	}
	return text, true
}

func firstDoc(docs ...*ast.CommentGroup) *ast.CommentGroup {
	for _, d := range docs {
		if d != nil {
			return d
		}
	}
	return nil
}
