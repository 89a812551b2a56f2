package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocvx/gocvx/internal/testenv"
)

// TestHostileCells runs testdata/hostile.py against the real kernel, started by
// jupyter_client from the installed kernelspec with a memory ceiling of 512 MiB:
// cells that loop, block, panic (at top level, in functions, deferred calls,
// goroutines and callbacks of compiled code), exit, recurse without end, allocate
// without end, deadlock, print 100 MiB or start 10 000 goroutines, and a solver
// call interrupted after a second. After each, the kernel process is alive and a
// variable defined before still has its value. The same kernel then shows a
// display and updates it, and runs display.SolveLive (display_data followed by
// update_display_data with the same id). The figures the script measures are logged.
func TestHostileCells(t *testing.T) {
	python := testenv.RequirePython(t, "jupyter_client")
	env := append(jupyterEnv(t), "GOCVX_MEMORY_LIMIT=512MiB")
	script, err := filepath.Abs("testdata/hostile.py")
	if err != nil {
		t.Fatal(err)
	}
	scenarios := []string{"displays", "live", "loop", "solver", "panics", "exits", "recursion", "memory",
		"deadlock", "printing", "goroutines"}
	out, err := run(t, env, "", 5*time.Minute, python, append([]string{script, "--kernel", "gocvx"}, scenarios...)...)
	t.Logf("hostile.py:\n%s", out)
	if err != nil {
		t.Fatalf("hostile.py: %v", err)
	}
	for _, s := range scenarios {
		if !strings.Contains(out, "ok "+s+"\n") {
			t.Errorf("scenario %s did not pass", s)
		}
	}
}
