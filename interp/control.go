package interp

import (
	"go/token"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	yaegi "github.com/traefik/yaegi/interp"
)

// control stops a running evaluation of a yaegi interpreter without
// ExecuteWithContext, which races in v0.16.1: after a cancel, its evaluation
// goroutine writes the results the caller is returning, and stop closes the
// done channel without the lock that the next evaluation takes to replace it.
// It reaches the interpreter's run id, lock and done channel (the fields behind
// yaegi's own stop) by reflection; the layout is checked when the package
// starts, and yaegi is pinned at v0.16.1.
//
// yaegi stops interpreted code by raising the interpreter's run id: every frame
// (the activation of an interpreted function) carries the run id of its creation
// and runs only while it equals the interpreter's. But a function literal keeps
// the frame it was created in, and each call of it takes that frame's run id; so
// do the wrappers through which compiled code calls interpreted functions and
// methods. After yaegi's own stop, which raises the run id for good, every
// function of earlier cells (cells' functions are function literals, see
// declText) returns zero values without running. A stop of control is therefore
// a pulse: stop raises the run id, and revive lowers it back once what ran has
// seen it (Session.settle); the run id of every frame and function is then the
// same again, and stays so for the interpreter's life. Blocked channel
// operations are woken by values sent on the done channel while the run id is
// raised (a closed channel could not be reopened, and the frames of earlier
// functions keep the channel they were created with).
type control struct {
	id         *uint64
	mu         *sync.RWMutex
	done       *chan struct{}
	cancelChan *bool

	stopMu  sync.Mutex
	raised  bool          // the run id is raised: interpreted code stops at its next step
	base    uint64        // the run id that revive restores
	seq     uint64        // counts the stops
	since   time.Time     // when the current stop began
	quit    chan struct{} // closed to end the waker
	over    chan struct{} // closed when the waker has ended
	retired bool          // the interpreter was replaced: its stop is final
}

// controlFields are the offsets in yaegi.Interpreter of the fields that a
// control reaches, found by controlOK once.
var controlFields struct{ id, mutex, done, cancelChan uintptr }

var controlOK = func() bool {
	t := reflect.TypeOf(yaegi.Interpreter{})
	want := []struct {
		name   string
		typ    reflect.Type
		offset *uintptr
	}{
		{"id", reflect.TypeOf(uint64(0)), &controlFields.id},
		{"mutex", reflect.TypeOf(sync.RWMutex{}), &controlFields.mutex},
		{"done", reflect.TypeOf(make(chan struct{})), &controlFields.done},
		{"cancelChan", reflect.TypeOf(false), &controlFields.cancelChan},
	}
	for _, w := range want {
		f, ok := t.FieldByName(w.name)
		if !ok || f.Type != w.typ || len(f.Index) != 1 {
			return false
		}
		*w.offset = f.Offset
	}
	return true
}()

func newControl(yi *yaegi.Interpreter) *control {
	if !controlOK {
		return nil
	}
	p := unsafe.Pointer(yi)
	return &control{
		id:         (*uint64)(unsafe.Add(p, controlFields.id)),
		mu:         (*sync.RWMutex)(unsafe.Add(p, controlFields.mutex)),
		done:       (*chan struct{})(unsafe.Add(p, controlFields.done)),
		cancelChan: (*bool)(unsafe.Add(p, controlFields.cancelChan)),
	}
}

// arm prepares an evaluation that stop can interrupt, as ExecuteWithContext
// does, but keeps the done channel: the frames of earlier cells and the
// interpreted goroutines they started select on it in their channel
// operations, and the next stop must wake them too.
func (c *control) arm() {
	c.mu.Lock()
	if *c.done == nil {
		*c.done = make(chan struct{})
	}
	*c.cancelChan = true
	c.mu.Unlock()
}

// stop interrupts what runs in the interpreter: interpreted code stops at its
// next step, channel operations and selects return, until revive.
func (c *control) stop() {
	c.stopMu.Lock()
	defer c.stopMu.Unlock()
	if c.raised {
		return
	}
	c.raised, c.seq, c.since = true, c.seq+1, time.Now()
	c.base = atomic.LoadUint64(c.id)
	atomic.StoreUint64(c.id, c.base+1)
	c.mu.RLock()
	done := *c.done
	c.mu.RUnlock()
	c.quit, c.over = make(chan struct{}), make(chan struct{})
	go wake(done, c.quit, c.over)
}

// wake sends on done, which yaegi's blocked channel operations select on (each
// value ends one of them), until quit is closed.
func wake(done chan struct{}, quit, over chan struct{}) {
	defer close(over)
	if done == nil {
		return
	}
	for {
		select {
		case done <- struct{}{}:
		case <-quit:
			return
		}
	}
}

