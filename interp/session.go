package interp

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log"
	"os"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	yaegi "github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
	"github.com/traefik/yaegi/stdlib/unrestricted"

	"github.com/gocvx/gocvx/display"
	"github.com/gocvx/gocvx/internal/cellrt"
	"github.com/gocvx/gocvx/interp/symbols"
)

// Options configures a Session.
type Options struct {
	// CaptureOutput replaces file descriptors 1 and 2 by pipes while the session
	// is open, so that everything the process prints (compiled code, child
	// processes given os.Stdout, the runtime) reaches the running cell. Only one
	// session per process may capture; the process's own logs then go to
	// ProcessStderr.
	//
	// When unset, what interpreted code writes still reaches the cell: fmt,
	// log, print and println, and os.Stdout and os.Stderr in any use (on Linux
	// they are then pipes of the session, which child processes given them
	// inherit). What compiled code writes to the process's descriptors 1 and 2
	// by itself does not: it goes where the process's output goes.
	//
	// Either way, what interpreted code writes reaches the cell in the order
	// it was written across stdout and stderr, after what the pipes received
	// before it; text that compiled code or a child process writes to both
	// descriptors keeps its order within each stream only.
	CaptureOutput bool

	// MaxOutput is how many bytes of stdout and stderr a cell shows before the
	// rest is dropped with a notice; zero means DefaultMaxOutput.
	MaxOutput int

	// Args is os.Args as cells see it; nil means the process's arguments.
	Args []string

	// MemoryLimit is the memory ceiling of the cells, in bytes: while the
	// session is open, the runtime's memory limit (debug.SetMemoryLimit) is
	// set to it, so that the collector keeps garbage under it, and a cell
	// whose live heap (the notebook's variables included) passes it is stopped
	// with a MemoryError; so is a make whose size alone exceeds it, before it
	// allocates. Zero means the value of the environment variable
	// GOCVX_MEMORY_LIMIT (MemoryLimitEnv, e.g. "8GiB"), or else
	// DefaultMemoryLimit (three quarters of the machine's memory); a negative
	// value means no ceiling.
	MemoryLimit int64

	// Notebook is the notebook's path, which keys its module folder (the Go
	// modules its cells import, see package gomod); empty means the path
	// Jupyter gives the kernel in JPY_SESSION_NAME, or the working directory.
	Notebook string
}

// Session is one interpreter whose state persists across cells.
type Session struct {
	opts Options

	execMu sync.Mutex // one Execute at a time

	mu   sync.RWMutex // guards prog for Complete/Inspect running concurrently
	prog *program

	fset     *token.FileSet
	importer *symbolImporter
	modules  *cellModules // packages imported from source (modules.go)

	streams *streamer
	capture *fdCapture
	trace   *traceWriter
	stdin   *cellInput
	stdout  io.Writer
	stderr  io.Writer

	// The interpreter and what has been compiled into it.
	yi        *yaegi.Interpreter
	ynames    map[string]string // import name → path
	yhidden   map[string]bool   // paths imported under their hidden alias
	yvars     map[string]string // package variable → its type as declared
	ydecls    map[*declaration]bool
	ysources  map[string]bool      // source packages compiled into the interpreter
	dirty     bool                 // a failed compile may have left half-declared names
	replays   int                  // how many times the program was replayed (for tests and stats)
	serial    int                  // cells compiled so far
	cellNames map[int]string       // serial → "CellN", for positions
	parsed    map[*parsedCell]bool // cells whose files are in fset (see forgetCells)
	runState  runState

	ctl    atomic.Pointer[control] // stops the interpreter's evaluation (nil: not available)
	stopMu sync.Mutex
	stopCh chan struct{} // closed by stopInterp (see stopped)
	guard  *guard        // stack and memory watchdog
	limit  int64         // the memory ceiling, ≤ 0 for none

	held         atomic.Int64  // calls of compiled code that take a context, running (see hold)
	abandonAfter time.Duration // see the constant; tests shorten it

	closed bool
}

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

