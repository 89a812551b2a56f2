package kernel

import (
	"errors"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/gocvx/gocvx/kernel/internal/zmtp"
	"github.com/gocvx/gocvx/kernel/prebind"
)

// The kernel's sockets (socket.go) speak ZMTP themselves (package zmtp) on
// guarded connections: what a peer sends is read through a zmtp.Reader that bounds
// a message before it allocates it, a connection that does not complete the
// handshake in time is closed, and a peer that stops reading is disconnected. zmq4
// v0.17.0, which served these sockets before, had none of these bounds (a 9-byte
// frame header claiming 2⁵⁰ bytes made it panic and end the process; one silent
// connection held up every later one on its socket; a peer that stopped reading
// blocked the socket's writes).

// DefaultMaxMessageSize is the largest message, in bytes summed over its frames, that
// a kernel accepts when Kernel.MaxMessageSize is zero: far more than any cell's source
// or any request a front end sends, small enough that a few of them cannot exhaust
// memory.
const DefaultMaxMessageSize = zmtp.DefaultMaxMessage

// Bounds of a message's frames, of the handshake and of a peer that stops reading
// (package zmtp).
const (
	maxFrames         = zmtp.MaxFrames
	handshakeTimeout  = zmtp.HandshakeTimeout
	writeStallTimeout = zmtp.WriteStallTimeout
)

// guard is the configuration of one socket's connections.
type guard struct {
	name       string // the socket's name, for the log
	maxMessage int64
	log        *log.Logger
	ipcMode    os.FileMode // mode of an ipc socket file
	handshake  time.Duration
	writeStall time.Duration
}

// listenGuarded listens on addr (a host:port for "tcp", a path for "unix"), or
// takes the socket that package prebind bound to it while the program started.
func listenGuarded(network, addr string, g *guard) (net.Listener, error) {
	l, err := listen(network, addr)
	if err != nil {
		return nil, err
	}
	if network == "unix" {
		// Only the user may connect to the socket file (net.Listen creates it with
		// the process's umask, which may allow everyone).
		if err := os.Chmod(addr, g.ipcMode); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

// listen listens on addr, or takes the socket that package prebind bound to it
// while the program started.
func listen(network, addr string) (net.Listener, error) {
	if network == "tcp" {
		if fd, ok := prebind.Take(addr); ok {
			f := os.NewFile(uintptr(fd), "tcp:"+addr)
			defer f.Close() // FileListener holds a duplicate
			return net.FileListener(f)
		}
	}
	return net.Listen(network, addr)
}

// maxPending bounds the connections of a socket in the ZMTP handshake; more are
// closed at once.
const maxPending = 64

// writeBuffer bounds the encoding of a message that a socket keeps for reuse.
const writeBuffer = 64 << 10

// guardedConn is a connection of one of the kernel's sockets past accept. Reads
// (by the socket's zmtp.Reader, ReadBuffer bytes at a time) and writes (whole
// messages and commands, each with one system call) go through raw system calls
// where they are available (rawio_linux.go); a peer that accepts no byte of
// output for the write-stall timeout is disconnected.
type guardedConn struct {
	net.Conn
	g *guard
	// raw is the socket's descriptor, read and written with raw system calls
	// (rawio_linux.go); nil where they are not available.
	raw syscall.RawConn
	wmu sync.Mutex // one message at a time
}

func newGuardedConn(c net.Conn, g *guard) *guardedConn {
	gc := &guardedConn{Conn: c, g: g}
	if sc, ok := c.(syscall.Conn); ok && rawIO {
		gc.raw, _ = sc.SyscallConn()
	}
	return gc
}

// Read reads from the socket once, waiting for data: with a raw system call where
// it can (rawio_linux.go), else through Conn.
func (c *guardedConn) Read(p []byte) (int, error) {
	if c.raw == nil {
		return c.Conn.Read(p)
	}
	var n int
	var errno syscall.Errno
	err := c.raw.Read(func(fd uintptr) bool {
		for {
			n, errno = rawRead(fd, p)
			if errno != syscall.EINTR {
				return errno != syscall.EAGAIN
			}
		}
	})
	switch {
	case err != nil:
		return 0, err // closed
	case errno != 0:
		return 0, os.NewSyscallError("read", errno)
	case n == 0 && len(p) > 0:
		return 0, io.EOF
	}
	return n, nil
}

// Write writes p, whole ZMTP messages or commands, as writeMessages does.
func (c *guardedConn) Write(p []byte) (int, error) {
	if err := c.writeMessages(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// writeMessages writes b, whole ZMTP messages or commands, with one system call
// (more if the peer's socket buffer is full).
func (c *guardedConn) writeMessages(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.writeAll(b)
	return err
}

// writeRaw writes to the socket what of p it accepts without waiting, with raw
// system calls (rawio_linux.go), and returns how much that was; writeAll writes
// the rest, if any, through Conn.
func (c *guardedConn) writeRaw(p []byte) int {
	n := 0
	c.raw.Control(func(fd uintptr) {
		for n < len(p) {
			m, errno := rawWrite(fd, p[n:min(len(p), n+rawChunk)])
			switch {
			case errno == syscall.EINTR:
				continue
			case errno != 0 || m <= 0:
				return // EAGAIN or an error that the write through Conn reports
			}
			n += m
		}
	})
	return n
}

// errStalled is returned by a write to a peer that accepted nothing for the
// write-stall timeout; the connection is then closed.
var errStalled = errors.New("peer stopped reading")

// writeAll writes p to the socket, closing the connection if the peer accepts no
// byte of it for the write-stall timeout.
func (c *guardedConn) writeAll(p []byte) (int, error) {
	total := 0
	if c.raw != nil {
		total = c.writeRaw(p)
		if p = p[total:]; len(p) == 0 {
			return total, nil
		}
	}
	for {
		c.Conn.SetWriteDeadline(time.Now().Add(c.g.writeStall))
		n, err := c.Conn.Write(p)
		total += n
		p = p[n:]
		var ne net.Error
		if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
			return total, err
		}
		if n > 0 {
			continue // progress: a new deadline for the rest
		}
		// A timeout would leave part of a frame on the wire: close the connection.
		c.Conn.Close()
		c.g.log.Printf("%s: %s accepted nothing for %v; disconnected", c.g.name, c.RemoteAddr(), c.g.writeStall)
		return total, errStalled
	}
}
