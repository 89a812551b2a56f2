package kernel

import (
	"bufio"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/gocvx/gocvx/internal/testenv"
	"github.com/gocvx/gocvx/kernel/prebind"
)

// TestPreboundPorts checks that the kernel serves on the sockets that package
// prebind bound before it started, and answers a client that connected to them
// before the kernel served, as a client of a starting kernel does.
func TestPreboundPorts(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("prebind binds early on Linux only")
	}
	conn := testConnection(t)
	file := testenv.ConnectionFile(t, conn)
	prebind.Listen(file)
	t.Cleanup(prebind.CloseUntaken)
	// Connect once, before the kernel serves: the socket bound early accepts.
	c, err := net.DialTimeout("tcp", (&testKernel{}).addr(conn.ShellPort), 5*time.Second)
	if err != nil {
		t.Fatalf("connecting before the kernel serves: %v", err)
	}
	defer c.Close()
	tk := startKernel(t, conn, false)
	p := &rawPeer{conn: c, r: bufio.NewReader(c)}
	p.handshake(t, "DEALER")
	key := []byte(conn.Key)
	frames, id := newRequest(key, "kernel_info_request", "{}")
	p.sendFrames(t, frames)
	if m := p.nextMessage(t, key); m.Header.MsgType != "kernel_info_reply" || m.Parent == nil || m.Parent.MsgID != id {
		t.Fatalf("got %s, want the kernel_info_reply to %s", m.Header.MsgType, id)
	}
	assertAnswers(t, tk)
	for _, port := range []int{conn.IOPubPort, conn.StdinPort, conn.ControlPort, conn.HBPort} {
		if _, ok := prebind.Take(tk.addr(port)); ok {
			t.Errorf("port %d: the kernel did not take the socket bound early", port)
		}
	}
}
