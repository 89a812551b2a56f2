package kernel

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/transport"

	"github.com/gocvx/gocvx/kernel/internal/wire"
	"github.com/gocvx/gocvx/kernel/prebind"
)

// The kernel's sockets listen through guarded listeners (listenGuarded: the
// sockets of socket.go directly, zmq4's REP socket of the heartbeat through the
// transports "gocvx-tcp" and "gocvx-ipc"), which admit a connection only once its
// peer has sent a ZMTP 3 signature and wrap it in a guardedConn. zmq4 v0.17.0 has no bound of its own on
// what a peer may send: it allocates a frame's body from the length in the frame's
// header (a 9-byte header claiming 2⁵⁰ bytes made it panic and end the process),
// performs the ZMTP handshake in its accept loop without a deadline (one silent
// connection held up every later one on that socket, and jupyter_client declared the
// kernel dead), never closes a connection whose handshake failed, and blocks a
// socket's writes on a peer that stops reading. The guard reads the ZMTP framing as
// the bytes go by and disconnects such peers before zmq4 acts on them.

// DefaultMaxMessageSize is the largest message, in bytes summed over its frames, that
// a kernel accepts when Kernel.MaxMessageSize is zero: far more than any cell's source
// or any request a front end sends, small enough that a few of them cannot exhaust
// memory.
const DefaultMaxMessageSize = 64 << 20

// maxFrames bounds the frames of one message: a Jupyter request has its routing
// identities, the delimiter, the signature, four JSON parts and a few buffers.
const maxFrames = 1024

const (
	// handshakeTimeout is how long a new connection may take to complete the ZMTP
	// greeting and handshake; libzmq completes it in well under a millisecond locally.
	handshakeTimeout = 10 * time.Second
	// writeStallTimeout is how long a peer may accept no bytes at all before it is
	// disconnected, so that one stuck subscriber cannot stall iopub for every client.
	// A live libzmq peer drains its socket from its own I/O thread whatever the
	// application does; it reconnects by itself after a disconnect.
	writeStallTimeout = 30 * time.Second
)

// guard is the configuration of the transports for one socket, carried in the
// context the socket is created with.
type guard struct {
	name       string // the socket's name, for the log
	maxMessage int64
	log        *log.Logger
	ipcMode    os.FileMode // mode of an ipc socket file
	handshake  time.Duration
	writeStall time.Duration
}

type guardKey struct{}

func init() {
	for name, network := range map[string]string{"gocvx-tcp": "tcp", "gocvx-ipc": "unix"} {
		if err := zmq4.RegisterTransport(name, guardedTransport{transport.New(network), network}); err != nil {
			panic(err)
		}
	}
}

// guardedTransport listens like zmq4's own tcp and ipc transports, but wraps the
// connections it accepts in a guardedConn.
type guardedTransport struct {
	transport.Transport
	network string
}

func (t guardedTransport) Listen(ctx context.Context, addr string) (net.Listener, error) {
	g, _ := ctx.Value(guardKey{}).(*guard)
	if g == nil {
		return nil, errors.New("kernel: guarded transport used without its configuration")
	}
	return listenGuarded(t.network, addr, g)
}

// listenGuarded listens on addr (a host:port for "tcp", a path for "unix") and
// admits connections as guardedTransport does.
func listenGuarded(network, addr string, g *guard) (*guardedListener, error) {
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
	gl := &guardedListener{Listener: l, g: g, conns: make(chan net.Conn), done: make(chan struct{})}
	go gl.acceptLoop()
	return gl, nil
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

// maxPending bounds the connections accepted but not yet handed to zmq4 (waiting for
// the peer's ZMTP signature); more are closed at once.
const maxPending = 64

// guardedListener accepts connections in a loop of its own and hands zmq4 only
// those whose peer has sent a ZMTP 3 signature, each wrapped in a guardedConn. zmq4
// performs handshakes one at a time in its accept loop, so a connection that stays
// silent (a port scanner, a browser, a stray netcat) would hold up every other
// connection to the socket, and jupyter_client would declare the kernel dead.
type guardedListener struct {
	net.Listener
	g       *guard
	conns   chan net.Conn // admitted connections, for Accept
	done    chan struct{} // closed by Close
	once    sync.Once
	pending atomic.Int32
}

func (l *guardedListener) acceptLoop() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Do not spin on a persistent error (too many open files).
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if l.pending.Add(1) > maxPending {
			l.pending.Add(-1)
			l.g.log.Printf("%s: more than %d connections waiting for their ZeroMQ greeting; closed %s", l.g.name, maxPending, c.RemoteAddr())
			c.Close()
			continue
		}
		go l.admit(c)
	}
}

