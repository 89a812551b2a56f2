package kernel

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// withUmask runs f with the process's umask set to mask. The tests of this package
// do not run in parallel, so nothing else creates files meanwhile.
func withUmask(mask int, f func()) {
	old := syscall.Umask(mask)
	defer syscall.Umask(old)
	f()
}

// TestIPCSocketModes checks that the kernel's ipc socket files admit only the user,
// even under a umask of 0, and are removed when the kernel stops.
func TestIPCSocketModes(t *testing.T) {
	conn := testConnection(t)
	conn.Transport = "ipc"
	conn.IP = filepath.Join(t.TempDir(), "k")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	withUmask(0, func() {
		k := &Kernel{Engine: &fakeEngine{vars: map[string]string{}}}
		go func() { done <- k.Serve(ctx, conn) }()
		// Serve binds every socket before it answers; the answer shows they are bound.
		key := []byte(conn.Key)
		c := dial(t, "unix", fmt.Sprintf("%s-%d", conn.IP, conn.ShellPort))
		p := handshake(t, c, "DEALER")
		frames, id := newRequest(key, "kernel_info_request", "{}")
		p.sendFrames(t, frames)
		if m := p.nextMessage(t, key); m.Parent.MsgID != id {
			t.Fatalf("got %s", m.Header.MsgType)
		}
	})
	for _, port := range []int{conn.ShellPort, conn.IOPubPort, conn.StdinPort, conn.ControlPort, conn.HBPort} {
		name := fmt.Sprintf("%s-%d", conn.IP, port)
		info, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode()&fs.ModeSocket == 0 || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want a socket with mode 0600", name, info.Mode())
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	for _, port := range []int{conn.ShellPort, conn.IOPubPort, conn.StdinPort, conn.ControlPort, conn.HBPort} {
		if _, err := os.Stat(fmt.Sprintf("%s-%d", conn.IP, port)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("socket file of port %d left behind: %v", port, err)
		}
	}
}

// handshake completes the ZMTP handshake on c as a socketType peer.
func handshake(t *testing.T, c net.Conn, socketType string) *rawPeer {
	t.Helper()
	p := &rawPeer{conn: c, r: bufio.NewReader(c)}
	p.handshake(t, socketType)
	return p
}

// TestBindsOnlyTheGivenIP checks that a kernel told to listen on 127.0.0.1 cannot be
// reached on any other address of the machine (127.0.0.2 is as local, but another
// address; the machine's own interface addresses too).
func TestBindsOnlyTheGivenIP(t *testing.T) {
	tk := hostileKernel(t)
	others := []string{"127.0.0.2"}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
				others = append(others, ipn.IP.String())
			}
		}
	}
	for _, ip := range others {
		for _, port := range []int{tk.conn.ShellPort, tk.conn.IOPubPort, tk.conn.StdinPort, tk.conn.ControlPort, tk.conn.HBPort} {
			c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, fmt.Sprint(port)), 2*time.Second)
			if err == nil {
				c.Close()
				t.Errorf("the kernel on 127.0.0.1 accepted a connection on %s:%d", ip, port)
			}
		}
	}
	assertAnswers(t, tk)
}