// stopState reports whether a stop is in progress, which one, and since when.
func (c *control) stopState() (raised bool, seq uint64, since time.Time) {
	c.stopMu.Lock()
	defer c.stopMu.Unlock()
	return c.raised && !c.retired, c.seq, c.since
}

// revive ends the stop seq (0: whichever is in progress): the waker ends, then
// the run id returns to the one of every frame, so that every function,
// method and closure of earlier cells runs again. Frames that were running
// when the stop came have returned by then, unless they are blocked in
// compiled code (see Session.settle).
func (c *control) revive(seq uint64) {
	c.stopMu.Lock()
	defer c.stopMu.Unlock()
	if !c.raised || c.retired || seq != 0 && seq != c.seq {
		return
	}
	close(c.quit)
	<-c.over
	atomic.StoreUint64(c.id, c.base)
	c.raised = false
}

// retire stops the interpreter for good: it was replaced. Its done channel is
// closed, which wakes every blocked channel operation of its code for good,
// and any stop in progress ends its waker.
func (c *control) retire() {
	c.stopMu.Lock()
	defer c.stopMu.Unlock()
	if c.retired {
		return
	}
	if c.raised {
		close(c.quit)
		<-c.over
	}
	c.raised, c.retired = true, true
	atomic.AddUint64(c.id, 1)
	c.mu.Lock()
	if *c.done != nil {
		close(*c.done)
	}
	c.mu.Unlock()
}

// releaseTrees forgets what the interpreter keeps, for its debugger only, of
// every chunk it compiled: the syntax tree of each chunk (Interpreter.roots)
// and the scope of every function and block under the package scopes
// (scope.child). A function that nothing else references (the function of a
// cell that ran, a replaced definition) can then be collected with its tree.
// Like control, it reaches the fields by reflection after checking their types.
func releaseTrees(yi *yaegi.Interpreter) {
	if !treesOK {
		return
	}
	v := reflect.ValueOf(yi).Elem()
	clear := func(f reflect.Value) {
		w := reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
		w.Set(reflect.Zero(f.Type()))
	}
	clear(v.Field(yfields.roots))
	if u := v.Field(yfields.universe); !u.IsNil() {
		clear(u.Elem().Field(yfields.child))
	}
	scopes := v.Field(yfields.scopes)
	scopes = reflect.NewAt(scopes.Type(), unsafe.Pointer(scopes.UnsafeAddr())).Elem()
	for it := scopes.MapRange(); it.Next(); {
		if sc := it.Value(); !sc.IsNil() {
			clear(sc.Elem().Field(yfields.child))
		}
	}
}

// yfields are the indices of the interpreter's fields that releaseTrees and
// symbolNode reach (set by the checks treesOK and symbolsOK, once): looking
// them up by name for every chunk cost about 2 % of a small cell.
var yfields struct {
	roots, universe, scopes int // of yaegi.Interpreter
	child, sym              int // of its scope
	node                    int // of its symbol
}

var treesOK = func() bool {
	t := reflect.TypeOf(yaegi.Interpreter{})
	roots, ok1 := t.FieldByName("roots")
	universe, ok2 := t.FieldByName("universe")
	scopes, ok3 := t.FieldByName("scopes")
	if !ok1 || !ok2 || !ok3 || len(roots.Index) != 1 || len(universe.Index) != 1 || len(scopes.Index) != 1 {
		return false
	}
	isNodes := roots.Type.Kind() == reflect.Slice && roots.Type.Elem().Kind() == reflect.Pointer &&
		roots.Type.Elem().Elem().Name() == "node"
	sc := universe.Type
	if sc.Kind() != reflect.Pointer || sc.Elem().Name() != "scope" || scopes.Type.Kind() != reflect.Map || scopes.Type.Elem() != sc {
		return false
	}
	child, ok := sc.Elem().FieldByName("child")
	if !isNodes || !ok || len(child.Index) != 1 || child.Type.Kind() != reflect.Slice || child.Type.Elem() != sc {
		return false
	}
	yfields.roots, yfields.universe, yfields.scopes, yfields.child = roots.Index[0], universe.Index[0], scopes.Index[0], child.Index[0]
	return true
}()

// symbolNode returns the address of the syntax node of the function name that
// the cells' package declares in the interpreter, or nil.
func symbolNode(yi *yaegi.Interpreter, name string) unsafe.Pointer {
	if !symbolsOK {
		return nil
	}
	scopes := reflect.ValueOf(yi).Elem().Field(yfields.scopes)
	sc := scopes.MapIndex(reflect.ValueOf(cellPackage))
	if !sc.IsValid() || sc.IsNil() {
		return nil
	}
	sym := sc.Elem().Field(yfields.sym).MapIndex(reflect.ValueOf(name))
	if !sym.IsValid() || sym.IsNil() {
		return nil
	}
	n := sym.Elem().Field(yfields.node)
	if n.IsNil() {
		return nil
	}
	return n.UnsafePointer()
}

