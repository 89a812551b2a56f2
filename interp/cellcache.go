package interp

import (
	"fmt"

	yaegi "github.com/traefik/yaegi/interp"
)

// Re-executed cells. A notebook runs the same small cell again and again (a
// variable's value, a plot refreshed, x = x + 1 stepping a loop by hand), and
// most of a small cell's cost is turning it into code: parsing, type-checking,
// rewriting, and compiling its chunk and the call of its function into the
// interpreter. A cell that declares nothing compiles, in a given state of the
// program's declarations, to the same code every time: the cache keeps that code,
// the compiled call of the cell's function (the function that the cell's chunk
// declared, which the call holds on to after later cells declare the name
// again), and runs it again when the same source comes back while the program's
// declarations, variables and imports and the interpreter are those it was
// compiled against.
//
// Validity. Every change that could give the same source another meaning
// empties the cache (invalidate): a cell that declares or defines something or
// changes the imports (record), a fresh interpreter (newInterpreter: a replay,
// %reset), and a session whose interpreter must be rebuilt before the next cell
// (dirty: a failed compile, %go, which may change the packages from source) is
// not served from it; nor is a cell while a package from source that cells
// imported has changed (an edit of a local module, which importSources
// notices before each hit as before each compile). The cached code reads
// the variables it uses when it runs, so a cell like x = x + 1 still steps x.
//
// Positions. The cached code carries the serial number of the cell it was
// compiled from (see lineBase); on a hit that serial number is named after the
// cell that runs now, with a copy of the parsed cell under the new name, so that
// a panic names the current cell and its lines (which are those of the same
// source).
//
// A cell that an interrupt, the memory ceiling or the stack limit stopped, or
// that was abandoned, leaves the cache: its serial number may be marked as
// abandoned (rtAt), and a fresh compile gives it a new one.
type cellCache struct {
	entries map[string]*cachedCell // by source
	order   []string               // sources, least recently used first
	bytes   int                    // the length of the sources kept
}

// The bounds of the cache: the cells kept, and the length of their sources,
// of one and of all. A cell kept holds its parsed cell and its compiled
// function, about 230 bytes of heap per byte of source (0.9 MB for a cell of
// 4 KB of loops), so the cache holds at most about 4 MB.
const (
	maxCachedCells  = 32
	maxCachedSource = 4 << 10
	maxCachedBytes  = 16 << 10
)

// cachedCell is a compiled cell that declares nothing.
type cachedCell struct {
	pc    *parsedCell    // the cell as parsed for its compile
	value any            // the value of a constant cell (constcell.go), which has no call; else nil
	call  *yaegi.Program // the call of its function (callProgram)
	body  string         // its statements, for replays (recordedCell)
	at    int64          // the position of its first statement (compiled.at)
	inert bool           // see compiled.inert
}

func newCellCache() *cellCache {
	return &cellCache{entries: map[string]*cachedCell{}}
}

// get returns the cell compiled from code, if the cache has it.
func (cc *cellCache) get(code string) *cachedCell {
	e := cc.entries[code]
	if e != nil {
		cc.touch(code)
	}
	return e
}

// put keeps e as the compiled code of code, dropping the least recently used
// cells when the cache is full.
func (cc *cellCache) put(code string, e *cachedCell) {
	if len(code) > maxCachedSource {
		return
	}
	if _, ok := cc.entries[code]; ok {
		cc.entries[code] = e
		cc.touch(code)
		return
	}
	for len(cc.order) > 0 && (len(cc.order) >= maxCachedCells || cc.bytes+len(code) > maxCachedBytes) {
		cc.drop(cc.order[0])
	}
	cc.entries[code] = e
	cc.order = append(cc.order, code)
	cc.bytes += len(code)
}

// touch makes code the most recently used.
func (cc *cellCache) touch(code string) {
	for i, k := range cc.order {
		if k == code {
			copy(cc.order[i:], cc.order[i+1:])
			cc.order[len(cc.order)-1] = code
			return
		}
	}
}

// drop forgets the cell compiled from code.
func (cc *cellCache) drop(code string) {
	if _, ok := cc.entries[code]; !ok {
		return
	}
	delete(cc.entries, code)
	cc.bytes -= len(code)
	for i, k := range cc.order {
		if k == code {
			cc.order = append(cc.order[:i], cc.order[i+1:]...)
			break
		}
	}
}

// invalidate forgets every cell: the program's declarations or the
// interpreter changed.
func (cc *cellCache) invalidate() {
	clear(cc.entries)
	cc.order = cc.order[:0]
	cc.bytes = 0
}

// cacheable reports whether the compiled cell, which ran, can be run again
// from its compiled code: it declares and defines nothing, has no notes (which
// name the cell), and was not stopped or abandoned.
func cacheable(comp *compiled, stopped string) bool {
	return len(comp.newDecls) == 0 && len(comp.newVars) == 0 && len(comp.notes) == 0 &&
		!comp.pc.program && !comp.replay && stopped == ""
}

// renumbered returns a copy of the parsed cell named after the cell number num,
// with the same serial number, code and syntax, and an index of its frames of
// its own (built under the new name when a traceback needs it).
func (pc *parsedCell) renumbered(num int) *parsedCell {
	return &parsedCell{
		num: num, id: pc.id, program: pc.program, name: fmt.Sprintf("Cell%d", num), code: pc.code,
		imports: pc.imports, funcs: pc.funcs, stmts: pc.stmts,
		declFile: pc.declFile, stmtFile: pc.stmtFile,
		declTok: pc.declTok, stmtTok: pc.stmtTok, importTok: pc.importTok,
		declBase: pc.declBase, stmtBase: pc.stmtBase,
		rangeBodies: pc.rangeBodies,
	}
}
