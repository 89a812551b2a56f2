package main

import (
	"bytes"
	"context"
	bin "encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocvx/gocvx/internal/testenv"
)

// syncBuffer is a bytes.Buffer safe for a process to write while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startKernel runs `gocvx kernel -f FILE` on a connection file with the given ip and
// key, and returns the file, the process's standard error and a channel closed when
// it exits; the process is killed at cleanup.
func startKernel(t *testing.T, ip, key string) (file string, stderr *syncBuffer, exited chan struct{}, ports []int) {
	t.Helper()
	ports, err := testenv.FreePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	conn := map[string]any{
		"transport": "tcp", "ip": ip, "shell_port": ports[0], "iopub_port": ports[1],
		"stdin_port": ports[2], "control_port": ports[3], "hb_port": ports[4],
		"signature_scheme": "hmac-sha256", "key": key,
	}
	b, err := json.Marshal(conn)
	if err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(t.TempDir(), "kernel.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testenv.Gocvx(t), "kernel", "-f", file)
	cmd.Env = append(os.Environ(), "GOCVX_HISTORY_FILE="+filepath.Join(t.TempDir(), "history.jsonl"))
	stderr = &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited = make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Error("kernel still running 10 s after kill")
		}
	})
	return file, stderr, exited, ports
}

// zmtpPeer connects to addr and completes a ZeroMQ (ZMTP 3.0, NULL) handshake as a
// socketType peer, retrying while the kernel is not listening yet.
func zmtpPeer(t *testing.T, addr, socketType string) net.Conn {
	t.Helper()
	var c net.Conn
	var err error
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err = net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	greeting := make([]byte, 64)
	greeting[0], greeting[9], greeting[10] = 0xff, 0x7f, 3
	copy(greeting[12:], "NULL")
	ready := append([]byte("\x05READY\x0bSocket-Type\x00\x00\x00"), byte(len(socketType)))
	ready = append(ready, socketType...)
	c.Write(append(greeting, append([]byte{0x04, byte(len(ready))}, ready...)...))
	// The kernel's greeting and READY.
	if _, err := io.ReadFull(c, make([]byte, 64+2)); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	return c
}

// TestHostileWire sends the real kernel what once ended the process (a frame header
// claiming 2⁵⁰ bytes: zmq4 allocated frames by their announced size), a message over
// the size limit, and another protocol, and checks with jupyter_client that the
// kernel still answers on every socket, and that it logged what it dropped.
func TestHostileWire(t *testing.T) {
	python := testenv.RequirePython(t, "jupyter_client")
	file, stderr, exited, ports := startKernel(t, "127.0.0.1", "hostile-wire-test-key")
	addr := func(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }
	for i, port := range ports { // shell, iopub, stdin, control, heartbeat
		c := zmtpPeer(t, addr(port), [...]string{"DEALER", "SUB", "DEALER", "DEALER", "REQ"}[i])
		c.Write(bin.BigEndian.AppendUint64([]byte{0x02}, 1<<50))
		c.Close()
	}
	c := zmtpPeer(t, addr(ports[0]), "DEALER")
	go func() { // 65 MiB in one frame, over the default limit of 64 MiB
		c.Write(bin.BigEndian.AppendUint64([]byte{0x02}, 65<<20))
		c.Write(make([]byte, 65<<20))
	}()
	for _, port := range ports {
		h, err := net.DialTimeout("tcp", addr(port), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
		defer h.Close()
	}
	runClientScript(t, python, "--connection-file", file, "control", "heartbeat", "badkey", "sequence")
	select {
	case <-exited:
		t.Fatalf("the kernel exited:\n%s", stderr.String())
	default:
	}
	for deadline := time.Now().Add(20 * time.Second); strings.Count(stderr.String(), "over the limit") < 6; {
		if time.Now().After(deadline) {
			t.Fatalf("want 6 oversized messages logged on standard error; got:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runClientScript runs kernel/testdata/client.py with the Go cells, bounded in time.
func runClientScript(t *testing.T, python string, args ...string) {
	t.Helper()
	cells, err := json.Marshal(goCells)
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("../../kernel/testdata/client.py")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	argv := append([]string{script, "--cells", string(cells)}, args...)
	cmd := exec.CommandContext(ctx, python, argv...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("client.py:\n%s", out)
	if ctx.Err() != nil {
		t.Fatal("client.py timed out")
	}
	if err != nil {
		t.Fatalf("client.py: %v", err)
	}
}

// TestAddressWarning checks that the kernel warns on standard error when the
// connection file names an address other than a loopback one. 192.0.2.1
// (TEST-NET-1) is never assigned, so the kernel warns, fails to bind and exits:
// nothing listens beyond 127.0.0.1.
func TestAddressWarning(t *testing.T) {
	_, stderr, exited, _ := startKernel(t, "192.0.2.1", "k")
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the kernel did not exit")
	}
	if !strings.Contains(stderr.String(), "warning: listening on 192.0.2.1, which is not a loopback address") {
		t.Errorf("standard error lacks the warning:\n%s", stderr.String())
	}
	_, stderr, _, ports := startKernel(t, "127.0.0.1", "")
	zmtpPeer(t, fmt.Sprintf("127.0.0.1:%d", ports[0]), "DEALER") // listening: the warnings are out
	if !strings.Contains(stderr.String(), "warning: the connection file has an empty key") {
		t.Errorf("standard error lacks the empty-key warning:\n%s", stderr.String())
	}
	if strings.Contains(stderr.String(), "loopback") {
		t.Errorf("a loopback address was warned about:\n%s", stderr.String())
	}
}
