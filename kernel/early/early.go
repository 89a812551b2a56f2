// Package early answers kernel_info_request while the rest of the program is still
// initializing, on the shell and iopub ports that package prebind bound, and hands
// its sockets and established connections to the kernel when the kernel binds.
//
// A front end connects to a kernel a few milliseconds after starting it, sends
// kernel_info_request and waits for its reply and for a message on iopub; only
// then is the kernel "ready" for it. The gocvx command's packages take about 10 ms
// to initialize before main (the interpreter's symbol tables, the plotting and
// Markdown packages…), and the kernel's sockets came up only at the end of that.
// This package imports nothing heavier than encoding/json and crypto/hmac (through
// package wire; not net, whose initialization comes late), so that the command
// can start it from an init function a few milliseconds after the process starts
// (cmd/gocvx/internal/listenfirst/answer). It accepts on the listening
// descriptors with accept4, waiting through the runtime's poller (os.File), and
// speaks ZMTP with package zmtp, as the kernel does.
//
// It answers kernel_info_request (HMAC-verified with the connection file's key)
// with the content that the kernel gives later (KernelInfo), between a busy and an
// idle status on iopub for the subscribers it accepted. Every other request is
// kept, in order of arrival, for the kernel, and so is every request after it,
// kernel_info too: the kernel handles them in that order, as if they had arrived
// once it served. Stop ends this phase: the kernel takes the
// listening sockets, the connections past or in their handshake (with their
// identity, subscriptions and the bytes read but not yet consumed) and the kept
// requests, and goes on with them (kernel.Kernel.Serve).
//
// What it cannot do it leaves to the kernel: it starts only if prebind bound the
// shell port and the connection file has a key with signature_scheme
// hmac-sha256. A peer that breaks the limits of package zmtp, does not complete the
// handshake within zmtp.HandshakeTimeout or accepts no output for
// zmtp.WriteStallTimeout is disconnected (without a log: the kernel's log does not
// exist yet).
package early

import (
	"encoding/json"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/gocvx/gocvx/kernel/internal/wire"
	"github.com/gocvx/gocvx/kernel/internal/zmtp"
	"github.com/gocvx/gocvx/kernel/prebind"
)

var (
	runningMu sync.Mutex
	running   *server // the early server, until Stop
)

// Bounds of the handshake and of a peer that stops reading (tests shorten them).
var (
	handshakeTimeout  = zmtp.HandshakeTimeout
	writeStallTimeout = zmtp.WriteStallTimeout
)

// server is the early server of one connection file.
type server struct {
	key     []byte
	session string
	info    []byte // the content of kernel_info_reply

	// busy is held for reading while a goroutine changes a connection's
	// deadlines or answers a request, and for writing by Stop, which sets stopped:
	// Stop waits for an answer in progress, and nothing extends a deadline that
	// Stop has set in the past.
	busy    sync.RWMutex
	stopped bool

	mu       sync.Mutex // guards the sockets' connections, pending, answered, topics
	sockets  []*socket
	iopub    *socket
	pending  [][][]byte // shell requests kept for the kernel, the sender's identity first
	answered bool       // a kernel_info_request was answered
	wg       sync.WaitGroup
}

// socket is a listening socket that the early server accepts on.
type socket struct {
	addr, typ string
	f         *os.File // the listening socket, non-blocking (pollable)
	conns     []*Conn
}

// Conn is a connection accepted by the early server.
type Conn struct {
	// File is the connection's socket (non-blocking); its deadlines are set in
	// the past when it is handed over.
	File *os.File
	// Reader holds the bytes read from the peer and not consumed, and the
	// handshake's progress.
	Reader *zmtp.Reader
	// Handshaken reports whether the handshake is complete; Identity is then the
	// peer's identity (ROUTER: a random one if the peer has none).
	Handshaken bool
	Identity   []byte
	topics     map[string]bool // PUB: its subscriptions
	wmu        sync.Mutex      // one write at a time
	broken     bool            // closed: not handed over
}

// Topics returns the subscriptions of a connection to iopub, sorted.
func (c *Conn) Topics() []string {
	var t []string
	for k := range c.topics {
		t = append(t, k)
	}
	sort.Strings(t)
	return t
}

