package interp

import (
	"os"
	"runtime/debug"
)

// gcPace keeps the collector's heap goal at least gcHeadroom above the live
// heap while a session is open, by raising GOGC (debug.SetGCPercent) when the
// live heap is small; the guard calls tick every guardInterval.
//
// With GOGC = 100 the collector runs whenever the heap has grown by as much as
// is live. A kernel's live heap is small (the symbol tables, the notebook's
// variables: 6–8 MB in BenchmarkExecuteAfterNotebook), while compiling a small
// cell allocates about 35 kB; so a collection ran every hundred or so small
// cells, and marking cost about a tenth of the engine's CPU per cell. The
// cost of a collection grows with what is live, and their number falls as
// GOGC rises, so the collector's CPU per allocated byte is proportional to
// 1/GOGC: a goal of live + h instead of 2·live divides it by h/live. The
// percent is
//
//	GOGC = max(100, 100 · h / live),
//
// so a heap of more than h live (a notebook holding data) is collected as Go
// does by default, and a small one is left to grow by h before a collection.
// The memory ceiling is unchanged: the runtime's memory limit
// (debug.SetMemoryLimit, set by the guard) makes the collector run as the
// heap nears it whatever GOGC is, and the guard compares the ceiling with the
// heap after a collection.
//
// The session leaves GOGC alone when the environment sets it, and for good once
// it finds a value it did not set (a cell called debug.SetGCPercent); Close
// restores the value it found.
type gcPace struct {
	headroom int64
	prev     int    // GOGC when the session started
	set      int    // the value the session last set; 0: not managing
	live     uint64 // the live heap that set was computed for
}

// gcHeadroom is h above: the garbage a small heap may hold between
// collections. A ceiling (the memory limit) of less than 8h lowers it to an
// eighth of the ceiling.
const gcHeadroom = 64 << 20

func newGCPace(limit int64) *gcPace {
	p := &gcPace{headroom: gcHeadroom}
	if limit > 0 && limit/8 < p.headroom {
		p.headroom = limit / 8
	}
	if os.Getenv("GOGC") != "" {
		return p
	}
	p.prev = debug.SetGCPercent(100)
	if p.prev != 100 {
		// Someone set it already: keep theirs.
		debug.SetGCPercent(p.prev)
		return p
	}
	p.set = 100
	return p
}

// tick sets GOGC for the live heap live (bytes, as of the last collection).
func (p *gcPace) tick(live uint64) {
	if p.set == 0 || live == 0 || live == p.live {
		return
	}
	p.live = live
	want := 100
	if h := uint64(p.headroom); live < h {
		want = int(100 * h / live)
	}
	if want == p.set {
		return
	}
	if got := debug.SetGCPercent(want); got != p.set {
		debug.SetGCPercent(got) // a cell set its own
		p.set = 0
		return
	}
	p.set = want
}

// restore gives GOGC back the value it had when the session started, unless
// something else changed it since.
func (p *gcPace) restore() {
	if p.set == 0 {
		return
	}
	if got := debug.SetGCPercent(p.prev); got != p.set {
		debug.SetGCPercent(got)
	}
	p.set = 0
}