var symbolsOK = func() bool {
	f, ok := reflect.TypeOf(yaegi.Interpreter{}).FieldByName("scopes")
	if !ok || len(f.Index) != 1 || f.Type.Kind() != reflect.Map || f.Type.Key().Kind() != reflect.String || f.Type.Elem().Kind() != reflect.Pointer {
		return false
	}
	sym, ok := f.Type.Elem().Elem().FieldByName("sym")
	if !ok || len(sym.Index) != 1 || sym.Type.Kind() != reflect.Map || sym.Type.Key().Kind() != reflect.String || sym.Type.Elem().Kind() != reflect.Pointer {
		return false
	}
	node, ok := sym.Type.Elem().Elem().FieldByName("node")
	if !ok || len(node.Index) != 1 || node.Type.Kind() != reflect.Pointer || node.Type.Elem().Name() != "node" {
		return false
	}
	yfields.scopes, yfields.sym, yfields.node = f.Index[0], sym.Index[0], node.Index[0]
	return true
}()

// filesSince returns the files added to fset from base on, in order. The file
// set gives each new file the base after the last one's end, so files added
// since base and not removed follow each other from base: each is found by its
// first position, O(log n) in the file set's size, rather than by iterating
// over every file of the session. A file removed among them (a gap) falls back
// to that iteration.
func filesSince(fset *token.FileSet, base int) []*token.File {
	var out []*token.File
	for p, end := base, fset.Base(); p < end; {
		f := fset.File(token.Pos(p))
		if f == nil || f.Base() != p {
			return filesSinceAll(fset, base)
		}
		out = append(out, f)
		p = f.Base() + f.Size() + 1
	}
	return out
}

// filesSinceAll is filesSince by iterating over every file of fset.
func filesSinceAll(fset *token.FileSet, base int) []*token.File {
	var out []*token.File
	fset.Iterate(func(f *token.File) bool {
		if f.Base() >= base {
			out = append(out, f)
		}
		return true
	})
	return out
}

// chunkFiles are the files of a chunk of code that the interpreter compiled,
// removed from its file set once the chunk's code is collected.
type chunkFiles struct {
	fset  *token.FileSet
	files []*token.File
}

func (c chunkFiles) remove() {
	for _, f := range c.files {
		c.fset.RemoveFile(f)
	}
}

// stopped returns a channel closed at the next stop of the session's
// interpreter (stopInterp), for compiled code that waits on behalf of
// interpreted code (sleep).
func (s *Session) stopped() <-chan struct{} {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if s.stopCh == nil {
		s.stopCh = make(chan struct{})
	}
	return s.stopCh
}

// stopInterp stops the evaluation ctl controls, and wakes what waits for it.
// The stop lasts until settle revives the interpreter.
func (s *Session) stopInterp(ctl *control) {
	if ctl != nil {
		ctl.stop()
	}
	s.stopMu.Lock()
	if s.stopCh != nil {
		close(s.stopCh)
		s.stopCh = nil
	}
	s.stopMu.Unlock()
}

// settleWithin bounds how long settle waits, from the stop, for the interpreted
// code that ran to return. What has not returned by then is blocked in
// compiled code (a lock, a network read, a call without a context).
const settleWithin = 250 * time.Millisecond

// settle ends a stop of the interpreter once the interpreted code that ran when
// it came has returned: the running cell or callbacks, the goroutines that cells
// started, the functions that compiled code calls on goroutines of its own
// (counted by active). It waits at most settleWithin from the stop; code still
// blocked in compiled code then goes on when that call returns, except the
// statements of an abandoned cell (see rtAt). Every evaluation settles first,
// so that it runs with the run id of the functions of earlier cells.
func (s *Session) settle() {
	ctl := s.ctl.Load()
	if ctl == nil {
		return
	}
	for {
		raised, seq, since := ctl.stopState()
		if !raised {
			return
		}
		if s.activity.Load().Load() <= 0 || time.Since(since) >= settleWithin {
			ctl.revive(seq)
			continue
		}
		time.Sleep(time.Millisecond)
	}
}

// running returns the generation of the cell that runs (0 when none does) and,
// when none does, whether other interpreted code runs (see active).
func (s *Session) running() (gen int, background bool) {
	rs := &s.runState
	rs.mu.Lock()
	if rs.active {
		gen = rs.gen
	}
	rs.mu.Unlock()
	return gen, gen == 0 && s.activity.Load().Load() > 0
}

// active counts a run of interpreted code that an interrupt must see stopping
// before settle revives the interpreter (a goroutine of a cell, a cell function,
// a function that compiled code runs on its own goroutine); it returns the
// function that ends the count. The count belongs to the interpreter of the
// moment: a replaced one is stopped for good.
func (s *Session) active() func() {
	n := s.activity.Load()
	n.Add(1)
	var once sync.Once
	return func() { once.Do(func() { n.Add(-1) }) }
}
