package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"runtime/trace"
	"sync"
	"time"

	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/kernel/early"
	"github.com/gocvx/gocvx/kernel/prebind"
)

// Engine runs the cells of one kernel; the gocvx command serves an
// *interp.Session. Execute is called for one cell at a time; Complete, Inspect and
// IsComplete may be called while a cell runs.
type Engine interface {
	Execute(ctx context.Context, c cellio.Cell) cellio.Outcome
	Complete(code string, cursor int) cellio.Completion
	Inspect(code string, cursor, detail int) (cellio.Bundle, bool)
	IsComplete(code string) (status, indent string)
}

// Kernel serves the Jupyter messaging protocol for one Engine. Its fields configure
// it; Serve runs it. A Kernel serves once.
type Kernel struct {
	// Engine runs the cells. If it is nil, Serve calls NewEngine in the
	// background once it has answered the first kernel_info_request (so that a
	// front end sees the kernel ready sooner), or when a request needs the engine;
	// requests that need it wait for it, and Serve closes it (if it is an
	// io.Closer) before returning.
	Engine    Engine
	NewEngine func() (Engine, error)
	// Log receives diagnostics (dropped messages, socket errors). Nil discards them;
	// ZeroMQ's own messages go there too, never to the process's standard error.
	Log *log.Logger
	// Version is the implementation_version in kernel_info_reply; empty means "devel".
	Version string
	// Banner is the banner in kernel_info_reply (what a console shows first);
	// empty means "gocvx VERSION".
	Banner string
	// CatchSIGINT makes SIGINT interrupt the running cell (as interrupt_request
	// does) instead of ending the process, while Serve runs.
	CatchSIGINT bool
	// ParentPID, if not zero, is the process that launched the kernel (Jupyter sets
	// JPY_PARENT_PID): Serve stops when the kernel's parent process is no longer it,
	// so that a kernel does not outlive a front end that died without shutting it down.
	ParentPID int
	// ShutdownGrace bounds how long Serve waits, when shutting down, for a cell that
	// does not stop on interrupt; zero means 2 s.
	ShutdownGrace time.Duration
	// MaxMessageSize bounds a message that a peer sends, in bytes summed over its
	// frames; zero means DefaultMaxMessageSize. It is enforced as the bytes arrive,
	// before anything is allocated for the message: a peer that sends a larger
	// message is disconnected (libzmq clients reconnect by themselves) and the
	// message dropped and logged.
	MaxMessageSize int64
	// HistoryFile is where the history of executed cells persists across kernel
	// sessions (JSON lines, created 0600 in a folder created 0700); empty keeps the
	// history in memory for the life of the process. A file that cannot be opened
	// is logged and the history kept in memory.
	HistoryFile string

	// Tests shorten these; zero means handshakeTimeout and writeStallTimeout.
	handshakeTimeout, writeStallTimeout time.Duration
}

// engineDelay is how long after Serve starts the engine is built if no client
// asked for kernel_info or for something that needs the engine before: a front
// end asks for kernel_info at once, and its reply comes first.
const engineDelay = 200 * time.Millisecond

// ErrShutdown is returned by Serve when a client asked the kernel to shut down.
var ErrShutdown = errors.New("kernel: shut down by request")

// Serve binds the five sockets of conn and answers requests until ctx is done, a
// client sends shutdown_request (Serve then returns ErrShutdown) or the parent
// process named by ParentPID goes away (Serve then returns nil).
func (k *Kernel) Serve(ctx context.Context, conn ConnectionInfo) error {
	if k.Engine == nil && k.NewEngine == nil {
		return errors.New("kernel: Kernel.Engine and Kernel.NewEngine are nil")
	}
	if err := conn.check(); err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	logger := k.Log
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	outer := ctx
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	version := k.Version
	if version == "" {
		version = "devel"
	}
	banner := k.Banner
	if banner == "" {
		banner = "gocvx " + version
	}
	s := &server{
		k:       k,
		key:     []byte(conn.Key),
		session: newID(),
		inputs:  make(chan string, 1),
		state: &state{
			version:      version,
			banner:       banner,
			conn:         conn,
			log:          logger,
			historyReady: make(chan struct{}),
			stop:         stop,
			execs:        make(chan queued, 1024),
			ready:        make(chan struct{}),
		},
	}
	err := s.run(ctx)
	if errors.Is(err, context.Canceled) && outer.Err() == nil {
		return nil // stopped because the parent process went away
	}
	return err
}

