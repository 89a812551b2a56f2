package interp

import (
	"go/token"
	"reflect"
	"sync"
	"sync/atomic"
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
type control struct {
	id         *uint64
	mu         *sync.RWMutex
	done       *chan struct{}
	cancelChan *bool
}

var controlOK = func() bool {
	t := reflect.TypeOf(yaegi.Interpreter{})
	want := map[string]reflect.Type{
		"id":         reflect.TypeOf(uint64(0)),
		"mutex":      reflect.TypeOf(sync.RWMutex{}),
		"done":       reflect.TypeOf(make(chan struct{})),
		"cancelChan": reflect.TypeOf(false),
	}
	for name, typ := range want {
		f, ok := t.FieldByName(name)
		if !ok || f.Type != typ {
			return false
		}
	}
	return true
}()

func newControl(yi *yaegi.Interpreter) *control {
	if !controlOK {
		return nil
	}
	v := reflect.ValueOf(yi).Elem()
	addr := func(name string) unsafe.Pointer { return unsafe.Pointer(v.FieldByName(name).UnsafeAddr()) }
	return &control{
		id:         (*uint64)(addr("id")),
		mu:         (*sync.RWMutex)(addr("mutex")),
		done:       (*chan struct{})(addr("done")),
		cancelChan: (*bool)(addr("cancelChan")),
	}
}

// arm prepares an evaluation that stop can interrupt, as ExecuteWithContext
// does, but keeps the done channel while no stop closed it: interpreted
// goroutines that earlier cells started wait on it in their channel
// operations, and the next stop must wake them too.
func (c *control) arm() {
	c.mu.Lock()
	if !isOpen(*c.done) {
		*c.done = make(chan struct{})
	}
	*c.cancelChan = true
	c.mu.Unlock()
}

func isOpen(ch chan struct{}) bool {
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return false
	default:
		return true
	}
}

// current returns the done channel.
func (c *control) current() chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return *c.done
}

// restore puts back the done channel ch, if no stop closed it: an evaluation
// (EvalWithContext) replaces it by one of its own.
func (c *control) restore(ch chan struct{}) {
	c.mu.Lock()
	if isOpen(ch) {
		*c.done = ch
	}
	c.mu.Unlock()
}

// stop interrupts the running evaluation: interpreted code stops at its next
// step, channel operations and selects return.
func (c *control) stop() {
	c.mu.Lock()
	atomic.AddUint64(c.id, 1)
	select {
	case <-*c.done:
	default:
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
	clear(v.FieldByName("roots"))
	if u := v.FieldByName("universe"); !u.IsNil() {
		clear(u.Elem().FieldByName("child"))
	}
	scopes := v.FieldByName("scopes")
	scopes = reflect.NewAt(scopes.Type(), unsafe.Pointer(scopes.UnsafeAddr())).Elem()
	for it := scopes.MapRange(); it.Next(); {
		if sc := it.Value(); !sc.IsNil() {
			clear(sc.Elem().FieldByName("child"))
		}
	}
}

var treesOK = func() bool {
	t := reflect.TypeOf(yaegi.Interpreter{})
	roots, ok1 := t.FieldByName("roots")
	universe, ok2 := t.FieldByName("universe")
	scopes, ok3 := t.FieldByName("scopes")
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	isNodes := roots.Type.Kind() == reflect.Slice && roots.Type.Elem().Kind() == reflect.Pointer &&
		roots.Type.Elem().Elem().Name() == "node"
	sc := universe.Type
	if sc.Kind() != reflect.Pointer || sc.Elem().Name() != "scope" || scopes.Type.Kind() != reflect.Map || scopes.Type.Elem() != sc {
		return false
	}
	child, ok := sc.Elem().FieldByName("child")
	return isNodes && ok && child.Type.Kind() == reflect.Slice && child.Type.Elem() == sc
}()

// symbolNode returns the address of the syntax node of the function name that
// the cells' package declares in the interpreter, or nil.
func symbolNode(yi *yaegi.Interpreter, name string) unsafe.Pointer {
	if !symbolsOK {
		return nil
	}
	scopes := reflect.ValueOf(yi).Elem().FieldByName("scopes")
	sc := scopes.MapIndex(reflect.ValueOf(cellPackage))
	if !sc.IsValid() || sc.IsNil() {
		return nil
	}
	sym := sc.Elem().FieldByName("sym").MapIndex(reflect.ValueOf(name))
	if !sym.IsValid() || sym.IsNil() {
		return nil
	}
	n := sym.Elem().FieldByName("node")
	if n.IsNil() {
		return nil
	}
	return n.UnsafePointer()
}

var symbolsOK = func() bool {
	f, ok := reflect.TypeOf(yaegi.Interpreter{}).FieldByName("scopes")
	if !ok || f.Type.Kind() != reflect.Map || f.Type.Key().Kind() != reflect.String || f.Type.Elem().Kind() != reflect.Pointer {
		return false
	}
	sym, ok := f.Type.Elem().Elem().FieldByName("sym")
	if !ok || sym.Type.Kind() != reflect.Map || sym.Type.Key().Kind() != reflect.String || sym.Type.Elem().Kind() != reflect.Pointer {
		return false
	}
	node, ok := sym.Type.Elem().Elem().FieldByName("node")
	return ok && node.Type.Kind() == reflect.Pointer && node.Type.Elem().Name() == "node"
}()

// filesSince returns the files added to fset from base on, in order.
func filesSince(fset *token.FileSet, base int) []*token.File {
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
func (s *Session) stopInterp(ctl *control) {
	if ctl != nil {
		ctl.stop()
	}
	s.epoch.Add(1)
	s.stopMu.Lock()
	if s.stopCh != nil {
		close(s.stopCh)
		s.stopCh = nil
	}
	s.stopMu.Unlock()
}
