package interp

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gocvx/gocvx/interp/symbols"
)

// The package gocvx.test/slow, which test cells import: compiled calls that
// return late after their context is cancelled, or block without a context
// until a later cell releases them. Registered before any session loads the
// symbol tables.
func init() {
	symbols.Symbols["gocvx.test/slow/slow"] = map[string]reflect.Value{
		"Wait":        reflect.ValueOf(slowWait),
		"Sleep":       reflect.ValueOf(func(ctx context.Context, after time.Duration) { slowWait(ctx, after) }),
		"Returned":    reflect.ValueOf(func() bool { return slowReturned.Load() }),
		"Block":       reflect.ValueOf(slowBlock),
		"BlockSecond": reflect.ValueOf(slowBlockSecond),
		"Release":     reflect.ValueOf(slowRelease),
		"Waiter":      reflect.ValueOf((*slowWaiter)(nil)),
	}
}

var (
	slowReturned atomic.Bool
	slowMu       sync.Mutex
	slowGate     = make(chan struct{})
	slowCalls    int // calls of slowBlockSecond since slowRelease
)

// slowWait waits for ctx to be cancelled, then goes on for after (a solver
// finishing a long iteration) before it returns.
func slowWait(ctx context.Context, after time.Duration) string {
	slowReturned.Store(false)
	<-ctx.Done()
	time.Sleep(after)
	slowReturned.Store(true)
	return "returned"
}

// slowBlock blocks, without a context, until slowRelease.
func slowBlock() {
	slowMu.Lock()
	gate := slowGate
	slowMu.Unlock()
	<-gate
}

// slowBlockSecond blocks as slowBlock on its second call since slowRelease,
// and returns at once on the others: a repeated cell that blocks once, whose
// decision to block is ordered with the cells after it.
func slowBlockSecond() {
	slowMu.Lock()
	slowCalls++
	n, gate := slowCalls, slowGate
	slowMu.Unlock()
	if n == 2 {
		<-gate
	}
}

func slowRelease() {
	slowMu.Lock()
	slowCalls = 0
	close(slowGate)
	slowGate = make(chan struct{})
	slowMu.Unlock()
}

type slowWaiter struct{ Name string }

func (w slowWaiter) Wait(ctx context.Context, after time.Duration) (string, error) {
	return w.Name + " " + slowWait(ctx, after), ctx.Err()
}
