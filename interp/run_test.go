package interp

import (
	"context"
	"testing"
	"time"
)

// TestWaitKeepsHeldAcrossLeftAndOver: an interrupted cell whose held call (a
// compiled call that takes a context) returns just as the cell function does is
// not abandoned while the interpreter's evaluation ends. waitForEnd waits first
// for the cell function (left), then for the evaluation (execOver); the grace
// timer polls every holdPoll while the call is held, and the end of the hold
// gives what follows a whole abandonAfter again — also when that end is seen
// by the second wait (a CI run abandoned such a cell, with the message for a
// call without a context, before the flag outlived the first wait).
func TestWaitKeepsHeldAcrossLeftAndOver(t *testing.T) {
	s := &Session{abandonAfter: 10 * holdPoll}
	s.runState.entered = true
	s.held.Add(1)
	left, over := make(chan struct{}), make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	go func() {
		// The hold ends after the first grace period, while the timer
		// polls; the cell function returns at once; the evaluation ends a
		// few polls later, well within a new grace period.
		time.Sleep(15 * holdPoll)
		s.held.Add(-1)
		close(left)
		time.Sleep(3 * holdPoll)
		close(over)
	}()
	if s.waitForEnd(ctx, false, true, left, over) {
		t.Fatal("the cell was abandoned although its held call and the cell function returned, and the evaluation ended within abandonAfter of that")
	}
}