// New returns a session ready to execute cells.
func New(opts Options) (*Session, error) {
	s := &Session{
		opts:      opts,
		prog:      newProgram(),
		fset:      token.NewFileSet(),
		importer:  theImporter(),
		modules:   newCellModules(notebookPath(opts)),
		stdin:     &cellInput{},
		cellNames: map[int]string{},
		parsed:    map[*parsedCell]bool{},

		abandonAfter: abandonAfter,
	}
	limit, limitErr := memoryLimit(opts)
	s.limit = limit
	s.streams = newStreamer(opts.MaxOutput)
	if limitErr != nil {
		// Told to the first cell; the kernel's log has it too.
		s.streams.write(stderrStream, []byte("[gocvx: "+limitErr.Error()+"]\n"))
		fmt.Fprintln(ProcessStderr(), "gocvx: "+limitErr.Error())
	}
	c, err := startCapture(s.streams, opts.CaptureOutput)
	switch {
	case err == nil:
		s.capture = c
	case opts.CaptureOutput:
		s.streams.close()
		return nil, err
	}
	// What interpreted code prints goes straight to the streamer, stdout and
	// stderr in the order it was written, after what the pipes hold.
	s.stdout = orderedWriter{s, stdoutStream}
	s.stderr = orderedWriter{s, stderrStream}
	s.trace = &traceWriter{next: s.stderr.Write}
	if err := s.newInterpreter(); err != nil {
		s.Close()
		return nil, err
	}
	s.guard = startGuard(s, limit)
	return s, nil
}