// Start starts the early server of the connection file that package prebind
// read, for a kernel of the given implementation version and banner, if prebind
// bound its shell port and the file has a key; otherwise it does nothing.
func Start(version, banner string) {
	b, ok := prebind.Connection()
	if !ok || b.Key == "" || b.SignatureScheme != "hmac-sha256" || b.Addrs["shell"] == "" {
		return
	}
	info, err := json.Marshal(KernelInfo(version, banner))
	if err != nil {
		return
	}
	s := &server{key: []byte(b.Key), session: wire.NewID(), info: info}
	for _, x := range []struct{ name, typ string }{{"shell", "ROUTER"}, {"iopub", "PUB"}} {
		addr := b.Addrs[x.name]
		fd, ok := prebind.Take(addr)
		if !ok {
			continue
		}
		sock := &socket{addr: addr, typ: x.typ, f: os.NewFile(uintptr(fd), "tcp:"+addr)}
		s.sockets = append(s.sockets, sock)
		if x.typ == "PUB" {
			s.iopub = sock
		}
		s.wg.Add(1)
		go s.acceptLoop(sock)
	}
	runningMu.Lock()
	running = s
	runningMu.Unlock()
}

// acceptLoop accepts connections on sock until Stop.
func (s *server) acceptLoop(sock *socket) {
	defer s.wg.Done()
	rc, err := sock.f.SyscallConn()
	if err != nil {
		return
	}
	for {
		var nfd int
		var aerr error
		err := rc.Read(func(fd uintptr) bool {
			nfd, aerr = accept(int(fd))
			return aerr != syscall.EAGAIN
		})
		switch {
		case err != nil:
			return // Stop set the deadline
		case aerr == syscall.EINTR || aerr == syscall.ECONNABORTED:
			continue
		case aerr != nil:
			time.Sleep(10 * time.Millisecond) // too many open files: do not spin
			continue
		}
		c := &Conn{File: os.NewFile(uintptr(nfd), "tcp:"+sock.addr), topics: map[string]bool{},
			Reader: &zmtp.Reader{MaxMessage: zmtp.DefaultMaxMessage, MaxFrames: zmtp.MaxFrames}}
		c.Reader.R = c.File
		s.mu.Lock()
		sock.conns = append(sock.conns, c)
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(sock, c)
	}
}

// setDeadline sets c's deadline unless Stop has begun, and reports whether it did.
func (s *server) setDeadline(c *Conn, t time.Time) bool {
	s.busy.RLock()
	defer s.busy.RUnlock()
	if s.stopped {
		return false
	}
	c.File.SetDeadline(t)
	return true
}

func (s *server) isStopped() bool {
	s.busy.RLock()
	defer s.busy.RUnlock()
	return s.stopped
}

// serve performs the handshake on c and reads what the peer sends until Stop or
// the end of the connection.
func (s *server) serve(sock *socket, c *Conn) {
	defer s.wg.Done()
	if !s.setDeadline(c, time.Now().Add(handshakeTimeout)) {
		return
	}
	meta, err := zmtp.Handshake(c.File, c.Reader, sock.typ)
	if err != nil {
		if !s.isStopped() {
			s.drop(c)
		}
		return // stopped: the kernel resumes the handshake
	}
	c.Identity = meta.Identity
	if sock.typ == "ROUTER" && len(c.Identity) == 0 {
		c.Identity = []byte(wire.NewID()) // replies must reach this one peer
	}
	c.Handshaken = true
	if !s.setDeadline(c, time.Time{}) {
		return
	}
	for {
		m, err := c.Reader.Next()
		if err != nil {
			if !s.isStopped() {
				s.drop(c)
			}
			return
		}
		s.busy.RLock()
		s.received(sock, c, m)
		s.busy.RUnlock()
	}
}

// received acts on what a peer sent; s.busy is held for reading.
func (s *server) received(sock *socket, c *Conn, m zmtp.Msg) {
	switch {
	case m.Command == "PING":
		if pong, ok := zmtp.Pong(m.Body); ok && !s.stopped {
			s.write(c, pong)
		}
	case sock.typ == "PUB":
		if topic, on, ok := m.Subscription(); ok {
			s.subscribe(c, topic, on)
		}
	case m.Command != "":
	default:
		frames := append([][]byte{c.Identity}, m.Frames...)
		s.mu.Lock()
		first := len(s.pending) == 0
		s.mu.Unlock()
		if !s.stopped && first {
			if req, err := wire.Decode(frames, s.key); err == nil && req.Header.MsgType == "kernel_info_request" {
				s.answer(c, &req)
				return
			}
		}
		s.mu.Lock()
		s.pending = append(s.pending, frames)
		s.mu.Unlock()
	}
}

