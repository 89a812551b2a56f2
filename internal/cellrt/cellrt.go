// Package cellrt holds the state of the cell that is running: the context that the
// user's interrupt cancels and the Output its rich outputs go to. The cell engine
// (interp) sets it around each cell, and attaches its session's output for what is
// published while no cell runs; the cell-facing packages (cell, display) read it.
// It is internal so that cells cannot replace it.
package cellrt

import (
	"context"
	"slices"
	"sync"

	"github.com/gocvx/gocvx/cellio"
)

var (
	mu      sync.RWMutex
	current = context.Background()
	output  cellio.Output
	// attached are the outputs of the open sessions, the latest last: what is
	// published while no cell runs goes to the latest (see Attach).
	attached []*attachment
)

type attachment struct{ out cellio.Output }

// Enter makes ctx and out the running cell's context and output, and returns the
// function that restores what was there before.
func Enter(ctx context.Context, out cellio.Output) (leave func()) {
	mu.Lock()
	prevCtx, prevOut := current, output
	current, output = ctx, out
	mu.Unlock()
	return func() {
		mu.Lock()
		current, output = prevCtx, prevOut
		mu.Unlock()
	}
}

// Attach makes out the output of what is published while no cell runs (by a
// goroutine of an earlier cell), until detach is called; the cell engine attaches
// its session's output, which holds such output for the next cell. With several
// attached, the latest one still attached receives it.
func Attach(out cellio.Output) (detach func()) {
	a := &attachment{out}
	mu.Lock()
	attached = append(attached, a)
	mu.Unlock()
	return func() {
		mu.Lock()
		attached = slices.DeleteFunc(attached, func(b *attachment) bool { return b == a })
		mu.Unlock()
	}
}

// Context returns the running cell's context, or context.Background when no cell runs.
func Context() context.Context {
	mu.RLock()
	defer mu.RUnlock()
	return current
}

// Current returns the output that what is published now goes to: the running
// cell's, or while no cell runs the attached session's; nil outside any session.
func Current() cellio.Output {
	mu.RLock()
	defer mu.RUnlock()
	if output != nil {
		return output
	}
	if n := len(attached); n > 0 {
		return attached[n-1].out
	}
	return nil
}
