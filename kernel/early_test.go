package kernel

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gocvx/gocvx/internal/testenv"
	"github.com/gocvx/gocvx/kernel/early"
	"github.com/gocvx/gocvx/kernel/prebind"
)

// TestEarlyServerAndHandOver checks, through jupyter_client, that the early server
// (package early) answers kernel_info_request and publishes busy and idle with no
// kernel serving at all; that the kernel, once it serves, answers on the same
// connections the requests sent before it started (execute, kernel_info, execute)
// with the executes in order; that the iopub subscription made early keeps
// receiving; and that the kernel's kernel_info content equals the early server's.
func TestEarlyServerAndHandOver(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("prebind binds early on Linux only")
	}
	python := testenv.RequirePython(t, "jupyter_client")
	conn := testConnection(t)
	file := testenv.ConnectionFile(t, conn)
	const version, banner = "v1.2.3-test", "the banner of the test"
	prebind.Listen(file)
	t.Cleanup(prebind.CloseUntaken)
	early.Start(version, banner)
	t.Cleanup(func() { early.Stop().CloseUntaken() }) // if Serve never took it

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	script, err := filepath.Abs("testdata/early.py")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, python, script, file)
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	lines := bufio.NewScanner(out)
	next := func() string {
		t.Helper()
		if !lines.Scan() {
			cancel()
			cmd.Wait()
			t.Fatalf("early.py ended early (%v):\n%s", lines.Err(), stderr.String())
		}
		line := lines.Text()
		if strings.HasPrefix(line, "FAIL") {
			t.Fatalf("early.py: %s\n%s", line, stderr.String())
		}
		return line
	}
	var first struct {
		EarlyInfo map[string]any `json:"early_info"`
	}
	if err := json.Unmarshal([]byte(next()), &first); err != nil || first.EarlyInfo == nil {
		t.Fatalf("early.py's first line: %v", err)
	}
	if line := next(); line != "SENT" {
		t.Fatalf("early.py: %q, want SENT", line)
	}
	startKernelWith(t, conn, func(k *Kernel) {
		k.Engine = &fakeEngine{vars: map[string]string{}}
		k.Version, k.Banner = version, banner
	})
	var last struct {
		KernelInfo map[string]any `json:"kernel_info"`
		Order      []string       `json:"order"`
		Streams    []string       `json:"streams"`
	}
	if err := json.Unmarshal([]byte(next()), &last); err != nil {
		t.Fatalf("early.py's last line: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("early.py: %v\n%s", err, stderr.String())
	}
	if !reflect.DeepEqual(first.EarlyInfo, last.KernelInfo) {
		t.Errorf("kernel_info content: early %v, kernel %v", first.EarlyInfo, last.KernelInfo)
	}
	if first.EarlyInfo["implementation_version"] != version || first.EarlyInfo["banner"] != banner {
		t.Errorf("early kernel_info %v lacks the version and banner", first.EarlyInfo)
	}
	if a, c := slices.Index(last.Order, "A"), slices.Index(last.Order, "C"); a < 0 || c < a {
		t.Errorf("replies in the order %v, want A's before C's", last.Order)
	}
	if !reflect.DeepEqual(last.Streams, []string{"A\n", "C\n"}) {
		t.Errorf("streams on the early subscription: %q, want A then C", last.Streams)
	}
}
