package interp

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	yaegi "github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib/generic"

	"github.com/gocvx/gocvx/interp/symbols"
)

// The yaegi interpreter of a session: setting it up with the symbol tables and the
// session's overrides, compiling a cell's declarations into it (incremental), and
// building a fresh one that replays the program when a declaration cannot change
// in place (rebuild).

var (
	importerOnce   sync.Once
	sharedImporter *symbolImporter
)

// yaegiCmp is yaegi's Go 1.22 source of cmp. yaegi compiles its sources of
// cmp, maps and slices into every interpreter that takes the standard
// library's symbols; cells, and the packages from source they import, get
// those packages from stdsrc under paths of their own (sources.go). Without
// yaegi's cmp, yaegi fails on calls of the generic functions of stdsrc's slices
// (a nil dereference in its CFG pass; TestCorpus/slicesmaps), so it is compiled
// before the first package of stdsrc (useSources), and none of them in
// every interpreter: compiling maps and slices took about 2 ms of CPU for
// every interpreter (New, each replay), cmp 0.3 ms.
var yaegiCmp = generic.Sources[0]

func init() {
	generic.Sources = [len(generic.Sources)]string{}
}

func theImporter() *symbolImporter {
	importerOnce.Do(func() {
		sharedImporter = newSymbolImporter(symbols.All())
	})
	return sharedImporter
}

// logSymbols returns the log package's functions for cells, on a logger of the
// session writing to w; Fatal* report an exit instead of ending the kernel.
func logSymbols(w io.Writer) map[string]reflect.Value {
	l := log.New(w, "", log.LstdFlags)
	fatal := func(msg string) {
		l.Output(3, msg)
		panic(exitPanic{1})
	}
	return map[string]reflect.Value{
		"Fatal":     reflect.ValueOf(func(v ...any) { fatal(fmt.Sprint(v...)) }),
		"Fatalf":    reflect.ValueOf(func(f string, v ...any) { fatal(fmt.Sprintf(f, v...)) }),
		"Fatalln":   reflect.ValueOf(func(v ...any) { fatal(fmt.Sprintln(v...)) }),
		"Flags":     reflect.ValueOf(l.Flags),
		"Output":    reflect.ValueOf(l.Output),
		"Panic":     reflect.ValueOf(l.Panic),
		"Panicf":    reflect.ValueOf(l.Panicf),
		"Panicln":   reflect.ValueOf(l.Panicln),
		"Prefix":    reflect.ValueOf(l.Prefix),
		"Print":     reflect.ValueOf(l.Print),
		"Printf":    reflect.ValueOf(l.Printf),
		"Println":   reflect.ValueOf(l.Println),
		"SetFlags":  reflect.ValueOf(l.SetFlags),
		"SetOutput": reflect.ValueOf(l.SetOutput),
		"SetPrefix": reflect.ValueOf(l.SetPrefix),
		"Writer":    reflect.ValueOf(l.Writer),
		"Default":   reflect.ValueOf(func() *log.Logger { return l }),
	}
}

// runtimeError is an error of the Go runtime that the engine reports itself.
type runtimeError struct{ msg string }

func (e runtimeError) Error() string { return "runtime error: " + e.msg }

func (e runtimeError) RuntimeError() {}

// exitPanic is what os.Exit and log.Fatal do in a cell: the kernel survives.
type exitPanic struct{ code int }

func (e exitPanic) Error() string { return fmt.Sprintf("os.Exit(%d)", e.code) }