func (s *server) subscribe(c *Conn, topic string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		c.topics[topic] = true
	} else {
		delete(c.topics, topic)
	}
}

// answer replies to a kernel_info_request on c, between a busy and an idle status
// on iopub, as the kernel does.
func (s *server) answer(c *Conn, req *wire.Message) {
	s.status(req, "busy")
	reply, err := wire.Encode(wire.Message{Identities: req.Identities, Parent: &req.Header,
		Header: wire.NewHeader("kernel_info_reply", s.session), Content: s.info}, s.key)
	if err == nil {
		s.write(c, wire.AppendMessage(nil, reply[1:]))
	}
	s.status(req, "idle")
	s.mu.Lock()
	s.answered = true
	s.mu.Unlock()
}

// status publishes a status message on iopub, child of req, to the subscribers
// of its topic.
func (s *server) status(req *wire.Message, state string) {
	if s.iopub == nil {
		return
	}
	topic := "kernel." + s.session + ".status"
	frames, err := wire.Encode(wire.Message{Identities: [][]byte{[]byte(topic)}, Parent: &req.Header,
		Header:  wire.NewHeader("status", s.session),
		Content: []byte(`{"execution_state":"` + state + `"}`)}, s.key)
	if err != nil {
		return
	}
	b := wire.AppendMessage(nil, frames)
	var to []*Conn
	s.mu.Lock()
	for _, c := range s.iopub.conns {
		for t := range c.topics {
			if len(t) <= len(topic) && topic[:len(t)] == t {
				to = append(to, c)
				break
			}
		}
	}
	s.mu.Unlock()
	for _, c := range to {
		s.write(c, b)
	}
}

// write writes b, whole messages or commands, to c; a peer that accepts nothing
// for zmtp.WriteStallTimeout, or an error, ends the connection. s.busy is held
// for reading.
func (s *server) write(c *Conn, b []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.broken {
		return
	}
	c.File.SetWriteDeadline(time.Now().Add(writeStallTimeout))
	if _, err := c.File.Write(b); err != nil {
		s.drop(c)
	}
}

// drop closes c, which is then not handed over.
func (s *server) drop(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.broken {
		c.broken = true
		c.File.Close()
	}
}

// State is what the early server hands to the kernel.
type State struct {
	// Session is the session of the messages it sent, which the kernel goes on with.
	Session string
	// Answered reports whether it answered a kernel_info_request.
	Answered bool
	sockets  map[string]*Socket
}

// Socket is a listening socket of the early server and what came in on it.
type Socket struct {
	// Listener is the listening socket.
	Listener *os.File
	// Conns are its connections (past the handshake or in it), in order of accept.
	Conns []*Conn
	// Pending are the requests that the kernel answers (shell), in order of
	// arrival, each the sender's identity and then the message's frames.
	Pending [][][]byte
}

// Stop ends the early server, if one runs, and returns its state; nil if none
// runs. It waits for a reply in progress.
func Stop() *State {
	runningMu.Lock()
	s := running
	running = nil
	runningMu.Unlock()
	if s == nil {
		return nil
	}
	past := time.Unix(1, 0)
	s.busy.Lock()
	s.stopped = true
	s.mu.Lock()
	for _, sock := range s.sockets {
		sock.f.SetReadDeadline(past)
		for _, c := range sock.conns {
			c.File.SetDeadline(past)
		}
	}
	s.mu.Unlock()
	s.busy.Unlock()
	s.wg.Wait()

	st := &State{Session: s.session, Answered: s.answered, sockets: map[string]*Socket{}}
	for _, sock := range s.sockets {
		h := &Socket{Listener: sock.f}
		for _, c := range sock.conns {
			if !c.broken {
				h.Conns = append(h.Conns, c)
			}
		}
		if sock.typ == "ROUTER" {
			h.Pending = s.pending
		}
		st.sockets[sock.addr] = h
	}
	return st
}

// Take returns the socket of st listening at addr (IP:port), which the caller
// then owns, and reports whether there was one.
func (st *State) Take(addr string) (*Socket, bool) {
	if st == nil {
		return nil, false
	}
	h, ok := st.sockets[addr]
	delete(st.sockets, addr)
	return h, ok
}

// CloseUntaken closes the sockets and connections that nobody took.
func (st *State) CloseUntaken() {
	if st == nil {
		return
	}
	for addr, h := range st.sockets {
		for _, c := range h.Conns {
			c.File.Close()
		}
		h.Listener.Close()
		delete(st.sockets, addr)
	}
}