// server is a running Kernel: its sockets and the goroutines that serve them. What
// the handlers share is its state.
type server struct {
	*state
	k       *Kernel
	key     []byte
	session string

	shell, control, stdin *router
	iopub                 *zsocket
	hb                    *router

	// answeredEarly reports whether the early server answered kernel_info.
	answeredEarly bool

	pubMu     sync.Mutex  // orders what is published; guards pubClosed
	pubClosed bool        // the sockets are closing: publish drops messages
	inputs    chan string // input_reply values for the cell waiting in readLine
}

// router is a ROUTER socket.
type router struct {
	name string
	sock *zsocket
}

func (r *router) send(frames [][]byte) error { return r.sock.send(frames) }

// run serves until ctx is done: it binds the sockets first, then opens the
// history and starts the engine (startEngine) in the background, and starts the
// executor and one goroutine per socket that receives; on the way out it stops
// them in order: the running cell, then the receivers.
func (s *server) run(ctx context.Context) error {
	// The sockets outlive ctx until the last replies and statuses are sent.
	closeAll, err := s.bind()
	defer closeAll()
	if err != nil {
		return err
	}
	go s.openHistory()
	defer func() { s.hist().close() }()

	s.publish(nil, "status", kernelStatus{"starting"})

	if s.k.CatchSIGINT {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		defer signal.Stop(sig)
		go func() {
			for {
				select {
				case <-sig:
					s.log.Print("SIGINT: interrupting the running cell")
					s.interrupt()
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	defer s.startEngine()()
	if s.answeredEarly && s.build != nil {
		s.build() // as after a kernel_info_request (state.kernelInfo)
	}
	if s.k.ParentPID != 0 {
		go s.watchParent(ctx, s.k.ParentPID)
	}

	var wg sync.WaitGroup
	execDone := make(chan struct{})
	go func() { defer close(execDone); s.executeLoop(ctx) }()
	for _, r := range []*router{s.shell, s.control} {
		wg.Add(1)
		go func() { defer wg.Done(); s.receiveLoop(ctx, r) }()
	}
	wg.Add(2)
	go func() { defer wg.Done(); s.stdinLoop(ctx) }()
	go func() { defer wg.Done(); s.heartbeatLoop(ctx) }()

	<-ctx.Done()
	s.interrupt()
	grace := s.k.ShutdownGrace
	if grace == 0 {
		grace = 2 * time.Second
	}
	select {
	case <-execDone:
	case <-time.After(grace):
		s.log.Printf("shutdown: the running cell did not stop within %v", grace)
	}
	// Stop the receivers (their Recv returns when the sockets close).
	s.pubMu.Lock()
	s.pubClosed = true
	s.pubMu.Unlock()
	closeAll()
	wg.Wait()

	s.mu.Lock()
	byRequest := s.state.shutdown
	s.mu.Unlock()
	switch {
	case byRequest:
		return ErrShutdown
	case s.engineErr != nil:
		return s.engineErr
	}
	return ctx.Err()
}

// bind creates the five sockets (socket.go) and binds them to the connection's
// ports, taking over the sockets of the early server (package early: listening
// sockets, connections and the requests it kept) and those that package prebind
// bound early, and closing those that either holds for other ports; closeAll
// closes them.
func (s *server) bind() (closeAll func(), err error) {
	maxMessage := s.k.MaxMessageSize
	if maxMessage <= 0 {
		maxMessage = DefaultMaxMessageSize
	}
	// guard returns the guard of a socket: it bounds what peers send.
	guard := func(name string) *guard {
		g := &guard{name: name, maxMessage: maxMessage, log: s.log, ipcMode: 0o600,
			handshake: handshakeTimeout, writeStall: writeStallTimeout}
		if s.k.handshakeTimeout > 0 {
			g.handshake = s.k.handshakeTimeout
		}
		if s.k.writeStallTimeout > 0 {
			g.writeStall = s.k.writeStallTimeout
		}
		return g
	}
	conn := s.state.conn
	var zsockets []*zsocket
	var once sync.Once
	closeAll = func() {
		once.Do(func() {
			for _, z := range zsockets {
				z.close()
			}
		})
	}
	for _, w := range conn.warnings() {
		s.log.Print("warning: " + w)
	}
	defer prebind.CloseUntaken()
	st := early.Stop()
	defer st.CloseUntaken()
	if st != nil {
		s.session, s.answeredEarly = st.Session, st.Answered
	}
	for _, x := range []struct {
		name, typ string
		port      int
		set       func(*zsocket)
	}{
		{"shell", routerSocket, conn.ShellPort, func(z *zsocket) { s.shell = &router{name: "shell", sock: z} }},
		{"control", routerSocket, conn.ControlPort, func(z *zsocket) { s.control = &router{name: "control", sock: z} }},
		{"stdin", routerSocket, conn.StdinPort, func(z *zsocket) { s.stdin = &router{name: "stdin", sock: z} }},
		{"iopub", pubSocket, conn.IOPubPort, func(z *zsocket) { s.iopub = z }},
		{"heartbeat", repSocket, conn.HBPort, func(z *zsocket) { s.hb = &router{name: "heartbeat", sock: z} }},
	} {
		network, addr := conn.listenAddr(x.port)
		z, err := listenSocket(x.name, x.typ, network, addr, guard(x.name), st)
		if err != nil {
			return closeAll, fmt.Errorf("kernel: %w", err)
		}
		zsockets = append(zsockets, z)
		x.set(z)
	}
	return closeAll, nil
}

// startEngine makes the engine ready: Kernel.Engine at once, or Kernel.NewEngine
// on a goroutine (a failure stops the kernel) once the first kernel_info_request
// is answered or a request needs the engine (state.build), or after
// engineDelay. The function it returns waits for that goroutine and closes the
// engine it created.
func (s *server) startEngine() (closeEngine func()) {
	if s.k.Engine != nil {
		s.engine = s.k.Engine
		close(s.ready)
		return func() {}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	build := func() {
		defer wg.Done()
		e, err := s.k.NewEngine()
		if err == nil && e == nil {
			err = errors.New("kernel: NewEngine returned no engine")
		}
		if err != nil {
			e = nil // not a typed nil pointer in the interface
		}
		s.engine, s.engineErr = e, err
		close(s.ready)
		if err != nil {
			s.log.Printf("cannot start the cell engine: %v", err)
			s.stop()
		}
	}
	var once sync.Once
	started := false // set in once
	s.build = func() { once.Do(func() { started = true; go build() }) }
	later := time.AfterFunc(engineDelay, s.build)
	return func() {
		later.Stop()
		once.Do(func() { // never built: nothing to wait for or close
			s.engineErr = errors.New("kernel: shutting down")
			close(s.ready)
		})
		if !started {
			return
		}
		wg.Wait()
		if c, ok := s.engine.(io.Closer); ok {
			if err := c.Close(); err != nil {
				s.log.Printf("closing the cell engine: %v", err)
			}
		}
	}
}

// openHistory opens Kernel.HistoryFile, or keeps the history in memory; requests
// that need the history wait for it (state.hist).
func (s *server) openHistory() {
	defer close(s.historyReady)
	s.history = newHistory()
	if s.k.HistoryFile == "" {
		return
	}
	if h, err := openHistory(s.k.HistoryFile, s.log); err != nil {
		s.log.Printf("history: %v (keeping it in memory only)", err)
	} else {
		s.history = h
	}
}

// watchParent stops the kernel when its parent process is no longer pid.
func (s *server) watchParent(ctx context.Context, pid int) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if os.Getppid() != pid {
				s.log.Printf("parent process %d is gone; shutting down", pid)
				s.stop()
				return
			}
		}
	}
}

// receiveLoop reads one ROUTER socket (shell or control) until ctx is done and
// dispatches its requests: executes go to the executor, everything else is answered
// at once.
func (s *server) receiveLoop(ctx context.Context, r *router) {
	for {
		raw, err := r.sock.Recv()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			return // the socket is closed
		}
		region := trace.StartRegion(ctx, "kernel.decode")
		msg, err := Decode(raw, s.key)
		region.End()
		if err != nil {
			s.log.Printf("%s: dropped message: %v", r.name, err)
			continue
		}
		w := &socketWriter{s: s, sock: r, req: &msg}
		if msg.Header.MsgType == "execute_request" {
			if r != s.shell {
				s.log.Printf("%s: execute_request belongs on shell; ignored", r.name)
				continue
			}
			select {
			case s.execs <- queued{w: w, req: &msg}:
			default:
				s.log.Printf("shell: too many queued executes; dropped %s", msg.Header.MsgID)
			}
			continue
		}
		s.handle(w, &msg)
	}
}

// executeLoop runs queued execute requests, and the callbacks of comm messages,
// one at a time until ctx is done.
func (s *server) executeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case q := <-s.execs:
			if q.run != nil {
				s.runQueued(q)
				continue
			}
			s.handleRunning(q.w, q.req)
		}
	}
}

