package interp

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	yaegi "github.com/traefik/yaegi/interp"

	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/internal/cellrt"
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

	// SingleProcWhileIdle lowers GOMAXPROCS to one while no interpreted code
	// runs, and restores it while a cell or its goroutines run longer than a
	// few milliseconds (see procs): a kernel answers small requests with less
	// CPU and sooner. Leave it unset where the process runs other work than the
	// session's cells.
	SingleProcWhileIdle bool
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

	ring    frameRing // positions of returning frames, for tracebacks (frames.go)
	streams *streamer
	capture *fdCapture
	trace   *traceWriter
	stdin   *cellInput
	stdout  io.Writer
	stderr  io.Writer

	// The interpreter and what has been compiled into it.
	yi        *yaegi.Interpreter
	ypkgs     *yaegiPackages            // the compiled packages' tables it holds
	ynames    map[string]string         // import name → path
	yhidden   map[string]bool           // paths imported under their hidden alias
	yvars     map[string]string         // package variable → its type as declared
	ycalls    map[string]*ast.BlockStmt // the calls of the functions run calls, parsed (see callProgram)
	ydecls    map[*declaration]bool
	ysources  map[string]bool      // source packages compiled into the interpreter
	ycmp      bool                 // yaegiCmp compiled into the interpreter
	dirty     bool                 // a failed compile may have left half-declared names
	replays   int                  // how many times the program was replayed (for tests and stats)
	alone     int                  // cells checked without the earlier declarations (compiled.checkedAlone; for tests and stats)
	serial    int                  // cells compiled so far
	cellNames map[int]string       // serial → "CellN", for positions
	parsed    map[*parsedCell]bool // cells whose files are in fset (see forgetCells)
	runState  runState
	workers   *workers   // the goroutines cells run on
	cache     *cellCache // cells that declare nothing, compiled (cellcache.go)
	cacheHits int        // cells run from the cache (for tests and stats)
	noConst   bool       // for tests: constant cells run in the interpreter (constcell.go)
	folded    int        // constant cells shown from the checker's value (for tests and stats)

	ctl    atomic.Pointer[control] // stops the interpreter's evaluation (nil: not available)
	stopMu sync.Mutex
	stopCh chan struct{} // closed by stopInterp (see stopped)
	guard  *guard        // stack and memory watchdog
	limit  int64         // the memory ceiling, ≤ 0 for none

	held         atomic.Int64                 // calls of compiled code that take a context, running (see hold)
	activity     atomic.Pointer[atomic.Int64] // runs of interpreted code in the interpreter (see active)
	epoch        atomic.Uint64                // how many times the interpreter was replaced (see newInterpreter)
	work         func()                       // the callbacks runWork runs (comm.go)
	abandonAfter time.Duration                // see the constant; tests shorten it

	detach func() // ends the session's hold on what is published between cells (cellrt.Attach)
	closed bool
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
		workers:   newWorkers(),
		cache:     newCellCache(),
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
	s.trace = &traceWriter{next: s.stderr.Write, ring: &s.ring}
	if err := s.newInterpreter(); err != nil {
		s.Close()
		return nil, err
	}
	s.guard = startGuard(s, limit)
	// What a goroutine of a cell publishes while no cell runs is held for the
	// next cell (see streamer).
	s.detach = cellrt.Attach(sink{s})
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
	if s.detach != nil {
		s.detach()
	}
	if s.guard != nil {
		s.guard.close()
	}
	if s.capture != nil {
		s.capture.stop()
	}
	s.streams.close()
	s.workers.close()
	return nil
}

