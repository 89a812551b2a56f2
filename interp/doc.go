// Package interp is the cell engine: it runs Go notebook cells on the yaegi
// interpreter, keeping state across cells.
//
// A Session is created with New and used by one kernel or one headless notebook run
// (the gocvx command wires it into both); it speaks the types of package cellio:
//
//	func New(opts Options) (*Session, error)
//	func (s *Session) Execute(ctx context.Context, c cellio.Cell) cellio.Outcome
//	func (s *Session) Complete(code string, cursor int) cellio.Completion // cursor in code points
//	func (s *Session) Inspect(code string, cursor, detail int) (cellio.Bundle, bool)
//	func (s *Session) IsComplete(code string) (status, indent string)
//	func (s *Session) Close() error
//
// Execute runs one cell at a time; cancelling ctx interrupts the cell and Execute
// returns only when the cell has really stopped. Complete, Inspect and IsComplete are
// safe to call while a cell runs. What interpreted code prints (fmt, log,
// os.Stdout, os.Stderr) reaches the running cell, stdout and stderr in the order
// written. With Options.CaptureOutput, file descriptors 1 and 2 are also pipes
// into the running cell while the session is open (what compiled code and child
// processes print); the process's own logs then go to ProcessStderr.
//
// # How a cell runs
//
// yaegi v0.16.1 behaves like Go ≈1.21 with gaps that a notebook hits at once (see
// CELLS.md for what remains). The engine hides them:
//
//  1. Split: the cell's top-level import and func declarations are found with
//     go/scanner; the rest is parsed as a function body (parse.go). Positions
//     stay those of the cell ("Cell7:3:5").
//  2. Check: go/types checks the cell at Go 1.26 against the program made of
//     the latest declaration of every name and the variables of earlier cells
//     (compile.go). Compiled packages reach the checker through an importer
//     built from the same yaegi symbol tables that the interpreter loads
//     (importer.go); slices, maps, cmp and iter come from source (sources.go).
//     Variables defined at the cell's top level are hoisted to package
//     variables with their checked types.
//  3. Rewrite: the cell's own text is copied with small edits (gen.go, and
//     rewrite.go with its loops, guards and values files) and /*line*/
//     directives that keep every token's position:
//     hoisting, the displayed last expression, per-iteration loop variables,
//     range over int and over functions, min/max/clear, explicit type
//     arguments, recovering goroutines, interruptible sleeps and contexts,
//     compiled calls that take a context marked while they run, unnamed
//     parameters named _, and the position of the running statement of every
//     function that can fail, for exact tracebacks (rewrite_frames.go,
//     frames.go).
//  4. Run: functions become package variables holding function literals, so
//     that redefining one reaches every caller; what yaegi cannot change in
//     place (types, methods, constants, generics) is applied by replaying the
//     program into a fresh interpreter (interpreter.go). The cell function runs
//     under a compiled wrapper that knows when it has really returned (run.go);
//     a failure becomes the cell's error with its traceback (traceback.go).
//
// # Magics and packages from source
//
// A cell may hold IPython's magics (%time, %env, !command, %%sh, %who, %reset,
// %go get…; package magic parses them, magics.go runs them): Execute runs such
// a cell part by part, its Go parts with the cell's positions. A package that
// is not preloaded is resolved by the user's go command in the notebook's
// module folder, type-checked from source against the compiled packages, and
// read by yaegi through Options.SourcecodeFilesystem (package gomod,
// modules.go); a child process compiles each new set first (probe.go), since
// yaegi can crash on some packages.
//
// # What a cell cannot do to the kernel
//
// A guard (guard.go) samples the runtime every 10 ms while the session is open:
// it stops a runaway recursion before Go's fatal stack overflow, and a cell
// whose heap passes the memory ceiling (Options.MemoryLimit, GOCVX_MEMORY_LIMIT;
// also the runtime's memory limit) with a MemoryError; a make larger than the
// ceiling fails before it allocates. Stopping is an interrupt: the interpreter's
// frames return, channel operations and sleeps of every interpreted goroutine
// wake, the cell's context is cancelled. A call of compiled code that takes a
// context (the solver) is then waited for until it returns, however long; a
// cell that stays blocked in compiled code that takes no context is abandoned
// 3 s after an interrupt. Panics of goroutines and of
// callbacks that compiled code runs on its own goroutines are reported, os.Exit
// and log.Fatal are errors, output is bounded (DefaultMaxOutput).
//
// # Memory of a long session
//
// yaegi keeps, for its debugger, the syntax tree of every chunk it compiled and
// the scope of every function; the session drops both after each evaluation
// (through checked reflection, like the interrupt control), runs every cell as
// the same function name so that the previous cell's code can be collected, and
// removes the files of collected chunks from the file sets. A session keeps about
// 0.8 KB per executed cell (its text, for replays).
package interp
