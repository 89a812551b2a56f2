package interp

import (
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

// arm prepares an evaluation that stop can interrupt, as ExecuteWithContext does.
func (c *control) arm() {
	c.mu.Lock()
	*c.done = make(chan struct{})
	*c.cancelChan = true
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