// Close releases the session; it restores file descriptors 1 and 2.
func (s *Session) Close() error {
	s.execMu.Lock()
	defer s.execMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.guard != nil {
		s.guard.close()
	}
	if s.capture != nil {
		s.capture.stop()
	}
	s.streams.close()
	return nil
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

// Execute runs one cell. Cancelling ctx interrupts it; Execute returns only when
// the cell has stopped.
func (s *Session) Execute(ctx context.Context, c Cell) (out Outcome) {
	s.execMu.Lock()
	defer s.execMu.Unlock()
	if s.closed {
		return Outcome{Error: &Error{Name: "SessionClosed", Value: "the session is closed", Traceback: []string{"the session is closed"}}}
	}
	if c.Output == nil {
		c.Output = discardOutput{}
	}
	s.streams.begin(c.Output)
	// Cells see a context that only an interrupt cancels: ctx's end after the
	// cell (the caller's cleanup) must not cancel what the cell kept. run
	// cancels it when ctx is cancelled, after stopping the interpreter, so that
	// compiled code returning early from the interrupt does not let the cell
	// run on.
	cellCtx, interrupt := context.WithCancel(context.Background())
	s.setInterrupt(interrupt, cellCtx.Done())
	leave := cellrt.Enter(cellCtx, sink{s})
	s.stdin.set(c.Input)
	defer func() {
		s.setInterrupt(nil, nil)
		s.stdin.set(nil)
		leave()
		s.syncOutput()
		s.streams.end()
	}()

	if c.Transient {
		if _, err := parser.ParseExpr(c.Code); err != nil {
			msg := "a user expression must be one Go expression: " + err.Error()
			return Outcome{Error: &Error{Name: "CompileError", Value: msg, Traceback: []string{"CompileError: " + msg}}}
		}
	} else if page, ok := s.help(c.Code); ok {
		return Outcome{Page: page}
	} else if mc, ok, err := magicCell(c.Code); ok {
		if err != nil {
			return Outcome{Error: &Error{Name: "MagicError", Value: err.Error(), Traceback: []string{"MagicError: " + err.Error()}}}
		}
		return s.executeMagics(ctx, c, mc)
	}
	return s.executeGo(ctx, c)
}

// executeGo runs a cell of Go (or a Go part of a cell with magics).
func (s *Session) executeGo(ctx context.Context, c Cell) (out Outcome) {
	if isBlankCode(c.Code) {
		return Outcome{}
	}
	pc, err := parseCell(s.fset, c.Number, c.Code)
	if err != nil {
		return Outcome{Error: compileErr(err)}
	}
	if err := s.importSources(ctx, pc); err != nil {
		return Outcome{Error: compileErr(err)}
	}
	s.mu.Lock()
	s.serial++
	pc.id = s.serial
	s.cellNames[pc.id] = pc.name
	s.parsed[pc] = true
	s.mu.Unlock()
	defer s.forgetCells()
	s.mu.RLock()
	cc := &compiler{fset: s.fset, importer: s.importer, sources: s.modules, prog: s.prog}
	comp, err := cc.compile(pc)
	s.mu.RUnlock()
	if err != nil {
		return Outcome{Error: compileErr(err)}
	}
	for _, n := range comp.notes {
		s.streams.write(stderrStream, []byte(n))
	}

	var prepErr error
	if comp.replay || s.dirty {
		prepErr = s.rebuild(ctx, comp)
	} else {
		prepErr = s.incremental(comp)
	}
	if prepErr != nil {
		// The interpreter may hold part of the cell: rebuild it before the next.
		s.dirty = true
		return Outcome{Error: s.toError(prepErr)}
	}
	result, runErr := s.run(ctx, runFunc, true)
	stopped := ""
	var p *cellPanic
	switch {
	case errors.Is(runErr, errInterrupted):
		stopped = "was interrupted"
	case errors.As(runErr, &p) && p.stopped:
		stopped = "was stopped by the stack limit"
		if _, ok := p.value.(memoryError); ok {
			stopped = "was stopped by the memory ceiling"
			// What the cell's variables hold would keep the heap over the
			// ceiling, and every later cell slow or stopped.
			p.reset = s.resetVars(comp.newVars)
		}
	}

	if c.Transient {
		// An expression declares nothing; not recording it keeps replays from
		// evaluating it again.
		if runErr != nil {
			return Outcome{Error: s.toError(runErr)}
		}
		return Outcome{Value: result}
	}
	// The cell compiled: its declarations and variables are part of the program
	// even if it panicked or was interrupted (as in a Go program, what ran ran).
	s.mu.Lock()
	rc := &recordedCell{num: pc.num, body: comp.body, defs: map[string]string{}, stopped: stopped}
	for _, v := range comp.newVars {
		rc.defs[v.name] = v.typeText
	}
	for _, d := range comp.newDecls {
		if d.kind == kindFunc {
			rc.defs[d.names[0]] = "func" + d.sig
		}
	}
	comp.prog.cells = append(comp.prog.cells, rc)
	s.prog = comp.prog
	s.mu.Unlock()

	if runErr != nil {
		return Outcome{Error: s.toError(runErr)}
	}
	return Outcome{Value: result}
}

// forgetCells removes from the file set the files of the cells that the
// program no longer references (a cell whose declarations and variables were
// all redefined, or that declared none): their positions are not needed any
// more, and a long session would otherwise keep every cell's files.
func (s *Session) forgetCells() {
	s.mu.Lock()
	defer s.mu.Unlock()
	used := map[*parsedCell]bool{}
	for _, d := range s.prog.decls {
		used[d.cell] = true
	}
	for _, v := range s.prog.vars {
		used[v.pc] = true
	}
	for pc := range s.parsed {
		if !used[pc] {
			pc.removeFiles(s.fset)
			delete(s.parsed, pc)
		}
	}
}

// resetVars sets the variables to their zero values, to free what they hold
// (after a cell stopped by the memory ceiling), and says which it reset.
func (s *Session) resetVars(vars []*hoistedVar) string {
	var b strings.Builder
	var names []string
	b.WriteString("package " + cellPackage + "\nfunc " + replayFunc + "() {\n")
	for _, v := range vars {
		if t, ok := s.yvars[v.name]; ok {
			fmt.Fprintf(&b, "{ var z %s; %s = z }\n", t, v.name)
			names = append(names, v.name)
		}
	}
	b.WriteString("}\n")
	if len(names) == 0 {
		return ""
	}
	if _, err := s.evalFunc(b.String(), replayFunc); err != nil {
		return ""
	}
	if _, err := s.run(context.Background(), replayFunc, false); err != nil {
		return ""
	}
	if len(names) == 1 {
		return names[0] + ", which the cell defined, was reset to its zero value"
	}
	return strings.Join(names, ", ") + ", which the cell defined, were reset to their zero values"
}

// recordedCell is what a replay runs again of a cell: its statements.
type recordedCell struct {
	num  int
	body string
	defs map[string]string // the variables it defined, with their types then
	// stopped says why the cell did not finish ("was interrupted"), if an
	// interrupt or the guard stopped it: a replay skips it, as it would most
	// likely hang or fail the same way again.
	stopped string
}

// superseded reports whether a later cell gave one of the variables the cell
// defined another type: if the cell no longer compiles, that is why.
func (rc *recordedCell) superseded(q *program) bool {
	for name, typ := range rc.defs {
		v := q.vars[name]
		d := q.decls[name]
		switch {
		case v != nil && v.typeText != typ:
			return true
		case d != nil && (d.kind != kindFunc || "func"+d.sig != typ):
			return true
		case v == nil && d == nil:
			return true
		}
	}
	return false
}

type discardOutput struct{}

func (discardOutput) Stream(string, string)                {}
func (discardOutput) Display(display.Bundle, string, bool) {}
func (discardOutput) Clear(bool)                           {}

// syncOutput waits until everything written to the captured descriptors has
// reached the streamer.
func (s *Session) syncOutput() {
	if s.capture != nil {
		s.capture.sync()
	}
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

var errInterrupted = errors.New("interrupted")

// errGoexit is a cell that called runtime.Goexit.
var errGoexit = errors.New("runtime.Goexit was called: the cell stopped there; the kernel keeps running")

// errAbandoned is an interrupted cell that did not stop within abandonAfter.
var errAbandoned = fmt.Errorf("%w, and abandoned", errInterrupted)

// abandonAfter is how long an interrupted cell has to stop before the kernel
// takes the next cell without it, unless a compiled call that takes a context
// runs (those are waited for): a child process stops within its own handling
// of the signal, interpreted code at once.
const abandonAfter = 3 * time.Second

// holdPoll is how often an interrupted cell waiting for a compiled call that
// takes a context checks whether that call returned.
const holdPoll = 10 * time.Millisecond

// The interpreter's names of the function that runs a cell's statements and of
// the one that replays an earlier cell: each cell redefines the same function,
// so that the code of the cells that ran can be collected.
const (
	runFunc    = "GocvxCell"
	replayFunc = "GocvxReplay"
)

// yaegiPos matches a position in the interpreter's messages: "_.go:700003:5" or
// "700003:5" (yaegi drops its default file name).
var yaegiPos = regexp.MustCompile(`(?:_\.go:)?\b(\d+):(\d+)\b`)

// cellPos rewrites the interpreter's positions in text into cell positions
// ("Cell7:3:5"); ok reports whether text held one.
func (s *Session) cellPos(text string) (out string, ok bool) {
	out = yaegiPos.ReplaceAllStringFunc(text, func(m string) string {
		sm := yaegiPos.FindStringSubmatch(m)
		line, _ := strconv.Atoi(sm[1])
		s.mu.RLock()
		name, known := s.cellNames[line/lineBase]
		s.mu.RUnlock()
		if line < lineBase || !known {
			return m
		}
		ok = true
		return fmt.Sprintf("%s:%d:%s", name, line%lineBase, sm[2])
	})
	return out, ok
}

// yaegiMessage cleans an interpreter error for display.
func (s *Session) yaegiMessage(err error) string {
	msg, _ := s.cellPos(err.Error())
	return strings.ReplaceAll(msg, cellPackage+".", "")
}

// compileErr converts a parse or compile failure.
func compileErr(err error) *Error {
	var lines []string
	var ce *compileError
	switch {
	case errors.As(err, &ce):
		lines = ce.msgs
	default:
		if el, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range el.Unwrap() {
				lines = append(lines, e.Error())
			}
		}
		if lines == nil {
			for _, l := range strings.Split(err.Error(), "\n") {
				if strings.TrimSpace(l) != "" {
					lines = append(lines, l)
				}
			}
		}
	}
	if se, ok := err.(interface{ Len() int }); ok && se.Len() > 0 && len(lines) == 0 {
		lines = []string{err.Error()}
	}
	if len(lines) == 0 {
		lines = []string{err.Error()}
	}
	return &Error{Name: "CompileError", Value: strings.Join(lines, "\n"), Traceback: lines}
}

// runState is the cell function in flight: compiled code (gocvxrt.Run) marks when
// it is entered and left, so that an interrupt can wait for the real end.
type runState struct {
	mu        sync.Mutex
	entered   bool
	canceled  bool
	left      chan struct{}
	panicked  any
	stack     []byte
	gen       int                // counts runs, so that an abandoned one changes nothing
	cellDone  <-chan struct{}    // the running cell's context is done
	active    bool               // run is running a cell function
	stopped   error              // why the guard stopped it (errOverflow, memoryError)
	interrupt context.CancelFunc // cancels the running cell's context (cell.Context)
	atLine    int                // the cell's statement that runs (see rtAt)
	atCol     int
	result    *display.Bundle
}

// run calls the cell function name in the interpreter and waits for its end.
func (s *Session) run(ctx context.Context, name string, live bool) (*display.Bundle, error) {
	// The files of the chunk that calls the cell function are not needed once
	// it has run (the next run replaces it).
	fset := s.yi.FileSet()
	base := fset.Base()
	defer func() {
		for _, f := range filesSince(fset, base) {
			fset.RemoveFile(f)
		}
	}()
	prog, err := func() (p *yaegi.Program, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v", r)
			}
		}()
		defer releaseTrees(s.yi)
		// Through an interpreted function: a call of a compiled one at top
		// level would take a slot of the interpreter's global frame per run.
		return s.yi.Compile(cellPackage + ".GocvxRun(" + cellPackage + "." + name + ")")
	}()
	if err != nil {
		return nil, &compileError{[]string{s.yaegiMessage(err)}}
	}
	rs := &s.runState
	rs.mu.Lock()
	rs.entered, rs.canceled, rs.left, rs.panicked, rs.stack, rs.result = false, false, make(chan struct{}), nil, nil, nil
	rs.atLine, rs.atCol, rs.stopped, rs.active = 0, 0, nil, true
	rs.gen++
	left := rs.left
	var cellDone <-chan struct{} // closed when the guard stops the cell
	if live {
		cellDone = rs.cellDone
	}
	rs.mu.Unlock()
	defer func() {
		rs.mu.Lock()
		rs.active = false
		rs.mu.Unlock()
	}()
	if s.guard != nil {
		s.guard.begin()
	}
	s.trace.take()

	execDone := make(chan error, 1)
	execOver := make(chan struct{}) // closed after execDone is sent
	ctl := newControl(s.yi)
	if ctl != nil {
		ctl.arm()
	}
	go func() {
		defer close(execOver)
		returned := false
		defer func() {
			switch r := recover(); {
			case r != nil:
				execDone <- fmt.Errorf("%v", r)
			case !returned: // runtime.Goexit
				execDone <- errGoexit
			}
		}()
		var err error
		if ctl != nil {
			_, err = s.yi.Execute(prog)
		} else {
			_, err = s.yi.ExecuteWithContext(ctx, prog)
		}
		returned = true
		execDone <- err
	}()
	var execErr error
	finished := false
	select {
	case execErr = <-execDone:
		finished = true
	case <-cellDone:
		// The guard stopped the interpreter and cancelled the cell's context.
	case <-ctx.Done():
		s.stopInterp(ctl)
		rs.mu.Lock()
		interrupt := rs.interrupt
		rs.mu.Unlock()
		if interrupt != nil {
			interrupt()
		}
		execErr = ctx.Err()
	}
	rs.mu.Lock()
	if ctx.Err() != nil {
		rs.canceled = true
	}
	entered := rs.entered
	rs.mu.Unlock()
	// Wait until the cell function has really returned, and the interpreter
	// with it, so that nothing of the cell runs on while the next one does:
	// interpreted code stops at once, the solver at its next iteration. While
	// a call of compiled code that takes a context runs (the solver, counted
	// by gocvxrt.Hold), the wait has no limit: such a call is trusted to
	// return once its context is cancelled, and the next cell must not run
	// beside it. Otherwise a cell that does not return within abandonAfter,
	// blocked in compiled code (a lock taken twice, a WaitGroup that nobody
	// releases) or computing there without a context, is abandoned: the call
	// goes on in the background, and the interpreted code around it stops as
	// soon as it returns (the interpreter's run id has changed).
	abandoned := false
	var grace *time.Timer
	if !finished {
		grace = time.NewTimer(s.abandonAfter)
		defer grace.Stop()
	}
	wait := func(ready <-chan struct{}) (ok bool) {
		if grace == nil {
			<-ready
			return true
		}
		held := false
		for {
			select {
			case <-ready:
				return true
			case <-grace.C:
				switch {
				case s.held.Load() > 0:
					held = true
					grace.Reset(holdPoll)
				case held:
					// The call returned: what follows it has abandonAfter again.
					held = false
					grace.Reset(s.abandonAfter)
				default:
					return false
				}
			}
		}
	}
	if entered {
		abandoned = !wait(left)
	}
	if ctl != nil && !finished && !abandoned {
		abandoned = !wait(execOver)
	}
	s.syncOutput()
	rs.mu.Lock()
	panicked, stack, result, stopped := rs.panicked, rs.stack, rs.result, rs.stopped
	at := fmt.Sprintf("%d:%d", rs.atLine, rs.atCol)
	if rs.atLine == 0 {
		at = ""
	}
	rs.mu.Unlock()
	frames := s.trace.take()
	switch {
	case errors.Is(stopped, errOverflow):
		return nil, &cellPanic{value: runtimeError{errOverflow.Error()}, at: at, stopped: true}
	case stopped != nil:
		return nil, &cellPanic{value: stopped, at: at, stopped: true}
	case panicked != nil:
		return nil, &cellPanic{value: panicked, frames: frames, stack: stack, at: at}
	case errors.Is(execErr, errGoexit):
		return nil, &cellPanic{value: errGoexit, at: at}
	case abandoned && ctx.Err() != nil:
		return nil, errAbandoned
	case ctx.Err() != nil:
		return nil, errInterrupted
	case execErr != nil && !errors.Is(execErr, context.Canceled):
		return nil, &cellPanic{value: execErr, frames: frames, at: at}
	}
	return result, nil
}