// stdinLoop receives input_reply messages and hands their values to the cell that
// waits for one.
func (s *server) stdinLoop(ctx context.Context) {
	for {
		raw, err := s.stdin.sock.Recv()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			return // the socket is closed
		}
		msg, err := Decode(raw, s.key)
		if err != nil {
			s.log.Printf("stdin: dropped message: %v", err)
			continue
		}
		if msg.Header.MsgType != "input_reply" {
			s.log.Printf("stdin: unexpected %q; ignored", msg.Header.MsgType)
			continue
		}
		var c struct {
			Value string `json:"value"`
		}
		if err := json.Unmarshal(msg.Content, &c); err != nil {
			s.log.Printf("stdin: bad input_reply: %v", err)
			continue
		}
		select {
		case s.inputs <- c.Value:
		default:
			s.log.Print("stdin: input_reply with no cell waiting; ignored")
		}
	}
}

// heartbeatLoop echoes every heartbeat until ctx is done: a REP socket's reply
// is the request's envelope (the frames up to and with the empty delimiter)
// followed by the reply's body, here the request's body.
func (s *server) heartbeatLoop(ctx context.Context) {
	for {
		msg, err := s.hb.sock.Recv()
		if ctx.Err() != nil || err != nil {
			return
		}
		envelope := false
		for _, f := range msg[1:] {
			if len(f) == 0 {
				envelope = true
				break
			}
		}
		if !envelope {
			s.log.Printf("heartbeat: receive: a request without the empty delimiter of its envelope; dropped")
			continue
		}
		if err := s.hb.send(msg); err != nil {
			s.log.Printf("heartbeat: send: %v", err)
		}
	}
}

