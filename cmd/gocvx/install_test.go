package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocvx/gocvx/internal/testenv"
)

// memoryLimitScript reads the kernelspec through jupyter_client's
// KernelSpecManager, starts the kernel from it with a KernelManager (the
// environment of this process has no GOCVX_MEMORY_LIMIT) and asks the kernel
// for its ceiling: the runtime's memory limit, which the cell engine sets to
// it, and a make past it, which fails with a MemoryError before it allocates.
const memoryLimitScript = `
import json, os, sys
sys.path.insert(0, sys.argv[1])
from client import execute, result_of
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client import KernelManager

spec = KernelSpecManager().get_kernel_spec("gocvx")
print("env " + json.dumps(spec.env))
km = KernelManager(kernel_name="gocvx")
km.start_kernel()
kc = km.client()
kc.start_channels()
try:
    kc.wait_for_ready(timeout=30)
    for code in ['import "runtime/debug"\ndebug.SetMemoryLimit(-1)', 'os.Getenv("GOCVX_MEMORY_LIMIT")',
                 'b := make([]byte, 400<<20)']:
        reply, out = execute(kc, code)
        if reply["status"] == "ok":
            print("result " + json.dumps(result_of(out)))
        else:
            print("error " + json.dumps([reply["ename"], reply["evalue"]]))
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
`

// TestInstallMemoryLimit installs the kernelspec with --memory-limit and checks
// that Jupyter sees the env and that the kernel it starts has that ceiling.
func TestInstallMemoryLimit(t *testing.T) {
	python := testenv.RequirePython(t, "jupyter_client")
	var env []string
	for _, e := range jupyterEnv(t) {
		if !strings.HasPrefix(e, "GOCVX_MEMORY_LIMIT=") {
			env = append(env, e)
		}
	}
	out, err := run(t, env, "", time.Minute, testenv.Gocvx(t), "install", "--memory-limit", "300MiB")
	if err != nil || !strings.Contains(out, "GOCVX_MEMORY_LIMIT=300MiB") {
		t.Fatalf("gocvx install --memory-limit 300MiB: %v\n%s", err, out)
	}
	helpers, err := filepath.Abs("../../kernel/testdata")
	if err != nil {
		t.Fatal(err)
	}
	out, err = run(t, env, "", 2*time.Minute, python, "-c", memoryLimitScript, helpers)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := []string{
		`env {"GOCVX_MEMORY_LIMIT": "300MiB"}`,
		`result "314572800"`,
		`result "300MiB"`,
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "env ") || strings.HasPrefix(l, "result ") || strings.HasPrefix(l, "error ") {
			got = append(got, l)
		}
	}
	if len(got) != 4 {
		t.Fatalf("script output:\n%s", out)
	}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("line %d = %s, want %s", i, got[i], w)
		}
	}
	var e []string
	if err := json.Unmarshal([]byte(strings.TrimPrefix(got[3], "error ")), &e); err != nil || e[0] != "MemoryError" || !strings.Contains(e[1], "300.0 MiB") {
		t.Errorf("a make of 400 MiB under a 300 MiB ceiling: %s, want a MemoryError naming the ceiling", got[3])
	}

	// A size that the kernel would not understand is refused, and nothing is
	// written over the kernelspec installed above.
	out, err = run(t, env, "", time.Minute, testenv.Gocvx(t), "install", "--memory-limit", "lots")
	if err == nil || !strings.Contains(out, `"lots" is not a size`) {
		t.Errorf("gocvx install --memory-limit lots: %v\n%s", err, out)
	}
	data := ""
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "JUPYTER_DATA_DIR="); ok {
			data = v
		}
	}
	b, err := os.ReadFile(filepath.Join(data, "kernels", "gocvx", "kernel.json"))
	if err != nil || !strings.Contains(string(b), `"GOCVX_MEMORY_LIMIT": "300MiB"`) {
		t.Errorf("kernel.json after a refused install: %v\n%s", err, b)
	}
}
