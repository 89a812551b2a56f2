package kernel

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// rawPeer is a ZeroMQ peer written byte by byte (ZMTP 3.0, NULL mechanism), so that
// tests can send what no ZeroMQ library sends: oversized frame headers, stalled
// handshakes, truncated frames.
type rawPeer struct {
	conn     net.Conn
	r        *bufio.Reader
	identity string
}

// zmtpGreeting returns the 64-byte ZMTP 3.0 greeting of a NULL client.
func zmtpGreeting() []byte {
	g := make([]byte, 64)
	g[0], g[9] = 0xff, 0x7f
	g[10], g[11] = 3, 0
	copy(g[12:32], "NULL")
	return g
}

// zmtpCommand returns a command frame with the given name and properties.
func zmtpCommand(name string, props ...string) []byte {
	body := []byte{byte(len(name))}
	body = append(body, name...)
	for i := 0; i+1 < len(props); i += 2 {
		body = append(body, byte(len(props[i])))
		body = append(body, props[i]...)
		body = binary.BigEndian.AppendUint32(body, uint32(len(props[i+1])))
		body = append(body, props[i+1]...)
	}
	return zmtpFrame(0x04, body)
}

// zmtpFrame returns a frame with the given flags (0x01 more, 0x04 command); the long
// flag is set when needed.
func zmtpFrame(flags byte, body []byte) []byte {
	if len(body) > 255 {
		b := []byte{flags | 0x02}
		b = binary.BigEndian.AppendUint64(b, uint64(len(body)))
		return append(b, body...)
	}
	return append([]byte{flags, byte(len(body))}, body...)
}

// zmtpMessage returns the frames of a multipart message.
func zmtpMessage(frames [][]byte) []byte {
	var b []byte
	for i, f := range frames {
		var flags byte
		if i < len(frames)-1 {
			flags = 0x01
		}
		b = append(b, zmtpFrame(flags, f)...)
	}
	return b
}

// dialRaw connects to a kernel socket and completes the handshake as a socketType
// peer (DEALER for shell and control, SUB for iopub, REQ for heartbeat).
func dialRaw(t *testing.T, addr, socketType string) *rawPeer {
	t.Helper()
	return dialRawID(t, addr, socketType, "")
}

// dialRawID is dialRaw with a routing identity (jupyter_client gives its shell and
// stdin sockets the same one, so that input_request reaches the right client).
func dialRawID(t *testing.T, addr, socketType, identity string) *rawPeer {
	t.Helper()
	c := dial(t, "tcp", addr)
	p := &rawPeer{conn: c, r: bufio.NewReader(c), identity: identity}
	p.handshake(t, socketType)
	return p
}

// handshake sends the greeting and READY, and reads the kernel's.
func (p *rawPeer) handshake(t *testing.T, socketType string) {
	t.Helper()
	c := p.conn
	c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(zmtpGreeting()); err != nil {
		t.Fatal(err)
	}
	g := make([]byte, 64)
	if _, err := io.ReadFull(p.r, g); err != nil {
		t.Fatalf("reading the kernel's greeting: %v", err)
	}
	if _, err := c.Write(zmtpCommand("READY", "Socket-Type", socketType, "Identity", p.identity)); err != nil {
		t.Fatal(err)
	}
	flags, body, err := p.readFrame()
	if err != nil || flags&0x04 == 0 || len(body) < 6 || string(body[1:6]) != "READY" {
		t.Fatalf("kernel's READY: flags %#x body %q err %v", flags, body, err)
	}
}

// readFrame reads one frame.
func (p *rawPeer) readFrame() (flags byte, body []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(p.r, h[:]); err != nil {
		return 0, nil, err
	}
	flags = h[0]
	size := uint64(h[1])
	if flags&0x02 != 0 {
		var l [8]byte
		l[0] = h[1]
		if _, err := io.ReadFull(p.r, l[1:]); err != nil {
			return 0, nil, err
		}
		size = binary.BigEndian.Uint64(l[:])
	}
	if size > 1<<30 {
		return 0, nil, fmt.Errorf("frame of %d bytes", size)
	}
	body = make([]byte, size)
	_, err = io.ReadFull(p.r, body)
	return flags, body, err
}

// readMessage reads one multipart message within d.
func (p *rawPeer) readMessage(d time.Duration) ([][]byte, error) {
	p.conn.SetReadDeadline(time.Now().Add(d))
	defer p.conn.SetReadDeadline(time.Time{})
	var frames [][]byte
	for {
		flags, body, err := p.readFrame()
		if err != nil {
			return frames, err
		}
		if flags&0x04 != 0 {
			continue // a command (e.g. PING): not part of a message
		}
		frames = append(frames, body)
		if flags&0x01 == 0 {
			return frames, nil
		}
	}
}

// send writes raw bytes.
func (p *rawPeer) send(b []byte) error {
	p.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := p.conn.Write(b)
	return err
}

// closed reports whether the kernel closed the connection within d.
func (p *rawPeer) closed(d time.Duration) bool {
	p.conn.SetReadDeadline(time.Now().Add(d))
	defer p.conn.SetReadDeadline(time.Time{})
	for {
		_, err := p.r.ReadByte()
		if err == nil {
			continue
		}
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}
}

// dial connects to addr on network ("tcp", "unix"), retrying for a while (the kernel
// binds its sockets after Serve starts); the connection is closed at cleanup.
func dial(t *testing.T, network, addr string) net.Conn {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout(network, addr, 5*time.Second)
		if err == nil {
			t.Cleanup(func() { c.Close() })
			return c
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