// setInterrupt sets the function that cancels the running cell's context,
// and the context's done channel.
func (s *Session) setInterrupt(f context.CancelFunc, done <-chan struct{}) {
	rs := &s.runState
	rs.mu.Lock()
	rs.interrupt, rs.cellDone = f, done
	rs.mu.Unlock()
}

// cellPanic is a cell that panicked.
type cellPanic struct {
	value  any
	frames []string
	stack  []byte
	at     string // the statement of the cell that ran, in yaegi's encoding
	// stopped: the guard stopped the cell (it did not panic by itself)
	stopped bool
	reset   string // what was done to free memory, for the message
}

func (p *cellPanic) Error() string { return fmt.Sprint(p.value) }

// toError converts a run failure into the cell's error.
func (s *Session) toError(err error) *Error {
	if errors.Is(err, errAbandoned) {
		msg := fmt.Sprintf("the cell was interrupted but did not stop within %v: it waits in compiled code that takes no context (a lock taken twice, a WaitGroup or a channel that nothing releases, a long computation); it was abandoned there: that call goes on in the background, nothing more of the cell runs when it returns, and the next cell starts now", s.abandonAfter)
		return &Error{Name: "Interrupted", Value: msg, Traceback: []string{"Interrupted: " + msg}}
	}
	if errors.Is(err, errInterrupted) {
		return &Error{Name: "Interrupted", Value: "the cell was interrupted", Traceback: []string{"Interrupted: the cell was interrupted"}}
	}
	var ce *compileError
	if errors.As(err, &ce) {
		return compileErr(err)
	}
	p, ok := err.(*cellPanic)
	if !ok {
		return &Error{Name: "Error", Value: err.Error(), Traceback: []string{err.Error()}}
	}
	name, value := panicName(p.value)
	if _, ok := p.value.(memoryError); ok && p.stopped {
		value = "the cell was stopped: " + value
		if p.reset != "" {
			value += "; " + p.reset
		}
	}
	tb := []string{name + ": " + value}
	tb = append(tb, s.formatFrames(s.frames(p.frames), p.at)...)
	return &Error{Name: name, Value: value, Traceback: tb}
}

