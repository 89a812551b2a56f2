package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocvx/gocvx/internal/testenv"
)

// TestWidgetsThroughJupyterClient runs testdata/widgets.py against the real
// kernel, started by jupyter_client from the installed kernelspec, as a front
// end's widget manager: a slider's comm_open with its full state and the view that
// shows it, comm_info, an update from the front end echoed at once and its callback
// printing in the slider's cell, a clamped value sent back, request_state,
// request_states on the control comm, binary buffers both ways, a panic in a
// callback reported in the widget's cell, an interrupt stopping a looping callback
// (and the stopped callback reported afterwards), a change made while a cell runs
// (seen by the cell at once, its callback run after it), and widget.StopButton
// stopping a running solve. The figures the script measures are logged.
func TestWidgetsThroughJupyterClient(t *testing.T) {
	python := testenv.RequirePython(t, "jupyter_client")
	env := jupyterEnv(t)
	script, err := filepath.Abs("testdata/widgets.py")
	if err != nil {
		t.Fatal(err)
	}
	scenarios := []string{"open_state", "updates", "latency", "requests_states", "buffers", "panics",
		"interrupts", "serialized", "stop_button"}
	out, err := run(t, env, "", 4*time.Minute, python, append([]string{script, "--kernel", "gocvx"}, scenarios...)...)
	t.Logf("widgets.py:\n%s", out)
	if err != nil {
		t.Fatalf("widgets.py: %v", err)
	}
	for _, s := range scenarios {
		if !strings.Contains(out, "ok "+s+"\n") {
			t.Errorf("scenario %s did not pass", s)
		}
	}
}
