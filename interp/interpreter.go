package interp

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"

	yaegi "github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
	"github.com/traefik/yaegi/stdlib/unrestricted"

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

// allSymbols returns the symbol tables cells can use.
func allSymbols() map[string]map[string]reflect.Value {
	all := map[string]map[string]reflect.Value{}
	for k, v := range stdlib.Symbols {
		all[k] = v
	}
	all["os/exec/exec"] = unrestricted.Symbols["os/exec/exec"]
	for k, v := range symbols.Symbols {
		all[k] = v
	}
	return all
}

func theImporter() *symbolImporter {
	importerOnce.Do(func() {
		sharedImporter = newSymbolImporter(allSymbols())
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
	yi := yaegi.New(yaegi.Options{
		Stdin:        s.stdin,
		Stdout:       s.stdout,
		Stderr:       s.trace,
		Args:         args,
		Unrestricted: true,

		SourcecodeFilesystem: s.modules.tree.fs,
	})
	if err := yi.Use(stdlib.Symbols); err != nil {
		return err
	}
	extra := yaegi.Exports{"os/exec/exec": unrestricted.Symbols["os/exec/exec"]}
	for k, v := range symbols.Symbols {
		extra[k] = v
	}
	if err := yi.Use(extra); err != nil {
		return err
	}
	osSyms := map[string]reflect.Value{"Exit": reflect.ValueOf(func(code int) { panic(exitPanic{code}) })}
	if c := s.capture; c != nil && !c.fds {
		// Without CaptureOutput, os.Stdout and os.Stderr of interpreted code
		// are the session's private pipes into the cell.
		osSyms["Stdout"] = reflect.ValueOf(&c.writers[0]).Elem()
		osSyms["Stderr"] = reflect.ValueOf(&c.writers[1]).Elem()
	}
	overrides := yaegi.Exports{
		"os/os":                      osSyms,
		"log/log":                    logSymbols(s.stderr),
		rtPath + "/gocvxrt":          s.rtSymbols(),
		"gonum.org/v1/gonum/mat/mat": s.matAllocGuards(),
	}
	if err := yi.Use(overrides); err != nil {
		return err
	}
	// GocvxRun runs a cell function (see run).
	setup := "package " + cellPackage + "\nimport gocvxrt \"" + rtPath + "\"\nfunc GocvxRun(f func()) { gocvxrt.Run(f) }\n"
	for _, src := range []string{setup, "import gocvxrt \"" + rtPath + "\""} {
		if _, err := safeEval(yi, src); err != nil {
			return fmt.Errorf("interp: setting up the interpreter: %v", err)
		}
	}
	if old := s.yi; old != nil {
		// Goroutines that earlier cells started in the old interpreter stop;
		// the replay starts them again in the new one.
		s.stopInterp(newControl(old))
	}
	s.yi = yi
	s.ctl.Store(newControl(yi))
	s.ynames = map[string]string{"gocvxrt": rtPath}
	s.yhidden = map[string]bool{}
	s.yvars = map[string]string{}
	s.ydecls = map[*declaration]bool{}
	s.ysources = map[string]bool{}
	s.dirty = false
	return nil
}

// safeEval evaluates src, turning the interpreter's own panics into errors. It
// goes through EvalWithContext because yaegi generates interruptible channel
// operations only for code compiled after a first evaluation with a context.
func safeEval(yi *yaegi.Interpreter, src string) (v reflect.Value, err error) {
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
	if ctl := newControl(yi); ctl != nil {
		defer ctl.restore(ctl.current())
	}
	v, err = yi.EvalWithContext(context.Background(), src)
	releaseTrees(yi)
	// yaegi adds a file to find the chunk's first token, which nothing uses.
	for _, f := range filesSince(yi.FileSet(), base) {
		if f.Name() == "" {
			yi.FileSet().RemoveFile(f)
		}
	}
	if err != nil && !strings.Contains(err.Error(), ":") {
		err = fmt.Errorf("the interpreter cannot compile this cell (yaegi: %v)", err)
	}
	return v, err
}

var logMu sync.Mutex

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

// importDecls returns the imports the interpreter still lacks.
func (s *Session) importDecls(imports map[string]string, hidden map[string]bool) string {
	var b strings.Builder
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
	}
	paths := make([]string, 0, len(hidden))
	for p := range hidden {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if s.yhidden[p] {
			continue
		}
		fmt.Fprintf(&b, "import %s %q\n", hiddenAlias(p), yaegiPath(p))
		s.yhidden[p] = true
	}
	return b.String()
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
	b.WriteString(s.importDecls(comp.prog.imports, need))
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
	if _, err := s.evalFunc(b.String(), runFunc); err != nil {
		return &compileError{[]string{s.yaegiMessage(err)}}
	}
	return nil
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
	b.WriteString(s.importDecls(q.imports, need))
	writeDecls(&b, decls, func(d *declaration) bool { return d.kind != kindFunc })
	b.WriteString(vars)
	b.WriteString("func GocvxInit() {\n")
	for _, d := range funcs {
		b.WriteString(d.text)
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	if _, err := s.eval(b.String()); err != nil {
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
	_, err := s.run(ctx, "GocvxInit", false)
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
		if _, cerr := s.evalFunc(src, replayFunc); cerr != nil {
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
		_, err = s.run(ctx, name, false)
	}
	s.syncOutput()
	s.streams.setDiscard(false)
	if ctx.Err() != nil {
		s.dirty = true
		return errInterrupted
	}
	src := "package " + cellPackage + "\nfunc " + runFunc + "() {\n" + comp.body + "}\n"
	if _, err := s.evalFunc(src, runFunc); err != nil {
		s.dirty = true
		return &compileError{[]string{s.yaegiMessage(err)}}
	}
	return nil
}