// panicName returns the ename and evalue of a panic value.
func panicName(v any) (string, string) {
	if rv, ok := v.(reflect.Value); ok {
		// yaegi panics with the reflect.Value of an interpreted panic value.
		if !rv.IsValid() || !rv.CanInterface() {
			return "panic", fmt.Sprint(v)
		}
		v = rv.Interface()
	}
	if v == errGoexit {
		return "Goexit", errGoexit.Error()
	}
	switch v := v.(type) {
	case exitPanic:
		return "Exit", fmt.Sprintf("os.Exit(%d) was called; the kernel keeps running", v.code)
	case memoryError:
		return "MemoryError", v.Error()
	case yaegi.Panic:
		return panicName(v.Value)
	case runtime.Error:
		return "runtime error", strings.TrimPrefix(v.Error(), "runtime error: ")
	case error:
		msg := v.Error()
		if strings.HasPrefix(msg, "reflect: ") || strings.HasPrefix(msg, "runtime error: ") {
			return "runtime error", goRuntimeMessage(msg)
		}
		return "panic", msg
	case string:
		if strings.HasPrefix(v, "reflect: ") {
			return "runtime error", goRuntimeMessage(v)
		}
		return "panic", v
	case fmt.Stringer:
		return "panic", v.String()
	}
	return "panic", fmt.Sprintf("%v", v)
}

