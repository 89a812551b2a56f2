package kernel

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/gocvx/gocvx/kernel/early"
	"github.com/gocvx/gocvx/kernel/internal/wire"
	"github.com/gocvx/gocvx/kernel/internal/zmtp"
)

// Socket types of the kernel's sockets, as ZMTP names them.
const (
	routerSocket = "ROUTER"
	pubSocket    = "PUB"
	repSocket    = "REP"
)

// zsocket is one of the kernel's ROUTER sockets (shell, control, stdin), its PUB
// socket (iopub) or its REP socket (heartbeat). It speaks ZMTP itself (package
// zmtp) on the guarded connections of transport.go: the handshake, the reading of
// what peers send, and its writes:
//
//   - ROUTER and REP: send writes the message to its peer on the caller's
//     goroutine, with one system call.
//   - PUB: publish appends the message to the pending bytes of each subscriber and
//     wakes the subscriber's writer, which writes everything pending with one system
//     call: the statuses and results of a request, published while the executor
//     runs, go out together. publish never blocks on a subscriber, and a subscriber
//     that stops reading holds up nobody else.
//
// A REP socket is served as a ROUTER whose messages keep their envelope (the
// frames up to the empty delimiter): the heartbeat echoes them whole.
type zsocket struct {
	name string
	typ  string // routerSocket, pubSocket or repSocket
	g    *guard
	l    net.Listener
	in   chan [][]byte // ROUTER, REP: received messages, the sender's identity first

	queued [][][]byte // received before the socket was created (package early); guarded by mu

	mu      sync.Mutex
	conns   map[*guardedConn]bool // open connections, in the handshake or not
	pending int                   // connections in the handshake
	peers   []*peer               // connections past the handshake
	added   chan struct{}         // closed and replaced when a peer is added
	closed  bool
	backlog int           // maxBacklog but in tests
	done    chan struct{} // closed by close
	wg      sync.WaitGroup
	scratch []byte // send's encoding of a message; guarded by sendMu
	sendMu  sync.Mutex
}

// peer is a connection of a zsocket past the ZMTP handshake.
type peer struct {
	c  *guardedConn
	id []byte // its identity (ROUTER, REP)

	// PUB: guarded by the socket's mu.
	topics  map[string]bool // its subscriptions
	out     []byte          // written by publish, not yet by the writer
	spare   []byte          // the writer's last buffer, for reuse
	dropped bool            // a message was dropped since the last write
	wake    chan struct{}   // the writer has something to write
	gone    chan struct{}   // closed when the peer is removed
}

// maxBacklog bounds what a PUB socket holds for one subscriber that does not read
// it fast enough; messages beyond are dropped (as libzmq drops them at its high
// water mark). A subscriber that reads nothing at all is disconnected after the
// write-stall timeout.
const maxBacklog = 256 << 20

// listenSocket creates a socket of type typ listening at network, addr: the one
// that the early server (package early, state st) listened on, with its
// connections and requests, or a new one.
func listenSocket(name, typ, network, addr string, g *guard, st *early.State) (*zsocket, error) {
	if h, ok := st.Take(addr); ok && network == "tcp" {
		return adoptSocket(name, typ, h, g)
	}
	l, err := listenGuarded(network, addr, g)
	if err != nil {
		return nil, err
	}
	return newSocket(name, typ, l, g), nil
}

// newSocket serves the connections that l accepts.
func newSocket(name, typ string, l net.Listener, g *guard) *zsocket {
	s := &zsocket{name: name, typ: typ, g: g, l: l, conns: map[*guardedConn]bool{},
		added: make(chan struct{}), backlog: maxBacklog, done: make(chan struct{})}
	if typ != pubSocket {
		s.in = make(chan [][]byte, 16)
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s
}

// adoptSocket goes on with a socket of the early server: its listening socket, its
// connections (in the handshake or past it: with their identity, subscriptions
// and unread bytes) and the requests it kept, which Recv returns first.
func adoptSocket(name, typ string, h *early.Socket, g *guard) (*zsocket, error) {
	l, err := net.FileListener(h.Listener)
	h.Listener.Close() // l holds a duplicate
	if err != nil {
		for _, c := range h.Conns {
			c.File.Close()
		}
		return nil, err
	}
	s := newSocket(name, typ, l, g)
	s.mu.Lock()
	s.queued = h.Pending
	s.mu.Unlock()
	for _, ec := range h.Conns {
		nc, err := net.FileConn(ec.File)
		ec.File.Close()
		if err != nil {
			g.log.Printf("%s: taking a connection of the early server: %v", name, err)
			continue
		}
		c := newGuardedConn(nc, g)
		r := ec.Reader
		r.R, r.MaxMessage = c, uint64(g.maxMessage)
		s.mu.Lock()
		s.conns[c] = true
		s.wg.Add(1)
		if !ec.Handshaken {
			s.pending++
		}
		s.mu.Unlock()
		if !ec.Handshaken {
			go s.serve(c, r)
			continue
		}
		p := s.addPeer(c, ec.Identity, ec.Topics())
		go func() {
			defer s.wg.Done()
			defer s.forget(c)
			s.read(p, r)
		}()
	}
	return s, nil
}

func (s *zsocket) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Do not spin on a persistent error (too many open files).
			time.Sleep(10 * time.Millisecond)
			continue
		}
		gc := newGuardedConn(c, s.g)
		s.mu.Lock()
		switch {
		case s.closed:
			s.mu.Unlock()
			gc.Close()
			return
		case s.pending >= maxPending:
			s.mu.Unlock()
			s.g.log.Printf("%s: more than %d connections in the ZeroMQ handshake; closed %s", s.name, maxPending, c.RemoteAddr())
			gc.Close()
			continue
		}
		s.conns[gc] = true
		s.pending++
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(gc, s.reader(gc))
	}
}