// Execute runs one cell. Cancelling ctx interrupts it; Execute returns only when
// the cell has stopped.
//
// The path of a cell, in order: its output, context and standard input are
// installed (enterCell); a help request (name?) is answered with a page, a user
// expression checked to be one expression; the cell is parsed, type-checked and
// rewritten (compileCell, compile.go); the interpreter takes its declarations,
// or is rebuilt and the program replayed when one cannot change in place
// (prepare, interpreter.go); the cell function runs (run, run.go); and the cell
// is recorded in the program for later cells and replays (record), unless it is
// a transient user expression.
func (s *Session) Execute(ctx context.Context, c cellio.Cell) cellio.Outcome {
	s.execMu.Lock()
	defer s.execMu.Unlock()
	if s.closed {
		return cellio.Outcome{Error: &cellio.Error{Name: "SessionClosed", Value: "the session is closed", Traceback: []string{"the session is closed"}}}
	}
	defer s.enterCell(c)()

	if c.Transient {
		if _, err := parser.ParseExpr(c.Code); err != nil {
			msg := "a user expression must be one Go expression: " + err.Error()
			return cellio.Outcome{Error: &cellio.Error{Name: "CompileError", Value: msg, Traceback: []string{"CompileError: " + msg}}}
		}
	} else if page, ok := s.help(c.Code); ok {
		return cellio.Outcome{Page: page}
	} else if mc, ok, err := magicCell(c.Code); ok {
		if err != nil {
			return cellio.Outcome{Error: &cellio.Error{Name: "MagicError", Value: err.Error(), Traceback: []string{"MagicError: " + err.Error()}}}
		}
		return s.executeMagics(ctx, c, mc)
	}
	return s.executeGo(ctx, c)
}

// executeGo runs a cell of Go, or a Go part of a cell with magics (magics.go).
// A cell run before, that declares nothing, runs again from its compiled code
// while the program's declarations have not changed (cellcache.go).
func (s *Session) executeGo(ctx context.Context, c cellio.Cell) cellio.Outcome {
	if isBlankCode(c.Code) {
		return cellio.Outcome{}
	}
	if !c.Transient && !s.dirty {
		// A dirty interpreter is rebuilt before cells run in it again, and
		// the packages from source may have changed (%go get, an edit of a
		// local module, which importSources notices).
		if e := s.cache.get(c.Code); e != nil && s.importSources(ctx, e.pc) == nil && !s.dirty {
			return s.executeCached(ctx, c, e)
		}
	}
	since := s.serial
	var comp *compiled
	defer func() { s.forgetCells(comp != nil && (len(comp.newDecls) > 0 || len(comp.newVars) > 0), since) }()
	comp, err := s.compileCell(ctx, c)
	if err != nil {
		return cellio.Outcome{Error: compileErr(err)}
	}
	for _, n := range comp.notes {
		s.streams.write(stderrStream, []byte(n))
	}
	if v, ok := constResult(comp); ok && !s.noConst {
		s.folded++
		if !c.Transient {
			s.record(comp, "")
			s.cache.put(c.Code, &cachedCell{pc: comp.pc, value: v})
		}
		b := render(v)
		return cellio.Outcome{Value: &b}
	}
	if err := s.prepare(ctx, comp); err != nil {
		if comp.declaredAlone {
			// The cell's variables are in the package of the program's check,
			// but the cell is not in the program.
			s.mu.Lock()
			s.prog.pkg = nil
			s.mu.Unlock()
		}
		return cellio.Outcome{Error: s.toError(err)}
	}
	var result *cellio.Bundle
	call, runErr := s.callProgram(runFunc)
	if runErr == nil {
		result, runErr = s.runProgram(ctx, call, true, comp.at)
	}
	stopped := s.stoppedBecause(runErr, comp.newVars)
	if !c.Transient {
		// An expression declares nothing; not recording it keeps replays from
		// evaluating it again.
		s.record(comp, stopped)
		if call != nil && cacheable(comp, stopped) && !s.dirty {
			s.cache.put(c.Code, &cachedCell{pc: comp.pc, call: call, body: comp.body, at: comp.at, inert: comp.inert})
		}
	}
	if runErr != nil {
		return cellio.Outcome{Error: s.toError(runErr)}
	}
	return cellio.Outcome{Value: result}
}