// zmtpSignature is the first part of a ZMTP 3 greeting, which a peer sends without
// waiting for anything (libzmq then waits for the kernel's before it goes on).
var zmtpSignature = [10]byte{0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f}

// admit waits for the peer's ZMTP signature and hands the connection to Accept.
func (l *guardedListener) admit(c net.Conn) {
	defer l.pending.Add(-1)
	gc := &guardedConn{Conn: c, g: l.g}
	if sc, ok := c.(syscall.Conn); ok && rawIO {
		gc.raw, _ = sc.SyscallConn()
	}
	gc.framing.MaxMessage = uint64(l.g.maxMessage)
	gc.framing.MaxFrames = maxFrames
	gc.handshake = time.AfterFunc(l.g.handshake, func() {
		if !gc.handshaken() {
			l.g.log.Printf("%s: %s did not complete the ZeroMQ handshake within %v; disconnected",
				l.g.name, c.RemoteAddr(), l.g.handshake)
			c.Close()
		}
	})
	var sig [10]byte
	_, err := io.ReadFull(c, sig[:]) // ends when the timer closes c
	if err != nil || sig[0] != zmtpSignature[0] || sig[9] != zmtpSignature[9] {
		if err == nil {
			l.g.log.Printf("%s: %s does not speak ZeroMQ 3 (it began with %q); disconnected", l.g.name, c.RemoteAddr(), sig[:])
		}
		gc.Close()
		return
	}
	gc.rbuf = sig[:]
	select {
	case l.conns <- gc:
	case <-l.done:
		gc.Close()
	}
}

func (l *guardedListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		// zmq4's accept loop retries at once until its socket's context is done.
		time.Sleep(10 * time.Millisecond)
		return nil, net.ErrClosed
	}
}

func (l *guardedListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// errGuard is returned by a guardedConn that disconnected its peer. It wraps io.EOF so
// that zmq4 marks the connection closed and forgets it.
type errGuard struct{ msg string }

func (e *errGuard) Error() string { return e.msg }
func (e *errGuard) Unwrap() error { return io.EOF }

// Sizes of a guardedConn's buffers. zmq4 reads a frame's flags, length and body
// with a read each and writes a message's frames with two writes each (header and
// body): without buffers an execute request took about 20 read system calls and its
// five replies and statuses about 70 writes, each a TCP segment that woke the peer.
const (
	readBuffer = 16 << 10
	// writeBuffer bounds what a guardedConn holds of a message before it writes it
	// out; a larger message goes out in pieces of about this size.
	writeBuffer = 64 << 10
)

// guardedConn follows the ZMTP 3 framing of what its peer sends and disconnects the
// peer when a message grows past the limit, before zmq4 reads the frame's header
// (and so before it allocates the frame).
//
// It also buffers both ways: reads are served from a buffer filled by one read of
// the socket, and the writes of one message or command (which zmq4 makes frame by
// frame) are held until its last frame and written with one system call.
type guardedConn struct {
	net.Conn
	g         *guard
	handshake *time.Timer
	// raw is the socket's descriptor, read and written with raw system calls
	// (rawio_linux.go); nil where they are not available.
	raw syscall.RawConn

	// rbuf[rpos:] are bytes read from the peer that zmq4 has not read yet (at
	// first, the ZMTP signature that admit read); rerr is the error of the read
	// that filled it, returned once they are read.
	rbuf []byte
	rpos int
	rerr error

	mu         sync.Mutex
	framing    wire.Framing
	accepted   bool  // zmq4 completed the handshake and reads on (see Read)
	disconnect error // set once the peer broke a limit

	wmu   sync.Mutex
	out   wire.Framing // of what zmq4 writes
	wbuf  []byte       // written by zmq4, not yet to the socket
	after []byte       // whole messages waiting for the end of zmq4's command
}

// handshaken reports whether zmq4 took the connection into its socket.
func (c *guardedConn) handshaken() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.accepted
}

