package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocvx/gocvx/internal/testenv"
)

// runModules runs testdata/modules.py against the real kernel, started by
// jupyter_client from the installed kernelspec with env added to the
// environment, and checks that every scenario passed.
func runModules(t *testing.T, env []string, timeout time.Duration, scenarios ...string) {
	t.Helper()
	python := testenv.RequirePython(t, "jupyter_client")
	testenv.RequireCommand(t, "go")
	env = append(append(jupyterEnv(t), "XDG_CACHE_HOME="+t.TempDir(), "GOCVX_GO_TIMEOUT=90s"), env...)
	script, err := filepath.Abs("testdata/modules.py")
	if err != nil {
		t.Fatal(err)
	}
	local := t.TempDir()
	for name, text := range map[string]string{
		"go.mod": "module example.com/mylib\n\ngo 1.21\n",
		"lib.go": "// Package mylib is a researcher's own package.\npackage mylib\n\n// Answer is edited by the test.\nfunc Answer() int { return 41 }\n",
	} {
		if err := os.WriteFile(filepath.Join(local, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := run(t, env, t.TempDir(), timeout, python, append([]string{script, "--kernel", "gocvx", "--local", local}, scenarios...)...)
	t.Logf("modules.py:\n%s", out)
	if err != nil {
		t.Fatalf("modules.py: %v", err)
	}
	for _, s := range scenarios {
		if !strings.Contains(out, "ok "+s+"\n") {
			t.Errorf("scenario %s did not pass", s)
		}
	}
}

// TestMagicsAndLocalModule checks every magic through Jupyter's client (!
// with input_request and an interrupt that reaches the command as SIGINT,
// %%sh, %time, %%time, %env, %who, %whos, %reset, %help; completion,
// inspection and is_complete on cells with magics), and a local module used,
// edited and imported again. It needs no network (GOPROXY=off).
func TestMagicsAndLocalModule(t *testing.T) {
	runModules(t, []string{"GOPROXY=off"}, 5*time.Minute, "magics", "local")
}

// TestProxyModules imports packages that the kernel does not preload from
// the Go module proxy: a module pinned with %go get, used (a type, a
// function, a method) and upgraded, a generic function over a module's
// constraint, two packages that use gonum's matrices (golearn's distances,
// gonum's finite differences); a cgo-only package is refused and an unknown
// module is the go command's error.
func TestProxyModules(t *testing.T) {
	testenv.RequireGoProxy(t)
	runModules(t, nil, 10*time.Minute, "proxy", "gonum", "refusals")
}

// TestNoProxy checks the error when the proxy may not be used and the module
// cache is empty.
func TestNoProxy(t *testing.T) {
	runModules(t, []string{"GOPROXY=off", "GOMODCACHE=" + t.TempDir(), "GOFLAGS=-mod=mod -modcacherw"}, 3*time.Minute, "noproxy")
}
