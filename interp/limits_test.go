package interp

import (
	"context"
	"strings"
	"testing"

	"github.com/gocvx/gocvx/cellio"
)

// TestPositionLimits checks the two limits of the interpreter's positions (see
// lineBase): the last cell a session can number still runs, with its traceback
// naming its line, and the next one gets an error that says to restart; a cell
// of lineBase lines or more gets an error that says to split it. (Before, cells
// had up to 99 999 lines and a session failed every cell after its 10 737th with
// go/scanner's "invalid line number".)
func TestPositionLimits(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	run := func(num int, code string) (cellio.Outcome, *recorder) {
		out := &recorder{}
		return s.Execute(context.Background(), cellio.Cell{Code: code, Number: num, Output: out}), out
	}
	if o, _ := run(1, "x := 41"); o.Error != nil {
		t.Fatalf("x := 41: %v", o.Error)
	}
	s.serial = maxSerial - 2
	if o, _ := run(2, "x + 1"); o.Error != nil || o.Value == nil || o.Value.Data["text/plain"] != "42" {
		t.Fatalf("x + 1 near the limit: %+v", o)
	}
	o, _ := run(3, "var p *int\n\n*p = 1")
	if o.Error == nil || !strings.Contains(strings.Join(o.Error.Traceback, "\n"), "Cell3:3") {
		t.Fatalf("the last cell's traceback should name Cell3:3: %+v", o.Error)
	}
	o, _ = run(4, "x + 2")
	if o.Error == nil || !strings.Contains(o.Error.Value, "restart the kernel") {
		t.Fatalf("a cell past the limit: %+v", o.Error)
	}

	s2, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	long := strings.Repeat("_ = 1\n", lineBase)
	o = s2.Execute(context.Background(), cellio.Cell{Code: long, Number: 1, Output: &recorder{}})
	if o.Error == nil || !strings.Contains(o.Error.Value, "split it") {
		t.Fatalf("a cell of %d lines: %+v", lineBase+1, o.Error)
	}
	o = s2.Execute(context.Background(), cellio.Cell{Code: strings.Repeat("_ = 1\n", 2000) + "3 * 3", Number: 2, Output: &recorder{}})
	if o.Error != nil || o.Value == nil || o.Value.Data["text/plain"] != "9" {
		t.Fatalf("a cell of 2 001 lines: %+v", o)
	}
}
