// Package cellrt holds the state of the cell that is running: the context that the
// user's interrupt cancels and the Output its rich outputs go to. The cell engine
// (interp) sets it around each cell; the cell-facing packages (cell, display) read it.
// It is internal so that cells cannot replace it.
package cellrt

import (
	"context"
	"sync"

	"github.com/gocvx/gocvx/cellio"
)

var (
	mu      sync.RWMutex
	current = context.Background()
	output  cellio.Output
)

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

// Context returns the running cell's context, or context.Background when no cell runs.
func Context() context.Context {
	mu.RLock()
	defer mu.RUnlock()
	return current
}

// Current returns the running cell's output, or nil when no cell runs.
func Current() cellio.Output {
	mu.RLock()
	defer mu.RUnlock()
	return output
}