// newInterpreter replaces the interpreter by a fresh one.
func (s *Session) newInterpreter() error {
	args := s.opts.Args
	if args == nil {
		args = os.Args
	}
	srcfs := &usingFS{SourceFS: s.modules.tree.fs}
	yi := yaegi.New(yaegi.Options{
		Stdin:        s.stdin,
		Stdout:       s.stdout,
		Stderr:       s.trace,
		Args:         args,
		Unrestricted: true,

		SourcecodeFilesystem: srcfs,
	})
	osSyms := map[string]reflect.Value{"Exit": reflect.ValueOf(func(code int) { panic(exitPanic{code}) })}
	if c := s.capture; c != nil && !c.fds {
		// Without CaptureOutput, os.Stdout and os.Stderr of interpreted code
		// are the session's private pipes into the cell.
		osSyms["Stdout"] = reflect.ValueOf(&c.writers[0]).Elem()
		osSyms["Stderr"] = reflect.ValueOf(&c.writers[1]).Elem()
	}
	overrides := map[string]map[string]reflect.Value{
		"os":                     osSyms,
		"log":                    logSymbols(s.stderr),
		rtPath:                   s.rtSymbols(),
		"gonum.org/v1/gonum/mat": s.matAllocGuards(),
	}
	pkgs, err := newYaegiPackages(yi, s.importer, overrides)
	if err != nil {
		return err
	}
	srcfs.y = pkgs
	// GocvxRun runs a cell function (see run); GocvxWork is the cell function
	// that runs the callbacks of comm messages (see runWork).
	setup := "package " + cellPackage + "\nimport gocvxrt \"" + rtPath + "\"\nfunc GocvxRun(f func()) { gocvxrt.Run(f) }\nfunc " + workFunc + "() { gocvxrt.Work() }\n"
	for _, src := range []string{setup, "import gocvxrt \"" + rtPath + "\""} {
		if _, err := safeEval(yi, src, mayRunCode); err != nil {
			return fmt.Errorf("interp: setting up the interpreter: %v", err)
		}
	}
	// The calls of the functions run calls (callProgram), statements of
	// package main as Compile takes them, parsed once: yaegi compiles a call
	// again for every run, as it binds the function that the name has then.
	calls := map[string]*ast.BlockStmt{}
	for _, name := range []string{runFunc, replayFunc, initFunc, workFunc} {
		f, err := parseChunk(yi, "package main; func main() { "+cellPackage+".GocvxRun("+cellPackage+"."+name+") }")
		if err != nil {
			return fmt.Errorf("interp: setting up the interpreter: %v", err)
		}
		calls[name] = f.Decls[0].(*ast.FuncDecl).Body
	}
	if old := s.yi; old != nil {
		// Goroutines that earlier cells started in the old interpreter stop
		// for good; the replay starts them again in the new one.
		if ctl := s.ctl.Load(); ctl != nil {
			ctl.retire()
		}
		s.stopInterp(nil)
		s.epoch.Add(1)
	}
	s.yi = yi
	s.ypkgs = pkgs
	s.cache.invalidate() // compiled in the interpreter replaced
	s.ycalls = calls
	s.ctl.Store(newControl(yi))
	s.activity.Store(new(atomic.Int64))
	s.ynames = map[string]string{"gocvxrt": rtPath}
	s.yhidden = map[string]bool{}
	s.yvars = map[string]string{}
	s.ydecls = map[*declaration]bool{}
	s.ysources = map[string]bool{}
	s.ycmp = false
	s.dirty = false
	return nil
}

// Whether a chunk that safeEval compiles may run a cell's code while it is
// evaluated: its init functions run then, and the initialization of the
// packages from source it imports.
const (
	declaresOnly = false
	mayRunCode   = true
)

// safeEval evaluates src, turning the interpreter's own panics into errors. It
// arms the interpreter's control first, because yaegi generates interruptible
// channel operations only for code compiled after a first evaluation with a
// context; and it does not go through EvalWithContext, which would give the
// frames it creates (the package's variables, the closures they hold) a done
// channel of their own, which no stop wakes.
//
// A chunk that may run a cell's code (runs) is executed on a goroutine of its
// own, so that runtime.Goexit in an init function ends that goroutine and not
// the caller's. A chunk that only declares is compiled and executed on the
// caller's goroutine, whose stack has already grown to what yaegi's compiler
// needs: a goroutine of its own cost a scheduling hand-off and about 40 µs of
// stack growth per cell.
func safeEval(yi *yaegi.Interpreter, src string, runs bool) (v reflect.Value, err error) {
	v, _, err = safeEvalFiles(yi, src, runs)
	return v, err
}

// safeEvalFiles is safeEval that also returns the files of yi's file set that
// the chunk added and that remain (its source, the packages it imports).
func safeEvalFiles(yi *yaegi.Interpreter, src string, runs bool) (v reflect.Value, files []*token.File, err error) {
	// yaegi reports some of its internal failures with log.Panic on the
	// standard logger: keep that line out of the cell's output.
	logMu.Lock()
	w := log.Writer()
	log.SetOutput(io.Discard)
	defer func() {
		log.SetOutput(w)
		logMu.Unlock()
		if r := recover(); r != nil {
			err = fmt.Errorf("the interpreter cannot compile this cell (yaegi: %v)", r)
		}
	}()
	base := yi.FileSet().Base()
	switch ctl := newControl(yi); {
	case ctl == nil:
		v, err = yi.EvalWithContext(context.Background(), src)
	case runs:
		ctl.arm()
		done := make(chan struct{})
		go func() {
			defer close(done)
			v, err = compileAndExecute(yi, src)
		}()
		<-done
	default:
		ctl.arm()
		v, err = compileAndExecute(yi, src)
	}
	releaseTrees(yi)
	// yaegi adds a file to find the chunk's first token, which nothing uses.
	for _, f := range filesSince(yi.FileSet(), base) {
		if f.Name() == "" {
			yi.FileSet().RemoveFile(f)
		} else {
			files = append(files, f)
		}
	}
	if err != nil && !strings.Contains(err.Error(), ":") {
		err = fmt.Errorf("the interpreter cannot compile this cell (yaegi: %v)", err)
	}
	return v, files, err
}