// executeCached runs again the cell e compiled from the same source, as the
// cell c: its serial number is named after c while it runs (see cellCache),
// and it is recorded for replays as c.
func (s *Session) executeCached(ctx context.Context, c cellio.Cell, e *cachedCell) cellio.Outcome {
	s.cacheHits++
	if e.value != nil {
		b := render(e.value)
		return cellio.Outcome{Value: &b}
	}
	pc := e.pc.renumbered(c.Number)
	s.mu.Lock()
	s.cellNames[pc.id] = pc.name
	s.parsed[pc] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.parsed, pc)
		s.mu.Unlock()
	}()
	result, runErr := s.runProgram(ctx, e.call, true, e.at)
	stopped := s.stoppedBecause(runErr, nil)
	if stopped != "" {
		s.cache.drop(c.Code)
	}
	if !e.inert {
		s.mu.Lock()
		q := s.prog.clone()
		q.cells = append(q.cells, &recordedCell{num: c.Number, body: e.body, at: e.at, defs: map[string]string{}, stopped: stopped})
		s.prog = q
		s.mu.Unlock()
	}
	if runErr != nil {
		return cellio.Outcome{Error: s.toError(runErr)}
	}
	return cellio.Outcome{Value: result}
}

// enterCell directs the session's output, context and standard input to the
// cell c, and returns the function that leaves it.
func (s *Session) enterCell(c cellio.Cell) (leave func()) {
	out := c.Output
	if out == nil {
		out = discardOutput{}
	}
	s.streams.begin(out)
	// Cells see a context that only an interrupt cancels: ctx's end after the
	// cell (the caller's cleanup) must not cancel what the cell kept. run
	// cancels it when ctx is cancelled, after stopping the interpreter, so that
	// compiled code returning early from the interrupt does not let the cell
	// run on.
	cellCtx, interrupt := context.WithCancel(context.Background())
	s.setInterrupt(interrupt, cellCtx.Done())
	leaveRT := cellrt.Enter(cellCtx, sink{s})
	s.stdin.set(c.Input)
	return func() {
		s.setInterrupt(nil, nil)
		s.stdin.set(nil)
		leaveRT()
		s.syncOutput()
		s.streams.end()
	}
}

// compileCell parses the cell, makes the packages it imports from source
// importable (importSources, modules.go), gives it its serial number (its
// positions in the interpreter, see lineBase) and compiles it against the
// program.
func (s *Session) compileCell(ctx context.Context, c cellio.Cell) (*compiled, error) {
	if lines := strings.Count(c.Code, "\n") + 1; lines >= lineBase {
		return nil, fmt.Errorf("the cell has %d lines, more than the %d a cell may have: split it into several cells", lines, lineBase-1)
	}
	pc, err := parseCell(s.fset, c.Number, c.Code)
	if err != nil {
		return nil, err
	}
	if err := s.importSources(ctx, pc); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.dirty {
		// The interpreter is rebuilt before the cell (packages from source
		// changed, or a compile failed): so is the checker's package.
		s.prog.pkg = nil
	}
	if s.serial >= maxSerial {
		s.mu.Unlock()
		return nil, fmt.Errorf("this session has run %d cells, the most the interpreter's positions can number: restart the kernel and run the notebook's cells again", s.serial)
	}
	s.serial++
	pc.id = s.serial
	s.cellNames[pc.id] = pc.name
	s.parsed[pc] = true
	s.mu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	cc := &compiler{fset: s.fset, importer: s.importer, sources: s.modules, prog: s.prog}
	comp, err := cc.compile(pc)
	if err == nil && comp.checkedAlone {
		s.alone++
	}
	return comp, err
}

// prepare makes the interpreter ready to run the compiled cell: its new
// declarations compiled in, or a fresh interpreter with the program replayed.
func (s *Session) prepare(ctx context.Context, comp *compiled) error {
	var err error
	if comp.replay || s.dirty {
		err = s.rebuild(ctx, comp)
	} else {
		err = s.incremental(comp)
	}
	if err != nil {
		// The interpreter may hold part of the cell: rebuild it before the next.
		s.dirty = true
	}
	return err
}