// reader returns a reader of what the peer of c sends, within the socket's bounds.
func (s *zsocket) reader(c *guardedConn) *zmtp.Reader {
	return &zmtp.Reader{R: c, MaxMessage: uint64(s.g.maxMessage), MaxFrames: maxFrames}
}

// serve performs the handshake on c (or resumes the one that r began), within the
// handshake timeout, and then reads what the peer sends until the connection ends.
func (s *zsocket) serve(c *guardedConn, r *zmtp.Reader) {
	defer s.wg.Done()
	defer s.forget(c)
	var mu sync.Mutex
	handshaken, timedOut := false, false
	timer := time.AfterFunc(s.g.handshake, func() {
		mu.Lock()
		defer mu.Unlock()
		if !handshaken {
			timedOut = true
			c.Close()
		}
	})
	meta, err := zmtp.Handshake(c, r, s.typ)
	timer.Stop()
	mu.Lock()
	handshaken = true
	late := timedOut
	mu.Unlock()
	s.mu.Lock()
	s.pending--
	s.mu.Unlock()
	switch {
	case late:
		s.g.log.Printf("%s: %s did not complete the ZeroMQ handshake within %v; disconnected", s.name, c.RemoteAddr(), s.g.handshake)
		return
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return // the peer went away (a client that closes its sockets at once)
	case err != nil:
		s.g.log.Printf("%s: ZeroMQ handshake with %s: %v; disconnected", s.name, c.RemoteAddr(), err)
		return
	}
	s.read(s.addPeer(c, meta.Identity, nil), r)
}

// forget closes c and forgets it.
func (s *zsocket) forget(c *guardedConn) {
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// addPeer takes the connection c, past its handshake, into the socket as a peer
// of identity id (ROUTER, REP) and subscriptions topics (PUB).
func (s *zsocket) addPeer(c *guardedConn, id []byte, topics []string) *peer {
	p := &peer{c: c, id: id}
	if s.typ != pubSocket && len(p.id) == 0 {
		// Replies must reach the one client that sent the request.
		p.id = []byte(newID())
	}
	if s.typ == pubSocket {
		p.topics, p.wake, p.gone = map[string]bool{}, make(chan struct{}, 1), make(chan struct{})
		for _, t := range topics {
			p.topics[t] = true
		}
		s.wg.Add(1)
		go s.writeLoop(p)
	}
	s.add(p)
	return p
}

// read reads from r what the peer p sends until the connection ends: for a
// ROUTER or REP, messages for Recv; for a PUB, subscriptions. It answers PING
// commands, and removes p at the end.
func (s *zsocket) read(p *peer, r *zmtp.Reader) {
	defer s.remove(p)
	c := p.c
	for {
		m, err := r.Next()
		if err != nil {
			var limit *zmtp.LimitError
			if errors.As(err, &limit) || errors.Is(err, zmtp.ErrFraming) {
				s.g.log.Printf("%s: %v; disconnected %s", s.name, err, c.RemoteAddr())
			}
			return
		}
		switch {
		case m.Command == "PING":
			if pong, ok := zmtp.Pong(m.Body); ok && c.writeMessages(pong) != nil {
				return
			}
		case s.typ == pubSocket:
			s.subscribe(p, m)
		case m.Command != "":
			// Other commands (a late READY, an ERROR) have nothing to act on.
		default:
			select {
			case s.in <- append([][]byte{p.id}, m.Frames...):
			case <-s.done:
				return
			}
		}
	}
}

// subscribe applies a SUB peer's subscription or unsubscription (zmtp.Msg's
// Subscription); other messages are ignored.
func (s *zsocket) subscribe(p *peer, m zmtp.Msg) {
	if topic, on, ok := m.Subscription(); ok {
		s.setTopic(p, topic, on)
	}
}

// setTopic adds or removes one of a PUB peer's subscriptions.
func (s *zsocket) setTopic(p *peer, topic string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		p.topics[topic] = true
	} else {
		delete(p.topics, topic)
	}
}

