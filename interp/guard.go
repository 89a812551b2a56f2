package interp

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The guard watches the process while a session is open and stops cells that
// would end the kernel or the machine: a recursion about to overflow Go's
// stack limit (which Go cannot recover from) and a heap past the memory
// ceiling. It samples two runtime metrics every guardInterval, which costs
// about a microsecond; stopping is what an interrupt does (the interpreter's
// frames return, the cell's context is cancelled), so interpreted code stops
// within a step and the solver at its next iteration.

// MemoryLimitEnv names the environment variable that sets the memory ceiling
// when Options.MemoryLimit is zero: a size such as "8GiB", "512MiB", "2GB" or
// a number of bytes; "off" disables the ceiling. Put it in the "env" map of
// the kernelspec (kernel.json) to configure a kernel.
const MemoryLimitEnv = "GOCVX_MEMORY_LIMIT"

// guardInterval is how often the guard samples the runtime. A recursion grows
// the stack by about 250 MB/s, and from the 256 MB at which the guard stops it
// to the 512 MB past which Go ends the process there is a second: the guard
// looks a hundred times in between.
const guardInterval = 10 * time.Millisecond

// maxStackBytes bounds the stack memory of the process while cells run: Go ends
// the process when a goroutine's stack would grow past 1 GB (from 512 MB,
// stacks double), and an interpreted call takes about 1.6 KB of stack, so
// 256 MB is about 160 000 nested calls. Past it, the guard looks at the
// goroutines' stacks (runtime.Stack): many goroutines (10 000 take about
// 300 MB) are not a recursion, which is one goroutine deeper than deepFrames.
const maxStackBytes = 256 << 20

// deepFrames is the depth, in Go frames, from which a goroutine counts as a
// runaway recursion once the stacks pass maxStackBytes: an interpreted call is
// about five Go frames, and 100 000 frames about 30 MB of stack.
const deepFrames = 100_000

var errOverflow = errors.New("stack overflow: the recursion used more than 256 MB of stack (stopped before Go's stack limit would end the kernel)")

// elided matches what runtime.Stack writes in place of the middle frames of a
// deep goroutine.
var elided = regexp.MustCompile(`\.\.\.(\d+) frames elided\.\.\.`)

// stoppedDeep are the goroutines (by id) that a guard already stopped for
// their depth: they may take a while to unwind, and must not count again.
// deepStops counts them, so that a worker (worker.go) whose cell was stopped
// ends rather than run the next cell under an id the guard no longer looks at.
var (
	stoppedMu   sync.Mutex
	stoppedDeep = map[int]bool{}
	deepStops   atomic.Int64
)

// deepestGoroutine returns the id and the number of frames of the deepest
// goroutine of the process (at least, when it is over a hundred) that no
// guard stopped yet. It stops the world while it walks the stacks: the guard
// calls it only when the stacks pass their bound.
func deepestGoroutine() (id, frames int) {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) || len(buf) >= 256<<20 {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	stoppedMu.Lock()
	defer stoppedMu.Unlock()
	for _, g := range bytes.Split(buf, []byte("\n\ngoroutine ")) {
		m := elided.FindSubmatch(g)
		if m == nil {
			continue
		}
		g = bytes.TrimPrefix(g, []byte("goroutine "))
		gid, err1 := strconv.Atoi(string(g[:max(0, bytes.IndexByte(g, ' '))]))
		k, err2 := strconv.Atoi(string(m[1]))
		if err1 == nil && err2 == nil && !stoppedDeep[gid] && k+100 > frames {
			id, frames = gid, k+100
		}
	}
	return id, frames
}

// memoryError is what a cell gets when it passes the memory ceiling: the
// panic value of an allocation refused before it happens (size set), or the
// reason the guard stopped the cell (heap set). Its ename is MemoryError.
type memoryError struct {
	size, heap, limit int64
}

func (e memoryError) Error() string {
	if e.size > 0 {
		return fmt.Sprintf("an allocation of %s is larger than the memory ceiling of %s (%s)", byteSize64(e.size), byteSize64(e.limit), MemoryLimitEnv)
	}
	return fmt.Sprintf("the heap reached %s, past the memory ceiling of %s (%s)", byteSize64(e.heap), byteSize64(e.limit), MemoryLimitEnv)
}

func byteSize64(n int64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	}
	return byteSize(int(n))
}

// DefaultMemoryLimit returns the memory ceiling of a session when neither
// Options.MemoryLimit nor GOCVX_MEMORY_LIMIT sets one: three quarters of the
// machine's memory, or of the memory limit of the process's cgroup when that
// is lower, leaving the rest to the system and the front end.
func DefaultMemoryLimit() int64 {
	total := physicalMemory()
	if c := cgroupMemory(); c > 0 && (total <= 0 || c < total) {
		total = c
	}
	if total <= 0 {
		return 4 << 30 // unknown machine: a ceiling that any kernel host has
	}
	return total / 4 * 3
}

// cgroupMemory returns the memory limit of the process's cgroup (v2 or v1), or 0.
func cgroupMemory() int64 {
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err == nil && v > 0 && v < 1<<60 {
			return v
		}
	}
	return 0
}

// ParseMemoryLimit parses a memory size: a number of bytes with an optional
// unit B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of
// 1024), e.g. "8GiB"; "off" (or "none") returns -1, no ceiling.
func ParseMemoryLimit(s string) (int64, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "off", "none":
		return -1, nil
	}
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') {
		i--
	}
	num, unit := strings.TrimSpace(t[:i]), strings.TrimSpace(t[i:])
	mult := map[string]float64{"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[strings.ToUpper(unit)]
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || v <= 0 || v*mult >= 1<<62 {
		return 0, fmt.Errorf("interp: bad memory size %q: want a size such as 8GiB, 512MiB or off", s)
	}
	return int64(v * mult), nil
}

