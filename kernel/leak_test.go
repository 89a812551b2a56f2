package kernel

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// openFiles returns the number of open file descriptors of this process.
func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(fds)
}

// settle waits (bounded) until count() is at most want, and returns the last count.
func settle(want int, count func() int) int {
	n := count()
	for deadline := time.Now().Add(20 * time.Second); n > want && time.Now().Before(deadline); n = count() {
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
	}
	return n
}

// stable returns count() once it has not changed for half a second (at most 5 s).
func stable(count func() int) int {
	n, same := count(), 0
	for deadline := time.Now().Add(5 * time.Second); same < 5 && time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(100 * time.Millisecond)
		if m := count(); m == n {
			same++
		} else {
			n, same = m, 0
		}
	}
	return n
}

// serveCycle runs one kernel in this process: clients connect to every socket, one
// request is answered, and shutdown_request (restart true, as a front end restarting
// the kernel sends it) on control makes Serve return.
func serveCycle(t *testing.T) {
	t.Helper()
	conn := testConnection(t)
	k := &Kernel{NewEngine: func() (Engine, error) { return &fakeEngine{vars: map[string]string{}}, nil }}
	done := make(chan error, 1)
	go func() { done <- k.Serve(context.Background(), conn) }()
	tk := &testKernel{conn: conn}
	key := []byte(conn.Key)
	sub := dialRaw(t, tk.addr(conn.IOPubPort), "SUB")
	sub.sendFrames(t, [][]byte{{1}})
	assertAnswers(t, tk)
	shell := dialRaw(t, tk.addr(conn.ShellPort), "DEALER")
	frames, _ := newRequest(key, "execute_request", `{"code":"set a 1\nprint a"}`)
	shell.sendFrames(t, frames)
	if m := shell.nextMessage(t, key); m.Header.MsgType != "execute_reply" {
		t.Fatalf("got %s", m.Header.MsgType)
	}
	control := dialRaw(t, tk.addr(conn.ControlPort), "DEALER")
	frames, _ = newRequest(key, "shutdown_request", `{"restart":true}`)
	control.sendFrames(t, frames)
	if m := control.nextMessage(t, key); m.Header.MsgType != "shutdown_reply" {
		t.Fatalf("got %s", m.Header.MsgType)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrShutdown) {
			t.Fatalf("Serve returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return after shutdown_request")
	}
	for _, p := range []*rawPeer{sub, shell, control} {
		p.conn.Close()
	}
}

// TestNoLeaksAcrossServeCycles serves 20 kernels one after the other in this process
// and checks that goroutines and file descriptors come back to where they were.
func TestNoLeaksAcrossServeCycles(t *testing.T) {
	serveCycle(t) // warm up: lazily started runtime and library goroutines
	goroutines, files := stable(runtime.NumGoroutine), stable(func() int { return openFiles(t) })
	const cycles = 20
	for range cycles {
		serveCycle(t)
	}
	g := settle(goroutines, runtime.NumGoroutine)
	f := settle(files, func() int { return openFiles(t) })
	t.Logf("after %d Serve cycles: %d goroutines (before: %d), %d open files (before: %d)", cycles, g, goroutines, f, files)
	if g > goroutines {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("%d goroutines leaked over %d Serve cycles:\n%s", g-goroutines, cycles, leaked(string(buf)))
	}
	if f > files {
		t.Errorf("%d file descriptors leaked over %d Serve cycles", f-files, cycles)
	}
}

// leaked returns the stacks of goroutines in zmq4 or this package, for the report.
func leaked(stacks string) string {
	var out []string
	for _, g := range strings.Split(stacks, "\n\n") {
		if strings.Contains(g, "zmq4") || strings.Contains(g, "gocvx/kernel.") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}