var logMu sync.Mutex

// compileAndExecute compiles src and executes it; yaegi's Execute returns the
// panics of the code it runs as yaegi.Panic errors. A chunk that is a file
// (a cell's, a package from source) is parsed by parseChunk.
func compileAndExecute(yi *yaegi.Interpreter, src string) (reflect.Value, error) {
	var p *yaegi.Program
	var err error
	if strings.HasPrefix(src, "package ") {
		var f *ast.File
		if f, err = parseChunk(yi, src); err == nil {
			p, err = yi.CompileAST(f)
		}
	} else {
		p, err = yi.Compile(src)
	}
	if err != nil {
		return reflect.Value{}, err
	}
	return yi.Execute(p)
}

// parseChunk parses src, a file of the interpreter's source, as Compile would,
// without what Compile spends that the chunks of cells do not need (a fifth of
// the parse of a small cell's chunk): a scan for its first token, a parse of
// its package clause for build constraints, its comments, and the resolution
// of its identifiers. yaegi uses none of these once it has the syntax tree
// (the cells were type-checked; line directives apply without comments).
func parseChunk(yi *yaegi.Interpreter, src string) (*ast.File, error) {
	return parser.ParseFile(yi.FileSet(), yaegi.DefaultSourceName, src, parser.SkipObjectResolution)
}

// varDecls returns the declarations of the package variables the cell needs,
// recording the hidden imports they use in need.
func (s *Session) varDecls(vars []*hoistedVar, funcs []*declaration, need map[string]bool) string {
	var b strings.Builder
	for _, v := range vars {
		t := yaegiType(v.typ, need)
		if s.yvars[v.name] == t {
			continue
		}
		fmt.Fprintf(&b, "var %s %s\n", v.name, t)
		s.yvars[v.name] = t
	}
	for _, d := range funcs {
		t := "func" + d.ysig
		if s.yvars[d.names[0]] == t {
			continue
		}
		fmt.Fprintf(&b, "var %s %s\n", d.names[0], t)
		s.yvars[d.names[0]] = t
	}
	return b.String()
}

// importDecls returns the imports the interpreter still lacks, and whether one
// of them is a package from source, whose initialization runs when the chunk
// is evaluated; the tables of the compiled ones are filled into the
// interpreter (yaegiPackages).
func (s *Session) importDecls(imports map[string]string, hidden map[string]bool) (decls string, fromSource bool, err error) {
	var b strings.Builder
	var paths []string
	names := make([]string, 0, len(imports))
	for n := range imports {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := imports[n]
		if s.ynames[n] == p || sourcePackageNames[p] != "" {
			continue
		}
		fmt.Fprintf(&b, "import %s %q\n", n, yaegiPath(p))
		s.ynames[n] = p
		paths = append(paths, p)
		fromSource = fromSource || s.modules.has(p)
	}
	hiddenPaths := make([]string, 0, len(hidden))
	for p := range hidden {
		hiddenPaths = append(hiddenPaths, p)
	}
	sort.Strings(hiddenPaths)
	for _, p := range hiddenPaths {
		if s.yhidden[p] {
			continue
		}
		fmt.Fprintf(&b, "import %s %q\n", hiddenAlias(p), yaegiPath(p))
		s.yhidden[p] = true
		paths = append(paths, p)
		fromSource = fromSource || s.modules.has(p)
	}
	return b.String(), fromSource, s.ypkgs.use(paths...)
}

// incremental compiles the cell's new declarations and its function into the
// running interpreter.
func (s *Session) incremental(comp *compiled) error {
	var funcs []*declaration
	for _, d := range comp.newDecls {
		if d.kind == kindFunc {
			funcs = append(funcs, d)
		}
	}
	need := map[string]bool{}
	for p := range comp.hidden {
		need[p] = true
	}
	vars := s.varDecls(comp.newVars, funcs, need)
	var b strings.Builder
	b.WriteString("package " + cellPackage + "\n")
	imports, fromSource, err := s.importDecls(comp.prog.imports, need)
	if err != nil {
		return err
	}
	b.WriteString(imports)
	changed := map[*declaration]bool{}
	for _, d := range comp.changed {
		changed[d] = true
	}
	// Types and constants first: yaegi does not resolve a variable's type
	// declared after it in the same chunk.
	// and methods before variables, which instantiate generic types.
	writeDecls(&b, comp.newDecls, func(d *declaration) bool { return changed[d] && d.kind != kindFunc })
	b.WriteString(vars)
	b.WriteString("func " + runFunc + "() {\n")
	for _, d := range funcs {
		if changed[d] {
			b.WriteString(d.text)
			b.WriteString("\n")
		}
	}
	b.WriteString(comp.body)
	b.WriteString("}\n")
	if debugChunks {
		fmt.Fprintf(ProcessStderr(), "--- chunk\n%s---\n", b.String())
	}
	if _, err := s.evalFunc(b.String(), runFunc, fromSource || hasInit(comp.changed)); err != nil {
		return &compileError{[]string{s.yaegiMessage(err)}}
	}
	return nil
}

