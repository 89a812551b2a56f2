package kernel

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/gocvx/gocvx/kernel/internal/wire"
)

// ProtocolVersion is the version of the Jupyter messaging protocol that the kernel
// speaks; every header it sends carries it.
const ProtocolVersion = "5.4"

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
func newHeader(msgType, session string) Header {
	return Header{
		MsgID:    newID(),
		Session:  session,
		Username: "kernel",
		Date:     isoDate(time.Now()),
		MsgType:  msgType,
		Version:  ProtocolVersion,
	}
}

// isoDate returns t in UTC as Jupyter dates a header, in microseconds:
// 2006-01-02T15:04:05.000000Z (what t.UTC().Format of that layout returns, for
// the years 0 to 9999, without parsing the layout for every message).
func isoDate(t time.Time) string {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	var b [27]byte
	put := func(i, v, digits int) {
		for k := i + digits - 1; k >= i; k-- {
			b[k] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, year, 4)
	b[4] = '-'
	put(5, int(month), 2)
	b[7] = '-'
	put(8, day, 2)
	b[10] = 'T'
	put(11, hour, 2)
	b[13] = ':'
	put(14, minute, 2)
	b[16] = ':'
	put(17, sec, 2)
	b[19] = '.'
	put(20, t.Nanosecond()/1000, 6)
	b[26] = 'Z'
	return string(b[:])
}

// newID returns a random UUID (version 4) in its usual text form.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