// goRuntimeMessage words the interpreter's reflect panics as Go's runtime does.
func goRuntimeMessage(msg string) string {
	msg = strings.TrimPrefix(msg, "runtime error: ")
	switch msg {
	case "reflect: slice index out of range", "reflect: array index out of range", "reflect: string index out of range":
		return "index out of range"
	case "reflect: call of reflect.Value.Elem on zero Value", "reflect: call of reflect.Value.Field on zero Value",
		"reflect: call of reflect.Value.Set on zero Value":
		return "invalid memory address or nil pointer dereference"
	}
	return msg
}

// frame is one interpreted frame of a panic.
type frame struct {
	fn  string // yaegi's name of the function ("gocvxcells.get")
	pos string // cell position, or "" when yaegi reported none in a cell
}

// frames parses yaegi's panic lines ("700002:5: panic: gocvxcells.f(...)"),
// innermost first, keeping the frames of the cells' package.
func (s *Session) frames(lines []string) []frame {
	if os.Getenv("GOCVX_RAW") != "" {
		fmt.Println(strings.Join(lines, "\n"))
	}
	var out []frame
	for _, l := range lines {
		i := strings.Index(l, ": panic: ")
		if i < 0 {
			continue
		}
		fn := strings.TrimSuffix(l[i+len(": panic: "):], "(...)")
		pos, ok := s.cellPos(l[:i])
		if !ok {
			pos = ""
		}
		if !strings.HasPrefix(fn, cellPackage+".") && pos == "" {
			continue
		}
		out = append(out, frame{fn, pos})
	}
	return out
}

