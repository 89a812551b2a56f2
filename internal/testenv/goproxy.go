package testenv

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// RequireGoProxy checks within 30 seconds that the go command reaches the Go
// module proxy of the environment (it asks for a small module's version), or
// stops the test: skipped on a developer's machine, failed in CI.
func RequireGoProxy(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-json", "github.com/montanaflynn/stats@v0.14.0")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on")
	if out, err := cmd.CombinedOutput(); err != nil {
		missing(t, "the Go module proxy ("+strings.TrimSpace(lastLine(string(out)))+")")
	}
}
