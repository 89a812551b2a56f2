package interp

import (
	"os"
	"runtime"
)

// procs lowers GOMAXPROCS to one while no interpreted code runs, when
// Options.SingleProcWhileIdle asks for it (the kernel does).
//
// A kernel hands each request from goroutine to goroutine: the socket's reader,
// the receiver, the executor, the cell's worker, the iopub writer. With more than
// one P, each hand-off also wakes an idle thread to look for work, which finds
// none and sleeps again; with one P the goroutine handed to runs next on the same
// thread. For a trivial execute through jupyter_client that was 20–30 % of the
// kernel's CPU and about 7 % of the round trip (see the README's kernel
// benchmark). Cells need the cores, though, so the guard (guard.loop, every
// guardInterval) restores the process's GOMAXPROCS when it finds the same cell
// running on two of its ticks in a row, or interpreted code running between
// cells (goroutines a cell started, counted by Session.active) on two ticks in a
// row, and lowers it again at the first tick that finds neither. A cell shorter
// than a guard interval runs on one P; a longer one has every P from its second
// interval on.
//
// The session leaves GOMAXPROCS alone when the environment sets it, and for good
// once it finds a value it did not set (a cell called runtime.GOMAXPROCS); Close
// restores the value it found.
type procs struct {
	full int // GOMAXPROCS when the session started
	set  int // the value the session last set; 0: not managing
	// What the previous tick saw: the generation of the cell running (0: none)
	// and whether interpreted code ran between cells.
	cellGen    int
	background bool
}

func newProcs(on bool) *procs {
	p := &procs{full: runtime.GOMAXPROCS(0)}
	if on && os.Getenv("GOMAXPROCS") == "" && p.full > 1 {
		p.set = p.full
	}
	return p
}

// tick is the guard's look at what runs: gen is the generation of the running
// cell (0 when none runs), background whether interpreted code runs while no
// cell does. Only the guard's goroutine calls it.
func (p *procs) tick(gen int, background bool) {
	busy := (gen != 0 && gen == p.cellGen) || (background && p.background)
	p.cellGen, p.background = gen, background
	if busy {
		p.adjust(p.full)
	} else if gen == 0 && !background {
		p.adjust(1)
	}
}

// adjust sets GOMAXPROCS to n, unless the session does not manage it.
func (p *procs) adjust(n int) {
	if p.set == 0 || p.set == n {
		return
	}
	if runtime.GOMAXPROCS(0) != p.set { // a cell set it: leave it to the cells
		p.set = 0
		return
	}
	runtime.GOMAXPROCS(n)
	p.set = n
}

// restore gives the process back the GOMAXPROCS the session found (after the
// guard stopped).
func (p *procs) restore() { p.adjust(p.full) }
