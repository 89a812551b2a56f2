package kernel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/internal/testenv"
)

// fakeEngine runs cells written in a tiny command language, one command a line,
// so that the protocol is tested apart from the Go interpreter:
//
//	print TEXT | eprint TEXT | value TEXT | fail TEXT | loop | read | display | page | set K V | get K | spam N SIZE | enginepanic
type fakeEngine struct {
	mu   sync.Mutex
	vars map[string]string
	// looping, if set, receives a value when a cell enters its loop command.
	looping chan struct{}
}

func (e *fakeEngine) Execute(ctx context.Context, c cellio.Cell) cellio.Outcome {
	var out cellio.Outcome
	for _, line := range strings.Split(c.Code, "\n") {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch cmd {
		case "print":
			c.Output.Stream("stdout", arg+"\n")
		case "eprint":
			c.Output.Stream("stderr", arg+"\n")
		case "value":
			out.Value = &cellio.Bundle{Data: map[string]any{"text/plain": arg}}
		case "fail":
			return cellio.Outcome{Error: &cellio.Error{Name: "Failure", Value: arg, Traceback: []string{"Failure: " + arg}}}
		case "loop":
			if e.looping != nil {
				e.looping <- struct{}{}
			}
			<-ctx.Done()
			return cellio.Outcome{Error: &cellio.Error{Name: "Interrupted", Value: "interrupted", Traceback: []string{"Interrupted"}}}
		case "read":
			if c.Input == nil {
				return cellio.Outcome{Error: &cellio.Error{Name: "EOF", Value: "no stdin", Traceback: []string{}}}
			}
			s, err := c.Input.ReadLine("name? ", false)
			if err != nil {
				return cellio.Outcome{Error: &cellio.Error{Name: "Input", Value: err.Error(), Traceback: []string{}}}
			}
			c.Output.Stream("stdout", "read "+s+"\n")
		case "display":
			c.Output.Display(cellio.Bundle{Data: map[string]any{"text/plain": "v1"}}, "d1", false)
			c.Output.Display(cellio.Bundle{Data: map[string]any{"text/plain": "v2"}}, "d1", true)
			c.Output.Clear(true)
			c.Output.Display(cellio.Bundle{Data: map[string]any{"text/html": "<b>v3</b>", "text/plain": "v3"}}, "", false)
		case "enginepanic": // a bug in the engine, not a cell's panic
			var m map[string]int
			m["x"]++
		case "spam": // spam N SIZE: N stream messages of SIZE bytes
			var n, size int
			fmt.Sscan(arg, &n, &size)
			for range n {
				c.Output.Stream("stdout", strings.Repeat("y", size))
			}
		case "page":
			out.Page = &cellio.Bundle{Data: map[string]any{"text/plain": "help text"}}
		case "set":
			k, v, _ := strings.Cut(arg, " ")
			e.mu.Lock()
			e.vars[k] = v
			e.mu.Unlock()
		case "get":
			e.mu.Lock()
			out.Value = &cellio.Bundle{Data: map[string]any{"text/plain": e.vars[arg]}}
			e.mu.Unlock()
		case "":
		default:
			return cellio.Outcome{Error: &cellio.Error{Name: "Unknown", Value: cmd, Traceback: []string{}}}
		}
	}
	return out
}

func (e *fakeEngine) Complete(code string, cursor int) cellio.Completion {
	switch code {
	case "enginepanic":
		panic("a bug in the engine's completion")
	case "zzz":
		return cellio.Completion{Start: 0, End: 0}
	}
	return cellio.Completion{Matches: []string{"print", "page"}, Start: 0, End: cursor}
}

func (e *fakeEngine) Inspect(code string, cursor, detail int) (cellio.Bundle, bool) {
	if code == "" {
		return cellio.Bundle{}, false
	}
	return cellio.Bundle{Data: map[string]any{"text/plain": fmt.Sprintf("doc of %s (detail %d)", code, detail)}}, true
}

func (e *fakeEngine) IsComplete(code string) (string, string) {
	if strings.Count(code, "{") > strings.Count(code, "}") {
		return "incomplete", "\t"
	}
	return "complete", ""
}

// testConnection returns the connection info of a tcp kernel on free ports.
func testConnection(t *testing.T) ConnectionInfo {
	p, err := testenv.FreePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	return ConnectionInfo{
		Transport: "tcp", IP: "127.0.0.1", ShellPort: p[0], IOPubPort: p[1], StdinPort: p[2],
		ControlPort: p[3], HBPort: p[4], SignatureScheme: "hmac-sha256", Key: newID(),
	}
}

// testKernel is a kernel serving a fake engine in this process.
type testKernel struct {
	conn ConnectionInfo
	file string        // its connection file
	done chan struct{} // closed when Serve returns
	err  error         // what Serve returned
	logs func() string // what it logged so far
}

