package prebind

import (
	"net"
	"runtime"
	"strconv"
	"testing"

	"github.com/gocvx/gocvx/internal/testenv"
)

func TestParseConnection(t *testing.T) {
	good := `{
  "shell_port": 50001,
  "iopub_port": 50002, "stdin_port": 50003, "control_port": 50004, "hb_port": 50005,
  "ip": "127.0.0.1",
  "key": "a\"b\\c\/d",
  "transport": "tcp",
  "signature_scheme": "hmac-sha256",
  "kernel_name": "gocvx"
}`
	c, ok := parseConnection([]byte(good))
	if !ok || c.numbers["hb_port"] != 50005 || c.strings["ip"] != "127.0.0.1" || c.strings["key"] != `a"b\c/d` {
		t.Fatalf("parseConnection = %+v, %v", c, ok)
	}
	for _, bad := range []string{
		``, `{`, `{"a":1,}`, `{"a":}`, `{"a":1} x`, `{"a":[1]}`, `{"a":{"b":1}}`, `{"a":-1}`, `{"a":1.5}`,
		`{"a":"\u0041"}`, "{\"a\":\"\n\"}", `{"a":1234567890}`, `{"a" 1}`, `{"a":"x}`, `{1:2}`,
	} {
		if _, ok := parseConnection([]byte(bad)); ok {
			t.Errorf("parseConnection(%q) accepted", bad)
		}
	}
	if c, ok := parseConnection([]byte(" { } ")); !ok || len(c.strings)+len(c.numbers) != 0 {
		t.Errorf("empty object: %+v, %v", c, ok)
	}
}

func TestParseIPv4(t *testing.T) {
	for s, want := range map[string][4]byte{"127.0.0.1": {127, 0, 0, 1}, "0.0.0.0": {}, "10.20.255.4": {10, 20, 255, 4}} {
		if ip, ok := parseIPv4(s); !ok || ip != want {
			t.Errorf("parseIPv4(%q) = %v, %v", s, ip, ok)
		}
	}
	for _, s := range []string{"", "localhost", "::1", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1..2.3", "1.2.3.", "*", " 1.2.3.4"} {
		if _, ok := parseIPv4(s); ok {
			t.Errorf("parseIPv4(%q) accepted", s)
		}
	}
}

// TestListen checks that Listen binds the five ports of a connection file, that a
// client can connect to them at once, that Take hands each out once, and that
// CloseUntaken closes the others.
func TestListen(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("prebind binds early on Linux only")
	}
	p, err := testenv.FreePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	file := testenv.ConnectionFile(t, map[string]any{"transport": "tcp", "ip": "127.0.0.1", "shell_port": p[0],
		"iopub_port": p[1], "stdin_port": p[2], "control_port": p[3], "hb_port": p[4], "key": "k"})
	Listen(file)
	defer CloseUntaken()
	addr := func(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
	for _, port := range p {
		c, err := net.Dial("tcp", addr(port))
		if err != nil {
			t.Fatalf("port %d: %v", port, err)
		}
		c.Close()
	}
	fd, ok := Take(addr(p[0]))
	if !ok {
		t.Fatal("Take: no socket for the shell port")
	}
	closeSocket(fd)
	if _, ok := Take(addr(p[0])); ok {
		t.Error("Take handed out the shell port's socket twice")
	}
	CloseUntaken()
	for _, port := range p[1:] {
		if c, err := net.Dial("tcp", addr(port)); err == nil {
			c.Close()
			t.Errorf("port %d still listens after CloseUntaken", port)
		}
	}
}
