package kernel

import "github.com/gocvx/gocvx/kernel/internal/wire"

// ProtocolVersion is the version of the Jupyter messaging protocol that the kernel
// speaks; every header it sends carries it.
const ProtocolVersion = wire.ProtocolVersion

// Header is a message header.
type Header = wire.Header

// Message is one Jupyter message as it travels on a socket:
//
//	[identities…, "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers…]
//
// Parent is nil for a message that answers nothing (it encodes as {}). Metadata and
// Content are JSON objects; nil encodes as {}.
type Message = wire.Message

// Errors returned by Decode.
var (
	ErrNoDelimiter  = wire.ErrNoDelimiter
	ErrShort        = wire.ErrShort
	ErrBadSignature = wire.ErrBadSignature
)

// Decode parses the frames of a message received on a socket and checks its
// HMAC-SHA256 signature with key (an empty key means unsigned messages), comparing
// signatures in constant time. It never panics: a malformed or badly signed message
// is an error.
func Decode(frames [][]byte, key []byte) (Message, error) { return wire.Decode(frames, key) }

// Encode returns the frames of m, signed with key (an empty key means an empty
// signature).
func Encode(m Message, key []byte) ([][]byte, error) { return wire.Encode(m, key) }

// delimiter separates the routing identities from the message proper.
var delimiter = []byte(wire.Delimiter)

// sign returns the HMAC-SHA256 of the four JSON parts of a message.
func sign(key []byte, parts [][]byte) []byte { return wire.Sign(key, parts) }

// newHeader returns a fresh header of the given type for session.
func newHeader(msgType, session string) Header { return wire.NewHeader(msgType, session) }

// newID returns a random UUID (version 4) in its usual text form.
func newID() string { return wire.NewID() }