// formatFrames renders frames as traceback lines ("  lookup at Cell2:2:9").
// yaegi's positions come from the first node of the frame's function that
// runs the same kind of operation, so inside a function they may point at an
// earlier line; the outermost frame, the cell's, is exact (at, from rtAt).
func (s *Session) formatFrames(frames []frame, at string) []string {
	if at != "" {
		if pos, ok := s.cellPos(at); ok {
			cell := frame{fn: cellPackage + "." + cellFuncName(0), pos: pos}
			if n := len(frames); n > 0 && strings.HasPrefix(frames[n-1].fn, cellPackage+".GocvxCell") && !strings.HasSuffix(frames[n-1].fn, ".func") {
				frames[n-1] = cell
			} else {
				frames = append(frames, cell)
			}
		}
	}
	var kept []frame
	var names []string
	for _, f := range frames {
		if f.pos == "" {
			continue
		}
		name := s.funcAt(f.pos)
		// yaegi adds a line for the function at its own declaration (the
		// "func" keyword, which no call or panic can be at): not a frame.
		if n := len(names); n > 0 && names[n-1] == name && f.pos == s.declPos(name) {
			continue
		}
		kept = append(kept, f)
		names = append(names, name)
	}
	// A caller's frame is at its call of the callee when that call is the
	// only one in the caller (yaegi's own position may be an earlier call).
	for i := 1; i < len(kept); i++ {
		if pos, ok := s.callSite(names[i], names[i-1]); ok {
			kept[i].pos = pos
		}
	}
	var out []string
	for i, f := range kept {
		out = append(out, fmt.Sprintf("  %s at %s", names[i], f.pos))
	}
	return out
}