// stoppedBecause says why an interrupt or the guard stopped the cell ("was
// interrupted"), or "" when it was not stopped. A cell stopped by the memory
// ceiling has the variables it defined (vars) reset: what they hold would keep
// the heap over the ceiling, and every later cell slow or stopped.
func (s *Session) stoppedBecause(runErr error, vars []*hoistedVar) string {
	var p *cellPanic
	switch {
	case errors.Is(runErr, errInterrupted):
		return "was interrupted"
	case errors.As(runErr, &p) && p.stopped:
		if _, ok := p.value.(memoryError); ok {
			p.reset = s.resetVars(vars)
			return "was stopped by the memory ceiling"
		}
		return "was stopped by the stack limit"
	}
	return ""
}

// record makes the compiled cell part of the program: its declarations and
// variables are there even if it panicked or was interrupted (as in a Go
// program, what ran ran), and its statements are replayed by a rebuild, unless
// they cannot change the program's state (compiled.inert).
func (s *Session) record(comp *compiled, stopped string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(comp.newDecls) > 0 || len(comp.newVars) > 0 || comp.prog.shared != sharedDecls|sharedVars|sharedImports {
		// The cells compiled before may mean something else now.
		s.cache.invalidate()
	}
	if comp.inert {
		s.prog = comp.prog
		return
	}
	rc := &recordedCell{num: comp.pc.num, body: comp.body, at: comp.at, defs: map[string]string{}, stopped: stopped}
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
}

// forgetCells removes from the file set the files of the cells that the
// program no longer references (a cell whose declarations and variables were
// all redefined, or that declared none): their positions are not needed any
// more, and a long session would otherwise keep every cell's files.
//
// Unless the program's declarations or variables changed (declared), the
// cells that they reference are those of before: only the cells compiled
// since the serial number since can be unused, and they are.
func (s *Session) forgetCells(declared bool, since int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !declared {
		for pc := range s.parsed {
			if pc.id > since {
				pc.removeFiles(s.fset)
				delete(s.parsed, pc)
			}
		}
		return
	}
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
	if _, err := s.evalFunc(b.String(), replayFunc, declaresOnly); err != nil {
		return ""
	}
	if _, err := s.run(context.Background(), replayFunc, false, 0); err != nil {
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
	at   int64             // the position of its first statement (compiled.at)
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

func (discardOutput) Stream(string, string)               {}
func (discardOutput) Display(cellio.Bundle, string, bool) {}
func (discardOutput) Clear(bool)                          {}

// syncOutput waits until everything written to the captured descriptors has
// reached the streamer.
func (s *Session) syncOutput() {
	if s.capture != nil {
		s.capture.sync()
	}
}

// cellInput is the interpreter's standard input: each read asks the front end
// for a line.
type cellInput struct {
	mu  sync.Mutex
	in  cellio.Input
	buf []byte
}

func (c *cellInput) get() cellio.Input {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.in
}

func (c *cellInput) set(in cellio.Input) {
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

// sink is the output that display publishes to (through cellrt): the session's
// streamer, after what the captured descriptors still hold.
type sink struct{ s *Session }

func (k sink) Stream(name, text string) {
	stream := stdoutStream
	if name == "stderr" {
		stream = stderrStream
	}
	orderedWriter{k.s, stream}.Write([]byte(text))
}

func (k sink) Display(b cellio.Bundle, id string, update bool) {
	k.s.syncOutput()
	k.s.streams.display(b, id, update)
}

func (k sink) Clear(wait bool) {
	k.s.syncOutput()
	k.s.streams.clear(wait)
}

// The services the sink gives cell-facing packages through cellrt (see comm.go).

func (k sink) Comm(m cellio.Comm) { k.s.streams.comm(m) }

func (k sink) Redirect(out cellio.Output) (restore func()) {
	k.s.syncOutput()
	return k.s.streams.redirect(out)
}

func (k sink) Here() cellio.Output { return k.s.streams.here() }

func (k sink) ReportPanic(r any) { k.s.callbackPanic(r) }

func (k sink) Epoch() uint64 { return k.s.epoch.Load() }

func (k sink) Stopped() bool { return k.s.isStopped() }
