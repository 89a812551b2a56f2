package kernel

import (
	"bytes"
	"errors"
	"io"
	"log"
	"net"
	"testing"
	"time"

	"github.com/gocvx/gocvx/kernel/internal/zmtp"
)

// recordingConn is the socket under a guardedConn: it records each write and
// serves reads from a script, one piece per read.
type recordingConn struct {
	net.Conn
	writes [][]byte
	reads  [][]byte
	nread  int // reads made
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}

func (c *recordingConn) Read(p []byte) (int, error) {
	c.nread++
	if len(c.reads) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.reads[0])
	if c.reads[0] = c.reads[0][n:]; len(c.reads[0]) == 0 {
		c.reads = c.reads[1:]
	}
	return n, nil
}

func (c *recordingConn) SetWriteDeadline(time.Time) error { return nil }
func (c *recordingConn) Close() error                     { return nil }
func (c *recordingConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }

func newTestConn(rc *recordingConn) *guardedConn {
	g := &guard{name: "test", maxMessage: 1 << 20, log: log.New(io.Discard, "", 0), writeStall: time.Second}
	return &guardedConn{Conn: rc, g: g}
}

// TestHandshakeAndReads checks the server side of the handshake on a guardedConn
// (the greeting and READY in one write), that a zmtp.Reader takes in a whole
// request with one read of the socket, and that an oversized frame's header ends
// the reading before its body is read.
func TestHandshakeAndReads(t *testing.T) {
	msg := zmtpMessage([][]byte{[]byte("<IDS|MSG>"), []byte("sig"), []byte("{}"), []byte("{}"), []byte("{}"), []byte(`{"code":"1"}`)})
	stream := append(append(zmtpGreeting(), zmtpCommand("READY", "Socket-Type", "DEALER", "Identity", "me")...), msg...)
	rc := &recordingConn{reads: [][]byte{stream}}
	c := newTestConn(rc)
	r := &zmtp.Reader{R: c, MaxMessage: uint64(c.g.maxMessage), MaxFrames: maxFrames}
	meta, err := zmtp.Handshake(c, r, routerSocket)
	if err != nil || meta.SocketType != "DEALER" || string(meta.Identity) != "me" {
		t.Fatalf("Handshake = %+v, %v", meta, err)
	}
	want := append(zmtpGreeting(), zmtpCommand("READY", "Socket-Type", "ROUTER")...)
	if len(rc.writes) != 1 || !bytes.Equal(rc.writes[0][:10], want[:10]) || !bytes.Equal(rc.writes[0][64:], want[64:]) {
		t.Fatalf("handshake wrote %q, want the greeting and READY in one write", rc.writes)
	}
	m, err := r.Next()
	if err != nil || len(m.Frames) != 6 || string(m.Frames[5]) != `{"code":"1"}` {
		t.Fatalf("Next = %q, %v", m.Frames, err)
	}
	if rc.nread != 1 {
		t.Errorf("%d reads of the socket for %d bytes, want 1", rc.nread, len(stream))
	}

	over := append(append(zmtpGreeting(), zmtpCommand("READY", "Socket-Type", "DEALER")...),
		zmtpFrame(0, bytes.Repeat([]byte("y"), 2<<20))...)
	rc = &recordingConn{reads: [][]byte{over}}
	c = newTestConn(rc)
	r = &zmtp.Reader{R: c, MaxMessage: uint64(c.g.maxMessage), MaxFrames: maxFrames}
	if _, err := zmtp.Handshake(c, r, routerSocket); err != nil {
		t.Fatal(err)
	}
	var limit *zmtp.LimitError
	if _, err := r.Next(); !errors.As(err, &limit) {
		t.Fatalf("Next: %v, want a LimitError", err)
	}
	if rc.nread != 1 {
		t.Errorf("%d reads of the socket: the oversized frame's body was read", rc.nread)
	}
}
