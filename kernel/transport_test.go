package kernel

import (
	"bytes"
	"errors"
	"io"
	"log"
	"net"
	"testing"
	"time"
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
	c := &guardedConn{Conn: rc, g: g, handshake: time.NewTimer(time.Hour)}
	c.framing.MaxMessage = uint64(g.maxMessage)
	c.framing.MaxFrames = maxFrames
	return c
}

// TestWritesAreCoalesced checks that a guardedConn writes each message and command
// with one write of the socket, whatever pieces zmq4 writes it in, and the greeting
// at once; and that a message larger than the write buffer goes out in pieces,
// every byte in order.
func TestWritesAreCoalesced(t *testing.T) {
	rc := &recordingConn{}
	c := newTestConn(rc)
	write := func(parts ...[]byte) {
		t.Helper()
		for _, p := range parts {
			if n, err := c.Write(p); n != len(p) || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
		}
	}
	frame := func(flags byte, body []byte) [][]byte { // header and body, as zmq4 writes them
		f := zmtpFrame(flags, body)
		return [][]byte{f[:len(f)-len(body)], body}
	}
	greeting := zmtpGreeting()
	write(greeting[:10])
	write(greeting[10:])
	if len(rc.writes) != 2 {
		t.Fatalf("greeting: %d writes, want 2 (never held)", len(rc.writes))
	}
	rc.writes = nil
	ready := zmtpCommand("READY", "Socket-Type", "ROUTER")
	write(ready[:2], ready[2:])
	if len(rc.writes) != 1 || !bytes.Equal(rc.writes[0], ready) {
		t.Fatalf("command: writes %q, want one of %q", rc.writes, ready)
	}
	rc.writes = nil
	var want []byte
	for i, body := range []string{"id", "<IDS|MSG>", "sig", "{}", "{}", "{}", `{"a":1}`} {
		flags := byte(0x01)
		if i == 6 {
			flags = 0
		}
		parts := frame(flags, []byte(body))
		write(parts...)
		want = append(want, parts[0]...)
		want = append(want, parts[1]...)
		if i < 6 && len(rc.writes) != 0 {
			t.Fatalf("frame %d: written before the message's end", i)
		}
	}
	if len(rc.writes) != 1 || !bytes.Equal(rc.writes[0], want) {
		t.Fatalf("message: %d writes, want one of %d bytes", len(rc.writes), len(want))
	}
	rc.writes = nil
	big := bytes.Repeat([]byte("x"), 3*writeBuffer)
	want = nil
	for _, parts := range [][][]byte{frame(0x01, []byte("id")), frame(0x01, big), frame(0, []byte("end"))} {
		write(parts...)
		want = append(want, parts[0]...)
		want = append(want, parts[1]...)
	}
	got := bytes.Join(rc.writes, nil)
	if !bytes.Equal(got, want) {
		t.Fatalf("large message: wrote %d bytes, want %d in order", len(got), len(want))
	}
	for _, w := range rc.writes {
		if len(w) > writeBuffer && !bytes.Equal(w, big) {
			t.Fatalf("a write of %d bytes held more than the buffer", len(w))
		}
	}
}

// TestReadsAreBuffered checks that a guardedConn reads the socket in large reads
// and serves zmq4's small ones from its buffer, scanning only what it hands out:
// an oversized frame header still disconnects the peer before zmq4 reads its body.
func TestReadsAreBuffered(t *testing.T) {
	msg := zmtpMessage([][]byte{[]byte("<IDS|MSG>"), []byte("sig"), []byte("{}"), []byte("{}"), []byte("{}"), []byte(`{"code":"1"}`)})
	stream := append(append(zmtpGreeting(), zmtpCommand("READY", "Socket-Type", "DEALER")...), msg...)
	rc := &recordingConn{reads: [][]byte{stream}}
	c := newTestConn(rc)
	var got []byte
	for len(got) < len(stream) {
		p := make([]byte, 2) // zmq4 reads a frame's header with a read of its own
		n, err := c.Read(p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p[:n]...)
	}
	if !bytes.Equal(got, stream) {
		t.Fatal("bytes read differ from the stream")
	}
	if rc.nread != 1 {
		t.Errorf("%d reads of the socket for %d bytes, want 1", rc.nread, len(stream))
	}
	if c.framing.Messages() != 1 {
		t.Errorf("framing saw %d messages, want 1", c.framing.Messages())
	}

	over := append(append(zmtpGreeting(), zmtpCommand("READY", "Socket-Type", "DEALER")...),
		zmtpFrame(0, bytes.Repeat([]byte("y"), 2<<20))...)
	rc = &recordingConn{reads: [][]byte{over}}
	c = newTestConn(rc)
	read := 0
	for {
		p := make([]byte, 9)
		n, err := c.Read(p)
		read += n
		if err != nil {
			var g *errGuard
			if !errors.As(err, &g) {
				t.Fatalf("error %v, want the guard's", err)
			}
			break
		}
	}
	if hdr := len(over) - 2<<20; read >= hdr {
		t.Fatalf("zmq4 was handed %d bytes, the oversized frame's header included (it ends at %d)", read, hdr)
	}
}
