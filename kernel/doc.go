// Package kernel speaks the Jupyter messaging protocol (version 5.4) over ZeroMQ for
// a cell engine: it and its subpackages are the only code that talks ZeroMQ. Its
// sockets speak ZMTP 3 themselves (kernel/internal/zmtp, the server side with the
// NULL mechanism: ROUTER for shell, control and stdin, PUB for iopub, REP for the
// heartbeat); zmq4 serves as a client in tests only.
//
// It is shaped like net/http. Decode and Encode are pure functions between the
// frames of a socket and a Message, checking bounds and the HMAC-SHA256 signature
// (compared in constant time). A Kernel, configured by its fields, serves one
// Engine on the five sockets of a ConnectionInfo: one
// goroutine per socket it receives on, each owned and waited for by Serve, plus one
// executor goroutine that runs execute requests in order so that completion,
// inspection and kernel_info are answered while a cell runs; what is published on
// iopub is encoded and queued by the goroutine that publishes it. Every request type has a handler; a
// handler sees the kernel's shared state (execution count, history, engine, the
// running cell) and replies through a small reply writer interface with typed reply
// contents (content.go). The sockets' writer knows the socket the request came in on
// (control replies go out on control); tests use an in-memory recorder instead, as
// net/http/httptest does, so each handler is tested without ZeroMQ. Every handler
// runs between a busy and an idle status. A message with a bad signature or malformed frames is dropped and
// logged. The engine may be created by Kernel.NewEngine while the sockets come up,
// so that kernel_info is answered at once; requests that need the engine wait for it.
// SIGINT (with CatchSIGINT) interrupts the running cell like interrupt_request, and
// the kernel stops when the process that launched it (JPY_PARENT_PID) goes away.
//
// What peers send is bounded before it is read: the frame reader disconnects a peer
// whose message exceeds Kernel.MaxMessageSize (64 MiB by default) or 1024 frames
// as soon as the offending frame's length arrives, before anything is allocated
// for it; a connection that does not complete the ZeroMQ handshake within 10 s is
// closed, and so is a peer that accepts no byte of output for 30 s (a stuck iopub
// subscriber would otherwise stall every client).
//
// Before the kernel serves, the gocvx command answers kernel_info_request from its
// init phase (package early, on the ports that package prebind bound as the
// process started); Serve takes over the early server's listening sockets, its
// established connections (identity, subscriptions, bytes read and not consumed)
// and the requests it kept, and answers those in order. A panicking handler is logged and answered with an error reply.
// Serve warns (in Log) when the connection file's address is not a loopback one or
// its key is empty; ipc socket files are made 0600.
//
// History (tail, range, glob search, unique) is the kernel's own record of the cells
// it executed, kept in a file across kernel sessions (Kernel.HistoryFile) or in memory.
//
// Comms (comm.go) carry Jupyter widgets both ways: a cell's comm messages are
// published on iopub with their metadata and buffers; the front end's comm_open,
// comm_msg and comm_close reach a CommEngine as they arrive, even while a cell runs,
// and the callbacks they leave run in the executor's queue after the cells before
// them, interruptible like a cell; comm_info_request lists the open comms.
//
// The Engine speaks the types of package cellio, so the kernel compiles without the
// cell engine, the solver or the plotting library; the gocvx command wires the cell
// engine (an *interp.Session) in, and installs the kernelspec.
package kernel
