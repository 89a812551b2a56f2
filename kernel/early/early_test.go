package early

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/gocvx/gocvx/internal/testenv"
	"github.com/gocvx/gocvx/kernel/internal/wire"
	"github.com/gocvx/gocvx/kernel/internal/zmtp"
	"github.com/gocvx/gocvx/kernel/prebind"
)

// The early server is tested here with raw ZMTP peers, hostile ones included;
// kernel.TestEarlyServerAndHandOver tests it and the hand-over to the kernel
// through jupyter_client (libzmq).

const testKey = "the-key-of-the-test"

// startEarly starts the early server on free ports, with a short handshake
// timeout, and returns the addresses of its shell and iopub ports.
func startEarly(t *testing.T) (shell, iopub string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("prebind binds early on Linux only")
	}
	handshakeTimeout = 500 * time.Millisecond
	t.Cleanup(func() { handshakeTimeout = zmtp.HandshakeTimeout })
	ports := writeConnection(t, map[string]any{"transport": "tcp", "ip": "127.0.0.1", "key": testKey, "signature_scheme": "hmac-sha256"})
	Start("v-test", "banner")
	t.Cleanup(func() {
		Stop().CloseUntaken()
		prebind.CloseUntaken()
	})
	return fmt.Sprintf("127.0.0.1:%d", ports[0]), fmt.Sprintf("127.0.0.1:%d", ports[1])
}

// writeConnection writes a connection file of conn and five free ports (shell,
// iopub, stdin, control, heartbeat, which it returns) and has prebind listen on it.
func writeConnection(t *testing.T, conn map[string]any) []int {
	t.Helper()
	ports, err := testenv.FreePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"shell", "iopub", "stdin", "control", "hb"} {
		conn[name+"_port"] = ports[i]
	}
	file := testenv.ConnectionFile(t, conn)
	prebind.Listen(file)
	return ports
}

// TestFallBack checks that the early server does not start where it cannot
// answer (no key, another signature scheme, ipc, a host name), leaving every
// port that prebind bound to the kernel.
func TestFallBack(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("prebind binds early on Linux only")
	}
	for _, conn := range []map[string]any{
		{"transport": "tcp", "ip": "127.0.0.1", "key": "", "signature_scheme": "hmac-sha256"},
		{"transport": "tcp", "ip": "127.0.0.1", "key": testKey, "signature_scheme": "hmac-md5"},
		{"transport": "ipc", "ip": filepath.Join(t.TempDir(), "k"), "key": testKey, "signature_scheme": "hmac-sha256"},
		{"transport": "tcp", "ip": "localhost", "key": testKey, "signature_scheme": "hmac-sha256"},
	} {
		ports := writeConnection(t, conn)
		Start("v-test", "banner")
		if st := Stop(); st != nil {
			st.CloseUntaken()
			t.Errorf("%v: the early server started", conn)
		}
		bound := 0
		for _, port := range ports {
			if fd, ok := prebind.Take(fmt.Sprintf("127.0.0.1:%d", port)); ok {
				bound++
				syscall.Close(fd)
			}
		}
		if want := map[bool]int{true: 5, false: 0}[conn["transport"] == "tcp" && conn["ip"] == "127.0.0.1"]; bound != want {
			t.Errorf("%v: %d ports left to the kernel, want %d", conn, bound, want)
		}
		prebind.CloseUntaken()
	}
}

// peer is a ZMTP client.
type peer struct {
	c net.Conn
	r *zmtp.Reader
}

// dial connects to addr and performs the handshake as a socket of type typ.
func dial(t *testing.T, addr, typ string) *peer {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	props := []byte{byte(len("Socket-Type"))}
	props = append(props, "Socket-Type"...)
	props = binary.BigEndian.AppendUint32(props, uint32(len(typ)))
	props = append(props, typ...)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(zmtp.AppendCommand(zmtp.Greeting(), "READY", props)); err != nil {
		t.Fatal(err)
	}
	g := make([]byte, zmtp.GreetingSize)
	if _, err := io.ReadFull(c, g); err != nil {
		t.Fatalf("greeting: %v", err)
	}
	p := &peer{c: c, r: &zmtp.Reader{R: c}}
	if m, err := p.r.Next(); err != nil || m.Command != "READY" {
		t.Fatalf("READY: %+v, %v", m, err)
	}
	return p
}

func (p *peer) send(t *testing.T, b []byte) {
	t.Helper()
	if _, err := p.c.Write(b); err != nil {
		t.Fatal(err)
	}
}

// next returns the next message, skipping nothing.
func (p *peer) next(t *testing.T) zmtp.Msg {
	t.Helper()
	m, err := p.r.Next()
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	return m
}

