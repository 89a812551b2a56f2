package cellrt

import (
	"context"
	"testing"

	"github.com/gocvx/gocvx/cellio"
)

type named string

func (named) Stream(string, string)               {}
func (named) Display(cellio.Bundle, string, bool) {}
func (named) Clear(bool)                          {}

// TestCurrent checks which output Current returns: the running cell's, else the
// latest attached session's, else none.
func TestCurrent(t *testing.T) {
	if Current() != nil {
		t.Fatal("an output outside any session")
	}
	detachA := Attach(named("session A"))
	detachB := Attach(named("session B"))
	if got := Current(); got != named("session B") {
		t.Errorf("between cells: %v, want the latest session", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leave := Enter(ctx, named("cell"))
	if got := Current(); got != named("cell") || Context() != ctx {
		t.Errorf("in a cell: %v, want the cell's output and context", got)
	}
	leave()
	if got := Current(); got != named("session B") || Context() != context.Background() {
		t.Errorf("after the cell: %v", got)
	}
	detachB()
	if got := Current(); got != named("session A") {
		t.Errorf("after B closed: %v, want session A", got)
	}
	detachA()
	if Current() != nil {
		t.Error("an output after every session closed")
	}
}