// add takes a peer that completed its handshake into the socket.
func (s *zsocket) add(p *peer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peers = append(s.peers, p)
	close(s.added)
	s.added = make(chan struct{})
}

// remove forgets a peer whose connection ended.
func (s *zsocket) remove(p *peer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, q := range s.peers {
		if q == p {
			s.peers = append(s.peers[:i], s.peers[i+1:]...)
			break
		}
	}
	if p.gone != nil {
		close(p.gone)
		p.out, p.spare = nil, nil
	}
}

// Recv returns the next message a ROUTER or REP socket received, its sender's identity
// first, or net.ErrClosed once the socket is closed.
func (s *zsocket) Recv() ([][]byte, error) {
	s.mu.Lock()
	if len(s.queued) > 0 {
		m := s.queued[0]
		s.queued = s.queued[1:]
		s.mu.Unlock()
		return m, nil
	}
	s.mu.Unlock()
	select {
	case m := <-s.in:
		return m, nil
	case <-s.done:
		return nil, net.ErrClosed
	}
}

// sendWait bounds how long send waits for a first peer of a socket that has none.
const sendWait = 10 * time.Second

// send writes a message on a ROUTER or REP socket to the peers whose identity is frames[0]
// (none: the message is dropped, as a ROUTER drops what it cannot route). While
// the socket has no peer at all, it waits up to sendWait for one (as zmq4's ROUTER
// did): a client that has just connected may have completed its handshake before
// the kernel has (the stdin of a client that sent a request at once).
func (s *zsocket) send(frames [][]byte) error {
	if len(frames) == 0 {
		return nil
	}
	var to []*peer
	var timeout <-chan time.Time
	for {
		s.mu.Lock()
		for _, p := range s.peers {
			if bytes.Equal(p.id, frames[0]) {
				to = append(to, p)
			}
		}
		none, added := len(s.peers) == 0, s.added
		s.mu.Unlock()
		if !none {
			break
		}
		if timeout == nil {
			timeout = time.After(sendWait)
		}
		select {
		case <-added:
			continue
		case <-timeout:
		case <-s.done:
		}
		break
	}
	if len(to) == 0 {
		return nil
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	s.scratch = wire.AppendMessage(s.scratch[:0], frames[1:])
	var first error
	for _, p := range to {
		if err := p.c.writeMessages(s.scratch); err != nil && first == nil {
			first = err
		}
	}
	if cap(s.scratch) > writeBuffer {
		s.scratch = nil
	}
	return first
}

// publish queues a message on a PUB socket for every subscriber to its topic (a
// prefix of its first frame) and wakes their writers.
func (s *zsocket) publish(frames [][]byte) {
	if len(frames) == 0 {
		return
	}
	topic := frames[0]
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.peers {
		if !p.subscribed(topic) {
			continue
		}
		if len(p.out) > 0 && len(p.out) >= s.backlog {
			if !p.dropped {
				s.g.log.Printf("%s: %s reads too slowly; dropping messages", s.name, p.c.RemoteAddr())
			}
			p.dropped = true
			continue
		}
		p.out = wire.AppendMessage(p.out, frames)
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// subscribed reports whether one of p's subscriptions is a prefix of topic; the
// socket's mu is held.
func (p *peer) subscribed(topic []byte) bool {
	for t := range p.topics {
		if strings.HasPrefix(string(topic), t) {
			return true
		}
	}
	return false
}

// writeLoop writes what is published for a PUB peer until the peer is removed.
func (s *zsocket) writeLoop(p *peer) {
	defer s.wg.Done()
	for {
		select {
		case <-p.wake:
		case <-p.gone:
			return
		}
		if err := s.flush(p); err != nil {
			p.c.Close() // serve removes the peer
			return
		}
	}
}

// flush writes all that is pending for a PUB peer with one write.
func (s *zsocket) flush(p *peer) error {
	s.mu.Lock()
	out := p.out
	p.out, p.spare, p.dropped = p.spare[:0], nil, false
	s.mu.Unlock()
	if len(out) == 0 {
		return nil
	}
	if err := p.c.writeMessages(out); err != nil {
		return err
	}
	s.mu.Lock()
	if cap(out) <= writeBuffer && p.spare == nil {
		p.spare = out[:0]
	}
	s.mu.Unlock()
	return nil
}

// close closes the socket and its connections and waits for its goroutines.
func (s *zsocket) close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	s.l.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
