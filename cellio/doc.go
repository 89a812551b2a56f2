// Package cellio is the vocabulary that a cell engine and the programs that run cells
// on it share: what goes into a cell and what comes out of it.
//
// A Cell goes in. While it runs, its Output receives what it produces, in order:
// stream text, MIME Bundles (display_data, and update_display_data for a named
// display) and clear_output; its Input supplies the lines it reads. When it ends, an
// Outcome holds its value (execute_result), its Error or a help page. A Completion
// answers a completion request, and LanguageInfo describes the language of the cells.
// The shapes are those of Jupyter's messages, so that every front end passes them on
// without translating them.
//
// The name says what the package holds, the input and output of cells, and nothing
// else. It imports only two packages of the standard library (for the Go version), so
// that everything above it can share it without pulling in anything else: the cell
// engine (interp) produces these values; display renders values into Bundles and
// publishes them through an Output (internal/cellrt keeps the running cell's); the
// Jupyter kernel (kernel) and the headless notebook runner (notebook) consume them
// through engine interfaces of their own, and so compile without the engine, the
// solver or gonum/plot. The command (cmd/gocvx) is the one place that wires the
// engine into both.
package cellio
