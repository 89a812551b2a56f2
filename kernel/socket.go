package kernel

import (
	"bytes"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/security/null"

	"github.com/gocvx/gocvx/kernel/internal/wire"
)

// zsocket is one of the kernel's ROUTER sockets (shell, control, stdin) or its PUB
// socket (iopub). It uses zmq4 for the ZMTP handshake and for reading what peers
// send, on the guarded connections of transport.go, but writes its messages itself:
//
//   - ROUTER: send writes the message to its peer on the caller's goroutine, with one
//     system call (zmq4's ROUTER started a goroutine for every message it sent and
//     a timer for its deadline).
//   - PUB: publish appends the message to the pending bytes of each subscriber and
//     wakes the subscriber's writer, which writes everything pending with one system
//     call: the statuses and results of a request, published while the executor
//     runs, go out together (zmq4's PUB wrote each message with a system call of its
//     own, each a TCP segment that woke the client, and created a timer for each).
//     publish never blocks on a subscriber, and a subscriber that stops reading holds
//     up nobody else.
type zsocket struct {
	name string
	typ  zmq4.SocketType // zmq4.Router or zmq4.Pub
	g    *guard
	l    *guardedListener
	in   chan [][]byte // ROUTER: received messages, the sender's identity first

	mu      sync.Mutex
	conns   map[*guardedConn]bool // open connections, in the handshake or not
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
	id []byte // its identity (ROUTER)

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

// listenSocket creates a socket of type typ (zmq4.Router or zmq4.Pub) listening at
// network, addr on the guarded transport.
func listenSocket(name string, typ zmq4.SocketType, network, addr string, g *guard) (*zsocket, error) {
	l, err := listenGuarded(network, addr, g)
	if err != nil {
		return nil, err
	}
	s := &zsocket{name: name, typ: typ, g: g, l: l, conns: map[*guardedConn]bool{},
		added: make(chan struct{}), backlog: maxBacklog, done: make(chan struct{})}
	if typ == zmq4.Router {
		s.in = make(chan [][]byte, 16)
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

func (s *zsocket) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			return // closed
		}
		gc := c.(*guardedConn)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			gc.Close()
			return
		}
		s.conns[gc] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(gc)
	}
}

// serve performs the handshake on c and then reads what the peer sends until the
// connection ends: for a ROUTER, messages for Recv; for a PUB, subscriptions.
func (s *zsocket) serve(c *guardedConn) {
	defer s.wg.Done()
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	zc, err := zmq4.Open(c, null.Security(), s.typ, nil, true, nil)
	if err != nil {
		s.g.log.Printf("%s: could not open a ZeroMQ connection with %s: %v", s.name, c.RemoteAddr(), err)
		return
	}
	p := &peer{c: c, id: []byte(zc.Peer.Meta["Identity"])}
	if s.typ == zmq4.Router && len(p.id) == 0 {
		// Replies must reach the one client that sent the request.
		p.id = []byte(newID())
	}
	if s.typ == zmq4.Pub {
		p.topics, p.wake, p.gone = map[string]bool{}, make(chan struct{}, 1), make(chan struct{})
		s.wg.Add(1)
		go s.writeLoop(p)
	}
	s.add(p)
	defer s.remove(p)
	for {
		msg, err := zc.RecvMsg()
		if err != nil {
			return
		}
		if msg.Type == zmq4.CmdMsg {
			continue // zmq4 answered a PING
		}
		switch s.typ {
		case zmq4.Router:
			select {
			case s.in <- append([][]byte{p.id}, msg.Frames...):
			case <-s.done:
				return
			}
		case zmq4.Pub:
			s.subscribe(p, msg.Frames)
		}
	}
}

// subscribe applies a SUB peer's subscription message (1 then a topic) or
// unsubscription message (0 then a topic); other messages are ignored.
func (s *zsocket) subscribe(p *peer, frames [][]byte) {
	if len(frames) != 1 || len(frames[0]) == 0 || frames[0][0] > 1 {
		return
	}
	topic := string(frames[0][1:])
	s.mu.Lock()
	defer s.mu.Unlock()
	if frames[0][0] == 1 {
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

// Recv returns the next message a ROUTER socket received, its sender's identity
// first, or net.ErrClosed once the socket is closed.
func (s *zsocket) Recv() ([][]byte, error) {
	select {
	case m := <-s.in:
		return m, nil
	case <-s.done:
		return nil, net.ErrClosed
	}
}

// sendWait bounds how long send waits for a first peer of a socket that has none.
const sendWait = 10 * time.Second

// send writes a message on a ROUTER socket to the peers whose identity is frames[0]
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