// memoryLimit returns the ceiling that opts ask for (-1: none). A value of
// GOCVX_MEMORY_LIMIT that is not a size gives the default ceiling and an
// error to report (the kernel should start all the same).
func memoryLimit(opts Options) (int64, error) {
	if opts.MemoryLimit != 0 {
		return opts.MemoryLimit, nil
	}
	if env := os.Getenv(MemoryLimitEnv); env != "" {
		v, err := ParseMemoryLimit(env)
		if err != nil {
			return DefaultMemoryLimit(), fmt.Errorf("%s=%s is not a size (such as 8GiB, 512MiB or off): the memory ceiling is the default, %s", MemoryLimitEnv, env, byteSize64(DefaultMemoryLimit()))
		}
		return v, nil
	}
	return DefaultMemoryLimit(), nil
}

// guard is the session's watchdog.
type guard struct {
	s     *Session
	limit int64        // the memory ceiling in bytes, or ≤ 0 for none
	floor atomic.Int64 // the heap above which the running cell is stopped (see begin)
	prev  int64        // the runtime's memory limit before the session
	stop  chan struct{}
	done  chan struct{}
	// overLimit is set when the guard stopped the interpreter for the heap,
	// until the heap is back under the limit: one stop per excess. (A deep
	// goroutine is stopped once: see stoppedDeep.)
	overLimit bool
	procs     *procs  // GOMAXPROCS while nothing runs (procs.go)
	pace      *gcPace // GOGC for the live heap (gcpace.go)
}

func startGuard(s *Session, limit int64) *guard {
	g := &guard{s: s, limit: limit, stop: make(chan struct{}), done: make(chan struct{}),
		procs: newProcs(s.opts.SingleProcWhileIdle), pace: newGCPace(limit)}
	g.prev = -1
	if limit > 0 {
		// The collector works harder as the heap nears the ceiling, so that
		// garbage does not count against it.
		g.prev = debug.SetMemoryLimit(limit)
	}
	g.floor.Store(limit)
	go g.loop()
	return g
}

func (g *guard) close() {
	close(g.stop)
	<-g.done
	g.procs.restore()
	g.pace.restore()
	if g.prev >= 0 {
		debug.SetMemoryLimit(g.prev)
	}
}

// begin sets the heap above which the cell about to run is stopped: the
// ceiling, or, when the notebook's variables already hold more than the
// ceiling, what they hold plus a tenth of the ceiling, so that a cell can
// still run and free them.
func (g *guard) begin() {
	if g.limit <= 0 {
		return
	}
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	floor := g.limit
	if s[0].Value.Kind() == metrics.KindUint64 {
		if live := int64(s[0].Value.Uint64()) + g.limit/10; live > floor {
			floor = live
		}
	}
	g.floor.Store(floor)
}

func (g *guard) loop() {
	defer close(g.done)
	t := time.NewTicker(guardInterval)
	defer t.Stop()
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"},
		{Name: "/gc/heap/live:bytes"},
	}
	// The stacks above which the guard looks for a deep goroutine: raised past
	// what many shallow goroutines hold, so that it looks again only when
	// their stacks grow by another 128 MB (a recursion on its way from 64 MB
	// to the fatal 512 MB adds 448 MB).
	stackBound := int64(maxStackBytes)
	read := func() (heap, stacks int64) {
		metrics.Read(samples)
		if samples[0].Value.Kind() == metrics.KindUint64 {
			heap = int64(samples[0].Value.Uint64())
		}
		if samples[1].Value.Kind() == metrics.KindUint64 {
			stacks = int64(samples[1].Value.Uint64())
		}
		return heap, stacks
	}
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
		}
		g.procs.tick(g.s.running())
		heap, stacks := read()
		if samples[2].Value.Kind() == metrics.KindUint64 {
			g.pace.tick(samples[2].Value.Uint64())
		}
		floor := g.floor.Load()
		over := g.limit > 0 && heap > floor
		if over {
			// Count only what is live: collect, then look again.
			runtime.GC()
			heap, stacks = read()
			over = heap > g.floor.Load()
		}
		deep := false
		if stacks < maxStackBytes {
			stackBound = maxStackBytes
		} else if stacks > stackBound {
			id, frames := deepestGoroutine()
			if deep = frames > deepFrames; deep {
				stoppedMu.Lock()
				stoppedDeep[id] = true
				stoppedMu.Unlock()
				deepStops.Add(1)
			} else {
				stackBound = stacks + 128<<20
			}
		}
		if deep {
			g.trip(errOverflow)
		}
		switch {
		case over && !g.overLimit:
			g.overLimit = true
			g.trip(memoryError{heap: heap, limit: g.limit})
		case !over:
			g.overLimit = false
		}
	}
}

// trip stops what runs in the interpreter: the running cell (which then
// reports cause), or the goroutines of earlier cells when no cell runs
// (reported to the next cell).
func (g *guard) trip(cause error) {
	s := g.s
	rs := &s.runState
	rs.mu.Lock()
	running := rs.active
	if running && rs.stopped == nil {
		rs.stopped = cause
	}
	interrupt := rs.interrupt
	rs.mu.Unlock()
	s.stopInterp(s.ctl.Load())
	if running {
		if interrupt != nil {
			interrupt()
		}
		return
	}
	s.streams.write(stderrStream, []byte(fmt.Sprintf("[gocvx: the goroutines of earlier cells were stopped: %v]\n", cause)))
}
