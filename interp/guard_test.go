package interp

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/gocvx/gocvx/cellio"
)

// runCells runs cells in order in s and returns their outcomes and what each
// wrote to standard error.
func runCells(t *testing.T, s *Session, first int, cells ...string) ([]cellio.Outcome, []string) {
	t.Helper()
	var outs []cellio.Outcome
	var errs []string
	for i, c := range cells {
		rec := &recorder{}
		outs = append(outs, s.Execute(context.Background(), cellio.Cell{Code: c, Number: first + i, Output: rec}))
		errs = append(errs, rec.stderr.String())
	}
	return outs, errs
}

func resultText(o cellio.Outcome) string {
	if o.Error != nil {
		return o.Error.Error()
	}
	if o.Value == nil {
		return ""
	}
	return fmt.Sprint(o.Value.Data["text/plain"])
}

// TestMemoryCeiling allocates past a ceiling of 256 MiB in a cell and in a
// goroutine of an earlier cell: both are stopped with a MemoryError, the
// variables of earlier cells keep their values, the runtime's memory limit is
// the ceiling while the session is open, and later cells allocate again.
func TestMemoryCeiling(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	s, err := New(Options{MemoryLimit: 256 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != 256<<20 {
		t.Errorf("runtime memory limit = %d while the session is open, want %d", got, 256<<20)
	}
	outs, _ := runCells(t, s, 1,
		"x := 21",
		"var hog [][]float64\nfor {\n\thog = append(hog, make([]float64, 1<<17))\n}",
		"x",
		"len(hog)",
		"b := make([]byte, 64<<20)\nlen(b)",
	)
	e := outs[1].Error
	if e == nil || e.Name != "MemoryError" || !strings.Contains(e.Value, "the cell was stopped: the heap reached") ||
		!strings.Contains(e.Value, "past the memory ceiling of 256.0 MiB (GOCVX_MEMORY_LIMIT)") ||
		!strings.Contains(e.Value, "hog, which the cell defined, was reset to its zero value") {
		t.Fatalf("allocating cell: %+v, want a MemoryError that resets hog", e)
	}
	if len(e.Traceback) < 2 || !strings.Contains(e.Traceback[1], "Cell2:2:1") {
		t.Errorf("traceback %q lacks the statement that ran (Cell2:2:1, the loop)", e.Traceback)
	}
	for i, want := range map[int]string{2: "21", 3: "0", 4: "67108864"} {
		if got := resultText(outs[i]); got != want {
			t.Errorf("cell %d = %q, want %q", i+1, got, want)
		}
	}

	// A goroutine of an earlier cell: stopped between cells, reported to the next.
	outs, errs := runCells(t, s, 6,
		"var leak [][]float64\ngo func() {\n\tfor {\n\t\tleak = append(leak, make([]float64, 1<<17))\n\t}\n}()",
		"for i := 0; i < 500 && len(leak) < 1000; i++ {\n\ttime.Sleep(10 * time.Millisecond)\n}\nleak = nil\nx",
		"x + 1",
	)
	if r := resultText(outs[1]); r != "21" && !strings.HasPrefix(r, "MemoryError") {
		t.Errorf("cell after the leaking goroutine = %q", r)
	}
	if !strings.Contains(errs[1]+errs[2], "[gocvx: the goroutines of earlier cells were stopped: the heap reached") &&
		!strings.Contains(resultText(outs[1]), "MemoryError") {
		t.Errorf("the leaking goroutine was not reported: stderr %q, %q; %q", errs[1], errs[2], resultText(outs[1]))
	}
	if got := resultText(outs[2]); got != "22" {
		t.Errorf("last cell = %q, want 22", got)
	}
	s.Close()
	if got := debug.SetMemoryLimit(before); got != before {
		t.Errorf("runtime memory limit = %d after Close, want %d as before", got, before)
	}
}

func TestMemoryLimitOption(t *testing.T) {
	t.Setenv(MemoryLimitEnv, "300MiB")
	if v, err := memoryLimit(Options{}); err != nil || v != 300<<20 {
		t.Errorf("from %s=300MiB: %d, %v", MemoryLimitEnv, v, err)
	}
	if v, err := memoryLimit(Options{MemoryLimit: 1 << 30}); err != nil || v != 1<<30 {
		t.Errorf("the option wins over the environment: %d, %v", v, err)
	}
	t.Setenv(MemoryLimitEnv, "lots")
	s, err := New(Options{})
	if err != nil {
		t.Fatalf("New with %s=lots: %v; want a session with the default ceiling", MemoryLimitEnv, err)
	}
	_, errs := runCells(t, s, 1, "1")
	s.Close()
	if want := "[gocvx: GOCVX_MEMORY_LIMIT=lots is not a size (such as 8GiB, 512MiB or off): the memory ceiling is the default"; !strings.HasPrefix(errs[0], want) {
		t.Errorf("first cell's stderr with %s=lots: %q, want %q…", MemoryLimitEnv, errs[0], want)
	}
	if s.limit != DefaultMemoryLimit() {
		t.Errorf("ceiling with %s=lots: %d, want the default %d", MemoryLimitEnv, s.limit, DefaultMemoryLimit())
	}
	t.Setenv(MemoryLimitEnv, "")
	if v, err := memoryLimit(Options{}); err != nil || v != DefaultMemoryLimit() {
		t.Errorf("default: %d, %v; want DefaultMemoryLimit %d", v, err, DefaultMemoryLimit())
	}
	if m := physicalMemory(); m > 0 && (DefaultMemoryLimit() > m || DefaultMemoryLimit() < m/2) {
		t.Errorf("DefaultMemoryLimit = %d for %d bytes of memory, want three quarters", DefaultMemoryLimit(), m)
	}
}

func TestParseMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"512MiB", 512 << 20, true},
		{"8GiB", 8 << 30, true},
		{"8 GiB", 8 << 30, true},
		{"2GB", 2e9, true},
		{"1.5GiB", 3 << 29, true},
		{"1048576", 1 << 20, true},
		{"4G", 4 << 30, true},
		{"off", -1, true},
		{"none", -1, true},
		{"", 0, false},
		{"-1GiB", 0, false},
		{"12 parsecs", 0, false},
		{"GiB", 0, false},
	} {
		got, err := ParseMemoryLimit(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseMemoryLimit(%q) = %d, %v; want %d (ok %v)", c.in, got, err, c.want, c.ok)
		}
	}
}

// TestTracebackFrames checks that a panic in a function of the cell shows the
// function once (yaegi also reports the function at its declaration).
func TestTracebackFrames(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	outs, _ := runCells(t, s, 1, "func fail() { panic(\"in a function\") }\nfail()")
	want := []string{"panic: in a function", "  fail at Cell1:1:15", "  Cell1 at Cell1:2:1"}
	if e := outs[0].Error; e == nil || strings.Join(e.Traceback, "\n") != strings.Join(want, "\n") {
		t.Errorf("traceback = %q, want %q", e, want)
	}
}