func (c *guardedConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if !c.accepted && c.framing.Handshaken() {
		// zmq4's handshake ends with the peer's READY; only a socket that took the
		// connection reads after it. A connection that zmq4 rejected (a socket type
		// that does not match) is never read again, nor closed by zmq4: the
		// handshake timer closes it.
		c.accepted = true
		c.handshake.Stop()
	}
	c.mu.Unlock()
	n, err := c.fill(p)
	c.mu.Lock()
	verr := c.disconnect
	if verr == nil {
		if err := c.framing.Scan(p[:n]); err != nil {
			verr = &errGuard{err.Error()}
			c.disconnect = verr
		}
	}
	c.mu.Unlock()
	if verr != nil {
		c.Conn.Close()
		c.g.log.Printf("%s: %v; disconnected %s", c.g.name, verr, c.RemoteAddr())
		return 0, verr
	}
	return n, err
}

// fill copies into p what the read buffer holds, after one read of the socket
// if it is empty (straight into p if p is at least as large as the buffer).
func (c *guardedConn) fill(p []byte) (int, error) {
	if c.rpos == len(c.rbuf) {
		if c.rerr != nil {
			err := c.rerr
			c.rerr = nil
			return 0, err
		}
		if len(p) >= readBuffer {
			return c.readSocket(p)
		}
		if cap(c.rbuf) < readBuffer {
			c.rbuf = make([]byte, readBuffer)
		}
		n, err := c.readSocket(c.rbuf[:readBuffer])
		c.rbuf, c.rpos, c.rerr = c.rbuf[:n], 0, err
		if n == 0 {
			c.rerr = nil
			return 0, err
		}
	}
	n := copy(p, c.rbuf[c.rpos:])
	c.rpos += n
	return n, nil
}

// Write holds p while zmq4 is inside a message or a command, and writes what it
// holds when it reaches the message's end (or holds writeBuffer bytes).
func (c *guardedConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	n, err := c.write(p)
	if err == nil && len(c.after) > 0 && !c.out.InMessage() {
		_, err = c.writeAll(c.after)
		c.after = nil
	}
	return n, err
}

// writeMessages writes b, whole ZMTP messages that the kernel's sockets framed
// themselves (socket.go), with one system call. If zmq4 is in the middle of a
// command (the PONG it answers a PING with, written header then body), b waits
// for the command's end.
func (c *guardedConn) writeMessages(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.out.InMessage() {
		c.after = append(c.after, b...)
		return nil
	}
	_, err := c.writeAll(b)
	return err
}

func (c *guardedConn) write(p []byte) (int, error) {
	c.out.Scan(p) // no limits: never an error
	if c.out.InMessage() && len(c.wbuf)+len(p) <= writeBuffer {
		c.wbuf = append(c.wbuf, p...)
		return len(p), nil
	}
	if len(c.wbuf) > 0 {
		held := len(c.wbuf)+len(p) <= writeBuffer
		if held {
			c.wbuf = append(c.wbuf, p...)
		}
		_, err := c.writeAll(c.wbuf)
		c.wbuf = c.wbuf[:0]
		switch {
		case err != nil:
			return 0, err
		case held:
			return len(p), nil
		}
	}
	return c.writeAll(p)
}

// readSocket reads from the socket once, waiting for data: with a raw system call
// where it can (rawio_linux.go), else through Conn.
func (c *guardedConn) readSocket(p []byte) (int, error) {
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
		// A timeout would leave part of a frame on the wire and zmq4 would go on
		// using the connection: close it instead.
		c.Conn.Close()
		c.g.log.Printf("%s: %s accepted nothing for %v; disconnected", c.g.name, c.RemoteAddr(), c.g.writeStall)
		return total, &errGuard{"peer stopped reading"}
	}
}

func (c *guardedConn) Close() error {
	c.handshake.Stop()
	return c.Conn.Close()
}