// hasInit reports whether decls declare an init function, which runs when the
// chunk that declares it is evaluated.
func hasInit(decls []*declaration) bool {
	for _, d := range decls {
		if fd, ok := d.node.(*ast.FuncDecl); ok && d.kind == kindGeneric && fd.Name.Name == "init" {
			return true
		}
	}
	return false
}

var debugChunks = os.Getenv("GOCVX_DEBUG_CHUNKS") != ""

// writeDecls writes the yaegi text of the declarations that keep selects.
func writeDecls(b *strings.Builder, decls []*declaration, keep func(*declaration) bool) {
	for _, d := range decls {
		if keep(d) {
			b.WriteString(d.text)
			b.WriteString("\n")
		}
	}
}

// rebuild creates a fresh interpreter holding the latest declarations of the
// program with the cell applied, and replays the statements of the earlier cells
// (their output discarded) to rebuild the variables; then it compiles the cell.
func (s *Session) rebuild(ctx context.Context, comp *compiled) error {
	if err := s.newInterpreter(); err != nil {
		return err
	}
	s.replays++
	q := comp.prog
	need := map[string]bool{}
	var funcs []*declaration
	decls := q.sortedDecls()
	for _, d := range decls {
		if d.kind == kindFunc {
			funcs = append(funcs, d)
		}
	}
	vars := s.varDecls(q.sortedVars(), funcs, need)
	var b strings.Builder
	b.WriteString("package " + cellPackage + "\n")
	imports, fromSource, err := s.importDecls(q.imports, need)
	if err != nil {
		return err
	}
	b.WriteString(imports)
	writeDecls(&b, decls, func(d *declaration) bool { return d.kind != kindFunc })
	b.WriteString(vars)
	b.WriteString("func " + initFunc + "() {\n")
	for _, d := range funcs {
		b.WriteString(d.text)
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	if _, err := s.eval(b.String(), fromSource || hasInit(decls)); err != nil {
		s.dirty = true
		return &compileError{[]string{s.yaegiMessage(err)}}
	}
	if len(q.cells) > 0 {
		fmt.Fprintf(s.stderr, "[gocvx: replaying %d cells to apply the new definitions]\n", len(q.cells))
	}
	s.syncOutput()
	s.streams.setDiscard(true)
	// Replayed cells that read input see end of file: the user is not asked
	// again for what earlier cells read.
	in := s.stdin.get()
	s.stdin.set(nil)
	defer s.stdin.set(in)
	_, err = s.run(ctx, initFunc, false, 0)
	for _, rc := range q.cells {
		if err != nil && ctx.Err() != nil {
			break
		}
		if rc.stopped != "" {
			s.syncOutput()
			s.streams.setDiscard(false)
			fmt.Fprintf(s.stderr, "[gocvx: Cell%d %s; it is not replayed]\n", rc.num, rc.stopped)
			s.syncOutput()
			s.streams.setDiscard(true)
			continue
		}
		name := replayFunc
		src := "package " + cellPackage + "\nfunc " + name + "() {\n" + rc.body + "}\n"
		if _, cerr := s.evalFunc(src, replayFunc, declaresOnly); cerr != nil {
			if rc.superseded(q) {
				continue // it defined a variable that a later cell redefined
			}
			s.syncOutput()
			s.streams.setDiscard(false)
			fmt.Fprintf(s.stderr, "[gocvx: Cell%d no longer compiles and was skipped: %s]\n", rc.num, s.yaegiMessage(cerr))
			s.syncOutput()
			s.streams.setDiscard(true)
			continue
		}
		_, err = s.run(ctx, name, false, rc.at)
	}
	s.syncOutput()
	s.streams.setDiscard(false)
	if ctx.Err() != nil {
		s.dirty = true
		return errInterrupted
	}
	src := "package " + cellPackage + "\nfunc " + runFunc + "() {\n" + comp.body + "}\n"
	if _, err := s.evalFunc(src, runFunc, declaresOnly); err != nil {
		s.dirty = true
		return &compileError{[]string{s.yaegiMessage(err)}}
	}
	return nil
}