// publish sends a message on iopub with the given parent (nil for none). It
// encodes and queues the message on the caller's goroutine (the iopub socket
// queues it for each subscriber's writer without blocking, socket.go), so that
// messages go out in the order of the calls.
func (s *server) publish(parent *Header, msgType string, content any) {
	s.publishParts(parent, msgType, content, nil, nil)
}

// publishParts sends a message on iopub with the given parent (nil for none),
// metadata and binary buffers, as publish does.
func (s *server) publishParts(parent *Header, msgType string, content any, metadata map[string]any, buffers [][]byte) {
	defer trace.StartRegion(context.Background(), "kernel.publish").End()
	m, err := s.message(parent, msgType, content)
	if err == nil && len(metadata) > 0 {
		m.Metadata, err = json.Marshal(metadata)
	}
	if err == nil {
		m.Buffers = buffers
		m.Identities = [][]byte{[]byte("kernel." + s.session + "." + msgType)}
		var frames [][]byte
		if frames, err = Encode(m, s.key); err == nil {
			s.pubMu.Lock()
			if !s.pubClosed {
				s.iopub.publish(frames)
			}
			s.pubMu.Unlock()
		}
	}
	if err != nil {
		s.log.Printf("iopub: %s: %v", msgType, err)
	}
}

// message builds a message of this kernel's session.
func (s *server) message(parent *Header, msgType string, content any) (Message, error) {
	b, err := json.Marshal(content)
	if err != nil {
		return Message{}, err
	}
	return Message{Header: newHeader(msgType, s.session), Parent: parent, Content: b}, nil
}

// socketWriter is the replyWriter of a request that came in on a socket: replies go
// to that socket with the request's identities, published messages name the request
// as their parent, input requests go to the same client on stdin.
type socketWriter struct {
	s    *server
	sock *router
	req  *Message
}

func (w *socketWriter) reply(msgType string, content any) {
	defer trace.StartRegion(context.Background(), "kernel.reply").End()
	m, err := w.s.message(&w.req.Header, msgType, content)
	if err == nil {
		m.Identities = w.req.Identities
		var frames [][]byte
		if frames, err = Encode(m, w.s.key); err == nil {
			err = w.sock.send(frames)
		}
	}
	if err != nil {
		w.s.log.Printf("%s: %s: %v", w.sock.name, msgType, err)
	}
}

func (w *socketWriter) publish(msgType string, content any) {
	w.s.publish(&w.req.Header, msgType, content)
}

func (w *socketWriter) publishParts(msgType string, content any, metadata map[string]any, buffers [][]byte) {
	w.s.publishParts(&w.req.Header, msgType, content, metadata, buffers)
}

// readLine sends input_request on stdin to the client that sent the request (stdin
// is a ROUTER too, and the client's stdin socket has the identity of its shell
// socket) and waits for the value of the next input_reply.
func (w *socketWriter) readLine(ctx context.Context, prompt string, password bool) (string, error) {
	s := w.s
	// Forget replies nobody waited for.
	select {
	case <-s.inputs:
	default:
	}
	m, err := s.message(&w.req.Header, "input_request", inputRequest{Prompt: prompt, Password: password})
	if err != nil {
		return "", err
	}
	m.Identities = w.req.Identities
	frames, err := Encode(m, s.key)
	if err != nil {
		return "", err
	}
	if err := s.stdin.send(frames); err != nil {
		return "", err
	}
	select {
	case v := <-s.inputs:
		return v, nil
	case <-ctx.Done():
		return "", errInterrupted
	}
}
