package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	gocvxBin  string
	buildErr  error
)

// Gocvx returns the path of the gocvx command, built from this module once per test
// binary into a temporary folder; TestMain removes it with RemoveGocvx.
func Gocvx(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gocvx-test-")
		if err != nil {
			buildErr = err
			return
		}
		bin := filepath.Join(dir, "gocvx")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/gocvx/gocvx/cmd/gocvx").CombinedOutput()
		if err != nil {
			os.RemoveAll(dir)
			buildErr = fmt.Errorf("go build ./cmd/gocvx: %v\n%s", err, out)
			return
		}
		gocvxBin = bin
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return gocvxBin
}

// RemoveGocvx deletes the command that Gocvx built, if any.
func RemoveGocvx() {
	if gocvxBin != "" {
		os.RemoveAll(filepath.Dir(gocvxBin))
	}
}