// startKernel serves a fake engine on conn; the kernel is stopped at cleanup.
// With lazy set, the engine is created by NewEngine while the kernel starts.
func startKernel(t *testing.T, conn ConnectionInfo, lazy bool) *testKernel {
	t.Helper()
	return startKernelWith(t, conn, func(k *Kernel) {
		if lazy {
			k.NewEngine = func() (Engine, error) { return &fakeEngine{vars: map[string]string{}}, nil }
		} else {
			k.Engine = &fakeEngine{vars: map[string]string{}}
		}
	})
}

// startKernelWith serves conn with a kernel that configure sets up (it must set
// Engine or NewEngine); the kernel is stopped at cleanup.
func startKernelWith(t *testing.T, conn ConnectionInfo, configure func(k *Kernel)) *testKernel {
	t.Helper()
	var logs bytes.Buffer
	var logMu sync.Mutex
	k := &Kernel{Log: log.New(lockedWriter{&logMu, &logs}, "kernel: ", log.Lmicroseconds)}
	configure(k)
	b, err := json.Marshal(conn)
	if err != nil {
		t.Fatal(err)
	}
	tk := &testKernel{conn: conn, file: filepath.Join(t.TempDir(), "kernel.json"), done: make(chan struct{})}
	tk.logs = func() string {
		logMu.Lock()
		defer logMu.Unlock()
		return logs.String()
	}
	if err := os.WriteFile(tk.file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { tk.err = k.Serve(ctx, conn); close(tk.done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-tk.done:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return within 10 s of its context being cancelled")
		}
		if t.Failed() {
			logMu.Lock()
			t.Logf("kernel log:\n%s", logs.String())
			logMu.Unlock()
		}
	})
	return tk
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// runClient runs testdata/client.py against a connection file with the given cells
// and scenarios, bounded in time.
func runClient(t *testing.T, python string, args []string, cells map[string]any, scenarios ...string) {
	t.Helper()
	b, err := json.Marshal(cells)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	script, err := filepath.Abs("testdata/client.py")
	if err != nil {
		t.Fatal(err)
	}
	argv := append([]string{script}, args...)
	argv = append(argv, "--cells", string(b))
	argv = append(argv, scenarios...)
	cmd := exec.CommandContext(ctx, python, argv...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("client.py %v timed out:\n%s", scenarios, out)
	}
	if err != nil {
		t.Fatalf("client.py %v: %v\n%s", scenarios, err, out)
	}
	t.Logf("client.py:\n%s", out)
}

var fakeCells = map[string]any{
	"define":         "set x 21",
	"loop":           "loop",
	"check":          "get x",
	"check_result":   "21",
	"read":           "read",
	"fail":           "fail on purpose",
	"print":          "print from one client",
	"print_stdout":   "from one client",
	"long":           "loop",
	"complete_code":  "pri",
	"complete_match": "print",
	"inspect_code":   "print",
	"display":        "display",
	// user_expressions: "check" is the good one.
	"user_expression_bad": "fail nope",
	"sequence": []map[string]any{
		{"code": "print hello, world", "stdout": "hello, world"},
		{"code": "value 42", "result": "42"},
		{"code": "fail x", "status": "error"},
	},
}

// TestProtocol drives the kernel, with a fake engine, through jupyter_client.
func TestProtocol(t *testing.T) {
	python := testenv.RequirePython(t, "jupyter_client")
	for _, transport := range []string{"tcp", "ipc"} {
		t.Run(transport, func(t *testing.T) {
			conn := testConnection(t)
			if transport == "ipc" {
				conn.Transport = "ipc"
				conn.IP = filepath.Join(t.TempDir(), "kernel")
			}
			tk := startKernel(t, conn, transport == "tcp")
			runClient(t, python, []string{"--connection-file", tk.file}, fakeCells,
				"control", "heartbeat", "sequence", "user_expressions", "interrupt", "stdin", "interrupt_input", "badkey", "abort", "comm", "outputs",
				"two_clients", "busy")
		})
	}
}

// TestShutdownRequest checks that shutdown_request is answered on control and makes
// Serve return ErrShutdown.
func TestShutdownRequest(t *testing.T) {
	python := testenv.RequirePython(t, "jupyter_client")
	tk := startKernel(t, testConnection(t), false)
	runClient(t, python, []string{"--connection-file", tk.file}, fakeCells, "shutdown")
	select {
	case <-tk.done:
		if !errors.Is(tk.err, ErrShutdown) {
			t.Errorf("Serve returned %v, want ErrShutdown", tk.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve still running 10 s after shutdown_request")
	}
}

// TestEngineFailure checks that Serve stops with NewEngine's error.
func TestEngineFailure(t *testing.T) {
	boom := errors.New("no interpreter today")
	k := &Kernel{NewEngine: func() (Engine, error) { return nil, boom }}
	done := make(chan error, 1)
	go func() { done <- k.Serve(context.Background(), testConnection(t)) }()
	select {
	case err := <-done:
		if !errors.Is(err, boom) {
			t.Errorf("Serve returned %v, want %v", err, boom)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve still running 10 s after NewEngine failed")
	}
}
