// Package cellrt holds the state of the cell that is running: the context that the
// user's interrupt cancels and the sink its rich outputs go to. The cell engine (interp)
// sets it around each cell; the cell-facing packages (cell, display) read it. It is
// internal so that cells cannot replace it.
package cellrt

import (
	"context"
	"sync"
)

// Sink receives the rich outputs of the running cell, in order.
type Sink interface {
	// Display publishes a MIME bundle (data: MIME type → payload; metadata: MIME type →
	// map). A non-empty displayID names the output so that later calls with update set
	// replace it in place (Jupyter's update_display_data).
	Display(data, metadata map[string]any, displayID string, update bool)
	// Clear clears the cell's output; with wait set, only when the next output arrives.
	Clear(wait bool)
}

var (
	mu      sync.RWMutex
	current = context.Background()
	sink    Sink
)

// Enter makes ctx and s the running cell's context and sink, and returns the function
// that restores what was there before.
func Enter(ctx context.Context, s Sink) (leave func()) {
	mu.Lock()
	prevCtx, prevSink := current, sink
	current, sink = ctx, s
	mu.Unlock()
	return func() {
		mu.Lock()
		current, sink = prevCtx, prevSink
		mu.Unlock()
	}
}

// Context returns the running cell's context, or context.Background when no cell runs.
func Context() context.Context {
	mu.RLock()
	defer mu.RUnlock()
	return current
}

// Current returns the running cell's sink, or nil when no cell runs.
func Current() Sink {
	mu.RLock()
	defer mu.RUnlock()
	return sink
}