// TestWarnings checks what the kernel warns about (on standard error, where the gocvx
// command sends the kernel's log): an address that is not a loopback one, and an
// empty key.
func TestWarnings(t *testing.T) {
	for _, c := range []struct {
		ip, key string
		want    []string
	}{
		{"127.0.0.1", "k", nil},
		{"127.3.4.5", "k", nil},
		{"::1", "k", nil},
		{"localhost", "k", nil},
		{"0.0.0.0", "k", []string{"not a loopback address"}},
		{"*", "k", []string{"not a loopback address"}},
		{"::", "k", []string{"not a loopback address"}},
		{"192.168.1.20", "k", []string{"not a loopback address"}},
		{"example.org", "k", []string{"not a loopback address"}},
		{"127.0.0.1", "", []string{"empty key"}},
		{"10.0.0.1", "", []string{"not a loopback address", "empty key"}},
	} {
		w := ConnectionInfo{Transport: "tcp", IP: c.ip, Key: c.key}.warnings()
		if len(w) != len(c.want) {
			t.Errorf("ip %q key %q: warnings %q, want %q", c.ip, c.key, w, c.want)
			continue
		}
		for i := range w {
			if !strings.Contains(w[i], c.want[i]) {
				t.Errorf("ip %q key %q: warning %q, want %q", c.ip, c.key, w[i], c.want[i])
			}
		}
	}
	if w := (ConnectionInfo{Transport: "ipc", IP: "/tmp/x", Key: "k"}).warnings(); len(w) != 0 {
		t.Errorf("ipc: warnings %q", w)
	}

	// Serve logs the warning before it binds: 192.0.2.1 (TEST-NET-1, never assigned)
	// cannot be bound, so Serve fails after warning, and nothing listens anywhere.
	conn := testConnection(t)
	conn.IP = "192.0.2.1"
	var logs bytes.Buffer
	var mu sync.Mutex
	k := &Kernel{Engine: &fakeEngine{}, Log: log.New(lockedWriter{&mu, &logs}, "", 0)}
	done := make(chan error, 1)
	go func() { done <- k.Serve(context.Background(), conn) }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Serve on 192.0.2.1 returned nil")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve on an address it cannot bind did not return")
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "warning: listening on 192.0.2.1, which is not a loopback address") {
		t.Errorf("log lacks the warning:\n%s", logs.String())
	}
}

// TestForgedInputReply checks that the key is required on the stdin socket too: while
// a cell waits for input, an input_reply signed with another key, or unsigned, is
// dropped, and the cell gets the value of the signed one that follows.
func TestForgedInputReply(t *testing.T) {
	tk := hostileKernel(t)
	key := []byte(tk.conn.Key)
	sub := subscribe(t, tk)
	shell := dialRawID(t, tk.addr(tk.conn.ShellPort), "DEALER", "client-1")
	stdin := dialRawID(t, tk.addr(tk.conn.StdinPort), "DEALER", "client-1")
	frames, id := newRequest(key, "execute_request", `{"code":"read","allow_stdin":true}`)
	shell.sendFrames(t, frames)
	if m := stdin.nextMessage(t, key); m.Header.MsgType != "input_request" || m.Parent.MsgID != id {
		t.Fatalf("got %s, want the input_request of the cell", m.Header.MsgType)
	}
	forged, _ := newRequest([]byte("not-the-key"), "input_reply", `{"value":"forged"}`)
	stdin.sendFrames(t, forged)
	unsigned, _ := newRequest(nil, "input_reply", `{"value":"unsigned"}`)
	stdin.sendFrames(t, unsigned)
	good, _ := newRequest(key, "input_reply", `{"value":"real"}`)
	stdin.sendFrames(t, good)
	if m := shell.nextMessage(t, key); m.Header.MsgType != "execute_reply" || !strings.Contains(string(m.Content), `"ok"`) {
		t.Fatalf("got %s %s", m.Header.MsgType, m.Content)
	}
	var out strings.Builder
	for {
		m := sub.nextMessage(t, key)
		if m.Parent == nil || m.Parent.MsgID != id {
			continue
		}
		if m.Header.MsgType == "stream" {
			out.Write(m.Content)
		}
		if m.Header.MsgType == "status" && strings.Contains(string(m.Content), "idle") {
			break
		}
	}
	if !strings.Contains(out.String(), "read real") || strings.Contains(out.String(), "forged") || strings.Contains(out.String(), "unsigned") {
		t.Errorf("the cell printed %s, want the signed value only", out.String())
	}
	waitLog(t, tk, "stdin: dropped message: kernel: message signature does not match")
}
