package interp

import (
	"runtime"
	"strconv"
	"testing"
	"time"
)

// waitProcs polls GOMAXPROCS until it is want or a few seconds pass, and
// returns the last value seen.
func waitProcs(want int) int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := runtime.GOMAXPROCS(0)
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(guardInterval)
	}
}

// TestSingleProcWhileIdle checks procs through a session: GOMAXPROCS is one
// while nothing runs, every P comes back while a cell runs for longer than a
// guard interval and while a goroutine of a cell runs between cells, one again
// when they end; a value a cell sets is left alone, and Close restores the
// value the session found.
func TestSingleProcWhileIdle(t *testing.T) {
	full := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(full)
	if full == 1 { // one P: nothing to lower; the session must leave it
		full = 2
		runtime.GOMAXPROCS(full)
	}
	s, err := New(Options{SingleProcWhileIdle: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := waitProcs(1); got != 1 {
		t.Fatalf("GOMAXPROCS = %d while idle, want 1", got)
	}
	// A cell that waits (at most 5 s) until it has every P, and says how many.
	outs, _ := runCells(t, s, 1,
		"import (\n\t\"runtime\"\n\t\"time\"\n)",
		"func spinUntilFull(d time.Duration) int {\n\tend := time.Now().Add(d)\n\tfor runtime.GOMAXPROCS(0) == 1 && time.Now().Before(end) {\n\t}\n\treturn runtime.GOMAXPROCS(0)\n}",
		"spinUntilFull(5 * time.Second)",
	)
	for i, o := range outs {
		if o.Error != nil {
			t.Fatalf("cell %d: %v", i+1, o.Error)
		}
	}
	if got := resultText(outs[2]); got != strconv.Itoa(full) {
		t.Errorf("GOMAXPROCS inside a long cell = %s, want %d", got, full)
	}
	if got := waitProcs(1); got != 1 {
		t.Errorf("GOMAXPROCS = %d after the cell, want 1", got)
	}
	// A goroutine of a cell that runs on after it, while no cell runs: every P
	// while it runs (it runs until the next cell releases it).
	outs, _ = runCells(t, s, 4, "seen, release := make(chan int, 1), make(chan struct{})\n"+
		"go func() {\n\tn := spinUntilFull(5 * time.Second)\n\tfor {\n\t\tselect {\n\t\tcase <-release:\n\t\t\tseen <- n\n\t\t\treturn\n\t\tdefault:\n\t\t}\n\t}\n}()")
	if outs[0].Error != nil {
		t.Fatal(outs[0].Error)
	}
	if got := waitProcs(full); got != full {
		t.Errorf("GOMAXPROCS = %d while a cell's goroutine runs between cells, want %d", got, full)
	}
	outs, _ = runCells(t, s, 5, "close(release)\n<-seen")
	if got := resultText(outs[0]); outs[0].Error != nil || got != strconv.Itoa(full) {
		t.Errorf("GOMAXPROCS in the goroutine = %s (%v), want %d", got, outs[0].Error, full)
	}
	if got := waitProcs(1); got != 1 {
		t.Errorf("GOMAXPROCS = %d after the goroutine, want 1", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := runtime.GOMAXPROCS(0); got != full {
		t.Errorf("GOMAXPROCS = %d after Close, want %d", got, full)
	}

	// A value a cell sets stays, also after Close.
	s, err = New(Options{SingleProcWhileIdle: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := waitProcs(1); got != 1 {
		t.Fatalf("GOMAXPROCS = %d while idle, want 1", got)
	}
	outs, _ = runCells(t, s, 1, "import \"runtime\"\nruntime.GOMAXPROCS(3)")
	if outs[0].Error != nil {
		t.Fatal(outs[0].Error)
	}
	time.Sleep(20 * guardInterval)
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Errorf("GOMAXPROCS = %d after a cell set 3, want 3", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Errorf("GOMAXPROCS = %d after Close of a session whose cell set 3, want 3", got)
	}
}
