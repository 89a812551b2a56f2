// Package zmtp is the server side of ZMTP 3 (the ZeroMQ Message Transport
// Protocol, RFC 23/ZMTP and 37/ZMTP) with the NULL security mechanism, as the
// kernel's ROUTER, PUB and REP sockets speak it to Jupyter clients: the greeting,
// the READY handshake with its Socket-Type and Identity properties, and a Reader of
// frames that bounds what a peer may send before anything is allocated for it.
//
// It has no sockets of its own: it reads and writes an io.Reader and an io.Writer,
// so that the kernel (on net.Conn) and its early phase (package early, on the
// descriptors that package prebind bound, before package net is initialized) share
// it. It imports nothing heavier than package wire.
package zmtp

import (
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/gocvx/gocvx/kernel/internal/wire"
)

// Bounds of what a peer may send and of how long it may take, for every server
// of the kernel (its defaults: package kernel has MaxMessageSize and tests
// shorten the timeouts).
const (
	// DefaultMaxMessage is the largest message, in bytes summed over its frames:
	// far more than any cell's source or any request a front end sends, small
	// enough that a few of them cannot exhaust memory.
	DefaultMaxMessage = 64 << 20
	// MaxFrames bounds the frames of one message: a Jupyter request has its
	// routing identities, the delimiter, the signature, four JSON parts and a few
	// buffers.
	MaxFrames = 1024
	// HandshakeTimeout is how long a new connection may take to complete the
	// greeting and handshake; libzmq completes it in well under a millisecond
	// locally.
	HandshakeTimeout = 10 * time.Second
	// WriteStallTimeout is how long a peer may accept no bytes at all before it is
	// disconnected, so that one stuck iopub subscriber cannot stall every client.
	// A live libzmq peer drains its socket from its own I/O thread whatever the
	// application does; it reconnects by itself after a disconnect.
	WriteStallTimeout = 30 * time.Second
)

// GreetingSize is the length of a ZMTP 3 greeting.
const GreetingSize = 64

// Greeting returns the kernel's greeting: the signature, version 3.0, the NULL
// mechanism, as-server 0 (NULL has no roles) and the filler. Version 3.0 makes a
// SUB peer send its subscriptions as messages (1 or 0 then the topic); a 3.1 peer
// may send SUBSCRIBE and CANCEL commands, which Reader's users handle too.
func Greeting() []byte {
	g := make([]byte, GreetingSize)
	g[0], g[9] = 0xff, 0x7f
	g[10], g[11] = 3, 0
	copy(g[12:32], "NULL")
	return g
}

// Errors of the handshake.
var (
	ErrNotZMTP    = errors.New("the peer does not speak ZeroMQ 3")
	ErrMechanism  = errors.New("the peer asks for a security mechanism other than NULL")
	ErrNoReady    = errors.New("the peer's first command is not READY")
	ErrBadCommand = errors.New("malformed ZeroMQ command")
)

// Meta is what a peer tells in its READY command.
type Meta struct {
	SocketType string
	Identity   []byte
}

// Handshake performs the server side of the ZMTP 3 NULL handshake on a new
// connection: it writes the greeting and READY with the socket type (ROUTER, PUB
// or REP) at once (with NULL, READY depends on nothing the peer says), then reads
// and checks the peer's greeting and its READY. It fails
// if the peer's socket type cannot talk to socketType (ERROR is sent first). The
// caller bounds it in time (a deadline, or a timer that closes the connection).
//
// A handshake that stopped on an error of r.R (a deadline) resumes where it
// stopped when it is called again with the same Reader: r keeps whether the
// greeting and READY went out and whether the peer's greeting came in.
func Handshake(w io.Writer, r *Reader, socketType string) (Meta, error) {
	if !r.helloSent {
		hello := AppendCommand(Greeting(), "READY", appendProperty(nil, "Socket-Type", socketType))
		if _, err := w.Write(hello); err != nil {
			return Meta{}, err
		}
		r.helloSent = true
	}
	if !r.greeted {
		g, err := r.greeting()
		if err != nil {
			return Meta{}, err
		}
		if g[0] != 0xff || g[9] != 0x7f || g[10] < 3 {
			return Meta{}, ErrNotZMTP
		}
		if mech := strings.TrimRight(string(g[12:32]), "\x00"); mech != "NULL" {
			return Meta{}, ErrMechanism
		}
		r.greeted = true
	}
	m, err := r.Next()
	if err != nil {
		return Meta{}, err
	}
	if m.Command != "READY" {
		return Meta{}, ErrNoReady
	}
	props, err := parseProperties(m.Body)
	if err != nil {
		return Meta{}, err
	}
	meta := Meta{SocketType: string(props["Socket-Type"]), Identity: props["Identity"]}
	if !compatible(socketType, meta.SocketType) {
		err := &IncompatibleError{socketType, meta.SocketType}
		w.Write(AppendCommand(nil, "ERROR", append([]byte{byte(len(err.Error()))}, err.Error()...)))
		return meta, err
	}
	return meta, nil
}

// IncompatibleError is a peer whose socket type cannot talk to the kernel's.
type IncompatibleError struct{ Ours, Theirs string }

func (e *IncompatibleError) Error() string {
	return "socket type " + e.Theirs + " is not compatible with " + e.Ours
}

// compatible reports whether a peer of type theirs may connect to a socket of type
// ours (RFC 28/REQREP, 29/PUBSUB).
func compatible(ours, theirs string) bool {
	switch ours {
	case "ROUTER":
		return theirs == "DEALER" || theirs == "REQ" || theirs == "ROUTER"
	case "PUB":
		return theirs == "SUB" || theirs == "XSUB"
	case "REP":
		return theirs == "REQ" || theirs == "DEALER"
	}
	return false
}

// appendProperty appends a READY property: its name's length in a byte, the
// name, its value's length in four big-endian bytes, the value.
func appendProperty(dst []byte, name, value string) []byte {
	dst = append(dst, byte(len(name)))
	dst = append(dst, name...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(value)))
	return append(dst, value...)
}

// parseProperties parses the properties of a READY command.
func parseProperties(b []byte) (map[string][]byte, error) {
	props := map[string][]byte{}
	for len(b) > 0 {
		n := int(b[0])
		if len(b) < 1+n+4 {
			return nil, ErrBadCommand
		}
		name := string(b[1 : 1+n])
		b = b[1+n:]
		size := binary.BigEndian.Uint32(b)
		b = b[4:]
		if uint64(size) > uint64(len(b)) {
			return nil, ErrBadCommand
		}
		props[name] = b[:size:size]
		b = b[size:]
	}
	return props, nil
}

// AppendCommand appends a command frame: its flags, its length, the name's length
// in a byte, the name and the data.
func AppendCommand(dst []byte, name string, data []byte) []byte {
	size := 1 + len(name) + len(data)
	if size > 255 {
		dst = append(dst, wire.FlagCommand|wire.FlagLong)
		dst = binary.BigEndian.AppendUint64(dst, uint64(size))
	} else {
		dst = append(dst, wire.FlagCommand, byte(size))
	}
	dst = append(dst, byte(len(name)))
	dst = append(dst, name...)
	return append(dst, data...)
}

// Pong returns the PONG that answers a PING command's body (a 2-byte TTL, then
// a context of up to 16 bytes that PONG echoes), or false for a malformed PING.
func Pong(ping []byte) ([]byte, bool) {
	if len(ping) < 2 || len(ping) > 2+16 {
		return nil, false
	}
	return AppendCommand(nil, "PONG", ping[2:]), true
}
