// Package testenv lets tests require outside tools (Debian's Python with Jupyter,
// cvxopt, Chromium) in one way: when a tool is missing the test is skipped on a
// developer's machine but fails in CI (GOCVX_CI=1), so CI never skips silently.
package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Python is the interpreter that has Debian's Python packages; a python3 earlier on
// PATH may lack them.
const Python = "/usr/bin/python3"

// InCI reports whether the tests run in CI, where a missing tool is a failure.
func InCI() bool { return os.Getenv("GOCVX_CI") == "1" }

func missing(t testing.TB, what string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is required in CI (GOCVX_CI=1) but missing; scripts/test installs it", what)
	}
	t.Skipf("%s is missing (scripts/test installs it; set GOCVX_CI=1 to make this a failure)", what)
}

// RequireCommand returns the path of the named command, or stops the test.
func RequireCommand(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		missing(t, "command "+name)
	}
	return path
}

// RequirePython checks that Python has the named modules importable and returns its
// path, or stops the test.
func RequirePython(t testing.TB, modules ...string) string {
	t.Helper()
	if _, err := os.Stat(Python); err != nil {
		missing(t, Python)
	}
	if len(modules) > 0 {
		script := "import " + strings.Join(modules, ", ")
		if out, err := exec.Command(Python, "-c", script).CombinedOutput(); err != nil {
			missing(t, "Python modules "+strings.Join(modules, ", ")+" ("+strings.TrimSpace(lastLine(string(out)))+")")
		}
	}
	return Python
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