// closed reports whether the server closes the connection (bounded wait).
func closed(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// kernelInfo sends kernel_info_request on p and returns its id.
func kernelInfo(t *testing.T, p *peer) string {
	t.Helper()
	h := wire.NewHeader("kernel_info_request", "client")
	frames, err := wire.Encode(wire.Message{Header: h, Content: []byte("{}")}, []byte(testKey))
	if err != nil {
		t.Fatal(err)
	}
	p.send(t, wire.AppendMessage(nil, frames))
	return h.MsgID
}

// assertAnswers checks that a new client is answered on shell.
func assertAnswers(t *testing.T, shell string) {
	t.Helper()
	p := dial(t, shell, "DEALER")
	id := kernelInfo(t, p)
	m, err := wire.Decode(p.next(t).Frames, []byte(testKey))
	if err != nil || m.Header.MsgType != "kernel_info_reply" || m.Parent.MsgID != id {
		t.Fatalf("got %s (%v), want the kernel_info_reply to %s", m.Header.MsgType, err, id)
	}
	var info KernelInfoReply
	if err := json.Unmarshal(m.Content, &info); err != nil || info.ImplementationVersion != "v-test" || info.Banner != "banner" {
		t.Fatalf("kernel_info content %s (%v)", m.Content, err)
	}
	p.c.Close()
}

// TestSubscribersGetStatuses checks that subscribers (with a ZMTP 3.0
// subscription message or a 3.1 SUBSCRIBE command) get busy and idle around the
// kernel_info_reply, and that PING is answered with PONG.
func TestSubscribersGetStatuses(t *testing.T) {
	shell, iopub := startEarly(t)
	sub30 := dial(t, iopub, "SUB")
	sub30.send(t, wire.AppendMessage(nil, [][]byte{[]byte("\x01kernel.")}))
	sub31 := dial(t, iopub, "SUB")
	sub31.send(t, zmtp.AppendCommand(nil, "SUBSCRIBE", nil))
	other := dial(t, iopub, "SUB")
	other.send(t, wire.AppendMessage(nil, [][]byte{[]byte("\x01other")}))
	for _, s := range []*peer{sub30, sub31, other} {
		// PONG comes after the subscription is applied (one reader per connection).
		s.send(t, zmtp.AppendCommand(nil, "PING", []byte{0, 10, 'c', 't', 'x'}))
		if m := s.next(t); m.Command != "PONG" || string(m.Body) != "ctx" {
			t.Fatalf("got %+v, want PONG with the PING's context", m)
		}
	}
	p := dial(t, shell, "DEALER")
	id := kernelInfo(t, p)
	if m, err := wire.Decode(p.next(t).Frames, []byte(testKey)); err != nil || m.Header.MsgType != "kernel_info_reply" {
		t.Fatalf("got %s, %v", m.Header.MsgType, err)
	}
	for _, s := range []*peer{sub30, sub31} {
		for _, want := range []string{"busy", "idle"} {
			m, err := wire.Decode(s.next(t).Frames, []byte(testKey))
			if err != nil || m.Header.MsgType != "status" || m.Parent.MsgID != id || !bytes.Contains(m.Content, []byte(want)) {
				t.Fatalf("got %s %s (%v), want status %s", m.Header.MsgType, m.Content, err, want)
			}
		}
	}
	other.c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if m, err := other.r.Next(); err == nil {
		t.Errorf("a subscriber to another topic got %q", m.Frames)
	}
}

// TestHostilePeers checks that the early server disconnects peers that speak
// another protocol, claim an oversized frame or too many frames, or stay silent,
// and goes on answering others.
func TestHostilePeers(t *testing.T) {
	shell, iopub := startEarly(t)
	long := binary.BigEndian.AppendUint64([]byte{wire.FlagLong}, 1<<50)
	many := make([][]byte, zmtp.MaxFrames+1)
	for i := range many {
		many[i] = []byte{}
	}
	cases := []struct {
		name      string
		handshake bool
		data      []byte
	}{
		{"HTTP", false, []byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")},
		{"silent", false, nil},
		{"half a greeting", false, zmtp.Greeting()[:20]},
		{"header claiming 2^50 bytes", true, long},
		{"command claiming 2^40 bytes", true, binary.BigEndian.AppendUint64([]byte{wire.FlagLong | wire.FlagCommand}, 1<<40)},
		{"too many frames", true, wire.AppendMessage(nil, many)},
		{"command inside a message", true, append([]byte{wire.FlagMore, 1, 'x'}, zmtp.AppendCommand(nil, "PING", []byte{0, 0})...)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, x := range []struct{ addr, typ string }{{shell, "DEALER"}, {iopub, "SUB"}} {
				var conn net.Conn
				if c.handshake {
					conn = dial(t, x.addr, x.typ).c
				} else {
					var err error
					if conn, err = net.DialTimeout("tcp", x.addr, 5*time.Second); err != nil {
						t.Fatal(err)
					}
					defer conn.Close()
				}
				conn.Write(c.data) // the server may close the connection before it all arrives
				if !closed(conn) {
					t.Errorf("%s: the connection is still open", x.typ)
				}
			}
			assertAnswers(t, shell)
		})
	}
	t.Run("socket type that does not match", func(t *testing.T) {
		c, err := net.DialTimeout("tcp", iopub, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		props := append([]byte{11}, "Socket-Type"...)
		props = binary.BigEndian.AppendUint32(props, 6)
		c.Write(zmtp.AppendCommand(zmtp.Greeting(), "READY", append(props, "DEALER"...)))
		if !closed(c) {
			t.Error("the connection is still open")
		}
	})
}