// declPos returns the position of the declaration of the function name (from
// funcAt) in its cell, or "".
func (s *Session) declPos(name string) string {
	s.mu.RLock()
	d := s.prog.decls[name]
	s.mu.RUnlock()
	if d == nil {
		return ""
	}
	l, c := d.cell.lineCol(d.cell.offset(d.node.Pos()))
	return fmt.Sprintf("%s:%d:%d", d.cell.name, l, c)
}

// callSite returns the position of the only call of callee (a name from
// funcAt: "f" or "T.m") in the declaration of caller.
func (s *Session) callSite(caller, callee string) (string, bool) {
	s.mu.RLock()
	d := s.prog.decls[caller]
	s.mu.RUnlock()
	if d == nil {
		return "", false
	}
	fd, ok := d.node.(*ast.FuncDecl)
	if !ok || fd.Body == nil {
		return "", false
	}
	name := callee
	if i := strings.LastIndexByte(callee, '.'); i >= 0 {
		name = callee[i+1:]
	}
	var found []ast.Node
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		switch f := ast.Unparen(call.Fun).(type) {
		case *ast.Ident:
			if f.Name == name {
				found = append(found, call)
			}
		case *ast.SelectorExpr:
			if f.Sel.Name == name {
				found = append(found, call)
			}
		}
		return true
	})
	if len(found) != 1 {
		return "", false
	}
	l, c := d.cell.lineCol(d.cell.offset(found[0].Pos()))
	return fmt.Sprintf("%s:%d:%d", d.cell.name, l, c), true
}

// cellName returns the name of the cell with serial number id.
func (s *Session) cellName(id int) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if n, ok := s.cellNames[id]; ok {
		return n
	}
	return "a cell"
}

// funcAt names the function of the program containing a cell position
// ("Cell3:2:5"): a function or method declared by a cell, or the cell itself.
func (s *Session) funcAt(pos string) string {
	parts := strings.Split(pos, ":")
	if len(parts) != 3 {
		return ""
	}
	line, _ := strconv.Atoi(parts[1])
	col, _ := strconv.Atoi(parts[2])
	before := func(l1, c1, l2, c2 int) bool { return l1 < l2 || l1 == l2 && c1 <= c2 }
	s.mu.RLock()
	defer s.mu.RUnlock()
	best := ""
	for _, d := range s.prog.sortedDecls() {
		fd, ok := d.node.(*ast.FuncDecl)
		if !ok || d.cell.name != parts[0] {
			continue
		}
		l1, c1 := d.cell.lineCol(d.cell.offset(fd.Pos()))
		l2, c2 := d.cell.lineCol(d.cell.offset(fd.End()))
		if before(l1, c1, line, col) && before(line, col, l2, c2) {
			best = d.names[0]
		}
	}
	if best == "" {
		return parts[0]
	}
	return best
}

// cellInput is the interpreter's standard input: each read asks the front end
// for a line.
type cellInput struct {
	mu  sync.Mutex
	in  Input
	buf []byte
}

func (c *cellInput) get() Input {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.in
}

func (c *cellInput) set(in Input) {
	c.mu.Lock()
	c.in, c.buf = in, nil
	c.mu.Unlock()
}

func (c *cellInput) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.buf) == 0 {
		if c.in == nil {
			return 0, io.EOF
		}
		line, err := c.in.ReadLine("", false)
		if err != nil {
			return 0, err
		}
		c.buf = []byte(line + "\n")
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

// sink adapts the session's output to cellrt.Sink for display.
type sink struct{ s *Session }

func (k sink) Display(data, metadata map[string]any, id string, update bool) {
	k.s.syncOutput()
	k.s.streams.display(display.Bundle{Data: data, Metadata: metadata}, id, update)
}

func (k sink) Clear(wait bool) {
	k.s.syncOutput()
	k.s.streams.clear(wait)
}
